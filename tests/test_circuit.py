"""The evaluation circuit: what it proves is what float torch computes."""

from __future__ import annotations

import numpy as np
import pytest
from tiny import SCALE

from zkpot_client.circuit.commitment import weights_hash
from zkpot_client.circuit.export import export_onnx
from zkpot_client.circuit.keys import compile_only, generate_verifier, read_vka
from zkpot_client.circuit.prover import circuit_count, load_proof
from zkpot_client.data import load_task_data
from zkpot_client.exceptions import ZKPoTFileNotFoundError, ZKPoTValueError
from zkpot_client.model import ModelSpec, count_correct, flatten, quantise
from zkpot_client.paths import CONTRACTS_DIR
from zkpot_client.training import train_local


def models_along_training(spec: ModelSpec, data, count: int) -> list[np.ndarray]:
    """Weights from untrained to well trained, on several shards: a spread of accuracies."""
    out = []
    for i in range(count):
        shard = data.shards[i % len(data.shards)]
        start = flatten(spec.build(seed=i))
        out.append(
            quantise(
                train_local(spec, start, shard.x, shard.y, epochs=i % 4, seed=i)
                if i % 4
                else start,
                SCALE,
            )
        )
    return out


def test_demo_circuit_counts_exactly_what_float_torch_counts(tmp_path) -> None:
    """Point of the design: proven accuracy == float accuracy of the same weights.

    Checked on the demo's own circuit (100 evaluation samples, 64-16-10 MLP) for
    models from untrained to trained, through the circuit's witness (the value a
    proof carries as its public output).
    """
    spec = ModelSpec(hidden=16)
    data = load_task_data(eval_samples=100, num_clients=4, seed=0)
    compiled = compile_only(
        export_onnx(spec, data.eval_x, data.eval_y, tmp_path / "c.onnx"),
        tmp_path,
        scale=SCALE,
    )
    counts = []
    for w in models_along_training(spec, data, 8):
        expected = count_correct(spec, w, data.eval_x, data.eval_y)
        assert circuit_count(compiled, w) == expected
        counts.append(expected)
    assert (
        max(counts) - min(counts) > 30
    )  # the check covered a real spread of accuracies


def test_proof_carries_the_float_count_and_the_weights_hash(
    tiny, proven_a, proven_b
) -> None:
    for proven in (proven_a, proven_b):
        assert proven.proof.correct == count_correct(
            tiny.definition.spec, proven.weights, tiny.data.eval_x, tiny.data.eval_y
        )
        assert proven.proof.weights_hash == weights_hash(proven.weights, SCALE)


def test_generated_verifier_is_the_committed_one(tiny, other_tiny, tmp_path) -> None:
    """ezkl's reusable verifier does not depend on the circuit: one deployment serves
    every task, and the committed copy is exactly what ezkl generates."""
    committed = (CONTRACTS_DIR / "verifier" / "Halo2VerifierReusable.sol").read_text()
    for i, task in enumerate((tiny, other_tiny)):
        sol = generate_verifier(task.artifacts, tmp_path / f"V{i}.sol")
        assert sol.read_text() == committed
    assert tiny.artifacts.vka_words() != other_tiny.artifacts.vka_words()


def test_circuit_setup_is_cached_by_digest(tiny) -> None:
    from zkpot_client.roles.publisher import setup_task_circuit

    again = setup_task_circuit(tiny.definition)
    assert (
        again.digest == tiny.artifacts.digest
        and again.directory == tiny.artifacts.directory
    )


def test_the_circuit_digest_binds_the_srs(tiny, tmp_path) -> None:
    """A key set up with a dev SRS is never reused with a ceremony SRS."""
    from zkpot_client.circuit.keys import circuit_digest

    a = tiny.artifacts
    args = (a.onnx, a.scale, a.logrows)
    assert circuit_digest(*args, a.srs_path) == a.digest
    other = tmp_path / "other.srs"
    raw = bytearray(a.srs_path.read_bytes())
    raw[-1] ^= 1
    other.write_bytes(bytes(raw))
    assert circuit_digest(*args, other) != a.digest


def test_malformed_files_give_clear_errors(tmp_path) -> None:
    with pytest.raises(ZKPoTFileNotFoundError):
        load_proof(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ZKPoTValueError, match="not a JSON proof"):
        load_proof(tmp_path / "bad.json")
    (tmp_path / "wrong.json").write_text('{"proof": 1}')
    with pytest.raises(ZKPoTValueError, match="not an ezkl proof"):
        load_proof(tmp_path / "wrong.json")
    (tmp_path / "x.vka").write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00" + b"\x00" * 40)
    with pytest.raises(ZKPoTValueError, match="bad length"):
        read_vka(tmp_path / "x.vka")
