"""What the role processes take from the user: keys, data files, circuit packages,
prover slots, and the errors they give for bad ones (nothing started, nothing lost)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from tiny import TinyTask
from tools import run

from zkpot_client.chain.accounts import load_account, write_key_file
from zkpot_client.chain.backend import dev_account
from zkpot_client.circuit.package import (
    CircuitPackage,
    publish_package,
    setup_from_package,
)
from zkpot_client.circuit.slots import (
    MACHINE_SLOTS_ENV,
    besides_machine_slots,
    prover_slot,
)
from zkpot_client.data import load_arrays, save_arrays
from zkpot_client.exceptions import ZKPoTFileNotFoundError, ZKPoTValueError
from zkpot_client.model.builtin import mlp
from zkpot_client.storage import LocalDirStore


def test_a_key_file_round_trips_and_bad_ones_are_named(tmp_path: Path) -> None:
    account = dev_account(3)
    path = write_key_file(account, tmp_path / "k" / "client.key")
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_account(path).address == account.address
    assert load_account(dev_account=3).address == account.address
    with pytest.raises(ZKPoTFileNotFoundError, match="key file not found"):
        load_account(tmp_path / "missing.key")
    (tmp_path / "bad.key").write_text("not a key\n")
    with pytest.raises(ZKPoTValueError, match="does not hold a private key"):
        load_account(tmp_path / "bad.key")
    with pytest.raises(ZKPoTValueError, match="exactly one"):
        load_account(path, 3)
    with pytest.raises(ZKPoTValueError, match="exactly one"):
        load_account()


def test_a_data_file_round_trips_and_bad_ones_are_named(tmp_path: Path) -> None:
    x, y = np.random.default_rng(0).random((5, 64)), np.arange(5)
    shard = load_arrays(save_arrays(tmp_path / "shard.npz", x, y), features=64)
    np.testing.assert_array_equal(shard.x, x.astype(np.float32))
    assert shard.y.tolist() == y.tolist()
    with pytest.raises(ZKPoTFileNotFoundError):
        load_arrays(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(ZKPoTValueError, match="not a .npz file"):
        load_arrays(tmp_path / "junk.npz")
    np.savez(tmp_path / "shapes.npz", x=x, y=y[:3])
    with pytest.raises(ZKPoTValueError, match="expected x of shape"):
        load_arrays(tmp_path / "shapes.npz")
    with pytest.raises(ZKPoTValueError, match="the model takes 32"):
        load_arrays(tmp_path / "shard.npz", features=32)
    np.savez(tmp_path / "floats.npz", x=x, y=y.astype(float))
    with pytest.raises(ZKPoTValueError, match="labels must be integers"):
        load_arrays(tmp_path / "floats.npz")


def test_a_circuit_package_rebuilds_the_task_key_or_is_refused(
    tiny: TinyTask, tmp_path: Path
) -> None:
    from zkpot_client.circuit.keys import vka_digest

    store = LocalDirStore(tmp_path / "store")
    spec = tiny.definition.spec
    cid = publish_package(
        store, tiny.artifacts, spec, tiny.definition.eval_samples, development_srs=True
    )
    digest = vka_digest(tiny.artifacts.vka_words())
    package, artifacts = setup_from_package(store, cid, digest)
    assert package.spec == spec and package.scale == tiny.artifacts.scale
    assert artifacts.digest == tiny.artifacts.digest
    with pytest.raises(ZKPoTValueError, match="refusing to prove under it"):
        setup_from_package(store, cid, b"\x01" * 32)
    with pytest.raises(ZKPoTValueError, match="not a ZKPoT circuit package"):
        setup_from_package(store, store.put(b'{"format": "other"}'), digest)
    assert CircuitPackage.from_bytes(package.to_bytes()) == package
    assert mlp(hidden=8) == spec


def test_prover_slots_let_one_prover_at_a_time_through(tmp_path: Path) -> None:
    spans: list[tuple[float, float]] = []

    def prover() -> None:
        with prover_slot(tmp_path, 1, poll_seconds=0.01):
            start = time.monotonic()
            time.sleep(0.2)
            spans.append((start, time.monotonic()))

    threads = [threading.Thread(target=prover) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spans.sort()
    assert len(spans) == 3
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start >= end
    # Two slots: two at once.
    with prover_slot(tmp_path, 2) as first, prover_slot(tmp_path, 2) as second:
        assert {first, second} == {0, 1}


def test_a_client_given_the_machine_wide_slots_does_not_wait_on_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its proofs take the machine-wide slot themselves: its own slot directory,
    if it is that one, is not held around them (it would block them forever)."""
    machine, own = tmp_path / "machine", tmp_path / "own"
    monkeypatch.setenv(MACHINE_SLOTS_ENV, str(machine))
    assert besides_machine_slots(tmp_path / "." / "machine") is None
    assert besides_machine_slots(own) == own
    assert besides_machine_slots(None) is None
    monkeypatch.delenv(MACHINE_SLOTS_ENV)
    assert besides_machine_slots(machine) == machine


def test_role_commands_fail_cleanly_on_bad_input(tmp_path: Path) -> None:
    key = write_key_file(dev_account(1), tmp_path / "k.key")
    data = save_arrays(tmp_path / "d.npz", np.zeros((2, 64)), np.arange(2))
    base = [
        "--store",
        str(tmp_path / "store"),
        "--contract",
        "0x" + "11" * 20,
        "--task",
        "1",
    ]
    cases = [
        (["client", "--key-file", str(key), "--data", str(tmp_path / "none.npz"),
          "--state-dir", str(tmp_path / "s"), *base], "data file not found"),
        (["client", "--key-file", str(tmp_path / "none.key"), "--data", str(data),
          "--state-dir", str(tmp_path / "s"), *base], "key file not found"),
        (["client", "--rpc", "http://127.0.0.1:9", "--key-file", str(key), "--data", str(data),
          "--state-dir", str(tmp_path / "s"), *base], "cannot reach an Ethereum node"),
        (["aggregate", "--rpc", "http://127.0.0.1:9", "--dev-account", "1",
          "--state-dir", str(tmp_path / "empty"), *base], "no aggregator key"),
        (["publish", "--dev-account", "0", "--store", str(tmp_path / "store"),
          "--state-dir", str(tmp_path / "p"), "--aggregator-key", "zz"],
         "expected 64 hex digits"),
        (["reveal", "--dev-account", "0", "--store", str(tmp_path / "store"),
          "--state-dir", str(tmp_path / "empty")], "no task in"),
    ]  # fmt: skip
    for args, message in cases:
        proc = run("zkpot", *args, timeout=120)
        assert proc.returncode != 0, args
        assert message in proc.stderr, (args, proc.stderr[-500:])
        assert "Traceback" not in proc.stderr
