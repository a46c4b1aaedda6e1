"""Reading the consensus outcome back from contract events.

Everything here comes from the chain: what a task is, who contributed what in
each round, who led, what each earned, which global model resulted. Nothing is
taken from the memory of the process that ran the clients.

Queries start at the block the task was created in and page through bounded
block ranges (`ZKPoTContract.log_page_blocks`), since public RPC providers cap a
query's range; what is reported is read from the logs themselves, with one
receipt per contribution only where its gas is asked for.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import ContractRevertError
from ..types import (
    RevealedBatch,
    RoundOutcome,
    RoundSchedule,
    Task,
    TaskTerms,
    VerifiedContribution,
)
from .contracts import ZKPoTContract, from_abi

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def block_ranges(first: int, last: int, page: int) -> list[tuple[int, int]]:
    """`[first, last]` cut into consecutive inclusive ranges of at most `page` blocks."""
    return [(lo, min(lo + page - 1, last)) for lo in range(first, last + 1, page)]


def _get_logs(
    zkpot: ZKPoTContract, event: str, first: int, last: int, filters: dict[str, Any]
) -> list[Any]:
    ev = getattr(zkpot.contract.events, event)()
    found: list[Any] = []
    for lo, hi in block_ranges(first, last, zkpot.log_page_blocks):
        found += ev.get_logs(from_block=lo, to_block=hi, argument_filters=filters)
    return sorted(found, key=lambda e: (e["blockNumber"], e["logIndex"]))


def logs(zkpot: ZKPoTContract, event: str, task_id: int, **filters: Any) -> list[Any]:
    """The task's `event` logs matching `filters`, in chain order, from the block
    the task was created in to the head."""
    first = created_block(zkpot, task_id)
    return _get_logs(
        zkpot, event, first, zkpot.chain.block_number, {"taskId": task_id, **filters}
    )


def created_block(zkpot: ZKPoTContract, task_id: int) -> int:
    """The block the task was created in."""
    return int(_task_created(zkpot, task_id)["blockNumber"])


def _task_created(zkpot: ZKPoTContract, task_id: int) -> Any:
    """The TaskCreated log of `task_id` (found once per contract object, then
    remembered). The task's start block bounds it from above (creation block +
    registration blocks), so the search walks back from there a page at a time."""
    if task_id in zkpot.created_logs:
        return zkpot.created_logs[task_id]
    try:
        start = int(zkpot.raw_view("getTask", task_id)["startBlock"])
    except ContractRevertError:
        start = 0
    if start == 0:
        raise LookupError(f"no task {task_id} on {zkpot.address}")
    page = zkpot.log_page_blocks
    hi = min(start, zkpot.chain.block_number)
    while hi >= 0:
        lo = max(0, hi - page + 1)
        found = _get_logs(zkpot, "TaskCreated", lo, hi, {"taskId": task_id})
        if found:
            zkpot.created_logs[task_id] = found[0]
            return found[0]
        hi = lo - 1
    raise LookupError(f"no TaskCreated event for task {task_id} on {zkpot.address}")


def task_info(zkpot: ZKPoTContract, task_id: int) -> Task:
    """The task as created: its configuration, id, publisher, pool and start block."""
    log = _task_created(zkpot, task_id)
    a = log["args"]
    return from_abi(
        Task,
        a["config"],
        terms=from_abi(TaskTerms, a["config"]),
        task_id=task_id,
        publisher=a["publisher"],
        reward_pool=int(a["rewardPool"]),
        start_block=int(a["startBlock"]),
    )


def round_schedule(zkpot: ZKPoTContract, task_id: int, round_: int) -> RoundSchedule:
    """The blocks that bound a round's phases, from its RoundOpened event."""
    found = logs(zkpot, "RoundOpened", task_id, round=round_)
    if not found:
        raise LookupError(f"round {round_} of task {task_id} has not opened")
    return from_abi(RoundSchedule, found[-1]["args"])


def revealed_batch(
    zkpot: ZKPoTContract, task_id: int, round_: int
) -> RevealedBatch | None:
    """Round `round_`'s evaluation batch as revealed (None: not revealed yet)."""
    found = logs(zkpot, "BatchRevealed", task_id, round=round_)
    if not found:
        return None
    return from_abi(
        RevealedBatch, found[-1]["args"], block_number=found[-1]["blockNumber"]
    )


def all_revealed_batches(zkpot: ZKPoTContract, task_id: int) -> list[RevealedBatch]:
    """Every batch of the task revealed so far, in round order (one log query)."""
    return [
        from_abi(RevealedBatch, log["args"], block_number=log["blockNumber"])
        for log in logs(zkpot, "BatchRevealed", task_id)
    ]


def global_model(
    zkpot: ZKPoTContract, task_id: int, after_round: int
) -> tuple[int, str]:
    """`(hash, cid)` of the global model in force after `after_round` (0: the initial
    one), from that round's record."""
    found = logs(zkpot, "RoundRecorded", task_id, round=after_round)
    if not found:
        raise LookupError(f"round {after_round} of task {task_id} has no record yet")
    record = found[-1]["args"]["record"]
    return int.from_bytes(record["globalModelHash"], "big"), record["globalModelCid"]


CONTRIBUTION_EVENTS = (
    "ContributionVerified",
    "ContributionClaimed",
    "DisputeRejected",
    "ContributionStruck",
)
"""What makes a round's contributions: proofs and claims, and disputes' verdicts."""


def accepted_contributions(
    zkpot: ZKPoTContract, task_id: int, round_: int
) -> list[VerifiedContribution]:
    """The round's accepted contributions that stand, in submission order."""
    return [c for c in contributions(zkpot, task_id, round_) if c.accepted]


def standing_contributions(
    zkpot: ZKPoTContract, task_id: int, round_: int
) -> list[str]:
    """The clients of an optimistic round's accepted contributions that stand, in
    submission order: the list `closeRound` takes."""
    return [c.client for c in accepted_contributions(zkpot, task_id, round_)]


def contributions(
    zkpot: ZKPoTContract, task_id: int, round_: int, *, with_gas: bool = False
) -> list[VerifiedContribution]:
    """The round's contributions (verified proofs and claims, with what disputes made
    of them) in submission order, with each submission's gas (one receipt each) if
    asked."""
    found = {e: logs(zkpot, e, task_id, round=round_) for e in CONTRIBUTION_EVENTS}
    return _contributions(zkpot, found, with_gas)


def _contributions(
    zkpot: ZKPoTContract, found: dict[str, list[Any]], with_gas: bool
) -> list[VerifiedContribution]:
    """Contributions from one round's logs of each of `CONTRIBUTION_EVENTS`."""
    upheld = {log["args"]["client"] for log in found.get("DisputeRejected", [])}
    struck = {log["args"]["client"] for log in found.get("ContributionStruck", [])}
    submitted = sorted(
        found.get("ContributionVerified", []) + found.get("ContributionClaimed", []),
        key=lambda e: (e["blockNumber"], e["logIndex"]),
    )
    out = []
    for log in submitted:
        tx_hash = "0x" + bytes(log["transactionHash"]).hex()
        gas = _receipt_gas(zkpot, tx_hash) if with_gas else None
        client = log["args"]["client"]
        claimed = log["event"] == "ContributionClaimed"
        out.append(
            from_abi(
                VerifiedContribution,
                log["args"],
                tx_hash=tx_hash,
                block_number=int(log["blockNumber"]),
                gas_used=gas,
                accepted=bool(log["args"]["accepted"]) and client not in struck,
                claimed=claimed,
                verified=not claimed or client in upheld,
                struck=client in struck,
            )
        )
    return out


def _receipt_gas(zkpot: ZKPoTContract, tx_hash: str) -> int:
    return int(zkpot.chain.w3.eth.get_transaction_receipt(tx_hash)["gasUsed"])


def _gas_of(zkpot: ZKPoTContract, found: list[Any]) -> int:
    """Gas of the transactions that emitted `found`, each counted once."""
    hashes = {"0x" + bytes(log["transactionHash"]).hex() for log in found}
    return sum(_receipt_gas(zkpot, h) for h in hashes)


def round_outcomes(
    zkpot: ZKPoTContract,
    task_id: int,
    only_round: int | None = None,
    *,
    with_gas: bool = False,
) -> list[RoundOutcome]:
    """Every round of the task so far (or only `only_round`), rebuilt from events
    (and each submission's gas from its receipt, if asked)."""
    which = {} if only_round is None else {"round": only_round}

    def by_round(event: str) -> dict[int, list[Any]]:
        grouped: dict[int, list[Any]] = {}
        for log in logs(zkpot, event, task_id, **which):
            grouped.setdefault(int(log["args"]["round"]), []).append(log)
        return grouped

    opened = by_round("RoundOpened")
    submitted = {e: by_round(e) for e in CONTRIBUTION_EVENTS}
    closed = by_round("RoundClosed")
    slashed = by_round("AggregatorSlashed")
    revealed = by_round("BatchRevealed")
    missed = by_round("RevealMissed")
    recorded = by_round("RoundRecorded")
    outcomes = []
    for r in sorted(opened):
        fields: dict[str, Any] = {
            "round": r,
            "global_model_hash_in": int.from_bytes(
                opened[r][-1]["args"]["globalModelHash"], "big"
            ),
            "contributions": tuple(
                _contributions(
                    zkpot, {e: submitted[e].get(r, []) for e in submitted}, with_gas
                )
            ),
        }
        if r in closed:
            a = closed[r][-1]["args"]
            fields |= {
                "closed": True,
                "leader": None if a["leader"] == ZERO_ADDRESS else a["leader"],
                "leader_correct": int(a["leaderCorrect"]),
                "accepted_count": int(a["acceptedCount"]),
                "leader_bonus": int(a["leaderBonus"]),
                "contributor_reward": int(a["contributorReward"]),
                "tie_break_seed": bytes(a["tieBreakSeed"]),
            }
        if r in revealed:
            log = revealed[r][-1]
            fields["batch"] = from_abi(
                RevealedBatch, log["args"], block_number=log["blockNumber"]
            )
        if r in missed:
            fields["reveal_missed_each"] = int(missed[r][-1]["args"]["each"])
        if r in slashed:
            # The penalty was shared among the accepted contributions after the close.
            fields["contributor_reward"] = int(
                slashed[r][-1]["args"]["contributorReward"]
            )
        if with_gas and r in recorded:
            fields["finalisation_gas"] = _gas_of(
                zkpot, closed.get(r, [])[-1:] + recorded[r][-1:]
            )
        if r in recorded:
            record = recorded[r][-1]["args"]["record"]
            aggregator = record["aggregator"]
            fields |= {
                "finalized": True,
                "global_model_hash": int.from_bytes(record["globalModelHash"], "big"),
                "global_model_cid": record["globalModelCid"],
                "aggregator": None if aggregator == ZERO_ADDRESS else aggregator,
                "aggregation_proof_hash": bytes(record["aggregationProofHash"])
                if aggregator != ZERO_ADDRESS
                else None,
            }
        outcomes.append(RoundOutcome(**fields))
    return outcomes
