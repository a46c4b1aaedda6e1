"""Optimistic verification on anvil, with real proofs of the tiny circuit and an
honest verifier running as its own process (`zkpot watch --dispute`): a forged
claim is disputed and struck, a valid claim survives a griefer who loses the
bond, and with nobody disputing the round closes as an immediate one would."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import TEST_TERMS, Deployment, open_task
from eth_utils import keccak
from tiny import TINY_EVAL, TINY_SPEC, ProvenModel

from zkpot_client.chain.backend import AnvilNode, dev_accounts
from zkpot_client.chain.contracts import deploy_verifier
from zkpot_client.chain.records import verify_record_chain
from zkpot_client.circuit.package import publish_package
from zkpot_client.cli_options import command_line
from zkpot_client.storage import LocalDirStore
from zkpot_client.types import Phase

OPTIMISTIC_TERMS = replace(TEST_TERMS, dispute_blocks=6).verifying("optimistic")
VERIFIER_ACCOUNT = 6
"""The honest verifier's development account (clients are 1-5)."""


@pytest.fixture
def optimistic(anvil_node: AnvilNode, tiny, tmp_path: Path) -> Deployment:
    """An optimistic task on anvil whose circuit package is in the store at
    `tmp_path / "store"` (the honest process sets its circuit up from it)."""
    store = LocalDirStore(tmp_path / "store")
    package = publish_package(
        store, tiny.artifacts, TINY_SPEC, TINY_EVAL, development_srs=True
    )
    chain = anvil_node.chain
    return open_task(
        chain,
        deploy_verifier(chain, dev_accounts(1)[0]),
        tiny,
        terms=OPTIMISTIC_TERMS,
        circuit_cid=package,
    )


def claim_all(
    d: Deployment,
    store_dir: Path,
    entries: list[tuple[object, ProvenModel, int]],
    *,
    withheld: tuple[object, ...] = (),
) -> None:
    """Each account commits to its model; once the batch is revealed each claims
    the given count, its proof's bytes in the store at `store_dir` (those of the
    `withheld` accounts in a store of their own, which nobody else reads)."""
    shared = LocalDirStore(store_dir)
    private = LocalDirStore(store_dir.parent / "withheld")
    salts = [d.commit(a, p.proof.weights_hash) for a, p, _ in entries]
    d.reveal()
    for (account, proven, count), salt in zip(entries, salts, strict=True):
        store = private if account in withheld else shared
        d.zkpot.submit_claim(
            account,
            d.task_id,
            1,
            weights_hash=proven.proof.weights_hash,
            proof_hash=keccak(proven.proof.proof),
            claimed_correct=count,
            salt=salt,
            sealed_weights_cid="bafkqaaa",
            proof_cid=store.put(proven.proof.proof),
        )


@contextmanager
def honest_verifier(
    anvil_node: AnvilNode, d: Deployment, store: Path, log: Path
) -> Iterator[Callable[[], str]]:
    """`zkpot watch --dispute` on the task, in its own process; yields its log."""
    args = command_line(
        "watch",
        rpc=anvil_node.url,
        contract=d.zkpot.address,
        task_id=d.task_id,
        dispute=True,
        dev_account=VERIFIER_ACCOUNT,
        store_dir=store,
        poll=0.2,
    )
    with log.open("w") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield log.read_text
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def wait_for(done: Callable[[], bool], log: Callable[[], str], seconds: float = 180):
    """Wait until `done()`; the process logs an action just after it is mined."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"timed out; the verifier's log:\n{log()}"
        time.sleep(0.5)


def honest(account: object, proven: ProvenModel) -> tuple[object, ProvenModel, int]:
    """A claim of the count the proof proves."""
    return account, proven, proven.proof.correct


def forged_count(proven: ProvenModel) -> int:
    """A count the proof does not prove, within the batch."""
    c = proven.proof.correct
    return c + 1 if c < TINY_EVAL else c - 1


@pytest.mark.anvil
def test_a_forged_claim_is_disputed_by_an_honest_process_and_struck(
    anvil_node, optimistic, proven_a, proven_b, tmp_path
) -> None:
    d = optimistic
    cheat, good = d.accounts[1], d.accounts[2]
    claim_all(
        d,
        tmp_path / "store",
        [(cheat, proven_a, forged_count(proven_a)), honest(good, proven_b)],
    )
    stake = d.zkpot.member(d.task_id, cheat.address).stake
    verifier = dev_accounts(VERIFIER_ACCOUNT + 1)[VERIFIER_ACCOUNT].address
    with honest_verifier(anvil_node, d, tmp_path / "store", tmp_path / "v.log") as log:
        d.driver.advance_to(Phase.DISPUTE)
        wait_for(lambda: d.zkpot.contribution(d.task_id, 1, cheat.address).struck, log)
        wait_for(lambda: "1 claim(s) verified off chain" in log(), log)
    assert f"disputed (invalid proof): {cheat.address}" in log()
    assert d.zkpot.member(d.task_id, cheat.address).stake == 0
    bond = d.task.terms.dispute_bond
    assert d.zkpot.credit_of(verifier) == stake // 2 + bond
    # The honest claim was checked and left alone; the round elects from what stands.
    assert not d.zkpot.contribution(d.task_id, 1, good.address).struck
    d.driver.advance_to(Phase.AGGREGATE)
    d.zkpot.close_round(d.publisher, d.task_id)
    r = d.zkpot.round(d.task_id, 1)
    assert (r.leader, r.leader_correct, r.accepted_count) == (
        good.address,
        proven_b.proof.correct,
        1,
    )


@pytest.mark.anvil
def test_a_valid_claim_survives_a_griefer_who_loses_the_bond(
    anvil_node, optimistic, proven_a, proven_b, tmp_path
) -> None:
    d = optimistic
    a, b, griefer = d.accounts[1], d.accounts[2], d.accounts[3]
    claim_all(d, tmp_path / "store", [honest(a, proven_a), honest(b, proven_b)])
    bond = d.task.terms.dispute_bond
    # With the bytes, the dispute is judged at once: the proof is valid.
    d.zkpot.dispute(griefer, d.task_id, 1, b.address, proven_b.proof.proof, bond=bond)
    assert d.zkpot.contribution(d.task_id, 1, b.address).verified
    assert d.zkpot.credit_of(b.address) == bond
    # Without them, a challenge, made after the honest process has checked the
    # claim: it answers with the store's bytes.
    with honest_verifier(anvil_node, d, tmp_path / "store", tmp_path / "v.log") as log:
        d.driver.advance_to(Phase.DISPUTE)
        wait_for(lambda: "1 claim(s) verified off chain" in log(), log)
        d.zkpot.dispute(griefer, d.task_id, 1, a.address, b"", bond=bond)
        assert d.zkpot.round(d.task_id, 1).open_challenges == 1
        wait_for(lambda: d.zkpot.contribution(d.task_id, 1, a.address).verified, log)
        wait_for(lambda: f"answered the challenge of {a.address}" in log(), log)
    assert d.zkpot.credit_of(a.address) == bond
    assert d.zkpot.credit_of(griefer.address) == 0
    assert d.zkpot.task(d.task_id).held_bonds == 0
    d.driver.advance_to(Phase.AGGREGATE)
    d.zkpot.close_round(d.publisher, d.task_id)
    assert d.zkpot.round(d.task_id, 1).accepted_count == 2


@pytest.mark.anvil
def test_with_nobody_disputing_the_round_closes_as_in_immediate_mode(
    anvil_node, optimistic, tiny, proven_a, proven_b, tmp_path
) -> None:
    opt = optimistic
    a, b = opt.accounts[1], opt.accounts[2]
    claim_all(opt, tmp_path / "store", [honest(a, proven_a), honest(b, proven_b)])
    opt.driver.advance_to(Phase.AGGREGATE)
    opt.zkpot.close_round(opt.publisher, opt.task_id)
    opt.publish_average([(a, proven_a), (b, proven_b)])

    imm = open_task(anvil_node.chain, opt.verifier, tiny)
    imm.contribute_all([(a, proven_a), (b, proven_b)])
    imm.to_aggregate_phase()
    imm.zkpot.close_round(imm.publisher, imm.task_id)
    imm.publish_average([(a, proven_a), (b, proven_b)])

    def outcome(d: Deployment) -> tuple:
        r = d.zkpot.round(d.task_id, 1)
        return (
            r.leader,
            r.leader_correct,
            r.accepted_count,
            r.contributions_root,
            r.leader_bonus,
            r.contributor_reward,
        )

    assert outcome(opt) == outcome(imm)
    assert outcome(opt)[2] == 2
    # The record chain checks out from events alone, claims included.
    (_, record) = verify_record_chain(opt.zkpot, opt.task_id)
    assert record.contributions_root == outcome(opt)[3]


@pytest.mark.anvil
def test_a_withheld_proof_is_challenged_and_struck_when_nobody_answers(
    anvil_node, optimistic, proven_a, proven_b, tmp_path
) -> None:
    """A client claims and keeps its proof to itself: near the end of the dispute
    window the honest process challenges the claim, and once the answer window is
    over it strikes it; the round then closes over what stands."""
    d = optimistic
    hider, good = d.accounts[1], d.accounts[2]
    claim_all(
        d,
        tmp_path / "store",
        [honest(hider, proven_a), honest(good, proven_b)],
        withheld=(hider,),
    )
    schedule = d.zkpot.round(d.task_id, 1)
    with honest_verifier(anvil_node, d, tmp_path / "store", tmp_path / "v.log") as log:
        d.chain.advance_to(schedule.dispute_end - 1)
        wait_for(lambda: d.zkpot.round(d.task_id, 1).open_challenges == 1, log)
        challenged = f"challenged (proof not available): {hider.address}"
        wait_for(lambda: challenged in log(), log)
        d.chain.advance_to(schedule.answer_end + 1)
        wait_for(lambda: d.zkpot.contribution(d.task_id, 1, hider.address).struck, log)
        struck = f"struck the unanswered claim of {hider.address}"
        wait_for(lambda: struck in log(), log)
    assert d.zkpot.round(d.task_id, 1).open_challenges == 0
    d.zkpot.close_round(d.publisher, d.task_id)
    r = d.zkpot.round(d.task_id, 1)
    assert (r.leader, r.accepted_count) == (good.address, 1)
