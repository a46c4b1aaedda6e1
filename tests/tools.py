"""Running the project's command-line tools from tests, with the environment
scripts/test.sh sets up (the venv's tools first on PATH, this checkout's solc
wrapper for py-solc-x and ape)."""

from __future__ import annotations

import os
import subprocess

from zkpot_client.paths import PROJECT_ROOT


def run(
    *args: str, timeout: int = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "PATH": f"{PROJECT_ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        "SOLCX_BINARY_PATH": str(PROJECT_ROOT / ".venv" / "solcx"),
        **(env or {}),
    }
    return subprocess.run(
        list(args),
        cwd=PROJECT_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
