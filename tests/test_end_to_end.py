"""End to end at reduced size: real training, real ezkl proofs, real contracts on the
in-process EVM, the outcome read back from events."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import open_task

from zkpot_client.chain.backend import Chain, dev_accounts
from zkpot_client.chain.contracts import ZKPoTContract, deploy_verifier
from zkpot_client.chain.events import round_outcomes
from zkpot_client.chain.records import elect_leader, verify_record_chain
from zkpot_client.config import FederationConfig, TrainingConfig
from zkpot_client.crypto import new_keypair, seal, weights_to_bytes
from zkpot_client.demo import run_demo
from zkpot_client.exceptions import ContractRevertError
from zkpot_client.report import write_json
from zkpot_client.roles.aggregator import Aggregator
from zkpot_client.storage import LocalDirStore
from zkpot_client.summary import rounds_json
from zkpot_client.types import Phase


@pytest.mark.e2e
@pytest.mark.proof
def test_demo_runs_rounds_and_reads_the_outcome_from_events(tmp_path) -> None:
    chain = Chain.embedded()
    cfg = FederationConfig.demo(
        clients=2,
        rounds=2,
        eval_samples=8,
        hidden=8,
        threshold=0.25,
        training=TrainingConfig(epochs=5),
    )
    result = run_demo(cfg, chain=chain, store_dir=tmp_path / "store")
    assert [r.round for r in result.rounds] == [1, 2]
    zkpot = ZKPoTContract(chain, result.zkpot_address)
    outcomes = round_outcomes(zkpot, result.task_id)
    for r, outcome in zip(result.rounds, outcomes, strict=True):
        contributions = r.contributions
        assert len(contributions) == 2
        for c in contributions:
            assert c.accuracy == c.correct / 8
            assert c.accepted == (c.correct >= 2)
            assert 1_000_000 < c.gas_used < 3_000_000 and c.prove_seconds > 0
            stored = zkpot.contribution(result.task_id, r.round, c.client)
            assert stored.correct == c.correct and stored.accepted == c.accepted
        accepted = [c for c in outcome.contributions if c.accepted]
        leader, _ = elect_leader(accepted, outcome.tie_break_seed)
        assert r.leader == leader == zkpot.round(result.task_id, r.round).leader
        assert r.global_model_cid and 0.0 <= r.global_accuracy <= 1.0
        # Each round was judged on its own revealed batch, distinct per round.
        assert outcome.batch is not None and r.batch_cid == outcome.batch.batch_cid
        paid = sum(c.reward_wei for c in contributions)
        assert (paid > 0) == bool(accepted)
    assert len({r.batch_cid for r in result.rounds}) == 2
    assert zkpot.phase(result.task_id) == Phase.COMPLETED
    records = verify_record_chain(zkpot, result.task_id)
    assert [rec.round for rec in records] == [0, 1, 2]
    # Every client claimed its rewards, released its stake and withdrew.
    for c in result.rounds[0].contributions:
        assert zkpot.member(result.task_id, c.client).stake == 0
        assert zkpot.credit_of(c.client) == 0
    path = tmp_path / "summary.json"
    write_json(rounds_json(result.rounds), path)
    loaded = json.loads(path.read_text())
    assert set(loaded[0]) == {
        "round",
        "batch_cid",
        "leader",
        "leader_bonus_wei",
        "contributions",
        "global_accuracy",
        "global_model_cid",
        "global_model_by_aggregator",
        "finalisation_gas",
        "aggregation_proof_hash",
    }
    # The round's close and global model were paid for, and read from receipts.
    assert loaded[0]["finalisation_gas"] > 0
    assert result.rounds[0].gas_per_contribution() is not None
    assert set(loaded[0]["contributions"][0]) == {
        "client",
        "name",
        "correct",
        "accuracy",
        "accepted",
        "reward_wei",
        "gas_used",
        "prove_seconds",
    }


def test_without_every_accepted_model_there_is_no_proven_average_and_the_round_falls_back(
    tmp_path, tiny, proven_a, proven_b
) -> None:
    """A client that hands the aggregator other weights than it proved cannot be
    averaged, and the contract takes no average that leaves it out: nothing is
    published, and past the deadline the round keeps the previous model."""
    chain = Chain.embedded()
    d = open_task(
        chain, deploy_verifier(chain, dev_accounts(1)[0]), tiny, min_correct=0
    )
    store = LocalDirStore(tmp_path)
    aggregator = Aggregator(
        account=d.publisher,
        zkpot=d.zkpot,
        store=store,
        key=new_keypair(),
        circuit=tiny.artifacts,
    )
    swapper, honest = d.accounts[1], d.accounts[2]
    salt_s = d.commit(swapper, proven_a.proof.weights_hash)
    salt_h = d.commit(honest, proven_b.proof.weights_hash)
    d.to_proof_phase()
    other_model = proven_a.weights + np.float32(0.5)  # not the proven model
    for account, proven, salt, handed in [
        (swapper, proven_a, salt_s, other_model),
        (honest, proven_b, salt_h, proven_b.weights),
    ]:
        cid = store.put(seal(aggregator.public_key, weights_to_bytes(handed)))
        d.zkpot.submit_proof(
            account,
            d.task.task_id,
            1,
            proven.proof,
            salt=salt,
            sealed_weights_cid=cid,
        )
    d.to_aggregate_phase()
    d.zkpot.close_round(d.publisher, d.task.task_id)
    result = aggregator.aggregate(d.task.task_id, 1)
    assert result.proof is None and result.included == ()
    assert "do not hash" in result.excluded[swapper.address]
    assert aggregator.publish(d.task.task_id, result) is None
    # An average of the honest model alone is refused on chain.
    with pytest.raises(ContractRevertError) as err:
        d.publish_average([(honest, proven_b)])
    assert err.value.name == "ZKPoTWrongAcceptedList"
    previous = d.zkpot.task(d.task_id).global_model_hash
    d.past_aggregate_deadline()
    d.zkpot.finalize_without_aggregator(d.publisher, d.task_id)
    assert d.zkpot.task(d.task_id).global_model_hash == previous


TINY_DEMO = [
    "demo",
    "--clients",
    "2",
    "--rounds",
    "2",
    "--eval-samples",
    "8",
    "--hidden",
    "8",
]


@pytest.mark.e2e
@pytest.mark.proof
def test_the_demo_prints_each_round_once_and_leaves_no_temporary_files(
    tmp_path,
) -> None:
    """Each round's table once, nothing after the closing line, and every
    temporary file and directory (content store, proving inputs, witnesses)
    gone when the run ends."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = subprocess.run(
        [sys.executable, "-m", "zkpot_client.cli", *TINY_DEMO],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp)},
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("ZKPoT rounds (read back from contract events)") == 2
    assert out.stdout.count("│     1 │") == 1 and out.stdout.count("│     2 │") == 1
    assert (
        out.stdout.rstrip()
        .splitlines()[-1]
        .startswith("final global-model accuracy on held-out test data:")
    )
    assert list(tmp.iterdir()) == []


@pytest.mark.e2e
@pytest.mark.proof
def test_an_interrupted_demo_removes_its_temporary_files(tmp_path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "zkpot_client.cli", *TINY_DEMO],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    try:
        deadline = time.monotonic() + 300
        while not any(p.name.startswith("zkpot-store-") for p in tmp.iterdir()):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        time.sleep(3)  # into the set-up or the rounds
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err[-2000:]
    assert list(tmp.iterdir()) == []


def test_cli_help_and_bad_input() -> None:
    zkpot = [sys.executable, "-m", "zkpot_client.cli"]
    out = subprocess.run([*zkpot, "demo", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--json" in out.stdout and "--srs" in out.stdout
    out = subprocess.run(
        [*zkpot, "demo", "--srs", "/nonexistent/srs"], capture_output=True, text=True
    )
    assert out.returncode != 0 and "does not exist" in out.stderr
    out = subprocess.run(
        [*zkpot, "demo", "--threshold", "2"], capture_output=True, text=True
    )
    assert out.returncode != 0 and "0<=x<=1" in out.stderr.replace(" ", "")
