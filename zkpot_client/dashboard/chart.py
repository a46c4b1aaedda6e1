"""The accuracy-over-rounds chart, drawn with matplotlib as an SVG document."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure


@dataclass(frozen=True)
class Series:
    """One line of the chart: a label and its (round, accuracy) points."""

    label: str
    points: tuple[tuple[int, float], ...]
    style: str = "-"
    colour: str = "C0"


def accuracy_chart(series: Sequence[Series], *, threshold: float, rounds: int) -> bytes:
    """Draw `series` over rounds 0 to `rounds`, with the task's acceptance
    threshold; return the SVG document."""
    fig = Figure(figsize=(7.2, 3.1), layout="constrained")
    FigureCanvasSVG(fig)
    ax = fig.add_subplot()
    drawn = [s for s in series if s.points]
    for s in drawn:
        xs, ys = zip(*sorted(s.points), strict=True)
        ax.plot(xs, ys, s.style, marker="o", color=s.colour, label=s.label, linewidth=2)
    ax.axhline(
        threshold, color="grey", linestyle=":", label=f"threshold {threshold:.2f}"
    )
    ax.set_xlim(-0.3, rounds + 0.3)
    ax.set_xticks(range(0, rounds + 1))
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("round")
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3)
    if not drawn:
        ax.text(
            rounds / 2,
            0.5,
            "no finalised round yet",
            ha="center",
            va="center",
            color="grey",
        )
    ax.legend(loc="lower right", fontsize="small")
    out = io.BytesIO()
    fig.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()
