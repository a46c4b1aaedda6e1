"""The task's chain of round records ("ZKPoT blocks"), rebuilt and checked from
events alone.

Each finalised round emits its record in full (RoundRecorded); the contract stores
only the hashes. `verify_record_chain` re-hashes every record, checks that each
names its predecessor's hash and that the stored hashes agree, and re-derives each
record's summary (contributions root, accepted count, leader) from the round's
ContributionVerified events, so a reader trusts neither the contract's storage nor
any client's memory: only the event log and keccak.
"""

from __future__ import annotations

from dataclasses import astuple
from typing import Any

from eth_abi import encode
from web3 import Web3

from ..exceptions import RecordChainError
from ..types import RoundRecord, VerifiedContribution
from .contracts import ZKPoTContract, from_abi
from .events import ZERO_ADDRESS, contributions, logs, revealed_batch, round_schedule

RECORD_TYPE = "(uint256,uint32,bytes32,address,uint32,uint32,bytes32,bytes32,string,address,bytes32)"
ZERO32 = bytes(32)


def record_hash(record: RoundRecord) -> bytes:
    """keccak256(abi.encode(record)), as the contract chains it."""
    return bytes(Web3.keccak(encode([RECORD_TYPE], [astuple(record)])))


def record_from_event(record: Any) -> RoundRecord:
    """A RoundRecord from a RoundRecorded event's `record` argument."""
    return from_abi(RoundRecord, record)


def contributions_root(accepted: list[VerifiedContribution]) -> bytes:
    """The fold r = keccak256(abi.encode(r, client, weightsHash, correct)) from r = 0,
    over accepted contributions in the order they were verified."""
    root = ZERO32
    for c in accepted:
        root = bytes(
            Web3.keccak(
                encode(
                    ["bytes32", "address", "bytes32", "uint32"],
                    [
                        root,
                        Web3.to_checksum_address(c.client),
                        c.weights_hash.to_bytes(32, "big"),
                        c.correct,
                    ],
                )
            )
        )
    return root


def tie_break_key(seed: bytes, client: str) -> bytes:
    """keccak256(abi.encode(seed, client)): among equal counts the lowest key leads."""
    return bytes(
        Web3.keccak(
            encode(["bytes32", "address"], [seed, Web3.to_checksum_address(client)])
        )
    )


def elect_leader(accepted: list[VerifiedContribution], seed: bytes) -> tuple[str, int]:
    """The leader by the contract's rule: the highest count, then the lowest
    tie-break key under the round's seed."""
    if not accepted:
        return ZERO_ADDRESS, 0
    best = min(accepted, key=lambda c: (-c.correct, tie_break_key(seed, c.client)))
    return Web3.to_checksum_address(best.client), best.correct


def expected_tie_break_seed(
    zkpot: ZKPoTContract, task_id: int, round_: int, reveal_block: int
) -> bytes:
    """The seed the contract draws when a round's batch is revealed (mined in
    `reveal_block`): keccak256(abi.encode(h, taskId, round)) where h is the hash of
    the round's commit-end block, or of the block before the reveal when the commit
    end was more than 256 blocks back."""
    commit_end = round_schedule(zkpot, task_id, round_).commit_end
    source = commit_end if reveal_block - commit_end <= 256 else reveal_block - 1
    block_hash = bytes(zkpot.chain.w3.eth.get_block(source)["hash"])
    return bytes(
        Web3.keccak(
            encode(["bytes32", "uint256", "uint256"], [block_hash, task_id, round_])
        )
    )


def verify_record_chain(zkpot: ZKPoTContract, task_id: int) -> list[RoundRecord]:
    """The task's records, from its RoundRecorded events, after checking that they
    link, that the contract stores the same hashes, and that each summarises its
    round's verified contributions. Raises RecordChainError on any disagreement."""
    events = logs(zkpot, "RoundRecorded", task_id)
    if not events:
        raise RecordChainError(f"task {task_id} has no records")
    records: list[RoundRecord] = []
    prev = ZERO32
    for number, event in enumerate(events):
        record = record_from_event(event["args"]["record"])
        where = f"task {task_id}, record {number}"
        if record.task_id != task_id or record.round != number:
            raise RecordChainError(f"{where}: numbered round {record.round}")
        if record.prev_record_hash != prev:
            raise RecordChainError(f"{where}: does not link to the previous record")
        if bytes(event["args"]["recordHash"]) != record_hash(record):
            raise RecordChainError(f"{where}: emitted hash is not the record's hash")
        if zkpot.record_hash(task_id, number) != record_hash(record):
            raise RecordChainError(f"{where}: the contract stores another hash")
        if number > 0:
            _check_summary(zkpot, record, where)
            published = record.aggregator != ZERO_ADDRESS
            if published != (record.aggregation_proof_hash != ZERO32):
                raise RecordChainError(
                    f"{where}: a global model published without an aggregation proof, "
                    "or a kept one with one"
                )
        records.append(record)
        prev = record_hash(record)
    if zkpot.task(task_id).head_record != prev:
        raise RecordChainError(
            f"task {task_id}: the chain's head is not the last record"
        )
    return records


def _check_summary(zkpot: ZKPoTContract, record: RoundRecord, where: str) -> None:
    accepted = [
        c for c in contributions(zkpot, record.task_id, record.round) if c.accepted
    ]
    if record.accepted_count != len(accepted):
        raise RecordChainError(
            f"{where}: {record.accepted_count} accepted, events show {len(accepted)}"
        )
    if record.contributions_root != contributions_root(accepted):
        raise RecordChainError(f"{where}: contributions root does not match events")
    if not accepted:
        if (record.leader, record.leader_correct) != (ZERO_ADDRESS, 0):
            raise RecordChainError(f"{where}: a leader without accepted contributions")
        return
    closed = logs(zkpot, "RoundClosed", record.task_id, round=record.round)
    seed = bytes(closed[-1]["args"]["tieBreakSeed"]) if closed else bytes(32)
    batch = revealed_batch(zkpot, record.task_id, record.round)
    if batch is None or seed != expected_tie_break_seed(
        zkpot, record.task_id, record.round, batch.block_number
    ):
        raise RecordChainError(f"{where}: the tie-break seed is not the block hash's")
    if (record.leader, record.leader_correct) != elect_leader(accepted, seed):
        raise RecordChainError(f"{where}: leader is not the best accepted contribution")
