"""Byzantine clients: each attack is a client that cheats in the steps it overrides.

Every strategy is something a real adversary can do with its own key and the
public chain: train on poisoned data, hand in junk, copy others' public work,
lie about its accuracy, give the aggregator other weights than it proved, hand
the global model back, or flood the contract. Their transactions are sent even
when the contract will refuse them (so the refusals are on chain, gas burnt),
and each outcome is kept in a journal (`attack.json` in the state directory).
"""

from __future__ import annotations

import json
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from web3.types import TxReceipt

from ..chain.contracts import commitment_of, new_salt
from ..chain.events import contributions, logs
from ..circuit.commitment import weights_hash
from ..circuit.keys import CircuitArtifacts
from ..circuit.package import CircuitPackage
from ..data import Shard, join
from ..exceptions import ContractRevertError
from ..model import quantise
from ..paths import write_atomically
from ..rules import Play, PublicRound
from ..types import (
    WEIGHTS_COMMITMENT_BYTES,
    Contribution,
    Proof,
    Task,
    commitment_hash,
)
from .client import Client
from .global_model import load_global_model

#: Gas an attacker's refused transaction is sent with (a proof verification is ~1.9 M).
ATTACK_GAS = 3_000_000
#: Garbage submissions a flooding client sends per round.
FLOOD_SIZE = 10


def byzantine_indices(clients: int, byzantine: int, seed: int) -> list[int]:
    """Which of `clients` attack in a run seeded `seed` (the simulation and the
    experiment draw alike)."""
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(clients, byzantine, replace=False).tolist())


@dataclass(kw_only=True)
class ByzantineClient(Client):
    """A client that attacks; subclasses name the attack and override steps."""

    attack: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    journal: list[dict[str, Any]] = field(default_factory=list)

    def prove(self, task: Task, artifacts: CircuitArtifacts) -> Proof | None:
        """Prove as an honest client would, if the strategy proves at all."""
        return super().prove(task, artifacts) if self.proves else None

    def random_weights(self, round_: int) -> np.ndarray:
        """Junk of the model's shape: Gaussian weights, standard deviation 1, quantised."""
        rng = np.random.default_rng(self.seed * 1_000 + round_)
        return quantise(
            rng.normal(0.0, 1.0, self.spec.num_weights).astype(np.float32), self.scale
        )

    def note(self, round_: int, action: str, outcome: str) -> None:
        """Keep what was tried and what the system answered."""
        self.journal.append({"round": round_, "action": action, "outcome": outcome})
        if self.state_dir is not None:
            write_atomically(
                self.state_dir / "attack.json",
                json.dumps({"attack": self.attack, "journal": self.journal}, indent=1),
            )

    def attempt(self, round_: int, action: str, send: Any) -> TxReceipt | None:
        """Run `send()` (a transaction), note whether the contract took it."""
        try:
            receipt = send()
        except ContractRevertError as exc:
            self.note(round_, action, f"refused on chain: {exc.name}")
            return None
        self.note(round_, action, "taken by the contract")
        return receipt

    def submit(self, task: Task) -> TxReceipt | None:
        """Submit as an honest client would, but send even what will be refused, and
        note the verified count when it goes through."""
        c = self.current
        if c is None or c.proof is None:
            return None
        receipt = self.attempt(
            c.round,
            "submit",
            lambda: super(ByzantineClient, self).submit(task, force_gas=ATTACK_GAS),
        )
        if receipt is not None:
            mine = self.zkpot.contribution(task.task_id, c.round, self.address)
            self.note(
                c.round,
                "verified",
                f"count {mine.correct}, "
                + (
                    "accepted" if mine.accepted else "below the threshold, not accepted"
                ),
            )
        return receipt

    def commit_unchecked(
        self, task: Task, round_: int, weights: np.ndarray, h: int | None = None
    ) -> None:
        """Commit without the honest client's checks (used or global weights)."""
        h = weights_hash(weights, self.task_circuit) if h is None else h
        salt = new_salt()
        self.current = Contribution(
            round=round_, weights=weights, weights_hash=h, salt=salt
        )
        self._persist()
        self.attempt(
            round_,
            "commit",
            lambda: self.zkpot.commit(
                self.account,
                task.task_id,
                round_,
                commitment_of(self.address, task.task_id, round_, h, salt),
                force_gas=ATTACK_GAS,
            ),
        )

    def _submit_forced(self, task: Task, proof: Proof, **kw: Any) -> TxReceipt:
        assert self.current is not None
        return self.zkpot.submit_proof(
            self.account,
            task.task_id,
            self.current.round,
            proof,
            salt=self.current.salt,
            sealed_weights_cid=kw.pop("sealed_weights_cid", "bafkreiattack"),
            force_gas=ATTACK_GAS,
            **kw,
        )


@dataclass(kw_only=True)
class LabelFlipClient(ByzantineClient):
    attack: ClassVar[str] = "label-flip"
    summary: ClassVar[str] = "trains on its shard with every label shifted by one class"

    def local_update(self, start: np.ndarray, round_: int) -> np.ndarray:
        return self.train_on(start, (self.shard.y + 1) % self.spec.classes, round_)


@dataclass(kw_only=True)
class NoiseClient(ByzantineClient):
    attack: ClassVar[str] = "noise"
    summary: ClassVar[str] = "hands in random weights (Gaussian, standard deviation 1)"

    def local_update(self, start: np.ndarray, round_: int) -> np.ndarray:
        return self.random_weights(round_)


@dataclass(kw_only=True)
class FreeRideClient(ByzantineClient):
    attack: ClassVar[str] = "free-ride"
    summary: ClassVar[str] = (
        "copies another client's commitment (round 1), then commits to and replays "
        "the previous round's leading proof"
    )
    proves: ClassVar[bool] = False
    victim: str | None = None
    _replay: Any = field(default=None, repr=False)
    """The earlier contribution whose proof is replayed (rounds after the first)."""

    def commit_round(self, task: Task, round_: int) -> None:
        if round_ == 1:
            copied = self._wait_for(
                lambda: [
                    e
                    for e in logs(self.zkpot, "Committed", task.task_id, round=round_)
                    if e["args"]["client"] != self.address
                ],
                task,
                round_,
                "commit_end",
            )
            if copied is None:
                self.note(round_, "commit", "nobody committed to copy")
                return
            self.victim = copied["args"]["client"]
            commitment = bytes(copied["args"]["commitment"])
            self.current = Contribution(
                round=round_,
                weights=np.empty(0, np.float32),
                weights_hash=0,
                salt=new_salt(),
            )
            self.attempt(
                round_,
                f"commit (copy of {self.victim}'s commitment)",
                lambda: self.zkpot.commit(
                    self.account, task.task_id, round_, commitment, force_gas=ATTACK_GAS
                ),
            )
            return
        best = max(
            (
                c
                for c in contributions(self.zkpot, task.task_id, round_ - 1)
                if c.accepted
            ),
            key=lambda c: c.correct,
            default=None,
        )
        if best is None:
            self.note(round_, "commit", "no accepted proof to replay")
            return
        self.victim = best.client
        self._replay = best
        self.commit_unchecked(
            task, round_, np.empty(0, np.float32), h=best.weights_hash
        )

    def submit(self, task: Task) -> TxReceipt | None:
        c = self.current
        if c is None:
            return None
        if c.round == 1:
            found = self._wait_for(
                lambda: [
                    x
                    for x in contributions(self.zkpot, task.task_id, 1)
                    if x.client == self.victim
                ],
                task,
                1,
                "proof_end",
            )
            if found is None:
                self.note(1, "submit", f"{self.victim} never submitted a proof to copy")
                return None
            tx_hash = found.tx_hash
        else:
            tx_hash = self._replay.tx_hash
        proof = self._proof_of(tx_hash)
        return self.attempt(
            c.round,
            f"submit ({self.victim}'s proof, tx {tx_hash[:10]}…)",
            lambda: self._submit_forced(task, proof),
        )

    def play(self, public: PublicRound) -> Play | None:
        if public.round == 1:
            if not public.others:
                return None  # nobody committed to copy
            victim = public.others[0]
            return Play(committed=None, proven=victim, handed=victim)
        if public.previous_best is None:
            return None  # no accepted proof to replay
        best = public.previous_best
        return Play(committed=best, proven=best, handed=best)

    def _proof_of(self, tx_hash: str) -> Proof:
        """The proof a `submitProof` transaction carried, from its public calldata."""
        tx = self.zkpot.chain.w3.eth.get_transaction(tx_hash)
        _, args = self.zkpot.contract.decode_function_input(tx["input"])
        s = args["submission"]
        return Proof(
            proof=bytes(s["proof"]), instances=tuple(int(i) for i in s["instances"])
        )

    def _wait_for(
        self, probe: Callable[[], list[Any]], task: Task, round_: int, until: str
    ) -> Any:
        """The first thing `probe` finds, polling until the round's block `until`
        (None if nothing came)."""
        deadline = int(getattr(self.zkpot.round(task.task_id, round_), until))
        while True:
            got = probe()
            if got:
                return got[0]
            if self.zkpot.chain.block_number > deadline:
                return None
            time.sleep(0.5)


@dataclass(kw_only=True)
class ForgeClaimClient(ByzantineClient):
    attack: ClassVar[str] = "forge-claim"
    summary: ClassVar[str] = (
        "trains for one epoch only, proves, then raises the proven count to a "
        "perfect score"
    )

    def local_update(self, start: np.ndarray, round_: int) -> np.ndarray:
        return self.train_on(start, self.shard.y, round_, epochs=1)

    def play(self, public: PublicRound) -> Play | None:
        w = self.local_update(public.global_model, public.round)
        return Play(committed=w, proven=w, claimed=public.eval_samples, handed=w)

    def submit(self, task: Task) -> TxReceipt | None:
        c = self.current
        if c is None or c.proof is None:
            return None
        forged = (task.eval_samples,)
        return self.attempt(
            c.round,
            f"submit (count {c.proof.correct} raised to {task.eval_samples})",
            lambda: self._submit_forced(
                task, c.proof, instances=forged, claimed_correct=task.eval_samples
            ),
        )


@dataclass(kw_only=True)
class ModelSwapClient(ByzantineClient):
    attack: ClassVar[str] = "model-swap"
    summary: ClassVar[str] = (
        "proves its trained model but hands the aggregator random weights"
    )

    def handed_over(self, c: Contribution) -> np.ndarray:
        return self.random_weights(c.round)


@dataclass(kw_only=True)
class LazyClient(ByzantineClient):
    attack: ClassVar[str] = "lazy"
    summary: ClassVar[str] = (
        "does not train: commits to, proves and submits the global model"
    )

    def commit_round(self, task: Task, round_: int) -> None:
        start = load_global_model(
            self.zkpot, self.store, task.task_id, round_ - 1, self.task_circuit
        )
        self.commit_unchecked(task, round_, start)

    def play(self, public: PublicRound) -> Play | None:
        g = public.global_model
        return Play(committed=g, proven=g, handed=g)


@dataclass(kw_only=True)
class FloodClient(ByzantineClient):
    attack: ClassVar[str] = "flood"
    summary: ClassVar[str] = (
        f"commits to nothing real and sends {FLOOD_SIZE} garbage proofs per round"
    )
    proves: ClassVar[bool] = False
    opening: bytes = b""
    """The 64 bytes its garbage proofs begin with, so that they open its commitment
    (an honest proof begins with the weights commitment)."""

    def commit_round(self, task: Task, round_: int) -> None:
        self.opening = secrets.token_bytes(WEIGHTS_COMMITMENT_BYTES)
        h = commitment_hash(self.opening)
        self.commit_unchecked(task, round_, np.empty(0, np.float32), h=h)

    def play(self, public: PublicRound) -> Play | None:
        junk = self.random_weights(public.round)  # committed to, never proven
        return Play(committed=junk, proven=None, handed=junk)

    def submit(self, task: Task) -> TxReceipt | None:
        c = self.current
        if c is None:
            return None
        refused: Counter[str] = Counter()
        length = self.zkpot.task(task.task_id).proof_length  # the circuit's, public
        for _ in range(FLOOD_SIZE):
            count = secrets.randbelow(task.eval_samples + 1)
            garbage = Proof(
                proof=self.opening
                + secrets.token_bytes(length - WEIGHTS_COMMITMENT_BYTES),
                instances=(count,),
            )
            try:
                self._submit_forced(task, garbage)
                refused["taken"] += 1
            except ContractRevertError as exc:
                refused[exc.name] += 1
        self.note(
            c.round,
            f"submit {FLOOD_SIZE} garbage proofs",
            ", ".join(f"{n} x {k}" for k, n in refused.items()),
        )
        return None


def evaluation_in_graph(onnx_bytes: bytes, features: int) -> Shard | None:
    """Evaluation samples and labels read out of an ONNX graph, as anyone can: a
    constant tensor of shape [N, features] and labels for them, as a tensor of shape
    [N] or one-hot, [N, classes] (None: the graph holds no such pair)."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load_from_string(onnx_bytes).graph
    tensors = [numpy_helper.to_array(t) for t in graph.initializer]
    tensors += [
        numpy_helper.to_array(a.t)
        for node in graph.node
        if node.op_type == "Constant"
        for a in node.attribute
        if a.name == "value"
    ]
    labels = [t for t in tensors if t.ndim == 1 and np.all(t == np.round(t))]
    labels += [
        np.argmax(t, axis=1)
        for t in tensors
        if t.ndim == 2 and np.all((t == 0) | (t == 1)) and np.all(t.sum(axis=1) == 1)
    ]
    for x in (t for t in tensors if t.ndim == 2 and t.shape[1] == features):
        for y in (t for t in labels if len(t) == len(x)):
            if np.any(x):
                return Shard(x=x.astype(np.float32), y=y.astype(np.int64))
    return None


@dataclass(kw_only=True)
class EvalOverfitClient(ByzantineClient):
    attack: ClassVar[str] = "eval-overfit"
    summary: ClassVar[str] = (
        "reads every evaluation sample out of what the task publishes (the circuit "
        "package's graph, revealed batches) and trains on them, weighted up as "
        "public data, with its shard"
    )
    found: Shard | None = None
    """The evaluation data read from the task's publications (None: none found)."""

    def public_data(self, task: Task, round_: int) -> Shard | None:
        """Every evaluation sample the task has published by now, trained on as
        public data: any in its circuit package's ONNX graph, and the batches
        revealed in earlier rounds."""
        package = CircuitPackage.from_bytes(self.store.get(task.circuit_cid))
        self.found = join(
            [
                evaluation_in_graph(self.store.get(package.onnx_cid), self.spec.inputs),
                super().public_data(task, round_),
            ]
        )
        self.note(
            round_,
            "read the task's publications",
            "no evaluation data found"
            if self.found is None
            else f"{len(self.found.y)} evaluation samples found",
        )
        return self.found

    def play(self, public: PublicRound) -> Play | None:
        self.found = public.published_eval
        return super().play(public)


ATTACKS: dict[str, type[ByzantineClient]] = {
    cls.attack: cls
    for cls in (
        LabelFlipClient,
        NoiseClient,
        FreeRideClient,
        ForgeClaimClient,
        ModelSwapClient,
        LazyClient,
        FloodClient,
        EvalOverfitClient,
    )
}
"""Every attack by name."""
