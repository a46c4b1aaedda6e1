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
        "--dev-account",
        type=int,
        help="Use development account N of the well-known test mnemonic instead "
        "(local chains only: anyone knows these keys).",
    ),
)
"""The key a role signs with: a key file, or a development account."""


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
    "--hidden", default=16, show_default=True, help="Hidden units of the digits MLP."
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

circuit_options = options(EVAL_SAMPLES, HIDDEN, SRS, CACHE_DIR)
"""What fixes a task's circuit and where its keys are kept."""
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
