"""Benchmark of one task configuration: circuit size, setup, proving time and
memory, proof size, on-chain verification gas and calldata."""

from __future__ import annotations

import platform
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .chain.backend import Chain, dev_accounts
from .crypto import new_keypair
from .data import load_task_data
from .model import ModelSpec
from .roles.client import Client
from .roles.publisher import TaskDefinition, TaskPublisher
from .storage import LocalDirStore


@dataclass(frozen=True)
class BenchConfig:
    """What to measure."""

    eval_samples: int = 100
    hidden: int = 16
    scale: int = 13
    proofs: int = 2
    """How many proofs to time (each of a freshly trained model)."""
    srs: Path | None = None
    cache: Path | None = None


def machine() -> str:
    """A one-line description of this machine."""
    import os

    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {mem_gib:.0f} GiB, Python {platform.python_version()}"


def run_bench(cfg: BenchConfig) -> dict[str, Any]:
    """Measure one configuration end to end on the embedded chain."""
    chain = Chain.embedded()
    publisher_account, client_account = dev_accounts(2)
    store = LocalDirStore(tempfile.mkdtemp(prefix="zkpot-bench-"))
    spec = ModelSpec(hidden=cfg.hidden)
    data = load_task_data(eval_samples=cfg.eval_samples, num_clients=4, seed=0)
    definition = TaskDefinition(
        spec=spec,
        eval_x=data.eval_x,
        eval_y=data.eval_y,
        scale=cfg.scale,
        threshold=0.0,
    )
    publisher = TaskPublisher(publisher_account, chain, store, definition)
    started, wall = time.perf_counter(), time.time()
    artifacts = publisher.setup_circuit(srs=cfg.srs, cache=cfg.cache)
    setup_seconds = time.perf_counter() - started
    setup_cached = (artifacts.directory / "DONE").stat().st_mtime < wall
    zkpot = publisher.deploy()
    task = publisher.create_task(
        zkpot,
        artifacts,
        aggregator=publisher_account.address,
        aggregator_key=bytes(new_keypair().public_key),
    )
    client = Client(
        "bench", client_account, zkpot, store, data.shards[0], spec, cfg.scale
    )
    client.register(task)
    chain.advance_to(task.start_block)
    weights = client.train(task, 1)
    client.commit(task, 1, weights)
    prove_seconds = []
    for _ in range(max(cfg.proofs, 1)):
        prove_seconds.append(client.prove(artifacts).prove_seconds)
    peak_child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    chain.advance_to(zkpot.round(task.task_id, 1)["commitEnd"] + 1)
    receipt = client.submit(task, artifacts.vka_words())
    tx = chain.w3.eth.get_transaction(receipt["transactionHash"])
    proof = client.current.proof if client.current else None
    return {
        "date": date.today().isoformat(),
        "machine": machine(),
        "eval_samples": cfg.eval_samples,
        "model": f"{spec.inputs}-{spec.hidden}-{spec.classes} MLP ({spec.num_weights} weights)",
        "scale": cfg.scale,
        "logrows": artifacts.logrows,
        "setup_seconds": round(setup_seconds, 1),
        "setup_was_cached": setup_cached,
        "proving_key_mib": round(artifacts.pk.stat().st_size / 2**20),
        "prove_seconds": [round(s, 1) for s in prove_seconds],
        "prove_seconds_median": round(statistics.median(prove_seconds), 1),
        "peak_prover_memory_mib": round(peak_child_kib / 1024),
        "proof_bytes": len(proof.proof) if proof else None,
        "submit_gas": int(receipt["gasUsed"]),
        "submit_calldata_bytes": len(tx["input"]),
    }
