"""What a proven aggregate costs, per number of contributions: the demo's model,
one round on the embedded chain with K clients contributing to a task of S
contribution slots, then the aggregator's proof and `publishGlobalModel`.

The aggregation circuit has one slot per client the task admits (S =
maxClients) and proves any K <= S of them, the unused slots masked out: its
cost is that of S, whatever K (the last point shows it)."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from typing import Any

from ..chain.backend import Chain, dev_accounts
from ..chain.events import logs
from ..circuit import ezkl_ops
from ..circuit.aggregation import setup_aggregation
from ..config import FederationConfig
from ..roles.client import Client
from ..roles.publisher import TaskPublisher
from ..rounds import RoundDriver
from ..storage import LocalDirStore

POINTS = ((1, 1), (4, 4), (10, 10), (10, 1))
"""(slots, contributions): K = 1, 4 and 10 in a circuit of their size, and one
contribution in the 10-slot circuit."""


def run_aggregation(
    base: FederationConfig,
    *,
    on_row: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """Measure every point; `on_row` is called with the rows so far after each."""
    rows = []
    for slots, contributions in POINTS:
        with tempfile.TemporaryDirectory(prefix="zkpot-bench-") as tmp:
            rows.append(_measure(base, slots, contributions, LocalDirStore(tmp)))
        if on_row is not None:
            on_row(rows)
    return rows


def _measure(
    base: FederationConfig, slots: int, contributions: int, store: LocalDirStore
) -> dict[str, Any]:
    cfg = base.with_(clients=slots, threshold=0.0, rounds=1)
    chain = Chain.embedded(accounts=slots + 1)
    accounts = dev_accounts(slots + 1)
    data = cfg.data()
    definition = cfg.definition(data)
    publisher = TaskPublisher(
        account=accounts[0], chain=chain, store=store, definition=definition
    )
    artifacts = publisher.setup_circuit(srs=cfg.srs, cache=cfg.cache)
    started, wall = time.perf_counter(), time.time()
    circuit = setup_aggregation(
        artifacts, definition.spec.num_weights, slots, cache=cfg.cache
    )
    setup_seconds = time.perf_counter() - started
    setup_cached = (circuit.directory / "DONE").stat().st_mtime < wall
    zkpot, aggregator, task = publisher.deploy_with_aggregator(artifacts)
    clients = [
        Client(
            name=f"bench-{i}",
            account=accounts[1 + i],
            zkpot=zkpot,
            store=store,
            shard=data.shards[i],
            spec=definition.spec,
            scale=cfg.scale,
            circuit=artifacts,
            training=cfg.training,
            seed=i,
        )
        for i in range(contributions)
    ]
    for c in clients:
        c.register(task)
    driver = RoundDriver(
        chain=chain,
        zkpot=zkpot,
        task=task,
        keeper=accounts[0],
        artifacts=artifacts,
        aggregator=aggregator,
        publisher=publisher,
    )
    driver.start()
    driver.commit(1, clients)
    driver.reveal(1)
    driver.prove(1, clients)
    driver.submit(1, clients)
    driver.close(1)
    result = driver.aggregate(1)
    if result is None or result.proof is None:
        raise RuntimeError("the benchmark's aggregate was not proven")
    (record,) = logs(zkpot, "RoundRecorded", task.task_id, round=1)
    tx = chain.w3.eth.get_transaction(record["transactionHash"])
    receipt = chain.w3.eth.get_transaction_receipt(record["transactionHash"])
    settings = json.loads(circuit.settings.read_text())
    return {
        "slots": slots,
        "contributions": contributions,
        "weights": definition.spec.num_weights,
        "logrows": settings["run_args"]["logrows"],
        "rows": settings["num_rows"],
        "setup_seconds": round(setup_seconds, 1),
        "setup_cached": setup_cached,
        "prove_seconds": round(result.proof.prove_seconds, 1),
        "peak_prover_mib": ezkl_ops.peak_kib.get("prove", 0) // 1024,
        "proving_key_mib": circuit.pk.stat().st_size // 2**20,
        "proof_bytes": len(result.proof.proof),
        "publish_gas": receipt["gasUsed"],
        "publish_calldata_bytes": len(tx["input"]),
    }


COLUMNS = (
    ("slots", "slots S"),
    ("contributions", "K"),
    ("rows", "rows"),
    ("logrows", "logrows"),
    ("setup_seconds", "set-up s"),
    ("prove_seconds", "proof s"),
    ("peak_prover_mib", "peak MiB"),
    ("proving_key_mib", "pk MiB"),
    ("proof_bytes", "proof B"),
    ("publish_gas", "publishGlobalModel gas"),
    ("publish_calldata_bytes", "calldata B"),
)


def markdown(rows: list[dict[str, Any]]) -> str:
    """The study as a Markdown table."""
    lines = [
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "---:|" * len(COLUMNS),
    ]
    for row in rows:
        cells = [
            f"{row[key]:,}" if isinstance(row[key], int) else str(row[key])
            for key, _ in COLUMNS
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
