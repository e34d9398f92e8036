"""The fixed-length views of a layer chain: its decisions and its one-hot encoding.

Both have the same layout: the depth, then six entries per layer slot
(:data:`~nasviz.spaces.macro.LAYER_FIELDS`: op, filters, kernel, stride, activation,
dropout) for all ``max_layers`` slots, so chains of every depth have one length.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InvalidArchitectureError
from .base import Decision
from .macro_choices import LayerChoices
from .macro_layers import LAYER_FIELDS, MacroLayer

__all__ = ["chain_decisions", "decision_list", "layers_from_decisions", "onehot"]


def decision_list(choices: LayerChoices, max_layers: int) -> list[Decision]:
    """``depth``, then ``layer i <field>`` for each field of each of ``max_layers`` layers."""
    out = [Decision("depth", tuple(range(1, max_layers + 1)))]
    for i in range(1, max_layers + 1):
        out.extend(Decision(f"layer {i} {field}", choices.choices[field]) for field in LAYER_FIELDS)
    return out


def chain_decisions(layers: Sequence[MacroLayer], choices: LayerChoices, max_layers: int) -> list:
    """The decisions of normalised ``layers``; slots beyond the depth hold each field's first choice."""
    values = [len(layers)]
    for layer in layers:
        values.extend(choices.layer_decisions(layer))
    values.extend(choices.placeholder() * (max_layers - len(layers)))
    return values


def layers_from_decisions(values, choices: LayerChoices, max_layers: int) -> list[MacroLayer]:
    """The normalised layers that ``values`` (``1 + 6 * max_layers`` or ``1 + 6 * depth``
    decisions) name, not yet made feasible; values of unused slots may be ``None``."""
    try:
        values = tuple(values)
    except TypeError:
        raise InvalidArchitectureError(f"expected a sequence of decisions, got {values!r}") from None
    if not values:
        raise InvalidArchitectureError(f"expected 1 + 6 * {max_layers} decisions, got none")
    depth = values[0]
    if isinstance(depth, bool) or depth not in range(1, max_layers + 1):
        raise InvalidArchitectureError(f"unknown depth {depth!r}; accepted: 1..{max_layers}")
    depth = int(depth)
    if len(values) not in (1 + 6 * max_layers, 1 + 6 * depth):
        raise InvalidArchitectureError(
            f"expected {1 + 6 * max_layers} decisions (depth, then op, filters, kernel, stride, "
            f"activation, dropout for each of {max_layers} layers) or {1 + 6 * depth} for depth {depth}; "
            f"got {len(values)}: {values!r}"
        )
    layers = []
    for i in range((len(values) - 1) // 6):
        chunk = values[1 + 6 * i: 7 + 6 * i]
        where = f"in layer {i + 1}"
        if i < depth:
            layers.append(choices.normal_layer(*chunk, where=where))
        else:  # unused layer: values may be None, others must be valid choices
            for field, v in zip(LAYER_FIELDS, chunk):
                if v is not None:
                    choices.check_value(field, v, where)
    return layers


def onehot(layers: Sequence[MacroLayer], choices: LayerChoices, max_layers: int) -> np.ndarray:
    """A one-hot depth block, then per layer slot one-hot blocks for each field; settings
    that do not apply and slots beyond the depth stay zero."""
    sizes = [len(choices.choices[f]) for f in LAYER_FIELDS]
    vec = np.zeros(max_layers + max_layers * sum(sizes), dtype=np.float32)
    vec[len(layers) - 1] = 1.0
    offset = max_layers
    for slot in range(max_layers):
        layer = layers[slot] if slot < len(layers) else None
        for field, size, value in zip(LAYER_FIELDS, sizes, layer if layer else (None,) * 6):
            if value is not None:
                vec[offset + choices.choices[field].index(value)] = 1.0
            offset += size
    return vec
