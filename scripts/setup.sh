#!/usr/bin/env bash
# Install everything ZKPoT needs into this checkout: a Python virtual environment
# (.venv) with pinned packages, the pinned npm toolchain (solc-js, anvil, forge,
# cast, js-ipfs) in node_modules/, Debian's chromium and chromium-driver (apt, when
# missing), and the solc command-line wrapper where py-solc-x, ape,
# forge and ezkl look for solc 0.8.20; then the contracts' ABI and bytecode into
# the package. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

python=${PYTHON:-python3}
command -v "$python" >/dev/null || die "python3 not found (Python 3.11 is required)"
"$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || die "Python 3.11 is required, found $("$python" --version 2>&1)"
command -v node >/dev/null || die "node not found (Node.js 18 or newer is required)"
command -v npm >/dev/null || die "npm not found"

# ---------------------------------------------------------------- Python
stamp_py=.venv/.zkpot-requirements
want_py=$(cat requirements.txt constraints.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$python" -m venv .venv
fi
if [ "$(cat "$stamp_py" 2>/dev/null)" != "$want_py" ]; then
  say "installing Python packages (torch CPU build first, then the pinned rest)"
  .venv/bin/python -m pip install --quiet torch==2.13.0
  .venv/bin/python -m pip install --quiet -r requirements.txt -c constraints.txt
  # the editable build's own warnings are noise here; show them only on failure
  .venv/bin/python -m pip install --quiet --no-deps -e . >.venv/.zkpot-editable.log 2>&1 \
    || { cat .venv/.zkpot-editable.log >&2; die "installing the zkpot package failed"; }
  echo "$want_py" > "$stamp_py"
else
  say "Python packages up to date"
fi

# ---------------------------------------------------------------- npm toolchain
stamp_npm=node_modules/.zkpot-packages
want_npm=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp_npm" 2>/dev/null)" != "$want_npm" ]; then
  say "installing npm toolchain (solc-js 0.8.20, anvil, forge, cast, js-ipfs)"
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
  want_npm=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
  echo "$want_npm" > "$stamp_npm"
else
  say "npm toolchain up to date"
fi

# ---------------------------------------------------------------- Chromium for the dashboard test
# tests/test_dashboard.py looks at `zkpot dashboard` in headless Chromium, driven
# through Debian's chromium and chromium-driver; installed with apt when missing.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  say "installing Debian's chromium and chromium-driver (for the dashboard test)"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  { $sudo apt-get update -qq \
    && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends chromium chromium-driver >/dev/null; } \
    || die "installing chromium and chromium-driver with apt failed"
fi
chromedriver --version >/dev/null || die "chromedriver does not run"

# ---------------------------------------------------------------- solc wrapper and binaries
link() {  # link TARGET NAME: make NAME a symlink to TARGET unless it already is
  mkdir -p "$(dirname "$2")"
  [ "$(readlink "$2" 2>/dev/null)" = "$1" ] || ln -sfn "$1" "$2"
}
wrapper="$root/scripts/bin/solc"
# ezkl finds solc only at $HOME/.svm/<version>/; zkpot runs ezkl with HOME set here.
link "$wrapper" "$root/.venv/ezkl-home/.svm/0.8.20/solc-0.8.20"
link "$wrapper" "$root/.venv/bin/solc"            # py-solc-x (given this path), forge, anything on PATH
link "$wrapper" "$root/.venv/solcx/solc-v0.8.20"  # ape-solidity looks in py-solc-x's install folder:
link "$wrapper" "$HOME/.solcx/solc-v0.8.20"       # scripts/test.sh points it here, a bare `ape` uses ~/.solcx
for tool in anvil forge cast; do
  link "$root/node_modules/@foundry-rs/$tool-linux-amd64/bin/$tool" "$root/.venv/bin/$tool"
done

.venv/bin/solc --version | grep -q "Version: 0.8.20" || die "the solc wrapper does not answer"
.venv/bin/anvil --version >/dev/null || die "anvil does not run"
.venv/bin/python -c "import torch, ezkl, web3, eth_tester, solcx, nacl, multiformats" \
  || die "a Python package does not import"

# ---------------------------------------------------------------- IPFS node
# js-ipfs (npm `ipfs`, pinned in package.json) is an IPFS node whose daemon serves
# the Kubo RPC API: zkpot_client/ipfs_node.py runs it on loopback for the IPFS
# content store (`--store http://...`) and its tests.
link "$root/node_modules/ipfs/src/cli.js" "$root/.venv/bin/jsipfs"
jsipfs_help=$(NO_UPDATE_NOTIFIER=1 .venv/bin/jsipfs --help 2>&1) && [[ $jsipfs_help == *daemon* ]] \
  || die "js-ipfs (jsipfs) does not run"

# ---------------------------------------------------------------- compiled contracts
# The package ships ZKPoT's and the verifier's ABI and bytecode (read at run time,
# so no role needs the compiler); rebuilt here from contracts/ when they changed.
say "compiling the contracts into the package"
PATH="$root/.venv/bin:$PATH" .venv/bin/python -m zkpot_client.chain.artefacts \
  || die "compiling the contracts failed"
say "ready: .venv/bin/zkpot demo   |   ./scripts/test.sh"
