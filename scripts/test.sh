#!/usr/bin/env bash
# Run the whole test suite: unit tests, the circuit's fidelity, the contract tests
# with real ezkl proofs on eth-tester and on an anvil node started on loopback, and
# the end-to-end demo at reduced size. Keys, SRS and test proofs are cached by
# circuit digest ($ZKPOT_CACHE, default ~/.cache/zkpot), so re-runs are fast.
# Two workers (pytest-xdist; ZKPOT_TEST_WORKERS to change, 0 for none): one
# module per worker at a time, and every proof takes one machine-wide prover
# slot, so two provers never run at once.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "run ./scripts/setup.sh first" >&2; exit 1; }
export PATH="$PWD/.venv/bin:$PATH"
export SOLCX_BINARY_PATH="$PWD/.venv/solcx"  # this checkout's solc wrapper, for ape
exec .venv/bin/python -m pytest -n "${ZKPOT_TEST_WORKERS:-2}" --dist loadgroup "$@"
