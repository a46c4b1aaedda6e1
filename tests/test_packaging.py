"""`pip install .` gives a working `zkpot`: the contracts ship compiled in the
package, so the keyless watcher and a client run with no Solidity toolchain on
the machine and nothing read from the source tree."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tiny import TinyTask
from tools import run

from zkpot_client.chain.artefacts import load
from zkpot_client.chain.backend import AnvilNode, dev_account
from zkpot_client.chain.compiler import compile_contract, sources_digest
from zkpot_client.data import save_arrays
from zkpot_client.paths import PROJECT_ROOT
from zkpot_client.roles.publisher import TaskPublisher
from zkpot_client.storage import LocalDirStore

pytestmark = [pytest.mark.slow, pytest.mark.anvil]

NO_SOLC = "import sys; sys.modules['solcx'] = None; "
"""Any import of py-solc-x fails in the child: no Solidity compiler reachable."""


@pytest.mark.parametrize("name", ["ZKPoT", "Halo2VerifierReusable"])
def test_the_shipped_contracts_are_built_from_the_sources(name: str) -> None:
    shipped = load(name)
    assert shipped.sources_digest == sources_digest(), (
        "contracts/ changed: run ./scripts/setup.sh to rebuild the shipped artefacts"
    )
    built = compile_contract(name)
    assert (built.abi, built.bytecode) == (shipped.abi, shipped.bytecode)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package built as a wheel and installed into a directory of its own."""
    root = tmp_path_factory.mktemp("pip")
    wheel = run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "-w", str(root / "wheels"), str(PROJECT_ROOT), timeout=300,
    )  # fmt: skip
    assert wheel.returncode == 0, wheel.stderr[-2000:]
    (built,) = (root / "wheels").glob("zkpot-*.whl")
    site = root / "site"
    install = run(
        sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site),
        str(built), timeout=300,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-2000:]
    assert (site / "zkpot_client" / "chain" / "compiled" / "ZKPoT.json").is_file()
    return site


def bare_env(site: Path, home: Path) -> dict[str, str]:
    """The installed package first on the path; no project tools on PATH (no solc,
    anvil, forge), a HOME without any compiler cache."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOLCX", "ZKPOT"))}
    return {**env, "PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(home)}


def zkpot(site: Path, *args: str) -> list[str]:
    code = NO_SOLC + (
        "from zkpot_client.cli import main; import zkpot_client; "
        f"assert zkpot_client.__file__.startswith({str(site)!r}), zkpot_client.__file__; "
        f"main({list(args)!r})"
    )
    return [sys.executable, "-c", code]


def test_an_installed_zkpot_watches_and_runs_a_client_without_solidity_tools(
    installed: Path, tiny: TinyTask, tmp_path: Path
) -> None:
    with AnvilNode() as node:
        store = LocalDirStore(tmp_path / "store")
        publisher = TaskPublisher(
            account=dev_account(0),
            chain=node.chain,
            store=store,
            definition=tiny.definition,
        )
        zkpot_contract = publisher.deploy()
        task = publisher.create_task(
            zkpot_contract,
            tiny.artifacts,
            aggregator=dev_account(0).address,
            aggregator_key=bytes(32),
        )
        env = bare_env(installed, tmp_path / "home")
        target = ["--rpc", node.url, "--contract", zkpot_contract.address]

        watch = subprocess.run(
            zkpot(installed, "watch", *target, "--once"),
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert f"task {task.task_id} on {zkpot_contract.address}" in watch.stdout, (
            watch.stdout + watch.stderr
        )

        # A client with an empty key cache sets the circuit up from the task's
        # package (ezkl, no solc), checks it against the chain and registers.
        shard = tiny.data.shards[0]
        data = save_arrays(tmp_path / "shard.npz", shard.x, shard.y)
        log = tmp_path / "client.log"
        with open(log, "w") as out:
            client = subprocess.Popen(
                zkpot(
                    installed, "client", *target, "--task", str(task.task_id),
                    "--dev-account", "3", "--store", str(store.root),
                    "--data", str(data), "--state-dir", str(tmp_path / "state"),
                    "--cache-dir", str(tmp_path / "cache"), "--poll", "0.2",
                ),
                env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
            deadline = time.monotonic() + 300
            while "registered" not in log.read_text() and client.poll() is None:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
            client.send_signal(signal.SIGTERM)
            client.wait(timeout=60)
        text = log.read_text()
        assert f"registered {dev_account(3).address}" in text, text
        assert zkpot_contract.member(task.task_id, dev_account(3).address).registered
