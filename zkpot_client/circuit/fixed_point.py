"""The evaluation circuit's fixed-point arithmetic and ezkl's run arguments for it.

Weights enter the circuit at `scale` bits, evaluation samples at `data_scale`
bits (the smallest at which they are exact: 4 for the 8x8 digits, whose pixels
are sixteenths). The circuit never rescales: a product of two fixed-point
numbers keeps the sum of their scales, so each weighted layer adds `scale` bits:
the digits MLP's hidden layer is computed at `scale + data_scale` and its logits
at `2 * scale + data_scale` bits, exactly; a model with `products` weighted
layers has logits at `products * scale + data_scale` bits.
ezkl rescales a value (a division, checked by three range decompositions) only
when its scale exceeds `input_scale * scale_rebase_multiplier`, so the
multiplier is set above the logits' scale. The only rounding left in the circuit
is that of the weights themselves.

Every comparison (the ReLU's sign, each logit against the label's) is a
decomposition of the value into `decomp_legs` limbs of `decomp_bits` bits, each
limb range-checked against a table of 2^decomp_bits rows: the legs must hold the
logits' scale plus headroom for their magnitude. ezkl's default base (14 bits)
suits a circuit of 2^15 rows or more; a smaller circuit would be sized by the
table, so the set-up picks the base per circuit (keys.choose_layout).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..exceptions import ZKPoTValueError

#: Decomposition bases (bits) the set-up chooses from: ezkl's default, 14 (a
#: range-check table of 2^14 rows, three legs for the digits), down to 10 (a
#: table of 2^10 rows, but five legs).
DECOMP_BITS_CHOICES = (14, 13, 12, 11, 10)
#: Magnitude headroom (bits) of the largest value the circuit compares: a logit
#: difference up to 2^(HEADROOM_BITS - 1), times the circuit's integer `factor`
#: (model.layers: 2 for one ReLU), which adds its own bits.
HEADROOM_BITS = 12
#: Largest data scale tried for exactness; coarser data is quantised at it.
MAX_DATA_SCALE = 8
#: ezkl's inner columns (advice columns per value): a third column packs the
#: demo's circuit into 2^15 rows instead of 2^16 and proves 27% faster, but each
#: column is more commitments and evaluations to verify on chain (+391k gas per
#: contribution, docs/benchmarks.md): two it is.
INNER_COLUMNS = 2


def data_scale(x: np.ndarray) -> int:
    """The smallest scale (bits) at which every sample value is exact, up to
    `MAX_DATA_SCALE` (used, with rounding, when none is)."""
    x = np.asarray(x, dtype=np.float64)
    for bits in range(MAX_DATA_SCALE + 1):
        scaled = x * 2**bits
        if np.all(scaled == np.round(scaled)):
            return bits
    return MAX_DATA_SCALE


@dataclass(frozen=True)
class Growth:
    """How a model grows the circuit's values (see `model.spec`): its weighted
    layers between a sample and a logit, and the integer factor of its exact
    ReLUs and poolings. The default is the digits MLP's."""

    products: int = 2
    factor: int = 2


DIGITS_MLP = Growth()
"""The growth of a model with one ReLU between two weighted layers."""


def logit_scale(scale: int, data_scale: int, products: int = 2) -> int:
    """Scale (bits) of the circuit's logits: `products` products of weights and data."""
    return products * scale + data_scale


def decomp_legs(
    scale: int, data_scale: int, decomp_bits: int, growth: Growth = DIGITS_MLP
) -> int:
    """Decomposition legs (of `decomp_bits` bits) that hold every value the
    circuit compares."""
    headroom = HEADROOM_BITS - 1 + math.ceil(math.log2(growth.factor))
    bits = logit_scale(scale, data_scale, growth.products) + headroom
    return math.ceil(bits / decomp_bits)


def run_args(
    scale: int,
    data_scale: int,
    logrows: int,
    decomp_bits: int,
    growth: Growth = DIGITS_MLP,
) -> dict[str, object]:
    """ezkl run arguments of the evaluation circuit."""
    if scale < 1 or data_scale < 0:
        raise ZKPoTValueError(
            f"bad fixed-point scales: weights {scale}, data {data_scale}"
        )
    if decomp_bits not in DECOMP_BITS_CHOICES:
        raise ZKPoTValueError(f"unsupported decomposition base: 2^{decomp_bits}")
    return {
        # the weights: private, KZG-committed; every proof begins with the commitment
        "input_visibility": "polycommit",
        "output_visibility": "public",  # the count of correct predictions
        "param_visibility": "polycommit",  # the batch: committed, after the weights
        "input_scale": scale,
        "param_scale": data_scale,
        "scale_rebase_multiplier": math.ceil(
            logit_scale(scale, data_scale, growth.products) / scale
        ),
        "decomp_base": 2**decomp_bits,
        "decomp_legs": decomp_legs(scale, data_scale, decomp_bits, growth),
        "num_inner_cols": INNER_COLUMNS,
        "logrows": logrows,
    }
