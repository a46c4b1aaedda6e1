"""`zkpot aggregate`: the aggregator as a process.

Each round, once the proof phase is over, it closes the round (if nobody has),
opens the sealed weights of the accepted contributions, checks them against their
commitments, averages them and publishes the global model. The result of each
round's aggregation is saved in the state directory before it is published, so
an aggregator killed and restarted in the middle of a round publishes what it
had computed instead of starting over, and never publishes twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount
from nacl.public import PrivateKey

from ..chain.events import contributions, logs
from ..circuit.keys import CircuitArtifacts
from ..exceptions import ContractRevertError, ZKPoTValueError
from ..paths import write_atomically
from ..phases import can_finalize_without_aggregator
from ..roles.aggregator import Aggregator
from ..roles.disputer import Disputer
from ..storage import ContentStore
from ..types import AggregationResult, Proof, RoundStatus
from .common import RoleContext
from .keeper import check_claims, keep_round

BOX_KEY = "box.key"


def load_box_key(state_dir: Path, *, create: bool = False) -> PrivateKey:
    """The aggregator's X25519 key in `state_dir` (created there if asked)."""
    path = state_dir / BOX_KEY
    if not path.is_file():
        if not create:
            raise ZKPoTValueError(
                f"no aggregator key in {state_dir} (create it with --print-key)"
            )
        key = PrivateKey.generate()
        write_atomically(path, bytes(key).hex() + "\n")
        return key
    try:
        return PrivateKey(bytes.fromhex(path.read_text().strip()))
    except ValueError as exc:
        raise ZKPoTValueError(f"{path} does not hold an aggregator key") from exc


def aggregation_path(
    state_dir: Path, chain_id: int, contract: str, task_id: int, round_: int
) -> Path:
    """Where the aggregation of a round is kept: under the chain, contract and task
    it belongs to, so a state directory serving several tasks (or a chain reset)
    never hands one task's model to another."""
    return (
        state_dir
        / f"chain-{chain_id}"
        / contract.lower()
        / f"task-{task_id}"
        / f"round-{round_}.json"
    )


@dataclass(kw_only=True)
class AggregatorProcess:
    ctx: RoleContext
    aggregator: Aggregator
    state_dir: Path
    checked_round: int = 0
    """Rounds up to this one have had their missed proofs slashed."""
    disputer: Disputer | None = None
    """Checks the round's optimistic claims (None: this aggregator does not)."""
    unprovable: set[int] = field(default_factory=set)
    """Rounds whose average cannot be proven (they fall back at their deadline)."""

    def run(self) -> int:
        ctx, zkpot = self.ctx, self.ctx.zkpot
        if zkpot.task(ctx.task_id).aggregator != self.aggregator.account.address:
            raise ZKPoTValueError(
                f"{self.aggregator.account.address} is not the aggregator of task {ctx.task_id}"
            )
        if bytes(ctx.task.aggregator_key) != self.aggregator.public_key:
            raise ZKPoTValueError(
                "this aggregator key is not the one the task's clients seal to"
            )
        # Set the aggregation circuit up now, not within a round's deadline.
        circuit = ctx.call(self.aggregator.aggregation_circuit, ctx.task_id)
        ctx.log(
            f"aggregation circuit ready: {circuit.slots} slots, key digest "
            f"0x{circuit.vka_digest().hex()[:16]}… (the task's)"
        )
        ctx.log(f"aggregating task {ctx.task_id} ({ctx.task.num_rounds} rounds)")
        for r, state, head in ctx.rounds():
            self.slash_missed_proofs(before_round=r)
            check_claims(ctx, self.disputer, head)
            if (
                state.status == RoundStatus.CLOSED
                and not can_finalize_without_aggregator(state, head)
            ):
                self.publish(r)
            else:
                keep_round(ctx, self.aggregator.account, r, state, head)
        last = ctx.call(zkpot.task, ctx.task_id).current_round
        self.slash_missed_proofs(before_round=last + 1)
        ctx.log("task over")
        return 0

    def slash_missed_proofs(self, before_round: int) -> None:
        """Slash, once per finalised round, each client that committed and never
        proved (a client that died, or stalled on purpose). The contract would do it
        at that client's next commitment; a client that never returns would
        otherwise keep its whole stake."""
        while self.checked_round + 1 < before_round:
            r = self.checked_round + 1
            proved = {
                c.client
                for c in self.ctx.call(
                    contributions, self.ctx.zkpot, self.ctx.task_id, r
                )
            }
            committed = {
                e["args"]["client"]
                for e in self.ctx.call(
                    logs, self.ctx.zkpot, "Committed", self.ctx.task_id, round=r
                )
            }
            for client in sorted(committed - proved):
                try:
                    self.ctx.call(
                        self.ctx.zkpot.slash_missed_proof,
                        self.aggregator.account,
                        self.ctx.task_id,
                        client,
                    )
                    self.ctx.log(
                        f"round {r}: slashed {client}, committed but never proved"
                    )
                except ContractRevertError:
                    pass  # already settled (by its own next commitment, or someone else)
            self.checked_round = r

    def publish(self, round_: int) -> None:
        if round_ in self.unprovable:
            return
        result = self.load(round_)
        if result is None:
            result = self.ctx.call(self.aggregator.aggregate, self.ctx.task_id, round_)
            self.save(result)
            for client, why in result.excluded.items():
                self.ctx.log(f"round {round_}: cannot open {client}'s weights: {why}")
        else:
            self.ctx.log(f"round {round_}: resuming from the saved aggregation")
        if result.proof is None:
            self.unprovable.add(round_)
            self.ctx.log(
                f"round {round_}: no proven average without every accepted contribution: "
                "the round will fall back to the previous model"
            )
            return
        try:
            self.ctx.call(self.aggregator.publish, self.ctx.task_id, result)
        except ContractRevertError as exc:
            self.ctx.log(f"round {round_}: publishing refused: {exc}")
            return
        self.ctx.log(
            f"round {round_}: published the proven FedAvg of {len(result.included)} "
            f"contributions ({result.cid}; aggregation proof "
            f"{result.proof.prove_seconds:.1f} s)"
        )

    def _path(self, round_: int) -> Path:
        ctx = self.ctx
        return aggregation_path(
            self.state_dir,
            ctx.chain.w3.eth.chain_id,
            ctx.zkpot.address,
            ctx.task_id,
            round_,
        )

    def save(self, result: AggregationResult) -> None:
        """Keep a round's aggregation (its model is in the store under its CID)."""
        write_atomically(
            self._path(result.round),
            json.dumps(
                {
                    "contract": self.ctx.zkpot.address,
                    "task": self.ctx.task_id,
                    "round": result.round,
                    "model_hash": hex(result.model_hash),
                    "cid": result.cid,
                    "included": list(result.included),
                    "excluded": dict(result.excluded),
                    "proof": None if result.proof is None else result.proof.to_json(),
                },
                indent=1,
            ),
        )

    def load(self, round_: int) -> AggregationResult | None:
        """The aggregation saved for `round_` of this contract's task, if any."""
        path = self._path(round_)
        if not path.is_file():
            return None
        raw = json.loads(path.read_text())
        if (raw.get("contract"), raw.get("task"), raw.get("round")) != (
            self.ctx.zkpot.address,
            self.ctx.task_id,
            round_,
        ):
            return None
        return AggregationResult(
            round=raw["round"],
            model_hash=int(raw["model_hash"], 16),
            cid=raw["cid"],
            included=tuple(raw["included"]),
            excluded=raw["excluded"],
            proof=None if raw.get("proof") is None else Proof.from_json(raw["proof"]),
        )


def make_aggregator(
    account: LocalAccount,
    ctx: RoleContext,
    store: ContentStore,
    state_dir: Path,
    circuit: CircuitArtifacts,
) -> AggregatorProcess:
    key = load_box_key(state_dir)
    return AggregatorProcess(
        ctx=ctx,
        aggregator=Aggregator(
            account=account, zkpot=ctx.zkpot, store=store, key=key, circuit=circuit
        ),
        state_dir=state_dir,
    )
