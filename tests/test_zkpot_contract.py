"""The ZKPoT contract with real ezkl proofs, on eth-tester and on anvil.

Every rejection is checked to revert with its named custom error and to record
nothing: no contribution stored, no event emitted, no acceptance counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from conftest import Deployment, open_task
from tiny import SCALE, TINY_SPEC, ProvenModel, proven
from web3.logs import DISCARD

from zkpot_client.chain.backend import dev_accounts
from zkpot_client.chain.contracts import (
    ZKPoTContract,
    commitment_of,
    new_salt,
    verifier_at,
    verify_on_chain,
)
from zkpot_client.chain.events import ZERO_ADDRESS, round_outcomes
from zkpot_client.chain.records import (
    expected_tie_break_seed,
    tie_break_key,
    verify_record_chain,
)
from zkpot_client.circuit.aggregation import fedavg_fixed
from zkpot_client.circuit.commitment import weights_hash
from zkpot_client.circuit.keys import vka_digest
from zkpot_client.exceptions import (
    ContractRevertError,
    RecordChainError,
    ZKPoTValueError,
)
from zkpot_client.roles.client import Client
from zkpot_client.roles.watcher import Watcher
from zkpot_client.storage import LocalDirStore
from zkpot_client.summary import rounds_json, summarise_task
from zkpot_client.types import Phase, TaskConfig, TaskTerms


def assert_nothing_recorded_for(d: Deployment, account) -> None:
    c = d.zkpot.contribution(d.task.task_id, 1, account.address)
    assert not c.submitted and c.correct == 0 and not c.accepted
    logs = d.zkpot.contract.events.ContributionVerified().get_logs(from_block=0)
    assert [log for log in logs if log["args"]["client"] == account.address] == []


def assert_nothing_recorded(d: Deployment, account) -> None:
    assert_nothing_recorded_for(d, account)
    assert d.zkpot.round(d.task.task_id, 1).accepted_count == 0


@contextmanager
def reverts(name: str, **args: object) -> Iterator[None]:
    """Expect a revert with custom error `name` whose arguments include `args`."""
    with pytest.raises(ContractRevertError) as err:
        yield
    assert err.value.name == name, str(err.value)
    got = {k: err.value.error_args.get(k) for k in args}
    assert got == args, f"{name}: {err.value.error_args}"


def round_one_then_global_model(d: Deployment, tiny, *contributions) -> ProvenModel:
    """Accounts 1, 2, ... contribute `contributions` in round 1 and the aggregator
    publishes their proven FedAvg; returns that global model, proven on round 2's
    batch."""
    entries = list(zip(d.accounts[1:], contributions, strict=False))
    d.contribute_all(entries)
    d.to_aggregate_phase()
    d.publish_average(entries)
    model = fedavg_fixed([p.weights for p in contributions], SCALE)
    return proven(tiny, model, round_=2)


# ---------------------------------------------------------------- accepted path
def test_accepts_a_valid_proof_and_records_the_verified_count(
    deployment: Deployment, proven_a
) -> None:
    d, client = deployment, deployment.accounts[1]
    receipt = d.contribute(client, proven_a)
    (event,) = d.zkpot.contract.events.ContributionVerified().process_receipt(
        receipt, errors=DISCARD
    )
    assert event["args"]["client"] == client.address
    assert event["args"]["correct"] == proven_a.proof.correct
    assert (
        int.from_bytes(event["args"]["weightsHash"], "big")
        == proven_a.proof.weights_hash
    )
    assert event["args"]["accepted"] == (proven_a.proof.correct >= d.task.min_correct)
    stored = d.zkpot.contribution(d.task.task_id, 1, client.address)
    assert stored.submitted and stored.correct == proven_a.proof.correct
    assert 1_000_000 < receipt["gasUsed"] < 3_000_000


def test_elects_the_highest_verified_count_as_leader(
    deployment: Deployment, proven_a, proven_b
) -> None:
    d = deployment
    a, b = d.accounts[1], d.accounts[2]
    d.contribute_all([(a, proven_a), (b, proven_b)])
    with reverts(
        "ZKPoTRoundNotOver",
        taskId=d.task_id,
        round=1,
        endsAt=d.zkpot.round(d.task_id, 1).proof_end,
    ):
        d.zkpot.close_round(d.accounts[3], d.task.task_id)
    d.to_aggregate_phase()
    receipt = d.zkpot.close_round(d.accounts[3], d.task.task_id)  # anyone may close
    (closed,) = d.zkpot.contract.events.RoundClosed().process_receipt(
        receipt, errors=DISCARD
    )
    ca, cb = proven_a.proof.correct, proven_b.proof.correct
    seed = closed.args["tieBreakSeed"]
    expected = min(
        [(a.address, ca), (b.address, cb)],
        key=lambda e: (-e[1], tie_break_key(seed, e[0])),
    )[0]
    assert closed.args["leader"] == expected
    assert closed.args["leaderCorrect"] == max(ca, cb)
    assert closed.args["acceptedCount"] == 2


def test_a_tie_goes_to_the_lower_key_under_the_commit_end_block_hash(
    deployment: Deployment, proven_a, proven_a_twin
) -> None:
    """No client can choose the tie-break: the seed comes from the hash of the
    round's commit-end block, unknown when addresses and weights were fixed."""
    d = deployment
    assert proven_a.proof.correct == proven_a_twin.proof.correct
    assert proven_a.proof.weights_hash != proven_a_twin.proof.weights_hash
    x, y = d.accounts[1], d.accounts[2]
    salts = {
        x.address: d.commit(x, proven_a.proof.weights_hash),
        y.address: d.commit(y, proven_a_twin.proof.weights_hash),
    }
    models = {x.address: proven_a, y.address: proven_a_twin}
    d.to_proof_phase()
    # Once the commit end is mined the seed is known: the loser submits first, so
    # that the order of submissions cannot be what decides the tie.
    seed = expected_tie_break_seed(d.zkpot, d.task_id, 1, d.chain.block_number + 1)
    winner, loser = sorted([x, y], key=lambda a: tie_break_key(seed, a.address))
    for account in (loser, winner):
        d.submit(account, models[account.address], salts[account.address])
    assert d.zkpot.round(d.task_id, 1).tie_break_seed == seed
    d.to_aggregate_phase()
    d.zkpot.close_round(d.publisher, d.task.task_id)
    assert d.zkpot.round(d.task.task_id, 1).leader == winner.address
    d.publish_average(
        [(loser, models[loser.address]), (winner, models[winner.address])]
    )
    assert verify_record_chain(d.zkpot, d.task_id)[1].leader == winner.address


def test_rejects_the_same_model_submitted_twice_in_a_round(
    deployment: Deployment, proven_a
) -> None:
    d = deployment
    first, second = d.accounts[1], d.accounts[2]
    salt_first = d.commit(first, proven_a.proof.weights_hash)
    salt_second = d.commit(
        second, proven_a.proof.weights_hash
    )  # had the same weights somehow
    d.to_proof_phase()
    d.submit(first, proven_a, salt_first)
    with reverts(
        "ZKPoTDuplicateModel",
        taskId=d.task_id,
        round=1,
        weightsHash=proven_a.proof.weights_hash.to_bytes(32, "big"),
    ):
        d.submit(second, proven_a, salt_second)
    assert_nothing_recorded_for(d, second)


def test_a_proof_below_the_threshold_verifies_but_is_not_accepted(
    chain, verifier, tiny, proven_a
) -> None:
    d = open_task(chain, verifier, tiny, min_correct=proven_a.proof.correct + 1)
    client = d.accounts[1]
    d.contribute(client, proven_a)
    d.to_aggregate_phase()
    d.zkpot.close_round(d.publisher, d.task.task_id)
    r = d.zkpot.round(d.task.task_id, 1)
    assert (
        r.accepted_count == 0
        and r.leader == "0x0000000000000000000000000000000000000000"
    )
    assert d.zkpot.contribution(d.task.task_id, 1, client.address).submitted


# ---------------------------------------------------------------- rejections
def test_rejects_a_tampered_proof(deployment: Deployment, proven_a) -> None:
    d, client = deployment, deployment.accounts[1]
    salt = d.commit(client, proven_a.proof.weights_hash)
    d.to_proof_phase()
    tampered = bytearray(proven_a.proof.proof)
    tampered[200] ^= 0x01
    bad = replace(proven_a.proof, proof=bytes(tampered))
    with reverts("ZKPoTProofRejected"):
        d.zkpot.submit_proof(
            client,
            d.task.task_id,
            1,
            bad,
            salt=salt,
            sealed_weights_cid="x",
        )
    assert_nothing_recorded(d, client)


def test_rejects_a_proof_made_for_another_tasks_circuit(
    deployment: Deployment, proven_other
) -> None:
    d, client = deployment, deployment.accounts[1]
    salt = d.commit(client, proven_other.proof.weights_hash)
    d.to_proof_phase()
    # Under this task's key it is refused: it was not made on the round's batch.
    # Every proof is verified under the task's own key, kept by the contract: no
    # submission can name another.
    with reverts("ZKPoTWrongBatch", taskId=d.task_id, round=1):
        d.submit(client, proven_other, salt)
    assert_nothing_recorded(d, client)


def test_rejects_a_claim_that_differs_from_the_proven_count(
    deployment: Deployment, proven_a
) -> None:
    d, client = deployment, deployment.accounts[1]
    salt = d.commit(client, proven_a.proof.weights_hash)
    d.to_proof_phase()
    claim = proven_a.proof.correct + 1
    with pytest.raises(ContractRevertError) as err:
        d.submit(client, proven_a, salt, claimed_correct=claim)
    assert err.value.name == "ZKPoTClaimMismatch"
    assert err.value.error_args == {"claimed": claim, "proven": proven_a.proof.correct}
    # Raising the public count itself breaks the proof.
    forged = (proven_a.proof.correct + 1,)
    with reverts("ZKPoTProofRejected", taskId=d.task_id, client=client.address):
        d.submit(client, proven_a, salt, claimed_correct=forged[0], instances=forged)
    assert_nothing_recorded(d, client)


def test_rejects_a_proof_replayed_by_another_account(
    deployment: Deployment, proven_a, proven_b
) -> None:
    d = deployment
    victim, thief, lazy = d.accounts[1], d.accounts[2], d.accounts[3]
    victim_salt = d.commit(victim, proven_a.proof.weights_hash)
    d.commit(
        thief, proven_b.proof.weights_hash
    )  # the thief commits to a model of its own
    d.to_proof_phase()
    # The thief replays the victim's proof and salt (seen in the mempool).
    with pytest.raises(ContractRevertError) as err:
        d.submit(thief, proven_a, victim_salt)
    assert err.value.name == "ZKPoTCommitmentMismatch"
    assert err.value.error_args["client"] == thief.address
    # An account that never committed cannot submit at all.
    with reverts("ZKPoTNoCommitment", taskId=d.task_id, round=1, client=lazy.address):
        d.submit(lazy, proven_a, victim_salt)
    assert_nothing_recorded(d, thief)
    assert_nothing_recorded(d, lazy)
    # The victim's own submission still goes through.
    d.submit(victim, proven_a, victim_salt)


def test_rejects_a_commitment_copied_by_another_account(
    deployment: Deployment, proven_a
) -> None:
    d = deployment
    victim, copier = d.accounts[1], d.accounts[2]
    salt = new_salt()
    victim_commitment = commitment_of(
        victim.address, d.task.task_id, 1, proven_a.proof.weights_hash, salt
    )
    d.zkpot.commit(victim, d.task.task_id, 1, victim_commitment)
    d.zkpot.commit(
        copier, d.task.task_id, 1, victim_commitment
    )  # copied from the Committed event
    d.to_proof_phase()
    with reverts(
        "ZKPoTCommitmentMismatch", client=copier.address, expected=victim_commitment
    ):
        d.submit(copier, proven_a, salt)
    assert_nothing_recorded(d, copier)


def test_rejects_submissions_outside_the_proof_window_and_twice(
    deployment: Deployment, proven_a
) -> None:
    d, client = deployment, deployment.accounts[1]
    salt = d.commit(client, proven_a.proof.weights_hash)
    schedule = d.zkpot.round(d.task_id, 1)
    window = {"opensAt": schedule.commit_end + 1, "closesAt": schedule.proof_end}
    with reverts("ZKPoTNotInProofPhase", **window):  # the window has not opened yet
        d.submit(client, proven_a, salt)
    assert_nothing_recorded(d, client)
    d.to_proof_phase()
    with reverts(  # and commits are over
        "ZKPoTNotInCommitPhase",
        opensAt=schedule.open_block,
        closesAt=schedule.commit_end,
    ):
        d.zkpot.commit(d.accounts[2], d.task.task_id, 1, b"\x02" * 32)
    d.submit(client, proven_a, salt)
    with reverts("ZKPoTAlreadySubmitted", round=1, client=client.address):
        d.submit(client, proven_a, salt)
    assert (
        len(d.zkpot.contract.events.ContributionVerified().get_logs(from_block=0)) == 1
    )


def test_rejects_a_submission_after_the_window_closes(
    deployment: Deployment, proven_a
) -> None:
    d, client = deployment, deployment.accounts[1]
    salt = d.commit(client, proven_a.proof.weights_hash)
    d.to_aggregate_phase()
    with reverts("ZKPoTNotInProofPhase"):
        d.submit(client, proven_a, salt)
    assert_nothing_recorded(d, client)


def test_rejects_a_submission_to_an_unknown_task(
    deployment: Deployment, proven_a
) -> None:
    d, client = deployment, deployment.accounts[1]
    with pytest.raises(ContractRevertError) as err:
        d.zkpot.submit_proof(
            client,
            999,
            1,
            proven_a.proof,
            salt=b"\x00" * 32,
            sealed_weights_cid="x",
        )
    assert err.value.name == "ZKPoTUnknownTask" and err.value.error_args == {
        "taskId": 999
    }
    with reverts("ZKPoTUnknownTask", taskId=999):
        d.zkpot.commit(client, 999, 1, b"\x01" * 32)
    assert_nothing_recorded(d, client)


def test_rejects_a_commitment_twice_and_a_wrong_round(deployment: Deployment) -> None:
    d, client = deployment, deployment.accounts[1]
    d.zkpot.commit(client, d.task.task_id, 1, b"\x01" * 32)
    with reverts("ZKPoTAlreadyCommitted", round=1, client=client.address):
        d.zkpot.commit(client, d.task.task_id, 1, b"\x02" * 32)
    with reverts("ZKPoTEmptyCommitment", client=d.accounts[2].address):
        d.zkpot.commit(d.accounts[2], d.task.task_id, 1, b"\x00" * 32)
    with reverts("ZKPoTWrongRound", round=2, currentRound=1):
        d.zkpot.commit(d.accounts[2], d.task.task_id, 2, b"\x01" * 32)


def test_a_whole_task_pays_rewards_slashes_and_chains_its_records(
    deployment: Deployment, proven_a, proven_b
) -> None:
    """Two rounds through the client library: rewards, a missed proof slashed, the
    task completed, everyone paid out, and the record chain rebuilt from events."""
    d = deployment
    a, b, idle = d.accounts[1], d.accounts[2], d.accounts[3]
    balance_before = d.chain.w3.eth.get_balance(d.zkpot.address)

    # Round 1: a and b prove; only the aggregator publishes, in the aggregate phase.
    salt_a = d.commit(a, proven_a.proof.weights_hash)
    salt_b = d.commit(b, proven_b.proof.weights_hash)
    with reverts("ZKPoTNotInAggregatePhase"):
        d.publish_average([(a, proven_a), (b, proven_b)], round_=1)
    d.to_proof_phase()
    d.submit(a, proven_a, salt_a)
    d.submit(b, proven_b, salt_b)
    d.to_aggregate_phase()
    with reverts("ZKPoTNotAggregator", taskId=d.task_id, caller=a.address):
        d.publish_average([(a, proven_a), (b, proven_b)], account=a)
    d.zkpot.close_round(idle, d.task_id)  # anyone may close
    d.publish_average([(a, proven_a), (b, proven_b)])
    average = fedavg_fixed([proven_a.weights, proven_b.weights], SCALE)
    record = verify_record_chain(d.zkpot, d.task_id)[1]
    assert record.global_model_hash == weights_hash(average, d.circuit).to_bytes(
        32, "big"
    )
    assert record.aggregation_proof_hash != bytes(32)

    # Round 2: idle commits and, the batch revealed, never proves; nothing
    # accepted keeps the model.
    d.commit(idle, proven_a.proof.weights_hash)
    d.reveal()
    d.to_aggregate_phase()
    d.zkpot.slash_missed_proof(a, d.task_id, idle.address)
    d.zkpot.close_round(a, d.task_id)
    assert d.zkpot.phase(d.task_id) == Phase.COMPLETED

    records = verify_record_chain(d.zkpot, d.task_id)
    assert [r.round for r in records] == [0, 1, 2]
    assert records[1].accepted_count == 2 and records[2].accepted_count == 0
    assert records[2].global_model_hash == records[1].global_model_hash
    assert records[2].aggregator == ZERO_ADDRESS

    # Rewards: round 1 took half the pool (2 rounds); the slashed stake and the
    # unspent half went back to the publisher with the bond at completion.
    terms = d.task.terms
    r1 = d.zkpot.round(d.task_id, 1)
    leader = r1.leader
    paid = {}
    for account in (a, b):
        d.zkpot.claim_reward(account, d.task_id, 1)
        paid[account.address] = d.zkpot.credit_of(account.address)
    assert paid[leader] == r1.contributor_reward + r1.leader_bonus
    assert sum(paid.values()) <= d.task.reward_pool // 2
    refund = d.task.reward_pool - sum(paid.values()) + terms.aggregator_bond
    assert d.zkpot.credit_of(d.publisher.address) == refund + terms.missed_proof_penalty

    # Everyone leaves: the contract ends empty. Idle paid for its missed proof;
    # accounts 4 and 5, which never proved, forfeit their registration bond.
    for account in d.accounts[1:]:
        d.zkpot.release_stake(account, d.task_id)
    assert (
        d.zkpot.credit_of(idle.address) == terms.min_stake - terms.missed_proof_penalty
    )
    for never in d.accounts[4:]:
        assert (
            d.zkpot.credit_of(never.address)
            == terms.min_stake - terms.missed_proof_penalty
        )
    assert d.zkpot.credit_of(d.publisher.address) == (
        refund + 3 * terms.missed_proof_penalty
    )
    for account in d.accounts:
        d.zkpot.withdraw(account)
    assert d.chain.w3.eth.get_balance(d.zkpot.address) == balance_before - (
        d.task.reward_pool + terms.aggregator_bond + 5 * terms.min_stake
    )
    with reverts("ZKPoTNothingToWithdraw", account=a.address):
        d.zkpot.withdraw(a)


def test_an_aggregator_that_misses_its_deadline_is_slashed_and_the_model_kept(
    deployment: Deployment, proven_a
) -> None:
    d, client = deployment, deployment.accounts[1]
    d.contribute(client, proven_a)
    d.to_aggregate_phase()
    d.zkpot.close_round(client, d.task_id)
    with reverts(
        "ZKPoTAggregationNotOverdue",
        round=1,
        aggregateEnd=d.zkpot.round(d.task_id, 1).aggregate_end,
    ):
        d.zkpot.finalize_without_aggregator(client, d.task_id)
    d.past_aggregate_deadline()
    assert d.zkpot.phase(d.task_id) == Phase.AGGREGATION_OVERDUE
    closed = d.zkpot.round(d.task_id, 1)
    share = closed.contributor_reward + closed.leader_bonus  # it also leads
    d.zkpot.finalize_without_aggregator(client, d.task_id)
    t = d.zkpot.task(d.task_id)
    terms = d.task.terms
    assert t.aggregator_bond == terms.aggregator_bond - terms.aggregator_penalty
    # The one contribution whose work went unused gets the penalty, and a reader of
    # events alone (the client library, `zkpot watch`) reports what it is paid.
    (outcome,) = round_outcomes(d.zkpot, d.task_id, only_round=1)
    reported = outcome.contributor_reward + outcome.leader_bonus
    (summary,) = summarise_task(d.zkpot, d.task_id, d.task.eval_samples, only_round=1)
    (watched,) = Watcher.of(d.zkpot, d.task_id).finalised_rounds()[:1]
    (in_json,) = rounds_json([summary])[0]["contributions"]
    d.zkpot.claim_reward(client, d.task_id, 1)
    paid = d.zkpot.credit_of(client.address)
    assert paid == share + terms.aggregator_penalty
    assert reported == paid
    assert summary.contributions[0].reward_wei == paid  # the run's summary
    assert in_json["reward_wei"] == paid  # its JSON
    assert watched.contributions[0].reward_wei == paid  # zkpot watch
    record = verify_record_chain(d.zkpot, d.task_id)[1]
    assert record.aggregator == ZERO_ADDRESS and record.leader == client.address
    assert int.from_bytes(record.global_model_hash, "big") == d.task.initial_model_hash


def test_a_tampered_event_log_fails_the_record_check(
    deployment: Deployment, proven_a, monkeypatch
) -> None:
    d, client = deployment, deployment.accounts[1]
    d.contribute(client, proven_a)
    d.to_aggregate_phase()
    d.publish_average([(client, proven_a)])
    verify_record_chain(d.zkpot, d.task_id)
    # A reader served a log in which the leader's count was inflated notices.
    from zkpot_client.chain import records

    real = records.contributions

    def inflated(*args, **kwargs):
        return [replace(c, correct=c.correct + 1) for c in real(*args, **kwargs)]

    monkeypatch.setattr(records, "contributions", inflated)
    with pytest.raises(RecordChainError, match="contributions root"):
        verify_record_chain(d.zkpot, d.task_id)


def test_a_proof_can_be_checked_on_chain_before_staking(
    chain, verifier, tiny, other_tiny, proven_a
) -> None:
    """A client checks that the task's key accepts its proof, by a call, before it
    stakes anything a key mismatch could make it lose."""
    words = tiny.artifacts.vka_words()
    zkpot = ZKPoTContract.deploy(chain, dev_accounts(1)[0], verifier)
    zkpot.register_circuit(dev_accounts(1)[0], words)
    assert verify_on_chain(chain, verifier, proven_a.proof, words)
    tampered = bytearray(proven_a.proof.proof)
    tampered[300] ^= 1
    bad = replace(proven_a.proof, proof=bytes(tampered))
    assert not verify_on_chain(chain, verifier, bad, words)
    other = other_tiny.artifacts.vka_words()
    zkpot.register_circuit(dev_accounts(1)[0], other)
    assert not verify_on_chain(chain, verifier, proven_a.proof, other)


def test_registration_and_cancellation(chain, verifier, tiny) -> None:
    d = open_task(chain, verifier, tiny)
    late = dev_accounts(7)[6]
    with reverts("ZKPoTRegistrationClosed", startBlock=d.task.start_block):
        d.zkpot.register(late, d.task_id, d.task.terms.min_stake)
    # Not registered, cannot commit.
    with reverts("ZKPoTNotEligible", client=late.address, stake=0):
        d.zkpot.commit(late, d.task_id, 1, b"\x01" * 32)
    with reverts("ZKPoTRegistrationClosed"):
        d.zkpot.cancel_task(d.publisher, d.task_id)


def test_rejects_invalid_task_parameters(chain, verifier, tiny) -> None:
    d = open_task(chain, verifier, tiny)
    good = TaskConfig(
        vka_digest=b"\x01" * 32,
        aggregation_vka_digest=b"\x02" * 32,
        aggregator=d.publisher.address,
        aggregator_key=b"\x00" * 32,
        eval_samples=8,
        min_correct=4,
        num_rounds=2,
        initial_model_hash=1,
        initial_model_cid="cid",
        circuit_cid="cid",
    )
    for change, parameter in [
        ({"eval_samples": 0}, "evalSamples"),
        ({"min_correct": 9}, "minCorrect"),
        ({"num_rounds": 0}, "numRounds"),
        ({"terms": TaskTerms(min_stake=0)}, "minStake"),
        ({"terms": TaskTerms(missed_proof_penalty=0)}, "missedProofPenalty"),
        ({"circuit_cid": ""}, "circuitCid"),
    ]:
        with pytest.raises(ContractRevertError) as err:
            d.zkpot.create_task(d.publisher, replace(good, **change), reward_pool=0)
        assert (
            err.value.name == "ZKPoTInvalidTaskParameter"
            and err.value.error_args == {"parameter": parameter}
        )


def test_the_client_will_not_commit_to_weights_the_contract_would_refuse(
    deployment: Deployment, tiny, proven_a, proven_b, tmp_path
) -> None:
    """Committing to such weights could only end in a slash for a missed proof."""
    d = deployment
    global_model = round_one_then_global_model(d, tiny, proven_a, proven_b)
    client = Client(
        name="late",
        account=d.accounts[3],
        zkpot=d.zkpot,
        store=LocalDirStore(tmp_path),
        shard=tiny.data.shards[0],
        spec=TINY_SPEC,
        scale=SCALE,
        circuit=tiny.artifacts,
    )
    with pytest.raises(ZKPoTValueError, match="already submitted"):
        client.commit(d.task, 2, proven_a.weights)
    with pytest.raises(ZKPoTValueError, match="published global model"):
        client.commit(d.task, 2, global_model.weights)
    assert d.zkpot.contribution(
        d.task_id, 2, d.accounts[3].address
    ).commitment == bytes(32)


def test_refuses_a_task_on_a_circuit_never_registered(chain, verifier, tiny) -> None:
    d = open_task(chain, verifier, tiny)
    unknown = replace(
        d.task.config(),
        vka_digest=b"\x01" * 32,
    )
    with reverts("ZKPoTUnknownCircuit", vkaDigest=b"\x01" * 32):
        d.zkpot.create_task(d.publisher, unknown, reward_pool=0)


# ---------------------------------------------------------------- review findings
def test_a_lazy_client_handing_back_its_tasks_global_model_is_refused(
    deployment: Deployment, tiny, proven_a, proven_b
) -> None:
    d = deployment
    global_model = round_one_then_global_model(d, tiny, proven_a, proven_b)
    lazy = d.accounts[3]  # proves round 1's global model, unchanged, in round 2
    salt = d.commit(lazy, global_model.proof.weights_hash)
    d.to_proof_phase()
    with pytest.raises(ContractRevertError) as err:
        d.submit(lazy, global_model, salt)
    assert err.value.name == "ZKPoTStaleModel"
    assert err.value.error_args[
        "weightsHash"
    ] == global_model.proof.weights_hash.to_bytes(32, "big")


def test_refuses_a_proof_with_trailing_bytes(deployment: Deployment, proven_a) -> None:
    """ezkl's verifier ignores bytes after the proof; the contract holds every proof
    to its circuit's length, fixed when the circuit was registered."""
    d, client = deployment, deployment.accounts[1]
    length = len(proven_a.proof.proof)
    assert d.zkpot.task(d.task_id).proof_length == length
    assert verify_on_chain(
        d.chain,
        d.verifier,
        replace(proven_a.proof, proof=proven_a.proof.proof + b"\x00" * 32),
        d.task_vka,
    )  # the verifier alone would take it
    salt = d.commit(client, proven_a.proof.weights_hash)
    d.to_proof_phase()
    padded = replace(proven_a.proof, proof=proven_a.proof.proof + b"\x00" * 32)
    with pytest.raises(ContractRevertError) as err:
        d.zkpot.submit_proof(
            client, d.task_id, 1, padded, salt=salt, sealed_weights_cid="x"
        )
    assert err.value.name == "ZKPoTWrongProofLength"
    assert err.value.error_args["expected"] == length
    assert err.value.error_args["actual"] == length + 32
    assert_nothing_recorded(d, client)


def test_refuses_a_key_artefact_that_is_not_canonical(
    chain, verifier, tiny, proven_a
) -> None:
    """Word 6 of the artefact is read only modulo the scalar field: the same word plus
    the modulus gives a second digest under which every proof of the circuit
    verifies. ZKPoT refuses to register it, so a circuit has one digest."""
    words = tiny.artifacts.vka_words()
    scalar_field = (
        21888242871839275222246405745257275088548364400416034343698204186575808495617
    )
    twin = list(words)
    twin[6] = (int.from_bytes(words[6], "big") + scalar_field).to_bytes(32, "big")
    account = dev_accounts(1)[0]
    # On the verifier alone (anyone may register there) the twin accepts the proof.
    bare = verifier_at(chain, verifier).functions.registerVka(twin)
    chain.transact(account, bare)
    assert verify_on_chain(chain, verifier, proven_a.proof, twin)
    zkpot = ZKPoTContract.deploy(chain, account, verifier)
    with pytest.raises(ContractRevertError) as err:
        zkpot.register_circuit(account, twin)
    assert err.value.name == "ZKPoTNonCanonicalKeyArtefact"
    assert err.value.error_args["index"] == 6
    assert zkpot.contract.functions.circuitProofLength(vka_digest(twin)).call() == 0
    zkpot.register_circuit(account, words)
    assert zkpot.contract.functions.circuitProofLength(vka_digest(words)).call() == len(
        proven_a.proof.proof
    )
