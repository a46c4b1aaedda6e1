"""Per-round evaluation batches with real proofs, on eth-tester and on anvil: the
reveal, what the contract refuses around it, what a client refuses, and what a
missed reveal costs the publisher.

Every round of the test deployment is bound to the tiny task's round-1 batch
(each with its own salt); `proven_a_batch2` is model A proven on round 2's batch.
"""

from __future__ import annotations

import pytest
from conftest import Deployment
from test_zkpot_contract import assert_nothing_recorded, reverts
from tiny import TINY_SPEC, ProvenModel, TinyTask, proven, trained_weights
from web3.logs import DISCARD

from zkpot_client.circuit.batches import batch_digest
from zkpot_client.exceptions import BatchMismatchError
from zkpot_client.roles.batches import round_circuit
from zkpot_client.storage import LocalDirStore
from zkpot_client.types import Phase, RoundStatus


@pytest.fixture(scope="session")
def proven_a_batch2(tiny: TinyTask) -> ProvenModel:
    """Model A (the same weights as proven_a) proven on round 2's batch."""
    return proven(tiny, trained_weights(tiny, 0), round_=2)


def test_a_revealed_batch_is_announced_and_proofs_are_taken_on_it(
    deployment: Deployment, proven_a
) -> None:
    d, client = deployment, deployment.accounts[1]
    salt = d.commit(client, proven_a.proof.weights_hash)
    d.driver.advance_to(Phase.REVEAL)
    assert d.zkpot.phase(d.task_id) == Phase.REVEAL
    receipt = d.reveal()
    (event,) = d.zkpot.contract.events.BatchRevealed().process_receipt(
        receipt, errors=DISCARD
    )
    assert event["args"]["batchDigest"] == batch_digest(d.batch)
    assert event["args"]["batchCid"] == "bafkreibatch"
    state = d.zkpot.round(d.task_id, 1)
    assert state.revealed and state.batch_length == len(d.batch) == 64
    assert d.zkpot.phase(d.task_id) == Phase.PROVE  # proofs are taken at once
    d.submit(client, proven_a, salt)
    assert d.zkpot.contribution(d.task_id, 1, client.address).submitted


def test_a_proof_before_the_reveal_is_refused(deployment: Deployment, proven_a) -> None:
    d, client = deployment, deployment.accounts[1]
    salt = d.commit(client, proven_a.proof.weights_hash)
    d.driver.advance_to(Phase.REVEAL)
    with reverts("ZKPoTBatchNotRevealed", taskId=d.task_id, round=1):
        d.submit(client, proven_a, salt)
    assert_nothing_recorded(d, client)


def test_a_proof_on_another_rounds_batch_is_refused(
    deployment: Deployment, tiny, proven_a, proven_a_batch2
) -> None:
    """The same weights proven on round 2's batch: a valid proof, but not of this
    round's statement."""
    d, client = deployment, deployment.accounts[1]
    assert proven_a_batch2.proof.weights_hash == proven_a.proof.weights_hash
    assert proven_a_batch2.proof.proof[64:128] == tiny.commitment(2) != d.batch
    salt = d.commit(client, proven_a.proof.weights_hash)
    d.to_proof_phase()
    with reverts(
        "ZKPoTWrongBatch",
        taskId=d.task_id,
        round=1,
        expected=batch_digest(d.batch),
        actual=batch_digest(tiny.commitment(2)),
    ):
        d.submit(client, proven_a_batch2, salt)
    assert_nothing_recorded(d, client)
    d.submit(client, proven_a, salt)  # the same model on the round's batch


def test_a_reveal_that_does_not_open_its_commitment_is_refused(
    deployment: Deployment, tiny
) -> None:
    d = deployment
    d.driver.advance_to(Phase.REVEAL)
    expected = d.task.batch_commitments[0]
    for wrong in (
        {"salt": b"\x07" * 32},  # another salt
        {"commitment": tiny.commitment(2)},  # another batch
        {"cid": ""},  # nowhere to fetch it from
    ):
        with reverts(
            "ZKPoTBatchMismatch", taskId=d.task_id, round=1, expected=expected
        ):
            d.reveal(**wrong)
    assert not d.zkpot.round(d.task_id, 1).revealed
    d.reveal()
    with reverts("ZKPoTBatchAlreadyRevealed", taskId=d.task_id, round=1):
        d.reveal()


def test_a_reveal_outside_its_window_is_refused(deployment: Deployment) -> None:
    d = deployment
    schedule = d.zkpot.round(d.task_id, 1)
    window = {"opensAt": schedule.commit_end + 1, "closesAt": schedule.reveal_end}
    with reverts("ZKPoTNotInRevealWindow", **window):  # commitments still open
        d.zkpot.reveal_batch(
            d.publisher, d.task_id, 1, d.batch, d.batch_salts[0], "bafkreibatch"
        )
    d.driver.advance_to(Phase.PROVE)  # the window has passed
    with reverts("ZKPoTNotInRevealWindow", **window):
        d.reveal()
    with reverts("ZKPoTNotPublisher", taskId=d.task_id):
        d.reveal(account=d.accounts[1])


def test_a_client_refuses_a_batch_that_does_not_match_the_chain(
    deployment: Deployment, tiny, tmp_path
) -> None:
    """The publisher reveals round 1's commitment but stores round 2's batch under
    the CID: the client checks before proving and refuses."""
    d = deployment
    store = LocalDirStore(tmp_path / "store")
    wrong = store.put(tiny.definition.batches[1].to_bytes())
    d.driver.advance_to(Phase.REVEAL)
    d.reveal(cid=wrong)
    with pytest.raises(BatchMismatchError, match="refusing to prove on it"):
        round_circuit(
            d.zkpot, store, d.task, 1, tiny.artifacts, TINY_SPEC, cache=tmp_path
        )
    right = store.put(tiny.definition.batches[0].to_bytes())
    assert right != wrong


def test_a_missed_reveal_compensates_committed_clients_and_slashes_no_one(
    deployment: Deployment, proven_a, proven_b
) -> None:
    d = deployment
    committed = d.accounts[1:3]
    for account, p in zip(committed, (proven_a, proven_b), strict=True):
        d.commit(account, p.proof.weights_hash)
    d.driver.advance_to(Phase.REVEAL)
    schedule = d.zkpot.round(d.task_id, 1)
    with reverts("ZKPoTRoundNotOver", endsAt=schedule.reveal_end):
        d.zkpot.close_round(d.publisher, d.task_id)
    d.chain.advance_to(schedule.reveal_end + 1)
    assert d.zkpot.phase(d.task_id) == Phase.REVEAL_MISSED
    bond = d.zkpot.task(d.task_id).aggregator_bond
    receipt = d.zkpot.close_round(d.publisher, d.task_id)
    (event,) = d.zkpot.contract.events.RevealMissed().process_receipt(
        receipt, errors=DISCARD
    )
    each = min(d.task.terms.aggregator_penalty, bond) // 2
    assert event["args"]["each"] == each and event["args"]["penalty"] == 2 * each
    assert d.zkpot.task(d.task_id).aggregator_bond == bond - 2 * each
    state = d.zkpot.round(d.task_id, 1)
    assert state.status == RoundStatus.FINALIZED and state.contributor_reward == each
    # Round 2 opened on the initial model; nobody is slashed for the proof it could
    # not make, and the committed clients claim their compensation.
    task = d.zkpot.task(d.task_id)
    assert task.current_round == 2 and task.global_model_hash == (1).to_bytes(32, "big")
    for account in committed:
        with reverts("ZKPoTNoFault", client=account.address):
            d.zkpot.slash_missed_proof(d.publisher, d.task_id, account.address)
        before = d.zkpot.credit_of(account.address)
        d.zkpot.claim_reward(account, d.task_id, 1)
        assert d.zkpot.credit_of(account.address) == before + each
    with reverts("ZKPoTNoReward", client=d.accounts[3].address):
        d.zkpot.claim_reward(d.accounts[3], d.task_id, 1)  # never committed
