"""The examples in examples/ run as a user would run them, at reduced size: real
proofs on the embedded chain, through the public API only."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
from tools import run

from zkpot_client.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow

EXAMPLES = sorted((PROJECT_ROOT / "examples").glob("*.py"))


def test_there_are_the_two_examples() -> None:
    assert {p.name for p in EXAMPLES} == {"digits_mlp.py", "digits_cnn.py"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_an_example_uses_only_the_public_api(example: Path) -> None:
    tree = ast.parse(example.read_text())
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    ours = {m for m in imported if m.split(".")[0] == "zkpot_client"}
    assert ours == {"zkpot_client.api"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_an_example_runs_a_task_to_the_end(example: Path) -> None:
    proc = run(
        sys.executable, str(example), "--eval-samples", "8", "--rounds", "1",
        "--clients", "2", timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    match = re.search(
        r"round 1: leader client-\d \((\d)/8 verified\), (\d) accepted, "
        r"global model accuracy (\d\.\d\d)",
        proc.stdout,
    )
    assert match, proc.stdout
    assert int(match[2]) >= 1 and float(match[3]) > 0.3
    assert "record chain verified from events" in proc.stderr
