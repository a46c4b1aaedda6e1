#!/usr/bin/env python
"""Write docs/gas.md: the gas of every external function of ZKPoT and of ezkl's
verifier, measured by forge over the unit tests (which call each function on its
accepted and its rejected paths, with real ezkl proofs of the tiny circuit).

    .venv/bin/python scripts/gas_report.py
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "gas.md"
CONTRACTS = {
    "contracts/ZKPoT.sol:ZKPoT": "ZKPoT",
    "contracts/verifier/Halo2VerifierReusable.sol:Halo2VerifierReusable": "Halo2VerifierReusable (ezkl)",
}

HEADER = """# Gas report

Measured by `forge test --match-contract ZKPoTTest --gas-report` over the unit
tests in `tests/forge/ZKPoT.t.sol`, which call every external function on its
accepted and its rejected paths, with real ezkl proofs of the tests' circuit (8
evaluation samples). Regenerate with `.venv/bin/python scripts/gas_report.py`.

*Min* is usually a call that reverts at an early check; where the tests exercise
more rejections than successes the *Median* is one too; *Max* is a successful
path (for `createTask`, `commit` and `register` the median is the common case).

`submitProof` is dominated by the on-chain verification of the proof (ezkl's
`verifyProof`, called with `staticcall`); its cost does not depend on the number
of evaluation samples (the demo's 100-sample circuit costs the same, see
docs/benchmarks.md). No function loops over clients or rounds, so no cost grows
with the number of clients.

{meta}

"""


def main() -> None:
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}
    out = subprocess.run(
        ["forge", "test", "--match-contract", "ZKPoTTest", "--gas-report", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    # The JSON gas report is the last line; test results come before it.
    reports = json.loads(out.stdout.strip().splitlines()[-1])
    forge = (
        subprocess.run(
            ["forge", "--version"], env=env, capture_output=True, text=True, check=True
        )
        .stdout.splitlines()[0]
        .replace(" Version:", "")
    )
    runs = re.search(
        r"^optimizer_runs = (\d+)", (ROOT / "foundry.toml").read_text(), re.M
    )
    meta = (
        f"{forge}, solc 0.8.20 (optimizer, {runs.group(1) if runs else '?'} runs), "
        f"{datetime.date.today().isoformat()}, {platform.machine()}."
    )
    lines = [HEADER.format(meta=meta).rstrip() + "\n"]
    for report in reports:
        title = CONTRACTS.get(report["contract"])
        if title is None:
            continue
        d = report["deployment"]
        lines += [
            f"\n## {title}\n",
            f"Deployment: {d['gas']:,} gas, {d['size']:,} bytes of creation code.\n",
            "| Function | Min | Median | Max | Calls |",
            "|---|---:|---:|---:|---:|",
        ]
        for sig, g in sorted(report["functions"].items()):
            name = sig.split("(")[0]
            lines.append(
                f"| {name} | {g['min']:,} | {g['median']:,} | {g['max']:,} | {g['calls']} |"
            )
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
