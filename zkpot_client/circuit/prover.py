"""Proving (and off-chain checking) that weights reach a count of correct predictions."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..exceptions import ToolchainError, ZKPoTFileNotFoundError, ZKPoTValueError
from ..progress import long_step
from ..types import Proof
from . import ezkl_ops
from .commitment import felt_to_int, int_to_felt
from .ezkl_ops import run_isolated
from .keys import CircuitArtifacts, SetUpCircuit
from .slots import machine_slot_dir, prover_slot


def proof_from_ezkl(proof_json: dict[str, object], prove_seconds: float = 0.0) -> Proof:
    """Read ezkl's proof JSON (hex proof, little-endian hex instances)."""
    try:
        hex_proof = str(proof_json["hex_proof"])
        (instances,) = proof_json["instances"]  # type: ignore[misc]
        return Proof(
            proof=bytes.fromhex(hex_proof.removeprefix("0x")),
            instances=tuple(felt_to_int(str(i)) for i in instances),
            prove_seconds=prove_seconds,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ZKPoTValueError(f"not an ezkl proof: {exc}") from exc


def load_proof(path: Path) -> Proof:
    """Load an ezkl proof file; clear errors for a missing or malformed file."""
    path = Path(path)
    if not path.is_file():
        raise ZKPoTFileNotFoundError(f"proof file not found: {path}")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ZKPoTValueError(f"{path} is not a JSON proof file: {exc}") from exc
    if not isinstance(data, dict):
        raise ZKPoTValueError(f"{path} is not an ezkl proof")
    return proof_from_ezkl(data)


def write_input(directory: Path, flat: np.ndarray) -> Path:
    """Write the flat weights as ezkl's input file `directory/input.json`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "input.json"
    path.write_text(
        json.dumps(
            {"input_data": [np.asarray(flat, dtype=np.float64).reshape(-1).tolist()]}
        )
    )
    return path


def prove(
    artifacts: CircuitArtifacts,
    flat: np.ndarray,
    *,
    compiled: Path | None = None,
    label: str = "proving accuracy",
) -> Proof:
    """Prove, for the weights `flat`, the count of evaluation samples classified
    correctly: of the batch compiled into `compiled` (see `batches.compile_batch`;
    default: the set-up circuit's own parameters)."""
    return prove_input(
        artifacts, lambda work: write_input(work, flat), compiled=compiled, label=label
    )


def prove_input(
    circuit: SetUpCircuit,
    write: Callable[[Path], Path],
    *,
    compiled: Path | None = None,
    label: str,
) -> Proof:
    """Prove with the set-up `circuit` (its own compiled circuit, or `compiled`) on
    the ezkl input file that `write` makes in a working directory, one prover at a
    time on this machine; `prove_seconds` is the witness and the proof."""
    with (
        tempfile.TemporaryDirectory(prefix="zkpot-prove-") as tmp,
        prover_slot(machine_slot_dir()),
    ):
        work = Path(tmp)
        input_path = write(work)
        started = time.perf_counter()
        try:
            with long_step(label):
                proved = run_isolated(
                    ezkl_ops.prove,
                    str(input_path),
                    str(compiled or circuit.compiled),
                    str(circuit.pk),
                    str(circuit.srs_path),
                    str(work / "witness.json"),
                    str(work / "proof.json"),
                )
        except Exception as exc:
            raise ToolchainError(f"{label} failed: {exc}") from exc
        return proof_from_ezkl(
            proved["proof"], prove_seconds=time.perf_counter() - started
        )


def ezkl_proof_json(proof: Proof) -> dict[str, object]:
    """ezkl's proof file for `proof` (its bytes and instances, nothing else it needs)."""
    return {
        "protocol": None,
        "instances": [[int_to_felt(i) for i in proof.instances]],
        "proof": list(proof.proof),
        "hex_proof": "0x" + proof.proof.hex(),
        "transcript_type": "EVM",
        "split": None,
        "pretty_public_inputs": None,
        "timestamp": None,
        "commitment": "KZG",
        "version": None,
    }


def verify_off_chain(artifacts: CircuitArtifacts, proofs: list[Proof]) -> list[bool]:
    """Whether ezkl's verifier accepts each proof under the circuit's verifying key,
    with its instances (all in one child process; no chain, no gas)."""
    if not proofs:
        return []
    with tempfile.TemporaryDirectory(prefix="zkpot-verify-") as tmp:
        paths = []
        for i, proof in enumerate(proofs):
            path = Path(tmp) / f"proof-{i}.json"
            path.write_text(json.dumps(ezkl_proof_json(proof)))
            paths.append(str(path))
        try:
            return [
                bool(ok)
                for ok in run_isolated(
                    ezkl_ops.verify_all,
                    paths,
                    str(artifacts.settings),
                    str(artifacts.vk),
                    str(artifacts.srs_path),
                )
            ]
        except RuntimeError as exc:
            raise ToolchainError(f"verifying failed: {exc}") from exc


def circuit_count(compiled: Path, flat: np.ndarray) -> int:
    """The count the compiled circuit computes for `flat` (its witness), without proving."""
    (count,) = circuit_counts(compiled, [flat])
    return count


def circuit_counts(compiled: Path, models: list[np.ndarray]) -> list[int]:
    """The counts the compiled circuit computes for many models, in one child process
    (what each model's proof would make public, without proving)."""
    with tempfile.TemporaryDirectory(prefix="zkpot-witness-") as tmp:
        paths = []
        for i, flat in enumerate(models):
            directory = Path(tmp) / str(i)
            directory.mkdir()
            paths.append(str(write_input(directory, flat)))
        outputs = run_isolated(ezkl_ops.witness_outputs, paths, str(compiled))
        return [felt_to_int(o[0][0]) for o in outputs]
