"""A complete ZKPoT federated-learning run, every role in one process.

The publisher sets the task up, the clients register, and the round driver runs
the rounds (see `rounds`); the summary is read back from events after each
round, the record chain is checked, and everyone is paid out.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .chain.backend import Chain, dev_accounts
from .chain.records import record_hash, verify_record_chain
from .config import FederationConfig, TrainingConfig, client_seed
from .data import Shard
from .model import accuracy as float_accuracy
from .progress import info
from .report import global_model_status
from .roles.client import Client
from .roles.disputer import Disputer
from .roles.publisher import TaskDefinition, TaskPublisher
from .rounds import RoundDriver
from .storage import LocalDirStore
from .summary import summarise_task
from .training import TrainFn
from .types import ETHER, RoundSummary


@dataclass(frozen=True, kw_only=True)
class DemoResult:
    """What a run produced: the per-round summary (from events) and where things are."""

    rounds: list[RoundSummary]
    task_id: int
    zkpot_address: str
    verifier_address: str
    store_dir: Path
    """The content store (removed at the end unless the run was given one)."""
    names: dict[str, str]
    eval_samples: int

    def round_lines(self) -> list[str]:
        """One line per round: its leader and the leader's verified count, how many
        contributions were accepted, and the global model's accuracy."""
        lines = []
        for r in self.rounds:
            best = max((c.correct for c in r.contributions), default=0)
            g = "-" if r.global_accuracy is None else f"{r.global_accuracy:.2f}"
            lines.append(
                f"round {r.round}: leader {self.names.get(r.leader or '', r.leader)} "
                f"({best}/{self.eval_samples} verified), "
                f"{sum(c.accepted for c in r.contributions)} accepted, "
                f"global model accuracy {g} ({global_model_status(r)})"
            )
        return lines


def global_model_measure(
    definition: TaskDefinition, test: Shard | None
) -> Callable[[np.ndarray], float]:
    """Accuracy of a global model on the held-out test set, or, without one, on
    the task's evaluation batches (which clients train on once revealed)."""
    if test is None:
        return definition.accuracy
    return lambda w: float_accuracy(definition.spec, w, test.x, test.y)


@dataclass(frozen=True, kw_only=True)
class Member:
    """A client of an in-process run: its data, name, training and seed."""

    shard: Shard
    name: str
    seed: int = 0
    training: TrainingConfig = field(default_factory=TrainingConfig)
    train_fn: TrainFn | None = None
    """Its own training function (None: the default SGD)."""


def run_demo(
    cfg: FederationConfig,
    *,
    chain: Chain | None = None,
    store_dir: Path | None = None,
    on_round: Callable[[RoundSummary], None] | None = None,
) -> DemoResult:
    """Run the whole protocol for `cfg.rounds` rounds and return the summary."""
    cfg.check(max_clients=9)  # one dev account each, plus the publisher
    if cfg.byzantine:
        raise ValueError("the demo runs honest clients only (see zkpot sim --attack)")
    data = cfg.data()
    definition = cfg.definition(data)
    info(
        f"task: {definition.spec.describe()}, {definition.eval_samples} evaluation "
        f"samples per round, {cfg.clients} clients (Dirichlet alpha {cfg.alpha}), "
        f"threshold {cfg.threshold:.0%}"
    )
    members = [
        Member(
            shard=shard,
            name=f"client-{i + 1}",
            seed=client_seed(cfg.seed, i),
            training=cfg.training,
        )
        for i, shard in enumerate(data.shards)
    ]
    return run_in_process(
        definition,
        members,
        test=data.test,
        initial_seed=cfg.seed,
        srs=cfg.srs,
        cache=cfg.cache,
        chain=chain,
        store_dir=store_dir,
        on_round=on_round,
    )


def run_in_process(
    definition: TaskDefinition,
    members: list[Member],
    *,
    test: Shard | None = None,
    initial_seed: int = 0,
    srs: Path | None = None,
    cache: Path | None = None,
    chain: Chain | None = None,
    store_dir: Path | None = None,
    on_round: Callable[[RoundSummary], None] | None = None,
) -> DemoResult:
    """Run a task with `members` as its clients, every role in this process, for
    the task's rounds; return the summary read from events. Without `store_dir`
    the content store is a temporary directory, removed when the run ends
    (also when it fails or is interrupted)."""
    if not 1 <= len(members) <= 9:
        raise ValueError("an in-process run has 1 to 9 clients (one dev account each)")
    with contextlib.ExitStack() as cleanup:
        if store_dir is None:
            store_dir = Path(
                cleanup.enter_context(
                    tempfile.TemporaryDirectory(prefix="zkpot-store-")
                )
            )
        chain = chain or Chain.embedded()
        accounts = dev_accounts(len(members) + 1)
        store = LocalDirStore(store_dir)
        info(f"chain: {chain.name}; content store: {store_dir}")
        publisher = TaskPublisher(
            account=accounts[0], chain=chain, store=store, definition=definition
        )
        artifacts = publisher.setup_circuit(srs=srs, cache=cache)
        info(f"circuit: 2^{artifacts.logrows} rows, digest {artifacts.digest[:16]}…")
        zkpot, aggregator, task = publisher.deploy_with_aggregator(
            artifacts, initial_seed=initial_seed
        )
        info(
            f"ZKPoT at {zkpot.address}, verifier at {zkpot.verifier}, task {task.task_id} created "
            f"(reward pool {task.reward_pool / ETHER:g} ETH, stake {task.terms.min_stake / ETHER:g} ETH)"
        )
        clients = [
            Client(
                name=m.name,
                account=accounts[i + 1],
                zkpot=zkpot,
                store=store,
                shard=m.shard,
                spec=definition.spec,
                scale=definition.scale,
                circuit=artifacts,
                training=m.training,
                train_fn=m.train_fn,
                seed=m.seed,
            )
            for i, m in enumerate(members)
        ]
        names = {c.address: c.name for c in clients}
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
            disputer=Disputer(
                zkpot=zkpot,
                store=store,
                account=accounts[0],
                task_id=task.task_id,
                artifacts=artifacts,
            ),
        )
        if task.terms.optimistic:
            info(
                f"optimistic verification: claims checked off chain, disputable for "
                f"{task.terms.dispute_blocks} blocks after each proof phase"
            )
        driver.start()
        measure = global_model_measure(definition, test)
        summaries: list[RoundSummary] = []
        for r in range(1, definition.rounds + 1):
            info(f"[bold]round {r}[/]")
            seen = len(driver.disputes)
            result = driver.run_round(r, clients)
            for line in driver.disputes[seen:]:
                info(f"  {line}")
            if result is not None:
                for client, why in result.excluded.items():
                    info(
                        f"  aggregator cannot open {names.get(client, client)}'s weights "
                        f"({why}): the round falls back to the previous model"
                    )
            # The round's events are final once its record is appended.
            (summary,) = summarise_task(
                zkpot,
                task.task_id,
                definition.eval_samples,
                store=store,
                accuracy=measure,
                names=names,
                prove_seconds=driver.prove_seconds,
                only_round=r,
            )
            summaries.append(summary)
            if on_round:
                on_round(summary)
        per_contribution = [g for s in summaries if (g := s.gas_per_contribution())]
        if per_contribution:
            info(
                f"gas per accepted contribution ({'optimistic' if task.terms.optimistic else 'immediate'} "
                f"verification; its submission and its share of the round's close and global "
                f"model): {min(per_contribution):,} to {max(per_contribution):,}"
            )
        records = verify_record_chain(zkpot, task.task_id)
        info(
            f"record chain verified from events: {len(records)} records, "
            f"head {record_hash(records[-1]).hex()[:16]}…"
        )
        for c in clients:
            c.claim_rewards(task)
            c.leave(task)
        return DemoResult(
            rounds=summaries,
            task_id=task.task_id,
            zkpot_address=zkpot.address,
            verifier_address=zkpot.verifier,
            store_dir=store_dir,
            names=names,
            eval_samples=definition.eval_samples,
        )
