"""The client-facing flows of ZKPoT through ape, with real ezkl proofs verified by
ezkl's verifier on chain: `ape test ape-tests --network ethereum:local:test` (ape's
in-process chain) and `--network ethereum:local:foundry` (anvil)."""

from __future__ import annotations

import ape
import pytest
from conftest import BOND, POOL, STAKE, batch_salt, task_config
from eth_abi import encode
from eth_utils import keccak

RECORD_TYPE = "(uint256,uint32,bytes32,address,uint32,uint32,bytes32,bytes32,string,address,bytes32)"


def salt_of(account, round_: int) -> bytes:
    return keccak(text=f"salt {account.address} {round_}")


def mine_to(chain, block: int) -> None:
    if chain.blocks.height < block:
        chain.mine(block - chain.blocks.height)


def aggregate(proofs, name: str, accepted) -> tuple:
    """A proven aggregate of the fixtures (`ab`: the FedAvg of models a and b, in
    that order; `a_alone`: model a alone) over the `accepted` clients."""
    a = proofs.aggregates[name]
    return (
        a.model_hash,
        "bafkreimodel1",
        [c.address for c in accepted],
        a.proof,
        a.instances,
    )


def submission(proofs, name: str, salt: bytes, **changes):
    p = proofs.by_name[name]
    s = {
        "proof": p.proof,
        "instances": [p.correct],
        "claimedCorrect": p.correct,
        "salt": salt,
        "sealedWeightsCid": "bafkreisealed",
    }
    s.update(changes)
    return tuple(s.values())


@pytest.fixture
def task(chain, zkpot, publisher, aggregator, clients, proofs):
    """A two-round task with every client registered, at the start of round 1."""
    receipt = zkpot.createTask(
        task_config(aggregator, proofs), sender=publisher, value=POOL + BOND
    )
    task_id = receipt.events[0].taskId
    for c in clients:
        zkpot.register(task_id, sender=c, value=STAKE)
    mine_to(chain, zkpot.getTask(task_id).startBlock)
    return task_id


def commit(zkpot, task_id, client, proofs, name: str) -> None:
    round_ = zkpot.getTask(task_id).currentRound
    weights_hash = proofs.by_name[name].weights_hash
    commitment = zkpot.commitmentOf(
        client.address, task_id, round_, weights_hash, salt_of(client, round_)
    )
    zkpot.commit(task_id, round_, commitment, sender=client)


def submit(zkpot, task_id, client, proofs, name: str, **changes):
    round_ = zkpot.getTask(task_id).currentRound
    return zkpot.submitProof(
        task_id,
        round_,
        submission(proofs, name, salt_of(client, round_), **changes),
        sender=client,
    )


def to_proof_phase(chain, zkpot, task_id, proofs, publisher) -> None:
    """Past the commit phase, the publisher reveals the round's batch."""
    round_ = zkpot.getTask(task_id).currentRound
    mine_to(chain, zkpot.getRound(task_id, round_).commitEnd + 1)
    zkpot.revealBatch(
        task_id,
        round_,
        proofs.batch,
        batch_salt(round_),
        "bafkreibatch",
        sender=publisher,
    )


def to_aggregate_phase(chain, zkpot, task_id) -> None:
    t = zkpot.getTask(task_id)
    mine_to(chain, zkpot.getRound(task_id, t.currentRound).proofEnd + 1)


def test_a_task_from_creation_to_payout(
    chain, zkpot, task, publisher, aggregator, clients, proofs
):
    a, b, lazy = clients[0], clients[1], clients[2]
    # Round 1: a and b prove; the aggregator publishes; both claim their rewards.
    commit(zkpot, task, a, proofs, "a")
    commit(zkpot, task, b, proofs, "b")
    to_proof_phase(chain, zkpot, task, proofs, publisher)
    receipt = submit(zkpot, task, a, proofs, "a")
    verified = receipt.decode_logs(zkpot.ContributionVerified)[0]
    assert verified.client == a.address and verified.accepted
    assert verified.correct == proofs.by_name["a"].correct
    submit(zkpot, task, b, proofs, "b")
    to_aggregate_phase(chain, zkpot, task)
    closed = zkpot.closeRound(task, [], sender=lazy).decode_logs(zkpot.RoundClosed)[0]
    assert closed.leader == a.address  # a's count (6) beats b's (2)
    zkpot.publishGlobalModel(
        task, 1, aggregate(proofs, "ab", [a, b]), sender=aggregator
    )
    round1 = zkpot.getRound(task, 1)
    zkpot.claimReward(task, 1, sender=a)
    zkpot.claimReward(task, 1, sender=b)
    assert zkpot.creditOf(a) == round1.contributorReward + round1.leaderBonus
    assert zkpot.creditOf(b) == round1.contributorReward

    # Round 2: lazy commits and, the batch revealed, never proves; anyone slashes
    # it; nothing accepted.
    commit(zkpot, task, lazy, proofs, "a_twin")
    to_proof_phase(chain, zkpot, task, proofs, publisher)
    to_aggregate_phase(chain, zkpot, task)
    slashed = zkpot.slashMissedProof(task, lazy, sender=a)
    assert slashed.decode_logs(zkpot.ClientSlashed)[0].amount == STAKE // 2
    completed = zkpot.closeRound(task, [], sender=a).decode_logs(zkpot.TaskCompleted)
    assert len(completed) == 1 and zkpot.phase(task) == 9  # Phase.Completed

    # Stakes come back (less the penalty); credits are withdrawn in full.
    for c in clients:
        zkpot.releaseStake(task, sender=c)
    assert zkpot.creditOf(lazy) == STAKE - STAKE // 2
    for account in [publisher, *clients]:
        credit = zkpot.creditOf(account)
        before = account.balance
        receipt = zkpot.withdraw(sender=account)
        assert account.balance == before + credit - receipt.total_fees_paid
    assert zkpot.balance == 0


def test_the_record_chain_rebuilds_from_events(
    chain, zkpot, task, aggregator, clients, proofs, publisher
):
    commit(zkpot, task, clients[0], proofs, "a")
    to_proof_phase(chain, zkpot, task, proofs, publisher)
    submit(zkpot, task, clients[0], proofs, "a")
    to_aggregate_phase(chain, zkpot, task)
    zkpot.publishGlobalModel(
        task, 1, aggregate(proofs, "a_alone", [clients[0]]), sender=aggregator
    )
    to_aggregate_phase(chain, zkpot, task)
    zkpot.closeRound(task, [], sender=clients[1])  # round 2: nothing, task completes

    logs = [
        log
        for page in zkpot.RoundRecorded.range(
            0, chain.blocks.height + 1, search_topics={"taskId": task}
        )
        for log in (page if isinstance(page, list) else [page])
    ]
    prev = b"\x00" * 32
    accepted = []
    for number, log in enumerate(logs):
        # ape decodes the struct as a list, in field order (see RECORD_TYPE)
        fields = [bytes(v) if isinstance(v, bytes) else v for v in log.record]
        task_id, round_, prev_hash, *_ = fields
        digest = keccak(encode([RECORD_TYPE], [fields]))
        assert (task_id, round_, prev_hash) == (task, number, prev)
        assert digest == bytes(log.recordHash) == bytes(zkpot.recordHash(task, number))
        accepted.append(fields[5])
        prev = digest
    assert prev == bytes(zkpot.getTask(task).headRecord)
    assert accepted == [0, 1, 0]


def test_cheating_submissions_revert_with_named_errors(
    chain, zkpot, task, clients, proofs, publisher
):
    honest, thief = clients[0], clients[1]
    commit(zkpot, task, honest, proofs, "a")
    commit(zkpot, task, thief, proofs, "b")
    to_proof_phase(chain, zkpot, task, proofs, publisher)

    tampered = bytearray(proofs.by_name["a"].proof)
    tampered[200] ^= 1  # past the weights and batch commitments
    with ape.reverts(zkpot.ZKPoTProofRejected):
        submit(zkpot, task, honest, proofs, "a", proof=bytes(tampered))
    with ape.reverts(zkpot.ZKPoTClaimMismatch):
        submit(zkpot, task, honest, proofs, "a", claimedCorrect=8)
    # The thief replays the honest client's submission, salt and all.
    stolen = submission(proofs, "a", salt_of(honest, 1))
    with ape.reverts(zkpot.ZKPoTCommitmentMismatch):
        zkpot.submitProof(task, 1, stolen, sender=thief)
    assert not zkpot.getContribution(task, 1, thief).submitted
    submit(zkpot, task, honest, proofs, "a")
    with ape.reverts(zkpot.ZKPoTAlreadySubmitted):
        submit(zkpot, task, honest, proofs, "a")
    assert zkpot.getRound(task, 1).acceptedCount == 1


def test_an_absent_aggregator_is_slashed_and_the_round_moves_on(
    chain, zkpot, task, clients, proofs, publisher
):
    commit(zkpot, task, clients[0], proofs, "a")
    to_proof_phase(chain, zkpot, task, proofs, publisher)
    submit(zkpot, task, clients[0], proofs, "a")
    to_aggregate_phase(chain, zkpot, task)
    zkpot.closeRound(task, [], sender=clients[1])
    with ape.reverts(zkpot.ZKPoTAggregationNotOverdue):
        zkpot.finalizeWithoutAggregator(task, sender=clients[1])
    mine_to(chain, zkpot.getRound(task, 1).aggregateEnd + 1)
    share = zkpot.getRound(task, 1).contributorReward
    zkpot.finalizeWithoutAggregator(task, sender=clients[1])
    t = zkpot.getTask(task)
    assert t.currentRound == 2
    assert bytes(t.globalModelHash) == b"\x07" * 32  # the initial model is kept
    # The one contribution whose work went unused gets the aggregator's penalty.
    assert zkpot.getRound(task, 1).contributorReward == share + BOND // 4


def test_cancelled_before_start_everyone_is_refunded(
    zkpot, publisher, aggregator, clients, proofs
):
    receipt = zkpot.createTask(
        task_config(aggregator, proofs), sender=publisher, value=POOL + BOND
    )
    task_id = receipt.events[0].taskId
    zkpot.register(task_id, sender=clients[0], value=STAKE)
    with ape.reverts(zkpot.ZKPoTNotPublisher):
        zkpot.cancelTask(task_id, sender=clients[0])
    zkpot.cancelTask(task_id, sender=publisher)
    with ape.reverts(zkpot.ZKPoTTaskNotActive):
        zkpot.register(task_id, sender=clients[1], value=STAKE)
    zkpot.releaseStake(task_id, sender=clients[0])
    assert zkpot.creditOf(publisher) == POOL + BOND
    assert zkpot.creditOf(clients[0]) == STAKE
