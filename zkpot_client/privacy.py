"""Looking for weights and training samples in everything a run made public.

The chain of a run is its calldata, its event logs and its contract storage. A
leak of a model or a sample would show up there in some encoding: float32 or
float64 bytes, the circuit's fixed-point field elements (little-endian as ezkl
writes them, big-endian as the EVM holds words), or digit pixels as bytes.
Needles are runs of consecutive values, never single values: one weight's four
bytes turn up by chance in a megabyte of proofs, eight consecutive ones do not.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .chain.backend import Chain
from .circuit.commitment import weights_felts

#: Consecutive values per needle.
RUN = 8


def weight_needles(flat: np.ndarray, scale: int, label: str) -> dict[str, bytes]:
    """Needles for runs of `RUN` consecutive weights, in every encoding."""
    flat = np.asarray(flat, dtype=np.float32).reshape(-1)
    felts = [bytes.fromhex(f.removeprefix("0x")) for f in weights_felts(flat, scale)]
    needles = {}
    for start in range(0, len(flat) - RUN + 1, RUN):
        run = flat[start : start + RUN]
        if np.count_nonzero(run) < RUN // 2:
            continue
        where = f"{label}[{start}:{start + RUN}]"
        needles[f"{where} float32"] = run.tobytes()
        needles[f"{where} float64"] = run.astype(np.float64).tobytes()
        needles[f"{where} felt-le"] = b"".join(felts[start : start + RUN])
        needles[f"{where} felt-be"] = b"".join(
            f[::-1] for f in felts[start : start + RUN]
        )
    return needles


def sample_needles(x: np.ndarray, label: str) -> dict[str, bytes]:
    """Needles for each sample (a digit image, pixels in [0, 1]): the whole row and
    its first run of `RUN` pixels with at least half of them lit."""
    needles = {}
    for i, row in enumerate(np.asarray(x, dtype=np.float32)):
        where = f"{label}#{i}"
        needles[f"{where} float32"] = row.tobytes()
        needles[f"{where} float64"] = row.astype(np.float64).tobytes()
        needles[f"{where} pixels"] = np.round(row * 16).astype(np.uint8).tobytes()
        for start in range(0, len(row) - RUN + 1):
            run = row[start : start + RUN]
            if np.count_nonzero(run) >= RUN // 2:
                needles[f"{where}[{start}:] float32"] = run.tobytes()
                break
    return needles


def find(haystack: bytes, needles: dict[str, bytes]) -> list[str]:
    """Labels of the needles found in `haystack`."""
    return [label for label, needle in needles.items() if needle in haystack]


def chain_haystack(chain: Chain, state_file: Path | None = None) -> dict[str, bytes]:
    """Everything a node shows the world: every transaction's calldata, every log's
    topics and data, and (from an anvil state dump) every contract's storage."""
    w3 = chain.w3
    calldata, events = bytearray(), bytearray()
    for n in range(w3.eth.block_number + 1):
        for tx in w3.eth.get_block(n, full_transactions=True)["transactions"]:
            calldata += bytes(tx["input"])
    for log in w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest"}):
        events += b"".join(bytes(t) for t in log["topics"]) + bytes(log["data"])
    out = {"calldata": bytes(calldata), "events": bytes(events)}
    if state_file is not None:
        out["storage"] = storage_of_dump(state_file)
    return out


def storage_of_dump(state_file: Path) -> bytes:
    """The storage words (keys and values) of every account in an anvil state dump."""
    state = json.loads(Path(state_file).read_text())
    words = bytearray()
    for account in state["accounts"].values():
        for slot, value in (account.get("storage") or {}).items():
            words += int(slot, 16).to_bytes(32, "big") + int(value, 16).to_bytes(
                32, "big"
            )
    return bytes(words)
