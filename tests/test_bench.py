"""`zkpot bench`: one configuration end to end, the levers study and the growth
study's table and plot, on tiny circuits (real set-ups, proofs and chain)."""

from __future__ import annotations

import json

import pytest
from tiny import TINY_EVAL, TINY_HIDDEN
from tools import run

from zkpot_client.bench import growth, levers, run_bench
from zkpot_client.config import FederationConfig

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def benches(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """The tiny MLP through the command line, the tiny CNN through the library."""
    out = tmp_path_factory.mktemp("bench") / "mlp.json"
    proc = run(
        "zkpot", "bench", "--eval-samples", str(TINY_EVAL),
        "--hidden", str(TINY_HIDDEN), "--proofs", "1", "--json", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    cnn = run_bench(
        FederationConfig.demo(eval_samples=TINY_EVAL, model="cnn"), proofs=1
    )
    return [json.loads(out.read_text()), cnn]


def test_a_configuration_is_measured_end_to_end(benches) -> None:
    mlp, cnn = benches
    assert mlp["model"].startswith("MLP 64-8-10") and mlp["logrows"] == 13
    assert (
        cnn["model"].startswith("CNN 8x8 conv3x3x4-10") and cnn["num_weights"] == 1490
    )
    for b in benches:
        assert b["rows"] < 2 ** b["logrows"]
        assert b["prove_seconds_median"] > 0 and b["peak_prover_memory_mib"] > 100
        assert b["proving_key_mib"] > 0 and b["proof_bytes"] > 1_000
        # the proof was verified on chain: a submission costs the verifier's gas
        assert b["submit_gas"] > 1_000_000


def test_the_growth_table_and_plot_show_every_configuration(benches, tmp_path) -> None:
    table = growth.markdown(benches)
    for b in benches:
        assert f"| {b['model']} | {b['eval_samples']} | {b['rows']:,} |" in table
    png = growth.plot(benches, tmp_path / "growth.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_each_lever_is_measured_alone_with_its_fidelity() -> None:
    cfg = FederationConfig.demo(eval_samples=TINY_EVAL, hidden=TINY_HIDDEN)
    rows = {
        r["lever"]: r for r in levers.run_levers(cfg, ["shipped", "argmax", "rescaled"])
    }
    shipped, argmax, rescaled = rows["shipped"], rows["argmax"], rows["rescaled"]
    assert shipped["fidelity"] == "8/8" and shipped["count_errors"] == [0] * 8
    assert shipped["scales"] == [13, 4]
    assert rescaled["scales"] == [13, 13]
    # each formulation the shipped circuit avoids costs rows
    assert argmax["rows"] > shipped["rows"] and rescaled["rows"] > shipped["rows"]
    for r in rows.values():
        assert r["prove_seconds"] > 0 and r["witness_seconds"] > 0
        assert r["pk_load_seconds"] > 0 and r["proving_key_mib"] > 0
    assert "| shipped | the circuit as shipped |" in levers.markdown(
        list(rows.values())
    )
