"""Showing a run's per-round summary: a rich table and a JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .chain.events import RoundOutcome


def round_summary(
    outcome: RoundOutcome,
    eval_samples: int,
    *,
    names: dict[str, str] | None = None,
    prove_seconds: dict[tuple[int, str], float] | None = None,
    global_accuracy: float | None = None,
) -> dict[str, Any]:
    """A round's summary as `zkpot demo --json` writes it, from its on-chain outcome.

    Proving times (which never reach the chain) and the global model's accuracy
    (which needs the evaluation set) are given by the caller when it knows them.
    """
    names, prove_seconds = names or {}, prove_seconds or {}

    def reward(client: str, accepted: bool) -> int:
        if not accepted:
            return 0
        bonus = outcome.leader_bonus if client == outcome.leader else 0
        return outcome.contributor_reward + bonus

    def seconds(client: str) -> float | None:
        value = prove_seconds.get((outcome.round, client))
        return None if value is None else round(value, 2)

    return {
        "round": outcome.round,
        "leader": outcome.leader,
        "leader_bonus_wei": outcome.leader_bonus,
        "contributions": [
            {
                "client": c.client,
                "name": names.get(c.client, c.client),
                "correct": c.correct,
                "accuracy": c.correct / eval_samples,
                "accepted": c.accepted,
                "reward_wei": reward(c.client, c.accepted),
                "gas_used": c.gas_used,
                "prove_seconds": seconds(c.client),
            }
            for c in outcome.contributions
        ],
        "global_accuracy": global_accuracy,
        "global_model_cid": outcome.global_model_cid,
        "global_model_by_aggregator": outcome.aggregator is not None,
    }


def rounds_table(rounds: list[dict[str, Any]]) -> Table:
    """One row per contribution (with the reward it earned); the leader starred;
    global accuracy per round."""
    table = Table(title="ZKPoT rounds (read back from contract events)")
    for col, justify in [
        ("round", "right"),
        ("client", "left"),
        ("verified acc.", "right"),
        ("accepted", "center"),
        ("reward ETH", "right"),
        ("gas used", "right"),
        ("prove s", "right"),
        ("leader", "center"),
        ("global acc.", "right"),
    ]:
        table.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for r in rounds:
        contributions = r["contributions"] or [None]
        for i, c in enumerate(contributions):
            first = i == 0
            g = r["global_accuracy"]
            table.add_row(
                str(r["round"]) if first else "",
                "(none)" if c is None else c["name"],
                "" if c is None else f"{c['accuracy']:.2f} ({c['correct']})",
                "" if c is None else ("yes" if c["accepted"] else "no"),
                "" if c is None else f"{c.get('reward_wei', 0) / 1e18:.4f}",
                "" if c is None else f"{c['gas_used']:,}",
                ""
                if c is None or c["prove_seconds"] is None
                else f"{c['prove_seconds']:.1f}",
                "★" if c is not None and c["client"] == r["leader"] else "",
                (f"{g:.2f}" if g is not None else "-") if first else "",
                end_section=i == len(contributions) - 1,
            )
    return table


def wide_console() -> Console:
    """A console for the table: a terminal's own width, else wide enough for it."""
    console = Console()
    return console if console.is_terminal else Console(width=110)


def print_rounds(rounds: list[dict[str, Any]], console: Console | None = None) -> None:
    """Print the per-round table and which address each client name stands for."""
    console = console or wide_console()
    console.print(rounds_table(rounds))
    seen = {c["name"]: c["client"] for r in rounds for c in r["contributions"]}
    for name, address in seen.items():
        console.print(f"  {name}: {address}")


def write_json(summary: Any, path: Path) -> None:
    """Write a run's summary (a list of rounds, or an object holding them) as JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n")
