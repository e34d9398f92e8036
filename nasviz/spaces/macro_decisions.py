"""The fixed-length views of a layer chain: its decisions and its one-hot encoding.

Both have the same layout: the depth, then six entries per layer slot
(:data:`~nasviz.spaces.macro.LAYER_FIELDS`: op, filters, kernel, stride, activation,
dropout) for all ``max_layers`` slots, so chains of every depth have one length. A
space with hidden fully connected layers (``max_fc_layers > 0``) appends its head:
the number of hidden layers, then the units of each of the ``max_fc_layers`` slots.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InvalidArchitectureError
from .base import Decision
from .macro_choices import HeadChoices, LayerChoices
from .macro_layers import LAYER_FIELDS, MacroLayer

__all__ = ["chain_decisions", "decision_list", "head_decision_list", "head_decisions", "head_from_decisions",
           "head_onehot", "layers_from_decisions", "onehot", "split_head"]


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


# -- the head: hidden fully connected layers after the pooling ---------------------------

def head_decision_list(head: HeadChoices) -> list[Decision]:
    """``fc depth`` (``0..max_fc``), then ``fc i units`` for each of the ``max_fc`` slots; none when ``max_fc`` is 0."""
    if not head.max_fc:
        return []
    return [Decision("fc depth", tuple(range(head.max_fc + 1)))] + [
        Decision(f"fc {i} units", head.units) for i in range(1, head.max_fc + 1)]


def head_decisions(fc: Sequence[int], head: HeadChoices) -> list:
    """The decisions of the head ``fc``; slots beyond its depth hold the first choice (none when ``max_fc`` is 0)."""
    if not head.max_fc:
        return []
    return [len(fc), *fc] + [head.units[0]] * (head.max_fc - len(fc))


def split_head(values: tuple, max_layers: int, max_fc: int) -> tuple[tuple, tuple | None]:
    """``values`` split into the chain's decisions and the head's (``None`` when ``max_fc`` is 0).

    The chain part is ``1 + 6 * max_layers`` or ``1 + 6 * depth`` long, the head part
    ``1 + max_fc`` or ``1 + fc depth``; as ``max_fc < 6`` only one split fits. When the
    depth is unknown, everything is left to the chain (whose check names it).
    """
    depth = values[0] if values else None
    if not max_fc or isinstance(depth, bool) or depth not in range(1, max_layers + 1):
        return values, None
    for chain_len in dict.fromkeys((1 + 6 * max_layers, 1 + 6 * int(depth))):
        if 1 <= len(values) - chain_len <= 1 + max_fc:
            return values[:chain_len], values[chain_len:]
    d = int(depth)
    raise InvalidArchitectureError(
        f"expected {1 + 6 * max_layers + 1 + max_fc} decisions (depth; op, filters, kernel, stride, activation, "
        f"dropout for each of {max_layers} layers; then fc depth and the units of each of {max_fc} fully "
        f"connected layers), or {1 + 6 * d} for depth {d} followed by 1 + fc depth head decisions; "
        f"got {len(values)}: {values!r}"
    )


def head_from_decisions(values: tuple, head: HeadChoices) -> tuple[int, ...]:
    """The head that ``values`` (``fc depth``, then ``max_fc`` or ``fc depth`` units) names;
    units of unused slots may be ``None``, others must be valid choices."""
    fc_depth = head.check_depth(values[0])
    if len(values) not in (1 + head.max_fc, 1 + fc_depth):
        short = f" or {1 + fc_depth} for fc depth {fc_depth}" if fc_depth < head.max_fc else ""
        raise InvalidArchitectureError(
            f"expected {1 + head.max_fc} head decisions (fc depth, then the units of each of {head.max_fc} fully "
            f"connected layers){short}; got {len(values)}: {values!r}"
        )
    units = values[1:]
    for i, u in enumerate(units[fc_depth:], start=fc_depth + 1):  # unused slots
        if u is not None:
            head.check_units(u, f"in fc layer {i}")
    return head.normal_head(units[:fc_depth])


def head_onehot(fc: Sequence[int], head: HeadChoices) -> np.ndarray:
    """A one-hot fc-depth block (``0..max_fc``), then a one-hot units block per slot;
    slots beyond the fc depth stay zero. Empty when ``max_fc`` is 0."""
    if not head.max_fc:
        return np.zeros(0, dtype=np.float32)
    n = len(head.units)
    vec = np.zeros(1 + head.max_fc + head.max_fc * n, dtype=np.float32)
    vec[len(fc)] = 1.0
    for slot, u in enumerate(fc):
        vec[1 + head.max_fc + slot * n + head.units.index(u)] = 1.0
    return vec
