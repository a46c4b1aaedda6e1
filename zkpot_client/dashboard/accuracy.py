"""The global model's accuracy over rounds, measured from the content store.

The chain holds no accuracy of the global model: only its CID and weights hash.
With the content store, each round's global model (its CID from the round's
record, checked against the on-chain weights hash as every client checks it) is
measured on that round's own evaluation batch (its CID from the round's
BatchRevealed event). That batch was revealed only after the round's
contributions were committed, so none of the models averaged into the round's
global model trained on it: a fair held-out figure. The initial model (round 0)
is measured on round 1's batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..chain.contracts import ZKPoTContract
from ..circuit.batches import EvaluationBatch
from ..circuit.keys import CircuitArtifacts
from ..circuit.package import CircuitPackage, setup_from_package
from ..exceptions import ContentNotFoundError, StoreConnectionError, ZKPoTError
from ..model import accuracy
from ..roles.global_model import load_global_model
from ..storage import ContentStore
from ..types import RoundSummary, Task

FAIRNESS_NOTE = (
    "The global model after round r is measured on round r's evaluation batch, "
    "revealed only after round r's contributions were committed: none of the "
    "models averaged into it trained on it. Round 0 is the initial model, on "
    "round 1's batch."
)


@dataclass(kw_only=True)
class GlobalAccuracy:
    """Measures each round's global model on the round's evaluation batch, once."""

    zkpot: ZKPoTContract
    task: Task
    store: ContentStore
    cache: Path | None = None
    points: dict[int, float] = field(default_factory=dict)
    """Round (0: the initial model) -> accuracy of the global model after it."""
    failed: dict[int, str] = field(default_factory=dict)
    """Round -> why its global model cannot be measured (it will not change)."""
    status: str = "not started"
    """What the measurement is doing or waiting for."""
    circuit: tuple[CircuitPackage, CircuitArtifacts] | None = None
    broken: bool = False
    """The task's circuit package could not be set up: nothing can be checked."""

    def measure(self, rounds: Sequence[RoundSummary], finalised: set[int]) -> bool:
        """Measure every global model of `rounds` not measured yet whose round is in
        `finalised`, and the initial model with them. Nothing is set up before a
        round is finalised: while the first round runs, its clients have the CPU.
        Returns whether a point was added."""
        if not finalised:
            self.status = "waiting for the first finalised round"
            return False
        if self.broken or not self._set_up():
            return False
        batches = {s.round: s.batch_cid for s in rounds}
        due = [(0, batches.get(1))] + [(r, batches[r]) for r in sorted(finalised)]
        added = False
        for r, batch_cid in due:
            if r in self.points or r in self.failed:
                continue
            if batch_cid is None:
                if r > 0 and r in finalised:
                    self._fail(r, "its evaluation batch was never revealed")
                continue
            try:
                # Rebound, never changed in place: other threads read these dicts.
                self.points = {**self.points, r: self._measure(r, batch_cid)}
                added = True
            except (ContentNotFoundError, StoreConnectionError) as exc:
                self.status = f"waiting for the content store: {exc}"
                return added
            except ZKPoTError as exc:
                self._fail(r, str(exc))
        self.status = "measured" if self.points else "no global model to measure yet"
        return added

    def _fail(self, r: int, why: str) -> None:
        self.failed = {**self.failed, r: why}

    def _set_up(self) -> bool:
        """Fetch the task's circuit package and set its circuit up (a cache hit
        where a client or the publisher already did), checked against the task's
        key digest; False while that is not possible."""
        if self.circuit is not None:
            return True
        self.status = "setting up the task's circuit to check global models"
        try:
            self.circuit = setup_from_package(
                self.store,
                self.task.circuit_cid,
                self.task.vka_digest,
                cache=self.cache,
            )
        except (ContentNotFoundError, StoreConnectionError) as exc:
            self.status = f"waiting for the circuit package in the store: {exc}"
            return False
        except ZKPoTError as exc:
            self.status = f"the task's circuit cannot be set up: {exc}"
            self.broken = True
            return False
        return True

    def _measure(self, r: int, batch_cid: str) -> float:
        """The accuracy of the global model after round `r` on the batch `batch_cid`."""
        assert self.circuit is not None
        package, artifacts = self.circuit
        flat = load_global_model(
            self.zkpot, self.store, self.task.task_id, r, artifacts
        )
        batch = EvaluationBatch.from_bytes(
            self.store.get(batch_cid), features=package.spec.inputs
        )
        return accuracy(package.spec, flat, batch.x, batch.y)
