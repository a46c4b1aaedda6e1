"""A task's model by reference: a built-in name or a user's `path.py:factory`."""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from ..exceptions import ZKPoTFileNotFoundError, ZKPoTValueError
from .builtin import BUILTIN, cnn, mlp
from .layers import Shape
from .spec import ModelSpec, weights_of


@dataclass(frozen=True, eq=False)
class TaskModel:
    """A task's model: its spec and, for a user's module, the module's own
    weights (the task's initial model; None: a seeded initialisation)."""

    spec: ModelSpec
    initial: np.ndarray | None = None


def from_module(module: nn.Module, input_shape: Shape, *, name: str = "") -> TaskModel:
    """A user's torch module as a task model (its spec checked, its weights kept)."""
    spec = ModelSpec.from_module(module, input_shape, name=name)
    return TaskModel(spec, weights_of(spec, module).numpy().astype(np.float32))


def resolve_model(
    ref: str, input_shape: Shape, classes: int, *, hidden: int = 16
) -> TaskModel:
    """The model `ref` for samples of `input_shape` and `classes` classes: "mlp"
    (one hidden layer of `hidden` units), "cnn" (square one-channel images), or
    `path.py:factory`, a function of no arguments in a Python file returning a
    torch module of supported layers."""
    inputs = math.prod(input_shape)
    if ref == "mlp":
        return TaskModel(mlp(inputs=inputs, hidden=hidden, classes=classes))
    if ref == "cnn":
        side = math.isqrt(inputs)
        if side * side != inputs:
            raise ZKPoTValueError(f"the built-in cnn needs square images, not {inputs}")
        return TaskModel(cnn(side=side, classes=classes))
    if ":" not in ref:
        raise ZKPoTValueError(
            f"unknown model {ref!r}: expected one of {', '.join(BUILTIN)} or FILE.py:FACTORY"
        )
    module = load_factory(ref)()
    if not isinstance(module, nn.Module):
        raise ZKPoTValueError(
            f"{ref} returned {type(module).__name__}, not a torch module"
        )
    return from_module(module, input_shape, name=Path(ref.rpartition(":")[0]).stem)


def load_factory(ref: str) -> Callable[..., Any]:
    """The function `name` of `path.py:name` (a model factory, a training function)."""
    path_text, colon, attr = ref.rpartition(":")
    if not colon or not path_text.endswith(".py") or not attr.isidentifier():
        raise ZKPoTValueError(f"{ref!r}: expected FILE.py:NAME")
    path = Path(path_text)
    if not path.is_file():
        raise ZKPoTFileNotFoundError(f"model file not found: {path}")
    name = f"zkpot_user_model_{abs(hash(path.resolve()))}"
    loader = importlib.util.spec_from_file_location(name, path)
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    sys.modules[name] = module  # so dataclasses and pickling inside it work
    try:
        loader.loader.exec_module(module)
    except Exception as exc:
        raise ZKPoTValueError(f"{path} failed to load: {exc!r}") from exc
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ZKPoTValueError(f"{path} has no function {attr!r}")
    return factory
