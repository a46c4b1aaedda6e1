"""ezkl operations, each run in a child process.

ezkl's Python bindings keep the GIL while they work, so running them in a child
process keeps the parent responsive (progress display, chain polling), frees
the proving key's memory when the step ends, and turns a crash inside the
prover into an error instead of the end of the parent. This module imports
nothing heavy, so a child starts quickly.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from ..paths import ezkl_home

peak_kib: dict[str, int] = {}
"""Peak resident memory (KiB) of the last child that ran each function, by name."""


def run_isolated(fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn(*args)` (a function of this module, JSON arguments and result) in a
    child Python process and return its result; the child's peak memory is kept in
    `peak_kib`. The child's HOME is where ezkl finds the project's solc (only
    `create_verifier` compiles anything)."""
    fd, out = tempfile.mkstemp(prefix="zkpot-ezkl-", suffix=".json")
    os.close(fd)
    try:
        with tempfile.TemporaryFile(mode="w+") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", __name__, fn.__name__, out],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, "HOME": ezkl_home()},
            )
            try:
                assert proc.stdin is not None
                proc.stdin.write(json.dumps(args))
                proc.stdin.close()
                # wait4: this child's own resource usage (its peak memory)
                _, status, usage = os.wait4(proc.pid, 0)
            except BaseException:  # interrupted: take the child down too
                proc.kill()
                proc.wait()
                raise
            proc.returncode = os.waitstatus_to_exitcode(status)
            peak_kib[fn.__name__] = usage.ru_maxrss
            if proc.returncode != 0:
                log.seek(0)
                detail = log.read().strip().splitlines()[-5:]
                raise RuntimeError(
                    f"ezkl {fn.__name__} failed (exit {proc.returncode}): "
                    + " | ".join(detail)
                )
        with open(out) as f:
            return json.load(f)
    finally:
        os.unlink(out)


def gen_settings(
    onnx_path: str, settings_path: str, run_args: dict[str, Any]
) -> dict[str, Any]:
    import ezkl

    ra = ezkl.PyRunArgs()
    for key, value in run_args.items():
        setattr(ra, key, value)
    if not ezkl.gen_settings(onnx_path, settings_path, py_run_args=ra):
        raise RuntimeError("ezkl gen_settings failed")
    with open(settings_path) as f:
        return json.load(f)


def compile_circuit(onnx_path: str, compiled_path: str, settings_path: str) -> None:
    import ezkl

    if not ezkl.compile_circuit(onnx_path, compiled_path, settings_path):
        raise RuntimeError("ezkl compile_circuit failed")


def gen_srs(srs_path: str, logrows: int) -> None:
    import ezkl

    ezkl.gen_srs(srs_path, logrows)


def setup(compiled_path: str, vk_path: str, pk_path: str, srs_path: str) -> None:
    import ezkl

    if not ezkl.setup(compiled_path, vk_path, pk_path, srs_path=srs_path):
        raise RuntimeError("ezkl setup failed")


def create_vka(vk_path: str, settings_path: str, vka_path: str, srs_path: str) -> None:
    """The verification-key artefact (no Solidity compiler needed)."""
    import ezkl

    async def run() -> None:  # ezkl's coroutines need a running loop to be made
        await ezkl.create_evm_vka(vk_path, settings_path, vka_path, srs_path=srs_path)

    asyncio.run(run())


def create_verifier(
    vk_path: str, settings_path: str, sol_path: str, abi_path: str, srs_path: str
) -> None:
    """ezkl's reusable Solidity verifier (ezkl compiles it: needs solc 0.8.20 at
    $HOME/.svm, see paths.ezkl_home)."""
    import ezkl

    async def run() -> None:
        await ezkl.create_evm_verifier(
            vk_path, settings_path, sol_path, abi_path, srs_path=srs_path, reusable=True
        )

    asyncio.run(run())


def witness_outputs(input_paths: list[str], compiled_path: str) -> list[Any]:
    """The circuit's outputs for each input file (witnesses only, no keys)."""
    import ezkl

    outputs = []
    for path in input_paths:
        w = ezkl.gen_witness(path, compiled_path, path + ".witness.json")
        outputs.append(w["outputs"])
    return outputs


def param_commitments(
    input_path: str, compiled_path: str, vk_path: str, srs_path: str
) -> list[str]:
    """The KZG commitments (compressed, hex) of the circuit's polycommit parameters,
    from a witness: what every proof on these parameters begins with."""
    import ezkl

    witness_path = input_path + ".witness.json"
    ezkl.gen_witness(
        input_path, compiled_path, witness_path, vk_path=vk_path, srs_path=srs_path
    )
    with open(witness_path) as f:
        processed = json.load(f).get("processed_params") or {}
    return [p for column in processed.get("polycommit") or [] for p in column]


def prove(
    input_path: str,
    compiled_path: str,
    pk_path: str,
    srs_path: str,
    witness_path: str,
    proof_path: str,
) -> dict[str, Any]:
    """The witness, then the proof: `{"proof": ezkl's proof JSON,
    "witness_seconds", "prove_seconds"}`."""
    import time

    import ezkl

    started = time.perf_counter()
    ezkl.gen_witness(input_path, compiled_path, witness_path)
    witnessed = time.perf_counter()
    ezkl.prove(witness_path, compiled_path, pk_path, proof_path, srs_path=srs_path)
    proved = time.perf_counter()
    with open(proof_path) as f:
        proof = json.load(f)
    return {
        "proof": proof,
        "witness_seconds": witnessed - started,
        "prove_seconds": proved - witnessed,
    }


def load_pk_seconds(pk_path: str, settings_path: str, vk_path: str) -> float:
    """Seconds ezkl takes to read a proving key (what every `prove` call spends
    before it proves): timed through the one binding that loads nothing else."""
    import time

    import ezkl

    started = time.perf_counter()
    ezkl.gen_vk_from_pk_single(pk_path, settings_path, vk_path)
    return time.perf_counter() - started


def calibrate(
    input_path: str, onnx_path: str, settings_path: str, max_logrows: int
) -> dict[str, Any]:
    """ezkl's own search for run arguments, targeting resources; the settings."""
    import ezkl

    ezkl.calibrate_settings(
        input_path, onnx_path, settings_path, "resources", max_logrows=max_logrows
    )
    with open(settings_path) as f:
        return json.load(f)


def verify(proof_path: str, settings_path: str, vk_path: str, srs_path: str) -> bool:
    import ezkl

    try:
        return bool(ezkl.verify(proof_path, settings_path, vk_path, srs_path=srs_path))
    except Exception:  # ezkl raises on a malformed or failing proof
        return False


def verify_all(
    proof_paths: list[str], settings_path: str, vk_path: str, srs_path: str
) -> list[bool]:
    """`verify` for many proofs of one circuit, in one process."""
    return [verify(p, settings_path, vk_path, srs_path) for p in proof_paths]


if __name__ == "__main__":
    _name, _out = sys.argv[1:3]
    _result = globals()[_name](*json.load(sys.stdin))
    with open(_out, "w") as _f:
        json.dump(_result, _f)
    # ezkl's async runtime can abort the interpreter while it shuts down
    # (PyGILState_Release during finalisation, seen after create_evm_verifier on
    # the demo's circuit): the work is done and written, so leave at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
