"""Compile the Solidity contracts with solc 0.8.20 (the solc-js wrapper)."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import solcx

from ..exceptions import ToolchainError
from ..paths import CONTRACTS_DIR, tool

SOLC_VERSION = "0.8.20"


@dataclass(frozen=True)
class CompiledContract:
    """ABI and creation bytecode of one contract."""

    name: str
    abi: list[dict[str, object]]
    bytecode: str
    runtime_size: int


def compile_file(
    path: Path, name: str, *, optimizer_runs: int = 200
) -> CompiledContract:
    """Compile contract `name` from the Solidity file `path` (imports resolved beside it)."""
    path = Path(path).resolve()
    return _compile(
        str(path),
        name,
        optimizer_runs,
        hashlib.sha256(_sources_digest(path)).hexdigest(),
    )


def zkpot_contract() -> CompiledContract:
    """The ZKPoT consensus contract."""
    return compile_file(CONTRACTS_DIR / "ZKPoT.sol", "ZKPoT")


def _sources_digest(path: Path) -> bytes:
    # The file and every Solidity file under contracts/: enough to notice edits.
    parts = [path.read_bytes()] + [
        p.read_bytes() for p in sorted(CONTRACTS_DIR.rglob("*.sol"))
    ]
    return b"\0".join(parts)


@functools.lru_cache(maxsize=16)
def _compile(
    path: str, name: str, optimizer_runs: int, digest: str
) -> CompiledContract:
    del digest  # part of the cache key only
    solc = tool("solc")
    if solc is None:
        raise ToolchainError("solc not found: run ./scripts/setup.sh")
    base = str(Path(path).parent)
    try:
        out = solcx.compile_standard(
            {
                "language": "Solidity",
                "sources": {Path(path).name: {"urls": [path]}},
                "settings": {
                    "optimizer": {"enabled": True, "runs": optimizer_runs},
                    "outputSelection": {
                        "*": {
                            "*": [
                                "abi",
                                "evm.bytecode.object",
                                "evm.deployedBytecode.object",
                            ]
                        }
                    },
                },
            },
            solc_binary=solc,
            allow_paths=[base, str(CONTRACTS_DIR)],
            base_path=base,
        )
    except solcx.exceptions.SolcError as exc:
        raise ToolchainError(f"compiling {path} failed: {exc.message}") from exc
    for source in out["contracts"].values():
        if name in source:
            c = source[name]
            return CompiledContract(
                name=name,
                abi=c["abi"],
                bytecode="0x" + c["evm"]["bytecode"]["object"],
                runtime_size=len(c["evm"]["deployedBytecode"]["object"]) // 2,
            )
    raise ToolchainError(f"{path} defines no contract {name}")
