"""The contract audit suite, driven from pytest so that scripts/test.sh runs all of
it: forge unit, fuzz and invariant tests (real ezkl proofs from
tests/fixtures/tiny-proofs.json), the ape client-flow tests on ape's test network
and on anvil, slither, and the checks that every custom error is reached by a test
and every external function is in the gas report."""

from __future__ import annotations

import json
import re

import pytest
from tools import run

from zkpot_client.chain.compiler import zkpot_contract
from zkpot_client.paths import PROJECT_ROOT, tool

pytestmark = pytest.mark.slow

DOCS = PROJECT_ROOT / "docs"
TEST_SOURCES = [
    *sorted((PROJECT_ROOT / "tests").glob("test_*.py")),
    *sorted((PROJECT_ROOT / "tests" / "forge").rglob("*.sol")),
    *sorted((PROJECT_ROOT / "ape-tests").glob("test_*.py")),
]


def _abi_names(kind: str) -> list[str]:
    return sorted(
        {
            i["name"]
            for i in zkpot_contract().abi
            if i["type"] == kind
            and (
                kind != "function" or i["stateMutability"] in ("nonpayable", "payable")
            )
        }
    )


@pytest.fixture(scope="module")
def forge_results() -> dict[str, dict]:
    out = run(str(tool("forge")), "test", "--json", timeout=1800)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    results = {}
    for suite in json.loads(out.stdout).values():
        for name, result in suite["test_results"].items():
            results[name.split("(")[0]] = result
    return results


def test_forge_unit_fuzz_and_invariant_tests_pass(forge_results) -> None:
    kinds = {name: next(iter(r["kind"])) for name, r in forge_results.items()}
    assert all(r["status"] == "Success" for r in forge_results.values())
    assert sum(k == "Unit" for k in kinds.values()) >= 40
    invariants = [n for n, k in kinds.items() if k == "Invariant"]
    assert len(invariants) >= 5
    for name in invariants:  # each invariant was checked over real call sequences
        assert forge_results[name]["kind"]["Invariant"]["calls"] > 0


def test_every_external_function_has_a_fuzz_test(forge_results) -> None:
    fuzzed = " ".join(
        n for n, r in forge_results.items() if next(iter(r["kind"])) == "Fuzz"
    )
    missing = [f for f in _abi_names("function") if f not in fuzzed]
    assert not missing, f"no fuzz test named after {missing}"


def test_every_custom_error_is_reached_by_a_test() -> None:
    """Each error is named where a test expects it: `Err.selector` in forge,
    `ape.reverts(zkpot.Err)` in ape, `reverts("Err")` or `.name == "Err"` in pytest."""
    sources = "\n".join(p.read_text() for p in TEST_SOURCES)
    missing = [
        e
        for e in _abi_names("error")
        if not re.search(
            rf"\b{e}\.selector|zkpot\.{e}\)|reverts\(\s*\"{e}\"|== \"{e}\"", sources
        )
    ]
    assert not missing, f"no test expects {missing}"


@pytest.mark.anvil
@pytest.mark.parametrize("network", ["ethereum:local:test", "ethereum:local:foundry"])
def test_ape_client_flows(network: str) -> None:
    # ape's build cache misses changes to imported sources: compile afresh.
    compiled = run(str(PROJECT_ROOT / ".venv" / "bin" / "ape"), "compile", "--force")
    assert compiled.returncode == 0, compiled.stdout[-3000:] + compiled.stderr[-3000:]
    out = run(
        str(PROJECT_ROOT / ".venv" / "bin" / "ape"),
        "test",
        "ape-tests",
        "--network",
        network,
        timeout=900,
    )
    summary = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert re.search(r"\b\d+ passed\b", summary) and "failed" not in summary


def slither_findings() -> list[dict]:
    out = run(
        str(PROJECT_ROOT / ".venv" / "bin" / "slither"),
        ".",
        "--filter-paths",
        "tests/|node_modules/",
        "--json",
        "-",
        # its own forge output: a concurrent `forge test` must not clobber build-info
        env={
            "FOUNDRY_OUT": "build/slither-out",
            "FOUNDRY_CACHE_PATH": "build/slither-cache",
        },
        timeout=900,
    )
    report = json.loads(out.stdout)
    assert report["success"], report.get("error")
    return report["results"]["detectors"]


def test_slither_high_and_medium_findings_are_explained() -> None:
    """docs/security.md has a row `| check | impact | function | ...` for each."""
    explained = (DOCS / "security.md").read_text()
    unexplained = []
    for f in slither_findings():
        if f["impact"] not in ("High", "Medium"):
            continue
        first = f["elements"][0]
        function = (
            first["name"]
            if first["type"] == "function"
            else first["type_specific_fields"]["parent"]["name"]
        )
        row = rf"\|\s*`{f['check']}`\s*\|\s*{f['impact']}\s*\|[^\n]*`{re.escape(function)}"
        if not re.search(row, explained):
            unexplained.append((f["check"], f["impact"], function))
    assert not unexplained, f"explain in docs/security.md: {unexplained}"


def test_gas_report_covers_every_external_function() -> None:
    report = (DOCS / "gas.md").read_text()
    missing = [f for f in _abi_names("function") if f"| {f} " not in report]
    assert not missing, f"docs/gas.md lacks {missing}; run scripts/gas_report.py"
