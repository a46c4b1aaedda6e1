"""The task publisher: fixes the model, evaluation set, threshold and schedule;
sets up the circuit; deploys or reuses the contracts; opens the task."""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from eth_account.signers.local import LocalAccount

from ..chain.backend import Chain
from ..chain.contracts import ZKPoTContract, deploy_verifier, new_salt
from ..chain.events import task_info
from ..circuit.aggregation import setup_aggregation
from ..circuit.batches import (
    EvaluationBatch,
    batch_commitment,
    compile_batch,
    export_batch_onnx,
    placeholder,
    sealed_batch,
)
from ..circuit.fixed_point import data_scale
from ..circuit.keys import CircuitArtifacts, setup_circuit
from ..circuit.package import publish_package
from ..crypto import new_keypair
from ..exceptions import ZKPoTValueError
from ..model import ModelSpec, flatten, quantise
from ..model import accuracy as float_accuracy  # the task's own `accuracy` is a method
from ..paths import write_atomically
from ..progress import long_step
from ..storage import ContentStore
from ..types import ETHER, Task, TaskConfig, TaskTerms
from .aggregator import Aggregator
from .global_model import store_model


@dataclass(frozen=True, kw_only=True)
class TaskDefinition:
    """Everything the publisher fixes about a task, off chain: the model, one
    evaluation batch per round (private to the publisher until each is revealed),
    the threshold, the terms and the pool. `create_task` turns it into the
    on-chain `TaskConfig`."""

    spec: ModelSpec
    batches: tuple[EvaluationBatch, ...]
    """Round r's evaluation batch is `batches[r - 1]`; all of one size."""
    scale: int = 13
    """Fixed-point scale (bits) of weights and evaluation data in the circuit."""
    threshold: float = 0.3
    """Accuracy a contribution needs on its round's batch to be accepted."""
    terms: TaskTerms = field(default_factory=TaskTerms)
    """Schedule (blocks) and economics (stakes, penalties, bond) of the task."""
    reward_pool: int = ETHER
    """Wei paid out to accepted contributions over the rounds."""
    initial: np.ndarray | None = None
    """The initial global model (a user's module's own weights; None: the spec's
    seeded initialisation)."""

    def __post_init__(self) -> None:
        if not self.batches or len({len(b) for b in self.batches}) != 1:
            raise ZKPoTValueError(
                "a task needs one evaluation batch per round, all of one size"
            )

    @property
    def rounds(self) -> int:
        return len(self.batches)

    @property
    def eval_samples(self) -> int:
        """Samples per batch (the circuit's evaluation size)."""
        return len(self.batches[0])

    @property
    def data_scale(self) -> int:
        """Fixed-point scale (bits) of the evaluation samples in the circuit: the
        smallest at which every sample of every batch is exact."""
        return data_scale(EvaluationBatch.joined(self.batches).x)

    @property
    def min_correct(self) -> int:
        """The threshold as a count of correct predictions (rounded up)."""
        return math.ceil(self.threshold * self.eval_samples - 1e-9)

    def accuracy(self, flat: np.ndarray) -> float:
        """Float accuracy of weights on the whole evaluation set (every batch)."""
        whole = EvaluationBatch.joined(self.batches)
        return float_accuracy(self.spec, flat, whole.x, whole.y)


def setup_task_circuit(
    definition: TaskDefinition, *, srs: Path | None = None, cache: Path | None = None
) -> CircuitArtifacts:
    """Export a task's evaluation circuit, with an all-zero batch in place of the
    evaluation data, and set it up (cached by circuit digest). The keys serve every
    batch of that size."""
    d = definition
    with tempfile.TemporaryDirectory(prefix="zkpot-onnx-") as tmp:
        onnx = export_batch_onnx(
            d.spec, placeholder(d.spec, d.eval_samples), Path(tmp) / "circuit.onnx"
        )
        return setup_circuit(
            onnx,
            scale=d.scale,
            data_scale=d.data_scale,
            growth=d.spec.growth,
            srs=srs,
            cache=cache,
        )


@dataclass(frozen=True, kw_only=True)
class SealedBatch:
    """The publisher's secret for one round until it reveals it: the batch, its
    commitment (as proofs on it begin) and the salt that hides it on chain."""

    batch: EvaluationBatch
    commitment: bytes
    salt: bytes

    @property
    def sealed(self) -> bytes:
        """What the task's `batchCommitments` holds for the round."""
        return sealed_batch(self.commitment, self.salt)

    def to_json(self) -> dict[str, str]:
        return {
            "batch": self.batch.to_bytes().hex(),
            "commitment": self.commitment.hex(),
            "salt": self.salt.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, str], *, features: int) -> SealedBatch:
        return cls(
            batch=EvaluationBatch.from_bytes(
                bytes.fromhex(data["batch"]), features=features
            ),
            commitment=bytes.fromhex(data["commitment"]),
            salt=bytes.fromhex(data["salt"]),
        )


def seal_batches(
    definition: TaskDefinition, artifacts: CircuitArtifacts
) -> list[SealedBatch]:
    """Each round's batch with its commitment and a fresh salt (the commitments
    are computed from witnesses, without proving)."""
    sealed = []
    with tempfile.TemporaryDirectory(prefix="zkpot-batches-") as tmp:
        for r, batch in enumerate(definition.batches, 1):
            with long_step(f"committing to evaluation batch {r}/{definition.rounds}"):
                compiled = compile_batch(
                    artifacts.settings, definition.spec, batch, Path(tmp) / str(r)
                )
                commitment = batch_commitment(artifacts, compiled, definition.spec)
            sealed.append(
                SealedBatch(batch=batch, commitment=commitment, salt=new_salt())
            )
    return sealed


def save_sealed(sealed: list[SealedBatch], path: Path) -> None:
    """Keep the batch secrets (a restarted publisher must still reveal)."""
    write_atomically(path, json.dumps([b.to_json() for b in sealed]))


def load_sealed(path: Path, *, features: int) -> list[SealedBatch]:
    return [
        SealedBatch.from_json(b, features=features)
        for b in json.loads(Path(path).read_text())
    ]


@dataclass(kw_only=True)
class TaskPublisher:
    """Publishes a task and sets up its circuit."""

    account: LocalAccount
    chain: Chain
    store: ContentStore
    definition: TaskDefinition
    development_srs: bool = True
    """Whether the circuit was set up with a locally generated SRS."""
    sealed: list[SealedBatch] = field(default_factory=list)
    """Each round's batch secrets (`seal_batches`), kept until revealed."""

    def setup_circuit(
        self, *, srs: Path | None = None, cache: Path | None = None
    ) -> CircuitArtifacts:
        """Export the evaluation circuit and set it up (cached by circuit digest)."""
        self.development_srs = srs is None
        return setup_task_circuit(self.definition, srs=srs, cache=cache)

    def deploy(self) -> ZKPoTContract:
        """Deploy ezkl's reusable verifier and a ZKPoT contract bound to it."""
        verifier = deploy_verifier(self.chain, self.account)
        return ZKPoTContract.deploy(self.chain, self.account, verifier)

    def deploy_with_aggregator(
        self, artifacts: CircuitArtifacts, *, initial_seed: int = 0
    ) -> tuple[ZKPoTContract, Aggregator, Task]:
        """Deploy ZKPoT and create the task with the publisher's own account as its
        aggregator (under a fresh box key): the single-operator set-up of the demo,
        the benchmarks and the tests."""
        zkpot = self.deploy()
        aggregator = Aggregator(
            account=self.account,
            zkpot=zkpot,
            store=self.store,
            key=new_keypair(),
            circuit=artifacts,
        )
        task = self.create_task(
            zkpot,
            artifacts,
            aggregator=self.account.address,
            aggregator_key=aggregator.public_key,
            initial_seed=initial_seed,
        )
        return zkpot, aggregator, task

    def create_task(
        self,
        zkpot: ZKPoTContract,
        artifacts: CircuitArtifacts,
        *,
        aggregator: str,
        aggregator_key: bytes,
        initial_seed: int = 0,
    ) -> Task:
        """Register the circuit's key and its aggregation circuit's (set up here) with
        ZKPoT (and its verifier), store the initial model and
        the circuit package, commit to every round's batch, and create the task,
        funding its reward pool and the aggregator's bond."""
        d = self.definition
        if not self.sealed:
            self.sealed = seal_batches(d, artifacts)
        digest = zkpot.register_circuit(self.account, artifacts.vka_words())
        aggregation = setup_aggregation(
            artifacts, d.spec.num_weights, d.terms.max_clients
        )
        aggregation_digest = zkpot.register_circuit(
            self.account, aggregation.vka_words()
        )
        start = (
            flatten(d.spec.build(seed=initial_seed)) if d.initial is None else d.initial
        )
        initial = quantise(start, d.scale)
        model_hash, cid = store_model(self.store, initial, artifacts)
        package_cid = publish_package(
            self.store,
            artifacts,
            d.spec,
            d.eval_samples,
            development_srs=self.development_srs,
        )
        task_id, _ = zkpot.create_task(
            self.account,
            TaskConfig(
                vka_digest=digest,
                aggregation_vka_digest=aggregation_digest,
                aggregator=aggregator,
                aggregator_key=aggregator_key,
                eval_samples=d.eval_samples,
                min_correct=d.min_correct,
                num_rounds=d.rounds,
                initial_model_hash=model_hash,
                initial_model_cid=cid,
                circuit_cid=package_cid,
                batch_commitments=tuple(b.sealed for b in self.sealed),
                terms=d.terms,
            ),
            reward_pool=d.reward_pool,
        )
        return task_info(zkpot, task_id)

    def reveal(self, zkpot: ZKPoTContract, task: Task, round_: int) -> str:
        """Put round `round_`'s batch in the content store and reveal it on chain
        (in the round's reveal window); return its CID."""
        b = self.sealed[round_ - 1]
        cid = self.store.put(b.batch.to_bytes())
        zkpot.reveal_batch(
            self.account, task.task_id, round_, b.commitment, b.salt, cid
        )
        return cid
