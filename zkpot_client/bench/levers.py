"""The prover's levers, each changed alone on the demo's circuit.

Every lever is one difference from the circuit as shipped (the demo's: 100
evaluation samples, the 64-16-10 MLP): another formulation in the graph, or
other ezkl run arguments. Each variant is set up from scratch and measured for
circuit rows and size, set-up time, proving-key size, the witness and the proof
apart, the prover's peak memory, and fidelity: whether its count equals float
torch's on models from untrained to trained. Two more figures belong to the
shipped circuit: the time ezkl spends reading the proving key on each proof
(what keeping keys loaded in a long-running client would save) and the
witness's share of a proof. A last row combines the previous circuit's choices.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..circuit import ezkl_ops
from ..circuit.batches import EvaluationBatch
from ..circuit.commitment import felt_to_int
from ..circuit.export import EvaluationCircuit, export_module
from ..circuit.keys import (
    canonicalise_settings,
    choose_layout,
    dev_srs,
    logrows_needed,
)
from ..circuit.prover import proof_from_ezkl, write_input
from ..config import FederationConfig
from ..model import ModelSpec, count_correct
from ..progress import long_step, warn
from ..training import models_along_training
from .task import machine

FIDELITY_MODELS = 8
"""Models, untrained to trained, whose counts each variant must reproduce."""


class ArgmaxCircuit(EvaluationCircuit):
    """ "Correct" as the previous circuit computed it: the argmax of the logits
    compared with the label."""

    def count(self, logits: torch.Tensor) -> torch.Tensor:
        label = self.is_label.float().argmax(dim=1)
        return (torch.argmax(logits, dim=1) == label).float().sum().reshape(1, 1)


class MaxReluCircuit(EvaluationCircuit):
    """ReLU as `max(z, 0)` (a sign and a mask per hidden unit), the logits not doubled."""

    def logits(self, weights: torch.Tensor) -> torch.Tensor:
        return self.spec.logits(weights, self.eval_x)


class PreviousCircuit(MaxReluCircuit, ArgmaxCircuit):
    """The previous circuit's graph: ReLU as `max(z, 0)` and an argmax."""


RESCALED = {"param_scale": 13, "scale_rebase_multiplier": 1}
"""Samples at the weights' scale and ezkl's default rebase: every product is
rescaled back to 13 bits (a division checked by range decompositions)."""


@dataclass(frozen=True)
class Lever:
    name: str
    change: str
    """What differs from the shipped circuit."""
    graph: Callable[..., EvaluationCircuit] = EvaluationCircuit
    run_args: dict[str, Any] = field(default_factory=dict)
    calibrate: bool = False
    """Let ezkl's calibrate_settings (target "resources") choose the run arguments."""


LEVERS = (
    Lever("shipped", "the circuit as shipped"),
    Lever(
        "argmax",
        "correct as argmax(logits) == label instead of the sum of signs",
        graph=ArgmaxCircuit,
    ),
    Lever("max-relu", "ReLU as max(z, 0) instead of z + abs(z)", graph=MaxReluCircuit),
    Lever(
        "rescaled",
        "samples at 13 bits, ezkl's default rebase (a rescale after each product)",
        run_args=RESCALED,
    ),
    Lever(
        "hashed-weights",
        "weights a Poseidon-hashed input instead of KZG-committed",
        run_args={"input_visibility": "hashed/public"},
    ),
    Lever(
        "1-column", "one inner column instead of two", run_args={"num_inner_cols": 1}
    ),
    Lever("3-columns", "three inner columns", run_args={"num_inner_cols": 3}),
    Lever(
        "decomp-2^16x3",
        "comparisons in 3 legs of 16 bits (a 2^16-row range table)",
        run_args={"decomp_base": 2**16, "decomp_legs": 3},
    ),
    Lever(
        "decomp-2^16x2",
        "comparisons in 2 legs of 16 bits: 32 bits, too few for the logits",
        run_args={"decomp_base": 2**16, "decomp_legs": 2},
    ),
    Lever(
        "decomp-2^10x5",
        "comparisons in 5 legs of 10 bits (a 2^10-row range table)",
        run_args={"decomp_base": 2**10, "decomp_legs": 5},
    ),
    Lever(
        "bounded-lookups",
        "bounded_log_lookup on",
        run_args={"bounded_log_lookup": True},
    ),
    Lever("check-safe", "check_mode safe", run_args={"check_mode": "safe"}),
    Lever(
        "no-freivalds",
        "matrix products checked in full (disable_freivalds)",
        run_args={"disable_freivalds": True},
    ),
    Lever(
        "unchecked-io",
        "no range check on the weights (ignore_range_check_inputs_outputs)",
        run_args={"ignore_range_check_inputs_outputs": True},
    ),
    Lever(
        "calibrated",
        "run arguments chosen by ezkl's calibrate_settings, target resources",
        calibrate=True,
    ),
    Lever(
        "previous",
        "the previous circuit's choices together: argmax, max(z, 0), hashed "
        "weights, samples at 13 bits with a rescale after each product, ezkl's "
        "2 legs of 14 bits (enough for rescaled values)",
        graph=PreviousCircuit,
        run_args={"input_visibility": "hashed/public", "decomp_legs": 2, **RESCALED},
    ),
)


def lever_names() -> list[str]:
    return [lever.name for lever in LEVERS]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower())


def measure_lever(
    lever: Lever,
    spec: ModelSpec,
    batch: EvaluationBatch,
    data_scale: int,
    models: list[np.ndarray],
    torch_counts: list[int],
    work: Path,
    *,
    cache: Path | None = None,
    scale: int = 13,
) -> dict[str, Any]:
    """Set the variant up and measure it (see the module's docstring); `models`
    are the fidelity models, `torch_counts` their float counts on `batch`."""
    d = work / _slug(lever.name)
    d.mkdir(parents=True, exist_ok=True)
    onnx, settings, compiled = (
        d / "circuit.onnx",
        d / "settings.json",
        d / "circuit.ezkl",
    )
    export_module(lever.graph(spec, batch.x, batch.y), spec, onnx)
    trained = models[-1]
    prove_input = write_input(d / "prove", trained)
    shipped = choose_layout(d, scale, data_scale)  # as the set-up would lay it out
    args = {**shipped.run_args(), **lever.run_args}
    if lever.calibrate:
        ezkl_ops.run_isolated(
            ezkl_ops.calibrate, str(prove_input), str(onnx), str(settings), 17
        )
        canonicalise_settings(settings)  # it writes a null timestamp it cannot read
        chosen = json.loads(settings.read_text())
        logrows = int(chosen["run_args"]["logrows"])
    else:
        found = ezkl_ops.run_isolated(
            ezkl_ops.gen_settings, str(onnx), str(settings), args
        )
        logrows = logrows_needed(found)
        chosen = ezkl_ops.run_isolated(
            ezkl_ops.gen_settings,
            str(onnx),
            str(settings),
            {**args, "logrows": logrows},
        )
    ezkl_ops.run_isolated(
        ezkl_ops.compile_circuit, str(onnx), str(compiled), str(settings)
    )
    srs = dev_srs(logrows, cache)
    started = time.perf_counter()
    with long_step(f"{lever.name}: set-up (2^{logrows} rows)"):
        ezkl_ops.run_isolated(
            ezkl_ops.setup,
            str(compiled),
            str(d / "vk.key"),
            str(d / "pk.key"),
            str(srs),
        )
    setup_seconds = time.perf_counter() - started
    inputs = [str(write_input(d / f"model-{i}", w)) for i, w in enumerate(models)]
    outputs = ezkl_ops.run_isolated(ezkl_ops.witness_outputs, inputs, str(compiled))
    # a sum of booleans: an integer whatever scale ezkl reports for the output
    circuit = [felt_to_int(o[0][0]) for o in outputs]
    exact = sum(c == t for c, t in zip(circuit, torch_counts, strict=True))
    with long_step(f"{lever.name}: proving"):
        steps = ezkl_ops.run_isolated(
            ezkl_ops.prove,
            str(prove_input),
            str(compiled),
            str(d / "pk.key"),
            str(srs),
            str(d / "witness.json"),
            str(d / "proof.json"),
        )
    peak_kib = ezkl_ops.peak_kib["prove"]
    load_seconds = ezkl_ops.run_isolated(
        ezkl_ops.load_pk_seconds, str(d / "pk.key"), str(settings), str(d / "vk2.key")
    )
    result = {
        "lever": lever.name,
        "change": lever.change,
        "rows": int(chosen["num_rows"]),
        "logrows": logrows,
        "scales": [
            chosen["run_args"]["input_scale"],
            chosen["run_args"]["param_scale"],
        ],
        "setup_seconds": round(setup_seconds, 1),
        "proving_key_mib": round((d / "pk.key").stat().st_size / 2**20),
        "witness_seconds": round(steps["witness_seconds"], 2),
        "prove_seconds": round(steps["prove_seconds"], 1),
        "pk_load_seconds": round(load_seconds, 1),
        "peak_prover_memory_mib": round(peak_kib / 1024),
        "proof_bytes": len(proof_from_ezkl(steps["proof"]).proof),
        "fidelity": f"{exact}/{len(models)}",
        "output_scale": chosen["model_output_scales"][0],
        "count_errors": [c - t for c, t in zip(circuit, torch_counts, strict=True)],
    }
    shutil.rmtree(d, ignore_errors=True)  # keys of every variant would fill the disk
    return result


def run_levers(
    cfg: FederationConfig,
    names: list[str] | None = None,
    *,
    on_row: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """Measure the levers `names` (default: all) on `cfg`'s circuit and round-1
    batch; `on_row` is called with the rows so far after each. A variant ezkl
    refuses is a row with its `error`."""
    cfg = cfg.with_(rounds=1)
    data = cfg.data()
    definition = cfg.definition(data)
    spec = definition.spec
    batch = definition.batches[0]
    models = models_along_training(spec, data.shards, FIDELITY_MODELS, cfg.scale)
    torch_counts = [count_correct(spec, w, batch.x, batch.y) for w in models]
    chosen = [lever for lever in LEVERS if names is None or lever.name in names]
    rows = []
    with tempfile.TemporaryDirectory(prefix="zkpot-levers-") as tmp:
        for lever in chosen:
            try:
                row = measure_lever(
                    lever,
                    spec,
                    batch,
                    definition.data_scale,
                    models,
                    torch_counts,
                    Path(tmp),
                    cache=cfg.cache,
                    scale=cfg.scale,
                )
            except RuntimeError as exc:  # ezkl refused the variant: that is a result
                warn(f"{lever.name}: {exc}")
                row = {"lever": lever.name, "change": lever.change, "error": str(exc)}
            row |= {"date": date.today().isoformat(), "machine": machine()}
            rows.append(row)
            if on_row is not None:
                on_row(rows)
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    """The levers as a Markdown table."""
    lines = [
        "| lever | change from the shipped circuit | rows | size | set-up "
        "| witness | proof | key read | peak memory | proving key | proof bytes "
        "| counts exact |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        if "error" in r:
            why = r["error"].rsplit("|", 1)[-1].strip()
            lines.append(f"| {r['lever']} | {r['change']} | fails: {why} |||||||||")
            continue
        lines.append(
            f"| {r['lever']} | {r['change']} | {r['rows']:,} | 2^{r['logrows']} "
            f"| {r['setup_seconds']} s | {r['witness_seconds']} s "
            f"| {r['prove_seconds']} s | {r['pk_load_seconds']} s "
            f"| {r['peak_prover_memory_mib']:,} MiB | {r['proving_key_mib']:,} MiB "
            f"| {r['proof_bytes']:,} | {r['fidelity']} |"
        )
    return "\n".join(lines) + "\n"
