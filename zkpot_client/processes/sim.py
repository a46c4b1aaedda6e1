"""`zkpot sim`: a whole federation on one machine, every role its own process.

The simulation only plays "nature" and the operator: it deals the data (an
evaluation set for the publisher, a private shard per client), gives each role
a key, starts anvil on loopback with a block every `block_time` seconds, runs
`zkpot publish`, then `zkpot aggregate`, `zkpot watch` and one `zkpot client`
per client (some Byzantine), and waits for them. The roles see each other only
through the chain and the content store. The outcome is read from events.

Phases are counted in blocks, so the schedule is sized from a measured proof
(the first run on a machine proves once to calibrate) and the provers are
serialised through prover slots, so a 2-core machine is never oversubscribed.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..chain.accounts import write_key_file
from ..chain.backend import AnvilNode, dev_account
from ..chain.contracts import ETHER, TaskTerms, ZKPoTContract
from ..circuit.keys import CircuitArtifacts
from ..circuit.prover import prove
from ..data import load_task_data, save_arrays
from ..exceptions import ToolchainError, ZKPoTValueError
from ..model import ModelSpec, flatten, quantise
from ..progress import info, warn
from ..roles.byzantine import ATTACKS
from ..roles.client import Client
from ..roles.publisher import TaskDefinition, setup_task_circuit
from ..storage import LocalDirStore
from .aggregator_process import load_box_key
from .provers import default_slots

PUBLISHER, AGGREGATOR = 0, 1
"""Development account numbers of the publisher and aggregator; clients follow."""


@dataclass(frozen=True)
class SimConfig:
    """A simulation; the defaults are the documented run."""

    clients: int = 10
    byzantine: int = 0
    attack: str | None = None
    rounds: int = 5
    seed: int = 0
    eval_samples: int = 100
    hidden: int = 16
    scale: int = 13
    threshold: float = 0.3
    alpha: float = 0.5
    """Dirichlet concentration of the non-IID split."""
    epochs: int = 10
    block_time: float = 1.0
    slots: int = field(default_factory=default_slots)
    run_dir: Path | None = None
    cache: Path | None = None
    srs: Path | None = None

    def check(self) -> None:
        if not 1 <= self.clients <= 64:
            raise ZKPoTValueError("--clients must be between 1 and 64")
        if not 0 <= self.byzantine <= self.clients:
            raise ZKPoTValueError("--byzantine must be between 0 and --clients")
        if self.byzantine and self.attack not in ATTACKS:
            raise ZKPoTValueError(
                f"--byzantine needs --attack, one of: {', '.join(sorted(ATTACKS))}"
            )
        if self.rounds < 1:
            raise ZKPoTValueError("--rounds must be at least 1")


@dataclass
class Schedule:
    """The task's phases in blocks, and what the run should take."""

    terms: TaskTerms
    prove_seconds: float
    provers: int
    estimate_seconds: float


@dataclass
class SimResult:
    byzantine: list[str]
    attack: str | None
    rounds: list[dict[str, Any]]
    run_dir: Path
    contract: str
    task_id: int
    seconds: float
    journals: dict[str, list[dict[str, Any]]]
    """Byzantine client address -> what it tried each round and the system's answer."""
    excluded: dict[int, dict[str, str]]
    """Round -> client address -> why the aggregator left its weights out."""
    exit_codes: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "byzantine": self.byzantine,
            "attack": self.attack,
            "rounds": self.rounds,
            "contract": self.contract,
            "task": self.task_id,
            "seconds": round(self.seconds, 1),
            "attack_journal": self.journals,
            "aggregator_excluded": {str(r): v for r, v in self.excluded.items()},
            "exit_codes": self.exit_codes,
        }


def prove_seconds_estimate(artifacts: CircuitArtifacts, spec: ModelSpec) -> float:
    """Seconds one proof of this circuit takes here: measured once per circuit and
    machine (a proof of an untrained model), then read from the key cache."""
    path = artifacts.directory / "prove-seconds.json"
    if path.is_file():
        return float(json.loads(path.read_text())["seconds"])
    weights = quantise(flatten(spec.build(seed=0)), artifacts.scale)
    seconds = prove(
        artifacts, weights, label="calibrating: one proof to size the schedule"
    ).prove_seconds
    path.write_text(json.dumps({"seconds": round(seconds, 2), "cpus": os.cpu_count()}))
    return seconds


def plan_schedule(cfg: SimConfig, prove_seconds: float) -> Schedule:
    """Phase lengths (in blocks) that fit every prover of a round, one slot at a time."""
    cls = ATTACKS[cfg.attack] if cfg.byzantine else Client
    provers = cfg.clients - cfg.byzantine + (cfg.byzantine if cls.proves else 0)
    blocks = lambda seconds: math.ceil(seconds / cfg.block_time)  # noqa: E731
    proving = math.ceil(provers / cfg.slots) * prove_seconds
    # Registration: every client process starts (imports, checks the circuit package
    # against the chain) and registers. Commit: they all train at once. Proving
    # starts at each commitment, so the proof phase only covers what is left of
    # the provers' queue after the commit phase, with a quarter to spare.
    commit = blocks(20 + 2 * cfg.clients)
    terms = TaskTerms(
        max_clients=cfg.clients,
        registration_blocks=blocks(30 + 4 * cfg.clients),
        commit_blocks=commit,
        proof_blocks=max(blocks(1.25 * proving + 20) - commit, blocks(20)),
        aggregate_blocks=blocks(40),
        min_stake=ETHER // 10,
        missed_proof_penalty=ETHER // 20,
    )
    per_round = (terms.commit_blocks + terms.proof_blocks + 5) * cfg.block_time
    estimate = 30 + terms.registration_blocks * cfg.block_time + cfg.rounds * per_round
    return Schedule(terms, prove_seconds, provers, estimate)


def _zkpot(*args: object) -> list[str]:
    return [sys.executable, "-m", "zkpot_client.cli", *map(str, args)]


def run_sim(cfg: SimConfig) -> SimResult:
    """Run the simulation and return its outcome, read from the chain."""
    cfg.check()
    started = time.monotonic()
    run_dir = cfg.run_dir or Path(tempfile.mkdtemp(prefix="zkpot-sim-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    store_dir = run_dir / "store"
    logs = run_dir / "logs"
    logs.mkdir(exist_ok=True)
    spec = ModelSpec(hidden=cfg.hidden)
    data = load_task_data(
        eval_samples=cfg.eval_samples,
        num_clients=cfg.clients,
        alpha=cfg.alpha,
        seed=cfg.seed,
    )
    eval_path = save_arrays(
        run_dir / "publisher" / "eval.npz", data.eval_x, data.eval_y
    )
    rng = np.random.default_rng(cfg.seed)
    byzantine = sorted(rng.choice(cfg.clients, cfg.byzantine, replace=False).tolist())
    names = {}
    definition = TaskDefinition(
        spec=spec,
        eval_x=data.eval_x,
        eval_y=data.eval_y,
        scale=cfg.scale,
        threshold=cfg.threshold,
        rounds=cfg.rounds,
    )
    info(f"run directory: {run_dir}")
    artifacts = setup_task_circuit(definition, srs=cfg.srs, cache=cfg.cache)
    schedule = plan_schedule(cfg, prove_seconds_estimate(artifacts, spec))
    t = schedule.terms
    info(
        f"{cfg.clients} clients ({cfg.byzantine} Byzantine"
        + (f", attack {cfg.attack}" if cfg.byzantine else "")
        + f"), {cfg.rounds} rounds, circuit 2^{artifacts.logrows} rows: "
        f"{schedule.prove_seconds:.0f} s per proof, {schedule.provers} provers per round, "
        f"{cfg.slots} at a time"
    )
    info(
        f"schedule (blocks of {cfg.block_time:g} s): registration {t.registration_blocks}, "
        f"commit {t.commit_blocks}, proof {t.proof_blocks}, aggregate {t.aggregate_blocks}; "
        f"[bold]expected run time about {schedule.estimate_seconds / 60:.0f} min[/]"
    )
    cache_args = ["--cache-dir", cfg.cache] if cfg.cache else []
    with AnvilNode(
        block_time=cfg.block_time,
        accounts=cfg.clients + 2,
        state=None,
    ) as node:
        keys = run_dir / "keys"
        key = lambda i: write_key_file(dev_account(i), keys / f"account-{i}.key")  # noqa: E731
        box = load_box_key(run_dir / "aggregator", create=True)
        task_file = run_dir / "task.json"
        publish = subprocess.run(
            _zkpot(
                "publish",
                "--rpc",
                node.url,
                "--key-file",
                key(PUBLISHER),
                "--store",
                store_dir,
                "--eval-data",
                eval_path,
                "--hidden",
                cfg.hidden,
                "--threshold",
                cfg.threshold,
                "--rounds",
                cfg.rounds,
                "--reward-pool",
                3,
                "--stake",
                t.min_stake / ETHER,
                "--max-clients",
                t.max_clients,
                "--registration-blocks",
                t.registration_blocks,
                "--commit-blocks",
                t.commit_blocks,
                "--proof-blocks",
                t.proof_blocks,
                "--aggregate-blocks",
                t.aggregate_blocks,
                "--aggregator",
                dev_account(AGGREGATOR).address,
                "--aggregator-key",
                bytes(box.public_key).hex(),
                "--seed",
                cfg.seed,
                "--out",
                task_file,
                *(["--srs", cfg.srs] if cfg.srs else []),
                *cache_args,
            ),
            stdout=open(logs / "publisher.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        if publish.returncode != 0:
            raise ToolchainError(
                f"zkpot publish failed:\n{_tail(logs / 'publisher.log')}"
            )
        coordinates = json.loads(task_file.read_text())
        contract, task_id = coordinates["contract"], coordinates["task"]
        info(f"task {task_id} published on ZKPoT {contract}")
        common = ["--rpc", node.url, "--contract", contract, "--task", task_id]
        procs: dict[str, subprocess.Popen[bytes]] = {}

        def start(name: str, args: list[Any]) -> None:
            procs[name] = subprocess.Popen(
                args,
                stdout=open(logs / f"{name}.log", "w"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
            )

        start(
            "aggregator",
            _zkpot(
                "aggregate",
                *common,
                "--key-file",
                key(AGGREGATOR),
                "--store",
                store_dir,
                "--state-dir",
                run_dir / "aggregator",
            ),
        )
        start(
            "watch",
            _zkpot("watch", *common, "--follow", "--json", run_dir / "watch.json"),
        )
        for i, shard in enumerate(data.shards):
            name = f"client-{i + 1}"
            account = dev_account(AGGREGATOR + 1 + i)
            names[account.address] = name
            client_dir = run_dir / name
            attack = ["--attack", cfg.attack] if i in byzantine else []
            start(
                name,
                _zkpot(
                    "client",
                    *common,
                    "--key-file",
                    key(AGGREGATOR + 1 + i),
                    "--store",
                    store_dir,
                    "--data",
                    save_arrays(client_dir / "data.npz", shard.x, shard.y),
                    "--state-dir",
                    client_dir / "state",
                    "--name",
                    name,
                    "--epochs",
                    cfg.epochs,
                    "--seed",
                    cfg.seed * 100 + i,
                    "--prover-slots",
                    run_dir / "prover-slots",
                    "--slots",
                    cfg.slots,
                    *attack,
                    *cache_args,
                ),
            )
        zkpot = ZKPoTContract(node.chain, contract)
        exit_codes = _wait(procs, zkpot, task_id, cfg, schedule, logs)
        byzantine_addresses = [
            dev_account(AGGREGATOR + 1 + i).address for i in byzantine
        ]
        for address in byzantine_addresses:
            names[address] += f" ({cfg.attack})"
        from ..demo import summarise

        prove_seconds = {
            (int(r), account.address): s
            for i in range(cfg.clients)
            for account in [dev_account(AGGREGATOR + 1 + i)]
            for r, s in _read_json(
                run_dir / f"client-{i + 1}" / "state" / "prove-seconds.json", {}
            ).items()
        }
        rounds = summarise(
            zkpot, LocalDirStore(store_dir), definition, task_id, prove_seconds, names
        )
    journals = {
        dev_account(AGGREGATOR + 1 + i).address: _read_json(
            run_dir / f"client-{i + 1}" / "state" / "attack.json", {}
        ).get("journal", [])
        for i in byzantine
    }
    excluded = {
        r: _read_json(run_dir / "aggregator" / f"round-{r}.json", {}).get(
            "excluded", {}
        )
        for r in range(1, cfg.rounds + 1)
    }
    return SimResult(
        byzantine_addresses,
        cfg.attack if cfg.byzantine else None,
        rounds,
        run_dir,
        contract,
        task_id,
        time.monotonic() - started,
        journals,
        excluded,
        exit_codes,
    )


def _wait(
    procs: dict[str, subprocess.Popen[bytes]],
    zkpot: ZKPoTContract,
    task_id: int,
    cfg: SimConfig,
    schedule: Schedule,
    logs: Path,
) -> dict[str, int]:
    """Wait for every role process, showing where the task stands; stop them all if
    the run overstays twice its estimate."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from ..progress import console

    deadline = time.monotonic() + 2 * schedule.estimate_seconds + 600
    codes: dict[str, int] = {}
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        bar = progress.add_task("starting", total=None)
        last = ""
        while len(codes) < len(procs):
            for name, p in procs.items():
                if name not in codes and p.poll() is not None:
                    codes[name] = p.returncode
                    if p.returncode != 0:
                        warn(
                            f"{name} exited with {p.returncode}:\n{_tail(logs / f'{name}.log')}"
                        )
            try:
                task = zkpot.task(task_id)
                status = (
                    f"round {task['currentRound']}/{cfg.rounds}, "
                    f"{zkpot.phase(task_id)}, block {zkpot.chain.block_number}; "
                    f"{len(procs) - len(codes)} processes running"
                )
            except Exception as exc:  # the node may be busy; the display can wait
                status = f"(chain busy: {type(exc).__name__})"
            progress.update(bar, description=status)
            if not console.is_terminal and status.split(",")[:2] != last.split(",")[:2]:
                info(status)
            last = status
            if time.monotonic() > deadline:
                for p in procs.values():
                    if p.poll() is None:
                        p.kill()
                raise ToolchainError(
                    f"the simulation overran twice its estimate; logs in {logs}"
                )
            time.sleep(1.0)
    return codes


def _read_json(path: Path, default: Any) -> Any:
    return json.loads(path.read_text()) if path.is_file() else default


def _tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
