"""Where ZKPoT keeps its files and finds its tools."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = PROJECT_ROOT / "contracts"


def cache_dir() -> Path:
    """Cache for SRS files and circuit keys: $ZKPOT_CACHE, else ~/.cache/zkpot."""
    root = os.environ.get("ZKPOT_CACHE") or Path.home() / ".cache" / "zkpot"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def keep_torch_cache_in_ours() -> None:
    """Have torch keep its compile cache under ours rather than in the temporary
    directory (it makes one there when an optimizer is first built, and leaves
    it behind), unless the user chose another place."""
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir() / "torchinductor"))


def tool(name: str) -> str | None:
    """Path of a toolchain binary installed by scripts/setup.sh (solc, anvil, ...)."""
    for candidate in (
        PROJECT_ROOT / ".venv" / "bin" / name,
        PROJECT_ROOT / "scripts" / "bin" / name,
    ):
        if candidate.exists():
            return str(candidate)
    return shutil.which(name)


def ezkl_home() -> str:
    """HOME for ezkl's child processes: ezkl looks for solc 0.8.20 only at
    `$HOME/.svm/0.8.20/solc-0.8.20`, and scripts/setup.sh places the project's
    solc wrapper there under .venv, so no global state is needed."""
    home = PROJECT_ROOT / ".venv" / "ezkl-home"
    return str(home) if home.is_dir() else str(Path.home())


def write_atomically(path: Path, data: bytes | str) -> Path:
    """Write `data` to `path` all at once: a temporary file in the same directory,
    renamed over `path`, so a reader or a crash never sees half a file. The file
    is readable by its owner only (it may hold keys, weights or openings)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def install_build(work: Path, final: Path) -> None:
    """Move a finished build directory `work` to `final`, unless another process
    finished the same build first (a `DONE` file in `final`): then theirs stays
    (it may be in use) and `work` is left for the caller to remove."""
    if (final / "DONE").exists():
        return
    if final.exists():  # an unfinished leftover of a crashed build
        shutil.rmtree(final)
    try:
        work.rename(final)
    except OSError:
        if not (final / "DONE").exists():
            raise
