"""Shared fixtures: a tiny real circuit (tests/tiny.py), real proofs, real chains.

Keys and SRS are cached by circuit digest, proofs are made once per session (and
cached), and proving never runs in parallel: scripts/test.sh runs two workers
(pytest-xdist), each module on one of them, and every proof of every process
takes the one machine-wide prover slot.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_account.signers.local import LocalAccount
from tiny import (
    ProvenModel,
    TinyTask,
    aggregation_of,
    prove_aggregate_cached,
    proven,
    tiny_task,
    trained_weights,
    twin_of,
)

from zkpot_client.chain.backend import AnvilNode, Chain, dev_accounts
from zkpot_client.chain.contracts import (
    ZKPoTContract,
    commitment_of,
    deploy_verifier,
    new_salt,
)
from zkpot_client.chain.events import task_info
from zkpot_client.circuit.aggregation import AggregationArtifacts
from zkpot_client.circuit.batches import sealed_batch
from zkpot_client.circuit.commitment import weights_hash
from zkpot_client.circuit.keys import CircuitArtifacts
from zkpot_client.circuit.slots import MACHINE_SLOTS_ENV
from zkpot_client.paths import cache_dir
from zkpot_client.rounds import RoundDriver
from zkpot_client.types import ETHER, Phase, Task, TaskConfig, TaskTerms

PROOF_FIXTURES = {
    "tiny",
    "other_tiny",
    "proven_a",
    "proven_b",
    "proven_a_twin",
    "proven_other",
    "deployment",
}
"""Fixtures that set the tiny circuit up or prove with it (minutes on a cold cache)."""


WORKER_GROUPS = {
    "test_ape_deploy.py": "role-processes",
    "test_dashboard.py": "role-processes",
    "test_faults.py": "role-processes",
    "test_ipfs.py": "role-processes",
    "test_sim.py": "role-processes",
    "test_audit.py": "solidity-tools",
    "test_toolchain.py": "solidity-tools",
}
"""Modules that share a worker: the federations of role processes on anvil
(mostly waiting for blocks: one worker runs them one after the other while the
other computes), and the modules that build into the project's forge and ape
output directories."""

os.environ.setdefault(MACHINE_SLOTS_ENV, str(cache_dir() / "prover-slots"))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `proof` every test that uses the tiny circuit, so that
    `-m "not slow and not proof"` leaves only the quick tests; keep each module
    (its module-scoped chains and runs) on one worker."""
    for item in items:
        if PROOF_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.proof)
        module = item.path.name
        item.add_marker(pytest.mark.xdist_group(WORKER_GROUPS.get(module, module)))


@pytest.fixture(scope="session")
def tiny() -> TinyTask:
    """The task's tiny circuit, set up (or taken from the cache)."""
    return tiny_task(0)


@pytest.fixture(scope="session")
def other_tiny() -> TinyTask:
    """Another task's circuit: same model, other evaluation batches of another size
    (so other keys)."""
    return tiny_task(1, eval_samples=6)


@pytest.fixture(scope="session")
def proven_a(tiny: TinyTask) -> ProvenModel:
    return proven(tiny, trained_weights(tiny, 0))


@pytest.fixture(scope="session")
def proven_b(tiny: TinyTask) -> ProvenModel:
    return proven(tiny, trained_weights(tiny, 1))


@pytest.fixture(scope="session")
def proven_a_twin(tiny: TinyTask, proven_a: ProvenModel) -> ProvenModel:
    """Model A with one weight nudged by one fixed-point step: same count, other hash."""
    return proven(tiny, twin_of(proven_a.weights))


@pytest.fixture(scope="session")
def proven_other(other_tiny: TinyTask) -> ProvenModel:
    return proven(other_tiny, trained_weights(other_tiny, 0))


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
    """A fresh ZKPoT contract with one task whose clients (accounts 1-5) registered,
    at the start of round 1. The publisher (account 0) is also the aggregator."""

    chain: Chain
    zkpot: ZKPoTContract
    verifier: str
    task: Task
    publisher: LocalAccount
    accounts: list[LocalAccount]
    task_vka: list[bytes]
    batch: bytes
    """The batch commitment every round reveals (the tiny task's round-1 batch, on
    which the proof fixtures are made)."""
    batch_salts: list[bytes]
    circuit: CircuitArtifacts
    """The task's circuit (what weights are committed under)."""
    aggregation: AggregationArtifacts
    """The task's aggregation circuit."""

    @property
    def task_id(self) -> int:
        return self.task.task_id

    @property
    def driver(self) -> RoundDriver:
        """The round driver, for moving between phases."""
        return RoundDriver(
            chain=self.chain, zkpot=self.zkpot, task=self.task, keeper=self.publisher
        )

    def current_round(self) -> int:
        return self.zkpot.task(self.task_id).current_round

    def commit(
        self,
        account: LocalAccount,
        weights_hash: int,
        *,
        round_: int | None = None,
        salt: bytes | None = None,
    ) -> bytes:
        round_ = round_ or self.current_round()
        salt = salt or new_salt()
        self.zkpot.commit(
            account,
            self.task_id,
            round_,
            commitment_of(account.address, self.task_id, round_, weights_hash, salt),
        )
        return salt

    def submit(self, account: LocalAccount, proven: ProvenModel, salt: bytes, **kwargs):
        """Submit `proven`'s proof in the current round."""
        kwargs.setdefault("sealed_weights_cid", "bafkqaaa")
        return self.zkpot.submit_proof(
            account,
            self.task_id,
            kwargs.pop("round_", None) or self.current_round(),
            proven.proof,
            salt=salt,
            **kwargs,
        )

    def contribute(self, account: LocalAccount, proven: ProvenModel):
        """Commit to `proven`'s weights, wait for the proof phase and submit its proof."""
        return self.contribute_all([(account, proven)])[0]

    def contribute_all(self, entries: list[tuple[LocalAccount, ProvenModel]]) -> list:
        """Each account commits to its model, then, once the batch is revealed,
        submits it."""
        salts = [self.commit(a, p.proof.weights_hash) for a, p in entries]
        self.reveal()
        return [
            self.submit(a, p, salt) for (a, p), salt in zip(entries, salts, strict=True)
        ]

    def reveal(self, **kwargs):
        """Move to the reveal window and reveal the round's batch (as the publisher)."""
        round_ = self.current_round()
        self.driver.advance_to(Phase.REVEAL)
        return self.zkpot.reveal_batch(
            kwargs.pop("account", self.publisher),
            self.task_id,
            round_,
            kwargs.pop("commitment", self.batch),
            kwargs.pop("salt", self.batch_salts[round_ - 1]),
            kwargs.pop("cid", "bafkreibatch"),
            **kwargs,
        )

    def publish_average(
        self, accepted: list[tuple[LocalAccount, ProvenModel]], **kwargs
    ):
        """Publish, as the aggregator, the FedAvg of the round's `accepted` models (in
        the round's order) with a real aggregation proof; `model` publishes another
        model with a proof over the same slots."""
        model, proof = prove_aggregate_cached(
            self.aggregation,
            [p.weights for _, p in accepted],
            kwargs.pop("model", None),
        )
        return self.zkpot.publish_global_model(
            kwargs.pop("account", self.publisher),
            self.task_id,
            kwargs.pop("round_", None) or self.current_round(),
            model_hash=weights_hash(model, self.circuit),
            cid=kwargs.pop("cid", "bafkreimodel1"),
            accepted=[a.address for a, _ in accepted],
            proof=proof,
            **kwargs,
        )

    def to_proof_phase(self) -> None:
        """Reveal the round's batch, then move past the reveal window."""
        self.reveal()
        self.driver.advance_to(Phase.PROVE)

    def to_aggregate_phase(self) -> None:
        self.driver.advance_to(Phase.AGGREGATE)

    def past_aggregate_deadline(self) -> None:
        self.driver.advance_to(Phase.AGGREGATION_OVERDUE)


TEST_TERMS = TaskTerms(
    max_clients=5,
    registration_blocks=8,
    commit_blocks=5,
    reveal_blocks=3,
    proof_blocks=5,
    aggregate_blocks=3,
)


def open_task(
    chain: Chain,
    verifier: str,
    task: TinyTask,
    *,
    rounds: int = 2,
    min_correct: int | None = None,
    terms: TaskTerms = TEST_TERMS,
    reward_pool: int = ETHER,
    circuit_cid: str = "bafkqaaa",
) -> Deployment:
    """Deploy ZKPoT, create a task on the tiny circuit, register accounts 1-5 and
    move to round 1's commit phase (`circuit_cid`: the circuit's package, for role
    processes that set the circuit up from it)."""
    accounts = dev_accounts(6)
    publisher = accounts[0]
    zkpot = ZKPoTContract.deploy(chain, publisher, verifier)
    digest = zkpot.register_circuit(publisher, task.artifacts.vka_words())
    aggregation = aggregation_of(task, terms.max_clients)
    aggregation_digest = zkpot.register_circuit(publisher, aggregation.vka_words())
    batch = task.commitment(1)
    salts = [new_salt() for _ in range(rounds)]
    task_id, _ = zkpot.create_task(
        publisher,
        TaskConfig(
            vka_digest=digest,
            aggregation_vka_digest=aggregation_digest,
            aggregator=publisher.address,
            aggregator_key=b"\x01" * 32,
            eval_samples=task.definition.eval_samples,
            min_correct=task.definition.min_correct
            if min_correct is None
            else min_correct,
            num_rounds=rounds,
            initial_model_hash=1,
            initial_model_cid="bafkqaaa",
            circuit_cid=circuit_cid,
            batch_commitments=tuple(sealed_batch(batch, s) for s in salts),
            terms=terms,
        ),
        reward_pool=reward_pool,
    )
    for account in accounts[1:]:
        zkpot.register(account, task_id, terms.min_stake)
    d = Deployment(
        chain,
        zkpot,
        verifier,
        task_info(zkpot, task_id),
        publisher,
        accounts,
        task.artifacts.vka_words(),
        batch,
        salts,
        task.artifacts,
        aggregation,
    )
    d.driver.start()
    return d


@pytest.fixture
def deployment(chain: Chain, verifier: str, tiny: TinyTask) -> Deployment:
    return open_task(chain, verifier, tiny)
