"""The phase boundaries of a round, as the contract draws them.

A round's schedule (`RoundSchedule`, from its RoundOpened event) fixes four
blocks; a transaction mined in block b is in

- the commit phase when `open_block <= b <= commit_end`,
- the proof phase when `commit_end < b <= proof_end`,
- the aggregate phase when `proof_end < b <= aggregate_end` (anyone may close the
  round from its first block; the aggregator publishes within it),
- overdue after `aggregate_end` (anyone may finalise without the aggregator).

The round driver and the role processes ask this module, never the raw
numbers, so a new phase (a reveal, a dispute window) is added here once.
"""

from __future__ import annotations

from .types import Phase, RoundSchedule

ROUND_PHASES = (Phase.COMMIT, Phase.PROVE, Phase.AGGREGATE, Phase.AGGREGATION_OVERDUE)
"""A round's phases, in order."""


def phase_at(schedule: RoundSchedule, block: int) -> Phase:
    """The phase of the round at `block` (the contract's `phase()` rule)."""
    if block < schedule.open_block:
        return Phase.REGISTRATION
    if block <= schedule.commit_end:
        return Phase.COMMIT
    if block <= schedule.proof_end:
        return Phase.PROVE
    if block <= schedule.aggregate_end:
        return Phase.AGGREGATE
    return Phase.AGGREGATION_OVERDUE


def first_block(schedule: RoundSchedule, phase: Phase) -> int:
    """The first block of `phase` in the round."""
    starts = {
        Phase.COMMIT: schedule.open_block,
        Phase.PROVE: schedule.commit_end + 1,
        Phase.AGGREGATE: schedule.proof_end + 1,
        Phase.AGGREGATION_OVERDUE: schedule.aggregate_end + 1,
    }
    if phase not in starts:
        raise ValueError(f"{phase} is not a phase of a round")
    return starts[phase]


def is_past(schedule: RoundSchedule, phase: Phase, block: int) -> bool:
    """Whether `block` comes after the end of `phase` (e.g. too late to commit)."""
    later = ROUND_PHASES[ROUND_PHASES.index(phase) + 1 :]
    return bool(later) and block >= first_block(schedule, later[0])


def can_close(schedule: RoundSchedule, block: int, *, grace_blocks: int = 0) -> bool:
    """Whether the round may be closed at `block`, `grace_blocks` after the first
    block it could be (a role that leaves the aggregator to go first waits so)."""
    return block >= first_block(schedule, Phase.AGGREGATE) + grace_blocks


def can_finalize_without_aggregator(schedule: RoundSchedule, block: int) -> bool:
    """Whether the aggregator's deadline has passed at `block`."""
    return block >= first_block(schedule, Phase.AGGREGATION_OVERDUE)
