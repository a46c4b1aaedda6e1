"""Deploying with `ape run deploy` and running a federation on an ape network with ape
keystore accounts, end to end, demo-sized.

anvil is started like a public testnet: Sepolia's chain id, the EIP-170 contract
size limit on, a 30 M block gas limit with EIP-7825's per-transaction cap,
EIP-1559 fees, and no development accounts. The accounts are ape keystores made
by `ape accounts generate` in a temporary ape data folder, funded by transfers
from one fresh key (the only one anvil funds), and a custom ape network for the
node is defined in that folder's ape-config.yaml. `ape run deploy` deploys the
contracts and records them in a deployments file; then the demo's federation
(64-16-10 MLP, 100 evaluation samples per round, 4 clients) runs one round with
every role its own process given `--network` and `--account` (the roles of `zkpot
sim`, pointed at the network and the accounts instead of `--rpc` and key files).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from zkpot_client.chain.backend import Chain, dev_accounts, free_port
from zkpot_client.chain.contracts import ZKPoTContract
from zkpot_client.chain.deployments import helper_addresses
from zkpot_client.config import FederationConfig
from zkpot_client.exceptions import ChainConnectionError
from zkpot_client.paths import PROJECT_ROOT, tool
from zkpot_client.processes.sim import AGGREGATOR, PUBLISHER, Federation, SimOptions
from zkpot_client.types import ETHER, RoundSummary

pytestmark = pytest.mark.slow

CHAIN_ID = 11_155_111
"""Sepolia's."""
NETWORK_NAME = "zkpot-testnet"
NETWORK = f"ethereum:{NETWORK_NAME}:node"
BLOCK_GAS_LIMIT = 30_000_000
BASE_FEE = 10**9
EIP170_LIMIT = 24_576
CLIENTS = 4
ROUNDS = 1
FUNDS = {
    "deployer": ETHER,
    "publisher": 6 * ETHER,  # the 3 ETH reward pool, the 1 ETH bond, gas
    "aggregator": ETHER,
    **{f"client_{i + 1}": ETHER // 2 for i in range(CLIENTS)},  # 0.1 ETH stake, gas
}
"""What the funder sends each ape account."""
OTHER_NETWORK = {"ethereum:sepolia": {str(CHAIN_ID): {"zkpot": "0x" + "11" * 20}}}
"""An entry of another network, already in the deployments file."""
SUBMIT_PROOF = "submitProof"


class PublicLikeNode:
    """anvil started like a public testnet (see the module's docstring), a block
    every second."""

    def __init__(self, log: Path) -> None:
        binary = tool("anvil")
        assert binary is not None, "anvil not found: run ./scripts/setup.sh"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [
            binary, "--host", "127.0.0.1", "--port", str(self.port),
            "--chain-id", str(CHAIN_ID),
            "--gas-limit", str(BLOCK_GAS_LIMIT),
            "--enable-tx-gas-limit",
            "--base-fee", str(BASE_FEE),
            "--accounts", "0",
            "--block-time", "1",
        ]  # fmt: skip
        self.log = open(log, "w")  # noqa: SIM115  # closed in stop()
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.chain = Chain.connect(self.url, timeout=2)
                return
            except ChainConnectionError:
                assert self.process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "anvil did not start"
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
        self.log.close()


class ApeFederation(Federation):
    """The simulation's federation with its roles on an ape network, each signing
    with its ape account: `--network` and `--account` instead of `--rpc` and
    `--key-file`, the ZKPoT contract from the deployments file."""

    def __init__(
        self,
        cfg: FederationConfig,
        options: SimOptions,
        *,
        node: PublicLikeNode,
        addresses: dict[str, str],
        deployments: Path,
    ) -> None:
        self.addresses = addresses
        self.deployments = deployments
        super().__init__(cfg, options)
        self.node = node  # type: ignore[assignment]  # what the roles use of it: .chain, .url

    def client_account(self, i: int) -> Any:  # type: ignore[override]
        return SimpleNamespace(address=self.addresses[f"client_{i + 1}"])

    def key_file(self, account_index: int) -> Path:
        """The role's ape account alias (no key file is written)."""
        names = {PUBLISHER: "publisher", AGGREGATOR: "aggregator"}
        return Path(names.get(account_index, f"client_{account_index - AGGREGATOR}"))

    def command_line(self, command: str, **values: Any) -> list[str]:
        values.pop("rpc")
        values["network"] = NETWORK
        values["deployments"] = self.deployments
        if "key_file" in values:
            values["ape_account"] = str(values.pop("key_file"))
        if command == "publish":
            values["aggregator"] = self.addresses["aggregator"]
        return super().command_line(command, **values)


@dataclass
class Run:
    """What the module's run left: the node, the ape accounts, the deployment and
    the federation's outcome."""

    node: PublicLikeNode
    ape_env: dict[str, str]
    addresses: dict[str, str]
    funder: LocalAccount
    deployments: Path
    deploy_output: str
    federation: ApeFederation
    rounds: list[RoundSummary]
    exit_codes: dict[str, int]
    seconds: dict[str, float]

    @property
    def w3(self) -> Web3:
        return self.node.chain.w3

    @property
    def entry(self) -> dict[str, Any]:
        data = json.loads(self.deployments.read_text())
        return data[f"ethereum:{NETWORK_NAME}"][str(CHAIN_ID)]

    def transactions(self) -> list[Any]:
        """Every transaction on the chain, with its receipt."""
        out = []
        for n in range(self.w3.eth.block_number + 1):
            for tx in self.w3.eth.get_block(n, full_transactions=True)["transactions"]:
                out.append((tx, self.w3.eth.get_transaction_receipt(tx["hash"])))
        return out


def ape(
    *args: str, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run `ape ARGS` in the project, with the ape data folder and passphrases of
    `env`."""
    return subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "ape"), *args],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "PATH": f"{PROJECT_ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
            "SOLCX_BINARY_PATH": str(PROJECT_ROOT / ".venv" / "solcx"),
            **env,
        },
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )


def zkpot(
    *args: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run `zkpot ARGS` in `cwd` with `env` (no terminal: nothing can be prompted)."""
    return subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "zkpot"), *args],
        cwd=cwd,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def fund(w3: Web3, funder: LocalAccount, to: str, value: int) -> None:
    """A plain EIP-1559 transfer from `funder`, mined."""
    tip = 10**9
    tx = {
        "to": to,
        "value": value,
        "nonce": w3.eth.get_transaction_count(funder.address, "pending"),
        "chainId": CHAIN_ID,
        "gas": 21_000,
        "maxPriorityFeePerGas": tip,
        "maxFeePerGas": 2 * int(w3.eth.get_block("latest")["baseFeePerGas"]) + tip,
    }
    tx_hash = w3.eth.send_raw_transaction(funder.sign_transaction(tx).raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)["status"] == 1


def ape_config(url: str) -> str:
    """The ape-config.yaml of the ape data folder: a custom network for the node."""
    return (
        "networks:\n  custom:\n"
        f"    - name: {NETWORK_NAME}\n      chain_id: {CHAIN_ID}\n"
        "      ecosystem: ethereum\n      base_ecosystem_plugin: ethereum\n"
        "      default_provider: node\n"
        f"node:\n  ethereum:\n    {NETWORK_NAME}:\n      uri: {url}\n"
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    base = tmp_path_factory.mktemp("ape-deploy")
    seconds: dict[str, float] = {}
    started = time.monotonic()
    node = PublicLikeNode(base / "anvil.log")
    try:
        data_folder = base / "ape"
        data_folder.mkdir()
        (data_folder / "ape-config.yaml").write_text(ape_config(node.url))
        env = {"APE_DATA_FOLDER": str(data_folder)}
        addresses = {}
        for alias in FUNDS:
            passphrase = secrets.token_hex(16)
            made = ape(
                "accounts", "generate", alias, "--hide-mnemonic",
                env=env, stdin=f"{secrets.token_hex(8)}\n{passphrase}\n{passphrase}\n",
            )  # fmt: skip
            assert made.returncode == 0, made.stdout + made.stderr
            env[f"APE_ACCOUNTS_{alias}_PASSPHRASE"] = passphrase
            keystore = json.loads(
                (data_folder / "accounts" / f"{alias}.json").read_text()
            )
            addresses[alias] = Web3.to_checksum_address(keystore["address"])
        seconds["accounts"] = time.monotonic() - started

        w3 = node.chain.w3
        funder = Account.create()
        w3.provider.make_request(
            "anvil_setBalance",  # type: ignore[arg-type]
            [funder.address, hex(100 * ETHER)],
        )
        for alias, value in FUNDS.items():
            fund(w3, funder, addresses[alias], value)

        deployments = base / "deployments.json"
        deployments.write_text(json.dumps(OTHER_NETWORK))
        t = time.monotonic()
        deployed = ape(
            "run", "deploy", "--network", NETWORK, "--account", "deployer",
            "--deployments", str(deployments), env=env,
        )  # fmt: skip
        seconds["deploy"] = time.monotonic() - t
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr

        cfg = FederationConfig.sim(clients=CLIENTS, rounds=ROUNDS)
        fed = ApeFederation(
            cfg,
            SimOptions(block_time=1.0, run_dir=base / "run"),
            node=node,
            addresses=addresses,
            deployments=deployments,
        )
        with pytest.MonkeyPatch.context() as mp:
            for name, value in env.items():  # the role processes' environment
                mp.setenv(name, value)
            t = time.monotonic()
            fed.plan()
            seconds["plan"] = time.monotonic() - t
            t = time.monotonic()
            fed.publish()
            seconds["publish"] = time.monotonic() - t
            t = time.monotonic()
            fed.start_roles()
            try:
                codes = fed.wait()
            finally:
                for name in list(fed.procs):
                    fed.kill(name)
            seconds["rounds"] = time.monotonic() - t
            result = fed.collect(codes, time.monotonic() - started)
        seconds["total"] = time.monotonic() - started
        print(f"\ntimes (s): { {k: round(v) for k, v in seconds.items()} }")
        yield Run(
            node=node,
            ape_env=env,
            addresses=addresses,
            funder=funder,
            deployments=deployments,
            deploy_output=deployed.stdout,
            federation=fed,
            rounds=result.rounds,
            exit_codes=result.exit_codes,
            seconds=seconds,
        )
    finally:
        node.stop()


def test_the_node_is_configured_like_a_public_testnet(run: Run) -> None:
    w3 = run.w3
    assert w3.eth.chain_id == CHAIN_ID
    assert w3.eth.accounts == []
    block = w3.eth.get_block("latest")
    assert block["gasLimit"] == BLOCK_GAS_LIMIT and "baseFeePerGas" in block
    # The contract size limit is on: a contract one byte over it is refused.
    for size, allowed in ((EIP170_LIMIT, True), (EIP170_LIMIT + 1, False)):
        initcode = "0x61" + size.to_bytes(2, "big").hex() + "6000f3"  # return zeros
        call = {"from": run.funder.address, "data": initcode}
        if allowed:
            assert w3.eth.estimate_gas(call) > 0
        else:
            with pytest.raises(Exception, match="(?i)size"):
                w3.eth.estimate_gas(call)


def test_ape_run_deploy_recorded_the_contracts_and_their_gas_by_network(
    run: Run,
) -> None:
    entry = run.entry
    w3 = run.w3
    deployer = run.addresses["deployer"]
    assert entry["deployer"] == deployer
    assert entry["network"] == f"ethereum:{NETWORK_NAME}"
    for name in ("verifier", "zkpot"):
        tx = entry[name]
        receipt = w3.eth.get_transaction_receipt(tx["tx"])
        assert receipt["from"] == deployer
        assert receipt["contractAddress"] == tx["address"]
        assert receipt["gasUsed"] == tx["gas_used"]
        assert receipt["effectiveGasPrice"] == tx["gas_price"]
        assert receipt["blockNumber"] == tx["block"]
        code = w3.eth.get_code(tx["address"])
        assert 0 < len(code) <= EIP170_LIMIT
        assert f"gas {tx['gas_used']:,}" in run.deploy_output
    assert (
        entry["gas_used"] == entry["verifier"]["gas_used"] + entry["zkpot"]["gas_used"]
    )
    assert f"gas used: {entry['gas_used']:,} in all" in run.deploy_output
    zkpot = ZKPoTContract(run.node.chain, entry["zkpot"]["address"])
    assert zkpot.verifier == entry["verifier"]["address"]
    registry, stakes = helper_addresses(zkpot.address)
    assert (entry["circuit_registry"], entry["stakes_module"]) == (registry, stakes)
    assert zkpot.contract.functions.circuits().call() == registry
    assert w3.eth.get_code(registry) and w3.eth.get_code(stakes)
    # Merged into the file: the other network's entry is still there.
    data = json.loads(run.deployments.read_text())
    assert data["ethereum:sepolia"] == OTHER_NETWORK["ethereum:sepolia"]
    # The publisher took the contract from the file.
    assert run.federation.contract == entry["zkpot"]["address"]


def test_the_round_completed_with_every_contribution_verified_on_chain(
    run: Run,
) -> None:
    assert set(run.exit_codes) == {
        "publisher", "aggregator", "watch", *(f"client-{i + 1}" for i in range(CLIENTS))
    }  # fmt: skip
    assert set(run.exit_codes.values()) == {0}
    (summary,) = run.rounds  # read back from events
    clients = {run.addresses[f"client_{i + 1}"] for i in range(CLIENTS)}
    assert {c.client for c in summary.contributions} == clients
    task = run.federation.zkpot.task(run.federation.task_id)
    for c in summary.contributions:
        assert c.correct > 0 and c.accepted == (c.correct >= task.min_correct)
    assert any(c.accepted for c in summary.contributions)
    assert summary.leader in clients
    assert summary.global_model_by_aggregator and summary.global_accuracy is not None
    # The independent watcher, on the same network, read the same round.
    watched = json.loads((run.federation.run_dir / "watch.json").read_text())
    assert [(c["client"], c["correct"]) for c in watched[0]["contributions"]] == [
        (c.client, c.correct) for c in summary.contributions
    ]


def test_every_transaction_came_from_a_keystore_account_with_eip1559_fees(
    run: Run,
) -> None:
    keystores = set(run.addresses.values())
    txs = run.transactions()
    senders = {tx["from"] for tx, _ in txs}
    assert senders == keystores | {run.funder.address}
    deploy_block = run.entry["verifier"]["block"]
    for tx, receipt in txs:
        assert tx["type"] == 2  # EIP-1559
        assert (
            receipt["effectiveGasPrice"]
            >= run.w3.eth.get_block(receipt["blockNumber"])["baseFeePerGas"]
        )
        if tx["from"] == run.funder.address:  # only the funding transfers, first
            assert tx["to"] in keystores and tx["input"] in (b"", "0x")
            assert tx["blockNumber"] < deploy_block
    for dev in dev_accounts():
        assert run.w3.eth.get_balance(dev.address) == 0
        assert run.w3.eth.get_transaction_count(dev.address) == 0


def test_the_gas_read_from_the_events_is_the_receipts(run: Run) -> None:
    """Each contribution's gas (from its event's transaction) is its submitProof
    receipt's; every function's gas is printed (the README's figures)."""
    zkpot = run.federation.zkpot
    calls: dict[str, list[int]] = {}
    submissions: dict[str, int] = {}
    for tx, receipt in run.transactions():
        if tx["to"] != zkpot.address:
            continue
        name = zkpot.contract.decode_function_input(tx["input"])[0].fn_name
        calls.setdefault(name, []).append(receipt["gasUsed"])
        if name == SUBMIT_PROOF:
            submissions[tx["from"]] = receipt["gasUsed"]
    (summary,) = run.rounds
    assert {c.client: c.gas_used for c in summary.contributions} == submissions
    for gas in submissions.values():
        assert 1_000_000 < gas < 2_000_000  # immediate mode: ezkl's verifier on chain
    entry = run.entry
    print(
        f"\ngas: deployment {entry['gas_used']:,} (verifier "
        f"{entry['verifier']['gas_used']:,}, ZKPoT {entry['zkpot']['gas_used']:,}); "
        + "; ".join(
            f"{name} x{len(gas)} {min(gas):,}"
            + (f"-{max(gas):,}" if max(gas) != min(gas) else "")
            for name, gas in calls.items()
        )
    )


def test_a_wrong_passphrase_stops_a_role_before_anything_happens(
    run: Run, tmp_path: Path
) -> None:
    client = run.addresses["client_1"]
    nonce = run.w3.eth.get_transaction_count(client)
    env = {**run.ape_env, "APE_ACCOUNTS_client_1_PASSPHRASE": "not the passphrase"}
    data = run.federation.run_dir / "client-1" / "data.npz"
    done = zkpot(
        "client", "--network", NETWORK, "--account", "client_1",
        "--deployments", str(run.deployments), "--store", str(tmp_path / "store"),
        "--task", str(run.federation.task_id), "--data", str(data),
        "--state-dir", str(tmp_path / "state"), env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "wrong passphrase for ape account 'client_1'" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert run.w3.eth.get_transaction_count(client) == nonce
    # Without the variable and with no terminal to ask on, it says what to set.
    env.pop("APE_ACCOUNTS_client_1_PASSPHRASE")
    done = zkpot(
        "aggregate", "--network", NETWORK, "--account", "client_1",
        "--deployments", str(run.deployments), "--store", str(tmp_path / "store"),
        "--task", str(run.federation.task_id), "--state-dir", str(tmp_path / "agg"),
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "set APE_ACCOUNTS_client_1_PASSPHRASE or run on a terminal" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_network_and_account_options_exclude_their_alternatives(
    run: Run, tmp_path: Path
) -> None:
    base = ["--deployments", str(run.deployments)]
    both_nodes = zkpot(
        "watch", "--rpc", run.node.url, "--network", NETWORK, *base,
        env=run.ape_env, cwd=tmp_path,
    )  # fmt: skip
    assert both_nodes.returncode == 2
    assert "give --rpc (or ZKPOT_RPC) or --network, not both" in both_nodes.stderr
    two_keys = zkpot(
        "reveal", "--network", NETWORK, "--account", "publisher", "--dev-account", "0",
        "--store", str(tmp_path / "store"),
        "--state-dir", str(run.federation.run_dir / "publisher"),
        *base, env=run.ape_env, cwd=tmp_path,
    )  # fmt: skip
    assert two_keys.returncode == 1
    assert "give exactly one of --key-file, --account and --dev-account" in (
        two_keys.stderr
    )
    # --network alone finds the contract in the deployments file.
    watched = zkpot("watch", "--network", NETWORK, *base, env=run.ape_env, cwd=tmp_path)
    assert watched.returncode == 0, watched.stderr
    assert f"ZKPoT {run.entry['zkpot']['address']} on ethereum:{NETWORK_NAME}" in (
        watched.stderr
    )
    assert "record chain verified from events" in watched.stdout
