"""Faults, on a real federation of processes (anvil, real proofs, the tiny circuit).

One run of three clients and two rounds takes three blows in round 1:
  1. client-3 is killed (with its prover) while proving;
  2. once the other two have submitted, anvil is stopped and restarted from the
     state it dumped, on the same port;
  3. the aggregator is killed right after it saved its aggregation, before it
     published, and restarted with the same state directory.
Each test reads one of these from the outcome.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from tiny import SIM_ALLOWANCE, TINY_EVAL, TINY_HIDDEN

from zkpot_client.chain.events import contributions, logs, round_outcomes
from zkpot_client.chain.records import verify_record_chain
from zkpot_client.config import FederationConfig
from zkpot_client.processes.aggregator_process import aggregation_path
from zkpot_client.processes.sim import AGGREGATOR, Federation, SimOptions
from zkpot_client.types import Phase, RoundStatus

pytestmark = pytest.mark.slow


@dataclass
class FaultRun:
    fed: Federation
    codes: dict[str, int]
    events: dict[str, Any] = field(default_factory=dict)


class Blows:
    """The interventions, in order, each when its moment comes (called every second)."""

    def __init__(self, events: dict[str, Any]) -> None:
        self.events = events

    def __call__(self, fed: Federation) -> None:
        e = self.events
        if "client_killed" not in e:
            if "proving accuracy, round 1" in fed.log_of("client-3"):
                fed.kill("client-3")
                e["client_killed"] = fed.log_of("client-3")
            return
        if "node_restarted" not in e:
            verified = contributions(fed.zkpot, fed.task_id, 1)
            if len(verified) == 2:
                e["head_before_stop"] = fed.node.chain.block_number
                e["commits_before_stop"] = len(
                    logs(fed.zkpot, "Committed", fed.task_id, round=1)
                )
                fed.stop_node()
                time.sleep(3)
                fed.start_node()
                e["head_after_restart"] = fed.node.chain.block_number
                e["commits_after_restart"] = len(
                    logs(fed.zkpot, "Committed", fed.task_id, round=1)
                )
                e["node_restarted"] = True
            return
        round_1 = fed.zkpot.round(fed.task_id, 1)
        if (
            "aggregator_killed" not in e
            and fed.node.chain.block_number >= round_1.proof_end - 2
        ):
            # From just before the round can close, watch for the saved aggregation
            # closely enough to kill the aggregator before it publishes.
            saved = aggregation_path(
                fed.run_dir / "aggregator",
                fed.node.chain.w3.eth.chain_id,
                fed.contract,
                fed.task_id,
                1,
            )
            deadline = time.monotonic() + 120
            while not saved.exists() and time.monotonic() < deadline:
                time.sleep(0.002)
            fed.kill("aggregator")
            e["aggregator_killed"] = json.loads(saved.read_text())
            e["finalized_before_restart"] = (
                fed.zkpot.round(fed.task_id, 1).status == RoundStatus.FINALIZED
            )
            fed.start("aggregator")


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultRun]:
    cfg = FederationConfig.sim(
        clients=3, rounds=2, eval_samples=TINY_EVAL, hidden=TINY_HIDDEN
    )
    options = SimOptions(
        slots=1, allowance=SIM_ALLOWANCE, run_dir=tmp_path_factory.mktemp("faults")
    )
    fed = Federation(cfg, options, node_state=True)
    fed.plan()
    fed.start_node()
    events: dict[str, Any] = {}
    try:
        fed.publish()
        fed.start_roles()
        codes = fed.wait(on_tick=Blows(events))
        run = FaultRun(fed, codes, events)
        run.outcomes = round_outcomes(fed.zkpot, fed.task_id)  # type: ignore[attr-defined]
        run.records = verify_record_chain(fed.zkpot, fed.task_id)  # type: ignore[attr-defined]
        yield run
    finally:
        fed.stop_all()


def test_all_three_blows_landed(fault_run: FaultRun) -> None:
    assert {"client_killed", "node_restarted", "aggregator_killed"} <= set(
        fault_run.events
    )
    assert fault_run.codes["client-3"] == -9
    others = {n: c for n, c in fault_run.codes.items() if n != "client-3"}
    assert set(others.values()) == {0}, others


def test_a_client_killed_while_proving_does_not_stall_the_round(
    fault_run: FaultRun,
) -> None:
    fed = fault_run.fed
    assert (
        "proved count"
        not in fault_run.events["client_killed"].split("proving accuracy, round 1")[-1]
    )
    dead = Federation.client_account(2).address
    r1, r2 = fault_run.outcomes  # type: ignore[attr-defined]
    assert r1.finalized and r2.finalized
    assert {c.client for c in r1.contributions} == {
        Federation.client_account(i).address for i in (0, 1)
    }
    assert all(c.accepted for c in r1.contributions)
    assert r1.aggregator == fed.zkpot.task(fed.task_id).aggregator
    # Its commitment was never proven: the aggregator slashed it after the round.
    slashed = logs(fed.zkpot, "ClientSlashed", fed.task_id, client=dead)
    assert [int(e["args"]["round"]) for e in slashed] == [1]
    assert "slashed " + dead in fed.log_of("aggregator")


def test_the_aggregator_resumes_from_its_saved_state_after_a_kill(
    fault_run: FaultRun,
) -> None:
    fed = fault_run.fed
    saved = fault_run.events["aggregator_killed"]
    assert not fault_run.events["finalized_before_restart"], (
        "killed too late: it had already published"
    )
    log = fed.log_of("aggregator")
    assert "round 1: resuming from the saved aggregation" in log
    assert log.count("round 1: published the proven FedAvg") == 1
    r1 = fault_run.outcomes[0]  # type: ignore[attr-defined]
    assert r1.global_model_cid == saved["cid"]
    from zkpot_client.chain.backend import dev_account

    assert r1.aggregator == dev_account(AGGREGATOR).address


def test_the_task_resumes_after_the_node_restarts_from_its_state_dump(
    fault_run: FaultRun,
) -> None:
    e = fault_run.events
    assert e["head_after_restart"] >= e["head_before_stop"]
    assert (
        e["commits_after_restart"] == e["commits_before_stop"] == 3
    )  # history survived
    assert fault_run.fed.zkpot.phase(fault_run.fed.task_id) == Phase.COMPLETED
    assert len(fault_run.records) == 3  # type: ignore[attr-defined]  # genesis + 2 rounds, chain checked
    for name in ("aggregator", "client-1", "client-2"):
        assert "node unreachable" in fault_run.fed.log_of(name), name
