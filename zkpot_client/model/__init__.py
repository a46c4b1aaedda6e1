"""The task's model: which torch layers the circuit proves (`layers`), a model
as a chain of them (`spec`), the built-in models (`builtin`), a user's model
loaded by reference (`loading`), and the weights as one flat vector (`weights`)."""

from .layers import SUPPORTED, UnsupportedModelError
from .spec import ModelSpec, weights_of
from .weights import accuracy, count_correct, flatten, load_flat, quantise

__all__ = [
    "SUPPORTED",
    "ModelSpec",
    "UnsupportedModelError",
    "accuracy",
    "count_correct",
    "flatten",
    "load_flat",
    "quantise",
    "weights_of",
]
