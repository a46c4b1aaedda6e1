"""ape fixtures: the project's contracts deployed on ape's network (the local test
network, or anvil through ape-foundry), with the committed real ezkl proofs of
tests/fixtures/tiny-proofs.json (scripts/make_proof_fixtures.py writes them)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_utils import keccak

FIXTURE = (
    Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tiny-proofs.json"
)
ETHER = 10**18
STAKE = ETHER // 10
POOL = 2 * ETHER
BOND = ETHER


@dataclass(frozen=True)
class FixtureProof:
    name: str
    proof: bytes
    weights_hash: bytes
    correct: int


@dataclass(frozen=True)
class FixtureAggregate:
    """A real proof of the tiny task's aggregation circuit (4 slots)."""

    proof: bytes
    instances: list[int]
    model_hash: bytes


@dataclass(frozen=True)
class Proofs:
    vka: list[bytes]
    vka_digest: bytes
    aggregation_vka: list[bytes]
    aggregation_vka_digest: bytes
    aggregates: dict[str, FixtureAggregate]
    eval_samples: int
    min_correct: int
    by_name: dict[str, FixtureProof]
    batch: bytes
    """The batch commitment the proofs begin with (the tiny task's round-1 batch)."""


@pytest.fixture(scope="session")
def proofs() -> Proofs:
    data = json.loads(FIXTURE.read_text())
    return Proofs(
        vka=[bytes.fromhex(w[2:]) for w in data["vka"]],
        vka_digest=bytes.fromhex(data["vkaDigest"][2:]),
        aggregation_vka=[bytes.fromhex(w[2:]) for w in data["aggregation"]["vka"]],
        aggregation_vka_digest=bytes.fromhex(data["aggregation"]["vkaDigest"][2:]),
        aggregates={
            a["name"]: FixtureAggregate(
                bytes.fromhex(a["proof"][2:]),
                [int(i) for i in a["instances"]],
                bytes.fromhex(a["modelHash"][2:]),
            )
            for a in data["aggregation"]["aggregates"]
        },
        eval_samples=data["evalSamples"],
        min_correct=data["minCorrect"],
        by_name={
            p["name"]: FixtureProof(
                p["name"],
                bytes.fromhex(p["proof"][2:]),
                bytes.fromhex(p["weightsHash"][2:]),
                p["correct"],
            )
            for p in data["proofs"]
        },
        batch=bytes.fromhex(data["batchCommitments"][0][2:]),
    )


def batch_salt(round_: int) -> bytes:
    return keccak(f"batch salt {round_}".encode())


def sealed_batch(batch: bytes, round_: int) -> bytes:
    """The task's commitment to a round's batch: keccak256(abi.encode(digest, salt))."""
    return keccak(keccak(batch) + batch_salt(round_))


@pytest.fixture(scope="session")
def publisher(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def aggregator(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def clients(accounts):
    return [accounts[i] for i in range(2, 6)]


@pytest.fixture(scope="session")
def verifier(project, publisher):
    return project.Halo2VerifierReusable.deploy(sender=publisher)


@pytest.fixture
def zkpot(project, publisher, verifier, proofs):
    z = project.ZKPoT.deploy(verifier, sender=publisher)
    # Each artefact is checked canonical, then registered on the verifier.
    z.registerCircuit(proofs.vka, sender=publisher)
    z.registerCircuit(proofs.aggregation_vka, sender=publisher)
    return z


def task_config(aggregator, proofs: Proofs, **overrides) -> dict:
    config = {
        "vkaDigest": proofs.vka_digest,
        "aggregationVkaDigest": proofs.aggregation_vka_digest,
        "aggregator": aggregator.address,
        "aggregatorKey": b"\x01" * 32,
        "evalSamples": proofs.eval_samples,
        "minCorrect": proofs.min_correct,
        "maxClients": 4,
        "numRounds": 2,
        "registrationBlocks": 6,
        "commitBlocks": 5,
        "revealBlocks": 3,
        "proofBlocks": 10,
        "aggregateBlocks": 3,
        "optimistic": False,
        "disputeBlocks": 0,
        "leaderShareBps": 2_000,
        "minStake": STAKE,
        "missedProofPenalty": STAKE // 2,
        "aggregatorBond": BOND,
        "aggregatorPenalty": BOND // 4,
        "disputeBond": 0,
        "initialModelHash": b"\x07" * 32,
        "initialModelCid": "bafkreiinitial",
        "circuitCid": "bafkreicircuit",
        "batchCommitments": [sealed_batch(proofs.batch, r) for r in (1, 2)],
    }
    config.update(overrides)
    return config
