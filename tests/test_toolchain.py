"""The compiler wrapper serves every tool that compiles our contracts, offline."""

from __future__ import annotations

import pytest
from tools import run

from zkpot_client.chain.compiler import zkpot_contract
from zkpot_client.paths import PROJECT_ROOT, tool

pytestmark = pytest.mark.slow


def test_solc_wrapper_reports_0_8_20() -> None:
    out = run(str(tool("solc")), "--version")
    assert out.returncode == 0 and "Version: 0.8.20+commit" in out.stdout


def test_py_solc_x_compiles_zkpot_under_the_size_limit() -> None:
    assert 0 < zkpot_contract().runtime_size < 24_576


def test_ape_compiles_the_project() -> None:
    out = run(str(PROJECT_ROOT / ".venv" / "bin" / "ape"), "compile", "--force")
    assert out.returncode == 0, out.stderr
    assert "compiled" in out.stdout + out.stderr


def test_forge_builds_the_project_offline() -> None:
    out = run(str(tool("forge")), "build", "--force")
    assert out.returncode == 0, out.stderr
    assert (PROJECT_ROOT / "build" / "forge-out" / "ZKPoT.sol" / "ZKPoT.json").exists()
