"""The moves between layer chains: change one setting of one layer, remove a layer, insert a layer.

:func:`chain_moves` lists every feasible chain one move away from a member, by kind
and in a fixed order; :func:`head_moves` does the same for the hidden fully connected
layers after the pooling (change one layer's units, drop the last layer, append one).
:meth:`~nasviz.spaces.MacroSpace.neighbors` and :meth:`~nasviz.spaces.MacroSpace.mutate`
are built on them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .macro_choices import HeadChoices, LayerChoices
from .macro_counting import ChainCounts
from .macro_layers import _APPLIES, LAYER_FIELDS, MacroLayer

__all__ = ["chain_moves", "head_moves"]


def chain_moves(layers: Sequence[MacroLayer], choices: LayerChoices, chains: ChainCounts,
                max_layers: int) -> dict[str, list[list[MacroLayer]]]:
    """The feasible chains one move from the member ``layers``, by kind of move.

    Returns ``{"change": [...], "remove": [...], "add": [...]}``, each a list of
    distinct chains (lists of layers), none equal to ``layers`` or listed under an
    earlier kind. Changes go layer by layer, field by field, choice by choice; removals
    and insertions position by position (insertions in :meth:`ChainCounts.layer_configs`
    order for the map at that position).
    """
    layers = list(layers)
    seen = {tuple(layers)}
    moves: dict[str, list[list[MacroLayer]]] = {"change": [], "remove": [], "add": []}

    def offer(kind, new_layers):
        if choices.infeasible(new_layers) is None and tuple(new_layers) not in seen:
            seen.add(tuple(new_layers))
            moves[kind].append(new_layers)

    for pos in range(len(layers)):
        for new in _changed_layers(layers[pos], choices):
            offer("change", layers[:pos] + [new] + layers[pos + 1:])
    if len(layers) > 1:
        for pos in range(len(layers)):
            offer("remove", layers[:pos] + layers[pos + 1:])
    if len(layers) < max_layers:
        hw = chains.start
        for pos in range(len(layers) + 1):
            for new, _ in chains.layer_configs(hw):
                offer("add", layers[:pos] + [new] + layers[pos:])
            if pos < len(layers):
                layer = layers[pos]
                if layer.op != "identity":
                    hw = layer.out_shape((0, *hw))[1:]
    return moves


def _changed_layers(layer: MacroLayer, choices: LayerChoices) -> Iterator[MacroLayer]:
    """``layer`` with one applicable setting (or its op) changed, field by field, choice by choice.

    A new op keeps the settings it shares with the old one and takes the normalised
    (first) choice for the others.
    """
    stored = choices.layer_decisions(layer)
    for f_idx, field in enumerate(LAYER_FIELDS):
        if field != "op" and field not in _APPLIES[layer.op]:
            continue
        for choice in choices.choices[field]:
            if choice == stored[f_idx]:
                continue
            values = list(stored)
            values[f_idx] = choice
            yield choices.normal_layer(*(v if f in ("op",) + _APPLIES[values[0]] else None
                                         for f, v in zip(LAYER_FIELDS, values)))


def head_moves(fc: Sequence[int], head: HeadChoices) -> list[tuple[int, ...]]:
    """The heads one move from ``fc``: one layer's units changed (layer by layer, choice
    by choice), then the last layer dropped, then a layer appended (in choice order).

    Empty when the space offers no hidden layers (``max_fc`` 0).

    Examples
    --------
    >>> head_moves((8,), HeadChoices((8, 16), 2))
    [(16,), (), (8, 8), (8, 16)]
    """
    fc = tuple(fc)
    out = []
    for pos, units in enumerate(fc):
        out.extend(fc[:pos] + (u,) + fc[pos + 1:] for u in head.units if u != units)
    if fc:
        out.append(fc[:-1])
    if len(fc) < head.max_fc:
        out.extend(fc + (u,) for u in head.units)
    return out
