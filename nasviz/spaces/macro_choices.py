"""What a layer of one layer-chain space may be: its choices, and the rules that make given settings a member's layer.

:class:`LayerChoices` checks a setting against the space's choices, normalises a
layer (settings that do not apply to its op dropped), turns a layer into its six
decisions and back, tells whether a chain fits the input's feature maps and repairs
one that does not (the rules are in :mod:`nasviz.spaces.macro`'s docstring).
:class:`HeadChoices` does the same for the hidden fully connected layers after the pooling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import (
    InvalidArchitectureError,
    InvalidArgumentError,
    UnknownNameError,
    UnknownOpError,
    check_positive_int,
)
from ..validation import check_choices, check_number
from .macro_layers import _APPLIES, ACTIVATIONS, LAYER_FIELDS, MACRO_OPS, MAX_FC_LAYERS, MacroLayer, _out_size

__all__ = ["HeadChoices", "LayerChoices", "check_head_choices", "check_layer_choices"]


def check_layer_choices(ops, filters, kernel_sizes, strides, activations, dropouts) -> dict[str, tuple]:
    """:class:`~nasviz.spaces.MacroSpace`'s choice arguments, checked in that order, by
    field of :data:`~nasviz.spaces.macro.LAYER_FIELDS` (an error names the bad argument)."""
    return {"op": check_choices("ops", ops, MACRO_OPS, error=UnknownOpError),
            "filters": _int_choices("filters", filters),
            "kernel": _int_choices("kernel_sizes", kernel_sizes),
            "stride": _int_choices("strides", strides),
            "activation": check_choices("activations", activations, ACTIVATIONS, error=UnknownNameError),
            "dropout": _dropout_choices(dropouts)}


def check_head_choices(max_fc_layers, fc_units) -> tuple[int, tuple[int, ...]]:
    """:class:`~nasviz.spaces.MacroSpace`'s ``max_fc_layers`` (``0..MAX_FC_LAYERS``) and
    ``fc_units`` (distinct positive ints), checked in that order."""
    return (check_positive_int("max_fc_layers", max_fc_layers, minimum=0, maximum=MAX_FC_LAYERS),
            _int_choices("fc_units", fc_units))


def _int_choices(what: str, values) -> tuple[int, ...]:
    items = check_choices(what, values, distinct=False)
    out = tuple(check_positive_int(f"each of {what}", v) for v in items)
    if len(set(out)) != len(out):
        raise InvalidArgumentError(f"{what} must be distinct, got {values!r}")
    return out


def _dropout_choices(dropouts) -> tuple[float, ...]:
    items = check_choices("dropouts", dropouts, distinct=False)
    out = [check_number("each dropout rate", d, minimum=0, maximum=1, max_open=True) for d in items]
    if len(set(out)) != len(out):
        raise InvalidArgumentError(f"dropouts must be distinct, got {dropouts!r}")
    return tuple(out)


class LayerChoices:
    """The settings a space offers each layer, and the rules over them.

    Parameters
    ----------
    choices : mapping of str to tuple
        The checked choices of each of :data:`~nasviz.spaces.macro.LAYER_FIELDS`
        (``"op"``, ``"filters"``, ``"kernel"``, ``"stride"``, ``"activation"``,
        ``"dropout"``), in the space's order.
    start : (int, int)
        Height and width of the input feature map (for feasibility and repair).
    """

    def __init__(self, choices: Mapping[str, tuple], start: tuple[int, int]):
        self.choices = choices
        self.start = tuple(start)

    def check_value(self, field: str, value, where: str):
        """``value`` as the space's own choice of ``field``; an error naming the accepted ones if it is none."""
        accepted = self.choices[field]
        if field == "dropout" and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
        if value not in accepted or (field != "dropout" and isinstance(value, bool)):
            error = UnknownOpError if field == "op" else InvalidArchitectureError
            raise error(f"unknown {field} {value!r} {where}; accepted: {', '.join(map(repr, accepted))}")
        return accepted[accepted.index(value)]  # the space's own object (plain int, not numpy.int64)

    def normal_layer(self, op, filters=None, kernel=None, stride=None, activation=None, dropout=None,
                     *, where: str = "") -> MacroLayer:
        """A layer record with its applicable settings checked and the others dropped."""
        op = self.check_value("op", op, where)
        given = {"filters": filters, "kernel": kernel, "stride": stride, "activation": activation,
                 "dropout": dropout}
        fields = {}
        for field, value in given.items():
            if field in _APPLIES[op]:
                if value is None:
                    raise InvalidArchitectureError(f"{op} needs a {field} {where}; accepted: "
                                                   f"{', '.join(map(repr, self.choices[field]))}")
                fields[field] = self.check_value(field, value, where)
            elif value is not None:
                self.check_value(field, value, where)  # an irrelevant value must still be a valid choice
        return MacroLayer(op, **fields)

    def placeholder(self) -> tuple:
        """The six decisions of a layer slot beyond the depth: each field's first choice."""
        return tuple(self.choices[field][0] for field in LAYER_FIELDS)

    def layer_decisions(self, layer: MacroLayer) -> tuple:
        """The six decisions of ``layer``; settings that do not apply hold their first choice."""
        return tuple(self.choices[f][0] if v is None else v for f, v in zip(LAYER_FIELDS, layer))

    def example_layer(self, op: str) -> MacroLayer:
        """A layer of ``op`` with the first choice of each setting it has (for messages)."""
        return MacroLayer(op, **{f: self.choices[f][0] for f in _APPLIES[op]})

    def infeasible(self, layers: Sequence[MacroLayer]):
        """``None`` if the chain fits the input, else ``(position, layer, (h, w))`` of the first misfit."""
        h, w = self.start
        for i, layer in enumerate(layers):
            if layer.op == "identity":
                continue
            if layer.kernel > min(h, w) or layer.stride > min(h, w):
                return i, layer, (h, w)
            h, w = _out_size(h, layer.kernel, layer.stride), _out_size(w, layer.kernel, layer.stride)
        return None

    def repair(self, layers: Sequence[MacroLayer]) -> list[MacroLayer]:
        """The chain made to fit: a kernel or stride too large for its map becomes the
        largest choice that fits; a layer for which none fits becomes ``identity``, or the
        chain ends before it when ``identity`` is not offered."""
        kernels, strides = self.choices["kernel"], self.choices["stride"]
        out = []
        h, w = self.start
        for layer in layers:
            if layer.op != "identity":
                m = min(h, w)
                kernel = layer.kernel if layer.kernel <= m else max((k for k in kernels if k <= m), default=None)
                stride = layer.stride if layer.stride <= m else max((s for s in strides if s <= m), default=None)
                if kernel is None or stride is None:
                    if "identity" not in self.choices["op"]:
                        break
                    layer = MacroLayer("identity")
                else:
                    layer = layer._replace(kernel=kernel, stride=stride)
            out.append(layer)
            if layer.op != "identity":
                h, w = _out_size(h, layer.kernel, layer.stride), _out_size(w, layer.kernel, layer.stride)
        return out


class HeadChoices:
    """The hidden fully connected layers a space offers after the global average pooling.

    Parameters
    ----------
    units : tuple of int
        The checked ``fc_units``: the choices of each layer's number of units.
    max_fc : int
        The most hidden layers (``max_fc_layers``); heads of ``0..max_fc`` layers are members.
    """

    def __init__(self, units: tuple[int, ...], max_fc: int):
        self.units = tuple(units)
        self.max_fc = max_fc

    def check_units(self, value, where: str) -> int:
        """``value`` as the space's own choice of units; an error naming the accepted ones if it is none."""
        try:
            known = not isinstance(value, bool) and value in self.units
        except (TypeError, ValueError):  # e.g. an array of several numbers
            known = False
        if not known:
            raise InvalidArchitectureError(
                f"unknown fc units {value!r} {where}; accepted: {', '.join(map(repr, self.units))}")
        return self.units[self.units.index(value)]  # the space's own object (plain int, not numpy.int64)

    def check_depth(self, value, where: str = "") -> int:
        """``value`` as a number of hidden layers ``0..max_fc``, else an error naming both."""
        if isinstance(value, bool) or value not in range(self.max_fc + 1):
            raise InvalidArchitectureError(
                f"unknown fc depth {value!r}{' ' + where if where else ''}; accepted: 0..{self.max_fc} "
                f"(max_fc_layers)")
        return int(value)

    def normal_head(self, fc, text: str | None = None) -> tuple[int, ...]:
        """``fc`` (a sequence of units) checked against the space: at most ``max_fc`` layers, each a choice.

        ``text``: the architecture string ``fc`` was read from, for messages.
        """
        fc = tuple(fc)
        if len(fc) > self.max_fc:
            given = f"{text!r} has {len(fc)}" if text is not None else f"{len(fc)} given:"
            raise InvalidArchitectureError(
                f"{given} fully connected layers; this space allows 0..{self.max_fc} (max_fc_layers)")
        of = f" of {text!r}" if text is not None else ""
        return tuple(self.check_units(u, f"in fc layer {i}{of}") for i, u in enumerate(fc, start=1))
