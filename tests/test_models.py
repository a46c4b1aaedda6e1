"""Bring your own model: a torch module becomes a spec of supported layers, the
circuit computes exactly what float torch does for every supported layer, and
anything else is refused with a clear error before any set-up."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from zkpot_client.api import ClientSpec, TaskSpec, as_arrays, run_federation
from zkpot_client.circuit.batches import compile_batch, export_batch_onnx, placeholder
from zkpot_client.circuit.fixed_point import data_scale
from zkpot_client.circuit.keys import compile_only
from zkpot_client.circuit.package import CircuitPackage
from zkpot_client.circuit.prover import circuit_counts
from zkpot_client.data import load_task_data
from zkpot_client.exceptions import ZKPoTFileNotFoundError, ZKPoTValueError
from zkpot_client.model import ModelSpec, UnsupportedModelError, count_correct, quantise
from zkpot_client.model.loading import from_module, resolve_model
from zkpot_client.training import train_local

SCALE = 13


def every_layer() -> nn.Module:
    """One of each supported layer, with padding, strides, a bias-free
    convolution and three ReLUs (the circuit's factor is 2 * 2 * 2 * 4)."""
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 3, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(3, 4, 3, stride=1, padding=1, bias=False),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Sequential(nn.Linear(16, 12), nn.ReLU()),  # nested
        nn.Linear(12, 10),
    )


class ChainedForward(nn.Module):
    """A model whose forward calls its layers in order (read with torch.fx)."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(64, 8)
        self.out = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(torch.flatten(x, 1))))


class Residual(ChainedForward):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.hidden(x))
        return self.out(h + h)


def test_a_module_of_every_supported_layer_is_its_spec_and_the_circuit_scales_it() -> (
    None
):
    torch.manual_seed(0)
    module = every_layer()
    model = from_module(module, (64,))
    spec = model.spec
    assert spec.products == 4 and spec.factor == 2 * 2 * 4 * 2
    assert spec.num_weights == sum(p.numel() for p in module.parameters())
    x = torch.rand(6, 64)
    flat = torch.as_tensor(model.initial)
    with torch.no_grad():
        theirs = module(x)
        assert torch.allclose(spec.logits(flat, x), theirs, atol=1e-5)
        assert torch.allclose(
            spec.circuit_logits(flat, x), spec.factor * theirs, atol=1e-4
        )
    again = ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec and again.growth == spec.growth


def test_a_chained_forward_is_read_and_images_keep_their_shape() -> None:
    module = ChainedForward()
    model = from_module(module, (1, 8, 8))
    assert [layer.kind for layer in model.spec.layers] == [
        "flatten",
        "linear",
        "relu",
        "linear",
    ]
    assert model.spec.inputs == 64 and model.spec.input_shape == (1, 8, 8)
    flat_samples = torch.rand(3, 64)
    with torch.no_grad():
        assert torch.allclose(
            model.spec.logits(torch.as_tensor(model.initial), flat_samples),
            module(flat_samples.reshape(3, 1, 8, 8)),
            atol=1e-6,
        )


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (nn.Sequential(nn.Linear(64, 8), nn.Sigmoid(), nn.Linear(8, 10)), r"layer 1 \(Sigmoid\) is not supported"),
        (nn.Sequential(nn.Linear(64, 8), nn.BatchNorm1d(8), nn.Linear(8, 10)), r"BatchNorm1d"),
        (nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 2, 3, dilation=2), nn.Flatten(), nn.Linear(32, 10)), "dilation"),
        (nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.AvgPool2d(2, stride=1), nn.Flatten(), nn.Linear(49, 10)), "stride equal to its kernel"),
        (nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Linear(8, 10)), "put an nn.Flatten"),
        (nn.Sequential(nn.Linear(64, 10), nn.ReLU(), nn.Linear(10, 1)), "one logit per class"),
        (nn.Sequential(nn.ReLU(), nn.Flatten()), "no layer with weights"),
        (Residual(), "not a plain chain of layers"),
    ],
)  # fmt: skip
def test_an_unsupported_model_is_refused_naming_what_is_wrong(
    module: nn.Module, message: str
) -> None:
    x = np.zeros((4, 64), np.float32)
    with pytest.raises(UnsupportedModelError, match=message):
        TaskSpec(model=module, eval_data=(x, np.arange(4)), rounds=1)


def test_model_references_load_built_ins_and_factories_with_clear_errors(
    tmp_path: Path,
) -> None:
    assert resolve_model("mlp", (64,), 10, hidden=8).spec.num_weights == 610
    assert resolve_model("cnn", (64,), 10).spec.products == 2
    good = tmp_path / "net.py"
    good.write_text(
        "from torch import nn\n"
        "def make():\n    return nn.Sequential(nn.Linear(64, 5), nn.ReLU(), nn.Linear(5, 3))\n"
        "def not_a_model():\n    return 3\n"
    )
    model = resolve_model(f"{good}:make", (64,), 3)
    assert model.spec.classes == 3 and model.initial is not None
    with pytest.raises(ZKPoTFileNotFoundError, match="model file not found"):
        resolve_model(f"{tmp_path / 'missing.py'}:make", (64,), 3)
    with pytest.raises(ZKPoTValueError, match="has no function 'other'"):
        resolve_model(f"{good}:other", (64,), 3)
    with pytest.raises(ZKPoTValueError, match="not a torch module"):
        resolve_model(f"{good}:not_a_model", (64,), 3)
    with pytest.raises(ZKPoTValueError, match="expected one of mlp, cnn"):
        resolve_model("resnet", (64,), 3)


def test_data_is_taken_as_arrays_or_a_dataset_and_checked() -> None:
    x = torch.rand(5, 1, 8, 8)
    y = torch.arange(5)
    from_dataset = as_arrays(torch.utils.data.TensorDataset(x, y))
    from_arrays = as_arrays((x.numpy(), y.numpy()))
    assert all(
        np.array_equal(a, b) for a, b in zip(from_dataset, from_arrays, strict=True)
    )
    assert from_arrays[0].shape == (5, 1, 8, 8) and from_arrays[1].dtype == np.int64
    with pytest.raises(ZKPoTValueError, match="integers from 0"):
        as_arrays((x.numpy(), np.full(5, -1)))
    with pytest.raises(ZKPoTValueError, match="n labels"):
        as_arrays((x.numpy(), np.arange(4)))
    with pytest.raises(ZKPoTValueError, match="up to 9, the model has 3"):
        TaskSpec(
            model=nn.Sequential(nn.Flatten(), nn.Linear(64, 3)),
            eval_data=(x.numpy(), np.full(5, 9)),
            rounds=1,
        )


def test_the_circuit_counts_what_float_torch_counts_for_every_supported_layer(
    tmp_path: Path,
) -> None:
    """Through the circuit's witness (the count a proof carries), for models from
    untrained to trained, on a batch of the digits."""
    torch.manual_seed(1)
    model = from_module(every_layer(), (64,))
    spec = model.spec
    data = load_task_data(eval_samples=8, num_clients=2, rounds=1)
    batch = data.batches[0]
    compile_only(
        export_batch_onnx(spec, placeholder(spec, len(batch)), tmp_path / "c.onnx"),
        tmp_path / "setup",
        scale=SCALE,
        data_scale=data_scale(batch.x),
        growth=spec.growth,
    )
    shard = data.shards[0]
    models = [
        quantise(train_local(spec, model.initial, shard.x, shard.y, epochs=e), SCALE)
        for e in (0, 1, 3, 8)
    ]
    compiled = compile_batch(
        tmp_path / "setup" / "settings.json", spec, batch, tmp_path / "b"
    )
    counts = [count_correct(spec, w, batch.x, batch.y) for w in models]
    assert circuit_counts(compiled, models) == counts
    assert max(counts) - min(counts) >= 3  # a real spread


@pytest.mark.proof
def test_a_task_of_a_users_module_runs_and_publishes_its_spec(tmp_path: Path) -> None:
    """`run_federation` on the embedded chain with a module whose forward is a
    chain, images as samples, one client with its own training function: the
    package in the store describes the module, the initial model is the module's
    weights, and the custom training function ran each round."""
    rng = np.random.default_rng(0)
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    images = (x / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    order = rng.permutation(len(y))
    eval_idx, a, b = order[:8], order[100:400], order[400:700]
    calls: list[int] = []

    def counting_sgd(model: nn.Module, dataset, ctx) -> None:  # type: ignore[no-untyped-def]
        calls.append(ctx.round)
        from zkpot_client.api import sgd

        sgd(model, dataset, ctx)

    module = ChainedForward()
    task = TaskSpec(model=module, eval_data=(images[eval_idx], y[eval_idx]), rounds=1)
    result = run_federation(
        task,
        [
            ClientSpec(data=(images[a], y[a])),
            ClientSpec(data=(images[b], y[b]), train=counting_sgd),
        ],
        store_dir=tmp_path / "store",
    )
    (round_,) = result.rounds
    assert calls == [1]
    assert len(round_.contributions) == 2 and round_.global_model_by_aggregator
    packages = []
    for f in (tmp_path / "store").iterdir():
        try:
            packages.append(CircuitPackage.from_bytes(f.read_bytes()))
        except ZKPoTValueError:
            continue
    (package,) = packages
    assert package.spec == task.task_model.spec
    assert package.spec.input_shape == (1, 8, 8)
