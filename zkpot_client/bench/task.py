"""Benchmark of one task configuration: circuit size, setup, proving time and
memory, proof size, on-chain verification gas and calldata."""

from __future__ import annotations

import json
import platform
import statistics
import tempfile
import time
from datetime import date
from typing import Any

from ..chain.backend import Chain, dev_accounts
from ..circuit import ezkl_ops
from ..config import FederationConfig
from ..crypto import new_keypair
from ..roles.batches import round_circuit
from ..roles.client import Client
from ..roles.publisher import TaskPublisher
from ..rounds import RoundDriver
from ..storage import LocalDirStore


def machine() -> str:
    """A one-line description of this machine."""
    import os

    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {mem_gib:.0f} GiB, Python {platform.python_version()}"


def run_bench(cfg: FederationConfig, *, proofs: int = 2) -> dict[str, Any]:
    """Measure one configuration end to end on the embedded chain: set-up, `proofs`
    proofs of one freshly trained model, and its submission."""
    with tempfile.TemporaryDirectory(prefix="zkpot-bench-") as tmp:
        return _run_bench(cfg, LocalDirStore(tmp), proofs)


def _run_bench(
    cfg: FederationConfig, store: LocalDirStore, proofs: int
) -> dict[str, Any]:
    chain = Chain.embedded()
    publisher_account, client_account = dev_accounts(2)
    cfg = cfg.with_(threshold=0.0, rounds=1)
    data = cfg.data()
    definition = cfg.definition(data)
    spec = definition.spec
    publisher = TaskPublisher(
        account=publisher_account, chain=chain, store=store, definition=definition
    )
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
        name="bench",
        account=client_account,
        zkpot=zkpot,
        store=store,
        shard=data.shards[0],
        spec=spec,
        scale=cfg.scale,
        circuit=artifacts,
        training=cfg.training,
    )
    client.register(task)
    driver = RoundDriver(
        chain=chain,
        zkpot=zkpot,
        task=task,
        keeper=publisher_account,
        artifacts=artifacts,
        publisher=publisher,
    )
    driver.start()
    driver.commit(1, [client])
    driver.reveal(1)
    started = time.perf_counter()  # what a client does with a revealed batch
    round_circuit(zkpot, store, task, 1, artifacts, spec, cache=cfg.cache)
    batch_seconds = time.perf_counter() - started
    prove_seconds = []
    for _ in range(max(proofs, 1)):
        driver.prove(1, [client])
        prove_seconds.append(driver.prove_seconds[(1, client.address)])
    peak_prover_kib = ezkl_ops.peak_kib["prove"]  # the last proof's own child
    receipt = client.submit(task)
    assert receipt is not None
    tx = chain.w3.eth.get_transaction(receipt["transactionHash"])
    proof = client.current.proof if client.current else None
    return {
        "date": date.today().isoformat(),
        "machine": machine(),
        "eval_samples": cfg.eval_samples,
        "model": f"{spec.describe()} ({spec.num_weights} weights)",
        "num_weights": spec.num_weights,
        "scale": cfg.scale,
        "rows": json.loads(artifacts.settings.read_text())["num_rows"],
        "logrows": artifacts.logrows,
        "setup_seconds": round(setup_seconds, 1),
        "setup_was_cached": setup_cached,
        "batch_check_seconds": round(batch_seconds, 1),
        "proving_key_mib": round(artifacts.pk.stat().st_size / 2**20),
        "prove_seconds": [round(s, 1) for s in prove_seconds],
        "prove_seconds_median": round(statistics.median(prove_seconds), 1),
        "peak_prover_memory_mib": round(peak_prover_kib / 1024),
        "proof_bytes": len(proof.proof) if proof else None,
        "submit_gas": int(receipt["gasUsed"]),
        "submit_calldata_bytes": len(tx["input"]),
    }
