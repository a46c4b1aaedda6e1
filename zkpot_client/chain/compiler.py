"""Compile the Solidity contracts with solc 0.8.20 (the solc-js wrapper).

A development step: the client library runs on the builds shipped in the package
(see artefacts), which `python -m zkpot_client.chain.artefacts` writes from here.
Sources are named relative to `contracts/`, so a build does not depend on where
the checkout lives.
"""

from __future__ import annotations

import functools
import hashlib

from ..exceptions import ToolchainError
from ..paths import CONTRACTS_DIR, PROJECT_ROOT, tool
from .artefacts import VERIFIER, ZKPOT, CompiledContract

SOLC_VERSION = "0.8.20"
SOURCES = {
    ZKPOT: ("ZKPoT.sol", 100),
    VERIFIER: (f"verifier/{VERIFIER}.sol", 1),
}
"""Contract -> (source file under contracts/, optimizer runs)."""


def zkpot_contract() -> CompiledContract:
    """The ZKPoT consensus contract, compiled from contracts/."""
    return compile_contract(ZKPOT)


def verifier_contract() -> CompiledContract:
    """ezkl's reusable Halo2 verifier, as generated (the same for every circuit;
    each circuit brings its own verification-key artefact)."""
    return compile_contract(VERIFIER)


def sources_digest() -> str:
    """sha256 over every Solidity file of the project under contracts/ (names and
    contents; not the dependencies `ape compile` unpacks under contracts/.cache)."""
    h = hashlib.sha256()
    for p in sorted(CONTRACTS_DIR.rglob("*.sol")):
        if ".cache" in p.relative_to(CONTRACTS_DIR).parts:
            continue
        h.update(p.relative_to(CONTRACTS_DIR).as_posix().encode() + b"\0")
        h.update(p.read_bytes() + b"\0")
    return h.hexdigest()


def compile_contract(name: str) -> CompiledContract:
    """Compile contract `name` (a key of SOURCES) from contracts/."""
    return _compile(name, sources_digest())


@functools.lru_cache(maxsize=8)
def _compile(name: str, digest: str) -> CompiledContract:
    import solcx

    solc = tool("solc")
    if solc is None:
        raise ToolchainError("solc not found: run ./scripts/setup.sh")
    source, runs = SOURCES[name]
    try:
        out = solcx.compile_standard(
            {
                "language": "Solidity",
                "sources": {source: {"urls": [source]}},
                "settings": {
                    "optimizer": {"enabled": True, "runs": runs},
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
            # Imports of npm packages (solady) resolve under node_modules, so
            # their source names stay relative ("solady/src/...").
            allow_paths=[str(CONTRACTS_DIR), str(PROJECT_ROOT / "node_modules")],
            base_path=str(CONTRACTS_DIR),
        )
    except solcx.exceptions.SolcError as exc:
        raise ToolchainError(f"compiling {source} failed: {exc.message}") from exc
    c = out["contracts"].get(source, {}).get(name)
    if c is None:
        raise ToolchainError(f"{source} defines no contract {name}")
    return CompiledContract(
        name=name,
        abi=c["abi"],
        bytecode="0x" + c["evm"]["bytecode"]["object"],
        runtime_size=len(c["evm"]["deployedBytecode"]["object"]) // 2,
        sources_digest=digest,
    )
