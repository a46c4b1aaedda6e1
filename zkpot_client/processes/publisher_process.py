"""`zkpot reveal`: the publisher as a process, for the life of its task.

Before the task opened, the publisher committed on chain to one evaluation batch
per round and kept the batches and their salts in its state directory
(`zkpot publish`). This process follows the task: in each round's reveal
window (after the commit phase, so no commitment can depend on the batch) it
puts the round's batch in the content store and reveals it on chain. It also
closes or finalises rounds that are due, like every role. Killed and restarted,
it reveals what is still due from the same state directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from ..exceptions import ContractRevertError, ZKPoTFileNotFoundError
from ..phases import phase_at
from ..roles.publisher import SealedBatch, load_sealed
from ..storage import ContentStore
from ..types import Phase, RoundStatus
from .common import RoleContext
from .keeper import keep_round

SEALED_BATCHES = "batches.json"
"""File in the publisher's state directory: each round's batch, commitment, salt."""
TASK_FILE = "task.json"
"""File in the publisher's state directory: the task's coordinates."""


def task_coordinates(state_dir: Path) -> dict[str, object]:
    """The coordinates (`contract`, `task`, ...) `zkpot publish` kept in `state_dir`."""
    path = state_dir / TASK_FILE
    if not path.is_file():
        raise ZKPoTFileNotFoundError(
            f"no task in {state_dir}: publish one with zkpot publish --state-dir"
        )
    return dict(json.loads(path.read_text()))


@dataclass(kw_only=True)
class PublisherProcess:
    ctx: RoleContext
    account: LocalAccount
    store: ContentStore
    sealed: list[SealedBatch]

    @classmethod
    def load(
        cls,
        ctx: RoleContext,
        account: LocalAccount,
        store: ContentStore,
        state_dir: Path,
        features: int,
    ) -> PublisherProcess:
        path = state_dir / SEALED_BATCHES
        if not path.is_file():
            raise ZKPoTFileNotFoundError(f"no evaluation batches in {state_dir}")
        sealed = load_sealed(path, features=features)
        expected = ctx.task.batch_commitments
        if tuple(b.sealed for b in sealed) != expected:
            raise ZKPoTFileNotFoundError(
                f"the batches in {path} are not the ones task {ctx.task_id} is bound to"
            )
        return cls(ctx=ctx, account=account, store=store, sealed=sealed)

    def run(self) -> int:
        ctx = self.ctx
        for r, state, head in ctx.rounds():
            if (
                state.status == RoundStatus.OPEN
                and phase_at(state, head, revealed=state.revealed) == Phase.REVEAL
            ):
                self.reveal(r)
            keep_round(ctx, self.account, r, state, ctx.head())
        ctx.log("task over")
        return 0

    def reveal(self, r: int) -> None:
        """Put round `r`'s batch in the store and reveal it on chain."""
        ctx, b = self.ctx, self.sealed[r - 1]
        cid = ctx.call(self.store.put, b.batch.to_bytes())
        try:
            ctx.call(
                ctx.zkpot.reveal_batch,
                self.account,
                ctx.task_id,
                r,
                b.commitment,
                b.salt,
                cid,
            )
        except ContractRevertError as exc:
            if exc.name != "ZKPoTBatchAlreadyRevealed":
                raise
        ctx.log(f"round {r}: revealed its evaluation batch ({cid})")
