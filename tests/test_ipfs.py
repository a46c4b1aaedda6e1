"""The content store on a real IPFS node: js-ipfs, serving the Kubo RPC API on
loopback (zkpot_client.ipfs_node), started once for the module.

First the store itself: round trips of small and multi-MiB objects under the
local store's CIDs, pins that survive garbage collection, and the errors for a
missing object, a malformed CID, bytes corrupted on the node and a node that
is not there. Then a `zkpot sim` round with every role process on the node
(`--store URL`), after which everything the task names on chain is fetched
from the node and checked against what the chain holds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from tiny import SIM_ALLOWANCE, TINY_EVAL, TINY_HIDDEN
from tools import run

from zkpot_client.chain.backend import AnvilNode, free_port
from zkpot_client.chain.contracts import ZKPoTContract
from zkpot_client.chain.events import contributions, global_model, task_info
from zkpot_client.circuit.commitment import weights_hash
from zkpot_client.circuit.package import CircuitPackage, setup_from_package
from zkpot_client.crypto import unseal, weights_from_bytes
from zkpot_client.exceptions import (
    ContentNotFoundError,
    CorruptContentError,
    StoreConnectionError,
    ZKPoTValueError,
)
from zkpot_client.ipfs_node import IpfsNode
from zkpot_client.ipfs_store import MAX_BLOCK, KuboStore
from zkpot_client.processes.aggregator_process import load_box_key
from zkpot_client.roles.batches import round_circuit
from zkpot_client.roles.global_model import load_global_model
from zkpot_client.storage import LocalDirStore, cid_of, open_store

MiB = 1 << 20


@pytest.fixture(scope="module")
def node() -> Iterator[IpfsNode]:
    with IpfsNode() as n:
        yield n


@pytest.fixture
def store(node: IpfsNode) -> KuboStore:
    return KuboStore(node.url, find_timeout=2)


def random_bytes(size: int, seed: int) -> bytes:
    return np.random.default_rng(seed).bytes(size)


def rpc(
    node: IpfsNode, command: str, data: bytes | None = None, **params: Any
) -> requests.Response:
    """A raw Kubo RPC call, to act on the node behind the store's back."""
    answer = requests.post(
        f"{node.url}/api/v0/{command}",
        params=params,
        files=None if data is None else {"file": ("object", data, "text/plain")},
        timeout=60,
    )
    answer.raise_for_status()
    return answer


# ---------------------------------------------------------------- the store
@pytest.mark.parametrize(
    "size", [0, 1, 1000, MAX_BLOCK, MAX_BLOCK + 1, 3 * MiB, 9 * MiB + 7]
)
def test_round_trips_under_the_local_stores_cid_and_pinned(
    store: KuboStore, tmp_path: Path, size: int
) -> None:
    data = random_bytes(size, seed=size)
    cid = store.put(data)
    assert cid == cid_of(data) == LocalDirStore(tmp_path).put(data)
    assert store.get(cid) == data
    assert store.pinned(cid)
    assert store.put(data) == cid  # adding it again changes nothing


def test_open_store_gives_a_node_for_a_url_and_a_directory_otherwise(
    node: IpfsNode, tmp_path: Path
) -> None:
    remote = open_store(node.url + "/api/v0/")
    assert isinstance(remote, KuboStore) and remote.url == node.url
    local = open_store(str(tmp_path / "store"))
    assert isinstance(local, LocalDirStore) and (tmp_path / "store").is_dir()
    data = b"the same bytes, the same CID"
    assert remote.put(data) == local.put(data)
    assert remote.get(cid_of(data)) == local.get(cid_of(data))


def test_what_the_store_pins_survives_garbage_collection(
    node: IpfsNode, store: KuboStore
) -> None:
    kept, loose, repinned = (random_bytes(2000, seed=s) for s in (1, 2, 3))
    kept_cid = store.put(kept)
    for data in (loose, repinned):  # added behind the store's back, unpinned
        rpc(
            node,
            "add",
            data,
            **{"cid-version": 1, "raw-leaves": "true", "pin": "false"},
        )
        assert store.get(cid_of(data)) == data
        assert not store.pinned(cid_of(data))
    store.pin(cid_of(repinned))
    assert store.pinned(cid_of(repinned))
    rpc(node, "repo/gc")
    assert store.get(kept_cid) == kept
    assert store.get(cid_of(repinned)) == repinned
    with pytest.raises(ContentNotFoundError):
        store.get(cid_of(loose))


def test_an_object_the_node_lacks_is_missing_after_the_find_timeout(
    store: KuboStore,
) -> None:
    cid = cid_of(b"never stored anywhere")
    started = time.monotonic()
    with pytest.raises(ContentNotFoundError, match=f"no object {cid} on the IPFS node"):
        store.get(cid)
    assert time.monotonic() - started < store.find_timeout + 10
    with pytest.raises(ContentNotFoundError):
        store.pin(cid)
    assert not store.pinned(cid)


def test_a_malformed_cid_or_one_of_another_codec_is_refused(store: KuboStore) -> None:
    with pytest.raises(ZKPoTValueError, match="not a CID"):
        store.get("bafk-not-a-cid")
    with pytest.raises(ZKPoTValueError, match="dag-pb CID"):  # a CIDv0 (UnixFS root)
        store.get("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n")


def test_bytes_corrupted_on_the_node_are_caught(
    node: IpfsNode, store: KuboStore
) -> None:
    data = random_bytes(4096, seed=7)
    cid = store.put(data)
    (block,) = [
        p
        for p in (node.repo / "blocks").rglob("*")
        if p.is_file() and p.read_bytes() == data
    ]
    block.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    with pytest.raises(CorruptContentError, match=f"bytes for {cid} that do not hash"):
        store.get(cid)


def test_a_node_that_is_not_there_is_a_connection_error() -> None:
    gone = KuboStore(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StoreConnectionError, match="cannot reach the IPFS node"):
        gone.put(b"anything")
    with pytest.raises(StoreConnectionError):
        gone.get(cid_of(b"anything"))


# ---------------------------------------------------------------- a sim round on it
@pytest.fixture(scope="module")
def sim_on_ipfs(
    node: IpfsNode, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path]:
    run_dir = tmp_path_factory.mktemp("sim-ipfs") / "run"
    out = run_dir.parent / "sim.json"
    proc = run(
        "zkpot", "sim", "--clients", "3", "--rounds", "1",
        "--eval-samples", str(TINY_EVAL), "--hidden", str(TINY_HIDDEN),
        "--slots", "1", "--allowance", str(SIM_ALLOWANCE),
        "--store", node.url, "--run-dir", str(run_dir), "--json", str(out),
        timeout=1_200,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text()), run_dir


@pytest.mark.slow
def test_a_sim_round_ran_with_every_role_on_the_node(sim_on_ipfs) -> None:
    result, run_dir = sim_on_ipfs
    assert set(result["exit_codes"].values()) == {0}
    (round_,) = result["rounds"]
    assert len(round_["contributions"]) == 3
    assert round_["global_model_by_aggregator"]
    assert round_["global_accuracy"] is not None  # measured on the model from the node
    assert not (run_dir / "store").exists()  # nothing went to a local store


@pytest.mark.slow
def test_everything_the_chain_names_comes_from_the_node_and_matches_the_chain(
    sim_on_ipfs, node: IpfsNode, tmp_path: Path
) -> None:
    result, run_dir = sim_on_ipfs
    store = KuboStore(node.url)
    fetched: dict[str, bytes] = {}

    def fetch(cid: str) -> bytes:
        """From the node, and hashing to the CID the chain holds (checked here too,
        not only by the store)."""
        data = store.get(cid)
        assert cid_of(data) == cid
        assert store.pinned(cid)
        fetched[cid] = data
        return data

    with AnvilNode(state=run_dir / "anvil-state.json") as anvil:
        zkpot = ZKPoTContract(anvil.chain, result["contract"])
        task = task_info(zkpot, result["task"])
        # The circuit package, its ONNX graph and SRS (MiBs: one raw block each),
        # and the circuit they set up has the key digest the chain holds.
        package = CircuitPackage.from_bytes(fetch(task.circuit_cid))
        assert len(fetch(package.srs_cid)) > MAX_BLOCK
        fetch(package.onnx_cid)
        _, artifacts = setup_from_package(store, task.circuit_cid, task.vka_digest)
        # The initial and the round's global model hash to the chain's weights hash.
        for after_round in (0, 1):
            expected, cid = global_model(zkpot, task.task_id, after_round)
            flat = load_global_model(zkpot, store, task.task_id, after_round, artifacts)
            assert weights_hash(weights_from_bytes(fetch(cid)), artifacts) == expected
            assert np.array_equal(flat, weights_from_bytes(fetched[cid]))
        assert global_model(zkpot, task.task_id, 0)[1] == task.initial_model_cid
        # The round's batch gives the commitment digest the chain holds (the round
        # circuit is compiled afresh from the node's copy and checked).
        fetch(result["rounds"][0]["batch_cid"])
        round_circuit(zkpot, store, task, 1, artifacts, package.spec, cache=tmp_path)
        # Each sealed contribution opens, with the aggregator's key, to weights
        # that hash to the commitment the client proved.
        box = load_box_key(run_dir / "aggregator")
        sealed = contributions(zkpot, task.task_id, 1)
        assert len(sealed) == 3
        for c in sealed:
            flat = weights_from_bytes(unseal(box, fetch(c.sealed_weights_cid)))
            assert weights_hash(flat, artifacts) == c.weights_hash
    assert len(fetched) == 3 + 2 + 1 + 3  # package, models, batch, contributions
