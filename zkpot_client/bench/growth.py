"""How a proof's cost grows with the task: proof time, peak prover memory and
proving-key size against evaluation samples per batch and against the model,
each configuration measured end to end by `task.run_bench`."""

from __future__ import annotations

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
    arch: str = "mlp"


def points() -> list[Point]:
    """The study: the demo's MLP at each sample count, then at 100 samples the
    MLP at hidden 16 and 64 and the small CNN."""
    return [
        *(Point("samples", n) for n in SAMPLES),
        Point("model", 100, hidden=64),
        Point("model", 100, arch="cnn"),
    ]


def run_growth(base: FederationConfig, *, proofs: int = 1) -> list[dict[str, Any]]:
    """Measure every point (the demo's own configuration once, for both series)."""
    rows = []
    for point in points():
        cfg = base.with_(
            eval_samples=point.eval_samples, hidden=point.hidden, arch=point.arch
        )
        rows.append({"series": point.series, **run_bench(cfg, proofs=proofs)})
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
    """Proof time, peak memory and key size against evaluation samples (left) and
    against the number of weights (right), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_samples = sorted(
        (r for r in rows if r["model"] == rows[0]["model"]),
        key=lambda r: r["eval_samples"],
    )
    by_model = sorted(
        (r for r in rows if r["eval_samples"] == 100), key=lambda r: r["num_weights"]
    )
    measures = (
        ("prove_seconds_median", "proof (s)"),
        ("peak_prover_memory_mib", "peak prover memory (MiB)"),
        ("proving_key_mib", "proving key (MiB)"),
    )
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, series, x_key, x_label in (
        (axes[0], by_samples, "eval_samples", "evaluation samples per batch"),
        (axes[1], by_model, "num_weights", "weights of the model (100 samples)"),
    ):
        twin = ax.twinx()
        xs = [r[x_key] for r in series]
        ax.plot(xs, [r[measures[0][0]] for r in series], "o-", label=measures[0][1])
        for key, label in measures[1:]:
            twin.plot(xs, [r[key] for r in series], "s--", label=label)
        if series is by_model:
            for r in series:
                ax.annotate(
                    r["model"].split(" (")[0],
                    (r[x_key], r[measures[0][0]]),
                    textcoords="offset points",
                    xytext=(4, 6),
                    fontsize=8,
                )
        ax.set_xlabel(x_label)
        ax.set_ylabel("seconds")
        twin.set_ylabel("MiB")
        ax.grid(alpha=0.3)
        lines = ax.get_lines() + twin.get_lines()
        ax.legend(
            lines, [line.get_label() for line in lines], fontsize=8, loc="upper left"
        )
    fig.suptitle(f"Cost of one proof ({rows[0]['machine']}, {rows[0]['date']})")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
