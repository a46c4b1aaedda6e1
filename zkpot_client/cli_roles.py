"""The role commands: `zkpot publish`, `zkpot aggregate`, `zkpot client` (each one
OS process with its own key, talking to the others only through the chain and
the content store) and `zkpot sim`, which starts a node and all of them."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .cli_options import (
    ALPHA,
    ATTACK,
    BYZANTINE,
    CACHE_DIR,
    EPOCHS,
    EVAL_SAMPLES,
    HIDDEN,
    KEY,
    MODEL,
    NETWORK,
    SEED,
    SRS,
    THRESHOLD,
    clients_option,
    data_options,
    federation_config,
    node_and_contract,
    options,
    rounds_option,
)
from .config import ATTACK_NAMES

_RPC = click.option(
    "--rpc",
    default="http://127.0.0.1:8545",
    show_default=True,
    envvar="ZKPOT_RPC",
    help="JSON-RPC endpoint of the node (env ZKPOT_RPC).",
)
_STORE = click.option(
    "--store",
    "store_dir",
    required=True,
    envvar="ZKPOT_STORE",
    help="Content store shared by the roles: a directory, or the URL of an IPFS "
    "node's RPC API such as http://127.0.0.1:5001 (env ZKPOT_STORE).",
)
_TASK = options(
    click.option(
        "--contract",
        envvar="ZKPOT_CONTRACT",
        help="ZKPoT contract address (with --network: the network's deployment).",
    ),
    click.option("--task", "task_id", required=True, type=int, help="Task id."),
)
_POLL = click.option(
    "--poll", default=1.0, show_default=True, help="Seconds between looks at the chain."
)


_ROLE = options(_RPC, NETWORK, KEY, _STORE, _TASK)
_DISPUTE = click.option(
    "--dispute/--no-dispute",
    default=True,
    show_default=True,
    help="In an optimistic task, check every claim's proof off chain with ezkl and "
    "dispute the invalid ones (posting the task's dispute bond, repaid with half "
    "the cheater's stake); also answer challenges of valid claims.",
)
"""Where a role process runs: node, key, content store, contract and task."""


def _fail(exc: BaseException) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def guard(fn: Callable[[], int | None]) -> None:
    """Run a command body: ZKPoT errors end it with a one-line message and exit 1."""
    from .exceptions import ZKPoTError

    # A terminated role or simulation stops like an interrupted one: its cleanup
    # (the processes and node it started) runs.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        code = fn()
    except (ZKPoTError, ValueError, LookupError) as exc:
        _fail(exc)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code or 0)


def _node(kw: dict[str, Any]) -> tuple[str, str]:
    """A task role's RPC URL and contract (--rpc or --network; --contract or the
    network's deployment)."""
    rpc, contract = node_and_contract(
        kw["rpc"], kw["network"], kw["contract"], kw["deployments"]
    )
    if contract is None:
        raise click.UsageError("give --contract (or --network with a deployment)")
    return rpc, contract


def _ether(value: float) -> int:
    from .types import ETHER

    return round(value * ETHER)


@click.command()
@_RPC
@NETWORK
@KEY
@_STORE
@click.option(
    "--contract",
    help="An existing ZKPoT contract (default: deploy the verifier and a new one; "
    "with --network: the network's deployment, from `ape run deploy`).",
)
@click.option(
    "--eval-data",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Evaluation data (.npz with x and y): --rounds batches of equal size, dealt "
    "by class. Default: a stratified hold-out of the bundled digits.",
)
@click.option(
    "--eval-samples",
    default=100,
    show_default=True,
    help="Samples per round's batch when --eval-data is not given.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    help="Seed of the hold-out split and the initial model.",
)
@MODEL
@HIDDEN
@THRESHOLD
@click.option("--rounds", default=3, show_default=True, help="Number of rounds.")
@click.option(
    "--reward-pool",
    default=3.0,
    show_default=True,
    help="ETH paid out to accepted contributions over the rounds.",
)
@click.option(
    "--stake",
    default=0.1,
    show_default=True,
    help="Minimum stake (ETH) a client deposits.",
)
@click.option("--max-clients", default=16, show_default=True)
@click.option(
    "--registration-blocks",
    default=60,
    show_default=True,
    help="Blocks clients have to register.",
)
@click.option(
    "--commit-blocks",
    default=30,
    show_default=True,
    help="Blocks of each round's commit phase.",
)
@click.option(
    "--reveal-blocks",
    default=10,
    show_default=True,
    help="Blocks after each commit phase in which the round's batch is revealed.",
)
@click.option(
    "--proof-blocks",
    default=120,
    show_default=True,
    help="Blocks of each round's proof phase (after the reveal window).",
)
@click.option(
    "--aggregate-blocks",
    default=30,
    show_default=True,
    help="Blocks the aggregator has to publish.",
)
@click.option("--aggregator", help="Aggregator's address (default: the publisher's).")
@click.option(
    "--aggregator-key",
    required=True,
    help="The aggregator's public sealing key, hex (zkpot aggregate --print-key).",
)
@SRS
@CACHE_DIR
@click.option(
    "--state-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the publisher keeps the evaluation batches, their salts and the "
    "task's coordinates until `zkpot reveal` has revealed them (one task per directory).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the task's coordinates (contract, task id) here as JSON.",
)
def publish(**kw: Any) -> None:
    """Publish a task: set up the evaluation circuit (with no evaluation data in it),
    put its package and the initial model in the content store, deploy the contracts
    (or use --contract), register the circuit's key, commit to one evaluation batch
    per round and create the task with its reward pool and schedule. Then run
    `zkpot reveal --state-dir` for the life of the task: it reveals each round's
    batch once the round's commitments are locked."""
    guard(lambda: _publish(**kw))


def _publish(**kw: Any) -> int:

    from .chain.accounts import load_account
    from .chain.backend import Chain
    from .chain.contracts import ZKPoTContract
    from .circuit.batches import split_batches
    from .data import digits, load_labelled, load_task_data
    from .model.loading import resolve_model
    from .processes.publisher_process import SEALED_BATCHES, TASK_FILE
    from .report import write_json
    from .roles.publisher import (
        TaskDefinition,
        TaskPublisher,
        save_sealed,
        seal_batches,
    )
    from .storage import open_store
    from .types import TaskTerms

    state_dir: Path = kw["state_dir"]
    if (state_dir / SEALED_BATCHES).exists():
        raise click.BadParameter(
            f"{state_dir} already holds a task's evaluation batches (use another)",
            param_hint="--state-dir",
        )
    if kw["eval_data"]:
        evaluation, shape = load_labelled(kw["eval_data"])
        batches = split_batches(evaluation.x, evaluation.y, kw["rounds"])
    else:
        evaluation, shape = digits(), (64,)
        batches = load_task_data(
            eval_samples=kw["eval_samples"],
            num_clients=1,
            seed=kw["seed"],
            rounds=kw["rounds"],
            samples=evaluation,
        ).batches
    # Checked before anything is set up: a layer the circuit cannot prove is
    # refused here.
    model = resolve_model(
        kw["model"], shape, int(evaluation.y.max()) + 1, hidden=kw["hidden"]
    )
    spec = model.spec
    try:
        aggregator_key = bytes.fromhex(kw["aggregator_key"].removeprefix("0x"))
    except ValueError:
        aggregator_key = b""
    if len(aggregator_key) != 32:
        raise click.BadParameter(
            "expected 64 hex digits", param_hint="--aggregator-key"
        )
    account = load_account(kw["key_file"], kw["dev_account"], kw["ape_account"])
    kw["rpc"], kw["contract"] = node_and_contract(
        kw["rpc"], kw["network"], kw["contract"], kw["deployments"]
    )
    chain = Chain.connect(kw["rpc"])
    definition = TaskDefinition(
        spec=spec,
        initial=model.initial,
        batches=tuple(batches),
        threshold=kw["threshold"],
        reward_pool=_ether(kw["reward_pool"]),
        terms=TaskTerms(
            max_clients=kw["max_clients"],
            registration_blocks=kw["registration_blocks"],
            commit_blocks=kw["commit_blocks"],
            reveal_blocks=kw["reveal_blocks"],
            proof_blocks=kw["proof_blocks"],
            aggregate_blocks=kw["aggregate_blocks"],
            min_stake=_ether(kw["stake"]),
            missed_proof_penalty=_ether(kw["stake"]) // 2,
        ),
    )
    publisher = TaskPublisher(
        account=account,
        chain=chain,
        store=open_store(kw["store_dir"]),
        definition=definition,
    )
    artifacts = publisher.setup_circuit(srs=kw["srs"], cache=kw["cache_dir"])
    click.echo(f"circuit: 2^{artifacts.logrows} rows, digest {artifacts.digest[:16]}…")
    zkpot = (
        ZKPoTContract(chain, kw["contract"]) if kw["contract"] else publisher.deploy()
    )
    # The secrets are kept before the commitments to them go on chain.
    publisher.sealed = seal_batches(definition, artifacts)
    save_sealed(publisher.sealed, state_dir / SEALED_BATCHES)
    task = publisher.create_task(
        zkpot,
        artifacts,
        aggregator=kw["aggregator"] or account.address,
        aggregator_key=aggregator_key,
        initial_seed=kw["seed"],
    )
    coordinates = {
        # An ape network's URL may hold a provider's API key: its name is kept instead.
        "rpc": None if kw["network"] else kw["rpc"],
        "network": kw["network"],
        "contract": zkpot.address,
        "verifier": zkpot.verifier,
        "task": task.task_id,
        "start_block": task.start_block,
        "circuit_cid": task.circuit_cid,
    }
    click.echo(
        f"task {task.task_id} on ZKPoT {zkpot.address}: {definition.eval_samples} evaluation samples per round, "
        f"{task.num_rounds} rounds, registration until block {task.start_block}"
    )
    write_json(coordinates, state_dir / TASK_FILE)
    if kw["out"]:
        write_json(coordinates, kw["out"])
    click.echo(f"now keep `zkpot reveal --state-dir {state_dir}` running for the task")
    return 0


@click.command()
@_RPC
@NETWORK
@KEY
@_STORE
@click.option(
    "--state-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The publisher's state directory, as `zkpot publish --state-dir` left it.",
)
@_POLL
def reveal(**kw: Any) -> None:
    """Run a task's publisher until the task is over: in each round's reveal window
    (after its commit phase) put the round's evaluation batch in the content store
    and reveal it on chain, opening the commitment made when the task was created.
    Rounds that are due are closed or finalised too."""
    guard(lambda: _reveal(**kw))


def _reveal(**kw: Any) -> int:
    from .chain.accounts import load_account
    from .circuit.package import CircuitPackage
    from .processes.common import RoleContext, exit_on_interrupt
    from .processes.publisher_process import PublisherProcess, task_coordinates
    from .storage import open_store

    coordinates = task_coordinates(kw["state_dir"])
    account = load_account(kw["key_file"], kw["dev_account"], kw["ape_account"])
    kw["rpc"], _ = node_and_contract(
        kw["rpc"], kw["network"], None, kw["deployments"], contract_wanted=False
    )
    store = open_store(kw["store_dir"])
    ctx = RoleContext.open(
        "publisher",
        kw["rpc"],
        str(coordinates["contract"]),
        int(str(coordinates["task"])),
        poll_seconds=kw["poll"],
    )
    package = CircuitPackage.from_bytes(store.get(ctx.task.circuit_cid))
    process = PublisherProcess.load(
        ctx, account, store, kw["state_dir"], package.spec.inputs
    )
    return exit_on_interrupt(process.run)


@click.command()
@_ROLE
@click.option(
    "--state-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the aggregator keeps its sealing key and each round's aggregation.",
)
@click.option(
    "--print-key",
    is_flag=True,
    help="Print the public sealing key (creating the key pair if needed) and exit.",
)
@_DISPUTE
@CACHE_DIR
@_POLL
def aggregate(**kw: Any) -> None:
    """Run a task's aggregator until the task is over: after each proof phase, close
    the round, open the accepted contributions' sealed weights, keep those that
    match their commitment, average them and publish the global model. Sets the
    task's circuit up first (a cache hit where a client already has): weights are
    committed under it."""
    guard(lambda: _aggregate(**kw))


def _aggregate(**kw: Any) -> int:
    from .chain.accounts import load_account
    from .circuit.package import setup_from_package
    from .processes.aggregator_process import load_box_key, make_aggregator
    from .processes.common import RoleContext, exit_on_interrupt
    from .storage import open_store

    if kw["print_key"]:
        click.echo(bytes(load_box_key(kw["state_dir"], create=True).public_key).hex())
        return 0
    account = load_account(kw["key_file"], kw["dev_account"], kw["ape_account"])
    load_box_key(kw["state_dir"])  # checked before anything else is done
    kw["rpc"], kw["contract"] = _node(kw)
    store = open_store(kw["store_dir"])
    ctx = RoleContext.open(
        "aggregator", kw["rpc"], kw["contract"], kw["task_id"], poll_seconds=kw["poll"]
    )
    _, artifacts = setup_from_package(
        store, ctx.task.circuit_cid, ctx.task.vka_digest, cache=kw["cache_dir"]
    )
    process = make_aggregator(account, ctx, store, kw["state_dir"], artifacts)
    process.disputer = _disputer(kw["dispute"], ctx, store, account, artifacts)
    return exit_on_interrupt(process.run)


def _disputer(wanted: bool, ctx: Any, store: Any, account: Any, artifacts: Any) -> Any:
    """The role's checker of optimistic claims (None if not wanted or not needed)."""
    from .roles.disputer import Disputer

    if not wanted or not ctx.task.terms.optimistic:
        return None
    return Disputer(
        zkpot=ctx.zkpot,
        store=store,
        account=account,
        task_id=ctx.task_id,
        artifacts=artifacts,
    )


@click.command()
@_ROLE
@click.option(
    "--data",
    "data_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="This client's private training data (.npz with x and y).",
)
@click.option(
    "--state-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where each round's contribution is kept until submitted (for restarts).",
)
@click.option("--name", default="client", show_default=True, help="Name in the log.")
@click.option("--stake", type=float, help="Stake in ETH (default: the task's minimum).")
@EPOCHS
@click.option("--lr", default=0.1, show_default=True, help="SGD learning rate.")
@click.option("--seed", default=0, show_default=True, help="Training seed.")
@click.option(
    "--train",
    "train_ref",
    metavar="FILE.py:FUNCTION",
    help="This client's own training function, called each round as "
    "FUNCTION(model, data, ctx): it trains the torch `model` in place on `data` "
    "(a TensorDataset of samples and labels); `ctx` has the round, --epochs, --lr, "
    "the batch size and a seed. Default: SGD with momentum.",
)
@ATTACK
@click.option(
    "--prover-slots",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory of prover slots shared by the clients of this machine, so they "
    "never prove more at once than --slots.",
)
@click.option(
    "--slots",
    type=int,
    help="Concurrent provers allowed (default: one per four cores).",
)
@_DISPUTE
@click.option(
    "--top-up/--no-top-up",
    default=True,
    show_default=True,
    help="When a penalty (a missed proof) takes the stake below the task's minimum, "
    "top it up before the next commitment and take part again; with --no-top-up "
    "the client takes its rewards and stake back and exits with status 0.",
)
@CACHE_DIR
@_POLL
def client(**kw: Any) -> None:
    """Run a federated-learning client until the task is over: register with a stake,
    then each round train on the private data from the global model, commit, prove
    the accuracy in zero knowledge and submit; finally claim the rewards and take
    the stake back. The circuit is rebuilt from the task's package and checked
    against the key digest on chain before anything is staked."""
    guard(lambda: _client(**kw))


def _client(**kw: Any) -> int:
    from .chain.accounts import load_account
    from .circuit.package import setup_from_package
    from .circuit.slots import default_slots
    from .config import TrainingConfig
    from .data import check_features, load_arrays
    from .model.loading import load_factory
    from .processes.client_process import ClientProcess
    from .processes.common import RoleContext, exit_on_interrupt
    from .roles.byzantine import ATTACKS
    from .roles.client import Client
    from .storage import open_store

    account = load_account(kw["key_file"], kw["dev_account"], kw["ape_account"])
    train_fn = load_factory(kw["train_ref"]) if kw["train_ref"] else None
    shard = load_arrays(kw["data_path"])  # checked before anything else is done
    kw["rpc"], kw["contract"] = _node(kw)
    store = open_store(kw["store_dir"])
    ctx = RoleContext.open(
        kw["name"], kw["rpc"], kw["contract"], kw["task_id"], poll_seconds=kw["poll"]
    )
    package, artifacts = setup_from_package(
        store, ctx.task.circuit_cid, ctx.task.vka_digest, cache=kw["cache_dir"]
    )
    check_features(shard, package.spec.inputs, kw["data_path"])
    cls = ATTACKS[kw["attack"]] if kw["attack"] else Client
    c = cls(
        name=kw["name"],
        account=account,
        zkpot=ctx.zkpot,
        store=store,
        shard=shard,
        spec=package.spec,
        scale=package.scale,
        circuit=artifacts,
        training=TrainingConfig(epochs=kw["epochs"], lr=kw["lr"]),
        train_fn=train_fn,
        seed=kw["seed"],
        state_dir=kw["state_dir"],
    )
    member = ctx.call(ctx.zkpot.member, ctx.task_id, c.address)
    if not member.registered:
        c.register(ctx.task, None if kw["stake"] is None else _ether(kw["stake"]))
        ctx.log(
            f"registered {c.address}"
            + (f" (Byzantine: {cls.attack})" if kw["attack"] else "")
        )
    process = ClientProcess(
        ctx=ctx,
        client=c,
        artifacts=artifacts,
        slot_dir=kw["prover_slots"],
        slots=kw["slots"] or default_slots(),
        disputer=_disputer(kw["dispute"], ctx, store, account, artifacts),
        top_up=kw["top_up"],
    )
    return exit_on_interrupt(process.run)


@click.command()
@clients_option(10)
@BYZANTINE
@ATTACK
@rounds_option(5)
@SEED
@MODEL
@EVAL_SAMPLES
@HIDDEN
@data_options
@THRESHOLD
@ALPHA
@EPOCHS
@click.option(
    "--block-time",
    default=1.0,
    show_default=True,
    help="Seconds between anvil's blocks.",
)
@click.option(
    "--slots", type=int, help="Concurrent provers (default: one per four cores)."
)
@click.option(
    "--allowance",
    type=click.FloatRange(min=0.1, max=10),
    default=1.0,
    show_default=True,
    help="Scale of the phases' fixed allowances (processes starting, training, the "
    "reveal, aggregation, slack after the proofs): lower for a quicker run on an "
    "idle machine, higher on a busy one.",
)
@click.option(
    "--real-time",
    is_flag=True,
    help="Run every phase to its last block, as on a public network (default: once "
    "every client has registered, committed or proved, mine to the phase's end).",
)
@click.option(
    "--run-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where keys, data, store, state and logs go, kept after the run (default: "
    "a temporary directory, removed when the run ends, also on failure).",
)
@click.option(
    "--store",
    help="Content store every role process uses: the URL of an IPFS node's RPC API "
    "(e.g. http://127.0.0.1:5001) or a directory (default: store/ in the run directory).",
)
@SRS
@CACHE_DIR
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write {byzantine, attack, rounds: [per-round summary as zkpot demo --json]} here.",
)
def sim(**kw: Any) -> None:
    """Simulate a federation on this machine, every role its own process.

    Starts anvil on loopback (a block every --block-time seconds), runs zkpot
    publish, then zkpot aggregate, zkpot watch and one zkpot client per client
    (--byzantine of them with --attack), each with its own key, talking only
    through the chain and the content store. Phases are sized from a measured
    proof and provers take turns, so the machine is not oversubscribed; the
    expected run time is shown first. The outcome is read from contract events.
    """
    guard(lambda: _sim(**kw))


def _sim(**kw: Any) -> int:

    from .circuit.slots import default_slots
    from .config import FederationConfig
    from .processes.sim import SimOptions, run_sim
    from .report import print_rounds, write_json

    cfg = federation_config(FederationConfig.sim, **kw)
    options = SimOptions(
        block_time=kw["block_time"],
        slots=kw["slots"] or default_slots(),
        allowance=kw["allowance"],
        run_dir=kw["run_dir"],
        store=kw["store"],
        fast_forward=not kw["real_time"],
    )
    json_path = kw["json_path"]
    result = run_sim(cfg, options)
    print_rounds(result.rounds, verification=cfg.verification)
    for client, journal in result.journals.items():
        for entry in journal:
            click.echo(
                f"  round {entry['round']} {client[:10]}… {entry['action']}: {entry['outcome']}"
            )
    for r, excluded in result.excluded.items():
        for client, why in excluded.items():
            click.echo(f"  round {r}: the aggregator left out {client[:10]}…: {why}")
    final = result.rounds[-1].global_accuracy if result.rounds else None
    if final is not None:
        click.echo(f"final global-model accuracy on the evaluation set: {final:.2f}")
    kept = f"; logs in {result.run_dir / 'logs'}" if kw["run_dir"] else ""
    click.echo(f"run took {result.seconds / 60:.1f} min{kept}")
    if json_path:
        write_json(result.to_json(), json_path)
        click.echo(f"summary written to {json_path}")
    return 0 if all(code == 0 for code in result.exit_codes.values()) else 1


@click.command()
@click.option(
    "--quick",
    is_flag=True,
    help="The quick variant: one seed, two rounds, 0 and 3 Byzantine clients (minutes).",
)
@click.option(
    "--real-proofs/--no-real-proofs",
    default=False,
    show_default=True,
    help="Also run one configuration per attack end to end with real proofs on anvil "
    "(3 of 10 Byzantine, seed 0: hours on 2 cores) and compare it with the grid.",
)
@click.option(
    "--attack",
    "attacks",
    multiple=True,
    type=click.Choice(ATTACK_NAMES),
    help="Only this attack (repeat the option for several; default: every attack).",
)
@click.option(
    "--out",
    default=Path("reports"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the report, plots and raw results go.",
)
def experiment(
    quick: bool, real_proofs: bool, attacks: tuple[str, ...], out: Path
) -> None:
    """Measure robustness and privacy: 10 clients on non-IID digits, 0 to 3
    Byzantine clients per attack, 3 seeds, 5 rounds; final and per-round accuracy
    of ZKPoT, plain FedAvg and learning-based consensus; membership inference on
    what each exposes. Contributions are counted by the circuit's own witness;
    --real-proofs replays one configuration per attack with real proofs on anvil.
    Writes experiment.md, PNG plots and experiment.json under --out."""
    guard(lambda: _experiment(quick, real_proofs, attacks or ATTACK_NAMES, out))


def _experiment(
    quick: bool, real_proofs: bool, attacks: tuple[str, ...], out: Path
) -> int:
    from .config import FederationConfig
    from .experiment.grid import GridConfig
    from .experiment.report import write_report
    from .experiment.runner import (
        ExperimentResult,
        load_grid,
        load_real,
        run_grid,
        run_real,
    )
    from .progress import info

    cfg = (
        GridConfig(
            federation=FederationConfig.experiment(rounds=2),
            seeds=(0,),
            byzantine_levels=(0, 3),
            attacks=attacks,
        )
        if quick
        else GridConfig(attacks=attacks)
    )
    result = load_grid(cfg, out / "experiment.json") if real_proofs else None
    if result is not None:
        info(f"grid of this configuration already in {out / 'experiment.json'}: reused")
    else:
        result = ExperimentResult(cfg)
        run_grid(
            cfg,
            result,
            on_config=lambda n, total, key: info(f"grid {n}/{total}: {key}"),
        )
    if real_proofs:
        load_real(cfg, result, out / "runs")
    title = "Robustness and privacy experiment" + (" (quick variant)" if quick else "")
    path = write_report(result, out, title=title)
    click.echo(f"report written to {path}")
    if real_proofs:  # the report is rewritten as each run completes
        run_real(
            cfg,
            result,
            out / "runs",
            on_run=lambda: write_report(result, out, title=title),
        )
        click.echo(f"report with the real-proof runs written to {path}")
    return 0


ROLE_COMMANDS = [publish, reveal, aggregate, client, sim, experiment]
