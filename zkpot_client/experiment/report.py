"""Writing the experiment to `reports/`: a markdown report, PNG plots, raw JSON."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import FederationConfig
from ..roles.byzantine import byzantine_indices
from ..rules import leader, round_rewards
from .grid import GAUSSIAN_EVERY, RULES, GridConfig, RunTrace, trace_to_json
from .runner import ExperimentResult, config_key

RULE_NAMES = {"zkpot": "ZKPoT", "fedavg": "plain FedAvg", "learning": "learning-based"}
#: The one-third claim holds if, with up to a third of the clients Byzantine, no
#: attack costs ZKPoT more than this much final test accuracy (mean over seeds)
#: against the same federation without attackers.
TOLERANCE = 0.05


def final_accuracies(
    result: ExperimentResult, byzantine: int, attack: str | None, rule: str
) -> list[float]:
    """Final test accuracy of each seed's run."""
    return [
        result.traces[config_key(byzantine, attack if byzantine else None, seed)][rule]
        .rounds[-1]
        .test_accuracy
        for seed in result.cfg.seeds
    ]


def curve(
    result: ExperimentResult, byzantine: int, attack: str | None, rule: str
) -> np.ndarray:
    """Mean test accuracy per round over seeds (round 0: the initial model is not measured)."""
    runs = [
        [
            r.test_accuracy
            for r in result.traces[
                config_key(byzantine, attack if byzantine else None, s)
            ][rule].rounds
        ]
        for s in result.cfg.seeds
    ]
    return np.mean(np.array(runs), axis=0)


def byzantine_share(
    result: ExperimentResult, byzantine: int, attack: str, rule: str
) -> float:
    """Share of the Byzantine clients' round contributions that went into the
    global model (over seeds and rounds)."""
    taken = total = 0
    for seed in result.cfg.seeds:
        trace = result.traces[config_key(byzantine, attack, seed)][rule]
        bad = set(trace.byzantine)
        for r in trace.rounds:
            taken += len(bad & set(r.included))
            total += len(bad)
    return taken / total if total else 0.0


@dataclass(frozen=True)
class Payout:
    """What a set of clients got in one ZKPoT run, as the contract pays it
    (`rules.round_rewards`; ties for the lead go to the lowest index here)."""

    led: int
    """Rounds one of the clients led."""
    tied: int
    """Rounds one of them had the highest verified count, alone or tied."""
    others_led: int
    """Rounds another client led."""
    paid: int
    """Wei paid to the clients."""
    total: int
    """Wei paid to everyone."""


def payout(f: FederationConfig, trace: RunTrace, clients: set[int]) -> Payout:
    """Leadership and rewards of `clients` over the rounds of one ZKPoT `trace`."""
    led = tied = others = paid = total = 0
    pool = f.reward_pool
    for r in trace.rounds:
        top = leader(r.counts, r.accepted)
        led += top in clients
        others += top is not None and top not in clients
        tied += top is not None and any(
            r.counts[i] == r.counts[top] for i in clients & set(r.accepted)
        )
        rewards, pool = round_rewards(
            pool, f.rounds - r.round + 1, r.accepted, top, f.terms.leader_share_bps
        )
        paid += sum(v for i, v in rewards.items() if i in clients)
        total += sum(rewards.values())
    return Payout(led, tied, others, paid, total)


def leadership(
    result: ExperimentResult, byzantine: int, attack: str | None
) -> tuple[float, float, float]:
    """Under ZKPoT, over seeds and rounds: the share of rounds each Byzantine
    client led and each honest client led (means per client), and the Byzantine
    clients' share of all rewards paid. With `attack` None: the same clients (those
    the seed draws as Byzantine) in the honest federation, for comparison."""
    f = result.cfg.federation
    runs = [
        payout(
            f,
            result.traces[config_key(byzantine if attack else 0, attack, seed)][
                "zkpot"
            ],
            set(byzantine_indices(f.clients, byzantine, seed)),
        )
        for seed in result.cfg.seeds
    ]
    rounds = f.rounds * len(result.cfg.seeds)
    honest = f.clients - byzantine
    paid = sum(p.total for p in runs)
    return (
        sum(p.led for p in runs) / (rounds * byzantine),
        sum(p.others_led for p in runs) / (rounds * honest) if honest else 0.0,
        sum(p.paid for p in runs) / paid if paid else 0.0,
    )


def verdict(result: ExperimentResult) -> tuple[bool, float, str]:
    """Whether the one-third claim holds for ZKPoT: the worst drop in mean final
    accuracy, and where it occurred."""
    cfg = result.cfg
    base = float(np.mean(final_accuracies(result, 0, None, "zkpot")))
    worst, where = 0.0, "-"
    for attack in cfg.attacks:
        for b in cfg.byzantine_levels:
            if b == 0 or 3 * b > cfg.federation.clients:
                continue
            drop = base - float(np.mean(final_accuracies(result, b, attack, "zkpot")))
            if drop > worst:
                worst, where = drop, f"{attack}, {b} Byzantine"
    return worst <= TOLERANCE, worst, where


def _fmt(values: list[float]) -> str:
    return (
        f"{np.mean(values):.3f} ± {np.std(values):.3f}"
        if len(values) > 1
        else f"{values[0]:.3f}"
    )


def _rule_table(
    result: ExperimentResult,
    cell: Callable[[int, str | None, str], str],
    *,
    with_baseline: bool = False,
) -> list[str]:
    """A markdown table with a row per attack and number of Byzantine clients and a
    column per rule (first row: no attack, if asked)."""
    cfg = result.cfg
    rows = [
        "| attack | Byzantine | " + " | ".join(RULE_NAMES[r] for r in RULES) + " |",
        "|---|---:|" + "---:|" * len(RULES),
    ]
    keys = [(0, None)] if with_baseline else []
    keys += [(b, a) for a in cfg.attacks for b in cfg.byzantine_levels if b]
    for b, attack in keys:
        cells = " | ".join(cell(b, attack, rule) for rule in RULES)
        rows.append(f"| {attack or '(none)'} | {b} | {cells} |")
    return rows


def rule_panels(
    result: ExperimentResult,
    lines: Callable[[str], list[tuple[np.ndarray, str, str]]],
    title: Callable[[str], str],
    suptitle: str,
    path: Path,
) -> Path:
    """A figure of test accuracy per round, a panel per rule, each panel the
    `(curve, style, label)` lines of `lines(rule)`; written to `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rounds = np.arange(1, result.cfg.federation.rounds + 1)
    fig, axes = plt.subplots(1, len(RULES), figsize=(12, 3.6), sharey=True)
    for ax, rule in zip(axes, RULES, strict=True):
        for values, style, label in lines(rule):
            ax.plot(rounds, values, style, label=label)
        ax.set_title(title(rule))
        ax.set_xlabel("round")
        ax.set_xticks(rounds)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("global model, test accuracy")
    axes[0].set_ylim(0, 1)
    axes[-1].legend(loc="lower right", fontsize=8)
    fig.suptitle(suptitle)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot(result: ExperimentResult, out: Path) -> list[Path]:
    """One PNG per attack: test accuracy per round, a panel per rule, a line per
    number of Byzantine clients."""
    cfg = result.cfg
    return [
        rule_panels(
            result,
            lambda rule, attack=attack: [
                (curve(result, b, attack, rule), "o-", f"{b} Byzantine")
                for b in cfg.byzantine_levels
            ],
            RULE_NAMES.get,
            f"attack: {attack} ({cfg.federation.clients} clients, mean of "
            f"{len(cfg.seeds)} seeds)",
            out / f"accuracy-{attack}.png",
        )
        for attack in cfg.attacks
    ]


def aggregator_runs(
    result: ExperimentResult, rule: str, aggregator: str
) -> list[RunTrace]:
    """The honest federation's trace under `rule` for each seed, with an honest or
    a Gaussian aggregator."""
    return [
        result.traces[config_key(0, None, s)][rule]
        if aggregator == "honest"
        else result.gaussian_aggregator[str(s)][rule]
        for s in result.cfg.seeds
    ]


def aggregator_curve(
    result: ExperimentResult, rule: str, aggregator: str
) -> np.ndarray:
    """Mean test accuracy per round over seeds of the honest federation, with an
    honest or a Gaussian aggregator."""
    runs = [
        [r.test_accuracy for r in t.rounds]
        for t in aggregator_runs(result, rule, aggregator)
    ]
    return np.mean(np.array(runs), axis=0)


def plot_aggregator(result: ExperimentResult, out: Path) -> Path:
    """The ZKPoT paper's figure: global-model accuracy per round with an honest
    and with a Gaussian aggregator, a panel per rule."""
    cfg = result.cfg
    return rule_panels(
        result,
        lambda rule: [
            (aggregator_curve(result, rule, a), style, f"{a} aggregator")
            for a, style in (("honest", "o-"), ("gaussian", "s--"))
        ],
        lambda rule: (
            "ZKPoT, verified aggregation" if rule == "zkpot" else RULE_NAMES[rule]
        ),
        f"Gaussian aggregator every {GAUSSIAN_EVERY} rounds ({cfg.federation.clients} "
        f"honest clients, mean of {len(cfg.seeds)} seeds)",
        out / "accuracy-gaussian-aggregator.png",
    )


def _aggregator_section(result: ExperimentResult, out: Path) -> list[str]:
    if not result.gaussian_aggregator:
        return []
    path = plot_aggregator(result, out)

    def final(rule: str, aggregator: str) -> str:
        runs = aggregator_runs(result, rule, aggregator)
        return _fmt([t.rounds[-1].test_accuracy for t in runs])

    return [
        "",
        "## A Gaussian aggregator (the ZKPoT paper's malicious leader)",
        "",
        f"The honest federations again, with an aggregator that publishes Gaussian noise shaped "
        f"like the average (its mean and standard deviation) in every {GAUSSIAN_EVERY}nd round. "
        "Under ZKPoT the contract accepts a global model only with a proof that it is the FedAvg "
        "of the round's accepted contributions: no proof of the noise exists, the round keeps the "
        "previous model and the aggregator pays its penalty. Plain FedAvg and learning-based "
        "consensus check the clients' models but not the aggregate, and adopt the noise.",
        "",
        "| rule | honest aggregator | Gaussian aggregator |",
        "|---|---:|---:|",
        *(
            f"| {RULE_NAMES[rule]} | {final(rule, 'honest')} | {final(rule, 'gaussian')} |"
            for rule in RULES
        ),
        "",
        "Final test accuracy, mean ± standard deviation over seeds.",
        "",
        f"![{path.stem}]({path.name})",
    ]


def write_report(
    result: ExperimentResult,
    out: Path,
    *,
    title: str = "Robustness and privacy experiment",
) -> Path:
    """Write `experiment.md`, the PNG plots and `experiment.json` under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    cfg = result.cfg
    (out / "experiment.json").write_text(
        json.dumps(
            {
                "config": cfg.to_json(),
                "traces": {
                    key: {rule: trace_to_json(t) for rule, t in by_rule.items()}
                    for key, by_rule in result.traces.items()
                },
                "membership": result.membership,
                "gaussian_aggregator": {
                    seed: {rule: trace_to_json(t) for rule, t in by_rule.items()}
                    for seed, by_rule in result.gaussian_aggregator.items()
                },
                "real": [r.to_json() for r in result.real],
                "seconds": result.seconds,
            },
            indent=1,
        )
        + "\n"
    )
    plots = plot(result, out)
    holds, worst, where = verdict(result)
    lines = [
        f"# {title}",
        "",
        f"Written by `zkpot experiment` on {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{os.cpu_count()} cores. Raw results: `experiment.json`.",
        "",
        "## Set-up",
        "",
        f"- {cfg.federation.clients} clients; the scikit-learn digits (8x8) split non-IID by a Dirichlet "
        f"distribution with alpha = {cfg.federation.alpha} per class (small alpha: each client sees few digits).",
        f"- Model: MLP 64-{cfg.federation.hidden}-10, {cfg.federation.training.epochs} local epochs of SGD per round, {cfg.federation.rounds} rounds, "
        f"seeds {', '.join(map(str, cfg.seeds))} (each seed draws the split, the evaluation set, the "
        "initial model and which clients are Byzantine).",
        f"- Acceptance: at least {cfg.federation.threshold:.0%} correct on the round's evaluation batch, "
        f"{cfg.federation.eval_samples} samples, a fresh batch each round that the publisher committed to before the "
        "task opened and reveals after the round's commit phase (the circuit has 2^15 rows). Accuracy below is "
        f"measured on {cfg.federation.test_samples} further samples that no client, circuit or validator ever sees.",
        f"- Byzantine clients: {', '.join(map(str, cfg.byzantine_levels))} of {cfg.federation.clients}, one attack at a time "
        "(docs/attacks.md describes each).",
        "- Rules: **ZKPoT** accepts a contribution when its proof would be accepted: the count is the circuit's "
        "own (ezkl witness of the compiled circuit, exactly the count a proof carries) and the contract's other "
        "checks are applied (a copied commitment, a replayed or forged proof, the global model handed back and "
        "garbage are refused); the global model is accepted only with a proof that it is the FedAvg of "
        "exactly the accepted contributions, so a round in which an accepted client handed over other "
        "weights than it proved keeps the previous model. "
        "**Plain FedAvg** averages everything submitted. **Learning-based** consensus: validators see each "
        "submitted model and keep those that reach the threshold on the evaluation set.",
        "",
        "## Final global-model accuracy (test set, mean ± standard deviation over seeds)",
        "",
        *_rule_table(
            result,
            lambda b, attack, rule: _fmt(final_accuracies(result, b, attack, rule)),
            with_baseline=True,
        ),
        "",
        "Share of the Byzantine clients' contributions (all rounds and seeds) that entered "
        "the global model:",
        "",
        *_rule_table(
            result,
            lambda b, attack, rule: f"{byzantine_share(result, b, attack, rule):.0%}",
        ),
    ]
    lines += [
        "",
        "Where no Byzantine contribution gets through, a rule's global model is the FedAvg of the "
        "honest clients alone, whatever the attack: hence ZKPoT's identical rows for every attack "
        "at the same number of Byzantine clients (the same seeds draw the same attackers).",
        "",
        "## Leadership and rewards under ZKPoT",
        "",
        "Share of rounds led, per client (mean over Byzantine or honest clients, all rounds and seeds), "
        "and the Byzantine clients' share of all rewards paid, against their share of the clients. "
        f"Rewards follow the contract: each round takes the pool over the rounds left, the leader earns "
        f"{f_bps(cfg)} of it as a bonus and the rest is split equally among accepted contributions; "
        "the leader has the highest verified count (ties here go to the lowest index, on chain to a seeded hash).",
        "",
        "| attack | Byzantine | rounds led, per Byzantine client | per honest client | Byzantine share of rewards (of clients) | the same clients honest: rounds led, share of rewards |",
        "|---|---:|---:|---:|---:|---:|",
        *[
            "| {} | {} | {:.0%} | {:.0%} | {:.0%} ({:.0%}) | {:.0%}, {:.0%} |".format(
                attack,
                b,
                *leadership(result, b, attack),
                b / cfg.federation.clients,
                *leadership(result, b, None)[::2],
            )
            for attack in cfg.attacks
            for b in cfg.byzantine_levels
            if b
        ],
        "",
        "The last column is the same clients (those each seed draws as Byzantine) in the federation "
        "without attackers: what they lead and earn by their data alone. An attack gains leadership "
        "or rewards where its figures exceed those.",
        "",
        "## Does ZKPoT stay stable with up to one third Byzantine clients?",
        "",
        f"Criterion, fixed before the run: with at most {max(b for b in cfg.byzantine_levels if 3 * b <= cfg.federation.clients)} "
        f"of {cfg.federation.clients} clients Byzantine, no attack lowers ZKPoT's mean final test accuracy by more than "
        f"{TOLERANCE:.2f} against the same federations without attackers.",
        "",
        f"**{'Yes' if holds else 'No'}, on our data**: the largest drop is {worst:.3f} ({where}).",
        "",
        "## Accuracy per round",
        "",
    ]
    lines += [f"![{p.stem}]({p.name})" for p in plots]
    lines += (
        _aggregator_section(result, out)
        + _membership_section(result)
        + _real_section(result)
        + _timing_section(result)
    )
    path = out / "experiment.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def f_bps(cfg: GridConfig) -> str:
    """The leader's bonus as a percentage."""
    return f"{cfg.federation.terms.leader_share_bps / 100:g}%"


def _membership_section(result: ExperimentResult) -> list[str]:
    rows = result.membership
    if not rows:
        return []

    def mean(key: str) -> str:
        return f"{np.mean([r[key] for r in rows]):.3f} (max {np.max([r[key] for r in rows]):.3f})"

    return [
        "",
        "## Membership inference",
        "",
        "Loss-threshold attack (Yeom et al. 2018) on each client of the honest federations after the last "
        "round: members are the client's training samples, non-members as many test samples. Advantage = "
        "best true-positive rate minus false-positive rate (0: a coin toss).",
        "",
        "| what the observer gets | advantage, mean over clients and seeds (max) |",
        "|---|---:|",
        f"| learning-based: each client's submitted model | {mean('learning_local_model')} |",
        "| ZKPoT: each client's commitment and verified count | 0 by construction (not a measurement) |",
        f"| both: the published global model | {mean('global_model')} |",
        "",
        "ZKPoT never shows a local model to anyone but the aggregator (sealed to its key). Its public record of "
        "a client, a commitment (a hash) and a verified count, is the same whichever sample is tested: every "
        "sample gets the same score, so the attack's advantage on it is 0 by construction "
        f"(computed as {mean('zkpot_public_record')}, as it must be), not a measured resistance. "
        "The global model is public in both designs.",
    ]


def _real_section(result: ExperimentResult) -> list[str]:
    if not result.real:
        return [
            "",
            "## Real proofs",
            "",
            "Not run yet (`zkpot experiment --real-proofs` runs one configuration per attack with "
            "every proof made, verified on anvil by the contract).",
        ]
    done = len(result.real)
    lines = [
        "",
        "## Real proofs against the grid",
        "",
        *(
            [f"{done} of {len(result.cfg.attacks)} attacks run so far.", ""]
            if done < len(result.cfg.attacks)
            else []
        ),
        "One configuration per attack (3 Byzantine of 10, seed 0) run end to end by `zkpot sim`: every role its "
        "own process on anvil, every contribution proven and verified on chain. Compared round by round with "
        "the grid's ZKPoT run of the same configuration: the verified counts, the accepted clients and the "
        "global model's accuracy on the evaluation set.",
        "",
        "| attack | rounds agreeing | counts | accepted | global accuracy | run time |",
        "|---|---:|---|---|---|---:|",
    ]

    def same(values: list[bool]) -> str:
        return "same" if all(values) else "differ"

    for r in result.real:
        agree = sum(x.counts_agree and x.accepted_agree for x in r.rounds)
        lines.append(
            f"| {r.attack} | {agree} of {r.rounds_expected} | "
            f"{same([x.counts_agree for x in r.rounds])} | "
            f"{same([x.accepted_agree for x in r.rounds])} | "
            f"{same([x.accuracy_agrees for x in r.rounds])} | "
            f"{r.seconds / 60:.1f} min |"
        )
    f = result.cfg.federation
    bad = set(byzantine_indices(f.clients, 3, 0))
    measured = [r for r in result.real if any(x.chain_rewards for x in r.rounds)]
    if measured:
        alone = payout(f, result.traces[config_key(0, None, 0)]["zkpot"], bad)
        lines += [
            "",
            "What the contract paid in these runs (leaders and rewards from its events; accuracy of each "
            "published global model on the held-out test set):",
            "",
            "| attack | rounds led by Byzantine clients | Byzantine share of rewards (of clients) | final test accuracy |",
            "|---|---:|---:|---:|",
        ]
        for r in measured:
            led = sum(x.chain_leader in bad for x in r.rounds)
            paid = sum(sum(x.chain_rewards.values()) for x in r.rounds)
            paid_bad = sum(
                v for x in r.rounds for i, v in x.chain_rewards.items() if i in bad
            )
            final = r.rounds[-1].chain_test_accuracy if r.rounds else None
            lines.append(
                f"| {r.attack} | {led} of {len(r.rounds)} | "
                f"{paid_bad / paid if paid else 0:.0%} ({len(bad) / result.cfg.federation.clients:.0%}) | "
                f"{'-' if final is None else f'{final:.3f}'} |"
            )
        lines += [
            "",
            f"The same clients honest, in the grid's federation of seed 0 without attackers: they lead "
            f"{alone.led} of {f.rounds} rounds and have the highest verified count, alone or tied, in "
            f"{alone.tied}; they take {alone.paid / alone.total if alone.total else 0:.0%} of the rewards "
            "(the grid gives a tie to the lowest index, the contract to a seeded hash).",
        ]
    return lines


def _timing_section(result: ExperimentResult) -> list[str]:
    s = result.seconds
    lines = [
        "",
        "## Run time",
        "",
        f"- Grid ({len(result.traces)} configurations x {len(RULES)} rules): {s.get('grid', 0) / 60:.1f} min.",
    ]
    if result.real:
        total = sum(r.seconds for r in result.real)
        each = ", ".join(f"{r.attack} {r.seconds / 60:.1f}" for r in result.real)
        lines.append(f"- Real-proof runs: {total / 60:.1f} min in all ({each} min).")
    return lines
