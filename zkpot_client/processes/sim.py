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
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..chain.accounts import write_key_file
from ..chain.backend import AnvilNode, dev_account
from ..chain.contracts import ZKPoTContract
from ..circuit.keys import CircuitArtifacts
from ..circuit.prover import prove
from ..circuit.slots import default_slots
from ..cli_options import command_line
from ..config import FederationConfig, client_seed
from ..data import save_arrays
from ..exceptions import ToolchainError
from ..model import ModelSpec, flatten, quantise
from ..paths import write_atomically
from ..phases import awaited, last_block, phase_at
from ..progress import info, warn
from ..roles.byzantine import ATTACKS, byzantine_indices
from ..roles.client import Client
from ..roles.publisher import setup_task_circuit
from ..storage import open_store
from ..summary import rounds_json, summarise_task
from ..types import (
    ETHER,
    Phase,
    RoundState,
    RoundSummary,
    TaskState,
    TaskStatus,
    TaskTerms,
)
from .aggregator_process import aggregation_path, load_box_key
from .client_process import PROVE_SECONDS

PUBLISHER, AGGREGATOR = 0, 1
"""Development account numbers of the publisher and aggregator; clients follow."""


@dataclass(frozen=True, kw_only=True)
class SimOptions:
    """How a simulation runs on this machine (the federation is a FederationConfig)."""

    block_time: float = 1.0
    """Seconds between anvil's blocks."""
    slots: int = field(default_factory=default_slots)
    """Provers allowed at once."""
    allowance: float = 1.0
    """Scale of the schedule's fixed allowances (processes starting, training,
    the reveal, aggregation, a proof's slack): below 1 on an idle machine for a
    quicker run, above 1 on a busy one."""
    slowdown: float = 2.5
    """How much longer than measured a proof may take: the proof phase fits the
    provers' queue at this multiple of the calibrated proof time. With one
    CPU-bound process per core competing, a proof took 2.0 times as long
    (docs/benchmarks.md); 2.5 leaves a quarter to spare on such a machine."""
    run_dir: Path | None = None
    """Where keys, data, store, state and logs go, kept after the run (None: a
    temporary directory, removed when the run ends, also when it fails or is
    interrupted)."""
    store: str | None = None
    """The content store every role uses: an IPFS node's RPC URL or a directory
    (None: store/ in the run directory)."""
    fast_forward: bool = True
    """Once every client has registered, committed or proved, mine the node to
    the end of that phase instead of waiting out its slack (False: every phase
    runs its full length, as on a public network)."""


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """The task's phases in blocks, and what the run should take."""

    terms: TaskTerms
    prove_seconds: float
    provers: int
    estimate_seconds: float


@dataclass(frozen=True, kw_only=True)
class SimResult:
    byzantine: list[str]
    attack: str | None
    rounds: list[RoundSummary]
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
            "rounds": rounds_json(self.rounds),
            "contract": self.contract,
            "task": self.task_id,
            "seconds": round(self.seconds, 1),
            "attack_journal": self.journals,
            "aggregator_excluded": {str(r): v for r, v in self.excluded.items()},
            "exit_codes": self.exit_codes,
        }


def absolute_model_ref(ref: str) -> str:
    """A `FILE.py:FACTORY` model with its file's absolute path (the role processes
    run elsewhere); a built-in name as it is."""
    path, colon, name = ref.rpartition(":")
    return f"{Path(path).resolve()}:{name}" if colon else ref


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
    write_atomically(
        path, json.dumps({"seconds": round(seconds, 2), "cpus": os.cpu_count()})
    )
    return seconds


def plan_schedule(
    cfg: FederationConfig, options: SimOptions, prove_seconds: float
) -> Schedule:
    """Phase lengths (in blocks) that fit every prover of a round, one slot at a time."""
    cls = ATTACKS[cfg.attack] if cfg.byzantine and cfg.attack else Client
    provers = cfg.clients - cfg.byzantine + (cfg.byzantine if cls.proves else 0)
    blocks = lambda seconds: math.ceil(seconds / options.block_time)  # noqa: E731
    spare = lambda seconds: options.allowance * seconds  # noqa: E731
    proving = math.ceil(provers / options.slots) * prove_seconds
    # Registration: every role process starts at once (imports, checks the circuit
    # package against the chain) and each client registers; on a machine busy
    # enough to slow a proof by `slowdown`, starting is as slow. Commit: they all
    # train at once. Reveal: the publisher reveals in its first blocks. Proving
    # starts once the batch is revealed (each client first compiles the round's
    # circuit), so the proof phase covers the provers' whole queue on a machine
    # busy enough to slow each proof by `slowdown`. Aggregate: the aggregator proves the FedAvg of up to `clients`
    # slots (its circuit is set up when the process starts), a proof that costs
    # about as much as an accuracy proof plus half of one per slot.
    aggregating = options.slowdown * prove_seconds * (1 + cfg.clients / 2)
    terms = TaskTerms(
        max_clients=cfg.clients,
        registration_blocks=blocks(options.slowdown * spare(30 + 4 * cfg.clients)),
        commit_blocks=blocks(spare(20 + 2 * cfg.clients)),
        reveal_blocks=blocks(spare(20)),
        proof_blocks=blocks(options.slowdown * proving + spare(40)),
        aggregate_blocks=blocks(aggregating + spare(40)),
        min_stake=ETHER // 10,
        missed_proof_penalty=ETHER // 20,
    )
    per_round = (
        terms.commit_blocks + terms.reveal_blocks + terms.proof_blocks + 5
    ) * options.block_time
    estimate = (
        30 + terms.registration_blocks * options.block_time + cfg.rounds * per_round
    )
    return Schedule(
        terms=terms,
        prove_seconds=prove_seconds,
        provers=provers,
        estimate_seconds=estimate,
    )


class Federation:
    """A node and the role processes of one task, in a run directory.

    `run_sim` drives it start to finish; the fault tests drive it step by step
    (kill a client, restart the aggregator, restart the node from its state dump).
    """

    def __init__(
        self,
        cfg: FederationConfig,
        options: SimOptions | None = None,
        *,
        node_state: bool = False,
    ) -> None:
        self.cfg = cfg.check()
        self.options = options = options or SimOptions()
        self.run_dir = options.run_dir or Path(tempfile.mkdtemp(prefix="zkpot-sim-"))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.logs = self.run_dir / "logs"
        self.logs.mkdir(exist_ok=True)
        self.store = options.store or str(self.run_dir / "store")
        self.node_state = self.run_dir / "anvil-state.json" if node_state else None
        self.data = cfg.data()
        self.definition = cfg.definition(self.data)
        self.byzantine = byzantine_indices(cfg.clients, cfg.byzantine, cfg.seed)
        self.names = {
            self.client_account(i).address: f"client-{i + 1}"
            for i in range(cfg.clients)
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.node: AnvilNode | None = None
        self.port: int | None = None
        self.contract = ""
        self.task_id = 0

    # ------------------------------------------------------------ accounts, schedule
    @staticmethod
    def client_account(i: int) -> Any:
        return dev_account(AGGREGATOR + 1 + i)

    def key_file(self, account_index: int) -> Path:
        """Each role's own key (development keys: this is a local simulation)."""
        return write_key_file(
            dev_account(account_index),
            self.run_dir / "keys" / f"account-{account_index}.key",
        )

    def plan(self) -> Schedule:
        """Set the circuit up (cached), measure a proof once, size the phases."""
        artifacts = setup_task_circuit(
            self.definition, srs=self.cfg.srs, cache=self.cfg.cache
        )
        self.schedule = plan_schedule(
            self.cfg,
            self.options,
            prove_seconds_estimate(artifacts, self.definition.spec),
        )
        self.logrows = artifacts.logrows
        return self.schedule

    # ------------------------------------------------------------ the node
    def start_node(self) -> AnvilNode:
        """Start anvil (again on the same port, from its state dump, if it ran before)."""
        self.node = AnvilNode(
            port=self.port,
            block_time=self.options.block_time,
            accounts=self.cfg.clients + 2,
            state=self.node_state,
        )
        self.port = self.node.port
        return self.node

    def stop_node(self) -> None:
        """Stop anvil; with a state file it dumps the chain there first."""
        assert self.node is not None
        self.node.stop()

    @property
    def zkpot(self) -> ZKPoTContract:
        assert self.node is not None
        return ZKPoTContract(self.node.chain, self.contract)

    # ------------------------------------------------------------ the roles
    def command_line(self, command: str, **values: Any) -> list[str]:
        """The command line of `zkpot <command>` for a role (a subclass may point
        the roles at the node and their keys another way)."""
        return command_line(command, **values)

    def publish(self) -> None:
        """Run `zkpot publish` to the end: contracts, circuit package, the task."""
        assert self.node is not None
        cfg, t = self.cfg, self.schedule.terms
        box = load_box_key(self.run_dir / "aggregator", create=True)
        task_file = self.run_dir / "task.json"
        whole = self.data.evaluation
        eval_path = save_arrays(
            self.run_dir / "publisher" / "eval.npz",
            whole.x.reshape(len(whole.x), *self.definition.spec.input_shape),
            whole.y,
        )
        args = self.command_line(
            "publish",
            rpc=self.node.url,
            key_file=self.key_file(PUBLISHER),
            store_dir=self.store,
            eval_data=eval_path,
            model=absolute_model_ref(cfg.model),
            hidden=cfg.hidden,
            threshold=cfg.threshold,
            rounds=cfg.rounds,
            reward_pool=cfg.reward_pool / ETHER,
            stake=t.min_stake / ETHER,
            max_clients=t.max_clients,
            registration_blocks=t.registration_blocks,
            commit_blocks=t.commit_blocks,
            reveal_blocks=t.reveal_blocks,
            proof_blocks=t.proof_blocks,
            aggregate_blocks=t.aggregate_blocks,
            aggregator=dev_account(AGGREGATOR).address,
            aggregator_key=bytes(box.public_key).hex(),
            seed=cfg.seed,
            out=task_file,
            state_dir=self.run_dir / "publisher",
            srs=cfg.srs,
            cache_dir=cfg.cache,
        )
        with open(self.logs / "publisher.log", "w") as log:
            done = subprocess.run(args, stdout=log, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            raise ToolchainError(
                f"zkpot publish failed:\n{_tail(self.logs / 'publisher.log')}"
            )
        coordinates = json.loads(task_file.read_text())
        self.contract, self.task_id = coordinates["contract"], coordinates["task"]
        info(f"task {self.task_id} published on ZKPoT {self.contract}")

    def role_args(self, name: str) -> list[str]:
        """The command line of role process `name`: publisher, aggregator, watch or
        client-N."""
        assert self.node is not None
        cfg = self.cfg
        common = {
            "rpc": self.node.url,
            "contract": self.contract,
            "task_id": self.task_id,
        }
        if name == "publisher":
            return self.command_line(
                "reveal",
                rpc=self.node.url,
                key_file=self.key_file(PUBLISHER),
                store_dir=self.store,
                state_dir=self.run_dir / "publisher",
            )
        if name == "aggregator":
            return self.command_line(
                "aggregate",
                **common,
                key_file=self.key_file(AGGREGATOR),
                store_dir=self.store,
                state_dir=self.run_dir / "aggregator",
                cache_dir=cfg.cache,
            )
        if name == "watch":
            return self.command_line(
                "watch", **common, json_path=self.run_dir / "watch.json", follow=True
            )
        i = int(name.removeprefix("client-")) - 1
        shard = self.data.shards[i]
        client_dir = self.run_dir / name
        return self.command_line(
            "client",
            **common,
            key_file=self.key_file(AGGREGATOR + 1 + i),
            store_dir=self.store,
            data_path=save_arrays(client_dir / "data.npz", shard.x, shard.y),
            state_dir=client_dir / "state",
            name=name,
            epochs=cfg.training.epochs,
            lr=cfg.training.lr,
            seed=client_seed(cfg.seed, i),
            prover_slots=self.run_dir / "prover-slots",
            slots=self.options.slots,
            attack=cfg.attack if i in self.byzantine else None,
            cache_dir=cfg.cache,
        )

    def start(self, name: str) -> subprocess.Popen[bytes]:
        """Start (or restart) role process `name`, appending to its log. Each runs in
        its own session, so killing it also kills a prover it has started."""
        with open(self.logs / f"{name}.log", "a") as log:
            self.procs[name] = subprocess.Popen(
                self.role_args(name),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self.procs[name]

    def start_roles(self) -> None:
        for name in [
            "publisher",
            "aggregator",
            "watch",
            *(f"client-{i + 1}" for i in range(self.cfg.clients)),
        ]:
            self.start(name)

    def kill(self, name: str) -> None:
        """Kill role process `name` and everything it started, at once (SIGKILL)."""
        p = self.procs[name]
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()

    def log_of(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.is_file() else ""

    def stop_all(self) -> None:
        for name in self.procs:
            self.kill(name)
        if self.node is not None:
            self.node.stop()

    def wait(
        self, on_tick: Callable[[Federation], None] | None = None
    ) -> dict[str, int]:
        """Wait for every role process (calling `on_tick` each second), showing where
        the task stands; stop them all if the run overstays twice its estimate.
        Returns each process's exit code."""
        from ..progress import console, spinner

        deadline = time.monotonic() + 2 * self.schedule.estimate_seconds + 600
        reported: set[int] = set()
        with spinner() as progress:
            bar = progress.add_task("starting", total=None)
            last = ""
            while True:
                if on_tick is not None:
                    on_tick(self)
                codes = {
                    n: p.returncode
                    for n, p in self.procs.items()
                    if p.poll() is not None
                }
                for name, code in codes.items():
                    if code != 0 and self.procs[name].pid not in reported:
                        reported.add(self.procs[name].pid)
                        warn(
                            f"{name} exited with {code}:\n{_tail(self.logs / f'{name}.log')}"
                        )
                if len(codes) == len(self.procs):
                    return codes
                status = self.tick(len(self.procs) - len(codes))
                progress.update(bar, description=status)
                if (
                    not console.is_terminal
                    and status.split(" (now")[0] != last.split(" (now")[0]
                ):
                    info(status)
                last = status
                if time.monotonic() > deadline:
                    self.stop_all()
                    raise ToolchainError(
                        f"the simulation overran twice its estimate; logs in {self.logs}"
                    )
                time.sleep(1.0)

    def tick(self, running: int) -> str:
        """Read where the task stands (once a second), mine through a finished
        phase (`SimOptions.fast_forward`), and say what the round waits for."""
        try:
            zkpot = self.zkpot
            task = zkpot.task(self.task_id)
            head = zkpot.chain.block_number
            state = zkpot.round(self.task_id, max(task.current_round, 1))
            if self.options.fast_forward and task.status == TaskStatus.ACTIVE:
                self.fast_forward(task, state, head)
            return (
                f"round {task.current_round}/{self.cfg.rounds}: waiting for "
                f"{awaited(state, head, revealed=state.revealed)} (now {head}); "
                f"{running} processes running"
            )
        except Exception as exc:  # noqa: BLE001  # the node may be busy or restarting: the display waits
            return f"(node not answering: {type(exc).__name__})"

    def fast_forward(self, task: TaskState, state: RoundState, head: int) -> None:
        """Mine to the end of registration, of a round's commit phase or of its
        proof phase once every client has acted in it: the rest of such a phase
        is slack for slow machines, and only this run's roles use the node. A
        phase someone has not acted in (a client killed, a proof refused) and
        the aggregate phase run their full length."""
        phase = phase_at(state, head, revealed=state.revealed)
        name, done = {
            Phase.REGISTRATION: (
                "registration",
                task.client_count == self.cfg.clients,
            ),
            Phase.COMMIT: (
                "commit phase",
                state.committed_count == task.client_count,
            ),
            Phase.PROVE: (
                "proof phase",
                state.proved_count == state.committed_count,
            ),
        }.get(phase, ("", False))
        if done and (blocks := last_block(state, phase) - head) > 0:
            info(
                f"round {max(task.current_round, 1)}: every client has acted in "
                f"the {name}; mining {blocks} blocks to its end"
            )
            self.zkpot.chain.w3.provider.make_request("anvil_mine", [hex(blocks)])  # type: ignore[arg-type]

    # ------------------------------------------------------------ the outcome
    def collect(self, exit_codes: dict[str, int], seconds: float) -> SimResult:
        """The run's outcome, read from events (proving times and Byzantine journals
        from the clients' state directories, exclusions from the aggregator's)."""
        names = dict(self.names)
        byzantine = [self.client_account(i).address for i in self.byzantine]
        for address in byzantine:
            names[address] += f" ({self.cfg.attack})"
        prove_seconds = {
            (int(r), self.client_account(i).address): s
            for i in range(self.cfg.clients)
            for r, s in _read_json(
                self.run_dir / f"client-{i + 1}" / "state" / PROVE_SECONDS, {}
            ).items()
        }
        zkpot = self.zkpot
        rounds = summarise_task(
            zkpot,
            self.task_id,
            self.definition.eval_samples,
            store=open_store(self.store),
            accuracy=self.definition.accuracy,
            names=names,
            prove_seconds=prove_seconds,
        )
        journals = {
            self.client_account(i).address: _read_json(
                self.run_dir / f"client-{i + 1}" / "state" / "attack.json", {}
            ).get("journal", [])
            for i in self.byzantine
        }
        chain_id = zkpot.chain.w3.eth.chain_id
        excluded = {
            r: _read_json(
                aggregation_path(
                    self.run_dir / "aggregator",
                    chain_id,
                    self.contract,
                    self.task_id,
                    r,
                ),
                {},
            ).get("excluded", {})
            for r in range(1, self.cfg.rounds + 1)
        }
        return SimResult(
            byzantine=byzantine,
            attack=self.cfg.attack if self.cfg.byzantine else None,
            rounds=rounds,
            run_dir=self.run_dir,
            contract=self.contract,
            task_id=self.task_id,
            seconds=seconds,
            journals=journals,
            excluded=excluded,
            exit_codes=exit_codes,
        )


def run_sim(cfg: FederationConfig, options: SimOptions | None = None) -> SimResult:
    """Run the simulation and return its outcome, read from the chain."""
    started = time.monotonic()
    options = options or SimOptions()
    fed = Federation(cfg, options, node_state=True)  # the chain is kept for audits
    info(
        f"run directory: {fed.run_dir}"
        + (" (temporary: --run-dir DIR keeps one)" if options.run_dir is None else "")
    )
    schedule = fed.plan()
    t = schedule.terms
    info(
        f"{cfg.clients} clients ({cfg.byzantine} Byzantine"
        + (f", attack {cfg.attack}" if cfg.byzantine else "")
        + f"), {cfg.rounds} rounds, circuit 2^{fed.logrows} rows: "
        f"{schedule.prove_seconds:.0f} s per proof, {schedule.provers} provers per round, "
        f"{options.slots} at a time"
    )
    info(
        f"schedule (blocks of {options.block_time:g} s): registration {t.registration_blocks}, "
        f"commit {t.commit_blocks}, proof {t.proof_blocks}, aggregate {t.aggregate_blocks}; "
        f"[bold]expected run time about {schedule.estimate_seconds / 60:.0f} min[/]"
    )
    fed.start_node()
    try:
        fed.publish()
        fed.start_roles()
        codes = fed.wait()
        return fed.collect(codes, time.monotonic() - started)
    finally:
        fed.stop_all()
        if options.run_dir is None:  # a temporary run directory goes with the run
            shutil.rmtree(fed.run_dir, ignore_errors=True)


def _read_json(path: Path, default: Any) -> Any:
    return json.loads(path.read_text()) if path.is_file() else default


def _tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
