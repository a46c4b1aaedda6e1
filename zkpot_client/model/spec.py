"""A task's model: a chain of supported layers, and its weights as one flat vector.

The evaluation circuit takes the weights as a single flat input, so the flat
vector is the model's canonical form everywhere: it is what clients train,
commit to, prove, encrypt and what the aggregator averages. Samples are kept
flat too (`features` numbers each) and given the model's `input_shape` when it
runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ..circuit.fixed_point import Growth
from ..exceptions import ZKPoTValueError
from .layers import (
    Layer,
    Linear,
    Shape,
    UnsupportedModelError,
    layer_from_dict,
    layer_of,
)


@dataclass(frozen=True)
class ModelSpec:
    """A model the evaluation circuit can prove: `layers` applied to samples of
    `input_shape`, ending in one logit per class."""

    input_shape: Shape
    """Shape of one sample as the model takes it (e.g. (64,), or (1, 8, 8))."""
    layers: tuple[Layer, ...]
    name: str = ""
    """A short description for logs and tables (default: made from the layers)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", tuple(int(s) for s in self.input_shape))
        object.__setattr__(self, "layers", tuple(self.layers))
        if not any(layer.param_shapes() for layer in self.layers):
            raise UnsupportedModelError("the model has no layer with weights")
        if len(self.output_shape) != 1 or self.output_shape[0] < 2:
            raise UnsupportedModelError(
                f"the model must end in one logit per class (2 or more), "
                f"not shape {self.output_shape}: end it with an nn.Linear"
            )

    # ------------------------------------------------------------ shapes
    @property
    def shapes_along(self) -> list[Shape]:
        """Per-sample shape before each layer, then the output's."""
        shapes = [self.input_shape]
        for i, layer in enumerate(self.layers):
            try:
                shapes.append(layer.out_shape(shapes[-1]))
            except UnsupportedModelError as exc:
                raise UnsupportedModelError(
                    f"layer {i} ({layer.kind}): {exc}"
                ) from None
        return shapes

    @property
    def output_shape(self) -> Shape:
        return self.shapes_along[-1]

    @property
    def inputs(self) -> int:
        """Numbers per sample (the flat samples' width)."""
        return math.prod(self.input_shape)

    @property
    def classes(self) -> int:
        return self.output_shape[0]

    @property
    def shapes(self) -> list[Shape]:
        """Shapes of the parameters, in the flat vector's order."""
        return [s for layer in self.layers for s in layer.param_shapes()]

    @property
    def num_weights(self) -> int:
        """Length of the flat weight vector."""
        return sum(math.prod(shape) for shape in self.shapes)

    # ------------------------------------------------------------ arithmetic
    @property
    def products(self) -> int:
        """Weighted layers between a sample and a logit: each multiplies by
        weights, adding the weights' scale to the values' fixed-point scale."""
        return sum(1 for layer in self.layers if layer.param_shapes())

    @property
    def factor(self) -> int:
        """The circuit's logits are this integer times the float model's."""
        f = 1
        for layer in self.layers:
            f = layer.factor(f)
        return f

    @property
    def growth(self) -> Growth:
        """How the model grows the circuit's values (its fixed-point layout)."""
        return Growth(products=self.products, factor=self.factor)

    # ------------------------------------------------------------ torch
    def build(self, seed: int | None = None) -> nn.Sequential:
        """A freshly initialised torch model of this shape, taking samples of
        `input_shape` (its parameters in the flat vector's order)."""
        if seed is not None:
            torch.manual_seed(seed)
        return nn.Sequential(*[layer.module() for layer in self.layers])

    def shaped(self, x: Tensor | Any) -> Tensor:
        """Flat samples `[n, inputs]` as the model takes them, `[n, *input_shape]`."""
        if not isinstance(x, Tensor) or x.dtype != torch.float32:
            x = torch.as_tensor(x, dtype=torch.float32)
        if tuple(x.shape[1:]) == self.input_shape:
            return x
        return x.reshape(-1, *self.input_shape)

    def split(self, flat: Tensor) -> tuple[Tensor, ...]:
        """Cut a flat vector (or a `[1, n]` row) into the parameters, in order."""
        flat = flat.reshape(-1)
        parts, o = [], 0
        for shape in self.shapes:
            n = math.prod(shape)
            part = flat[o : o + n]
            parts.append(part.reshape(shape) if len(shape) > 1 else part)
            o += n
        return tuple(parts)

    def logits(self, flat: Tensor, x: Tensor) -> Tensor:
        """Forward pass of the flat weights on flat samples `x` (float torch)."""
        params = iter(self.split(flat))
        out = self.shaped(x)
        for layer in self.layers:
            own = [next(params) for _ in layer.param_shapes()]
            out = layer.forward(out, own)
        return out

    def circuit_logits(self, flat: Tensor, x: Tensor) -> Tensor:
        """`factor` times the logits, computed as the evaluation circuit does (see
        `layers`): exact in fixed point, no division anywhere."""
        params = iter(self.split(flat))
        out, factor = self.shaped(x), 1
        for layer in self.layers:
            own = [next(params) for _ in layer.param_shapes()]
            out = layer.circuit(out, own, factor)
            factor = layer.factor(factor)
        return out

    # ------------------------------------------------------------ description
    def describe(self) -> str:
        """The spec's name, or one made from its layers."""
        if self.name:
            return self.name
        parts = []
        for layer in self.layers:
            if isinstance(layer, Linear):
                parts.append(f"linear {layer.in_features}-{layer.out_features}")
            elif layer.param_shapes():
                parts.append(
                    f"{layer.kind} {'x'.join(map(str, layer.param_shapes()[0]))}"
                )
            elif layer.kind not in ("flatten", "unflatten"):
                parts.append(layer.kind)
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_shape": list(self.input_shape),
            "layers": [layer.to_dict() for layer in self.layers],
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ModelSpec:
        try:
            return cls(
                input_shape=tuple(raw["input_shape"]),
                layers=tuple(layer_from_dict(layer) for layer in raw["layers"]),
                name=raw.get("name", ""),
            )
        except (KeyError, TypeError) as exc:
            raise ZKPoTValueError(f"not a model description: {exc}") from exc

    # ------------------------------------------------------------ from torch
    @classmethod
    def from_module(
        cls, module: nn.Module, input_shape: Shape, *, name: str = ""
    ) -> ModelSpec:
        """The spec of a torch module made of supported layers (an `nn.Sequential`,
        nested or not, or a module whose `forward` calls its layers one after the
        other), taking samples of `input_shape`. Raises `UnsupportedModelError`
        naming the first layer the circuit cannot prove."""
        spec = cls(input_shape=input_shape, layers=tuple(_chain(module)), name=name)
        spec.check_matches(module)
        return spec

    def check_matches(self, module: nn.Module) -> None:
        """Refuse `module` if its output differs from this spec's on random samples
        with its own weights (a forward pass that does more than its layers)."""
        x = torch.randn(4, self.inputs, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            try:
                theirs = module.eval()(self.shaped(x))
            except Exception as exc:
                raise UnsupportedModelError(
                    f"the model does not run on samples of shape {self.input_shape}: {exc}"
                ) from exc
            ours = self.logits(weights_of(self, module), x)
        if theirs.shape != ours.shape or not torch.allclose(theirs, ours, atol=1e-4):
            raise UnsupportedModelError(
                "the model's forward pass computes something other than its layers "
                "applied in order: write it as an nn.Sequential of supported layers"
            )


def weights_of(spec: ModelSpec, module: nn.Module) -> Tensor:
    """The weights of `module` (a model of `spec`) as the flat vector, taken layer
    by layer in the spec's order (not the order the module registered them)."""
    parts = []
    for _, m in _layer_modules(module):
        for name in ("weight", "bias"):
            p = getattr(m, name, None)
            if isinstance(p, Tensor):
                parts.append(p.detach().reshape(-1))
    flat = torch.cat(parts) if parts else torch.zeros(0)
    if flat.numel() != spec.num_weights:
        raise ZKPoTValueError(
            f"the module has {flat.numel()} weights, the spec {spec.num_weights}"
        )
    return flat


def _chain(module: nn.Module) -> list[Layer]:
    return [layer_of(m, where) for where, m in _layer_modules(module)]


def _layer_modules(module: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    """The modules `module` applies, in order, with their names."""
    if isinstance(module, nn.Sequential):
        out = []
        for name, child in module.named_children():
            out += _layer_modules(child, f"{prefix}{name}.")
        return out
    if not list(module.children()):
        return [(prefix.rstrip(".") or type(module).__name__, module)]
    return _traced(module, prefix)


def _traced(module: nn.Module, prefix: str) -> list[tuple[str, nn.Module]]:
    """The layers a module's `forward` calls one after the other (torch.fx)."""
    import torch.fx

    try:
        graph = torch.fx.symbolic_trace(module).graph
    except Exception as exc:
        raise UnsupportedModelError(
            f"cannot read the layers of {type(module).__name__}'s forward: {exc}; "
            "write the model as an nn.Sequential"
        ) from exc
    out, previous = [], None
    for node in graph.nodes:
        if node.op == "placeholder":
            previous = node
            continue
        if node.op == "output":
            break
        if node.args[:1] != (previous,) or any(
            isinstance(a, torch.fx.Node)
            for a in (*node.args[1:], *node.kwargs.values())
        ):
            raise UnsupportedModelError(
                f"{type(module).__name__}.forward is not a plain chain of layers "
                f"(at {node.name}): write it as an nn.Sequential"
            )
        if node.op == "call_module":
            sub = module.get_submodule(str(node.target))
            out += _layer_modules(sub, f"{prefix}{node.target}.")
        elif node.op == "call_function" and node.target in (
            torch.relu,
            nn.functional.relu,
        ):
            out.append((f"{prefix}{node.name}", nn.ReLU()))
        elif (node.op == "call_function" and node.target is torch.flatten) or (
            node.op == "call_method" and node.target == "flatten"
        ):
            out.append(
                (f"{prefix}{node.name}", nn.Flatten(*node.args[1:], **node.kwargs))
            )
        else:
            raise UnsupportedModelError(
                f"{type(module).__name__}.forward calls {node.target} ({node.name}), "
                "which the evaluation circuit does not support"
            )
        previous = node
    return out
