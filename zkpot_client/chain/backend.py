"""EVM connections: the embedded in-process chain, a local anvil node, any RPC URL.

Every transaction is signed locally with the sender's key and sent raw, so the
same code drives eth-tester, anvil and a testnet node.
"""

from __future__ import annotations

import ast
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester.exceptions import TransactionFailed
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted
from web3.types import TxReceipt

from ..exceptions import (
    ChainConnectionError,
    ContractRevertError,
    ToolchainError,
    ZKPoTValueError,
)
from ..paths import tool

#: The well-known development mnemonic (anvil, hardhat): its accounts are funded
#: on the embedded chain and on anvil. Never use these keys on a real network.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNTS = 12
BLOCK_GAS_LIMIT = 30_000_000
#: Gas limit of transactions on the embedded chain, which skips gas estimation.
EMBEDDED_TX_GAS = 15_000_000


T = TypeVar("T")

#: Errors that mean "the node is not answering right now", not "the call failed".
TRANSIENT_ERRORS = (
    ChainConnectionError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
)


def ride_out_outages(
    fn: Callable[[], T],
    *,
    patience_seconds: float,
    poll_seconds: float,
    on_outage: Callable[[BaseException], None] | None = None,
    what: str = "the node",
) -> T:
    """`fn()`, retried while the node does not answer (restarting, overloaded), for
    up to `patience_seconds` from the first failure; `on_outage` hears of the first.
    Then ChainConnectionError."""
    deadline: float | None = None
    while True:
        try:
            return fn()
        except TRANSIENT_ERRORS as exc:
            now = time.monotonic()
            if deadline is None:
                deadline = now + patience_seconds
                if on_outage is not None:
                    on_outage(exc)
            elif now > deadline:
                raise ChainConnectionError(
                    f"{what} has not answered for {patience_seconds:.0f} s: {exc}"
                ) from exc
            time.sleep(poll_seconds)


def dev_account(index: int) -> LocalAccount:
    """Development account `index` derived from DEV_MNEMONIC."""
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def dev_accounts(count: int = DEV_ACCOUNTS) -> list[LocalAccount]:
    """The first `count` development accounts derived from DEV_MNEMONIC."""
    return [dev_account(i) for i in range(count)]


@dataclass
class Chain:
    """A web3 connection, whether blocks can be mined on demand, and a revert decoder."""

    w3: Web3
    name: str
    can_mine: bool
    in_process: bool = False
    """True for the in-process eth-tester chain (whatever its name)."""
    errors: dict[bytes, tuple[str, list[str], list[str]]] = field(default_factory=dict)

    # ------------------------------------------------------------ construction
    @classmethod
    def embedded(cls, accounts: int = DEV_ACCOUNTS) -> Chain:
        """An in-process chain (eth-tester on py-evm) with the dev accounts funded."""
        from eth_tester import EthereumTester, PyEVMBackend
        from web3 import EthereumTesterProvider

        keys = [a.key for a in dev_accounts(accounts)]
        from eth_keys import keys as eth_keys
        from eth_tester.backends.pyevm.main import generate_genesis_state_for_keys

        state = generate_genesis_state_for_keys([eth_keys.PrivateKey(k) for k in keys])
        params = PyEVMBackend.generate_genesis_params(
            overrides={"gas_limit": BLOCK_GAS_LIMIT}
        )
        backend = PyEVMBackend(genesis_parameters=params, genesis_state=state)
        w3 = Web3(EthereumTesterProvider(EthereumTester(backend)))
        w3.eth.default_account = dev_accounts(1)[0].address  # pays for eth_call's gas
        return cls(w3, "embedded (eth-tester/py-evm)", True, in_process=True)

    @classmethod
    def connect(
        cls, rpc_url: str, *, dev: bool = False, timeout: float = 10.0
    ) -> Chain:
        """Connect to a node over HTTP JSON-RPC; raise ChainConnectionError if unreachable."""
        w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
        try:
            _ = w3.eth.chain_id
        except Exception as exc:  # requests raises several kinds
            raise ChainConnectionError(
                f"cannot reach an Ethereum node at {rpc_url}: {exc}"
            ) from exc
        return cls(w3, rpc_url, dev)

    # ------------------------------------------------------------ blocks
    @property
    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    @property
    def is_embedded(self) -> bool:
        """True for the in-process eth-tester chain."""
        return self.in_process

    def mine(self, blocks: int = 1) -> None:
        """Mine `blocks` empty blocks (development chains only)."""
        if not self.can_mine:
            raise ZKPoTValueError(f"cannot mine blocks on {self.name}")
        if blocks <= 0:
            return
        if self.is_embedded:
            self.w3.provider.ethereum_tester.mine_blocks(blocks)  # type: ignore[attr-defined]
        else:
            self.w3.provider.make_request("anvil_mine", [hex(blocks)])  # type: ignore[arg-type]

    def advance_to(self, block: int, *, poll_seconds: float = 2.0) -> None:
        """Return once the chain's head is at least `block`: mine on a dev chain, else wait."""
        while (head := self.block_number) < block:
            if self.can_mine:
                self.mine(block - head)
            else:
                time.sleep(poll_seconds)

    # ------------------------------------------------------------ transactions
    def register_errors(self, abi: list[dict[str, Any]]) -> None:
        """Learn the custom errors of an ABI so reverts can be named."""
        for item in abi:
            if item.get("type") == "error":
                types = [i["type"] for i in item["inputs"]]
                sig = f"{item['name']}({','.join(types)})"
                self.errors[bytes(Web3.keccak(text=sig)[:4])] = (
                    item["name"],
                    [i["name"] for i in item["inputs"]],
                    types,
                )

    def decode_revert(self, data: bytes | str | None) -> ContractRevertError:
        """Turn revert data into a ContractRevertError naming the custom error."""
        from eth_abi import decode

        if isinstance(data, str):
            data = bytes.fromhex(data.removeprefix("0x"))
        if not data:
            return ContractRevertError("Reverted")
        known = self.errors.get(bytes(data[:4]))
        if known is None:
            if data[:4] == bytes.fromhex("08c379a0"):
                return ContractRevertError(
                    "Error", {"message": decode(["string"], data[4:])[0]}
                )
            return ContractRevertError("UnknownError", {"data": data})
        name, names, types = known
        values = [
            Web3.to_checksum_address(v) if t == "address" else v
            for t, v in zip(types, decode(types, data[4:]), strict=True)
        ]
        return ContractRevertError(name, dict(zip(names, values, strict=True)))

    def transact(
        self,
        account: LocalAccount,
        call: Any,
        *,
        value: int = 0,
        gas: int | None = None,
        send_reverting: bool = False,
    ) -> TxReceipt:
        """Sign and send `call` (a bound contract function) from `account`, with
        `value` wei; wait for it.

        The call is simulated first, so a revert raises ContractRevertError with the
        custom error's name and arguments and nothing is sent. With `send_reverting`
        (what an attacker does, given `gas`) the transaction is sent all the same,
        mined, and then the error is raised.
        """
        tx_params = {"from": account.address, "value": value}
        try:
            if self.is_embedded:
                # py-evm estimates gas by a binary search that re-runs the call
                # about 13 times (minutes for a proof verification in pure
                # Python); one eth_call finds a revert, and the receipt reports
                # the gas actually used whatever the limit.
                limit = EMBEDDED_TX_GAS
                self.w3.eth.call(call.build_transaction({**tx_params, "gas": limit}))
            else:
                limit = min(
                    int(call.estimate_gas(tx_params) * 1.25) + 50_000, BLOCK_GAS_LIMIT
                )
        except (ContractCustomError, ContractLogicError, TransactionFailed) as exc:
            error = self.decode_revert(revert_data(exc))
            if not (send_reverting and gas):
                raise error from exc
            receipt = self._send(account, call, tx_params, gas)
            error.error_args["tx"] = "0x" + bytes(receipt["transactionHash"]).hex()
            raise error from exc
        receipt = self._send(account, call, tx_params, gas or limit)
        if receipt["status"] != 1:
            raise ContractRevertError(
                "Reverted", {"tx": "0x" + bytes(receipt["transactionHash"]).hex()}
            )
        return receipt

    def _send(
        self, account: LocalAccount, call: Any, tx_params: dict[str, Any], gas: int
    ) -> TxReceipt:
        tx = call.build_transaction(
            {
                **tx_params,
                "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
                "gas": gas,
                "chainId": self.w3.eth.chain_id,
            }
        )
        signed = account.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        try:
            return self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=300, poll_latency=0.2
            )
        except TimeExhausted as exc:
            raise ChainConnectionError(
                f"transaction {tx_hash.hex()} not mined within 300 s"
            ) from exc


_ETH_TESTER_REVERT = "execution reverted: "


def revert_data(exc: BaseException) -> bytes | None:
    """The revert data carried by web3's errors (`.data`, hex) or eth-tester's
    (raw bytes in the exception or in the one it was raised from, or a bytes
    literal in its message)."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for e in chain:
        data = getattr(e, "data", None)
        if isinstance(data, str) and data.startswith("0x"):
            return bytes.fromhex(data[2:])
        for arg in e.args:
            if isinstance(arg, (bytes, bytearray)):
                return bytes(arg)
            if (
                isinstance(arg, BaseException)
                and arg.args
                and isinstance(arg.args[0], (bytes, bytearray))
            ):
                return bytes(arg.args[0])
    for e in chain:
        for arg in e.args:
            if isinstance(arg, str) and arg.startswith(_ETH_TESTER_REVERT + "b"):
                try:
                    literal = ast.literal_eval(arg[len(_ETH_TESTER_REVERT) :])
                except (ValueError, SyntaxError):
                    continue
                if isinstance(literal, bytes):
                    return literal
    return None


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AnvilNode:
    """A local anvil node on loopback, started and stopped by this object."""

    def __init__(
        self,
        *,
        port: int | None = None,
        block_time: float | None = None,
        accounts: int = DEV_ACCOUNTS,
        state: Path | None = None,
    ) -> None:
        """Start anvil; `block_time` mines a block every so many seconds (else one
        per transaction); `state` is a file the chain is loaded from if it exists and
        dumped to when the node stops, so a restarted node resumes the chain."""
        binary = tool("anvil")
        if binary is None:
            raise ToolchainError("anvil not found: run ./scripts/setup.sh")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [
            binary,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--mnemonic",
            DEV_MNEMONIC,
            "--gas-limit",
            str(BLOCK_GAS_LIMIT),
            "--accounts",
            str(accounts),
            "--silent",
        ]
        if block_time:
            args += ["--block-time", str(block_time)]
        if state is not None:
            args += ["--state", str(state)]
        # anvil's messages go to a file: a pipe nobody reads would fill up and
        # block the node.
        self.log = tempfile.NamedTemporaryFile(prefix="zkpot-anvil-", suffix=".log")
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            env=os.environ.copy(),
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                # With interval mining the node keeps its own time: nothing mines on demand.
                Chain.connect(self.url, timeout=2)  # up yet? (a quick probe)
                # Mining a phase's blocks at once can take seconds on a busy machine.
                self.chain = Chain.connect(self.url, dev=not block_time, timeout=60)
                self.chain.name = f"anvil {self.url}"
                return
            except ChainConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    err = Path(self.log.name).read_text(errors="replace")[-2000:]
                    raise ToolchainError(
                        f"anvil did not start: {err.strip()}"
                    ) from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # anvil dumps its state (if asked) before exiting
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> AnvilNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
