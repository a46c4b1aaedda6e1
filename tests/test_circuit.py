"""The evaluation circuit: what it proves is what float torch computes."""

from __future__ import annotations

import numpy as np
import pytest
from tiny import SCALE

from zkpot_client.circuit.batches import compile_batch, export_batch_onnx, placeholder
from zkpot_client.circuit.keys import compile_only, generate_verifier, read_vka
from zkpot_client.circuit.prover import circuit_counts, load_proof
from zkpot_client.config import FederationConfig
from zkpot_client.exceptions import ZKPoTFileNotFoundError, ZKPoTValueError
from zkpot_client.model import count_correct
from zkpot_client.paths import CONTRACTS_DIR
from zkpot_client.roles.byzantine import evaluation_in_graph
from zkpot_client.training import models_along_training


@pytest.mark.parametrize(("model", "samples"), [("mlp", 100), ("cnn", 32)])
def test_demo_circuit_counts_exactly_what_float_torch_counts(
    model: str, samples: int, tmp_path
) -> None:
    """Point of the design: proven accuracy == float accuracy of the same weights,
    on every round's batch.

    Checked on the demo's own circuit (100 evaluation samples per batch, 64-16-10
    MLP) and on the small CNN's (32 samples per batch), compiled under the set-up's
    settings with each of the demo's three batches, for models from untrained to
    trained, through the circuit's witness (the value a proof carries as its
    public output).
    """
    cfg = FederationConfig.demo(model=model, eval_samples=samples)
    data = cfg.data()
    definition = cfg.definition(data)
    spec = definition.spec
    assert definition.rounds == 3 and definition.eval_samples == samples
    compile_only(
        export_batch_onnx(spec, placeholder(spec, samples), tmp_path / "c.onnx"),
        tmp_path / "setup",
        scale=SCALE,
        data_scale=definition.data_scale,
        growth=spec.growth,
    )
    models = models_along_training(spec, data.shards, 8, SCALE)
    for r, batch in enumerate(definition.batches, 1):
        compiled = compile_batch(
            tmp_path / "setup" / "settings.json", spec, batch, tmp_path / str(r)
        )
        counts = [count_correct(spec, w, batch.x, batch.y) for w in models]
        assert circuit_counts(compiled, models) == counts, r
        assert max(counts) - min(counts) > 0.3 * samples  # a real spread


def test_the_published_circuit_holds_no_evaluation_data(tiny, tmp_path) -> None:
    """The circuit package's graph is built with an all-zero batch: nothing to read
    out of it, while a batch's own graph gives the batch away."""
    features = tiny.definition.spec.inputs
    assert evaluation_in_graph(tiny.artifacts.onnx.read_bytes(), features) is None
    batch = tiny.definition.batches[0]
    onnx = export_batch_onnx(tiny.definition.spec, batch, tmp_path / "b.onnx")
    found = evaluation_in_graph(onnx.read_bytes(), features)
    assert found is not None
    np.testing.assert_array_equal(found.y, batch.y)


def test_each_batch_has_its_own_commitment_under_one_key(tiny) -> None:
    """One set-up serves every round; the batch commitment a proof begins with
    tells the batches apart."""
    first, second = tiny.commitment(1), tiny.commitment(2)
    assert len(first) == len(second) == 64 and first != second
    assert tiny.commitment(1) == first  # deterministic


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
    args = (a.onnx, a.layout.run_args())
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
