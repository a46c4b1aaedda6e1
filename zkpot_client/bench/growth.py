"""How a proof's cost grows with the task: proof time, peak prover memory and
proving-key size against evaluation samples per batch and against the model,
each configuration measured end to end by `task.run_bench`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import FederationConfig
from .task import run_bench

SAMPLES = (32, 100, 256, 512)
"""Evaluation samples per batch, with the demo's model."""


@dataclass(frozen=True)
class Point:
    """One configuration of the study."""

    series: str
    """"samples" (the demo's model, more or fewer samples) or "model"."""
    eval_samples: int
    hidden: int = 16
    model: str = "mlp"


def points() -> list[Point]:
    """The study: the demo's MLP at each sample count, then at 100 samples the
    MLP at hidden 16 and 64 and the small CNN."""
    return [
        *(Point("samples", n) for n in SAMPLES),
        Point("model", 100, hidden=64),
        Point("model", 100, model="cnn"),
    ]


def run_growth(
    base: FederationConfig,
    *,
    proofs: int = 1,
    on_row: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """Measure every point (the demo's own configuration once, for both series);
    `on_row` is called with the rows so far after each."""
    rows = []
    for point in points():
        cfg = base.with_(
            eval_samples=point.eval_samples, hidden=point.hidden, model=point.model
        )
        rows.append({"series": point.series, **run_bench(cfg, proofs=proofs)})
        if on_row is not None:
            on_row(rows)
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    """The study as a Markdown table."""
    lines = [
        "| model | evaluation samples | circuit rows | size | set-up | proof "
        "| peak prover memory | proving key | gas of `submitProof` |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['eval_samples']} | {r['rows']:,} | 2^{r['logrows']} "
            f"| {r['setup_seconds']} s | {r['prove_seconds_median']} s "
            f"| {r['peak_prover_memory_mib']:,} MiB | {r['proving_key_mib']:,} MiB "
            f"| {r['submit_gas']:,} |"
        )
    return "\n".join(lines) + "\n"


def plot(rows: list[dict[str, Any]], out: Path) -> Path:
    """Proof time, peak memory and key size against evaluation samples (left)
    and for each model at one sample count (right), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # the model measured at most sample counts, and the sample count at most models
    model = Counter(r["model"] for r in rows).most_common(1)[0][0]
    samples = Counter(r["eval_samples"] for r in rows).most_common(1)[0][0]
    by_samples = sorted(
        (r for r in rows if r["model"] == model), key=lambda r: r["eval_samples"]
    )
    by_model = sorted(
        (r for r in rows if r["eval_samples"] == samples), key=lambda r: r["rows"]
    )
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for ax, series, xs, x_label, style in (
        (
            axes[0],
            by_samples,
            [r["eval_samples"] for r in by_samples],
            f"evaluation samples per batch ({model.split(' (')[0]})",
            "-",
        ),
        (
            axes[1],
            by_model,
            list(range(len(by_model))),
            f"model ({samples} evaluation samples)",
            "",
        ),
    ):
        twin = ax.twinx()
        ax.plot(xs, [r["prove_seconds_median"] for r in series], "o" + style,
                color="C0", label="proof (s, left)")  # fmt: skip
        twin.plot(xs, [r["peak_prover_memory_mib"] for r in series], "s" + style,
                  color="C1", label="peak prover memory (MiB, right)")  # fmt: skip
        twin.plot(xs, [r["proving_key_mib"] for r in series], "^" + style,
                  color="C2", label="proving key (MiB, right)")  # fmt: skip
        if series is by_model:
            ax.set_xticks(xs)
            ax.set_xticklabels(
                [f"{r['model'].split(' (')[0]}\n{r['rows']:,} rows" for r in series],
                fontsize=8,
            )
            ax.set_xlim(-0.5, len(xs) - 0.5)
        ax.set_xlabel(x_label)
        ax.set_ylabel("seconds")
        ax.set_ylim(bottom=0)
        twin.set_ylabel("MiB")
        twin.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    handles = [*axes[1].get_lines(), *twin.get_lines()]  # the last panel's
    fig.legend(handles, [h.get_label() for h in handles], loc="lower center", ncol=3)
    fig.suptitle(f"Cost of one proof ({rows[0]['machine']}, {rows[0]['date']})")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
