"""Deploying the verifier and the ZKPoT contract, and calling ZKPoT."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD
from web3.types import TxReceipt

from ..circuit.prover import Proof
from ..exceptions import ZKPoTValueError
from ..paths import CONTRACTS_DIR
from .backend import Chain
from .compiler import CompiledContract, compile_file, zkpot_contract

VERIFIER_NAME = "Halo2VerifierReusable"
VERIFIER_SOL = CONTRACTS_DIR / "verifier" / f"{VERIFIER_NAME}.sol"


def deploy(
    chain: Chain, account: LocalAccount, compiled: CompiledContract, *args: Any
) -> str:
    """Deploy `compiled` from `account`; return the new contract's address."""
    factory = chain.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    receipt = chain.transact(account, factory.constructor(*args))
    return str(receipt["contractAddress"])


def verifier_contract() -> CompiledContract:
    """ezkl's reusable Halo2 verifier, as generated (the same for every circuit;
    each circuit brings its own verification-key artefact)."""
    return compile_file(VERIFIER_SOL, VERIFIER_NAME, optimizer_runs=1)


def deploy_verifier(chain: Chain, account: LocalAccount) -> str:
    """Deploy ezkl's reusable verifier; return its address."""
    return deploy(chain, account, verifier_contract())


def register_vka(
    chain: Chain, account: LocalAccount, verifier: str, words: list[bytes]
) -> bytes:
    """Register a verification-key artefact on the reusable verifier; return its digest."""
    contract = chain.w3.eth.contract(
        address=Web3.to_checksum_address(verifier), abi=verifier_contract().abi
    )
    chain.transact(account, contract.functions.registerVka(words))
    return vka_digest(words)


def vka_digest(words: list[bytes]) -> bytes:
    """keccak256 of the artefact's words, as the verifier and ZKPoT compute it."""
    return bytes(Web3.keccak(b"".join(words)))


def new_salt() -> bytes:
    """A fresh random 32-byte salt for a commitment."""
    return secrets.token_bytes(32)


def commitment_of(
    client: str, task_id: int, round_: int, weights_hash: int, salt: bytes
) -> bytes:
    """keccak256(abi.encode(client, taskId, round, weightsHash, salt)), as ZKPoT checks it."""
    data = encode(
        ["address", "uint256", "uint256", "bytes32", "bytes32"],
        [
            Web3.to_checksum_address(client),
            task_id,
            round_,
            weights_hash.to_bytes(32, "big"),
            salt,
        ],
    )
    return bytes(Web3.keccak(data))


@dataclass(frozen=True)
class TaskParams:
    """What a publisher fixes when opening a task."""

    verifier: str
    vka_digest: bytes
    aggregator_key: bytes
    eval_samples: int
    min_correct: int
    num_rounds: int
    commit_blocks: int
    proof_blocks: int
    initial_model_hash: int
    initial_model_cid: str


class ZKPoTContract:
    """Typed access to a deployed ZKPoT contract."""

    def __init__(self, chain: Chain, address: str) -> None:
        compiled = zkpot_contract()
        self.chain = chain
        self.address = Web3.to_checksum_address(address)
        if not chain.w3.eth.get_code(self.address):
            raise ZKPoTValueError(f"no contract at {self.address} on {chain.name}")
        self.contract = chain.w3.eth.contract(address=self.address, abi=compiled.abi)
        chain.register_errors(compiled.abi)

    @classmethod
    def deploy(cls, chain: Chain, account: LocalAccount) -> ZKPoTContract:
        """Deploy a new ZKPoT contract."""
        return cls(chain, deploy(chain, account, zkpot_contract()))

    # ------------------------------------------------------------ transactions
    def open_task(self, account: LocalAccount, p: TaskParams) -> tuple[int, TxReceipt]:
        """Open a task; return its id and the receipt."""
        receipt = self.chain.transact(
            account,
            self.contract.functions.openTask(
                Web3.to_checksum_address(p.verifier),
                p.vka_digest,
                p.aggregator_key,
                p.eval_samples,
                p.min_correct,
                p.num_rounds,
                p.commit_blocks,
                p.proof_blocks,
                p.initial_model_hash.to_bytes(32, "big"),
                p.initial_model_cid,
            ),
        )
        (event,) = self.contract.events.TaskOpened().process_receipt(
            receipt, errors=DISCARD
        )
        return int(event["args"]["taskId"]), receipt

    def commit(
        self, account: LocalAccount, task_id: int, round_: int, commitment: bytes
    ) -> TxReceipt:
        """Commit to this round's weights (see `commitment_of`)."""
        return self.chain.transact(
            account, self.contract.functions.commit(task_id, round_, commitment)
        )

    def submit_proof(
        self,
        account: LocalAccount,
        task_id: int,
        round_: int,
        proof: Proof,
        vka: list[bytes],
        *,
        salt: bytes,
        sealed_weights_cid: str,
        claimed_correct: int | None = None,
        instances: tuple[int, ...] | None = None,
    ) -> TxReceipt:
        """Submit a proof; `claimed_correct` and `instances` default to the proof's own."""
        submission = (
            proof.proof,
            list(instances if instances is not None else proof.instances),
            vka,
            proof.correct if claimed_correct is None else claimed_correct,
            salt,
            sealed_weights_cid,
        )
        return self.chain.transact(
            account, self.contract.functions.submitProof(task_id, round_, submission)
        )

    def close_round(self, account: LocalAccount, task_id: int) -> TxReceipt:
        """Close the task's current round (anyone may, once its proof phase is over)."""
        return self.chain.transact(account, self.contract.functions.closeRound(task_id))

    def publish_global_model(
        self,
        account: LocalAccount,
        task_id: int,
        round_: int,
        model_hash: int,
        cid: str,
    ) -> TxReceipt:
        """Publish the global model aggregated from `round_` (aggregator only)."""
        return self.chain.transact(
            account,
            self.contract.functions.publishGlobalModel(
                task_id, round_, model_hash.to_bytes(32, "big"), cid
            ),
        )

    # ------------------------------------------------------------ views
    def task(self, task_id: int) -> dict[str, Any]:
        """The task's parameters and state, by field name."""
        values = self.contract.functions.getTask(task_id).call()
        names = [c["name"] for c in self._outputs("getTask")]
        return dict(zip(names, values, strict=True))

    def contribution(self, task_id: int, round_: int, client: str) -> dict[str, Any]:
        """A client's commitment and contribution in a round, by field name."""
        values = self.contract.functions.getContribution(task_id, round_, client).call()
        names = [c["name"] for c in self._outputs("getContribution")]
        return dict(zip(names, values, strict=True))

    def round(self, task_id: int, round_: int) -> dict[str, Any]:
        """A round's leader, leader count and accepted count, by field name."""
        values = self.contract.functions.getRound(task_id, round_).call()
        names = [c["name"] for c in self._outputs("getRound")]
        return dict(zip(names, values, strict=True))

    def _outputs(self, fn: str) -> list[dict[str, Any]]:
        (item,) = [i for i in self.contract.abi if i.get("name") == fn]
        return item["outputs"][0]["components"]
