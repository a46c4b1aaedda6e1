"""The phase boundaries of a round, as the contract draws them.

A round's schedule (`RoundSchedule`, from its RoundOpened event) fixes seven
blocks; a transaction mined in block b is in

- the commit phase when `open_block <= b <= commit_end`,
- the reveal window when `commit_end < b <= reveal_end` (the publisher reveals
  the round's evaluation batch; proofs are taken as soon as it is revealed),
- the proof phase when `reveal_end < b <= proof_end`,
- the dispute phase when `proof_end < b <= answer_end` (optimistic tasks only:
  claims may be disputed until `dispute_end`, challenges answered until
  `answer_end`; the round may be closed after `dispute_end` once no challenge is
  open; empty in an immediate task),
- the aggregate phase when `answer_end < b <= aggregate_end` (anyone may close the
  round from its first block; the aggregator publishes within it),
- overdue after `aggregate_end` (anyone may finalise without the aggregator).

The round driver and the role processes ask this module, never the raw
numbers, so a new phase (a reveal, a dispute window) is added here once.
"""

from __future__ import annotations

from .types import Phase, RoundSchedule

ROUND_PHASES = (
    Phase.COMMIT,
    Phase.REVEAL,
    Phase.PROVE,
    Phase.DISPUTE,
    Phase.AGGREGATE,
    Phase.AGGREGATION_OVERDUE,
)
"""A round's phases, in order."""


def phase_at(schedule: RoundSchedule, block: int, *, revealed: bool = False) -> Phase:
    """The phase of the round at `block` (the contract's `phase()` rule): once the
    batch is revealed the round is in its proof phase; a reveal window that
    passed without a reveal leaves the round `REVEAL_MISSED` (it may be closed)."""
    if block < schedule.open_block:
        return Phase.REGISTRATION
    if block <= schedule.commit_end:
        return Phase.COMMIT
    if not revealed:
        return Phase.REVEAL if block <= schedule.reveal_end else Phase.REVEAL_MISSED
    if block <= schedule.proof_end:
        return Phase.PROVE
    if block <= schedule.answer_end:
        return Phase.DISPUTE
    if block <= schedule.aggregate_end:
        return Phase.AGGREGATE
    return Phase.AGGREGATION_OVERDUE


def first_block(schedule: RoundSchedule, phase: Phase) -> int:
    """The first block of `phase` in the round."""
    starts = {
        Phase.COMMIT: schedule.open_block,
        Phase.REVEAL: schedule.commit_end + 1,
        Phase.PROVE: schedule.reveal_end + 1,
        Phase.DISPUTE: schedule.proof_end + 1,
        Phase.AGGREGATE: schedule.answer_end + 1,
        Phase.AGGREGATION_OVERDUE: schedule.aggregate_end + 1,
    }
    if phase not in starts:
        raise ValueError(f"{phase} is not a phase of a round")
    return starts[phase]


def is_past(schedule: RoundSchedule, phase: Phase, block: int) -> bool:
    """Whether `block` comes after the end of `phase` (e.g. too late to commit)."""
    later = ROUND_PHASES[ROUND_PHASES.index(phase) + 1 :]
    return bool(later) and block >= first_block(schedule, later[0])


def can_close(
    schedule: RoundSchedule,
    block: int,
    *,
    revealed: bool = True,
    grace_blocks: int = 0,
) -> bool:
    """Whether the round may be closed at `block`, `grace_blocks` after the first
    block it could be (a role that leaves the aggregator to go first waits so): after
    the proof phase and its dispute window (an optimistic round also needs no
    challenge open), or after the reveal window if the batch was never revealed."""
    first = schedule.dispute_end + 1 if revealed else first_block(schedule, Phase.PROVE)
    return block >= first + grace_blocks


def can_finalize_without_aggregator(schedule: RoundSchedule, block: int) -> bool:
    """Whether the aggregator's deadline has passed at `block`."""
    return block >= first_block(schedule, Phase.AGGREGATION_OVERDUE)


_AWAITED = {
    Phase.REGISTRATION: "registration",
    Phase.COMMIT: "commitments",
    Phase.REVEAL: "the batch's reveal",
    Phase.PROVE: "proofs",
    Phase.DISPUTE: "disputes of claims",
    Phase.AGGREGATE: "the global model",
}


def last_block(schedule: RoundSchedule, phase: Phase) -> int:
    """The last block of `phase` (registration, or a phase of the round but the
    last) in the round."""
    order = (Phase.REGISTRATION, *ROUND_PHASES)
    return first_block(schedule, order[order.index(phase) + 1]) - 1


def awaited(schedule: RoundSchedule, block: int, *, revealed: bool = False) -> str:
    """What the round waits for at `block` and until which block, e.g. "proofs
    until block 412"."""
    phase = phase_at(schedule, block, revealed=revealed)
    if phase not in _AWAITED:  # a missed reveal or aggregation: anyone may close it
        return f"the round's close ({phase})"
    return f"{_AWAITED[phase]} until block {last_block(schedule, phase)}"
