"""Shared fixtures: a tiny real circuit, real proofs, real chains.

The circuit is the production one at reduced size (8 evaluation samples, 8 hidden
units: 2^15 rows, ~17 s per proof on 2 cores). Keys and SRS are cached by circuit
digest, proofs are made once per session, and proving never runs in parallel.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from zkpot_client.chain.backend import AnvilNode, Chain, dev_accounts
from zkpot_client.chain.contracts import (
    TaskParams,
    ZKPoTContract,
    commitment_of,
    deploy_verifier,
    new_salt,
    register_vka,
)
from zkpot_client.chain.events import TaskInfo, task_info
from zkpot_client.circuit.keys import CircuitArtifacts
from zkpot_client.circuit.prover import Proof, prove
from zkpot_client.data import TaskData, load_task_data
from zkpot_client.model import ModelSpec, flatten, quantise
from zkpot_client.paths import cache_dir
from zkpot_client.roles.publisher import TaskDefinition, setup_task_circuit
from zkpot_client.training import train_local

SCALE = 13
TINY_SPEC = ModelSpec(hidden=8)
TINY_EVAL = 8


@dataclass
class TinyTask:
    data: TaskData
    definition: TaskDefinition
    artifacts: CircuitArtifacts


def _tiny_task(seed: int) -> TinyTask:
    data = load_task_data(eval_samples=TINY_EVAL, num_clients=3, seed=seed)
    definition = TaskDefinition(
        spec=TINY_SPEC,
        eval_x=data.eval_x,
        eval_y=data.eval_y,
        scale=SCALE,
        threshold=0.25,
    )
    return TinyTask(data, definition, setup_task_circuit(definition))


@pytest.fixture(scope="session")
def tiny() -> TinyTask:
    """The task's tiny circuit, set up (or taken from the cache)."""
    return _tiny_task(0)


@pytest.fixture(scope="session")
def other_tiny() -> TinyTask:
    """Another task's circuit: same model, a different evaluation set."""
    return _tiny_task(1)


def trained_weights(task: TinyTask, client: int, seed: int = 0) -> np.ndarray:
    shard = task.data.shards[client]
    start = flatten(TINY_SPEC.build(seed=seed))
    return quantise(
        train_local(TINY_SPEC, start, shard.x, shard.y, epochs=5, seed=seed), SCALE
    )


def prove_cached(artifacts: CircuitArtifacts, weights: np.ndarray) -> Proof:
    """A real proof for `weights`, kept in the cache under the circuit digest and the
    weights, so re-runs of the suite skip the prover (the chain still verifies it)."""
    key = hashlib.sha256(weights.tobytes()).hexdigest()[:16]
    path = cache_dir() / "test-proofs" / f"{artifacts.digest[:16]}-{key}.json"
    if path.exists():
        return Proof.from_json(json.loads(path.read_text()))
    proof = prove(artifacts, weights)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(proof.to_json()))
    return proof


@dataclass
class ProvenModel:
    weights: np.ndarray
    proof: Proof


@pytest.fixture(scope="session")
def proven_a(tiny: TinyTask) -> ProvenModel:
    w = trained_weights(tiny, 0)
    return ProvenModel(w, prove_cached(tiny.artifacts, w))


@pytest.fixture(scope="session")
def proven_b(tiny: TinyTask) -> ProvenModel:
    w = trained_weights(tiny, 1)
    return ProvenModel(w, prove_cached(tiny.artifacts, w))


@pytest.fixture(scope="session")
def proven_a_twin(tiny: TinyTask, proven_a: ProvenModel) -> ProvenModel:
    """Model A with one weight nudged by one fixed-point step: same count, other hash."""
    w = proven_a.weights.copy()
    w[0] += 2.0**-SCALE
    return ProvenModel(w, prove_cached(tiny.artifacts, w))


@pytest.fixture(scope="session")
def proven_other(other_tiny: TinyTask) -> ProvenModel:
    w = trained_weights(other_tiny, 0)
    return ProvenModel(w, prove_cached(other_tiny.artifacts, w))


# ---------------------------------------------------------------- chains
@pytest.fixture(scope="session")
def anvil_node() -> Iterator[AnvilNode]:
    with AnvilNode() as node:
        yield node


@pytest.fixture(scope="module", params=["eth-tester", "anvil"])
def chain(request: pytest.FixtureRequest) -> Chain:
    """The contract tests run on both the in-process chain and a real anvil node."""
    if request.param == "anvil":
        return request.getfixturevalue("anvil_node").chain
    return Chain.embedded()


@pytest.fixture(scope="module")
def verifier(chain: Chain) -> str:
    return deploy_verifier(chain, dev_accounts(1)[0])


@dataclass
class Deployment:
    """A fresh ZKPoT contract with one open task on a chain."""

    chain: Chain
    zkpot: ZKPoTContract
    verifier: str
    task: TaskInfo
    publisher: object
    accounts: list
    task_vka: list[bytes]

    def commit(
        self, account, weights_hash: int, *, round_: int = 1, salt: bytes | None = None
    ) -> bytes:
        salt = salt or new_salt()
        self.zkpot.commit(
            account,
            self.task.task_id,
            round_,
            commitment_of(
                account.address, self.task.task_id, round_, weights_hash, salt
            ),
        )
        return salt

    def submit(self, account, proven, salt: bytes, **kwargs):
        """Submit `proven`'s proof (this task's key unless `vka` is given) in round 1."""
        vka = kwargs.pop("vka", self.task_vka)
        kwargs.setdefault("sealed_weights_cid", "bafkqaaa")
        return self.zkpot.submit_proof(
            account,
            self.task.task_id,
            kwargs.pop("round_", 1),
            proven.proof,
            vka,
            salt=salt,
            **kwargs,
        )

    def to_proof_phase(self) -> None:
        self.chain.advance_to(self.zkpot.task(self.task.task_id)["commitEnd"] + 1)

    def to_round_end(self) -> None:
        self.chain.advance_to(self.zkpot.task(self.task.task_id)["proofEnd"] + 1)


def open_task(
    chain: Chain,
    verifier: str,
    task: TinyTask,
    *,
    rounds: int = 2,
    min_correct: int | None = None,
) -> Deployment:
    accounts = dev_accounts(6)
    publisher = accounts[0]
    zkpot = ZKPoTContract.deploy(chain, publisher)
    digest = register_vka(chain, publisher, verifier, task.artifacts.vka_words())
    task_id, _ = zkpot.open_task(
        publisher,
        TaskParams(
            verifier=verifier,
            vka_digest=digest,
            aggregator_key=b"\x01" * 32,
            eval_samples=task.definition.eval_samples,
            min_correct=task.definition.min_correct
            if min_correct is None
            else min_correct,
            num_rounds=rounds,
            commit_blocks=5,
            proof_blocks=5,
            initial_model_hash=1,
            initial_model_cid="bafkqaaa",
        ),
    )
    return Deployment(
        chain,
        zkpot,
        verifier,
        task_info(zkpot, task_id),
        publisher,
        accounts,
        task.artifacts.vka_words(),
    )


@pytest.fixture
def deployment(chain: Chain, verifier: str, tiny: TinyTask) -> Deployment:
    return open_task(chain, verifier, tiny)
