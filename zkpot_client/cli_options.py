"""Options shared by several `zkpot` commands, defined once, and the command line
that gives a command chosen values (how `zkpot sim` starts the role processes)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .config import ATTACK_NAMES


def options(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Several click options as one decorator, in the order given."""

    def apply(fn: Any) -> Any:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


def command_line(command: str, **values: Any) -> list[str]:
    """The command line that runs `zkpot <command>` with these values, given by the
    parameters' Python names (None and False leave an option out). The flags come
    from the command's own declaration, so a renamed option cannot silently break
    a caller: an unknown name raises."""
    from .cli import main

    cmd = main.commands.get(command)
    if cmd is None:
        raise ValueError(f"zkpot has no command {command!r}")
    params = {p.name: p for p in cmd.params if isinstance(p, click.Option)}
    args: list[str] = []
    for name, value in values.items():
        param = params.get(name)
        if param is None:
            raise ValueError(f"zkpot {command} has no option for {name!r}")
        if value is None:
            continue
        if param.is_flag:
            if value:
                args.append(param.opts[0])
            elif param.secondary_opts:
                args.append(param.secondary_opts[0])
            continue
        args += [param.opts[0], str(value)]
    return [sys.executable, "-m", "zkpot_client.cli", command, *args]


# ---------------------------------------------------------------- who signs
KEY = options(
    click.option(
        "--key-file",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="ZKPOT_KEY_FILE",
        help="File holding this role's private key in hex (env ZKPOT_KEY_FILE).",
    ),
    click.option(
        "--account",
        "ape_account",
        metavar="ALIAS",
        help="Sign with this ape keystore account instead (`ape accounts generate` or "
        "`import`; its passphrase from APE_ACCOUNTS_<ALIAS>_PASSPHRASE, else asked).",
    ),
    click.option(
        "--dev-account",
        type=int,
        help="Use development account N of the well-known test mnemonic instead "
        "(local chains only: anyone knows these keys).",
    ),
)
"""The key a role signs with: a key file, an ape account, or a development account."""


# ---------------------------------------------------------------- which node
NETWORK = options(
    click.option(
        "--network",
        metavar="CHOICE",
        help="An ape network instead of --rpc (ecosystem:network[:provider], e.g. "
        "ethereum:sepolia:node, or a custom network of ape-config.yaml): its RPC URL "
        "from ape's configuration, and --contract from the deployments file.",
    ),
    click.option(
        "--deployments",
        type=click.Path(dir_okay=False, path_type=Path),
        default="deployments.json",
        show_default=True,
        envvar="ZKPOT_DEPLOYMENTS",
        help="The deployments file `ape run deploy` writes, read with --network "
        "(env ZKPOT_DEPLOYMENTS).",
    ),
)
"""The node as an ape network, and where that network's deployment is recorded."""


def node_and_contract(
    rpc: str,
    network: str | None,
    contract: str | None,
    deployments: Path,
    *,
    contract_wanted: bool = True,
) -> tuple[str, str | None]:
    """The RPC URL and ZKPoT contract a command uses: --rpc and --contract, or with
    --network the network's RPC URL from ape's configuration and, unless --contract
    is given (or `contract_wanted` is False), the network's entry in the
    deployments file. --rpc (or ZKPOT_RPC) and --network together are refused."""
    if network is None:
        return rpc, contract
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.get_parameter_source("rpc") in (
        click.core.ParameterSource.COMMANDLINE,
        click.core.ParameterSource.ENVIRONMENT,
    ):
        raise click.UsageError("give --rpc (or ZKPOT_RPC) or --network, not both")
    from .chain.backend import Chain
    from .chain.deployments import find_deployment, resolve_network

    target = resolve_network(network)
    if contract is None and contract_wanted:
        chain_id = int(Chain.connect(target.rpc).w3.eth.chain_id)
        contract = find_deployment(deployments, target.network, chain_id).zkpot.address
        click.echo(
            f"ZKPoT {contract} on {target.network} (chain {chain_id}), from {deployments}",
            err=True,
        )
    return target.rpc, contract


# ---------------------------------------------------------------- the federation
VERIFICATION = click.option(
    "--verification",
    type=click.Choice(["immediate", "optimistic"]),
    default="immediate",
    show_default=True,
    help="How the task verifies proofs: immediate (every proof on chain, at about "
    "1.4 M gas each) or optimistic (claims checked off chain by every honest "
    "party; the chain verifies only a disputed proof, at about 0.2 M gas per "
    "contribution). See README, 'Choosing a verification mode'.",
)


def clients_option(default: int) -> Callable[[Any], Any]:
    return click.option(
        "--clients",
        default=default,
        show_default=True,
        help="Number of federated-learning clients.",
    )


def rounds_option(default: int) -> Callable[[Any], Any]:
    return click.option(
        "--rounds", default=default, show_default=True, help="Number of rounds."
    )


JSON = click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the results as JSON here.",
)
SEED = click.option(
    "--seed",
    default=0,
    show_default=True,
    help="Seed of the data split, the Byzantine draw, the initial model and training.",
)
EVAL_SAMPLES = click.option(
    "--eval-samples",
    default=100,
    show_default=True,
    help="Evaluation samples per round's batch (one batch per round; 100 fit "
    "2^16 rows: about 14 s per proof on 2 cores).",
)
HIDDEN = click.option(
    "--hidden", default=16, show_default=True, help="Hidden units of the built-in MLP."
)
MODEL = click.option(
    "--model",
    default="mlp",
    show_default=True,
    metavar="NAME|FILE.py:FACTORY",
    help="The task's model: 'mlp' (one hidden layer of --hidden units), 'cnn' (a "
    "3x3 convolution to 4 channels, ReLU, a linear layer; square images), or "
    "FILE.py:FACTORY, a function of no arguments returning a torch module made of "
    "nn.Linear, nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.AvgPool2d (stride = kernel), "
    "nn.Flatten and nn.Unflatten, ending in one logit per class. Its weights are "
    "the initial global model.",
)
DATA = click.option(
    "--data",
    "data_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled samples (.npz with x: (n, features) or (n, *sample shape), and "
    "y: n integer labels) split into evaluation batches, the clients' shards and "
    "any test set. Default: scikit-learn's bundled 8x8 digits.",
)
EVAL_DATA = click.option(
    "--eval-data",
    "eval_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The evaluation batches (.npz with x and y): --rounds consecutive batches "
    "of equal size, round 1's first (then --eval-samples is ignored). Default: "
    "held out of the samples, stratified by class.",
)
SRS = click.option(
    "--srs",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Trusted SRS file (ceremony). Without it a development SRS is generated locally.",
)
CACHE_DIR = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Cache of SRS and circuit keys (default: $ZKPOT_CACHE or ~/.cache/zkpot).",
)
THRESHOLD = click.option(
    "--threshold",
    default=0.3,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="Accuracy a contribution needs to be accepted.",
)
ALPHA = click.option(
    "--alpha",
    default=0.5,
    show_default=True,
    help="Dirichlet alpha of the non-IID split (smaller: more skewed).",
)
EPOCHS = click.option(
    "--epochs", default=10, show_default=True, help="Local training epochs per round."
)
BYZANTINE = click.option(
    "--byzantine", default=0, show_default=True, help="How many of the clients attack."
)
ATTACK = click.option(
    "--attack",
    type=click.Choice(sorted(ATTACK_NAMES)),
    help="The Byzantine clients' strategy (see docs/attacks.md).",
)

circuit_options = options(MODEL, EVAL_SAMPLES, HIDDEN, SRS, CACHE_DIR)
"""What fixes a task's circuit and where its keys are kept."""
data_options = options(DATA, EVAL_DATA)
"""Where a simulated federation's samples come from."""
federation_options = options(THRESHOLD, ALPHA, EPOCHS)
"""How a simulated federation accepts, splits its data and trains."""


def federation_config(preset: Callable[..., Any], **kw: Any) -> Any:
    """A FederationConfig from a command's options (those it declares), on top of
    `preset` (FederationConfig.demo, .sim, ...). Options named like a field set it;
    --cache-dir sets `cache` and --epochs the training's epochs."""
    from dataclasses import fields

    from .config import FederationConfig, TrainingConfig

    names = {f.name for f in fields(FederationConfig)}
    given = {k: v for k, v in kw.items() if k in names}
    if "cache_dir" in kw:
        given["cache"] = kw["cache_dir"]
    if "epochs" in kw:
        given["training"] = TrainingConfig(epochs=kw["epochs"])
    return preset(**given)
