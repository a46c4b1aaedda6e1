"""The quick variant of `zkpot experiment` (one seed, two rounds, 0 and 3 of 10
clients Byzantine per attack), run as a user runs it; the full variant's figures
are in reports/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tools import run

from zkpot_client.experiment.grid import RULES
from zkpot_client.roles.byzantine import ATTACKS, byzantine_indices

pytestmark = pytest.mark.slow

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("experiment")
    proc = run("zkpot", "experiment", "--quick", "--out", str(out), timeout=1_200)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return out, json.loads((out / "experiment.json").read_text())


def test_the_report_has_the_table_the_verdict_the_plots_and_the_times(quick) -> None:
    out, _ = quick
    report = (out / "experiment.md").read_text()
    for attack in ATTACKS:
        assert f"| {attack} | 3 | " in report
        png = out / f"accuracy-{attack}.png"
        assert png.read_bytes()[:8] == PNG_MAGIC and f"]({png.name})" in report
    assert "## Does ZKPoT stay stable with up to one third Byzantine clients?" in report
    assert ", on our data**: the largest drop is" in report
    assert "## Membership inference" in report and "## Run time" in report


def test_zkpot_never_aggregates_a_byzantine_model_and_plain_fedavg_always_does(
    quick,
) -> None:
    _, result = quick
    cfg = result["config"]
    # An eval-overfitter trains a real model (on its shard and what was published):
    # its models may be aggregated; what it could gain is leadership, measured apart.
    for attack in (a for a in ATTACKS if a != "eval-overfit"):
        bad = set(byzantine_indices(cfg["clients"], 3, 0))
        traces = result["traces"][f"3/{attack}/0"]
        assert set(traces) == set(RULES)
        for r in traces["zkpot"]["rounds"]:
            assert not bad & set(r["included"]), (attack, r)
        for r in traces["fedavg"]["rounds"]:
            assert bad <= set(r["included"]), (attack, r)


def test_membership_inference_gains_from_exposed_models_and_nothing_from_zkpots_record(
    quick,
) -> None:
    _, result = quick
    rows = result["membership"]
    assert len(rows) == 10
    assert all(r["zkpot_public_record"] == 0.0 for r in rows)
    assert sum(r["learning_local_model"] for r in rows) / len(rows) > 0.1


def test_a_gaussian_aggregator_is_refused_under_zkpot_and_adopted_without_it(
    quick,
) -> None:
    """The paper's figure: in the Gaussian aggregator's round (the second), ZKPoT
    keeps the previous global model; plain FedAvg and learning-based consensus
    adopt the noise, and their accuracy falls below the honest aggregator's."""
    out, result = quick
    report = (out / "experiment.md").read_text()
    assert "## A Gaussian aggregator (the ZKPoT paper's malicious leader)" in report
    png = out / "accuracy-gaussian-aggregator.png"
    assert png.read_bytes()[:8] == PNG_MAGIC and f"]({png.name})" in report
    gaussian = result["gaussian_aggregator"]["0"]
    honest = result["traces"]["0/none/0"]
    first, second = gaussian["zkpot"]["rounds"]
    assert second["included"] == [] and first["included"]
    assert second["test_accuracy"] == first["test_accuracy"]
    assert first["test_accuracy"] == honest["zkpot"]["rounds"][0]["test_accuracy"]
    for rule in ("fedavg", "learning"):
        noisy = gaussian[rule]["rounds"][1]["test_accuracy"]
        assert noisy < honest[rule]["rounds"][1]["test_accuracy"] - 0.2, rule
