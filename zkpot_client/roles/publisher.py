"""The task publisher: fixes the model, evaluation set, threshold and schedule;
sets up the circuit; deploys or reuses the contracts; opens the task."""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from eth_account.signers.local import LocalAccount

from ..chain.backend import Chain
from ..chain.contracts import ZKPoTContract, deploy_verifier
from ..chain.events import task_info
from ..circuit.export import export_onnx
from ..circuit.keys import CircuitArtifacts, setup_circuit
from ..circuit.package import publish_package
from ..model import ModelSpec, count_correct, flatten, quantise
from ..storage import ContentStore
from ..types import ETHER, Task, TaskConfig, TaskTerms
from .global_model import store_model


@dataclass(frozen=True, kw_only=True)
class TaskDefinition:
    """Everything the publisher fixes about a task, off chain: the model, the
    evaluation set (private to the publisher), the threshold, the rounds, the terms
    and the pool. `create_task` turns it into the on-chain `TaskConfig`."""

    spec: ModelSpec
    eval_x: np.ndarray
    eval_y: np.ndarray
    scale: int = 13
    """Fixed-point scale (bits) of weights and evaluation data in the circuit."""
    threshold: float = 0.3
    """Accuracy a contribution needs on the evaluation set to be accepted."""
    rounds: int = 3
    terms: TaskTerms = field(default_factory=TaskTerms)
    """Schedule (blocks) and economics (stakes, penalties, bond) of the task."""
    reward_pool: int = ETHER
    """Wei paid out to accepted contributions over the rounds."""

    @property
    def eval_samples(self) -> int:
        return len(self.eval_y)

    @property
    def min_correct(self) -> int:
        """The threshold as a count of correct predictions (rounded up)."""
        return math.ceil(self.threshold * self.eval_samples - 1e-9)

    def accuracy(self, flat: np.ndarray) -> float:
        """Float accuracy of weights on the evaluation set."""
        return (
            count_correct(self.spec, flat, self.eval_x, self.eval_y) / self.eval_samples
        )


def setup_task_circuit(
    definition: TaskDefinition, *, srs: Path | None = None, cache: Path | None = None
) -> CircuitArtifacts:
    """Export a task's evaluation circuit and set it up (cached by circuit digest)."""
    d = definition
    with tempfile.TemporaryDirectory(prefix="zkpot-onnx-") as tmp:
        onnx = export_onnx(d.spec, d.eval_x, d.eval_y, Path(tmp) / "circuit.onnx")
        return setup_circuit(onnx, scale=d.scale, srs=srs, cache=cache)


@dataclass(kw_only=True)
class TaskPublisher:
    """Publishes a task and sets up its circuit."""

    account: LocalAccount
    chain: Chain
    store: ContentStore
    definition: TaskDefinition
    development_srs: bool = True
    """Whether the circuit was set up with a locally generated SRS."""

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

    def create_task(
        self,
        zkpot: ZKPoTContract,
        artifacts: CircuitArtifacts,
        *,
        aggregator: str,
        aggregator_key: bytes,
        initial_seed: int = 0,
    ) -> Task:
        """Register the circuit's key with ZKPoT (and its verifier), store the initial model and
        the circuit package, and create the task, funding its reward pool and the
        aggregator's bond."""
        d = self.definition
        digest = zkpot.register_circuit(self.account, artifacts.vka_words())
        initial = quantise(flatten(d.spec.build(seed=initial_seed)), d.scale)
        model_hash, cid = store_model(self.store, initial, d.scale)
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
                aggregator=aggregator,
                aggregator_key=aggregator_key,
                eval_samples=d.eval_samples,
                min_correct=d.min_correct,
                num_rounds=d.rounds,
                initial_model_hash=model_hash,
                initial_model_cid=cid,
                circuit_cid=package_cid,
                terms=d.terms,
            ),
            reward_pool=d.reward_pool,
        )
        return task_info(zkpot, task_id)
