"""The built-in models, by name (`--model mlp`, `--model cnn`)."""

from __future__ import annotations

from .layers import Conv2d, Flatten, Linear, ReLU, Unflatten
from .spec import ModelSpec


def mlp(*, inputs: int = 64, hidden: int = 16, classes: int = 10) -> ModelSpec:
    """A multilayer perceptron `inputs -> hidden (ReLU) -> classes` (the demo's,
    for the 8x8 digits)."""
    return ModelSpec(
        input_shape=(inputs,),
        layers=(Linear(inputs, hidden), ReLU(), Linear(hidden, classes)),
        name=f"MLP {inputs}-{hidden}-{classes}",
    )


def cnn(
    *, side: int = 8, channels: int = 4, kernel: int = 3, classes: int = 10
) -> ModelSpec:
    """A small convolutional network: flat samples as a `side` x `side`
    one-channel image, a `kernel` x `kernel` convolution to `channels` channels
    (no padding), ReLU, and a linear layer to the classes."""
    out = side - kernel + 1
    return ModelSpec(
        input_shape=(side * side,),
        layers=(
            Unflatten((1, side, side)),
            Conv2d(1, channels, (kernel, kernel)),
            ReLU(),
            Flatten(),
            Linear(channels * out * out, classes),
        ),
        name=f"CNN {side}x{side} conv{kernel}x{kernel}x{channels}-{classes}",
    )


BUILTIN = {"mlp": mlp, "cnn": cnn}
"""The built-in models' factories by name."""
