"""The layers the evaluation circuit supports, each as a small serialisable record.

A task's model is a chain of these layers (`spec.ModelSpec`). Each layer knows
its parameters' shapes, the torch module that trains it, and how the circuit
computes it exactly in fixed point:

- ReLU as `z + |z|`, which is `2 * relu(z)` exactly (one sign decomposition per
  value, no mask);
- average pooling as sum pooling (`k * k` times the average, no division);

so the circuit's activations are a positive integer `factor` times the float
model's. The factor goes through every later layer (a bias is added `factor`
times over, by additions: a constant multiplier would become a committed
parameter) and leaves every comparison of logits unchanged; `max` pooling
commutes with it. Activations are laid out per sample; shapes here exclude the
batch dimension.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..exceptions import ZKPoTValueError

Shape = tuple[int, ...]


class UnsupportedModelError(ZKPoTValueError):
    """A model has a layer, or a layer setting, the evaluation circuit cannot prove."""


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    a, b = value
    return (int(a), int(b))


def added_times(t: Tensor, factor: int) -> Tensor:
    """`factor * t` by doubling and adding (no constant enters the graph)."""
    if factor < 1:
        raise ValueError(f"factor must be positive: {factor}")
    result: Tensor | None = None
    power = t
    while factor:
        if factor & 1:
            result = power if result is None else result + power
        factor >>= 1
        if factor:
            power = power + power
    assert result is not None
    return result


@dataclass(frozen=True)
class Layer:
    """Base of the supported layers: a parameter-free reshape unless overridden."""

    kind: ClassVar[str]
    torch_type: ClassVar[type[nn.Module]]

    def out_shape(self, shape: Shape) -> Shape:
        """Per-sample shape of the output for a per-sample input `shape`."""
        raise NotImplementedError

    def param_shapes(self) -> list[Shape]:
        """Shapes of the layer's parameters, in torch's order (weight, bias)."""
        return []

    def module(self) -> nn.Module:
        """A fresh torch module of this layer."""
        raise NotImplementedError

    def forward(self, x: Tensor, params: Sequence[Tensor]) -> Tensor:
        """The layer as torch computes it, with `params` for its parameters."""
        names = ("weight", "bias")[: len(params)]
        return torch.func.functional_call(
            self.module(), dict(zip(names, params, strict=True)), (x,)
        )

    def circuit(self, x: Tensor, params: Sequence[Tensor], factor: int) -> Tensor:
        """The circuit's form of the layer on activations `factor` times the float
        model's (see the module docstring)."""
        raise NotImplementedError

    def factor(self, factor: int) -> int:
        """The activations' factor after this layer."""
        return factor

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}

    @classmethod
    def from_module(cls, m: nn.Module) -> Layer:
        """This layer's record of the torch module `m` (of `torch_type`)."""
        raise NotImplementedError


_IMAGES = (
    " (channels, height, width): give the data in that shape, or begin the model "
    "with nn.Unflatten"
)


def _need_dims(layer: Layer, shape: Shape, dims: int, hint: str) -> None:
    if len(shape) != dims:
        raise UnsupportedModelError(
            f"{layer.kind} takes {dims}-dimensional samples{hint}, gets shape {shape}"
        )


@dataclass(frozen=True)
class Linear(Layer):
    """A fully connected layer on flat samples."""

    kind: ClassVar[str] = "linear"
    torch_type: ClassVar[type[nn.Module]] = nn.Linear
    in_features: int
    out_features: int
    bias: bool = True

    def out_shape(self, shape: Shape) -> Shape:
        _need_dims(self, shape, 1, " (put an nn.Flatten() before it)")
        if shape[0] != self.in_features:
            raise UnsupportedModelError(
                f"linear layer takes {self.in_features} features, gets {shape[0]}"
            )
        return (self.out_features,)

    def param_shapes(self) -> list[Shape]:
        weight = (self.out_features, self.in_features)
        return [weight, (self.out_features,)] if self.bias else [weight]

    def module(self) -> nn.Module:
        return nn.Linear(self.in_features, self.out_features, bias=self.bias)

    def circuit(self, x: Tensor, params: Sequence[Tensor], factor: int) -> Tensor:
        y = x @ params[0].T
        return y + added_times(params[1], factor) if self.bias else y

    @classmethod
    def from_module(cls, m: nn.Module) -> Layer:
        assert isinstance(m, nn.Linear)
        return cls(m.in_features, m.out_features, m.bias is not None)


@dataclass(frozen=True)
class Conv2d(Layer):
    """A 2-D convolution (no dilation, no groups; zero padding)."""

    kind: ClassVar[str] = "conv2d"
    torch_type: ClassVar[type[nn.Module]] = nn.Conv2d
    in_channels: int
    out_channels: int
    kernel: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    bias: bool = True

    def __post_init__(self) -> None:
        for name in ("kernel", "stride", "padding"):  # lists when read from JSON
            object.__setattr__(self, name, _pair(getattr(self, name)))

    def out_shape(self, shape: Shape) -> Shape:
        _need_dims(self, shape, 3, _IMAGES)
        c, h, w = shape
        if c != self.in_channels:
            raise UnsupportedModelError(
                f"conv2d takes {self.in_channels} channels, gets {c}"
            )
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        out = ((h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
        if min(out) < 1:
            raise UnsupportedModelError(f"conv2d kernel {self.kernel} exceeds {h}x{w}")
        return (self.out_channels, *out)

    def param_shapes(self) -> list[Shape]:
        weight = (self.out_channels, self.in_channels, *self.kernel)
        return [weight, (self.out_channels,)] if self.bias else [weight]

    def module(self) -> nn.Module:
        return nn.Conv2d(
            self.in_channels,
            self.out_channels,
            self.kernel,
            stride=self.stride,
            padding=self.padding,
            bias=self.bias,
        )

    def circuit(self, x: Tensor, params: Sequence[Tensor], factor: int) -> Tensor:
        z = F.conv2d(x, params[0], stride=self.stride, padding=self.padding)
        if not self.bias:
            return z
        # The bias is added to the flattened output: ezkl folds a bias added to a
        # convolution's output into the convolution, which needs it at the
        # product's scale.
        n, c, h, w = z.shape
        bias = added_times(params[1], factor).repeat_interleave(h * w)
        return (z.reshape(n, -1) + bias).reshape(n, c, h, w)

    @classmethod
    def from_module(cls, m: nn.Module) -> Layer:
        assert isinstance(m, nn.Conv2d)
        if _pair(m.dilation) != (1, 1) or m.groups != 1:
            raise UnsupportedModelError("conv2d with dilation or groups")
        if isinstance(m.padding, str) or m.padding_mode != "zeros":
            raise UnsupportedModelError(
                "conv2d padding must be given in numbers and be zero padding"
            )
        return cls(
            m.in_channels,
            m.out_channels,
            _pair(m.kernel_size),
            _pair(m.stride),
            _pair(m.padding),
            m.bias is not None,
        )


@dataclass(frozen=True)
class ReLU(Layer):
    """max(z, 0); in the circuit `z + |z|`, twice the value."""

    kind: ClassVar[str] = "relu"
    torch_type: ClassVar[type[nn.Module]] = nn.ReLU

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    def module(self) -> nn.Module:
        return nn.ReLU()

    def circuit(self, x: Tensor, params: Sequence[Tensor], factor: int) -> Tensor:
        return x + torch.abs(x)

    def factor(self, factor: int) -> int:
        return 2 * factor

    @classmethod
    def from_module(cls, m: nn.Module) -> Layer:
        return cls()


def _pool_shape(
    layer: Layer, shape: Shape, kernel: tuple[int, int], stride: tuple[int, int]
) -> Shape:
    _need_dims(layer, shape, 3, _IMAGES)
    c, h, w = shape
    out = ((h - kernel[0]) // stride[0] + 1, (w - kernel[1]) // stride[1] + 1)
    if min(out) < 1:
        raise UnsupportedModelError(f"{layer.kind} kernel {kernel} exceeds {h}x{w}")
    return (c, *out)


def _check_pool(m: nn.Module, kind: str) -> None:
    if _pair(getattr(m, "padding", 0)) != (0, 0) or getattr(m, "ceil_mode", False):
        raise UnsupportedModelError(f"{kind} with padding or ceil_mode")
    if _pair(getattr(m, "dilation", 1)) != (1, 1):
        raise UnsupportedModelError(f"{kind} with dilation")


@dataclass(frozen=True)
class MaxPool2d(Layer):
    """Max pooling (no padding)."""

    kind: ClassVar[str] = "maxpool2d"
    torch_type: ClassVar[type[nn.Module]] = nn.MaxPool2d
    kernel: tuple[int, int]
    stride: tuple[int, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "kernel", _pair(self.kernel))
        object.__setattr__(self, "stride", _pair(self.stride))

    def out_shape(self, shape: Shape) -> Shape:
        return _pool_shape(self, shape, self.kernel, self.stride)

    def module(self) -> nn.Module:
        return nn.MaxPool2d(self.kernel, self.stride)

    def circuit(self, x: Tensor, params: Sequence[Tensor], factor: int) -> Tensor:
        return F.max_pool2d(x, self.kernel, self.stride)

    @classmethod
    def from_module(cls, m: nn.Module) -> Layer:
        assert isinstance(m, nn.MaxPool2d)
        _check_pool(m, cls.kind)
        stride = m.stride if m.stride is not None else m.kernel_size
        return cls(_pair(m.kernel_size), _pair(stride))


@dataclass(frozen=True)
class AvgPool2d(Layer):
    """Average pooling over non-overlapping windows (stride = kernel, no
    padding); in the circuit the window's sum, `k * k` times the average."""

    kind: ClassVar[str] = "avgpool2d"
    torch_type: ClassVar[type[nn.Module]] = nn.AvgPool2d
    kernel: tuple[int, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "kernel", _pair(self.kernel))

    def out_shape(self, shape: Shape) -> Shape:
        return _pool_shape(self, shape, self.kernel, self.kernel)

    def module(self) -> nn.Module:
        return nn.AvgPool2d(self.kernel)

    def circuit(self, x: Tensor, params: Sequence[Tensor], factor: int) -> Tensor:
        (kh, kw), (n, c, h, w) = self.kernel, x.shape
        ho, wo = h // kh, w // kw
        x = x[:, :, : ho * kh, : wo * kw]
        return x.reshape(n, c, ho, kh, wo, kw).sum(dim=(3, 5))

    def factor(self, factor: int) -> int:
        return factor * self.kernel[0] * self.kernel[1]

    @classmethod
    def from_module(cls, m: nn.Module) -> Layer:
        assert isinstance(m, nn.AvgPool2d)
        _check_pool(m, cls.kind)
        if m.divisor_override is not None:
            raise UnsupportedModelError("avgpool2d with divisor_override")
        stride = m.stride if m.stride is not None else m.kernel_size
        if _pair(stride) != _pair(m.kernel_size):
            raise UnsupportedModelError(
                "avgpool2d must have stride equal to its kernel (non-overlapping)"
            )
        return cls(_pair(m.kernel_size))


@dataclass(frozen=True)
class Flatten(Layer):
    """Flatten each sample (`nn.Flatten()` with its default dimensions)."""

    kind: ClassVar[str] = "flatten"
    torch_type: ClassVar[type[nn.Module]] = nn.Flatten

    def out_shape(self, shape: Shape) -> Shape:
        return (math.prod(shape),)

    def module(self) -> nn.Module:
        return nn.Flatten()

    def circuit(self, x: Tensor, params: Sequence[Tensor], factor: int) -> Tensor:
        return x.reshape(x.shape[0], -1)

    @classmethod
    def from_module(cls, m: nn.Module) -> Layer:
        assert isinstance(m, nn.Flatten)
        if m.start_dim != 1 or m.end_dim != -1:
            raise UnsupportedModelError("flatten other than nn.Flatten(1, -1)")
        return cls()


@dataclass(frozen=True)
class Unflatten(Layer):
    """Give flat samples a shape (`nn.Unflatten(1, sizes)`), e.g. 64 features
    as a 1x8x8 image before a convolution."""

    kind: ClassVar[str] = "unflatten"
    torch_type: ClassVar[type[nn.Module]] = nn.Unflatten
    sizes: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", tuple(int(s) for s in self.sizes))

    def out_shape(self, shape: Shape) -> Shape:
        _need_dims(self, shape, 1, "")
        if math.prod(self.sizes) != shape[0]:
            raise UnsupportedModelError(f"cannot unflatten {shape[0]} to {self.sizes}")
        return self.sizes

    def module(self) -> nn.Module:
        return nn.Unflatten(1, self.sizes)

    def circuit(self, x: Tensor, params: Sequence[Tensor], factor: int) -> Tensor:
        return x.reshape(-1, *self.sizes)

    @classmethod
    def from_module(cls, m: nn.Module) -> Layer:
        assert isinstance(m, nn.Unflatten)
        if m.dim != 1:
            raise UnsupportedModelError("unflatten of a dimension other than 1")
        return cls(tuple(m.unflattened_size))  # type: ignore[arg-type]


LAYERS: dict[str, type[Layer]] = {
    cls.kind: cls
    for cls in (Linear, Conv2d, ReLU, MaxPool2d, AvgPool2d, Flatten, Unflatten)
}
"""The supported layers by kind."""

SUPPORTED = ", ".join(f"nn.{cls.torch_type.__name__}" for cls in LAYERS.values())
"""The supported torch layers, for messages and help."""


def layer_of(m: nn.Module, where: str) -> Layer:
    """The record of torch module `m` (named `where` in its model), or an
    `UnsupportedModelError` naming it."""
    for cls in LAYERS.values():
        if type(m) is cls.torch_type:
            try:
                return cls.from_module(m)
            except UnsupportedModelError as exc:
                raise UnsupportedModelError(f"layer {where}: {exc}") from None
    raise UnsupportedModelError(
        f"layer {where} ({type(m).__name__}) is not supported by the evaluation "
        f"circuit; supported: {SUPPORTED}"
    )


def layer_from_dict(raw: dict[str, Any]) -> Layer:
    """Inverse of `Layer.to_dict`."""
    raw = dict(raw)
    kind = raw.pop("kind")
    if kind not in LAYERS:
        raise ZKPoTValueError(f"unknown layer kind {kind!r}")
    return LAYERS[kind](**raw)
