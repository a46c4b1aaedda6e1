"""Each malicious aggregator strategy against the real contract, with real proofs:
one task of five rounds on the embedded chain, two honest clients handing their
sealed weights to the aggregator (each round a model trained afresh). Round 1:
the aggregator aggregates honestly. Rounds 2 to 5: it runs one strategy each
(Gaussian noise, a chosen client's model, leaving a contribution out,
replaying the previous model)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from conftest import Deployment, open_task
from tiny import SCALE, TinyTask, proven, trained_weights

from zkpot_client.chain.backend import Chain, dev_accounts
from zkpot_client.chain.contracts import deploy_verifier
from zkpot_client.chain.events import logs
from zkpot_client.chain.records import verify_record_chain
from zkpot_client.circuit.aggregation import fedavg_fixed
from zkpot_client.circuit.commitment import weights_hash
from zkpot_client.crypto import new_keypair, seal, weights_to_bytes
from zkpot_client.roles.aggregator import Aggregator
from zkpot_client.roles.global_model import load_global_model
from zkpot_client.roles.malicious_aggregators import AGGREGATOR_ATTACKS
from zkpot_client.storage import LocalDirStore
from zkpot_client.types import RoundRecord

pytestmark = pytest.mark.slow

STRATEGIES = ("gaussian", "chosen-client", "leave-out", "replay")


@dataclass
class AggregatorAttackRun:
    d: Deployment
    store: LocalDirStore
    journals: dict[str, list[dict[str, Any]]]
    models: dict[int, list[np.ndarray]]
    """Each round's accepted models, in submission order."""
    records: list[RoundRecord]
    """The task's record chain, checked (once: each check reads every round's logs)."""

    def global_model(self, after_round: int) -> np.ndarray:
        return load_global_model(
            self.d.zkpot, self.store, self.d.task_id, after_round, self.d.circuit
        )


def contribute(d: Deployment, store: LocalDirStore, key: bytes, entries) -> None:
    """Each account commits to its proven model, hands it to the aggregator sealed,
    and submits its proof."""
    salts = [d.commit(a, p.proof.weights_hash) for a, p in entries]
    d.reveal()
    for (account, p), salt in zip(entries, salts, strict=True):
        cid = store.put(seal(key, weights_to_bytes(p.weights)))
        d.submit(account, p, salt, sealed_weights_cid=cid)


@pytest.fixture(scope="module")
def aggregator_attack_run(tiny: TinyTask, tmp_path_factory) -> AggregatorAttackRun:
    chain = Chain.embedded()
    d = open_task(
        chain, deploy_verifier(chain, dev_accounts(1)[0]), tiny, rounds=5, min_correct=0
    )
    store = LocalDirStore(tmp_path_factory.mktemp("aggregator-attacks"))
    key = new_keypair()
    common = {
        "account": d.publisher,
        "zkpot": d.zkpot,
        "store": store,
        "key": key,
        "circuit": tiny.artifacts,
    }
    journals: dict[str, list[dict[str, Any]]] = {}
    models: dict[int, list[np.ndarray]] = {}
    a, b = d.accounts[1], d.accounts[2]
    for round_, strategy in enumerate([None, *STRATEGIES], start=1):
        # A model trained afresh per client and round (a proof counts once per circuit).
        entries = [
            (account, proven(tiny, trained_weights(tiny, i, seed=round_)))
            for i, account in enumerate((a, b))
        ]
        models[round_] = [p.weights for _, p in entries]
        contribute(d, store, bytes(key.public_key), entries)
        d.to_aggregate_phase()
        d.zkpot.close_round(d.publisher, d.task_id)
        if strategy is None:
            honest = Aggregator(**common)
            honest.publish(d.task_id, honest.aggregate(d.task_id, round_))
            continue
        attacker = AGGREGATOR_ATTACKS[strategy](**common)
        assert (
            attacker.publish(d.task_id, attacker.aggregate(d.task_id, round_)) is None
        )
        journals[strategy] = attacker.journal
        d.past_aggregate_deadline()
        d.zkpot.finalize_without_aggregator(d.publisher, d.task_id)
    records = verify_record_chain(d.zkpot, d.task_id)
    return AggregatorAttackRun(d, store, journals, models, records)


@pytest.mark.parametrize(
    ("strategy", "error", "proof"),
    [
        ("gaussian", "ZKPoTAggregateModelMismatch", "no proof of its model exists"),
        ("chosen-client", "ZKPoTAggregateWrongMask", "which says it is the average"),
        ("leave-out", "ZKPoTWrongAcceptedList", "which says it is the average"),
        ("replay", "ZKPoTAggregateModelMismatch", "no proof of its model exists"),
    ],
)
def test_each_malicious_aggregate_is_refused_on_chain_and_the_round_falls_back(
    aggregator_attack_run: AggregatorAttackRun, strategy: str, error: str, proof: str
) -> None:
    run = aggregator_attack_run
    round_ = STRATEGIES.index(strategy) + 2
    (entry,) = run.journals[strategy]
    assert entry["outcome"] == f"refused on chain: {error}"
    assert proof in entry["proof"]
    record = run.records[round_]
    assert record.aggregator == "0x" + "0" * 40
    assert record.aggregation_proof_hash == bytes(32)
    assert record.global_model_hash == run.records[round_ - 1].global_model_hash
    (slashed,) = logs(run.d.zkpot, "AggregatorSlashed", run.d.task_id, round=round_)
    assert slashed["args"]["amount"] == run.d.task.terms.aggregator_penalty


def test_the_honest_aggregate_is_adopted_and_outlives_every_attack(
    aggregator_attack_run: AggregatorAttackRun,
) -> None:
    run = aggregator_attack_run
    record = run.records[1]
    average = fedavg_fixed(run.models[1], SCALE)
    assert record.global_model_hash == weights_hash(average, run.d.circuit).to_bytes(
        32, "big"
    )
    assert record.aggregation_proof_hash != bytes(32)
    for after_round in range(1, 6):
        np.testing.assert_array_equal(run.global_model(after_round), average)
