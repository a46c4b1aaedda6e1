"""A run's per-round summary, built from what the chain recorded.

The outcome of each round comes from contract events (chain.events); what never
reaches the chain is added by whoever knows it: the clients' names, their
proving times, and the global model's accuracy on the evaluation set. The
typed RoundSummary is what every report shows and every JSON file holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .chain.contracts import ZKPoTContract
from .chain.events import round_outcomes
from .crypto import weights_from_bytes
from .storage import ContentStore
from .types import ContributionSummary, RoundOutcome, RoundSummary

ProveSeconds = Mapping[tuple[int, str], float]
"""(round, client address) -> seconds its proof took."""


def summarise_round(
    outcome: RoundOutcome,
    eval_samples: int,
    *,
    names: Mapping[str, str] | None = None,
    prove_seconds: ProveSeconds | None = None,
    global_accuracy: float | None = None,
) -> RoundSummary:
    """A round's summary from its on-chain outcome, with names, proving times and
    the global model's accuracy when the caller knows them."""
    names, prove_seconds = names or {}, prove_seconds or {}

    def seconds(client: str) -> float | None:
        value = prove_seconds.get((outcome.round, client))
        return None if value is None else round(value, 2)

    return RoundSummary(
        round=outcome.round,
        batch_cid=None if outcome.batch is None else outcome.batch.batch_cid,
        leader=outcome.leader,
        leader_bonus_wei=outcome.leader_bonus,
        contributions=tuple(
            ContributionSummary(
                client=c.client,
                name=names.get(c.client, c.client),
                correct=c.correct,
                accuracy=c.correct / eval_samples,
                accepted=c.accepted,
                reward_wei=outcome.reward_of(c),
                gas_used=c.gas_used,
                prove_seconds=seconds(c.client),
            )
            for c in outcome.contributions
        ),
        global_accuracy=global_accuracy,
        global_model_cid=outcome.global_model_cid,
        global_model_by_aggregator=outcome.aggregator is not None,
        finalisation_gas=outcome.finalisation_gas,
        aggregation_proof_hash=None
        if outcome.aggregation_proof_hash is None
        else "0x" + outcome.aggregation_proof_hash.hex(),
    )


def summarise_task(
    zkpot: ZKPoTContract,
    task_id: int,
    eval_samples: int,
    *,
    store: ContentStore | None = None,
    accuracy: Callable[[np.ndarray], float] | None = None,
    names: Mapping[str, str] | None = None,
    prove_seconds: ProveSeconds | None = None,
    only_round: int | None = None,
    with_gas: bool = True,
) -> list[RoundSummary]:
    """The summary of every round of the task so far (or only `only_round`), read
    from events; with a content store and an `accuracy` function, the accuracy of
    each published global model."""
    summaries = []
    for outcome in round_outcomes(zkpot, task_id, only_round, with_gas=with_gas):
        global_accuracy = None
        if store is not None and accuracy is not None and outcome.global_model_cid:
            global_accuracy = accuracy(
                weights_from_bytes(store.get(outcome.global_model_cid))
            )
        summaries.append(
            summarise_round(
                outcome,
                eval_samples,
                names=names,
                prove_seconds=prove_seconds,
                global_accuracy=global_accuracy,
            )
        )
    return summaries


def rounds_json(rounds: Sequence[RoundSummary]) -> list[dict[str, Any]]:
    """Rounds as `--json` writes them."""
    return [r.to_json() for r in rounds]
