"""Unit tests of the pieces that need neither prover nor chain."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from multiformats import CID

from zkpot_client.aggregation import fedavg
from zkpot_client.crypto import (
    new_keypair,
    seal,
    unseal,
    weights_from_bytes,
    weights_to_bytes,
)
from zkpot_client.data import load_task_data
from zkpot_client.exceptions import ContentNotFoundError, ZKPoTValueError
from zkpot_client.model import flatten, load_flat, quantise
from zkpot_client.model.builtin import cnn, mlp
from zkpot_client.model.loading import resolve_model
from zkpot_client.storage import LocalDirStore, cid_of


def test_store_returns_what_was_put_under_a_cidv1(tmp_path) -> None:
    store = LocalDirStore(tmp_path)
    cid = store.put(b"weights")
    parsed = CID.decode(cid)
    assert (
        parsed.version == 1
        and parsed.codec.name == "raw"
        and parsed.hashfun.name == "sha2-256"
    )
    assert store.get(cid) == b"weights" and cid == cid_of(b"weights")


def test_store_detects_corruption_and_missing_objects(tmp_path) -> None:
    store = LocalDirStore(tmp_path)
    cid = store.put(b"weights")
    (tmp_path / cid).write_bytes(b"other")
    with pytest.raises(ZKPoTValueError, match="corrupt"):
        store.get(cid)
    with pytest.raises(ContentNotFoundError):
        store.get(cid_of(b"never stored"))
    with pytest.raises(ZKPoTValueError, match="not a CID"):
        store.get("not-a-cid")


def test_sealed_weights_open_only_with_the_aggregators_key() -> None:
    aggregator, other = new_keypair(), new_keypair()
    w = np.arange(5, dtype=np.float32)
    sealed = seal(bytes(aggregator.public_key), weights_to_bytes(w))
    assert np.array_equal(weights_from_bytes(unseal(aggregator, sealed)), w)
    with pytest.raises(ZKPoTValueError):
        unseal(other, sealed)
    with pytest.raises(ZKPoTValueError):
        unseal(aggregator, sealed[:-1] + bytes([sealed[-1] ^ 1]))


def test_weights_deserialisation_rejects_other_payloads() -> None:
    with pytest.raises(ZKPoTValueError):
        weights_from_bytes(b"garbage")
    with pytest.raises(ZKPoTValueError):
        weights_from_bytes(
            weights_to_bytes(np.zeros((2, 2), dtype=np.float32)).replace(
                b"(4,)", b"(2, 2)"
            )
        )


def test_fedavg_is_the_weighted_mean() -> None:
    a, b = (
        np.array([1.0, 2.0], dtype=np.float32),
        np.array([3.0, 6.0], dtype=np.float32),
    )
    assert np.allclose(fedavg([a, b]), [2.0, 4.0])
    assert np.allclose(fedavg([a, b], [3, 1]), [1.5, 3.0])
    with pytest.raises(ValueError):
        fedavg([])
    with pytest.raises(ValueError):
        fedavg([a, b], [0, 0])


def test_non_iid_split_covers_every_training_sample_once() -> None:
    data = load_task_data(eval_samples=100, num_clients=4, alpha=0.5, seed=0)
    labels = data.evaluation.y
    assert len(labels) == 100 and sorted(np.bincount(labels)) == [10] * 10  # stratified
    assert sum(len(s.y) for s in data.shards) == 1797 - 100
    assert all(len(s.y) > 0 for s in data.shards)
    # Dirichlet(0.5) shards are skewed: some class is rare in some shard.
    assert min(min(s.class_counts()) for s in data.shards) < 5


def test_flat_weights_round_trip_and_quantise_to_the_grid() -> None:
    spec = mlp(hidden=8)
    w = flatten(spec.build(seed=1))
    assert w.shape == (spec.num_weights,)
    assert np.array_equal(flatten(load_flat(spec.build(), w)), w)
    q = quantise(w, 13)
    assert (
        np.allclose(q * 2**13, np.round(q * 2**13))
        and np.max(np.abs(q - w)) <= 2**-14 + 1e-9
    )


def test_the_cnn_spec_is_its_torch_module_and_the_circuit_form_doubles_it() -> None:
    spec = cnn(channels=4)
    assert spec.num_weights == 4 * 9 + 4 + 10 * 4 * 36 + 10
    model = spec.build(seed=2)
    w = flatten(model)
    assert w.shape == (spec.num_weights,)
    assert np.array_equal(flatten(load_flat(spec.build(), w)), w)
    x = torch.rand(5, 64)
    flat = torch.as_tensor(w)
    with torch.no_grad():
        assert torch.allclose(spec.logits(flat, x), model(x), atol=1e-5)
        assert torch.allclose(spec.circuit_logits(flat, x), 2 * model(x), atol=1e-5)
    with pytest.raises(ValueError, match="square"):
        resolve_model("cnn", (60,), 10)
    with pytest.raises(ValueError, match="unknown model 'rnn'"):
        resolve_model("rnn", (64,), 10)


def test_an_unreachable_node_is_a_clear_error() -> None:
    from zkpot_client.chain.backend import Chain, free_port
    from zkpot_client.exceptions import ChainConnectionError

    with pytest.raises(ChainConnectionError, match="cannot reach"):
        Chain.connect(f"http://127.0.0.1:{free_port()}", timeout=2)


def test_a_contract_address_without_code_is_a_clear_error() -> None:
    from zkpot_client.chain.backend import Chain
    from zkpot_client.chain.contracts import ZKPoTContract

    with pytest.raises(ZKPoTValueError, match="no contract"):
        ZKPoTContract(Chain.embedded(), "0x" + "12" * 20)


def test_the_rounds_table_shows_rewards_and_the_leader() -> None:
    from rich.console import Console

    from zkpot_client.report import print_rounds
    from zkpot_client.types import ContributionSummary, RoundSummary

    leader, other = "0x" + "11" * 20, "0x" + "22" * 20
    rounds = [
        RoundSummary(
            round=1,
            batch_cid="bafkreibatch1",
            leader=leader,
            leader_bonus_wei=2 * 10**17,
            global_accuracy=0.75,
            global_model_cid="bafk",
            global_model_by_aggregator=True,
            contributions=tuple(
                ContributionSummary(
                    client=c,
                    name=name,
                    correct=correct,
                    accuracy=correct / 8,
                    accepted=True,
                    reward_wei=reward,
                    gas_used=1_830_000,
                    prove_seconds=16.0,
                )
                for c, name, correct, reward in [
                    (leader, "client-1", 6, 6 * 10**17),
                    (other, "client-2", 5, 4 * 10**17),
                ]
            ),
        )
    ]
    console = Console(width=140, record=True)
    print_rounds(rounds, console)
    text = console.export_text()
    assert "reward ETH" in text and "0.6000" in text and "0.4000" in text
    (leader_row,) = [
        line for line in text.splitlines() if "client-1" in line and "★" in line
    ]
    assert "0.75" in leader_row
    assert "1: bafkreibatch1" in text  # which batch the round used


def test_the_attack_names_the_cli_offers_are_the_strategies() -> None:
    from zkpot_client.config import ATTACK_NAMES
    from zkpot_client.roles.byzantine import ATTACKS

    assert tuple(ATTACKS) == ATTACK_NAMES


def test_role_command_lines_come_from_the_commands_own_options() -> None:
    """`zkpot sim` builds each role's command line from the option declarations, so
    a renamed option fails loudly here instead of silently in a simulation."""
    from zkpot_client.cli import main
    from zkpot_client.cli_options import command_line

    args = command_line(
        "client",
        rpc="http://127.0.0.1:8545",
        contract="0x" + "11" * 20,
        task_id=1,
        key_file="k",
        store_dir="store",
        data_path="d.npz",
        state_dir="s",
        attack=None,
    )
    assert args[3:6] == ["client", "--rpc", "http://127.0.0.1:8545"]
    assert "--store" in args and "--task" in args and "--data" in args
    assert "--attack" not in args  # None leaves an option out
    ctx = main.commands["client"].make_context("client", args[4:])
    assert ctx.params["store_dir"] == "store" and ctx.params["task_id"] == 1
    watch = command_line("watch", rpc="u", contract="c", follow=True)
    assert "--follow" in watch
    assert "--once" in command_line("watch", rpc="u", contract="c", follow=False)
    with pytest.raises(ValueError, match="no option for 'store'"):
        command_line("client", store="store")
    with pytest.raises(ValueError, match="no command"):
        command_line("publisher")


def test_every_help_answers_without_loading_torch_ezkl_or_web3() -> None:
    """`zkpot --help` and each sub-command's --help import only the CLI's light
    modules (the heavy ones load inside the commands)."""
    import subprocess
    import sys

    code = (
        "import sys; from zkpot_client.cli import main\n"
        "for name in [None, *main.commands]:\n"
        "    args = ['--help'] if name is None else [name, '--help']\n"
        "    try: main(args)\n"
        "    except SystemExit: pass\n"
        "heavy = {'torch', 'ezkl', 'web3', 'sklearn'} & set(sys.modules)\n"
        "print('HEAVY', sorted(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert "HEAVY []" in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]


def schedule(dispute_blocks: int) -> Any:
    """A round's schedule as the contract draws it: commit 10-14, reveal to 17,
    prove to 22, `dispute_blocks` of disputes and as many of answers, then three
    blocks of aggregation."""
    from zkpot_client.types import RoundSchedule

    dispute_end = 22 + dispute_blocks
    return RoundSchedule(
        open_block=10,
        commit_end=14,
        reveal_end=17,
        proof_end=22,
        dispute_end=dispute_end,
        answer_end=dispute_end + dispute_blocks,
        aggregate_end=dispute_end + dispute_blocks + 3,
    )


def test_phases_follow_the_contracts_rule_around_the_reveal() -> None:
    from zkpot_client.phases import can_close, first_block, phase_at
    from zkpot_client.types import Phase

    s = schedule(dispute_blocks=0)
    assert [phase_at(s, b) for b in (9, 14, 15, 17, 18)] == [
        Phase.REGISTRATION,
        Phase.COMMIT,
        Phase.REVEAL,
        Phase.REVEAL,
        Phase.REVEAL_MISSED,
    ]
    assert [phase_at(s, b, revealed=True) for b in (15, 22, 23, 26)] == [
        Phase.PROVE,
        Phase.PROVE,
        Phase.AGGREGATE,
        Phase.AGGREGATION_OVERDUE,
    ]
    assert first_block(s, Phase.REVEAL) == 15 and first_block(s, Phase.PROVE) == 18
    # Without a reveal the round may be closed once the window is over.
    assert not can_close(s, 17, revealed=False) and can_close(s, 18, revealed=False)
    assert not can_close(s, 22) and can_close(s, 23)


def test_an_optimistic_round_has_a_dispute_phase_before_its_close() -> None:
    from zkpot_client.phases import can_close, first_block, is_past, phase_at
    from zkpot_client.types import Phase

    s = schedule(dispute_blocks=4)
    assert [phase_at(s, b, revealed=True) for b in (22, 23, 30, 31, 34)] == [
        Phase.PROVE,
        Phase.DISPUTE,
        Phase.DISPUTE,
        Phase.AGGREGATE,
        Phase.AGGREGATION_OVERDUE,
    ]
    assert first_block(s, Phase.DISPUTE) == 23 and first_block(s, Phase.AGGREGATE) == 31
    assert is_past(s, Phase.PROVE, 23) and not is_past(s, Phase.DISPUTE, 30)
    # Closed once disputes are over (with no challenge open), before the answers end.
    assert not can_close(s, 26) and can_close(s, 27)


def test_evaluation_batches_are_disjoint_balanced_and_round_trip() -> None:
    from zkpot_client.circuit.batches import EvaluationBatch
    from zkpot_client.exceptions import ZKPoTValueError

    data = load_task_data(eval_samples=100, num_clients=4, seed=0, rounds=3)
    assert [len(b) for b in data.batches] == [100, 100, 100]
    rows = [{r.tobytes() for r in b.x} for b in data.batches]
    assert not (rows[0] & rows[1] or rows[0] & rows[2] or rows[1] & rows[2])
    # Each class is dealt evenly: its counts in two batches differ by at most one.
    per_class = np.array([np.bincount(b.y, minlength=10) for b in data.batches])
    assert (per_class.max(axis=0) - per_class.min(axis=0)).max() <= 1
    b = data.batches[1]
    back = EvaluationBatch.from_bytes(b.to_bytes(), features=64)
    np.testing.assert_array_equal(back.x, b.x)
    np.testing.assert_array_equal(back.y, b.y)
    with pytest.raises(ZKPoTValueError, match="not an evaluation batch"):
        EvaluationBatch.from_bytes(b"garbage", features=64)
    with pytest.raises(ZKPoTValueError, match="of 10 features"):
        EvaluationBatch.from_bytes(b.to_bytes(), features=10)


def test_a_compressed_commitment_point_is_the_proofs_uncompressed_one() -> None:
    """halo2's compressed G1 form (x little-endian, sign of y in the top bit) as the
    64 bytes a proof carries; a non-point is refused."""
    from py_ecc.bn128 import G1, multiply

    from zkpot_client.circuit.batches import g1_uncompressed
    from zkpot_client.exceptions import ZKPoTValueError

    for k in (1, 2, 12345):
        x, y = (int(c) for c in multiply(G1, k))
        compressed = bytearray(x.to_bytes(32, "little"))
        compressed[31] |= (y & 1) << 7
        assert g1_uncompressed(bytes(compressed)) == x.to_bytes(32, "big") + y.to_bytes(
            32, "big"
        )
    with pytest.raises(ZKPoTValueError, match="not a point"):
        g1_uncompressed((4).to_bytes(32, "little"))  # 4^3 + 3 has no square root


def test_the_demo_measures_global_models_on_samples_nobody_trains_on() -> None:
    """Revealed batches become training data, so the demo's global-model accuracy
    is taken on a held-out test set; holding it out leaves the batches (and so
    the circuit and its keys) as they were."""
    from zkpot_client.config import FederationConfig
    from zkpot_client.demo import global_model_measure
    from zkpot_client.model import count_correct

    cfg = FederationConfig.demo()
    data = cfg.data()
    assert data.test is not None and len(data.test.y) == 300
    without = cfg.with_(test_samples=0).data()
    for b, same in zip(data.batches, without.batches, strict=True):
        np.testing.assert_array_equal(b.x, same.x)
    seen = {r.tobytes() for b in data.batches for r in b.x}
    seen |= {r.tobytes() for s in data.shards for r in s.x}
    assert (
        sum(len(s.y) for s in data.shards)
        == sum(len(s.y) for s in without.shards) - 300
    )
    held = {r.tobytes() for r in data.test.x}
    assert not held & seen
    definition = cfg.definition(data)
    w = flatten(definition.spec.build(seed=1))
    measured = global_model_measure(definition, data.test)(w)
    assert measured == count_correct(definition.spec, w, data.test.x, data.test.y) / 300
    assert global_model_measure(definition, None)(w) == definition.accuracy(w)


def test_the_sims_proof_phase_fits_the_provers_queue_on_a_busy_machine() -> None:
    """A proof slowed by other processes on the cores still lands: the proof phase
    holds every prover of the round, one slot at a time, at `slowdown` times the
    calibrated proof time, plus the slack; and registration gives the role
    processes, all starting at once, as much more time to start."""
    from zkpot_client.config import FederationConfig
    from zkpot_client.processes.sim import SimOptions, plan_schedule

    cfg = FederationConfig.sim(clients=10)
    options = SimOptions(block_time=2.0, slots=1)
    schedule = plan_schedule(cfg, options, prove_seconds=14.0)
    queue = 10 * 14.0
    assert options.slowdown >= 2.0  # a proof took 2.0 times as long under load
    assert schedule.terms.proof_blocks * options.block_time >= options.slowdown * queue
    # Two slots halve the queue.
    two = plan_schedule(cfg, SimOptions(block_time=2.0, slots=2), prove_seconds=14.0)
    assert two.terms.proof_blocks < schedule.terms.proof_blocks
    calm = plan_schedule(
        cfg, SimOptions(block_time=2.0, slots=1, slowdown=1.0), prove_seconds=14.0
    )
    assert schedule.terms.registration_blocks >= (
        options.slowdown * calm.terms.registration_blocks - 1
    )
