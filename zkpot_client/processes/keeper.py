"""Keeping a task moving: what any participant may do when a round is due.

After the proof phase (or after a reveal window the publisher let pass) anyone
may close the round; after the aggregate phase
anyone may finalise a closed round whose aggregator stayed silent. Every role
process does both when they are due, so neither a dead aggregator nor a dead
client can stall a task. Several may try at once: the contract takes the first
and refuses the rest, which is fine.
"""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from ..exceptions import ContractRevertError
from ..phases import can_close, can_finalize_without_aggregator
from ..types import RoundState, RoundStatus
from .common import RoleContext


def keep_round(
    ctx: RoleContext,
    account: LocalAccount,
    round_: int,
    state: RoundState,
    head: int,
    *,
    grace_blocks: int = 0,
) -> None:
    """Close round `round_` once its proof phase is over (plus `grace_blocks`, to let
    the aggregator go first), or finalise it once its aggregate phase is over."""
    try:
        if state.status == RoundStatus.OPEN and can_close(
            state, head, revealed=state.revealed, grace_blocks=grace_blocks
        ):
            ctx.call(ctx.zkpot.close_round, account, ctx.task_id)
            ctx.log(f"closed round {round_}")
        elif state.status == RoundStatus.CLOSED and can_finalize_without_aggregator(
            state, head
        ):
            ctx.call(ctx.zkpot.finalize_without_aggregator, account, ctx.task_id)
            ctx.log(
                f"round {round_}: the aggregator missed its deadline; finalised without it"
            )
    except ContractRevertError:
        pass  # someone else was first
