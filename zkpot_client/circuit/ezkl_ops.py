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
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any, Callable


def run_isolated(fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn(*args)` in a fresh child process and return its result."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def gen_settings(onnx_path: str, settings_path: str, run_args: dict[str, Any]) -> dict[str, Any]:
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


def create_verifier(vk_path: str, settings_path: str, sol_path: str, abi_path: str, vka_path: str, srs_path: str) -> None:
    import ezkl

    async def both() -> None:
        await ezkl.create_evm_verifier(vk_path, settings_path, sol_path, abi_path, srs_path=srs_path, reusable=True)
        await ezkl.create_evm_vka(vk_path, settings_path, vka_path, srs_path=srs_path)

    asyncio.run(both())


def witness(input_path: str, compiled_path: str, witness_path: str) -> dict[str, Any]:
    import ezkl

    return ezkl.gen_witness(input_path, compiled_path, witness_path)


def prove(input_path: str, compiled_path: str, pk_path: str, srs_path: str, witness_path: str, proof_path: str) -> dict[str, Any]:
    import ezkl

    ezkl.gen_witness(input_path, compiled_path, witness_path)
    ezkl.prove(witness_path, compiled_path, pk_path, proof_path, srs_path=srs_path)
    with open(proof_path) as f:
        return json.load(f)


def verify(proof_path: str, settings_path: str, vk_path: str, srs_path: str) -> bool:
    import ezkl

    try:
        return bool(ezkl.verify(proof_path, settings_path, vk_path, srs_path=srs_path))
    except Exception:  # ezkl raises on a malformed or failing proof
        return False
