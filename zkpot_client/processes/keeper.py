"""Keeping a task moving: what any participant may do when a round is due.

After the proof phase (or after a reveal window the publisher let pass) anyone
may close the round; after the aggregate phase
anyone may finalise a closed round whose aggregator stayed silent. Every role
process does both when they are due, so neither a dead aggregator nor a dead
client can stall a task. Several may try at once: the contract takes the first
and refuses the rest, which is fine. In an optimistic task every role process
also checks the round's claims and disputes the invalid ones (`check_claims`),
unless told not to.
"""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from ..exceptions import ContractRevertError, ToolchainError
from ..phases import can_close, can_finalize_without_aggregator
from ..roles.disputer import Disputer
from ..types import RoundState, RoundStatus
from .common import RoleContext


def check_claims(ctx: RoleContext, disputer: Disputer | None, head: int) -> None:
    """Check the current round's optimistic claims off chain and dispute what does
    not hold (nothing without a disputer, or in an immediate task)."""
    if disputer is None:
        return
    try:
        for line in ctx.call(disputer.step, head):
            ctx.log(line)
    except (ContractRevertError, ToolchainError) as exc:
        ctx.log(f"checking claims failed, retrying at the next poll: {exc}")


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
        if (
            state.status == RoundStatus.OPEN
            and not state.open_challenges
            and can_close(
                state, head, revealed=state.revealed, grace_blocks=grace_blocks
            )
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
