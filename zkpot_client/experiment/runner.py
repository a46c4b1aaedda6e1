"""Running the experiment: the grid, membership inference, and the real-proof runs
that check the grid against the real system."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..circuit.batches import compile_batch
from ..circuit.keys import CircuitArtifacts
from ..processes.sim import SimOptions, run_sim
from ..progress import info
from ..report import write_json
from ..roles.publisher import setup_task_circuit
from ..types import RoundSummary
from .grid import RULES, Federation, GridConfig, RunTrace, trace_from_json
from .membership import loss_attack, public_record_attack


@dataclass
class ExperimentResult:
    cfg: GridConfig
    traces: dict[str, dict[str, RunTrace]] = field(default_factory=dict)
    """"byzantine/attack/seed" -> rule -> trace (as JSON)."""
    membership: list[dict[str, Any]] = field(default_factory=list)
    real: list[RunComparison] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    gaussian_aggregator: dict[str, dict[str, RunTrace]] = field(default_factory=dict)
    """Seed -> rule -> the honest federation's trace under a Gaussian aggregator."""


def load_grid(cfg: GridConfig, path: Path) -> ExperimentResult | None:
    """The grid of an earlier run of the same configuration, from its
    `experiment.json` (the real-proof runs take hours and may be resumed)."""
    if not path.is_file():
        return None
    saved = json.loads(path.read_text())
    if saved.get("config") != cfg.to_json():
        return None
    return ExperimentResult(
        cfg,
        traces={
            key: {rule: trace_from_json(t) for rule, t in by_rule.items()}
            for key, by_rule in saved["traces"].items()
        },
        membership=saved["membership"],
        seconds={"grid": saved["seconds"]["grid"]},
        gaussian_aggregator={
            seed: {rule: trace_from_json(t) for rule, t in by_rule.items()}
            for seed, by_rule in saved.get("gaussian_aggregator", {}).items()
        },
    )


def config_key(byzantine: int, attack: str | None, seed: int) -> str:
    return f"{byzantine}/{attack or 'none'}/{seed}"


def grid_configs(cfg: GridConfig) -> list[tuple[int, str | None, int]]:
    """(byzantine, attack, seed) of every run: the honest federation once per seed."""
    out: list[tuple[int, str | None, int]] = []
    for seed in cfg.seeds:
        out.append((0, None, seed))
        for attack in cfg.attacks:
            out += [(b, attack, seed) for b in cfg.byzantine_levels if b > 0]
    return out


def round_circuits(cfg: GridConfig, seed: int, directory: Path) -> list[Path]:
    """The task's circuit (set up and cached) compiled with each of the seed's
    evaluation batches (drawn with the seed), under `directory`."""
    definition = cfg.federation.definition(cfg.federation.data(seed))
    artifacts: CircuitArtifacts = setup_task_circuit(definition)
    return [
        compile_batch(
            artifacts.settings, definition.spec, batch, directory / f"{seed}-{r}"
        )
        for r, batch in enumerate(definition.batches, 1)
    ]


def run_grid(
    cfg: GridConfig,
    result: ExperimentResult,
    on_config: Callable[[int, int, str], None] | None = None,
) -> None:
    """Every configuration under every rule; membership inference on the honest ones."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="zkpot-grid-") as tmp:
        circuits = {seed: round_circuits(cfg, seed, Path(tmp)) for seed in cfg.seeds}
        configs = grid_configs(cfg)
        for n, (byzantine, attack, seed) in enumerate(configs, 1):
            key = config_key(byzantine, attack, seed)
            if on_config:
                on_config(n, len(configs), key)
            fed = Federation(cfg, byzantine, attack, seed, circuits[seed])
            traces = {rule: fed.run(rule) for rule in RULES}
            result.traces[key] = traces
            if byzantine == 0:
                result.membership += membership_rows(fed, traces, seed)
                result.gaussian_aggregator[str(seed)] = {
                    rule: fed.run(rule, aggregator="gaussian") for rule in RULES
                }
    result.seconds["grid"] = time.monotonic() - started


def membership_rows(
    fed: Federation, traces: dict[str, Any], seed: int
) -> list[dict[str, Any]]:
    """Per client of an honest federation: the attack's advantage on what each
    consensus exposes of it after the last round."""
    test = fed.data.test
    assert test is not None
    nonmembers = (test.x, test.y)
    spec = fed.cfg.federation.spec
    last_zkpot = traces["zkpot"].rounds[-1]
    rows = []
    for i, shard in enumerate(fed.data.shards):
        members = (shard.x, shard.y)
        rows.append(
            {
                "seed": seed,
                "client": i,
                "learning_local_model": loss_attack(
                    spec, traces["learning"].final_models[i], members, nonmembers, seed
                ),
                "zkpot_public_record": public_record_attack(
                    last_zkpot.counts.get(i), members, nonmembers, seed
                ),
                "global_model": loss_attack(
                    spec, traces["zkpot"].global_model, members, nonmembers, seed
                ),
            }
        )
    return rows


def load_real(cfg: GridConfig, result: ExperimentResult, run_root: Path) -> None:
    """Add the comparisons of the real-proof runs already finished under `run_root`
    (the runs take hours; one interrupted is started afresh by `run_real`)."""
    for attack in cfg.attacks:
        saved = _comparison_path(run_root, attack)
        if saved.is_file():
            info(f"real-proof run for {attack}: already done ({saved})")
            result.real.append(RunComparison.from_json(json.loads(saved.read_text())))


def run_real(
    cfg: GridConfig,
    result: ExperimentResult,
    run_root: Path,
    byzantine: int = 3,
    seed: int = 0,
    on_run: Callable[[], None] | None = None,
) -> None:
    """One configuration per attack end to end (`zkpot sim`: processes, anvil, real
    proofs), compared round by round with the grid's ZKPoT trace of it, for each
    attack not yet in `result.real`. Each comparison is saved in its run directory
    as it completes (see `load_real`), then `on_run` is called."""
    done = {r.attack for r in result.real}
    for attack in cfg.attacks:
        if attack in done:
            continue
        saved = _comparison_path(run_root, attack)
        if saved.parent.exists():  # an interrupted run: start it afresh
            shutil.rmtree(saved.parent)
        info(f"[bold]real-proof run: {byzantine} Byzantine ({attack}), seed {seed}[/]")
        sim = run_sim(
            cfg.federation.with_(byzantine=byzantine, attack=attack, seed=seed),
            SimOptions(run_dir=run_root / attack),
        )
        grid = result.traces[config_key(byzantine, attack, seed)]["zkpot"]
        comparison = compare(
            sim.rounds,
            grid,
            cfg.federation.clients,
            attack,
            sim.seconds,
            sim.exit_codes,
            test_accuracy=held_out_accuracy(cfg, seed, sim.run_dir / "store"),
        )
        write_json(comparison.to_json(), saved)
        result.real.append(comparison)
        if on_run:
            on_run()


def held_out_accuracy(
    cfg: GridConfig, seed: int, store_dir: Path
) -> Callable[[str | None], float | None]:
    """Accuracy on the run's held-out test set of a global model in its store."""
    from ..crypto import weights_from_bytes
    from ..model import accuracy as float_accuracy
    from ..storage import LocalDirStore

    test = cfg.federation.data(seed).test
    store = LocalDirStore(store_dir)

    def accuracy(cid: str | None) -> float | None:
        if cid is None or test is None:
            return None
        w = weights_from_bytes(store.get(cid))
        return float_accuracy(cfg.federation.spec, w, test.x, test.y)

    return accuracy


def _comparison_path(run_root: Path, attack: str) -> Path:
    return run_root / attack / "comparison.json"


@dataclass(frozen=True, kw_only=True)
class RoundAgreement:
    """One round of a real-proof run against the grid's run of it."""

    round: int
    counts_agree: bool
    accepted_agree: bool
    chain_eval_accuracy: float | None
    grid_eval_accuracy: float
    chain_counts: dict[int, int]
    grid_counts: dict[int, int]
    chain_leader: int | None = None
    """The leader the contract elected (client index)."""
    chain_rewards: dict[int, int] = field(default_factory=dict)
    """Client index -> wei the round paid it on chain."""
    chain_test_accuracy: float | None = None
    """The published global model's accuracy on the held-out test set."""

    @property
    def accuracy_agrees(self) -> bool:
        return self.chain_eval_accuracy == self.grid_eval_accuracy


@dataclass(frozen=True, kw_only=True)
class RunComparison:
    """A real-proof run of one attack, compared with the grid round by round."""

    attack: str
    rounds: tuple[RoundAgreement, ...]
    rounds_expected: int
    seconds: float
    exit_codes: dict[str, int]

    @property
    def agree(self) -> bool:
        return len(self.rounds) == self.rounds_expected and all(
            r.counts_agree and r.accepted_agree and r.accuracy_agrees
            for r in self.rounds
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "attack": self.attack,
            "rounds": [
                {
                    **vars(r),
                    "chain_counts": {str(i): c for i, c in r.chain_counts.items()},
                    "grid_counts": {str(i): c for i, c in r.grid_counts.items()},
                    "chain_rewards": {str(i): c for i, c in r.chain_rewards.items()},
                }
                for r in self.rounds
            ],
            "rounds_compared": len(self.rounds),
            "rounds_expected": self.rounds_expected,
            "agree": self.agree,
            "seconds": self.seconds,
            "exit_codes": self.exit_codes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunComparison:
        def ints(d: dict[str, int]) -> dict[int, int]:
            return {int(i): c for i, c in d.items()}

        return cls(
            attack=data["attack"],
            rounds=tuple(
                RoundAgreement(
                    **{
                        **r,
                        "chain_counts": ints(r["chain_counts"]),
                        "grid_counts": ints(r["grid_counts"]),
                        "chain_rewards": ints(r.get("chain_rewards", {})),
                    }
                )
                for r in data["rounds"]
            ),
            rounds_expected=data["rounds_expected"],
            seconds=data["seconds"],
            exit_codes=data["exit_codes"],
        )


def compare(
    sim_rounds: list[RoundSummary],
    grid: RunTrace,
    clients: int,
    attack: str,
    seconds: float,
    exit_codes: dict[str, int],
    test_accuracy: Callable[[str | None], float | None] = lambda cid: None,
) -> RunComparison:
    """Round by round: the verified counts, the accepted clients and the global
    model's accuracy on the evaluation set, from the chain and from the grid; and
    the chain's leader, rewards and (by `test_accuracy` of the global model's CID)
    held-out accuracy."""
    from ..processes.sim import Federation as SimFederation

    index = {SimFederation.client_account(i).address: i for i in range(clients)}
    rounds = []
    for sim_r, grid_r in zip(sim_rounds, grid.rounds, strict=False):
        chain_counts = {index[c.client]: c.correct for c in sim_r.contributions}
        grid_counts = {i: c for i, c in grid_r.counts.items() if c is not None}
        chain_accepted = sorted(
            index[c.client] for c in sim_r.contributions if c.accepted
        )
        rounds.append(
            RoundAgreement(
                round=sim_r.round,
                counts_agree=chain_counts == grid_counts,
                accepted_agree=chain_accepted == sorted(grid_r.accepted),
                chain_eval_accuracy=sim_r.global_accuracy,
                grid_eval_accuracy=grid_r.eval_accuracy,
                chain_counts=chain_counts,
                grid_counts=grid_counts,
                chain_leader=None if sim_r.leader is None else index[sim_r.leader],
                chain_rewards={
                    index[c.client]: c.reward_wei
                    for c in sim_r.contributions
                    if c.reward_wei
                },
                chain_test_accuracy=test_accuracy(sim_r.global_model_cid),
            )
        )
    return RunComparison(
        attack=attack,
        rounds=tuple(rounds),
        rounds_expected=len(grid.rounds),
        seconds=round(seconds, 1),
        exit_codes=exit_codes,
    )
