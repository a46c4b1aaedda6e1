"""The honest verifier of an optimistic task: checks every claim off chain with
ezkl, and disputes what does not hold.

In an optimistic task a claim's proof is verified on chain only if someone
disputes it, so the task is safe as long as one honest party checks every claim
during the dispute window (docs/security.md). Every role process does, by
default, and so does `zkpot watch --dispute`. Each `step`:

- fetches each undisputed claim's proof bytes from the content store and checks
  them as the contract would judge them (`claim_holds`): the claimed hash, the
  circuit's proof length, the committed weights, the round's batch, and ezkl's
  verifier with the claimed count. A claim that fails is disputed with its bytes,
  and the contract strikes it: half the cheater's stake pays for the dispute.
- challenges, near the end of the window, a claim whose bytes cannot be fetched
  (or are not what was claimed): its client must bring them before the answer
  end, or the claim is struck.
- answers any open challenge of a claim whose bytes it holds and which holds
  (its own above all), and strikes challenges left unanswered past the answer end,
  so that the round can close.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ..chain.contracts import ZKPoTContract
from ..chain.events import ZERO_ADDRESS, contributions
from ..circuit.keys import CircuitArtifacts
from ..circuit.prover import verify_off_chain
from ..exceptions import ContentNotFoundError, ContractRevertError, ZKPoTValueError
from ..storage import ContentStore
from ..types import (
    WEIGHTS_COMMITMENT_BYTES,
    Proof,
    RoundState,
    RoundStatus,
    TaskState,
    VerifiedContribution,
    commitment_hash,
)


def shape_holds(
    claim: VerifiedContribution, proof: bytes, task: TaskState, round_: RoundState
) -> bool:
    """What the contract checks of a claim's bytes before the verifier: their hash,
    the circuit's proof length, the committed weights and the round's batch."""
    batch_end = WEIGHTS_COMMITMENT_BYTES + round_.batch_length
    return (
        keccak(proof) == claim.proof_hash
        and len(proof) == task.proof_length
        and commitment_hash(proof[:WEIGHTS_COMMITMENT_BYTES]) == claim.weights_hash
        and keccak(proof[WEIGHTS_COMMITMENT_BYTES:batch_end]) == round_.batch_digest
    )


def claims_hold(
    artifacts: CircuitArtifacts,
    claims: Sequence[tuple[VerifiedContribution, bytes]],
    task: TaskState,
    round_: RoundState,
) -> list[bool]:
    """Whether each claim's bytes are its valid proof, as the contract would judge
    them in a dispute; ezkl's verifier runs once for all whose shape holds."""
    shaped = [shape_holds(c, p, task, round_) for c, p in claims]
    verdicts = iter(
        verify_off_chain(
            artifacts,
            [
                Proof(proof=p, instances=(c.correct,))
                for (c, p), ok in zip(claims, shaped, strict=True)
                if ok
            ],
        )
    )
    return [ok and next(verdicts) for ok in shaped]


@dataclass(kw_only=True)
class Disputer:
    """Checks the claims of one optimistic task's current round from `account`."""

    zkpot: ZKPoTContract
    store: ContentStore
    account: LocalAccount
    task_id: int
    artifacts: CircuitArtifacts
    """The task's circuit: its verifying key, settings and SRS."""
    challenge_margin: int = 3
    """A claim whose bytes cannot be fetched is challenged in the last this many
    blocks of the dispute window (until then the store may still deliver them;
    more than one, so that a poll that skips a block still finds the window open)."""
    checked: set[tuple[int, str]] = field(default_factory=set)
    """(round, client) of claims found to hold: not checked again."""

    def fetch(self, claim: VerifiedContribution) -> bytes | None:
        """A claim's proof bytes from the store, if they are what was claimed."""
        try:
            data = self.store.get(claim.proof_cid)
        except (ContentNotFoundError, ZKPoTValueError, OSError):
            return None
        return data if keccak(data) == claim.proof_hash else None

    def step(self, head: int) -> list[str]:
        """Do what is due in the task's current round at block `head`; return what
        was done, one line each."""
        task = self.zkpot.task(self.task_id)
        if not task.optimistic:
            return []
        round_ = task.current_round
        state = self.zkpot.round(self.task_id, round_)
        if state.status != RoundStatus.OPEN or not state.revealed:
            return []
        done: list[str] = []
        to_check: list[tuple[VerifiedContribution, bytes]] = []
        for claim in contributions(self.zkpot, self.task_id, round_):
            if not claim.claimed or claim.verified or claim.struck:
                continue
            # A challenge may come after we checked the claim: look for one first
            # (only while the round has any open).
            if state.open_challenges and self._challenged(round_, claim.client):
                done += self._settle(task, state, claim, head)
                continue
            if (round_, claim.client) in self.checked or head > state.dispute_end:
                continue
            proof = self.fetch(claim)
            if proof is not None:
                to_check.append((claim, proof))
            elif head > state.dispute_end - self.challenge_margin:
                done += self._dispute(
                    task, claim, b"", "challenged (proof not available)"
                )
        verdicts = claims_hold(self.artifacts, to_check, task, state)
        for (claim, proof), holds in zip(to_check, verdicts, strict=True):
            if holds:
                self.checked.add((round_, claim.client))
            else:
                done += self._dispute(task, claim, proof, "disputed (invalid proof)")
        if any(verdicts):
            done.append(
                f"round {round_}: {sum(verdicts)} claim(s) verified off chain with ezkl"
            )
        return done

    def _challenged(self, round_: int, client: str) -> bool:
        """Whether `client`'s claim in `round_` is challenged and not yet settled."""
        challenger = self.zkpot.contribution(self.task_id, round_, client).challenger
        return challenger not in ("", ZERO_ADDRESS)

    def _dispute(
        self, task: TaskState, claim: VerifiedContribution, proof: bytes, what: str
    ) -> list[str]:
        try:
            self.zkpot.dispute(
                self.account,
                self.task_id,
                task.current_round,
                claim.client,
                proof,
                bond=task.dispute_bond,
            )
        except ContractRevertError as exc:
            return [
                f"round {task.current_round}: could not dispute {claim.client}: {exc}"
            ]
        return [f"round {task.current_round}: {what}: {claim.client}"]

    def _settle(
        self,
        task: TaskState,
        state: RoundState,
        claim: VerifiedContribution,
        head: int,
    ) -> list[str]:
        """Answer a challenge with bytes that hold (checked again only if this
        disputer has not checked them yet), or strike it once unanswerable."""
        r = task.current_round
        if head <= state.answer_end:
            proof = self.fetch(claim)
            if proof is None:
                return []
            known = (r, claim.client) in self.checked
            if (
                not known
                and not claims_hold(self.artifacts, [(claim, proof)], task, state)[0]
            ):
                return []
            what = f"round {r}: answered the challenge of {claim.client}"
        else:
            proof, what = (
                b"",
                f"round {r}: struck the unanswered claim of {claim.client}",
            )
        try:
            self.zkpot.settle_challenge(
                self.account, self.task_id, r, claim.client, proof
            )
        except ContractRevertError:
            return []  # someone else settled it first
        if proof:
            self.checked.add((r, claim.client))
        return [what]
