"""Deploying the verifier and the ZKPoT contract, and calling ZKPoT."""

from __future__ import annotations

import functools
import secrets
import types as pytypes
import typing
from collections.abc import Sequence
from dataclasses import fields
from enum import IntEnum
from typing import Any, TypeVar

from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_tester.exceptions import TransactionFailed
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.logs import DISCARD
from web3.types import TxReceipt

from ..circuit.keys import vka_digest
from ..exceptions import ZKPoTValueError
from ..types import (
    ContributionState,
    MemberState,
    Phase,
    Proof,
    RoundState,
    TaskConfig,
    TaskState,
)
from .artefacts import VERIFIER, ZKPOT, CompiledContract, load
from .backend import Chain, revert_data

S = TypeVar("S")


def deploy(
    chain: Chain, account: LocalAccount, compiled: CompiledContract, *args: Any
) -> str:
    """Deploy `compiled` from `account`; return the new contract's address."""
    factory = chain.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    receipt = chain.transact(account, factory.constructor(*args))
    return str(receipt["contractAddress"])


def deploy_verifier(chain: Chain, account: LocalAccount) -> str:
    """Deploy ezkl's reusable verifier; return its address."""
    return deploy(chain, account, load(VERIFIER))


def verifier_at(chain: Chain, verifier: str) -> Any:
    """The reusable verifier deployed at `verifier`, as a web3 contract."""
    return chain.w3.eth.contract(
        address=Web3.to_checksum_address(verifier), abi=load(VERIFIER).abi
    )


def verify_on_chain(
    chain: Chain, verifier: str, proof: Proof, words: list[bytes]
) -> bool:
    """Whether the verifier at `verifier` accepts `proof` under the key artefact
    `words`, by a call (no transaction). A client checks a proof this way before it
    stakes: a key that does not match the proving key would fail every proof."""
    contract = verifier_at(chain, verifier)
    data = contract.encode_abi(
        "verifyProof", [proof.proof, list(proof.instances), words]
    )
    try:
        out = bytes(chain.w3.eth.call({"to": contract.address, "data": data}))
    except (ContractCustomError, ContractLogicError, TransactionFailed):
        return False  # the generated verifier reverts on a bad proof
    # Not ABI: the generated code returns (1, vkaDigest, rescaled instances...).
    return (
        len(out) >= 64
        and int.from_bytes(out[:32], "big") == 1
        and out[32:64] == vka_digest(words)
    )


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


# ---------------------------------------------------------------- ABI <-> vocabulary
def camel(name: str) -> str:
    """`min_stake` -> `minStake`: a vocabulary field's name in the contract's ABI."""
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def from_abi(cls: type[S], values: Any, **extra: Any) -> S:
    """An instance of the vocabulary dataclass `cls` from a struct or event
    arguments as web3 decodes them (by Solidity name); fields missing there come
    from `extra`. bytes32 becomes int where the field is an int (hashes), enums
    their member, addresses their checksum form."""
    hints = _type_hints(cls)
    out: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name in extra:
            out[f.name] = extra[f.name]
            continue
        key = camel(f.name)
        if key not in values:
            continue  # a default of the dataclass
        out[f.name] = _convert(hints[f.name], values[key])
    return cls(**out)


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    """The resolved field types of a vocabulary class (resolved once: every view
    and event read goes through `from_abi`)."""
    return typing.get_type_hints(cls)


def _convert(hint: Any, value: Any) -> Any:
    if isinstance(hint, pytypes.UnionType):  # Optional fields: the first member
        hint = typing.get_args(hint)[0]
    if isinstance(hint, type) and issubclass(hint, IntEnum):
        return hint(value)
    if hint is int:
        return int.from_bytes(value, "big") if isinstance(value, bytes) else int(value)
    if hint is bytes:
        return bytes(value)
    if hint is bool:
        return bool(value)
    if typing.get_origin(hint) is tuple:  # bytes32[] -> tuple[bytes, ...]
        return tuple(bytes(v) for v in value)
    if hint is str and isinstance(value, str) and Web3.is_address(value):
        return Web3.to_checksum_address(value)
    return value


def config_struct(config: TaskConfig) -> tuple[Any, ...]:
    """The contract's TaskConfig as an ABI tuple, in the Solidity field order."""
    t = config
    return (
        t.vka_digest,
        t.aggregation_vka_digest,
        Web3.to_checksum_address(t.aggregator),
        t.aggregator_key,
        t.eval_samples,
        t.min_correct,
        t.terms.max_clients,
        t.num_rounds,
        t.terms.registration_blocks,
        t.terms.commit_blocks,
        t.terms.reveal_blocks,
        t.terms.proof_blocks,
        t.terms.aggregate_blocks,
        t.terms.optimistic,
        t.terms.dispute_blocks,
        t.terms.leader_share_bps,
        t.terms.min_stake,
        t.terms.missed_proof_penalty,
        t.terms.aggregator_bond,
        t.terms.aggregator_penalty,
        t.terms.dispute_bond,
        t.initial_model_hash.to_bytes(32, "big"),
        t.initial_model_cid,
        t.circuit_cid,
        list(t.batch_commitments),
    )


def submission_of(
    proof: Proof,
    *,
    salt: bytes,
    sealed_weights_cid: str,
    claimed_correct: int | None = None,
    instances: tuple[int, ...] | None = None,
) -> tuple[Any, ...]:
    """The contract's Submission struct as an ABI tuple; `claimed_correct` and
    `instances` default to the proof's own."""
    return (
        proof.proof,
        list(instances if instances is not None else proof.instances),
        proof.correct if claimed_correct is None else claimed_correct,
        salt,
        sealed_weights_cid,
    )


class ZKPoTContract:
    """Typed access to a deployed ZKPoT contract: one method per external function."""

    log_page_blocks: int = 2_000
    """Blocks per event query: public RPC providers cap a query's block range."""

    def __init__(self, chain: Chain, address: str) -> None:
        compiled = load(ZKPOT)
        self.chain = chain
        self.address = Web3.to_checksum_address(address)
        if not chain.w3.eth.get_code(self.address):
            raise ZKPoTValueError(f"no contract at {self.address} on {chain.name}")
        self.contract = chain.w3.eth.contract(address=self.address, abi=compiled.abi)
        self.created_logs: dict[int, Any] = {}
        """TaskCreated log of each task looked up so far (see events.task_info)."""
        chain.register_errors(compiled.abi)

    @classmethod
    def deploy(
        cls, chain: Chain, account: LocalAccount, verifier: str
    ) -> ZKPoTContract:
        """Deploy a new ZKPoT contract bound to the reusable verifier at `verifier`."""
        return cls(
            chain,
            deploy(chain, account, load(ZKPOT), Web3.to_checksum_address(verifier)),
        )

    @property
    def verifier(self) -> str:
        """The verifier every proof is checked by (fixed at deployment)."""
        return str(self.contract.functions.verifier().call())

    def _send(
        self,
        account: LocalAccount,
        fn: str,
        *args: Any,
        value: int = 0,
        force_gas: int | None = None,
    ) -> TxReceipt:
        """Send `fn(*args)`. With `force_gas` the transaction is sent with that gas even
        when it will revert (how a misbehaving client's transactions reach the chain);
        the revert is raised after it is mined."""
        call = getattr(self.contract.functions, fn)(*args)
        return self.chain.transact(
            account, call, value=value, gas=force_gas, send_reverting=bool(force_gas)
        )

    # ------------------------------------------------------------ tasks
    def register_circuit(self, account: LocalAccount, words: list[bytes]) -> bytes:
        """Register a circuit's verification-key artefact (checked canonical by the
        contract, which also registers it on its verifier); return its digest."""
        self._send(account, "registerCircuit", words)
        return vka_digest(words)

    def create_task(
        self, account: LocalAccount, config: TaskConfig, *, reward_pool: int
    ) -> tuple[int, TxReceipt]:
        """Create a task funded with `reward_pool` wei (plus the aggregator bond);
        return its id and the receipt."""
        receipt = self._send(
            account,
            "createTask",
            config_struct(config),
            value=reward_pool + config.terms.aggregator_bond,
        )
        (event,) = self.contract.events.TaskCreated().process_receipt(
            receipt, errors=DISCARD
        )
        return int(event["args"]["taskId"]), receipt

    def cancel_task(self, account: LocalAccount, task_id: int) -> TxReceipt:
        """Cancel a task before it starts (publisher only)."""
        return self._send(account, "cancelTask", task_id)

    def register(self, account: LocalAccount, task_id: int, stake: int) -> TxReceipt:
        """Register for a task with `stake` wei, during its registration phase."""
        return self._send(account, "register", task_id, value=stake)

    # ------------------------------------------------------------ rounds
    def commit(
        self,
        account: LocalAccount,
        task_id: int,
        round_: int,
        commitment: bytes,
        *,
        force_gas: int | None = None,
    ) -> TxReceipt:
        """Commit to this round's weights (see `commitment_of`)."""
        return self._send(
            account, "commit", task_id, round_, commitment, force_gas=force_gas
        )

    def submit_proof(
        self,
        account: LocalAccount,
        task_id: int,
        round_: int,
        proof: Proof,
        *,
        salt: bytes,
        sealed_weights_cid: str,
        claimed_correct: int | None = None,
        instances: tuple[int, ...] | None = None,
        force_gas: int | None = None,
    ) -> TxReceipt:
        """Submit a proof; `claimed_correct` and `instances` default to the proof's own."""
        submission = submission_of(
            proof,
            salt=salt,
            sealed_weights_cid=sealed_weights_cid,
            claimed_correct=claimed_correct,
            instances=instances,
        )
        return self._send(
            account, "submitProof", task_id, round_, submission, force_gas=force_gas
        )

    def submit_claim(
        self,
        account: LocalAccount,
        task_id: int,
        round_: int,
        *,
        weights_hash: int,
        proof_hash: bytes,
        claimed_correct: int,
        salt: bytes,
        sealed_weights_cid: str,
        proof_cid: str,
        force_gas: int | None = None,
    ) -> TxReceipt:
        """Claim a count for the committed weights in an optimistic task, recording
        the hash and CID of the proof's bytes without verifying them (see `dispute`)."""
        claim = (
            weights_hash.to_bytes(32, "big"),
            proof_hash,
            claimed_correct,
            salt,
            sealed_weights_cid,
            proof_cid,
        )
        return self._send(
            account, "submitClaim", task_id, round_, claim, force_gas=force_gas
        )

    def dispute(
        self,
        account: LocalAccount,
        task_id: int,
        round_: int,
        client: str,
        proof: bytes,
        *,
        bond: int,
    ) -> TxReceipt:
        """Dispute `client`'s claim, posting `bond` (the task's dispute bond): with the
        claimed proof's bytes the contract judges them at once; with none, the claim
        is challenged and must be answered (see `settle_challenge`)."""
        return self._send(
            account,
            "dispute",
            task_id,
            round_,
            Web3.to_checksum_address(client),
            proof,
            value=bond,
        )

    def settle_challenge(
        self,
        account: LocalAccount,
        task_id: int,
        round_: int,
        client: str,
        proof: bytes,
    ) -> TxReceipt:
        """Answer a challenge of `client`'s claim with its proof's bytes (until the
        round's answer end), or strike it (after, with any bytes)."""
        return self._send(
            account,
            "settleChallenge",
            task_id,
            round_,
            Web3.to_checksum_address(client),
            proof,
        )

    def reveal_batch(
        self,
        account: LocalAccount,
        task_id: int,
        round_: int,
        commitment: bytes,
        salt: bytes,
        cid: str,
        *,
        force_gas: int | None = None,
    ) -> TxReceipt:
        """Reveal the round's evaluation batch (publisher only, in its reveal window):
        its polynomial commitment, the salt that opens the task's batch commitment,
        and its CID."""
        return self._send(
            account,
            "revealBatch",
            task_id,
            round_,
            commitment,
            salt,
            cid,
            force_gas=force_gas,
        )

    def close_round(
        self,
        account: LocalAccount,
        task_id: int,
        standing: Sequence[str] | None = None,
    ) -> TxReceipt:
        """Close the task's current round (anyone may, once its proof phase, or an
        optimistic task's dispute window, is over). `standing`: an optimistic round's
        accepted contributions that stand, their clients in submission order (read
        from the round's events if not given)."""
        if standing is None:
            from .events import standing_contributions  # events reads through us

            task = self.task(task_id)
            standing = (
                standing_contributions(self, task_id, task.current_round)
                if task.optimistic
                else ()
            )
        return self._send(
            account,
            "closeRound",
            task_id,
            [Web3.to_checksum_address(a) for a in standing],
        )

    def publish_global_model(
        self,
        account: LocalAccount,
        task_id: int,
        round_: int,
        *,
        model_hash: int,
        cid: str,
        accepted: Sequence[str],
        proof: Proof,
        instances: Sequence[int] | None = None,
        **kwargs: Any,
    ) -> TxReceipt:
        """Publish the global model aggregated from `round_` (aggregator only) with
        its aggregation proof over the round's `accepted` clients, in order;
        `instances` default to the proof's own."""
        return self._send(
            account,
            "publishGlobalModel",
            task_id,
            round_,
            (
                model_hash.to_bytes(32, "big"),
                cid,
                [Web3.to_checksum_address(a) for a in accepted],
                proof.proof,
                list(proof.instances if instances is None else instances),
            ),
            **kwargs,
        )

    def finalize_without_aggregator(
        self, account: LocalAccount, task_id: int
    ) -> TxReceipt:
        """Finalise a closed round whose aggregator missed its deadline (anyone may)."""
        return self._send(account, "finalizeWithoutAggregator", task_id)

    # ------------------------------------------------------------ stakes and rewards
    def top_up_stake(
        self, account: LocalAccount, task_id: int, amount: int
    ) -> TxReceipt:
        """Add `amount` wei to the sender's stake in a running task (a client slashed
        below the minimum takes part again from the next round it commits in)."""
        return self._send(account, "topUpStake", task_id, value=amount)

    def slash_missed_proof(
        self, account: LocalAccount, task_id: int, client: str
    ) -> TxReceipt:
        """Slash a client that committed and never proved (anyone may)."""
        return self._send(
            account, "slashMissedProof", task_id, Web3.to_checksum_address(client)
        )

    def claim_reward(
        self, account: LocalAccount, task_id: int, round_: int
    ) -> TxReceipt:
        """Credit the reward of the sender's accepted contribution in a closed round."""
        return self._send(account, "claimReward", task_id, round_)

    def leave(self, account: LocalAccount, task_id: int) -> TxReceipt:
        """Leave a running task between rounds (no proof pending); the stake is
        credited back, less the registration bond if the client never proved."""
        return self._send(account, "leave", task_id)

    def release_stake(self, account: LocalAccount, task_id: int) -> TxReceipt:
        """Credit the sender's stake back once the task is over."""
        return self._send(account, "releaseStake", task_id)

    def withdraw(self, account: LocalAccount) -> TxReceipt:
        """Send the sender all its credit."""
        return self._send(account, "withdraw")

    # ------------------------------------------------------------ views
    def task(self, task_id: int) -> TaskState:
        """The task's live state."""
        return from_abi(TaskState, self.raw_view("getTask", task_id))

    def round(self, task_id: int, round_: int) -> RoundState:
        """A round's schedule, outcome and rewards."""
        return from_abi(RoundState, self.raw_view("getRound", task_id, round_))

    def contribution(self, task_id: int, round_: int, client: str) -> ContributionState:
        """A client's commitment and contribution in a round."""
        return from_abi(
            ContributionState,
            self.raw_view(
                "getContribution", task_id, round_, Web3.to_checksum_address(client)
            ),
        )

    def member(self, task_id: int, client: str) -> MemberState:
        """A client's registration and stake."""
        return from_abi(
            MemberState,
            self.raw_view("getMember", task_id, Web3.to_checksum_address(client)),
        )

    def task_count(self) -> int:
        """How many tasks were created (ids run from 1)."""
        return int(self.contract.functions.taskCount().call())

    def record_hash(self, task_id: int, round_: int) -> bytes:
        """The stored hash of a round's record (zero until finalised)."""
        return bytes(self.contract.functions.recordHash(task_id, round_).call())

    def model_submitted(self, vka_digest: bytes, weights_hash: int) -> bool:
        """Whether a proof of these weights already verified under this circuit. A
        model revealed before a commitment cannot be its contribution: committing to
        it would end in a slash."""
        at = self.contract.functions.modelSubmittedAt(
            vka_digest, weights_hash.to_bytes(32, "big")
        ).call()
        return int(at) != 0

    def is_global_model(self, vka_digest: bytes, model_hash: int) -> bool:
        """Whether these weights were published as a global model under this circuit
        (handing one back is refused on chain: it is no training contribution)."""
        at = self.contract.functions.globalModelPublishedAt(
            vka_digest, model_hash.to_bytes(32, "big")
        ).call()
        return int(at) != 0

    def credit_of(self, account: str) -> int:
        """What `account` may withdraw, in wei."""
        return int(
            self.contract.functions.creditOf(Web3.to_checksum_address(account)).call()
        )

    def phase(self, task_id: int) -> Phase:
        """Where the task stands at the latest block."""
        return Phase(self.contract.functions.phase(task_id).call())

    def raw_view(self, fn: str, *args: Any) -> dict[str, Any]:
        """A view returning one struct, as a mapping by Solidity field name (a
        revert raises ContractRevertError naming the custom error)."""
        try:
            values = getattr(self.contract.functions, fn)(*args).call()
        except (ContractCustomError, ContractLogicError, TransactionFailed) as exc:
            raise self.chain.decode_revert(revert_data(exc)) from exc
        (item,) = [i for i in self.contract.abi if i.get("name") == fn]
        names = [c["name"] for c in item["outputs"][0]["components"]]
        return dict(zip(names, values, strict=True))
