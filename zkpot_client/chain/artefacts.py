"""The compiled contracts the client library deploys and calls, shipped in the
package: ABI and creation bytecode of ZKPoT and of ezkl's reusable verifier, read
from JSON files beside this module.

`scripts/setup.sh` rebuilds them from `contracts/` (`python -m
zkpot_client.chain.artefacts`), and a test checks that the shipped files match
the sources, so nothing at run time needs the Solidity compiler.
"""

from __future__ import annotations

import functools
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from ..exceptions import ToolchainError

ARTEFACTS_DIR = Path(__file__).resolve().parent / "compiled"
ZKPOT = "ZKPoT"
VERIFIER = "Halo2VerifierReusable"


@dataclass(frozen=True, kw_only=True)
class CompiledContract:
    """ABI and creation bytecode of one contract, and the sources they came from."""

    name: str
    abi: list[dict[str, object]]
    bytecode: str
    runtime_size: int
    sources_digest: str
    """sha256 over the contract sources it was built from (see compiler.sources_digest)."""


@functools.cache
def load(name: str) -> CompiledContract:
    """The shipped build of contract `name` (ZKPOT or VERIFIER)."""
    path = ARTEFACTS_DIR / f"{name}.json"
    try:
        return CompiledContract(**json.loads(path.read_text()))
    except FileNotFoundError:
        raise ToolchainError(
            f"the compiled contract {name} is missing from the package ({path}): "
            "run ./scripts/setup.sh"
        ) from None


def build() -> list[Path]:
    """Compile ZKPoT and the verifier from `contracts/` and write their JSON files
    (needs the Solidity toolchain: a development step, run by scripts/setup.sh)."""
    from .compiler import verifier_contract, zkpot_contract

    ARTEFACTS_DIR.mkdir(exist_ok=True)
    written = []
    for compiled in (zkpot_contract(), verifier_contract()):
        path = ARTEFACTS_DIR / f"{compiled.name}.json"
        text = json.dumps(asdict(compiled), indent=1, sort_keys=True) + "\n"
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    load.cache_clear()
    return written


if __name__ == "__main__":
    changed = build()
    print(
        "contract artefacts rebuilt: " + ", ".join(p.name for p in changed)
        if changed
        else "contract artefacts up to date",
        file=sys.stderr,
    )
