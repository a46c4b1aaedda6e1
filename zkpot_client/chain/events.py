"""Reading the consensus outcome back from contract events.

Everything here comes from the chain: what a task is, who contributed what in
each round, who led, which global model resulted. Nothing is taken from the
memory of the process that ran the clients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .contracts import TaskParams, ZKPoTContract

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
    global_model_hash: int | None = None
    global_model_cid: str | None = None


@dataclass(frozen=True)
class TaskInfo(TaskParams):
    """A task as opened on chain: its parameters, id and aggregator (from events)."""

    task_id: int
    aggregator: str


def _logs(zkpot: ZKPoTContract, event: str, task_id: int, **filters: Any) -> list[Any]:
    ev = getattr(zkpot.contract.events, event)()
    return sorted(
        ev.get_logs(from_block=0, argument_filters={"taskId": task_id, **filters}),
        key=lambda e: (e["blockNumber"], e["logIndex"]),
    )


def task_info(zkpot: ZKPoTContract, task_id: int) -> TaskInfo:
    """The task's parameters as published when it was opened."""
    opened = _logs(zkpot, "TaskOpened", task_id)
    if not opened:
        raise LookupError(f"no task {task_id} on {zkpot.address}")
    a = opened[0]["args"]
    initial = _logs(zkpot, "GlobalModelPublished", task_id, round=0)[0]["args"]
    return TaskInfo(
        task_id=task_id,
        aggregator=a["aggregator"],
        verifier=a["verifier"],
        vka_digest=bytes(a["vkaDigest"]),
        aggregator_key=bytes(a["aggregatorKey"]),
        eval_samples=a["evalSamples"],
        min_correct=a["minCorrect"],
        num_rounds=a["numRounds"],
        commit_blocks=a["commitBlocks"],
        proof_blocks=a["proofBlocks"],
        initial_model_hash=int.from_bytes(initial["modelHash"], "big"),
        initial_model_cid=initial["cid"],
    )


def latest_round_opened(zkpot: ZKPoTContract, task_id: int) -> dict[str, Any]:
    """Arguments of the task's most recent RoundOpened event."""
    return dict(_logs(zkpot, "RoundOpened", task_id)[-1]["args"])


def global_model(
    zkpot: ZKPoTContract, task_id: int, after_round: int
) -> tuple[int, str]:
    """`(hash, cid)` of the global model published after `after_round` (0: the initial one)."""
    logs = _logs(zkpot, "GlobalModelPublished", task_id, round=after_round)
    if not logs:
        raise LookupError(
            f"no global model published for task {task_id} after round {after_round}"
        )
    a = logs[-1]["args"]
    return int.from_bytes(a["modelHash"], "big"), a["cid"]


def accepted_contributions(
    zkpot: ZKPoTContract, task_id: int, round_: int
) -> list[ContributionOutcome]:
    """The round's accepted contributions, in the order they were verified."""
    return [
        c for c in _contributions(zkpot, task_id, round_, with_gas=False) if c.accepted
    ]


def _contributions(
    zkpot: ZKPoTContract, task_id: int, round_: int, *, with_gas: bool
) -> list[ContributionOutcome]:
    out = []
    for log in _logs(zkpot, "ContributionVerified", task_id, round=round_):
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
    for log in _logs(zkpot, "RoundOpened", task_id, **which):
        r = int(log["args"]["round"])
        rounds[r] = RoundOutcome(
            round=r,
            global_model_hash_in=int.from_bytes(log["args"]["globalModelHash"], "big"),
        )
    for r, outcome in rounds.items():
        outcome.contributions = _contributions(zkpot, task_id, r, with_gas=True)
    for log in _logs(zkpot, "RoundClosed", task_id, **which):
        a = log["args"]
        outcome = rounds[int(a["round"])]
        outcome.closed = True
        outcome.leader = None if a["leader"] == ZERO_ADDRESS else a["leader"]
        outcome.leader_correct = int(a["leaderCorrect"])
        outcome.accepted_count = int(a["acceptedCount"])
    for log in _logs(zkpot, "GlobalModelPublished", task_id, **which):
        a = log["args"]
        r = int(a["round"])
        if r in rounds:
            rounds[r].global_model_hash = int.from_bytes(a["modelHash"], "big")
            rounds[r].global_model_cid = a["cid"]
    return [rounds[r] for r in sorted(rounds)]
