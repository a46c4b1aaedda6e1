"""The tiny evaluation circuit the tests prove with, and its proven models.

The circuit is the production one at reduced size (8 evaluation samples, 8 hidden
units: 2^15 rows, ~16 s per proof on 2 cores). Keys and SRS are cached by circuit
digest and each proof by circuit digest and weights, so only a first run proves.
Shared by the pytest fixtures and scripts/make_proof_fixtures.py (the proofs the
forge and ape tests read).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from zkpot_client.circuit.keys import CircuitArtifacts
from zkpot_client.circuit.prover import Proof, prove
from zkpot_client.data import TaskData, load_task_data
from zkpot_client.model import ModelSpec, flatten, quantise
from zkpot_client.paths import cache_dir
from zkpot_client.roles.publisher import TaskDefinition, setup_task_circuit
from zkpot_client.training import train_local

SCALE = 13
TINY_SPEC = ModelSpec(hidden=8)
TINY_EVAL = 8


@dataclass
class TinyTask:
    data: TaskData
    definition: TaskDefinition
    artifacts: CircuitArtifacts


@dataclass
class ProvenModel:
    weights: np.ndarray
    proof: Proof


def tiny_task(seed: int) -> TinyTask:
    """The tiny task of `seed` (seed 1 gives another task: other evaluation samples)."""
    data = load_task_data(eval_samples=TINY_EVAL, num_clients=3, seed=seed)
    definition = TaskDefinition(
        spec=TINY_SPEC,
        eval_x=data.eval_x,
        eval_y=data.eval_y,
        scale=SCALE,
        threshold=0.25,
    )
    return TinyTask(data, definition, setup_task_circuit(definition))


def trained_weights(task: TinyTask, client: int, seed: int = 0) -> np.ndarray:
    shard = task.data.shards[client]
    start = flatten(TINY_SPEC.build(seed=seed))
    return quantise(
        train_local(TINY_SPEC, start, shard.x, shard.y, epochs=5, seed=seed), SCALE
    )


def twin_of(weights: np.ndarray, index: int = 0) -> np.ndarray:
    """`weights` with weight `index` nudged by one fixed-point step: (almost surely)
    the same count, another hash."""
    w = weights.copy()
    w[index] += 2.0**-SCALE
    return w


def prove_cached(artifacts: CircuitArtifacts, weights: np.ndarray) -> Proof:
    """A real proof for `weights`, kept in the cache under the circuit digest and the
    weights, so re-runs skip the prover (the chain still verifies every proof)."""
    key = hashlib.sha256(weights.tobytes()).hexdigest()[:16]
    path = cache_dir() / "test-proofs" / f"{artifacts.digest[:16]}-{key}.json"
    if path.exists():
        return Proof.from_json(json.loads(path.read_text()))
    proof = prove(artifacts, weights)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(proof.to_json()))
    return proof


def proven(task: TinyTask, weights: np.ndarray) -> ProvenModel:
    return ProvenModel(weights, prove_cached(task.artifacts, weights))
