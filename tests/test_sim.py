"""`zkpot sim`: every role its own OS process on a real anvil node, real proofs.

A small federation (three clients, one of them swapping its model) on the tiny
circuit for one round, on a busy machine: one CPU-bound process per core competes
with the federation throughout. Every proof must still land in its phase; the
outcome the simulation reads from events must match what the independent `zkpot
watch` process read, the provers must have taken turns, and the Byzantine client
must have been filtered.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tiny import SCALE, SIM_ALLOWANCE, TINY_EVAL, TINY_HIDDEN
from tools import run

from zkpot_client.chain.backend import AnvilNode
from zkpot_client.config import FederationConfig
from zkpot_client.crypto import weights_from_bytes
from zkpot_client.data import load_arrays
from zkpot_client.experiment.grid import Federation as GridFederation
from zkpot_client.experiment.grid import GridConfig
from zkpot_client.experiment.runner import compare, round_circuits
from zkpot_client.privacy import chain_haystack, find, sample_needles, weight_needles
from zkpot_client.roles.byzantine import ModelSwapClient
from zkpot_client.roles.client import load_contribution
from zkpot_client.types import RoundSummary

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    run_dir = tmp_path_factory.mktemp("sim")
    out = run_dir / "sim.json"
    busy = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 1)
    ]
    try:
        proc = run(
            "zkpot", "sim", "--clients", "3", "--byzantine", "1",
            "--attack", ModelSwapClient.attack, "--rounds", "1",
            "--eval-samples", str(TINY_EVAL), "--hidden", str(TINY_HIDDEN),
            "--slots", "1", "--allowance", str(SIM_ALLOWANCE), "--run-dir", str(run_dir / "run"), "--json", str(out),
            timeout=1_200,
        )  # fmt: skip
    finally:
        for p in busy:
            p.kill()
            p.wait()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "expected run time about" in proc.stderr
    # The simulation says what each phase waits for, and until which block.
    assert re.search(r"round 1/1: waiting for proofs until block \d+", proc.stderr)
    # Once every client had proved, the node was mined to the proof phase's end.
    assert re.search(
        r"round 1: every client has acted in the proof phase; mining \d+ blocks",
        proc.stderr,
    )
    return json.loads(out.read_text()), run_dir / "run"


def test_the_summary_has_the_byzantine_clients_the_attack_and_the_rounds(
    sim_run,
) -> None:
    result, _ = sim_run
    assert result["attack"] == "model-swap"
    (byzantine,) = result["byzantine"]
    (round_,) = result["rounds"]
    assert round_["round"] == 1
    assert {c["client"] for c in round_["contributions"]} >= {byzantine}
    assert len(round_["contributions"]) == 3
    assert all(c["prove_seconds"] > 0 for c in round_["contributions"])
    # The swapper's round has no proven average if its proof was accepted.
    swapper = next(c for c in round_["contributions"] if c["client"] == byzantine)
    assert round_["global_model_by_aggregator"] != swapper["accepted"]
    assert round_["global_accuracy"] is not None
    assert set(result["exit_codes"]) == {
        "publisher",
        "aggregator",
        "watch",
        "client-1",
        "client-2",
        "client-3",
    }
    assert set(result["exit_codes"].values()) == {0}


def test_a_swapped_model_leaves_its_round_without_a_proven_average(sim_run) -> None:
    """On chain the swapper's proof is valid; off chain the weights it handed over
    are not the ones it proved, so the aggregator process cannot prove an average
    that the contract would take, and the round keeps the previous model."""
    result, _ = sim_run
    (byzantine,) = result["byzantine"]
    first = result["rounds"][0]
    mine = next(c for c in first["contributions"] if c["client"] == byzantine)
    if mine["accepted"]:
        assert result["aggregator_excluded"]["1"] == {
            byzantine: "weights do not hash to the proven commitment"
        }
        assert first["aggregation_proof_hash"] is None
        assert not first["global_model_by_aggregator"]
    else:
        assert byzantine not in result["aggregator_excluded"]["1"]
        assert first["aggregation_proof_hash"] is not None


def test_the_independent_watcher_process_read_the_same_outcome(sim_run) -> None:
    result, run_dir = sim_run
    watched = json.loads((run_dir / "watch.json").read_text())

    def chain_facts(rounds: list[dict[str, Any]]) -> list[Any]:
        return [
            (
                r["round"],
                r["leader"],
                r["global_model_cid"],
                sorted(
                    (c["client"], c["correct"], c["accepted"], c["reward_wei"])
                    for c in r["contributions"]
                ),
            )
            for r in rounds
        ]

    assert chain_facts(watched) == chain_facts(result["rounds"])
    # Each round was judged on its own batch, revealed by the publisher process.
    assert all(r["batch_cid"] for r in watched)
    publisher_log = (run_dir / "logs" / "publisher.log").read_text()
    for r in watched:
        assert (
            f"round {r['round']}: revealed its evaluation batch ({r['batch_cid']})"
            in (publisher_log)
        )


def test_every_role_ran_as_its_own_process_with_its_own_key(sim_run) -> None:
    _, run_dir = sim_run
    logs = run_dir / "logs"
    assert {p.stem for p in logs.glob("*.log")} == {
        "publisher", "aggregator", "watch", "client-1", "client-2", "client-3",
    }  # fmt: skip
    registered = [
        re.search(
            r"registered (0x[0-9a-fA-F]{40})", (logs / f"client-{i}.log").read_text()
        ).group(1)
        for i in (1, 2, 3)
    ]
    assert len(set(registered)) == 3
    assert len({p.read_text() for p in (run_dir / "keys").glob("*.key")}) == 5


def test_every_proof_landed_with_the_cores_busy(sim_run) -> None:
    """With every core contested, each client still proved and submitted in the
    proof phase: the schedule's margin held."""
    _, run_dir = sim_run
    for log in sorted((run_dir / "logs").glob("client-*.log")):
        text = log.read_text()
        assert "round 1: submitted" in text, text[-2000:]
        assert "ended before submission" not in text


def test_an_idle_client_says_what_it_waits_for_and_until_which_block(
    sim_run,
) -> None:
    _, run_dir = sim_run
    for log in sorted((run_dir / "logs").glob("client-*.log")):
        waits = re.findall(
            r"round 1: waiting for (.+) until block \d+ \(now \d+\)", log.read_text()
        )
        assert "registration" in waits and len(waits) >= 2, waits


def test_the_provers_took_turns(sim_run) -> None:
    """One prover slot: no two proofs overlapped in time."""
    _, run_dir = sim_run
    spans = []
    for log in (run_dir / "logs").glob("client-*.log"):
        for m in re.finditer(
            r"(\d\d:\d\d:\d\d) client-\d: round \d+: proved count \d+ in ([\d.]+) s",
            log.read_text(),
        ):
            end = datetime.strptime(m.group(1), "%H:%M:%S").timestamp()
            spans.append((end - float(m.group(2)), end))
    assert len(spans) == 3
    spans.sort()
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start >= end - 1.5, spans  # log times are whole seconds


def test_no_weight_and_no_training_sample_is_public(sim_run) -> None:
    """Scan every transaction's calldata, every event and all contract storage of the
    run (the chain kept in the run directory, loaded back into anvil)."""
    _, run_dir = sim_run
    state = run_dir / "anvil-state.json"
    with AnvilNode(state=state) as node:
        haystack = chain_haystack(node.chain, state)
    assert len(haystack["calldata"]) > 3 * 8_000  # at least the three proofs
    assert haystack["events"] and haystack["storage"]
    local_models, samples = {}, {}
    for i in (1, 2, 3):
        client_dir = run_dir / f"client-{i}"
        mine = load_contribution(client_dir / "state", 1)
        assert mine is not None
        local_models |= weight_needles(mine.weights, SCALE, f"client-{i}")
        samples |= sample_needles(load_arrays(client_dir / "data.npz").x, f"client-{i}")
    assert len(local_models) > 100 and len(samples) > 1_000
    for part, hay in haystack.items():
        assert find(hay, local_models) == [], part
        assert find(hay, samples) == [], part
    # The scan finds what is there: the content store holds the global model in
    # clear (public by design) but the local models only sealed to the aggregator.
    store = b"".join(p.read_bytes() for p in (run_dir / "store").iterdir())
    (round_,) = sim_run[0]["rounds"]
    global_model = weights_from_bytes(
        (run_dir / "store" / round_["global_model_cid"]).read_bytes()
    )
    assert find(store, weight_needles(global_model, SCALE, "global"))
    assert find(store, local_models) == []


def test_the_experiment_grid_replays_this_run_round_by_round(sim_run, tmp_path) -> None:
    """The grid's ZKPoT rule (witness counts, the contract's rules, the aggregator's
    filter), run on the same configuration, gives what the processes gave on chain:
    every verified count, who was accepted, the global model's accuracy."""
    result, _ = sim_run
    cfg = GridConfig(
        federation=FederationConfig.sim(
            clients=3, rounds=1, eval_samples=TINY_EVAL, hidden=TINY_HIDDEN
        ),
        byzantine_levels=(1,),
        attacks=(ModelSwapClient.attack,),
        seeds=(0,),
    )
    fed = GridFederation(
        cfg, 1, ModelSwapClient.attack, 0, round_circuits(cfg, 0, tmp_path)
    )
    trace = fed.run("zkpot")
    rounds = [RoundSummary.from_json(r) for r in result["rounds"]]
    agreement = compare(rounds, trace, 3, ModelSwapClient.attack, 0.0, {})
    assert len(agreement.rounds) == 1
    assert agreement.agree, agreement
