"""The `zkpot` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .cli_options import (
    CACHE_DIR,
    JSON,
    KEY,
    NETWORK,
    SEED,
    VERIFICATION,
    circuit_options,
    clients_option,
    data_options,
    federation_config,
    federation_options,
    node_and_contract,
    rounds_option,
)
from .paths import keep_torch_cache_in_ours


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zkpot")
def main() -> None:
    """ZKPoT: zero-knowledge proof of training consensus for federated learning.

    Clients train on private data and prove with a zk-SNARK (ezkl) that the model
    they committed to reaches an accuracy on the task's evaluation set; a contract
    verifies the proofs on an EVM chain and elects each round's leader.
    """
    keep_torch_cache_in_ours()


@main.command()
@clients_option(4)
@rounds_option(3)
@SEED
@click.option(
    "--store-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Content store directory (default: a new temporary one).",
)
@VERIFICATION
@federation_options
@circuit_options
@data_options
@JSON
def demo(**kw: Any) -> None:
    """Run a complete ZKPoT federated-learning task on the embedded chain.

    A publisher sets up the evaluation circuit and creates the task with a reward
    pool; the clients register with a stake. Each round the clients train on their
    private shards, commit to their weights, prove their accuracy in zero knowledge
    and submit the proofs, which the contract verifies; the round's leader is
    elected on chain, rewards are fixed, and the aggregator publishes the FedAvg
    global model, appending the round's record to the chain. At the end the record
    chain is checked from events and everyone is paid out. The outcome is read
    back from contract events. --json writes the per-round summary.

    With --verification optimistic the clients claim their counts instead, with
    their proofs in the content store; the keeper checks every claim off chain
    with ezkl and would dispute an invalid one before the round closes.
    """
    from .cli_roles import guard

    guard(lambda: _demo(**kw))


def _demo(**kw: Any) -> int:
    from .config import FederationConfig
    from .demo import run_demo
    from .report import print_names, rounds_table, wide_console, write_json
    from .summary import rounds_json

    cfg = federation_config(FederationConfig.demo, **kw)
    table_console = wide_console()
    result = run_demo(
        cfg,
        store_dir=kw["store_dir"],
        on_round=lambda r: table_console.print(
            rounds_table([r], verification=cfg.verification)
        ),
    )
    print_names(result.rounds, table_console)
    final = result.rounds[-1].global_accuracy
    if final is not None:
        click.echo(f"final global-model accuracy on held-out test data: {final:.2f}")
    if kw["json_path"]:
        write_json(rounds_json(result.rounds), kw["json_path"])
        click.echo(f"summary written to {kw['json_path']}")
    return 0


@main.command()
@click.option(
    "--rpc",
    default="http://127.0.0.1:8545",
    show_default=True,
    help="JSON-RPC endpoint of the node.",
)
@NETWORK
@click.option(
    "--contract",
    help="Address of the ZKPoT contract (with --network: the network's deployment).",
)
@click.option(
    "--task", "task_id", type=int, default=None, help="Task id (default: the latest)."
)
@click.option(
    "--follow/--once",
    default=False,
    show_default=True,
    help="Keep watching until the task completes, or report what is there and stop.",
)
@click.option(
    "--poll", default=2.0, show_default=True, help="Seconds between polls (--follow)."
)
@click.option(
    "--dispute",
    is_flag=True,
    help="Also keep an optimistic task honest: check every claim's proof off chain "
    "with ezkl and dispute the invalid ones (needs a key to post the dispute bond "
    "and the content store; implies --follow).",
)
@KEY
@click.option(
    "--store",
    "store_dir",
    envvar="ZKPOT_STORE",
    help="Content store where claims' proofs are (--dispute): a directory or the URL "
    "of an IPFS node's RPC API (env ZKPOT_STORE).",
)
@CACHE_DIR
@JSON
def watch(
    rpc: str,
    network: str | None,
    deployments: Path,
    contract: str | None,
    task_id: int | None,
    follow: bool,
    poll: float,
    dispute: bool,
    key_file: Path | None,
    ape_account: str | None,
    dev_account: int | None,
    store_dir: str | None,
    cache_dir: Path | None,
    json_path: Path | None,
) -> None:
    """Watch a task from any node, without keys: each finalised round's verified
    contributions, leader, rewards and global model, read from contract events,
    then the record chain rebuilt from events and checked against the contract.

    With --dispute the watcher is also an honest verifier of an optimistic task:
    one such verifier online during each dispute window is what the task's
    safety rests on (docs/security.md)."""
    from .chain.backend import Chain
    from .chain.contracts import ZKPoTContract
    from .chain.records import record_hash
    from .exceptions import ZKPoTError
    from .report import rounds_table, wide_console, write_json
    from .roles.watcher import Watcher
    from .summary import rounds_json
    from .types import ETHER, RoundSummary

    console = wide_console()
    rounds: list[RoundSummary] = []

    def show(summary: RoundSummary) -> None:
        rounds.append(summary)
        console.print(rounds_table([summary]))

    try:
        rpc, contract = node_and_contract(rpc, network, contract, deployments)
        if contract is None:
            raise click.UsageError("give --contract (or --network with a deployment)")
        watcher = Watcher.of(ZKPoTContract(Chain.connect(rpc), contract), task_id)
        t = watcher.task
        click.echo(
            f"task {t.task_id} on {contract}: {t.eval_samples} evaluation samples per round, "
            f"threshold {t.min_correct}, {t.num_rounds} rounds, reward pool "
            f"{t.reward_pool / ETHER:g} ETH, stake {t.terms.min_stake / ETHER:g} ETH, "
            + (
                f"optimistic verification ({t.terms.dispute_blocks}-block dispute window)"
                if t.terms.optimistic
                else "immediate verification"
            )
        )
        on_poll = None
        if dispute:
            on_poll = watch_disputer(
                watcher, (key_file, dev_account, ape_account), store_dir, cache_dir
            )
            follow = True
        records = watcher.follow(
            show, poll_seconds=poll, until_done=follow, on_poll=on_poll
        )
    except (ZKPoTError, LookupError, ValueError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    proven = sum(r.aggregation_proof_hash != bytes(32) for r in records[1:])
    click.echo(
        f"record chain verified from events: {len(records)} records, "
        f"head 0x{record_hash(records[-1]).hex()}; {proven} of {len(records) - 1} "
        "rounds adopted a global model proven the FedAvg of their accepted "
        "contributions, the others kept the previous one"
    )
    if json_path:
        write_json(rounds_json(rounds), json_path)
        click.echo(f"summary written to {json_path}")


def watch_disputer(
    watcher: Any,
    key: tuple[Path | None, int | None, str | None],
    store_dir: str | None,
    cache_dir: Path | None,
) -> Any:
    """What `zkpot watch --dispute` does at each poll: check the current round's
    claims and dispute what does not hold, logging each action."""
    from .chain.accounts import load_account
    from .circuit.package import setup_from_package
    from .exceptions import ZKPoTValueError
    from .roles.disputer import Disputer
    from .storage import open_store

    t = watcher.task
    if not t.terms.optimistic:
        raise ZKPoTValueError(
            f"task {t.task_id} verifies every proof on submission: nothing to dispute"
        )
    if store_dir is None:
        raise ZKPoTValueError("--dispute needs --store, where the claims' proofs are")
    account = load_account(*key)
    store = open_store(store_dir)
    _, artifacts = setup_from_package(
        store, t.circuit_cid, t.vka_digest, cache=cache_dir
    )
    disputer = Disputer(
        zkpot=watcher.zkpot,
        store=store,
        account=account,
        task_id=t.task_id,
        artifacts=artifacts,
    )

    def on_poll() -> None:
        for line in disputer.step(watcher.zkpot.chain.block_number):
            click.echo(line)

    return on_poll


@main.command()
@click.option(
    "--rpc",
    default="http://127.0.0.1:8545",
    show_default=True,
    help="JSON-RPC endpoint of the node.",
)
@click.option("--contract", required=True, help="Address of the ZKPoT contract.")
@click.option(
    "--task", "task_id", type=int, default=None, help="Task id (default: the latest)."
)
@click.option(
    "--store",
    envvar="ZKPOT_STORE",
    help="Content store, a directory or the URL of an IPFS node's RPC API: measure "
    "each round's global model on the round's evaluation batch (env ZKPOT_STORE). "
    "Without it the chart shows what the events hold.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to serve the page on (loopback: only this machine sees it).",
)
@click.option(
    "--port",
    default=8050,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to serve the page on (0: a free one).",
)
@click.option(
    "--poll", default=2.0, show_default=True, help="Seconds between looks at the chain."
)
@CACHE_DIR
def dashboard(**kw: Any) -> None:
    """Serve a live page of a task, without keys: its terms, each round's
    contributions (client, verified accuracy, accepted, reward, gas), leader and
    global model, the round in progress (phase, deadlines), the accuracy over
    rounds as a chart and the record chain checked from events. The page updates
    itself as new blocks arrive. With --store it also measures each round's
    global model (checked against its on-chain hash) on that round's evaluation
    batch."""
    from .cli_roles import guard

    guard(lambda: _dashboard(**kw))


def _dashboard(
    rpc: str,
    contract: str,
    task_id: int | None,
    store: str | None,
    host: str,
    port: int,
    poll: float,
    cache_dir: Path | None,
) -> int:
    from .chain.backend import Chain
    from .chain.contracts import ZKPoTContract
    from .dashboard.accuracy import GlobalAccuracy
    from .dashboard.app import serve
    from .dashboard.live import LiveTask
    from .dashboard.state import TaskFollower
    from .roles.watcher import Watcher
    from .storage import open_store

    content = None if store is None else open_store(store, create=False)
    watcher = Watcher.of(ZKPoTContract(Chain.connect(rpc), contract), task_id)
    zkpot, task = watcher.zkpot, watcher.task
    accuracy = None
    if content is not None:
        accuracy = GlobalAccuracy(
            zkpot=zkpot, task=task, store=content, cache=cache_dir
        )
    live = LiveTask(
        TaskFollower(zkpot=zkpot, task=task), accuracy=accuracy, poll_seconds=poll
    )
    click.echo(
        f"task {task.task_id} on {zkpot.address}: {task.num_rounds} rounds, "
        f"{len(live.view.rounds)} opened so far"
    )
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"serving on {host}: anyone who can reach it sees the page")
    live.start()
    try:
        serve(live, host, port, lambda url: click.echo(f"dashboard at {url}"))
    finally:
        live.stop()
    return 0


@main.command()
@click.option(
    "--proofs", default=2, show_default=True, help="Proofs to time (one with --growth)."
)
@click.option(
    "--levers",
    is_flag=True,
    help="Instead: measure the prover's levers, each changed alone on this "
    "configuration's circuit (rows, set-up, witness, proof, key read, memory, "
    "key size, fidelity on 8 models). About 15 min for the demo's.",
)
@click.option(
    "--lever",
    "lever_names",
    multiple=True,
    metavar="NAME",
    help="With --levers: only this one (repeatable; names in docs/benchmarks.md).",
)
@click.option(
    "--growth",
    is_flag=True,
    help="Instead: how the cost grows, end to end per configuration: the MLP at "
    "32, 100, 256 and 512 evaluation samples, and at 100 samples the MLP at "
    "hidden 16 and 64 and the CNN. About 15 min.",
)
@click.option(
    "--aggregation",
    is_flag=True,
    help="Instead: what a proven aggregate costs for K = 1, 4 and 10 contributions "
    "(and 1 of 10 slots): one round each on the embedded chain, then the "
    "aggregation proof (time, peak memory, size) and publishGlobalModel's gas. "
    "About 10 min for the demo's model.",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --growth: draw it to this PNG file.",
)
@circuit_options
@JSON
def bench(**kw: Any) -> None:
    """Measure what a proof costs. By default one task configuration end to end
    on the embedded chain: circuit size, setup (short when cached), proving time
    and peak prover memory, proof size, verification gas and calldata. With
    --levers, --growth or --aggregation, the studies in docs/benchmarks.md; each
    prints a Markdown table.
    """
    from .cli_roles import guard

    guard(lambda: _bench(**kw))


def _bench(**kw: Any) -> int:
    import json

    from rich.console import Console
    from rich.table import Table

    from .config import FederationConfig
    from .exceptions import ZKPoTValueError

    if sum(bool(kw[k]) for k in ("levers", "growth", "aggregation")) > 1:
        raise ZKPoTValueError(
            "--levers, --growth and --aggregation are separate studies: pick one"
        )
    if kw["plot"] and not kw["growth"]:
        raise ZKPoTValueError("--plot draws the --growth study")

    def save(rows: Any) -> None:  # what is measured so far is kept
        if kw["json_path"]:
            kw["json_path"].write_text(json.dumps(rows, indent=2) + "\n")

    cfg = federation_config(FederationConfig.demo, **kw)
    results: Any
    if kw["levers"] or kw["lever_names"]:
        from .bench import levers

        unknown = set(kw["lever_names"]) - set(levers.lever_names())
        if unknown:
            raise ZKPoTValueError(
                f"unknown lever {', '.join(sorted(unknown))}; the levers: "
                + ", ".join(levers.lever_names())
            )

        results = levers.run_levers(cfg, list(kw["lever_names"]) or None, on_row=save)
        click.echo(levers.markdown(results))
    elif kw["aggregation"]:
        from .bench import aggregation

        results = aggregation.run_aggregation(cfg, on_row=save)
        click.echo(aggregation.markdown(results))
    elif kw["growth"]:
        from .bench import growth

        results = growth.run_growth(cfg, on_row=save)
        click.echo(growth.markdown(results))
        if kw["plot"]:
            click.echo(f"plot written to {growth.plot(results, kw['plot'])}")
    else:
        from .bench import run_bench

        results = run_bench(cfg, proofs=kw["proofs"])
        table = Table(title="ZKPoT benchmark")
        table.add_column("measure")
        table.add_column("value", justify="right")
        for key, value in results.items():
            table.add_row(key, str(value))
        Console().print(table)
    save(results)
    return 0


def _add_role_commands() -> None:
    from .cli_roles import ROLE_COMMANDS

    for command in ROLE_COMMANDS:
        main.add_command(command)


_add_role_commands()

if __name__ == "__main__":
    main()
