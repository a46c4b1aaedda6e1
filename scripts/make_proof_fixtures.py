#!/usr/bin/env python
"""Write tests/fixtures/tiny-proofs.json: real ezkl proofs of the tests' tiny
circuit, with its verification-key artefact, for the forge and ape tests.

    .venv/bin/python scripts/make_proof_fixtures.py

The proofs are of twelve models, on the task's round-1 evaluation batch: `a`, `b`
and `c` (trained on three clients' shards), `init` (untrained), and variants of
a, b and c with one weight nudged by one fixed-point step (the same count,
another hash): a proof can be used once per circuit, so multi-round tests need a
fresh model per client and round. The first three are a, b and a_twin (the forge
tests' A, B and A_TWIN). One more, `a_batch2`, is model a proven on round 2's
batch; `batchCommitments` holds both batches' commitments (what their proofs
begin with).
`aggregation` holds the tiny task's aggregation circuit (4 slots, the forge
tests' maxClients): its key artefact and proofs over models a and b: `ab` (their
FedAvg, slots in the order a, b), `ba` (the same model, slots b, a), `a_alone`
(model a as the average of itself alone) and `nudged` (the FedAvg with one
weight one step off: a proof whose `ok` instance is 0; a model further off has
no proof at all). Proofs are
randomised, so a re-run writes other bytes of equal meaning; the artefact and the
proofs are always written together and stay consistent.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from tiny import SCALE, TINY_SPEC, proven, tiny_task, trained_weights, twin_of  # noqa: E402

from zkpot_client.circuit.aggregation import (  # noqa: E402
    fedavg_fixed,
    prove_aggregation,
    setup_aggregation,
)
from zkpot_client.circuit.commitment import weights_hash  # noqa: E402
from zkpot_client.circuit.keys import vka_digest  # noqa: E402
from zkpot_client.model import flatten, quantise  # noqa: E402
from zkpot_client.types import Proof  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "tiny-proofs.json"
SLOTS = 4
"""The forge tests' maxClients."""


def entry(name: str, p: Proof) -> dict[str, object]:
    return {
        "name": name,
        "proof": "0x" + p.proof.hex(),
        "weightsHash": "0x" + p.weights_hash.to_bytes(32, "big").hex(),
        "correct": p.correct,
    }


def main() -> None:
    task = tiny_task(0)
    a, b, c = (trained_weights(task, i) for i in range(3))
    models = {"a": a, "b": b, "a_twin": twin_of(a), "c": c}
    models["init"] = quantise(flatten(TINY_SPEC.build(seed=0)), SCALE)
    for i in range(1, 3):
        models[f"a_twin{i}"] = twin_of(a, i)
        models[f"b_twin{i}"] = twin_of(b, i)
        models[f"c_twin{i}"] = twin_of(c, i)
    models["b_twin3"] = twin_of(b, 3)
    words = task.artifacts.vka_words()
    proofs = []
    for name, weights in models.items():
        proofs.append(entry(name, proven(task, weights).proof))
    proofs.append(entry("a_batch2", proven(task, a, round_=2).proof))
    aggregation = setup_aggregation(task.artifacts, TINY_SPEC.num_weights, SLOTS)
    average = fedavg_fixed([a, b], SCALE)
    cases = {
        "ab": ([a, b], average),
        "ba": ([b, a], average),
        "a_alone": ([a], a),
        "nudged": ([a, b], twin_of(average)),
    }
    aggregates = []
    for name, (inputs, model) in cases.items():
        p = prove_aggregation(aggregation, inputs, model)
        aggregates.append(
            {
                "name": name,
                "proof": "0x" + p.proof.hex(),
                "instances": [str(i) for i in p.instances],
                "modelHash": "0x"
                + weights_hash(model, task.artifacts).to_bytes(32, "big").hex(),
            }
        )
    agg_words = aggregation.vka_words()
    fixture = {
        "circuitDigest": task.artifacts.digest,
        "evalSamples": task.definition.eval_samples,
        "minCorrect": task.definition.min_correct,
        "vka": ["0x" + w.hex() for w in words],
        "vkaDigest": "0x" + vka_digest(words).hex(),
        "batchCommitments": ["0x" + task.commitment(r).hex() for r in (1, 2)],
        "proofs": proofs,
        "aggregation": {
            "slots": SLOTS,
            "vka": ["0x" + w.hex() for w in agg_words],
            "vkaDigest": "0x" + vka_digest(agg_words).hex(),
            "aggregates": aggregates,
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture, indent=1) + "\n")
    counts = ", ".join(f"{p['name']}={p['correct']}" for p in proofs)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(words)} key words; counts {counts}")


if __name__ == "__main__":
    main()
