"""`zkpot client`: a federated-learning client as a process.

The process registers, then follows the task round by round from the chain:
train and commit in the commit phase, prove (holding a prover slot), submit in
the proof phase once the publisher revealed the round's evaluation batch (checked
against the chain first), and help close or finalise a round that is due. It keeps each
round's contribution in its state directory before committing, so a restarted
client picks up where it stopped. In an optimistic task it checks every claim of
the round off chain and disputes the invalid ones (see `roles.disputer`).

A client whose stake fell below the task's minimum (a proof that landed after
its phase, on a busy machine) tops it up before its next commitment and takes
part again; told not to (`top_up=False`), it says so, takes its rewards and stake
back and ends with status 0. At the end it claims its rewards and takes its stake
and credit back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..chain.backend import TRANSIENT_ERRORS
from ..circuit.keys import CircuitArtifacts
from ..circuit.slots import besides_machine_slots, prover_slot
from ..exceptions import BatchMismatchError, ContractRevertError, ZKPoTValueError
from ..paths import write_atomically
from ..phases import awaited, is_past, phase_at
from ..roles.client import Client
from ..roles.disputer import Disputer
from ..types import ETHER, Phase, RoundState, RoundStatus
from .common import RoleContext
from .keeper import check_claims, keep_round

# A round's stages, as far as this client is concerned.
NEW, COMMITTED, PROVED, DONE = "new", "committed", "proved", "done"
#: Blocks after the proof phase a client leaves the aggregator to close the round.
CLOSE_GRACE_BLOCKS = 3


PROVE_SECONDS = "prove-seconds.json"
"""File in a client's state directory: round -> seconds its proof took."""


@dataclass(kw_only=True)
class ClientProcess:
    ctx: RoleContext
    client: Client
    artifacts: CircuitArtifacts
    slot_dir: Path | None = None
    slots: int = 1
    disputer: Disputer | None = None
    """Checks the round's optimistic claims (None: this client does not)."""
    top_up: bool = True
    """Top the stake up to the minimum when a penalty took it below."""
    stages: dict[int, str] = field(default_factory=dict)
    quitting: bool = False
    """Set when the stake fell below the minimum and `top_up` is off."""
    waiting: str = ""
    """What this client last said it waits for."""

    def run(self) -> int:
        ctx, c = self.ctx, self.client
        for r, state, head in ctx.rounds():
            if self.quitting:
                break
            check_claims(ctx, self.disputer, head)
            if (
                state.status == RoundStatus.OPEN
                and phase_at(state, head) != Phase.REGISTRATION
            ):
                try:
                    self.step(r, state, head)
                except TRANSIENT_ERRORS as exc:
                    # The node went away mid-step: whatever reached the chain is
                    # read back (and the rest redone) once it answers again.
                    ctx.log(
                        f"round {r}: node unreachable mid-step ({type(exc).__name__})"
                    )
                    self.stages.pop(r, None)
            keep_round(
                ctx, c.account, r, state, ctx.head(), grace_blocks=CLOSE_GRACE_BLOCKS
            )
            self.say_what_is_awaited(r, state, head)
        self.finish()
        return 0

    def say_what_is_awaited(self, r: int, state: RoundState, head: int) -> None:
        """While this client has nothing to do in round `r` (before the round
        opens, waiting for the batch's reveal, done with the round), log once per
        phase what the round waits for and until which block."""
        opening = phase_at(state, head) == Phase.REGISTRATION
        if self.stages.get(r, NEW if opening else "") not in (NEW, COMMITTED, DONE):
            return
        what = awaited(state, head, revealed=state.revealed)
        if what != self.waiting:
            self.waiting = what
            self.ctx.log(f"round {r}: waiting for {what} (now {head})")

    def step(self, r: int, state: RoundState, head: int) -> None:
        """Advance this client's part of round `r` as far as the chain allows."""
        ctx, c = self.ctx, self.client
        stage = self.stages.get(r) or self.resume(r)
        if stage == NEW:
            if is_past(state, Phase.COMMIT, head):
                ctx.log(f"round {r}: joined after the commit phase, sitting it out")
                stage = DONE
            else:
                stage = self.commit(r)
        if stage == COMMITTED:
            stage = self.prove(r, state, head)
        if stage == PROVED:
            head = ctx.head()
            if is_past(state, Phase.PROVE, head):
                ctx.log(
                    f"round {r}: the proof phase ended before submission (the stake pays for it)"
                )
                stage = DONE
            elif is_past(state, Phase.COMMIT, head):
                try:
                    c.submit(ctx.task)
                    ctx.log(f"round {r}: submitted")
                except ContractRevertError as exc:
                    ctx.log(f"round {r}: submission refused: {exc}")
                stage = DONE
        self.stages[r] = stage

    def prove(self, r: int, state: RoundState, head: int) -> str:
        """Once the round's batch is revealed, check it and prove on it (holding a
        prover slot). A batch not revealed in its window, or one that does not match
        the chain, leaves nothing to prove."""
        ctx, c = self.ctx, self.client
        if not state.revealed:
            if not is_past(state, Phase.REVEAL, head):
                return COMMITTED  # the publisher has until the end of the window
            ctx.log(
                f"round {r}: the publisher missed its reveal; nothing to prove "
                "(its bond compensates committed clients)"
            )
            return DONE
        try:
            with prover_slot(besides_machine_slots(self.slot_dir), self.slots):
                proof = c.prove(ctx.task, self.artifacts)
        except BatchMismatchError as exc:
            ctx.log(f"round {r}: {exc}")
            return DONE
        if proof is not None:
            ctx.log(
                f"round {r}: proved count {proof.correct} in {proof.prove_seconds:.1f} s"
            )
            self.record_prove_seconds(r, proof.prove_seconds)
        return PROVED

    def stake_shortfall(self, r: int) -> int:
        """Wei the stake lacks to commit in round `r`: below the minimum after any
        penalty still to be taken for a missed proof of an earlier round (none for
        an account that is not a member: the contract says why it cannot commit)."""
        ctx, c = self.ctx, self.client
        terms = ctx.task.terms
        m = ctx.call(ctx.zkpot.member, ctx.task_id, c.address)
        if not m.registered:
            return 0
        due = (
            m.pending_round != 0
            and m.pending_round < r
            and ctx.call(ctx.zkpot.round, ctx.task_id, m.pending_round).revealed
        )
        stake = m.stake - (min(terms.missed_proof_penalty, m.stake) if due else 0)
        return max(0, terms.min_stake - stake)

    def ensure_stake(self, r: int) -> bool:
        """Before committing in round `r`: top the stake up to the minimum if a
        penalty took it below (or, told not to, stop taking part)."""
        ctx, c = self.ctx, self.client
        lacking = self.stake_shortfall(r)
        if lacking == 0:
            return True
        if not self.top_up:
            ctx.log(
                f"round {r}: the stake is {lacking / ETHER:g} ETH below the task's "
                "minimum after a penalty, and topping up is off (--no-top-up): "
                "leaving the task"
            )
            self.quitting = True
            return False
        try:
            ctx.call(ctx.zkpot.top_up_stake, c.account, ctx.task_id, lacking)
        except (ContractRevertError, ValueError) as exc:
            ctx.log(f"round {r}: could not top the stake up ({exc}); sitting it out")
            return False
        ctx.log(
            f"round {r}: topped the stake up by {lacking / ETHER:g} ETH to the minimum "
            "after a penalty; taking part again"
        )
        return True

    def commit(self, r: int) -> str:
        """Train and commit; a commitment the contract or the client's own checks
        refuse (too late after training, not eligible, weights already public) means
        sitting the round out, not the end of the process."""
        ctx, c = self.ctx, self.client
        if not self.ensure_stake(r):
            return DONE
        try:
            c.contribute(ctx.task, r)
        except (ContractRevertError, ZKPoTValueError) as exc:
            ctx.log(f"round {r}: commitment refused ({exc}); sitting this round out")
            return DONE
        if c.current is None:
            ctx.log(f"round {r}: nothing to commit; sitting this round out")
            return DONE
        ctx.log(f"round {r}: committed")
        return COMMITTED

    def resume(self, r: int) -> str:
        """Where this client stands in round `r`, from the chain and its state directory."""
        ctx, c = self.ctx, self.client
        mine = ctx.call(ctx.zkpot.contribution, ctx.task_id, r, c.address)
        if mine.submitted:
            return DONE
        if mine.commitment == bytes(32):
            return NEW
        saved = c.resume(ctx.task, r)
        if saved is None:
            ctx.log(
                f"round {r}: committed earlier, but the opening is lost; sitting it out"
            )
            return DONE
        ctx.log(f"round {r}: resuming the saved contribution")
        return PROVED if saved.proof is not None else COMMITTED

    def record_prove_seconds(self, r: int, seconds: float) -> None:
        """Keep proving times (which never reach the chain) for the run's report."""
        if self.client.state_dir is None:
            return
        path = self.client.state_dir / PROVE_SECONDS
        times = json.loads(path.read_text()) if path.is_file() else {}
        times[str(r)] = round(seconds, 2)
        write_atomically(path, json.dumps(times))

    def finish(self) -> None:
        ctx, c = self.ctx, self.client
        claimed = ctx.call(c.claim_rewards, ctx.task)
        received = ctx.call(c.leave, ctx.task)
        ctx.log(
            f"task over: claimed {claimed / ETHER:g} ETH in rewards, withdrew {received / ETHER:g} ETH"
        )
