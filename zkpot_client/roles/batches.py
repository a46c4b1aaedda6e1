"""A round's revealed evaluation batch, as a client (or anyone) takes it up: read
the reveal from the chain, fetch the batch from the content store, check it
against the commitment the chain holds, and compile the round's circuit.

The check is the whole point: the batch in the store must give the commitment
whose digest the contract accepted from the publisher, which is also what every
proof of the round must begin with. A client refuses a batch that does not,
before it spends a proof on it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..chain.contracts import ZKPoTContract
from ..chain.events import all_revealed_batches, revealed_batch
from ..circuit.batches import (
    EvaluationBatch,
    batch_commitment,
    batch_digest,
    compile_batch,
)
from ..circuit.keys import CircuitArtifacts
from ..data import Shard, join
from ..exceptions import BatchMismatchError, ContentNotFoundError, ZKPoTValueError
from ..model import ModelSpec
from ..paths import cache_dir, install_build
from ..storage import ContentStore
from ..types import RevealedBatch, Task


def fetch_batch(
    zkpot: ZKPoTContract,
    store: ContentStore,
    task: Task,
    round_: int,
    features: int,
) -> tuple[RevealedBatch, EvaluationBatch]:
    """Round `round_`'s revealed batch, fetched (not yet checked against its digest)."""
    revealed = revealed_batch(zkpot, task.task_id, round_)
    if revealed is None:
        raise ZKPoTValueError(
            f"round {round_}'s evaluation batch has not been revealed yet"
        )
    return revealed, load_batch(store, revealed, task, features)


def load_batch(
    store: ContentStore, revealed: RevealedBatch, task: Task, features: int
) -> EvaluationBatch:
    """The batch a reveal names, from the store, checked to be a batch of the task's
    size (not yet against its digest)."""
    try:
        batch = EvaluationBatch.from_bytes(
            store.get(revealed.batch_cid), features=features
        )
    except ZKPoTValueError as exc:
        raise BatchMismatchError(
            f"round {revealed.round}'s revealed batch {revealed.batch_cid}: {exc}"
        ) from exc
    if len(batch) != task.eval_samples:
        raise BatchMismatchError(
            f"round {revealed.round}'s revealed batch has {len(batch)} samples, the "
            f"task {task.eval_samples}"
        )
    return batch


def revealed_batches(
    zkpot: ZKPoTContract,
    store: ContentStore,
    task: Task,
    before_round: int,
    features: int,
) -> Shard | None:
    """Every batch revealed in the rounds before `before_round`, in one set: once
    revealed, a batch is the task's public labelled data (None: none yet). A batch
    that cannot be read is skipped."""
    parts: list[Shard | None] = []
    for revealed in all_revealed_batches(zkpot, task.task_id):
        if revealed.round >= before_round:
            continue
        try:
            b = load_batch(store, revealed, task, features)
        except (ZKPoTValueError, ContentNotFoundError):
            continue  # not a batch: nothing to learn from
        parts.append(Shard(x=b.x, y=b.y))
    return join(parts)


def round_circuit(
    zkpot: ZKPoTContract,
    store: ContentStore,
    task: Task,
    round_: int,
    artifacts: CircuitArtifacts,
    spec: ModelSpec,
    *,
    cache: Path | None = None,
) -> Path:
    """The task's circuit compiled with round `round_`'s revealed batch, after
    checking that the batch gives the commitment the chain holds for the round.
    Cached by that digest (every client on a machine compiles a round once)."""
    revealed, batch = fetch_batch(zkpot, store, task, round_, spec.inputs)
    root = (cache or cache_dir()) / "batches" / artifacts.digest[:24]
    final = root / revealed.batch_digest.hex()[:24]
    if (final / "DONE").is_file():
        return final / "circuit.ezkl"
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=root, prefix=".build-"))
    try:
        compiled = compile_batch(artifacts.settings, spec, batch, work)
        got = batch_digest(batch_commitment(artifacts, compiled, spec))
        if got != revealed.batch_digest:
            raise BatchMismatchError(
                f"round {round_}'s batch {revealed.batch_cid} commits to "
                f"0x{got.hex()}, but the chain holds 0x{revealed.batch_digest.hex()}: "
                "refusing to prove on it"
            )
        (work / "DONE").write_text(revealed.batch_digest.hex() + "\n")
        install_build(work, final)
        return final / "circuit.ezkl"
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
