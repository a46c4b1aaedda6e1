"""Each Byzantine strategy against the real system: real proofs, the real contract
on anvil, the real aggregator. One task of two rounds, two honest clients and one
client per attack; each test reads the system's answer to one attack.

Round 1: the honest clients, the free-rider (copying a commitment) and the
eval-overfitter. Round 2: everyone but the model-swapper. Round 3: the honest
clients and the model-swapper (whose round cannot be aggregated: it falls
back). Each round's batch has 8 evaluation samples,
revealed after its commit phase; the threshold is 3.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from tiny import SCALE, TINY_EVAL, TINY_SPEC, TinyTask, prove_cached

from zkpot_client.chain.backend import AnvilNode, dev_accounts
from zkpot_client.chain.contracts import ZKPoTContract
from zkpot_client.chain.events import contributions, logs, revealed_batch
from zkpot_client.circuit.aggregation import fedavg_fixed
from zkpot_client.circuit.batches import batch_digest
from zkpot_client.circuit.keys import CircuitArtifacts
from zkpot_client.config import TrainingConfig
from zkpot_client.data import load_task_data
from zkpot_client.roles import client as client_module
from zkpot_client.roles.byzantine import ATTACKS, FLOOD_SIZE, ByzantineClient
from zkpot_client.roles.client import Client
from zkpot_client.roles.global_model import load_global_model
from zkpot_client.roles.publisher import TaskDefinition, TaskPublisher
from zkpot_client.rounds import RoundDriver
from zkpot_client.storage import LocalDirStore
from zkpot_client.types import AggregationResult, Task, TaskTerms

pytestmark = pytest.mark.slow

HONEST_SHARDS = (3, 2)
"""Shards (of nine, Dirichlet alpha 0.5) whose models pass the threshold."""
ATTACK_SHARDS = {
    "label-flip": 0,
    "noise": 1,
    "free-ride": 4,
    "forge-claim": 5,
    "model-swap": 7,
    "lazy": 6,
    "flood": 8,
    "eval-overfit": 0,
}


@dataclass
class AttackRun:
    zkpot: ZKPoTContract
    task: Task
    store: LocalDirStore
    honest: list[Client]
    attackers: dict[str, ByzantineClient]
    aggregations: dict[int, AggregationResult]
    nonces_before: dict[str, int]
    honest_weights: dict[int, list[np.ndarray]]
    publisher: TaskPublisher
    overfit_weights: dict[int, np.ndarray]
    circuit: CircuitArtifacts

    def outcomes(self, attack: str, round_: int) -> list[str]:
        return [
            e["outcome"] for e in self.attackers[attack].journal if e["round"] == round_
        ]

    def verified(self, round_: int) -> dict[str, Any]:
        return {
            c.client: c for c in contributions(self.zkpot, self.task.task_id, round_)
        }

    def global_model(self, after_round: int) -> np.ndarray:
        return load_global_model(
            self.zkpot, self.store, self.task.task_id, after_round, self.circuit
        )


@pytest.fixture(scope="module")
def attack_run(tiny: TinyTask, anvil_node: AnvilNode) -> AttackRun:
    monkeypatch = pytest.MonkeyPatch()
    # Real proofs, kept by circuit digest and weights so re-runs skip the prover.
    monkeypatch.setattr(
        client_module,
        "prove",
        lambda artifacts, flat, compiled=None, label="": prove_cached(
            artifacts, flat, compiled
        ),
    )
    chain = anvil_node.chain
    accounts = dev_accounts(11)
    data = load_task_data(
        eval_samples=TINY_EVAL, num_clients=9, alpha=0.5, seed=0, rounds=3
    )
    definition = TaskDefinition(
        spec=TINY_SPEC,
        batches=tuple(data.batches),
        scale=SCALE,
        threshold=0.375,
        terms=TaskTerms(
            max_clients=10,  # two honest clients and eight attackers
            registration_blocks=12,
            commit_blocks=30,
            reveal_blocks=5,
            proof_blocks=60,
            aggregate_blocks=10,
        ),
    )
    assert definition.min_correct == 3
    store = LocalDirStore(tempfile.mkdtemp(prefix="zkpot-attacks-"))
    publisher = TaskPublisher(
        account=accounts[0], chain=chain, store=store, definition=definition
    )
    zkpot, aggregator, task = publisher.deploy_with_aggregator(tiny.artifacts)

    def make(cls: type[Client], name: str, account_index: int, shard: int) -> Any:
        return cls(
            name=name,
            account=accounts[account_index],
            zkpot=zkpot,
            store=store,
            shard=data.shards[shard],
            spec=TINY_SPEC,
            scale=SCALE,
            circuit=tiny.artifacts,
            training=TrainingConfig(epochs=10),
            seed=shard,
        )

    honest = [
        make(Client, f"honest-{i}", 1 + i, s) for i, s in enumerate(HONEST_SHARDS)
    ]
    attackers = {
        name: make(ATTACKS[name], name, 3 + i, ATTACK_SHARDS[name])
        for i, name in enumerate(ATTACKS)
    }
    everyone: list[Client] = [*honest, *attackers.values()]
    for c in everyone:
        # A well-funded free-rider: its stake outlives one slashing, so it can try twice.
        c.register(task, task.terms.min_stake * (3 if c.name == "free-ride" else 1))
    nonces = {
        c.address: chain.w3.eth.get_transaction_count(c.address) for c in everyone
    }
    driver = RoundDriver(
        chain=chain,
        zkpot=zkpot,
        task=task,
        keeper=accounts[0],
        artifacts=tiny.artifacts,
        aggregator=aggregator,
        publisher=publisher,
    )
    driver.start()
    honest_weights = {}
    overfit_weights = {}
    round_1 = [*honest, attackers["free-ride"], attackers["eval-overfit"]]
    round_2 = [c for c in everyone if c.name != "model-swap"]
    round_3 = [*honest, attackers["model-swap"]]
    for r, active in [(1, round_1), (2, round_2), (3, round_3)]:
        driver.commit(r, active)
        driver.reveal(r)
        driver.prove(r, active)
        honest_weights[r] = [c.current.weights for c in honest]
        overfit_weights[r] = attackers["eval-overfit"].current.weights
        driver.submit(r, active)
        driver.close(r)
        driver.aggregate(r)
    monkeypatch.undo()
    return AttackRun(
        zkpot,
        task,
        store,
        honest,
        attackers,
        driver.aggregations,
        nonces,
        honest_weights,
        publisher,
        overfit_weights,
        tiny.artifacts,
    )


def _honest_only(run: AttackRun, round_: int) -> None:
    """The round's global model is exactly the FedAvg of the weights of the honest
    clients and of the eval-overfitter (it trains for real, on its shard and on
    earlier batches: an accepted model of its own) if it was accepted."""
    overfitter = run.attackers["eval-overfit"]
    taken = run.verified(round_)[overfitter.address].accepted
    honest = run.honest_weights[round_] + (
        [run.overfit_weights[round_]] if taken else []
    )
    assert sorted(run.aggregations[round_].included) == sorted(
        [c.address for c in run.honest] + ([overfitter.address] if taken else [])
    )
    expected = fedavg_fixed(honest, SCALE)
    np.testing.assert_array_equal(run.global_model(round_), expected)


def test_honest_clients_are_accepted_in_both_rounds(attack_run: AttackRun) -> None:
    for r in (1, 2):
        verified = attack_run.verified(r)
        for c in attack_run.honest:
            assert verified[c.address].accepted, (
                r,
                c.name,
                verified[c.address].correct,
            )
        _honest_only(attack_run, r)


def test_label_flipping_is_verified_below_the_threshold_and_left_out(
    attack_run: AttackRun,
) -> None:
    flipper = attack_run.attackers["label-flip"]
    mine = attack_run.verified(2)[flipper.address]
    assert not mine.accepted and mine.correct < attack_run.task.min_correct
    assert flipper.address not in attack_run.aggregations[2].included
    _honest_only(attack_run, 2)


def test_random_weights_are_verified_below_the_threshold_and_left_out(
    attack_run: AttackRun,
) -> None:
    noisy = attack_run.attackers["noise"]
    mine = attack_run.verified(2)[noisy.address]
    assert not mine.accepted and mine.correct < attack_run.task.min_correct
    _honest_only(attack_run, 2)


def test_free_riding_is_refused_on_chain_and_slashed(attack_run: AttackRun) -> None:
    rider = attack_run.attackers["free-ride"]
    assert (
        attack_run.outcomes("free-ride", 1)[-1]
        == "refused on chain: ZKPoTCommitmentMismatch"
    )
    assert (
        attack_run.outcomes("free-ride", 2)[-1]
        == "refused on chain: ZKPoTDuplicateModel"
    )
    for r in (1, 2):
        assert rider.address not in attack_run.verified(r)
    # Its round-1 commitment was never proven: slashed when it committed again
    # (with a single minimum stake it would then no longer be eligible).
    slashed = logs(
        attack_run.zkpot, "ClientSlashed", attack_run.task.task_id, client=rider.address
    )
    assert [int(e["args"]["round"]) for e in slashed] == [1]
    _honest_only(attack_run, 1)


def test_a_forged_count_is_refused_on_chain(attack_run: AttackRun) -> None:
    forger = attack_run.attackers["forge-claim"]
    assert forger.current is not None and forger.current.proof is not None
    assert forger.current.proof.correct < TINY_EVAL
    assert attack_run.outcomes("forge-claim", 2) == [
        "refused on chain: ZKPoTProofRejected"
    ]
    assert forger.address not in attack_run.verified(2)


def test_a_swapped_model_is_accepted_on_chain_and_its_round_falls_back(
    attack_run: AttackRun,
) -> None:
    """The swapper's proof is valid, but the weights it hands over are not the ones
    it proved: the aggregator cannot prove an average that includes them, and the
    contract takes none that leaves them out, so round 3 keeps round 2's model
    and the aggregator's bond pays the round's clients."""
    swapper = attack_run.attackers["model-swap"]
    assert attack_run.verified(3)[swapper.address].accepted
    result = attack_run.aggregations[3]
    assert result.proof is None
    assert result.excluded == {
        swapper.address: "weights do not hash to the proven commitment"
    }
    np.testing.assert_array_equal(
        attack_run.global_model(3), attack_run.global_model(2)
    )
    (slashed,) = logs(
        attack_run.zkpot, "AggregatorSlashed", attack_run.task.task_id, round=3
    )
    assert slashed["args"]["amount"] == attack_run.task.terms.aggregator_penalty


def test_the_global_model_handed_back_is_refused_on_chain(
    attack_run: AttackRun,
) -> None:
    lazy = attack_run.attackers["lazy"]
    assert attack_run.outcomes("lazy", 2)[-1] == "refused on chain: ZKPoTStaleModel"
    assert lazy.address not in attack_run.verified(2)


def test_a_flood_of_garbage_proofs_is_refused_on_chain_and_costs_the_sender(
    attack_run: AttackRun,
) -> None:
    flooder = attack_run.attackers["flood"]
    (entry,) = [e for e in flooder.journal if e["action"].startswith("submit")]
    # Garbage does not even begin with the round's batch commitment.
    assert entry["outcome"] == f"{FLOOD_SIZE} x ZKPoTWrongBatch"
    # Every garbage proof was mined (and reverted): one commit plus the flood.
    w3 = attack_run.zkpot.chain.w3
    assert (
        w3.eth.get_transaction_count(flooder.address)
        - attack_run.nonces_before[flooder.address]
        == 1 + FLOOD_SIZE
    )
    assert flooder.address not in attack_run.verified(2)
    _honest_only(attack_run, 2)


def test_eval_overfitting_finds_no_data_of_the_round_it_is_judged_on(
    attack_run: AttackRun,
) -> None:
    overfitter = attack_run.attackers["eval-overfit"]
    batches = attack_run.publisher.definition.batches
    # Round 1: the circuit package holds no evaluation data, and nothing is revealed.
    assert attack_run.outcomes("eval-overfit", 1)[0] == "no evaluation data found"
    # Round 2: it finds round 1's batch (revealed), which has no sample of round 2's.
    assert attack_run.outcomes("eval-overfit", 2)[0] == (
        f"{len(batches[0])} evaluation samples found"
    )
    assert overfitter.found is not None
    np.testing.assert_array_equal(overfitter.found.x, batches[0].x)
    seen = {row.tobytes() for row in batches[0].x}
    assert not any(row.tobytes() in seen for row in batches[1].x)
    # Its proofs were made, verified and judged on each round's own batch.
    for r in (1, 2):
        assert overfitter.address in attack_run.verified(r)
        revealed = revealed_batch(attack_run.zkpot, attack_run.task.task_id, r)
        assert revealed is not None
        sealed = attack_run.publisher.sealed[r - 1]
        assert revealed.batch_digest == batch_digest(sealed.commitment)
