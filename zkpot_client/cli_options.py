"""Options shared by several `zkpot` commands, defined once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def options(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Several click options as one decorator, in the order given."""

    def apply(fn: Any) -> Any:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


JSON = click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the results as JSON here.",
)
EVAL_SAMPLES = click.option(
    "--eval-samples",
    default=100,
    show_default=True,
    help="Evaluation samples bound into the circuit "
    "(100 fits 2^17 rows: about a minute per proof on 2 cores).",
)
HIDDEN = click.option(
    "--hidden", default=16, show_default=True, help="Hidden units of the digits MLP."
)
SRS = click.option(
    "--srs",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Trusted SRS file (ceremony). Without it a development SRS is generated locally.",
)
CACHE_DIR = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Cache of SRS and circuit keys (default: $ZKPOT_CACHE or ~/.cache/zkpot).",
)
THRESHOLD = click.option(
    "--threshold",
    default=0.3,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="Accuracy a contribution needs to be accepted.",
)
ALPHA = click.option(
    "--alpha",
    default=0.5,
    show_default=True,
    help="Dirichlet alpha of the non-IID split (smaller: more skewed).",
)
EPOCHS = click.option(
    "--epochs", default=10, show_default=True, help="Local training epochs per round."
)

circuit_options = options(EVAL_SAMPLES, HIDDEN, SRS, CACHE_DIR)
"""What fixes a task's circuit and where its keys are kept."""
federation_options = options(THRESHOLD, ALPHA, EPOCHS)
"""How a simulated federation accepts, splits its data and trains."""
