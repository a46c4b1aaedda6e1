"""`zkpot watch`: a keyless observer in its own process reads a task's outcome from
a real anvil node's JSON-RPC and checks the record chain."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import open_task

from zkpot_client.chain.backend import dev_accounts
from zkpot_client.chain.contracts import deploy_verifier


def zkpot_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zkpot_client.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.anvil
def test_watch_reads_rounds_and_checks_the_record_chain(
    anvil_node, tiny, proven_a, proven_b, tmp_path
) -> None:
    chain = anvil_node.chain
    d = open_task(chain, deploy_verifier(chain, dev_accounts(1)[0]), tiny)
    a, b = d.accounts[1], d.accounts[2]
    d.contribute_all([(a, proven_a), (b, proven_b)])
    d.to_aggregate_phase()
    d.publish_average([(a, proven_a), (b, proven_b)])
    target = ["--rpc", anvil_node.url, "--contract", d.zkpot.address]

    out = zkpot_cli("watch", *target, "--json", str(tmp_path / "watch.json"))
    assert out.returncode == 0, out.stderr
    assert "record chain verified from events: 2 records" in out.stdout
    (r1,) = json.loads((tmp_path / "watch.json").read_text())
    counts = {c["client"]: c["correct"] for c in r1["contributions"]}
    assert counts == {
        a.address: proven_a.proof.correct,
        b.address: proven_b.proof.correct,
    }
    assert r1["leader"] == d.zkpot.round(d.task_id, 1).leader
    assert (
        r1["global_model_cid"] == "bafkreimodel1" and r1["global_model_by_aggregator"]
    )
    on_chain = d.zkpot.round(d.task_id, 1)
    for c in r1["contributions"]:
        bonus = on_chain.leader_bonus if c["client"] == r1["leader"] else 0
        assert c["reward_wei"] == on_chain.contributor_reward + bonus

    # Round 2 has no contribution: closing it completes the task; --follow then
    # reports the rest and stops by itself.
    d.to_aggregate_phase()
    d.zkpot.close_round(a, d.task_id)
    out = zkpot_cli(
        "watch", *target, "--task", str(d.task_id), "--follow", "--poll", "0.2"
    )
    assert out.returncode == 0, out.stderr
    assert "record chain verified from events: 3 records" in out.stdout

    out = zkpot_cli("watch", *target, "--task", "99")
    assert out.returncode == 1 and "no task 99" in out.stderr
