"""Showing a run's per-round summary: a rich table and a JSON file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .types import RoundSummary


def rounds_table(
    rounds: Sequence[RoundSummary], *, verification: str = "immediate"
) -> Table:
    """One row per contribution (with the reward it earned); the leader starred;
    global accuracy per round. In an optimistic task a count is claimed, and
    stands because no dispute struck it."""
    table = Table(title="ZKPoT rounds (read back from contract events)")
    count = "verified acc." if verification == "immediate" else "claimed acc."
    for col, justify in [
        ("round", "right"),
        ("client", "left"),
        (count, "right"),
        ("accepted", "center"),
        ("reward ETH", "right"),
        ("gas used", "right"),
        ("prove s", "right"),
        ("leader", "center"),
        ("global acc.", "right"),
        ("model", "center"),
    ]:
        table.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for r in rounds:
        contributions = r.contributions or (None,)
        for i, c in enumerate(contributions):
            first = i == 0
            g = r.global_accuracy
            table.add_row(
                str(r.round) if first else "",
                "(none)" if c is None else c.name,
                "" if c is None else f"{c.accuracy:.2f} ({c.correct})",
                "" if c is None else ("yes" if c.accepted else "no"),
                "" if c is None else f"{c.reward_wei / 1e18:.4f}",
                "" if c is None or c.gas_used is None else f"{c.gas_used:,}",
                ""
                if c is None or c.prove_seconds is None
                else f"{c.prove_seconds:.1f}",
                "★" if c is not None and c.client == r.leader else "",
                (f"{g:.2f}" if g is not None else "-") if first else "",
                global_model_status(r) if first else "",
                end_section=i == len(contributions) - 1,
            )
    table.caption = "evaluation batch of each round: " + "; ".join(
        f"{r.round}: {r.batch_cid or '(not revealed)'}" for r in rounds
    )
    table.caption += (
        "\nmodel: the round's global model, proven (published with a proof that it "
        "is the FedAvg of the round's accepted contributions; the proof's hash is in "
        "the round's record) or kept (the previous one)"
    )
    if verification != "immediate":
        table.caption += (
            "\nclaimed counts stand: none was struck by a dispute in the round's "
            "dispute window (a disputed claim is verified on chain)"
        )
    return table


def global_model_status(r: RoundSummary) -> str:
    """How the round's global model came: proven, or the previous one kept."""
    if r.aggregation_proof_hash is not None:
        return "proven"
    return "kept" if r.global_model_cid is not None else "-"


def wide_console() -> Console:
    """A console for the table: a terminal's own width, else wide enough for it."""
    console = Console()
    return console if console.is_terminal else Console(width=130)


def print_rounds(
    rounds: Sequence[RoundSummary],
    console: Console | None = None,
    *,
    verification: str = "immediate",
) -> None:
    """Print the per-round table and which address each client name stands for."""
    console = console or wide_console()
    console.print(rounds_table(rounds, verification=verification))
    print_names(rounds, console)


def print_names(rounds: Sequence[RoundSummary], console: Console | None = None) -> None:
    """Print which address each client name stands for."""
    console = console or wide_console()
    seen = {c.name: c.client for r in rounds for c in r.contributions}
    for name, address in seen.items():
        console.print(f"  {name}: {address}")


def write_json(summary: Any, path: Path) -> None:
    """Write JSON-ready data (a run's `rounds_json`, or an object holding it) to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n")
