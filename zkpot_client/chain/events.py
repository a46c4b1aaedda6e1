"""Reading the consensus outcome back from contract events.

Everything here comes from the chain: what a task is, who contributed what in
each round, who led, what each earned, which global model resulted. Nothing is
taken from the memory of the process that ran the clients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .contracts import TaskConfig, ZKPoTContract

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


@dataclass
class ContributionOutcome:
    """A verified contribution, from a ContributionVerified event and its receipt."""

    client: str
    weights_hash: int
    correct: int
    accepted: bool
    sealed_weights_cid: str
    gas_used: int
    tx_hash: str
    block_number: int = 0


@dataclass
class RoundOutcome:
    """A round as recorded on chain."""

    round: int
    global_model_hash_in: int
    contributions: list[ContributionOutcome] = field(default_factory=list)
    closed: bool = False
    leader: str | None = None
    leader_correct: int = 0
    accepted_count: int = 0
    leader_bonus: int = 0
    contributor_reward: int = 0
    """Each accepted contribution's reward as `claimReward` pays it: the share fixed at
    close, plus the share of the aggregator's penalty if it missed its deadline."""
    tie_break_seed: bytes = bytes(32)
    """The seed that decided ties in the count (see records.elect_leader)."""
    finalized: bool = False
    global_model_hash: int | None = None
    global_model_cid: str | None = None
    aggregator: str | None = None
    """Who published the round's global model; None when the previous one was kept."""


@dataclass(frozen=True, kw_only=True)
class TaskInfo(TaskConfig):
    """A task as created on chain: its configuration, id, publisher, pool and start."""

    task_id: int
    publisher: str
    reward_pool: int
    start_block: int


def logs(zkpot: ZKPoTContract, event: str, task_id: int, **filters: Any) -> list[Any]:
    """The task's `event` logs matching `filters`, in chain order."""
    ev = getattr(zkpot.contract.events, event)()
    return sorted(
        ev.get_logs(from_block=0, argument_filters={"taskId": task_id, **filters}),
        key=lambda e: (e["blockNumber"], e["logIndex"]),
    )


def task_info(zkpot: ZKPoTContract, task_id: int) -> TaskInfo:
    """The task's configuration as published when it was created."""
    created = logs(zkpot, "TaskCreated", task_id)
    if not created:
        raise LookupError(f"no task {task_id} on {zkpot.address}")
    a = created[0]["args"]
    config = TaskConfig.from_struct(a["config"])
    return TaskInfo(
        **vars(config),
        task_id=task_id,
        publisher=a["publisher"],
        reward_pool=int(a["rewardPool"]),
        start_block=int(a["startBlock"]),
    )


def round_schedule(zkpot: ZKPoTContract, task_id: int, round_: int) -> dict[str, int]:
    """`openBlock`, `commitEnd`, `proofEnd` and `aggregateEnd` of a round."""
    found = logs(zkpot, "RoundOpened", task_id, round=round_)
    if not found:
        raise LookupError(f"round {round_} of task {task_id} has not opened")
    a = found[-1]["args"]
    return {
        k: int(a[k]) for k in ("openBlock", "commitEnd", "proofEnd", "aggregateEnd")
    }


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


def accepted_contributions(
    zkpot: ZKPoTContract, task_id: int, round_: int
) -> list[ContributionOutcome]:
    """The round's accepted contributions, in the order they were verified."""
    return [c for c in contributions(zkpot, task_id, round_) if c.accepted]


def contributions(
    zkpot: ZKPoTContract, task_id: int, round_: int, *, with_gas: bool = False
) -> list[ContributionOutcome]:
    """The round's verified contributions, in the order they were verified."""
    out = []
    for log in logs(zkpot, "ContributionVerified", task_id, round=round_):
        a = log["args"]
        gas = (
            int(
                zkpot.chain.w3.eth.get_transaction_receipt(log["transactionHash"])[
                    "gasUsed"
                ]
            )
            if with_gas
            else 0
        )
        out.append(
            ContributionOutcome(
                client=a["client"],
                weights_hash=int.from_bytes(a["weightsHash"], "big"),
                correct=int(a["correct"]),
                accepted=bool(a["accepted"]),
                sealed_weights_cid=a["sealedWeightsCid"],
                gas_used=gas,
                tx_hash="0x" + bytes(log["transactionHash"]).hex(),
                block_number=int(log["blockNumber"]),
            )
        )
    return out


def round_outcomes(
    zkpot: ZKPoTContract, task_id: int, only_round: int | None = None
) -> list[RoundOutcome]:
    """Every round of the task so far (or only `only_round`), rebuilt from events
    (gas from receipts)."""
    which = {} if only_round is None else {"round": only_round}
    rounds: dict[int, RoundOutcome] = {}
    for log in logs(zkpot, "RoundOpened", task_id, **which):
        r = int(log["args"]["round"])
        rounds[r] = RoundOutcome(
            round=r,
            global_model_hash_in=int.from_bytes(log["args"]["globalModelHash"], "big"),
        )
    for r, outcome in rounds.items():
        outcome.contributions = contributions(zkpot, task_id, r, with_gas=True)
    for log in logs(zkpot, "RoundClosed", task_id, **which):
        a = log["args"]
        outcome = rounds[int(a["round"])]
        outcome.closed = True
        outcome.leader = None if a["leader"] == ZERO_ADDRESS else a["leader"]
        outcome.leader_correct = int(a["leaderCorrect"])
        outcome.accepted_count = int(a["acceptedCount"])
        outcome.leader_bonus = int(a["leaderBonus"])
        outcome.contributor_reward = int(a["contributorReward"])
        outcome.tie_break_seed = bytes(a["tieBreakSeed"])
    for log in logs(zkpot, "AggregatorSlashed", task_id, **which):
        # The penalty was shared among the accepted contributions after the close.
        rounds[int(log["args"]["round"])].contributor_reward = int(
            log["args"]["contributorReward"]
        )
    for log in logs(zkpot, "RoundRecorded", task_id, **which):
        record = log["args"]["record"]
        r = int(record["round"])
        if r in rounds:
            outcome = rounds[r]
            outcome.finalized = True
            outcome.global_model_hash = int.from_bytes(record["globalModelHash"], "big")
            outcome.global_model_cid = record["globalModelCid"]
            aggregator = record["aggregator"]
            outcome.aggregator = None if aggregator == ZERO_ADDRESS else aggregator
    return [rounds[r] for r in sorted(rounds)]
