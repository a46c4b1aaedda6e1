#!/usr/bin/env python
"""Write docs/gas.md from forge: the gas of every external function of ZKPoT, its
circuit registry and ezkl's verifier, over the unit tests (which call each function
on its accepted and its rejected paths, with real ezkl proofs of the tiny circuit);
the gas of whole rounds in both verification modes for 4, 10 and 100 clients
(tests/forge/ZKPoTRoundGas.t.sol); and the same rounds under learning-based
consensus and PoW, computed from the assumptions the page states. The section
`## In the demo` and what follows it are kept as they are (measured by `zkpot demo`).

    .venv/bin/python scripts/gas_report.py
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import subprocess
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "gas.md"
DEMO_SECTION = "## In the demo"
CONTRACTS = {
    "contracts/ZKPoT.sol:ZKPoT": "ZKPoT",
    "tests/forge/harness/ZKPoTUncheckedAggregates.sol:ZKPoTUncheckedAggregates": (
        "ZKPoT without the aggregate check (the unit tests' harness)"
    ),
    "contracts/verifier/CircuitRegistry.sol:CircuitRegistry": "CircuitRegistry",
    "contracts/verifier/Halo2VerifierReusable.sol:Halo2VerifierReusable": "Halo2VerifierReusable (ezkl)",
}
UNIT_TESTS = "ZKPoTTest|ZKPoTOptimisticTest|ZKPoTAggregateTest"
ROUND_TESTS = "ZKPoTRoundGasTest"
CLIENTS = (4, 10, 100)
KINDS = ("commit", "submit", "reveal", "close", "publish", "claimReward")

# Assumptions of the comparison, stated on the page.
BLOCK_GAS = 36_000_000  # Ethereum mainnet's block gas limit in 2025
SSTORE_NEW = 22_100  # a fresh storage slot, cold (EIP-2929)
SSTORE_UPDATE = 5_000  # a cold, already set slot
SCORE_CALLDATA = 32 * 16  # one 32-byte score in calldata, nonzero bytes
TX_BASE = 21_000
POW_HASHRATE = 900e12  # H/s, Ethereum's Ethash network before the Merge (2022)
POW_BLOCK_TIME = 13.0  # s
POW_EFFICIENCY = 0.5e6  # H/J, a current GPU on Ethash
PROOF_SECONDS = 13.5  # the demo circuit's proof on 2 cores (docs/benchmarks.md)
MACHINE_WATTS = 65.0  # a desktop under full load on both cores

HEADER = """# Gas report

Everything on this page but the last section is written by
`.venv/bin/python scripts/gas_report.py` from forge, with real ezkl proofs of the
tests' circuit (8 evaluation samples): the proof and its verification cost the same
for the demo's 100-sample circuit (docs/benchmarks.md).

{meta}

## Two verification modes

A task chooses its mode when it is created (`TaskConfig.optimistic`):

- **immediate**: `submitProof` runs ezkl's verifier on every proof. A proof that
  fails is refused; the leader and the round's contributions root are updated as
  proofs arrive.
- **optimistic**: `submitClaim` checks the commitment's opening, the count's range
  and freshness as `submitProof` does, and records the proof's hash and its CID in
  the content store without verifying. The proof's bytes are not sent to the chain:
  under EIP-7623's calldata floor a 6.5 KB proof alone would cost about 280k gas. A
  dispute window of `disputeBlocks` follows the proof phase; anyone who posts
  `disputeBond` can have the verifier judge a claim (`dispute`), and a disputed
  claim whose bytes nobody brings is struck after an answer window of the same
  length (`settleChallenge`). `closeRound` then elects the leader from the
  contributions that stand. See docs/security.md for the trust assumption.

## Per round

Every transaction of round 1 of a task, for 4, 10 and 100 clients whose
contributions are all accepted (`tests/forge/ZKPoTRoundGas.t.sol`). Each
transaction is counted as a chain charges it: its execution, 21,000, and its
calldata under EIP-7623 (the larger of 4 gas per token plus execution and 10 per
token). Immediate rounds use one real proof per client and the tests' circuit has
11 accepted proofs on round 1's batch, so the 100-client immediate round is
computed from the 10-client one: no function of an immediate round loops over
clients. In an optimistic round, `closeRound` reads the standing list, so its cost
grows with the clients (measured at 100).

*Per contribution* is the issue's measure: the submission (`submitProof` or
`submitClaim`) plus its share of closing and finalising the round (`closeRound`,
`publishGlobalModel`); its targets are 1.45 M gas (immediate) and 300k
(optimistic), which the forge tests assert. *Whole round per contribution* adds
the commitments, the batch's reveal and the reward claims.

These rounds run on the unit tests' harness, ZKPoT without the aggregate check:
their *global model* column is `publishGlobalModel` without the aggregation
proof (a model named, not proven). The proof's verification comes on top, once
per round, whatever the number of clients in it up to the task's `maxClients`:
2.37 M gas with 4 slots on the tests' circuit (`ZKPoTAggregateTest`, below), and
per number of slots on the demo's model in docs/benchmarks.md (verified
aggregation). Shared among K accepted contributions it adds that divided by K to
each.

"""


def forge(*args: str) -> str:
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}
    return subprocess.run(
        ["forge", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout


def function_tables() -> list[str]:
    """The forge gas report of the unit tests, one table per contract."""
    # The JSON gas report is the last line; test results come before it.
    reports = json.loads(
        forge("test", "--match-contract", UNIT_TESTS, "--gas-report", "--json")
        .strip()
        .splitlines()[-1]
    )
    lines = [
        "## Per function",
        "",
        f"`forge test --match-contract '{UNIT_TESTS}' --gas-report`, the unit tests of",
        "`tests/forge/ZKPoT.t.sol` and `tests/forge/ZKPoTOptimistic.t.sol` (on the harness:",
        "ZKPoT without the aggregate check) and `tests/forge/ZKPoTAggregate.t.sol` (ZKPoT",
        "itself, with real aggregation proofs of 4 slots). These figures are",
        "execution only, without the transaction's 21,000 and its calldata. *Min* is",
        "usually a call that reverts at an early check; where the tests exercise more",
        "rejections than successes the *Median* is one too; *Max* is a successful path.",
        "`submitProof` and a `dispute` that brings the bytes are dominated by ezkl's",
        "`verifyProof`, which the registry calls with the key artefact copied from its",
        "data contract.",
    ]
    for report in reports:
        title = CONTRACTS.get(report["contract"])
        if title is None:
            continue
        d = report["deployment"]
        deployment = (
            f"Deployment: {d['gas']:,} gas, {d['size']:,} bytes of creation code."
            if d["gas"]
            else f"Deployed by ZKPoT's constructor (counted in its deployment); {d['size']:,} bytes of creation code."
        )
        lines += [
            "",
            f"### {title}",
            "",
            deployment,
            "",
            "| Function | Min | Median | Max | Calls |",
            "|---|---:|---:|---:|---:|",
        ]
        for sig, g in sorted(report["functions"].items()):
            lines.append(
                f"| {sig.split('(')[0]} | {g['min']:,} | {g['median']:,} | {g['max']:,} | {g['calls']} |"
            )
    return lines


def round_gas() -> dict[tuple[str, int], dict[str, int]]:
    """The gas the round tests log, per (mode, clients) and kind of transaction;
    the 100-client immediate round computed from the 10-client one."""
    out = forge("test", "--match-contract", ROUND_TESTS, "-vv")
    rounds: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)
    for mode, n, kind, gas in re.findall(r"round-gas (\w+) (\d+) (\w+) (\d+)", out):
        rounds[(mode, int(n))][kind] = int(gas)
    ten = rounds[("immediate", 10)]
    rounds[("immediate", 100)] = {
        k: ten[k] * 10 if k in ("commit", "submit", "claimReward") else ten[k]
        for k in KINDS
    }
    return rounds


def round_total(g: dict[str, int]) -> int:
    """Gas of every transaction of a round."""
    return sum(g[k] for k in KINDS)


def per_contribution(g: dict[str, int], n: int) -> int:
    return (g["submit"] + g["close"] + g["publish"]) // n


def round_tables(rounds: dict[tuple[str, int], dict[str, int]]) -> list[str]:
    lines = [
        "| mode | clients | commits | proofs or claims | reveal | close | global model | reward claims | round | per contribution | whole round per contribution |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mode in ("immediate", "optimistic"):
        for n in CLIENTS:
            g = rounds[(mode, n)]
            total = round_total(g)
            computed = " (computed)" if (mode, n) == ("immediate", 100) else ""
            lines.append(
                f"| {mode} | {n}{computed} | "
                + " | ".join(f"{g[k]:,}" for k in KINDS)
                + f" | {total:,} | {per_contribution(g, n):,} | {total // n:,} |"
            )
    return lines


def learning_based(n: int, post: int, reward: int) -> int:
    """Gas of a round of learning-based consensus among `n` clients, each also a
    validator: every client posts its model's hash (as a commit does), then every
    validator sends one vote with a score per model, tallied on chain (the first
    vote writes each model's tally, later ones update it), a close reads the `n`
    tallies to elect the leader, and every client claims its reward."""
    first_vote = TX_BASE + n * (SCORE_CALLDATA + SSTORE_NEW)
    later_vote = TX_BASE + n * (SCORE_CALLDATA + SSTORE_UPDATE)
    close = TX_BASE + 50_000 + n * 2_100
    return n * (post + reward) + first_vote + (n - 1) * later_vote + close


def comparison(rounds: dict[tuple[str, int], dict[str, int]]) -> list[str]:
    post = rounds[("immediate", 4)]["commit"] // 4
    reward = rounds[("immediate", 4)]["claimReward"] // 4
    pow_joules = POW_HASHRATE * POW_BLOCK_TIME / POW_EFFICIENCY
    proof_joules = PROOF_SECONDS * MACHINE_WATTS
    lines = [
        "## Against learning-based consensus and PoW",
        "",
        "The same round, its leader elected three ways. Computed from these assumptions:",
        "",
        "- **Learning-based consensus**: every client is also a validator (no trusted",
        "  committee, as in ZKPoT) and re-evaluates every other model, which it must be",
        "  sent: models and evaluation data are disclosed. On chain, each client posts",
        f"  its model's hash as a commit does ({post:,} gas, measured above), each",
        f"  validator sends one vote carrying one 32-byte score per model ({SCORE_CALLDATA}",
        "  gas of calldata each), tallied in storage: the first vote writes each model's",
        f"  tally ({SSTORE_NEW:,} gas), later ones update it ({SSTORE_UPDATE:,}); a close",
        "  reads the tallies (2,100 gas each, plus 50,000) and every client claims its",
        f"  reward as in ZKPoT ({reward:,} gas, measured above). Off chain: n × (n − 1)",
        "  evaluations of a model.",
        "- **PoW**: one block per round, on a network as secure as Ethereum's before",
        f"  the Merge: {POW_HASHRATE / 1e12:,.0f} TH/s for {POW_BLOCK_TIME:.0f} s, on GPUs",
        f"  at {POW_EFFICIENCY / 1e6:.1f} MH/J: {pow_joules / 3.6e9:,.1f} MWh per round, whatever",
        "  the clients. Recording the contributions costs at least what the commits do.",
        f"- **ZKPoT's off-chain work**: one proof per client, {PROOF_SECONDS} s on 2 cores",
        f"  for the demo circuit (docs/benchmarks.md), at {MACHINE_WATTS:.0f} W:",
        f"  {proof_joules / 3600:.2f} Wh per client. Nothing is disclosed.",
        f"- Blocks are Ethereum mainnet's {BLOCK_GAS / 1e6:.0f} M gas.",
        "",
        "| clients | ZKPoT immediate | ZKPoT optimistic | learning-based | PoW (gas to record) | ZKPoT proving energy | PoW energy |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in CLIENTS:
        imm = round_total(rounds[("immediate", n)])
        opt = round_total(rounds[("optimistic", n)])
        cells = [
            f"{g:,} gas ({g / BLOCK_GAS:.2f} blocks)"
            for g in (imm, opt, learning_based(n, post, reward), n * post)
        ]
        lines.append(
            f"| {n} | "
            + " | ".join(cells)
            + f" | {n * proof_joules / 3600:.1f} Wh | {pow_joules / 3.6e6:,.0f} kWh |"
        )
    cheaper = [
        n
        for n in CLIENTS
        if learning_based(n, post, reward) < round_total(rounds[("optimistic", n)])
    ]
    lines += [
        "",
        "Immediate ZKPoT pays for a pairing-based verification per contribution; the",
        "optimistic mode pays for it only when a claim is disputed, and then the",
        "cheater's stake pays the disputer. Learning-based consensus grows with the",
        "square of the clients"
        + (
            f" (it costs less gas than optimistic ZKPoT at {' and '.join(map(str, cheaper))} clients)"
            if cheaper
            else ""
        )
        + " and discloses every model; PoW's cost is set by the security wanted, not by",
        "the work the round rewards.",
    ]
    return lines


def main() -> None:
    version = forge("--version").splitlines()[0].replace(" Version:", "")
    runs = re.search(
        r"^optimizer_runs = (\d+)", (ROOT / "foundry.toml").read_text(), re.M
    )
    meta = (
        f"{version}, solc 0.8.20 (optimizer, {runs.group(1) if runs else '?'} runs), "
        f"{datetime.date.today().isoformat()}, {platform.machine()}."
    )
    rounds = round_gas()
    lines = [HEADER.format(meta=meta).rstrip(), ""]
    lines += round_tables(rounds) + [""] + comparison(rounds) + [""] + function_tables()
    kept = ""
    if OUT.exists() and DEMO_SECTION in OUT.read_text():
        text = OUT.read_text()
        kept = "\n" + text[text.index(DEMO_SECTION) :]
    OUT.write_text("\n".join(lines) + "\n" + kept)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
