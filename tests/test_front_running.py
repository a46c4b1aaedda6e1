"""Front-running on a real mempool: anvil with automine off, so that pending
transactions wait together and the next block orders them by tip.

An attacker who sees an honest `submitProof` in the mempool learns the weights hash
it reveals, and can get a transaction of its own mined first in the same block. No
such transaction may void the honest proof: a global model (or a submission)
revealed after the round's commit end never makes a contribution stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from conftest import TEST_TERMS, Deployment, open_task
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from zkpot_client.chain.backend import AnvilNode, Chain, dev_accounts
from zkpot_client.chain.contracts import (
    commitment_of,
    config_struct,
    deploy_verifier,
    new_salt,
    submission_of,
)
from zkpot_client.circuit.batches import sealed_batch
from zkpot_client.types import ETHER, Phase, TaskConfig, TaskTerms

pytestmark = pytest.mark.anvil

GWEI = 10**9
HONEST_TIP = 1 * GWEI
ATTACKER_TIP = 50 * GWEI
FREE_TASK = TaskTerms(aggregator_bond=0, aggregator_penalty=0)
"""Terms of the attacker's task: no bond, no pool, so marking a hash costs only gas."""


@contextmanager
def mempool(chain: Chain) -> Iterator[None]:
    """Hold transactions in the mempool; mine them all in one block on exit."""
    chain.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        yield
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    finally:
        chain.w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]


def send_pending(
    chain: Chain,
    account: LocalAccount,
    call: Any,
    *,
    tip: int,
    gas: int = 4_000_000,
    value: int = 0,
) -> bytes:
    """Sign and send `call` with priority fee `tip`; return its hash without waiting."""
    base_fee = int(chain.w3.eth.get_block("latest")["baseFeePerGas"])
    tx = call.build_transaction(
        {
            "from": account.address,
            "value": value,
            "gas": gas,
            "nonce": chain.w3.eth.get_transaction_count(account.address, "pending"),
            "chainId": chain.w3.eth.chain_id,
            "maxPriorityFeePerGas": tip,
            "maxFeePerGas": 2 * base_fee + tip,
        }
    )
    return bytes(
        chain.w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    )


def pending_weights_hash(d: Deployment, tx_hash: bytes) -> bytes:
    """What a mempool watcher reads from a pending submitProof: the hash of the
    weights commitment the proof begins with."""
    tx = d.chain.w3.eth.get_transaction(tx_hash)
    _, params = d.zkpot.contract.decode_function_input(tx["input"])
    return keccak(bytes(params["submission"]["proof"])[:64])


def front_running_task(d: Deployment, attacker: LocalAccount, model_hash: bytes) -> Any:
    """createTask on the victim's circuit with `model_hash` as the initial model."""
    config = TaskConfig(
        vka_digest=d.task.vka_digest,
        aggregation_vka_digest=d.task.aggregation_vka_digest,
        aggregator=attacker.address,
        aggregator_key=bytes(32),
        eval_samples=d.task.eval_samples,
        min_correct=d.task.min_correct,
        num_rounds=1,
        initial_model_hash=int.from_bytes(model_hash, "big"),
        initial_model_cid="bafkqaaa",
        circuit_cid="bafkqaaa",
        batch_commitments=(new_salt(),),  # never revealed: the task is only a marker
        terms=FREE_TASK,
    )
    return d.zkpot.contract.functions.createTask(config_struct(config))


def honest_submission(d: Deployment, client: LocalAccount, proven, salt: bytes) -> Any:
    return d.zkpot.contract.functions.submitProof(
        d.task_id,
        d.current_round(),
        submission_of(proven.proof, salt=salt, sealed_weights_cid="bafkqaaa"),
    )


def deploy_on(node: AnvilNode, tiny, terms: TaskTerms = TEST_TERMS) -> Deployment:
    """A one-round task on the tiny circuit, on anvil."""
    verifier = deploy_verifier(node.chain, dev_accounts(1)[0])
    return open_task(node.chain, verifier, tiny, rounds=1, terms=terms)


@pytest.fixture
def anvil_deployment(anvil_node: AnvilNode, tiny) -> Deployment:
    return deploy_on(anvil_node, tiny)


def test_a_front_run_create_task_leaves_the_honest_proof_accepted(
    anvil_deployment: Deployment, proven_a
) -> None:
    d = anvil_deployment
    victim, attacker = d.accounts[1], d.accounts[5]
    salt = d.commit(victim, proven_a.proof.weights_hash)
    d.to_proof_phase()

    with mempool(d.chain):
        honest = send_pending(
            d.chain,
            victim,
            honest_submission(d, victim, proven_a, salt),
            tip=HONEST_TIP,
        )
        seen = pending_weights_hash(d, honest)
        attack = send_pending(
            d.chain, attacker, front_running_task(d, attacker, seen), tip=ATTACKER_TIP
        )
    r_attack = d.chain.w3.eth.get_transaction_receipt(attack)
    r_honest = d.chain.w3.eth.get_transaction_receipt(honest)

    # The attack did what it set out to do: mined first, same block, hash marked.
    assert r_attack["blockNumber"] == r_honest["blockNumber"]
    assert r_attack["transactionIndex"] < r_honest["transactionIndex"]
    assert r_attack["status"] == 1
    marked = d.zkpot.contract.functions.globalModelPublishedAt(d.task.vka_digest, seen)
    assert marked.call() == r_attack["blockNumber"]
    # ... and the honest proof stands all the same.
    assert r_honest["status"] == 1
    stored = d.zkpot.contribution(d.task_id, 1, victim.address)
    assert stored.submitted and stored.accepted
    assert stored.correct == proven_a.proof.correct


def test_a_publisher_voiding_its_own_clients_proofs_gains_nothing(
    anvil_deployment: Deployment, proven_a, proven_b
) -> None:
    """The publisher front-runs every proof of its one-round task with a task of its
    own marking the proof's hash: every proof is accepted all the same, and the
    publisher ends with the pool's remainder and its bond, not a wei of stake."""
    d = anvil_deployment
    clients = [(d.accounts[1], proven_a), (d.accounts[2], proven_b)]
    salts = [d.commit(c, p.proof.weights_hash) for c, p in clients]
    d.to_proof_phase()
    with mempool(d.chain):
        honest = [
            send_pending(d.chain, c, honest_submission(d, c, p, s), tip=HONEST_TIP)
            for (c, p), s in zip(clients, salts, strict=True)
        ]
        attacks = [
            send_pending(
                d.chain,
                d.publisher,
                front_running_task(d, d.publisher, pending_weights_hash(d, tx)),
                tip=ATTACKER_TIP,
            )
            for tx in honest
        ]
    receipts = [d.chain.w3.eth.get_transaction_receipt(tx) for tx in attacks + honest]
    assert all(r["status"] == 1 for r in receipts)
    assert max(r["transactionIndex"] for r in receipts[:2]) < min(
        r["transactionIndex"] for r in receipts[2:]
    )
    assert d.zkpot.round(d.task_id, 1).accepted_count == 2

    d.to_aggregate_phase()
    d.publish_average(clients)
    assert d.zkpot.phase(d.task_id) == Phase.COMPLETED
    paid = 0
    for client, _ in clients:
        d.zkpot.claim_reward(client, d.task_id, 1)
        d.zkpot.release_stake(client, d.task_id)
        paid += d.zkpot.credit_of(client.address) - d.task.terms.min_stake
    round_reward = d.task.reward_pool  # a one-round task pays its whole pool
    assert paid == round_reward - round_reward % 2  # division dust stays in the pool
    assert d.zkpot.credit_of(d.publisher.address) == (
        d.task.reward_pool - paid + d.task.terms.aggregator_bond
    )


def test_a_replay_in_another_task_before_the_honest_proof_is_mined_voids_nothing(
    anvil_node: AnvilNode, tiny, proven_a
) -> None:
    """An attacker whose own task is in its proof phase, and who committed to the
    victim's hash there (as it could if the victim's submission waited in the
    mempool for a block or more), replays the victim's proof in its task first: the
    victim's proof stands."""
    d = deploy_on(
        anvil_node, tiny, replace(TEST_TERMS, reveal_blocks=15, proof_blocks=30)
    )
    victim, attacker = d.accounts[1], d.accounts[5]
    salt = d.commit(victim, proven_a.proof.weights_hash)
    # The attacker's task on the same circuit, with the attacker as its only client
    # and publisher, bound to the same batch (public once revealed) with its own salt.
    terms = replace(
        FREE_TASK,
        registration_blocks=2,
        commit_blocks=3,
        reveal_blocks=3,
        proof_blocks=50,
    )
    batch_salt = new_salt()
    config = replace(
        d.task.config(),
        aggregator=attacker.address,
        terms=terms,
        batch_commitments=(sealed_batch(d.batch, batch_salt),),
    )
    other, _ = d.zkpot.create_task(attacker, config, reward_pool=ETHER)
    d.zkpot.register(attacker, other, terms.min_stake)
    attacker_salt = new_salt()
    start = d.zkpot.round(other, 1).open_block
    d.chain.advance_to(start)
    d.zkpot.commit(
        attacker,
        other,
        1,
        commitment_of(
            attacker.address, other, 1, proven_a.proof.weights_hash, attacker_salt
        ),
    )
    d.chain.advance_to(d.zkpot.round(other, 1).commit_end + 1)
    d.zkpot.reveal_batch(attacker, other, 1, d.batch, batch_salt, "bafkreibatch")
    d.to_proof_phase()
    assert d.zkpot.phase(other) == Phase.PROVE

    with mempool(d.chain):
        honest = send_pending(
            d.chain,
            victim,
            honest_submission(d, victim, proven_a, salt),
            tip=HONEST_TIP,
        )
        replay = send_pending(
            d.chain,
            attacker,
            d.zkpot.contract.functions.submitProof(
                other,
                1,
                submission_of(
                    proven_a.proof,
                    salt=attacker_salt,
                    sealed_weights_cid="x",
                ),
            ),
            tip=ATTACKER_TIP,
        )
    r_replay = d.chain.w3.eth.get_transaction_receipt(replay)
    r_honest = d.chain.w3.eth.get_transaction_receipt(honest)
    assert r_replay["transactionIndex"] < r_honest["transactionIndex"]
    assert r_replay["status"] == 1  # the replay got in first (a residual: see docs)
    assert r_honest["status"] == 1
    assert d.zkpot.contribution(d.task_id, 1, victim.address).accepted
