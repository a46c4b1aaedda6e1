"""A complete ZKPoT federated-learning run, every role in one process.

The roles still talk only through the chain and the content store; this module
merely schedules them: per round, clients train and commit, then prove one
after another (proving is CPU-bound), then submit; anyone closes the round; the
aggregator aggregates and publishes. The summary is read back from events.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .chain.backend import Chain, dev_accounts
from .chain.contracts import ETHER, TaskTerms, ZKPoTContract
from .chain.events import round_outcomes, round_schedule
from .chain.records import verify_record_chain
from .crypto import new_keypair, weights_from_bytes
from .data import load_task_data
from .model import ModelSpec
from .progress import info
from .report import round_summary
from .roles.aggregator import Aggregator
from .roles.client import Client, TrainingConfig, client_seed
from .roles.publisher import TaskDefinition, TaskPublisher
from .storage import ContentStore, LocalDirStore

DEMO_TERMS = TaskTerms(
    registration_blocks=20, commit_blocks=20, proof_blocks=20, aggregate_blocks=10
)
"""Phases long enough for up to nine clients' transactions on an automining chain."""


@dataclass(frozen=True)
class DemoConfig:
    """Parameters of a demo run; the defaults are the documented demo."""

    clients: int = 4
    rounds: int = 3
    eval_samples: int = 100
    """Evaluation samples bound into the circuit: 100 fits 2^17 rows, about a minute per proof on 2 cores."""
    hidden: int = 16
    scale: int = 13
    threshold: float = 0.3
    alpha: float = 0.5
    """Dirichlet concentration of the non-IID split (smaller: more skewed)."""
    training: TrainingConfig = field(default_factory=TrainingConfig)
    seed: int = 0
    terms: TaskTerms = DEMO_TERMS
    reward_pool: int = 3 * ETHER
    srs: Path | None = None
    store_dir: Path | None = None
    cache: Path | None = None


@dataclass
class DemoResult:
    """What a run produced: the per-round summary (from events) and where things are."""

    rounds: list[dict[str, Any]]
    task_id: int
    zkpot_address: str
    verifier_address: str
    store_dir: Path
    names: dict[str, str]


def run_demo(
    cfg: DemoConfig,
    *,
    chain: Chain | None = None,
    on_round: Callable[[dict[str, Any]], None] | None = None,
) -> DemoResult:
    """Run the whole protocol for `cfg.rounds` rounds and return the summary."""
    if cfg.clients < 1 or cfg.clients > 9:
        raise ValueError(
            "the demo runs 1 to 9 clients (one dev account each, plus the publisher)"
        )
    chain = chain or Chain.embedded()
    accounts = dev_accounts(cfg.clients + 1)
    store_dir = cfg.store_dir or Path(tempfile.mkdtemp(prefix="zkpot-store-"))
    store = LocalDirStore(store_dir)
    spec = ModelSpec(hidden=cfg.hidden)
    data = load_task_data(
        eval_samples=cfg.eval_samples,
        num_clients=cfg.clients,
        alpha=cfg.alpha,
        seed=cfg.seed,
    )
    definition = TaskDefinition(
        spec=spec,
        eval_x=data.eval_x,
        eval_y=data.eval_y,
        scale=cfg.scale,
        threshold=cfg.threshold,
        rounds=cfg.rounds,
        terms=cfg.terms,
        reward_pool=cfg.reward_pool,
    )
    info(f"chain: {chain.name}; content store: {store_dir}")
    info(
        f"task: digits MLP {spec.inputs}-{spec.hidden}-{spec.classes}, {cfg.eval_samples} evaluation samples, "
        f"{cfg.clients} clients (Dirichlet alpha {cfg.alpha}), threshold {cfg.threshold:.0%}"
    )
    publisher = TaskPublisher(accounts[0], chain, store, definition)
    artifacts = publisher.setup_circuit(srs=cfg.srs, cache=cfg.cache)
    info(f"circuit: 2^{artifacts.logrows} rows, digest {artifacts.digest[:16]}…")
    zkpot = publisher.deploy()
    verifier = zkpot.verifier
    aggregator = Aggregator(accounts[0], zkpot, store, new_keypair(), cfg.scale)
    task = publisher.create_task(
        zkpot,
        artifacts,
        aggregator=aggregator.account.address,
        aggregator_key=aggregator.public_key,
        initial_seed=cfg.seed,
    )
    info(
        f"ZKPoT at {zkpot.address}, verifier at {verifier}, task {task.task_id} created "
        f"(reward pool {task.reward_pool / ETHER:g} ETH, stake {task.terms.min_stake / ETHER:g} ETH)"
    )
    vka = artifacts.vka_words()
    clients = [
        Client(
            f"client-{i + 1}",
            accounts[i + 1],
            zkpot,
            store,
            shard,
            spec,
            cfg.scale,
            cfg.training,
            seed=client_seed(cfg.seed, i),
        )
        for i, shard in enumerate(data.shards)
    ]
    names = {c.address: c.name for c in clients}
    for c in clients:
        c.register(task)
    chain.advance_to(task.start_block)
    prove_seconds: dict[tuple[int, str], float] = {}
    summaries: list[dict[str, Any]] = []
    for r in range(1, cfg.rounds + 1):
        info(f"[bold]round {r}[/]")
        for c in clients:
            c.commit(task, r, c.train(task, r))
        for c in clients:
            prove_seconds[(r, c.address)] = c.prove(artifacts).prove_seconds
        schedule = round_schedule(zkpot, task.task_id, r)
        chain.advance_to(schedule["commitEnd"] + 1)
        for c in clients:
            c.submit(task, vka)
        chain.advance_to(schedule["proofEnd"] + 1)
        zkpot.close_round(accounts[0], task.task_id)
        if zkpot.round(task.task_id, r)["acceptedCount"]:
            result = aggregator.aggregate(task.task_id, r)
            for client, why in result.excluded.items():
                info(f"  aggregator left out {names.get(client, client)}: {why}")
            aggregator.publish(task.task_id, result)
        # The round's events are final once its record is appended.
        (summary,) = summarise(
            zkpot, store, definition, task.task_id, prove_seconds, names, only_round=r
        )
        summaries.append(summary)
        if on_round:
            on_round(summary)
    records = verify_record_chain(zkpot, task.task_id)
    info(
        f"record chain verified from events: {len(records)} records, "
        f"head {records[-1].hash.hex()[:16]}…"
    )
    for c in clients:
        c.claim_rewards(task)
        c.leave(task)
    return DemoResult(
        summaries,
        task.task_id,
        zkpot.address,
        verifier,
        store_dir,
        names,
    )


def summarise(
    zkpot: ZKPoTContract,
    store: ContentStore,
    definition: TaskDefinition,
    task_id: int,
    prove_seconds: dict[tuple[int, str], float],
    names: dict[str, str],
    *,
    only_round: int | None = None,
) -> list[dict[str, Any]]:
    """The per-round summary (of every round, or only `only_round`), read from
    contract events (and the published models).

    Only proving times come from the clients, since they never reach the chain.
    """
    rounds = []
    for outcome in round_outcomes(zkpot, task_id, only_round):
        global_accuracy = None
        if outcome.global_model_cid is not None:
            global_accuracy = definition.accuracy(
                weights_from_bytes(store.get(outcome.global_model_cid))
            )
        rounds.append(
            round_summary(
                outcome,
                definition.eval_samples,
                names=names,
                prove_seconds=prove_seconds,
                global_accuracy=global_accuracy,
            )
        )
    return rounds
