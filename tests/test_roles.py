"""The roles and their processes against a real contract: what a client process does
with a refused commitment, what the free-rider sends when it has nothing to copy,
which saved aggregation the aggregator resumes from, and how the event readers
query the node (from the task's creation block, in bounded pages, no receipts
unless asked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import Deployment, open_task
from tiny import SCALE, TINY_SPEC

from zkpot_client.chain.backend import Chain, dev_accounts
from zkpot_client.chain.contracts import ZKPoTContract, deploy_verifier
from zkpot_client.chain.events import round_outcomes
from zkpot_client.crypto import new_keypair
from zkpot_client.processes.aggregator_process import AggregatorProcess
from zkpot_client.processes.client_process import DONE, ClientProcess
from zkpot_client.processes.common import RoleContext
from zkpot_client.roles.aggregator import Aggregator
from zkpot_client.roles.byzantine import FreeRideClient
from zkpot_client.roles.client import Client
from zkpot_client.roles.watcher import Watcher
from zkpot_client.storage import LocalDirStore
from zkpot_client.types import AggregationResult


@pytest.fixture
def embedded(tiny) -> Deployment:
    chain = Chain.embedded()
    return open_task(chain, deploy_verifier(chain, dev_accounts(1)[0]), tiny)


def role_context(d: Deployment, name: str) -> RoleContext:
    return RoleContext(
        name=name, rpc="embedded", zkpot=d.zkpot, task=d.task, poll_seconds=0.0
    )


class FixedWeights(Client):
    """A client whose training yields the weights it is given."""

    weights: np.ndarray | None = None

    def train(self, task: Any, round_: int) -> np.ndarray:
        assert self.weights is not None
        return self.weights


def make_client(d: Deployment, cls: type[Client], account: int, tmp_path: Path) -> Any:
    return cls(
        name=f"{cls.__name__}-{account}",
        account=dev_accounts(8)[account],
        zkpot=d.zkpot,
        store=LocalDirStore(tmp_path / "store"),
        shard=None,  # type: ignore[arg-type]  # never trains on data here
        spec=TINY_SPEC,
        scale=SCALE,
        circuit=d.circuit,
        state_dir=tmp_path / f"state-{account}",
    )


def test_a_client_process_whose_commitment_is_refused_sits_the_round_out(
    embedded: Deployment, proven_a, tmp_path, capsys
) -> None:
    """Not eligible (never registered), or too late once trained: each time the
    process says why and sits the round out instead of exiting."""
    d = embedded
    state = d.zkpot.round(d.task_id, 1)
    outsider = make_client(d, FixedWeights, 7, tmp_path)  # account 7 never registered
    outsider.weights = proven_a.weights
    process = ClientProcess(
        ctx=role_context(d, "outsider"), client=outsider, artifacts=None
    )
    process.step(1, state, d.chain.block_number)
    assert process.stages[1] == DONE
    log = capsys.readouterr().out
    assert "round 1: commitment refused (ZKPoTNotEligible(" in log
    assert "sitting this round out" in log

    member = make_client(d, FixedWeights, 1, tmp_path)
    member.weights = proven_a.weights
    late = ClientProcess(ctx=role_context(d, "late"), client=member, artifacts=None)
    head = d.chain.block_number  # it saw the commit phase, then trained too long
    d.to_proof_phase()
    late.step(1, state, head)
    assert late.stages[1] == DONE
    assert "commitment refused (ZKPoTNotInCommitPhase(" in capsys.readouterr().out


def test_the_free_rider_sends_nothing_in_a_round_with_nothing_to_replay(
    tiny, proven_a, tmp_path
) -> None:
    """Round 1's only proof is below the threshold, so round 2 has no accepted proof
    to replay: the free-rider must not send its round-1 copy again."""
    chain = Chain.embedded()
    d = open_task(
        chain,
        deploy_verifier(chain, dev_accounts(1)[0]),
        tiny,
        min_correct=proven_a.proof.correct + 1,
    )
    victim = d.accounts[1]
    rider = make_client(d, FreeRideClient, 2, tmp_path)
    salt = d.commit(victim, proven_a.proof.weights_hash)
    rider.contribute(d.task, 1)  # a copy of the victim's commitment
    d.to_proof_phase()
    d.submit(victim, proven_a, salt)
    rider.submit(d.task)
    assert rider.journal[-1]["outcome"] == "refused on chain: ZKPoTCommitmentMismatch"
    d.to_aggregate_phase()
    d.zkpot.close_round(d.publisher, d.task_id)  # nothing accepted: round 2 opens
    assert d.current_round() == 2
    nonce = chain.w3.eth.get_transaction_count(rider.address)
    entries = len(rider.journal)
    rider.contribute(d.task, 2)
    assert rider.current is None
    assert rider.submit(d.task) is None
    assert chain.w3.eth.get_transaction_count(rider.address) == nonce
    assert rider.journal[entries:] == [
        {"round": 2, "action": "commit", "outcome": "no accepted proof to replay"}
    ]


def test_a_saved_aggregation_is_resumed_only_for_its_own_contract_and_task(
    embedded: Deployment, tiny, tmp_path
) -> None:
    """One state directory serving two contracts (the same task id on each): the
    second aggregator must not find, and publish, the first one's model."""
    d = embedded
    other = open_task(d.chain, d.verifier, tiny)
    assert other.task_id == d.task_id and other.zkpot.address != d.zkpot.address

    def process(dep: Deployment) -> AggregatorProcess:
        return AggregatorProcess(
            ctx=role_context(dep, "aggregator"),
            aggregator=Aggregator(
                account=dep.publisher,
                zkpot=dep.zkpot,
                store=LocalDirStore(tmp_path / "store"),
                key=new_keypair(),
                circuit=tiny.artifacts,
            ),
            state_dir=tmp_path / "aggregator",
        )

    saved = AggregationResult(
        round=1, model_hash=5, cid="bafkreimodel", included=(d.accounts[1].address,)
    )
    process(d).save(saved)
    assert process(d).load(1) == saved
    assert process(other).load(1) is None


def test_event_queries_start_at_the_task_and_page_through_bounded_ranges(
    embedded: Deployment, proven_a, proven_b, monkeypatch
) -> None:
    d = embedded
    d.contribute_all([(d.accounts[1], proven_a), (d.accounts[2], proven_b)])
    d.to_aggregate_phase()
    d.publish_average([(d.accounts[1], proven_a), (d.accounts[2], proven_b)])
    expected = round_outcomes(d.zkpot, d.task_id)
    created = d.task.start_block - d.task.terms.registration_blocks

    ranges: list[tuple[int, int]] = []
    receipts: list[Any] = []
    eth = d.chain.w3.eth
    get_logs, get_receipt = eth.get_logs, eth.get_transaction_receipt

    def logged(params: Any) -> Any:
        ranges.append((int(params["fromBlock"]), int(params["toBlock"])))
        return get_logs(params)

    def counted(tx: Any) -> Any:
        receipts.append(tx)
        return get_receipt(tx)

    monkeypatch.setattr(eth, "get_logs", logged)
    monkeypatch.setattr(eth, "get_transaction_receipt", counted)
    zkpot = ZKPoTContract(d.chain, d.zkpot.address)
    zkpot.log_page_blocks = 3
    assert round_outcomes(zkpot, d.task_id) == expected
    assert ranges and all(hi - lo + 1 <= 3 for lo, hi in ranges)
    # Only the search for the creation block looks (a page at most) before it.
    assert min(lo for lo, _ in ranges) >= created - 2
    assert receipts == []
    # The watcher reads what it reports from the logs alone: no receipt.
    watcher = Watcher.of(zkpot, d.task_id)
    (summary,) = watcher.finalised_rounds()
    assert [c.correct for c in summary.contributions] == [
        proven_a.proof.correct,
        proven_b.proof.correct,
    ]
    assert receipts == []


def test_the_embedded_chain_is_known_by_its_kind_not_its_name(anvil_node) -> None:
    chain = Chain.connect(anvil_node.url, dev=True)
    chain.name = "embedded-looking test node"
    head = chain.block_number
    chain.mine(2)  # anvil's own way, not eth-tester's
    assert chain.block_number == head + 2 and not chain.is_embedded
    assert Chain.embedded().is_embedded


def test_anvil_keeps_running_when_it_writes_much_to_stderr(
    tmp_path, monkeypatch
) -> None:
    """Its messages go to a file: a pipe nobody reads would fill and block it."""
    from zkpot_client.chain import backend

    real = backend.tool("anvil")
    noisy = tmp_path / "anvil"
    noisy.write_text(
        f'#!/bin/sh\nhead -c 1000000 /dev/zero | tr \'\\0\' x >&2\nexec "{real}" "$@"\n'
    )
    noisy.chmod(0o755)
    monkeypatch.setattr(backend, "tool", lambda name: str(noisy))
    with backend.AnvilNode() as node:
        assert node.chain.block_number >= 0


def test_an_interrupted_write_leaves_the_previous_journal_and_timings_whole(
    embedded: Deployment, tmp_path, monkeypatch
) -> None:
    from zkpot_client import paths
    from zkpot_client.roles.byzantine import NoiseClient

    d = embedded
    noisy = make_client(d, NoiseClient, 3, tmp_path)
    noisy.note(1, "commit", "taken by the contract")
    process = ClientProcess(ctx=role_context(d, "noise"), client=noisy, artifacts=None)
    process.record_prove_seconds(1, 12.5)
    journal = noisy.state_dir / "attack.json"
    timings = noisy.state_dir / "prove-seconds.json"
    before = journal.read_text(), timings.read_text()

    def crash(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(paths.os, "replace", crash)
    with pytest.raises(OSError):
        noisy.note(2, "commit", "taken by the contract")
    with pytest.raises(OSError):
        process.record_prove_seconds(2, 13.0)
    assert (journal.read_text(), timings.read_text()) == before
    assert json.loads(journal.read_text())["journal"][0]["round"] == 1


def missed_round_one(d: Deployment, account: Any, proven_a: Any) -> None:
    """`account` commits in round 1 and never proves; the round closes."""
    d.commit(account, proven_a.proof.weights_hash)
    d.to_proof_phase()
    d.to_aggregate_phase()
    d.zkpot.close_round(d.publisher, d.task_id)
    assert d.current_round() == 2


def test_a_client_process_tops_its_stake_up_after_a_missed_proof(
    embedded: Deployment, proven_a, proven_b, tmp_path, capsys
) -> None:
    """A proof that missed its phase takes the stake below the minimum; before its
    next commitment the process tops it up by what it lacks and takes part again."""
    d = embedded
    terms = d.task.terms
    c = make_client(d, FixedWeights, 1, tmp_path)
    missed_round_one(d, c.account, proven_a)
    process = ClientProcess(ctx=role_context(d, "late"), client=c, artifacts=None)
    lacking = process.stake_shortfall(2)
    assert lacking == terms.missed_proof_penalty  # the stake was exactly the minimum
    assert process.ensure_stake(2)
    assert "topped the stake up by" in capsys.readouterr().out
    assert d.zkpot.member(d.task_id, c.address).stake == terms.min_stake
    d.commit(c.account, proven_b.proof.weights_hash)  # eligible again
    assert any(d.zkpot.contribution(d.task_id, 2, c.address).commitment)


def test_a_client_process_told_not_to_top_up_leaves_with_status_zero(
    embedded: Deployment, proven_a, tmp_path, capsys
) -> None:
    d = embedded
    c = make_client(d, FixedWeights, 1, tmp_path)
    missed_round_one(d, c.account, proven_a)
    balance = d.chain.w3.eth.get_balance(c.address)
    process = ClientProcess(
        ctx=role_context(d, "no-top-up"), client=c, artifacts=None, top_up=False
    )
    assert process.run() == 0
    log = capsys.readouterr().out
    assert "topping up is off (--no-top-up): leaving the task" in log
    member = d.zkpot.member(d.task_id, c.address)
    assert not member.registered and member.stake == 0
    # It took back what the penalty left of its stake.
    assert d.chain.w3.eth.get_balance(c.address) > balance
