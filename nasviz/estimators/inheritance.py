"""Weight inheritance: start a child network from its parent's trained weights.

Evolution and local search derive each candidate from a parent by a small change.
The child's network then shares most of its parts with the parent's, and those
parts can start from the parent's trained weights instead of from scratch (the
"network morphism" / transfer-learning estimator of Elsken et al., 2019, and of
Real et al.'s evolution with weight inheritance, 2017). The child needs fewer
epochs to reach the same accuracy; the price is bias: a child's score now depends
on its lineage, not only on its architecture.

What counts as "the same part" is decided per **unit**: a module whose children
are all leaf modules (e.g. a ReLU-Conv-BN block, a stem), or a leaf module that is
not inside such a block (e.g. the classifier). A unit is copied when the parent has
a unit of the same name with the same structure (``repr``: class, kernel sizes,
channels) and tensors of the same shapes. For a :class:`~nasviz.CellSpace` mutant
that is exactly: every edge whose op did not change, the stem, the reduction blocks,
the last BN and the classifier. Tensors owned directly by a module that is not a
unit are copied when their name and shape match.

Examples
--------
>>> import nasviz as nv
>>> from nasviz.estimators.inheritance import snapshot, inherit
>>> space = nv.CellSpace()
>>> parent = space.from_string(
...     "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
>>> child = space.from_string(
...     "|nor_conv_1x1~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
>>> net = space.build(child, channels=4)
>>> copied = inherit(net, snapshot(space.build(parent, channels=4)))
>>> copied, len(net.state_dict())  # all but edge 0's conv + BN tensors in each of the 3 cells
(75, 93)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ParentWeights", "inherit", "snapshot", "weight_units"]


@dataclass(frozen=True)
class ParentWeights:
    """A trained network's tensors (on CPU) and the structure of its units."""

    state: dict
    units: dict  # unit name -> repr of the unit module

    def nbytes(self) -> int:
        return int(sum(t.numel() * t.element_size() for t in self.state.values()))


def _is_leaf(module) -> bool:
    return next(module.children(), None) is None


def weight_units(model) -> dict:
    """``{name: module}`` for every unit of ``model`` (see the module docstring).

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> units = weight_units(space.build(space.from_string(
    ...     "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"), channels=4))
    >>> [u for u in units if u.startswith("cells.0.")]
    ['cells.0.ops.0', 'cells.0.ops.1', 'cells.0.ops.2', 'cells.0.ops.3', 'cells.0.ops.4', 'cells.0.ops.5']
    """
    units = {}

    def visit(prefix, module):
        children = list(module.named_children())
        if not children or (prefix and all(_is_leaf(c) for _, c in children)):
            units[prefix] = module
            return
        for name, child in children:
            visit(f"{prefix}.{name}" if prefix else name, child)

    visit("", model)
    return units


def _unit_of(key: str, units: dict) -> str | None:
    """The unit that owns state-dict entry ``key`` (longest matching prefix), or None."""
    parts = key.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in units:
            return prefix
    return "" if "" in units else None


def snapshot(model) -> ParentWeights:
    """The tensors and unit structure of a (trained) network, copied to CPU."""
    state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
    return ParentWeights(state=state, units={name: repr(m) for name, m in weight_units(model).items()})


def inherit(child, parent: ParentWeights) -> int:
    """Copy ``parent``'s tensors into ``child`` wherever units match; return how many tensors were copied."""
    import torch

    units = weight_units(child)
    same_unit = {name: parent.units.get(name) == repr(m) for name, m in units.items()}
    child_state = child.state_dict()
    # a unit is copied only as a whole: every one of its tensors must be present with the same shape
    whole = dict(same_unit)
    for key, tensor in child_state.items():
        unit = _unit_of(key, units)
        if unit is not None and whole.get(unit):
            theirs = parent.state.get(key)
            if theirs is None or tuple(theirs.shape) != tuple(tensor.shape):
                whole[unit] = False
    copied = 0
    with torch.no_grad():
        for key, tensor in child_state.items():
            unit = _unit_of(key, units)
            theirs = parent.state.get(key)
            if theirs is None or tuple(theirs.shape) != tuple(tensor.shape):
                continue
            if unit is None or whole.get(unit):
                tensor.copy_(theirs.to(device=tensor.device, dtype=tensor.dtype))
                copied += 1
    return copied
