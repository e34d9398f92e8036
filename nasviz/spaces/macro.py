"""The layer-chain ("macro") search space: the type and number of layers.

A member is a chain of 1..``max_layers`` layers followed by a classifier head
(global average pooling + linear). Each layer has an operation and the settings
that apply to it:

============  =========  ======  ======  ==========  =======
op            filters    kernel  stride  activation  dropout
============  =========  ======  ======  ==========  =======
conv          yes        yes     yes     yes         yes
sep_conv      yes        yes     yes     yes         yes
max_pool      (keeps C)  yes     yes     --          --
avg_pool      (keeps C)  yes     yes     --          --
identity      --         --      --      --          --
============  =========  ======  ======  ==========  =======

Settings that do not apply are not part of the architecture (they are ``None`` in
its :class:`MacroLayer` records), so they never create duplicates: ``len(space)`` is
the exact number of distinct chains, computed by dynamic programming over feature-map
sizes, never by enumerating.

**Feasibility.** Every layer pads by ``(kernel - 1) // 2``, so an odd kernel with
stride ``s`` maps a side of ``n`` pixels to ``ceil(n / s)``. A layer is *feasible* when
its kernel and its stride are both no larger than the smaller side of the feature map
it receives (no kernel slides over a map smaller than itself; no stride skips a whole
map). Infeasible chains are **excluded**: not counted, never enumerated, sampled,
mutated to or accepted by :meth:`MacroSpace.from_string`. Only
:meth:`MacroSpace.from_decisions` **repairs** them, so that strategies which choose
each decision independently (REINFORCE, MCTS) always get a member: a kernel or stride
too large for its map becomes the largest choice that fits, and a layer for which no
choice fits becomes ``identity`` (or, when ``identity`` is not offered, the chain
ends before it).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np

from ..errors import (
    InvalidArchitectureError,
    InvalidArgumentError,
    ShapeError,
    UnknownNameError,
    UnknownOpError,
    check_positive_int,
)
from ..validation import check_choices, check_number, make_rng
from .base import Architecture, Decision, Space

__all__ = ["ACTIVATIONS", "LAYER_FIELDS", "MACRO_OPS", "MAX_LAYERS", "MacroArchitecture", "MacroLayer", "MacroSpace",
           "layer_label"]

#: The longest chain a space may offer: deeper spaces take seconds per neighbourhood
#: (``neighbors`` is quadratic in the depth) and have over 10^170 members.
MAX_LAYERS = 100

#: Operations a layer may have.
MACRO_OPS = ("conv", "sep_conv", "max_pool", "avg_pool", "identity")
#: Activation names a convolution may use (``build`` maps them to ``torch.nn`` modules).
ACTIVATIONS = ("relu", "relu6", "gelu", "silu", "elu", "leaky_relu", "tanh", "sigmoid")
#: The settings of a layer, in the order of its decisions and of :class:`MacroLayer`'s fields.
LAYER_FIELDS = ("op", "filters", "kernel", "stride", "activation", "dropout")

_CONV_OPS = ("conv", "sep_conv")
_POOL_OPS = ("max_pool", "avg_pool")
# which settings apply to which op (besides the op itself)
_APPLIES = {
    "conv": ("filters", "kernel", "stride", "activation", "dropout"),
    "sep_conv": ("filters", "kernel", "stride", "activation", "dropout"),
    "max_pool": ("kernel", "stride"),
    "avg_pool": ("kernel", "stride"),
    "identity": (),
}


def _out_size(n: int, kernel: int, stride: int) -> int:
    """Side length after a layer with padding ``(kernel - 1) // 2``."""
    return (n + 2 * ((kernel - 1) // 2) - kernel) // stride + 1


def layer_label(op, filters=None, kernel=None, stride=None, activation=None, dropout=None) -> str:
    """The text a drawing writes in a layer's box: the op and the settings it has.

    Settings that are ``None`` (they do not apply to the op) are left out, and so are a
    zero dropout and an empty activation. Arguments are :data:`LAYER_FIELDS`, in order,
    so ``layer_label(*layer)`` labels a :class:`MacroLayer`.

    Examples
    --------
    >>> print(layer_label("conv", 16, 3, 1, "relu", 0.2))
    conv 16
    3x3 s1
    relu
    drop 0.2
    >>> layer_label("max_pool", kernel=3, stride=2), layer_label("identity")
    ('max_pool\\n3x3 s2', 'identity')
    """
    lines = [str(op) if filters is None else f"{op} {filters}"]
    if kernel is not None:
        lines.append(f"{kernel}x{kernel}" + (f" s{stride}" if stride is not None else ""))
    if activation:
        lines.append(str(activation))
    if dropout:
        lines.append(f"drop {dropout:g}")
    return "\n".join(lines)


class MacroLayer(NamedTuple):
    """One layer of a chain; settings that do not apply to ``op`` are ``None``.

    ``str(layer)`` is its token in the architecture string, e.g.
    ``conv(16,k3,s1,relu,d0.0)``, ``max_pool(k3,s2)`` or ``identity``.
    """

    op: str
    filters: int | None = None
    kernel: int | None = None
    stride: int | None = None
    activation: str | None = None
    dropout: float | None = None

    def __str__(self) -> str:
        if self.op in _CONV_OPS:
            return (f"{self.op}({self.filters},k{self.kernel},s{self.stride},"
                    f"{self.activation},d{self.dropout!r})")
        if self.op in _POOL_OPS:
            return f"{self.op}(k{self.kernel},s{self.stride})"
        return self.op

    @property
    def label(self) -> str:
        """A short multi-line text for drawing, e.g. ``"conv 16\\n3x3 s1\\nrelu"`` (see :func:`layer_label`)."""
        return layer_label(*self)

    def out_shape(self, shape: tuple[int, int, int]) -> tuple[int, int, int]:
        """The ``(C, H, W)`` this layer produces from an input of ``shape``."""
        c, h, w = shape
        if self.op == "identity":
            return (c, h, w)
        c = self.filters if self.op in _CONV_OPS else c
        return (c, _out_size(h, self.kernel, self.stride), _out_size(w, self.kernel, self.stride))


class MacroArchitecture(Architecture):
    """A chain of layers followed by a classifier head: plain, immutable data.

    Build one with :meth:`MacroSpace.from_string`, :meth:`MacroSpace.sample`,
    :meth:`MacroSpace.from_decisions` or ``space[i]``. Equality and hashing use the
    decisions (as for every :class:`~nasviz.spaces.Architecture`); ``input_shape`` and
    ``num_classes`` are the space's, kept so that :meth:`to_networkx` can give shapes.

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.MacroSpace()
    >>> a = space.from_string("conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2) > identity")
    >>> a
    MacroArchitecture('conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2) > identity')
    >>> a.depth, a.ops
    (3, ('conv', 'max_pool', 'identity'))
    >>> a.layers[1]
    MacroLayer(op='max_pool', filters=None, kernel=3, stride=2, activation=None, dropout=None)
    >>> a.shapes
    ((1, 8, 8), (16, 8, 8), (16, 4, 4), (16, 4, 4))
    >>> g = a.to_networkx()
    >>> g.nodes[1]["label"], g.edges[2, 3]["shape"]
    ('conv 16\\n3x3 s1\\nrelu', (16, 4, 4))
    """

    __slots__ = ("_decisions", "_input_shape", "_layers", "_num_classes")

    def __init__(self, layers: Sequence[MacroLayer], *, decisions: Sequence[object],
                 input_shape: Sequence[int] = (1, 8, 8), num_classes: int = 10):
        layers = tuple(MacroLayer(*layer) for layer in layers)
        if not layers:
            raise InvalidArchitectureError("a macro architecture needs at least one layer")
        object.__setattr__(self, "_layers", layers)
        object.__setattr__(self, "_decisions", tuple(decisions))
        object.__setattr__(self, "_input_shape", tuple(int(d) for d in input_shape))
        object.__setattr__(self, "_num_classes", int(num_classes))

    def __reduce__(self):  # pickling (e.g. to parallel workers) despite immutability
        return (_rebuild, (self._layers, self._decisions, self._input_shape, self._num_classes))

    @property
    def layers(self) -> tuple[MacroLayer, ...]:
        """The layers in order, as :class:`MacroLayer` records."""
        return self._layers

    @property
    def decisions(self) -> tuple:
        """Depth, then op/filters/kernel/stride/activation/dropout for each of the
        space's ``max_layers`` layers; settings that do not apply (and layers beyond the
        depth) hold the first choice of their decision."""
        return self._decisions

    @property
    def depth(self) -> int:
        return len(self._layers)

    @property
    def ops(self) -> tuple[str, ...]:
        return tuple(layer.op for layer in self._layers)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self._input_shape

    @property
    def num_classes(self) -> int:
        return self._num_classes

    @property
    def shapes(self) -> tuple[tuple[int, int, int], ...]:
        """``(C, H, W)`` of the input and after each layer (``depth + 1`` shapes)."""
        out = [self._input_shape]
        for layer in self._layers:
            out.append(layer.out_shape(out[-1]))
        return tuple(out)

    def __str__(self) -> str:
        return " > ".join(str(layer) for layer in self._layers)

    def __repr__(self) -> str:
        return f"MacroArchitecture('{self}')"

    def to_networkx(self):
        """A chain ``nx.DiGraph``: node 0 the input, nodes ``1..depth`` the layers, node
        ``depth + 1`` the head; edge ``i -> i+1`` carries the ``shape`` flowing along it.

        Layer nodes have ``kind="layer"``, ``op``, ``filters``, ``kernel``, ``stride``,
        ``activation``, ``dropout`` (``None`` where not applicable) and ``label``.
        """
        import networkx as nx

        shapes = self.shapes
        g = nx.DiGraph()
        c, h, w = self._input_shape
        g.add_node(0, kind="input", shape=self._input_shape, label=f"input\n{c}x{h}x{w}")
        for i, layer in enumerate(self._layers, start=1):
            g.add_node(i, kind="layer", label=layer.label, **layer._asdict())
        head = len(self._layers) + 1
        g.add_node(head, kind="head", num_classes=self._num_classes,
                   label=f"avg pool\nlinear {self._num_classes}")
        for i in range(head):
            g.add_edge(i, i + 1, shape=shapes[i])
        return g


def _rebuild(layers, decisions, input_shape, num_classes):
    return MacroArchitecture(layers, decisions=decisions, input_shape=input_shape, num_classes=num_classes)


def _randbelow(rng: np.random.Generator, n: int) -> int:
    """A uniform integer in ``[0, n)`` for any Python int ``n`` (may exceed 64 bits)."""
    if n <= 2**62:
        return int(rng.integers(n))
    bits = n.bit_length()
    chunks = (bits + 31) // 32
    while True:
        x = 0
        for _ in range(chunks):
            x = (x << 32) | int(rng.integers(2**32))
        x >>= 32 * chunks - bits
        if x < n:
            return x


def _int_choices(what: str, values, *, minimum: int = 1) -> tuple[int, ...]:
    items = check_choices(what, values, distinct=False)
    out = tuple(check_positive_int(f"each of {what}", v, minimum=minimum) for v in items)
    if len(set(out)) != len(out):
        raise InvalidArgumentError(f"{what} must be distinct, got {values!r}")
    return out


def _name_choices(what: str, values, accepted: Sequence[str], error) -> tuple[str, ...]:
    return check_choices(what, values, accepted, error=error)


class MacroSpace(Space):
    """Chains of 1..``max_layers`` layers (op, filters, kernel, stride, activation,
    dropout), then global average pooling and a linear classifier.

    Parameters
    ----------
    max_layers : int
        The longest chain, ``1 <= max_layers <= 100`` (:data:`MAX_LAYERS`); chains of
        every depth ``1..max_layers`` are members.
    ops : sequence of str
        Layer operations, a subset of ``"conv"``, ``"sep_conv"`` (depthwise + pointwise),
        ``"max_pool"``, ``"avg_pool"``, ``"identity"``.
    filters : sequence of int
        Output channels of ``conv`` and ``sep_conv`` layers (pooling keeps its channels).
    kernel_sizes, strides : sequence of int
        Kernel sizes and strides of convolutions and pooling layers.
    activations : sequence of str
        Activations after a convolution (and its batch normalisation); see
        :data:`ACTIVATIONS`.
    dropouts : sequence of float
        Dropout rates in ``[0, 1)`` after a convolution's activation.
    input_shape : (C, H, W)
        The images the networks take; it decides which chains are feasible (see the
        module docstring) and is ``build``'s default for ``in_channels``.
    num_classes : int
        ``build``'s default number of outputs.

    Notes
    -----
    The decisions (for strategies that walk them) are ``depth`` followed by six per
    layer for all ``max_layers`` layers; :meth:`from_decisions` ignores the settings
    that do not apply and the layers beyond the depth, and repairs infeasible choices.
    Members are ordered by depth, then layer by layer in the order of the choices
    above; ``index`` and ``space[i]`` follow that order without enumerating.

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.MacroSpace()
    >>> space.count_by_depth()        # exact counts: the space explodes with depth
    {1: 105, 2: 8321, 3: 516777, 4: 29436161}
    >>> len(space)
    29961364
    >>> arch = space.sample(seed=0)
    >>> space.from_string(str(arch)) == arch == space[space.index(arch)]
    True
    >>> space.encode(arch).shape
    (68,)
    """

    def __init__(self, max_layers: int = 4,
                 ops: Sequence[str] = MACRO_OPS,
                 filters: Sequence[int] = (8, 16, 32),
                 kernel_sizes: Sequence[int] = (3, 5),
                 strides: Sequence[int] = (1, 2),
                 activations: Sequence[str] = ("relu", "gelu"),
                 dropouts: Sequence[float] = (0.0, 0.2),
                 input_shape: Sequence[int] = (1, 8, 8),
                 num_classes: int = 10):
        self.max_layers = max_layers
        self.ops = ops
        self.filters = filters
        self.kernel_sizes = kernel_sizes
        self.strides = strides
        self.activations = activations
        self.dropouts = dropouts
        self.input_shape = input_shape
        self.num_classes = num_classes

        self._max_layers = check_positive_int("max_layers", max_layers, maximum=MAX_LAYERS)
        self._ops = _name_choices("ops", ops, MACRO_OPS, UnknownOpError)
        self._filters = _int_choices("filters", filters)
        self._kernels = _int_choices("kernel_sizes", kernel_sizes)
        self._strides = _int_choices("strides", strides)
        self._activations = _name_choices("activations", activations, ACTIVATIONS, UnknownNameError)
        self._dropouts = self._check_dropouts(dropouts)
        self._input_shape = self._check_input_shape(input_shape)
        self._num_classes = check_positive_int("num_classes", num_classes)
        self._choices = {"op": self._ops, "filters": self._filters, "kernel": self._kernels,
                         "stride": self._strides, "activation": self._activations, "dropout": self._dropouts}
        self._counts: dict = {}
        self._decision_list: list = []
        self._configs: dict = {}
        h, w = self._input_shape[1:]
        if not self._layer_configs((h, w)):
            raise InvalidArgumentError(
                f"no layer fits input_shape {self._input_shape!r}: kernel_sizes {self._kernels!r} and strides "
                f"{self._strides!r} need a feature map at least as large as the smallest of each; offer "
                f"'identity' in ops, smaller kernel_sizes/strides, or a larger input_shape"
            )

    @staticmethod
    def _check_dropouts(dropouts) -> tuple[float, ...]:
        items = check_choices("dropouts", dropouts, distinct=False)
        out = [check_number("each dropout rate", d, minimum=0, maximum=1, max_open=True) for d in items]
        if len(set(out)) != len(out):
            raise InvalidArgumentError(f"dropouts must be distinct, got {dropouts!r}")
        return tuple(out)

    @staticmethod
    def _check_input_shape(shape) -> tuple[int, int, int]:
        try:
            items = tuple(shape)
        except TypeError:
            items = ()
        if len(items) != 3 or not all(
            not isinstance(d, bool) and isinstance(d, (int, np.integer)) and d > 0 for d in items
        ):
            raise ShapeError(f"input_shape must be (channels, height, width) of positive ints, e.g. (1, 8, 8); "
                             f"got {shape!r}")
        return tuple(int(d) for d in items)

    def __repr__(self) -> str:
        defaults = MacroSpace.__init__.__defaults__
        names = ("max_layers", "ops", "filters", "kernel_sizes", "strides", "activations", "dropouts",
                 "input_shape", "num_classes")
        own = (self._max_layers, self._ops, self._filters, self._kernels, self._strides, self._activations,
               self._dropouts, self._input_shape, self._num_classes)
        parts = [f"{n}={v!r}" for n, v, d in zip(names, own, defaults)
                 if v != (tuple(d) if isinstance(d, (tuple, list)) else d)]
        return f"MacroSpace({', '.join(parts)})"

    def _key(self):
        return (self._max_layers, self._ops, self._filters, self._kernels, self._strides, self._activations,
                self._dropouts, self._input_shape, self._num_classes)

    def __eq__(self, other):
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self):
        return hash((type(self).__name__, self._key()))

    # -- decisions -----------------------------------------------------------------
    @property
    def decisions(self) -> list[Decision]:
        if not self._decision_list:
            self._decision_list.append(Decision("depth", tuple(range(1, self._max_layers + 1))))
            for i in range(1, self._max_layers + 1):
                self._decision_list.extend(Decision(f"layer {i} {field}", self._choices[field])
                                           for field in LAYER_FIELDS)
        return list(self._decision_list)

    def _placeholder(self) -> tuple:
        return tuple(self._choices[field][0] for field in LAYER_FIELDS)

    def _layer_decisions(self, layer: MacroLayer) -> tuple:
        return tuple(self._choices[f][0] if v is None else v for f, v in zip(LAYER_FIELDS, layer))

    def _make(self, layers: Sequence[MacroLayer]) -> MacroArchitecture:
        """The architecture for already normalised, feasible layers."""
        values = [len(layers)]
        for layer in layers:
            values.extend(self._layer_decisions(layer))
        values.extend(self._placeholder() * (self._max_layers - len(layers)))
        return MacroArchitecture(layers, decisions=values, input_shape=self._input_shape,
                                 num_classes=self._num_classes)

    def _check_value(self, field: str, value, where: str):
        accepted = self._choices[field]
        if field == "dropout" and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
        if value not in accepted or (field != "dropout" and isinstance(value, bool)):
            error = UnknownOpError if field == "op" else InvalidArchitectureError
            raise error(f"unknown {field} {value!r} {where}; accepted: {', '.join(map(repr, accepted))}")
        return accepted[accepted.index(value)]  # the space's own object (plain int, not numpy.int64)

    def _normal_layer(self, op, filters=None, kernel=None, stride=None, activation=None, dropout=None,
                      *, where: str = "") -> MacroLayer:
        """A layer record with its applicable settings checked and the others dropped."""
        op = self._check_value("op", op, where)
        given = {"filters": filters, "kernel": kernel, "stride": stride, "activation": activation,
                 "dropout": dropout}
        fields = {}
        for field, value in given.items():
            if field in _APPLIES[op]:
                if value is None:
                    raise InvalidArchitectureError(f"{op} needs a {field} {where}; accepted: "
                                                   f"{', '.join(map(repr, self._choices[field]))}")
                fields[field] = self._check_value(field, value, where)
            elif value is not None:
                self._check_value(field, value, where)  # an irrelevant value must still be a valid choice
        return MacroLayer(op, **fields)

    def from_decisions(self, values: Sequence[object]) -> MacroArchitecture:
        """The architecture for ``depth`` then six settings per layer.

        ``values`` has ``1 + 6 * max_layers`` entries (or ``1 + 6 * depth``). Settings
        that do not apply and layers beyond the depth are ignored (they may be
        ``None``); infeasible kernels/strides are repaired (see the module docstring).

        Examples
        --------
        >>> import nasviz as nv
        >>> space = nv.MacroSpace(max_layers=2)
        >>> str(space.from_decisions([1, "max_pool", 32, 3, 2, "gelu", 0.2] + [None] * 6))
        'max_pool(k3,s2)'
        """
        layers = self._layers_from_decisions(values)
        return self._make(self._repair(layers))

    def _layers_from_decisions(self, values) -> list[MacroLayer]:
        try:
            values = tuple(values)
        except TypeError:
            raise InvalidArchitectureError(f"expected a sequence of decisions, got {values!r}") from None
        if not values:
            raise InvalidArchitectureError(f"expected 1 + 6 * {self._max_layers} decisions, got none")
        depth = values[0]
        if isinstance(depth, bool) or depth not in range(1, self._max_layers + 1):
            raise InvalidArchitectureError(f"unknown depth {depth!r}; accepted: 1..{self._max_layers}")
        depth = int(depth)
        if len(values) not in (1 + 6 * self._max_layers, 1 + 6 * depth):
            raise InvalidArchitectureError(
                f"expected {1 + 6 * self._max_layers} decisions (depth, then op, filters, kernel, stride, "
                f"activation, dropout for each of {self._max_layers} layers) or {1 + 6 * depth} for depth {depth}; "
                f"got {len(values)}: {values!r}"
            )
        layers = []
        for i in range((len(values) - 1) // 6):
            chunk = values[1 + 6 * i: 7 + 6 * i]
            where = f"in layer {i + 1}"
            if i < depth:
                layers.append(self._normal_layer(*chunk, where=where))
            else:  # unused layer: values may be None, others must be valid choices
                for field, v in zip(LAYER_FIELDS, chunk):
                    if v is not None:
                        self._check_value(field, v, where)
        return layers

    def _repair(self, layers: Sequence[MacroLayer]) -> list[MacroLayer]:
        out = []
        h, w = self._input_shape[1:]
        for layer in layers:
            if layer.op != "identity":
                m = min(h, w)
                kernel = layer.kernel if layer.kernel <= m else max((k for k in self._kernels if k <= m), default=None)
                stride = layer.stride if layer.stride <= m else max((s for s in self._strides if s <= m), default=None)
                if kernel is None or stride is None:
                    if "identity" not in self._ops:
                        break
                    layer = MacroLayer("identity")
                else:
                    layer = layer._replace(kernel=kernel, stride=stride)
            out.append(layer)
            if layer.op != "identity":
                h, w = _out_size(h, layer.kernel, layer.stride), _out_size(w, layer.kernel, layer.stride)
        return out

    def _infeasible(self, layers: Sequence[MacroLayer]):
        """``None`` if the chain fits the input, else ``(position, layer, (h, w))`` of the first misfit."""
        h, w = self._input_shape[1:]
        for i, layer in enumerate(layers):
            if layer.op == "identity":
                continue
            if layer.kernel > min(h, w) or layer.stride > min(h, w):
                return i, layer, (h, w)
            h, w = _out_size(h, layer.kernel, layer.stride), _out_size(w, layer.kernel, layer.stride)
        return None

    def is_valid(self, values: tuple) -> bool:
        """Whether a decision tuple names a feasible chain as it is (no repair needed)."""
        try:
            layers = self._layers_from_decisions(values)
        except InvalidArchitectureError:
            return False
        return self._infeasible(layers) is None

    # -- strings -------------------------------------------------------------------
    _TOKEN = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$")

    def from_string(self, text: str) -> MacroArchitecture:
        """Read ``str(arch)`` back, e.g. ``"conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2) > identity"``.

        Inside a layer's parentheses the fields are tagged, so their order is free:
        a bare integer is the filters, ``k3`` the kernel, ``s2`` the stride, ``d0.2``
        the dropout and a name the activation. Fields that do not apply to the op
        (e.g. filters of a pooling layer) are checked, then dropped.

        Examples
        --------
        >>> import nasviz as nv
        >>> space = nv.MacroSpace()
        >>> str(space.from_string("max_pool(16, k3, s2, relu, d0.2) >identity()"))
        'max_pool(k3,s2) > identity'
        """
        if not isinstance(text, str):
            raise InvalidArchitectureError(f"expected a layer-chain string such as {self._example()!r}, got {text!r}")
        parts = text.split(">")
        if len(parts) > self._max_layers:
            raise InvalidArchitectureError(
                f"{text!r} has {len(parts)} layers; this space allows 1..{self._max_layers} (max_layers)"
            )
        layers = []
        for i, part in enumerate(parts, start=1):
            layers.append(self._parse_layer(part, i, text))
        bad = self._infeasible(layers)
        if bad is not None:
            i, layer, (h, w) = bad
            raise InvalidArchitectureError(
                f"layer {i + 1} {str(layer)!r} of {text!r} does not fit its {h}x{w} feature map (input_shape "
                f"{self._input_shape!r}): kernel and stride must be at most {min(h, w)}; use smaller "
                f"kernels or fewer stride-2 layers before it"
            )
        return self._make(layers)

    def _example(self) -> str:
        return "conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2)"

    def _parse_layer(self, part: str, i: int, text: str) -> MacroLayer:
        where = f"in layer {i} of {text!r}"
        match = self._TOKEN.match(part)
        if not match:
            raise InvalidArchitectureError(
                f"malformed layer {part.strip()!r} {where}: expected 'op(...)' joined by ' > ', "
                f"like {self._example()!r}"
            )
        op, inner = match.group(1), match.group(2)
        self._check_value("op", op, where)
        fields: dict[str, object] = {}
        tokens = [t.strip() for t in inner.split(",")] if inner is not None and inner.strip() else []
        for token in tokens:
            if re.fullmatch(r"\d+", token):
                field, value = "filters", int(token)
            elif re.fullmatch(r"k\d+", token):
                field, value = "kernel", int(token[1:])
            elif re.fullmatch(r"s\d+", token):
                field, value = "stride", int(token[1:])
            elif re.fullmatch(r"d[0-9.].*", token):
                field = "dropout"
                try:
                    value = float(token[1:])
                except ValueError:
                    raise InvalidArchitectureError(f"malformed dropout {token!r} {where}; write e.g. 'd0.2'") from None
            elif re.fullmatch(r"[A-Za-z_]\w*", token):
                field, value = "activation", token
            else:
                raise InvalidArchitectureError(
                    f"malformed field {token!r} {where}: fields are filters (16), kernel (k3), stride (s1), "
                    f"activation (relu) and dropout (d0.0)"
                )
            if field in fields:
                raise InvalidArchitectureError(f"{field} given twice ({token!r}) {where}")
            fields[field] = value
        missing = [f for f in _APPLIES[op] if f not in fields]
        if missing:
            raise InvalidArchitectureError(
                f"{op} {where} is missing its {', '.join(missing)}; write it like "
                f"{str(self._example_layer(op))!r}"
            )
        return self._normal_layer(op, **fields, where=where)

    def _example_layer(self, op: str) -> MacroLayer:
        return MacroLayer(op, **{f: self._choices[f][0] for f in _APPLIES[op]})

    # -- membership ------------------------------------------------------------------
    def __contains__(self, arch: object) -> bool:
        if not isinstance(arch, MacroArchitecture) or not 1 <= arch.depth <= self._max_layers:
            return False
        try:
            layers = [self._normal_layer(*layer) for layer in arch.layers]
        except InvalidArchitectureError:
            return False
        return (layers == list(arch.layers) and self._infeasible(layers) is None
                and self._make(layers).decisions == arch.decisions)

    def canonical(self, arch) -> str:
        """The normalised string of ``arch`` (an architecture or a string).

        Irrelevant settings never reach a member, so this is ``str`` of the member;
        for a string it normalises field order, spacing and fields that do not apply.
        Identity layers are kept: they are layers of the chain (depth is a choice).
        """
        return str(self._check_member(arch))

    # -- counting, order ---------------------------------------------------------------
    def _layer_configs(self, hw: tuple[int, int]) -> list[tuple[MacroLayer, tuple[int, int]]]:
        """Feasible distinct layers on an ``hw`` map, in index order, each with the map it yields."""
        if hw in self._configs:
            return self._configs[hw]
        h, w = hw
        m = min(h, w)
        out = []
        for op in self._ops:
            if op == "identity":
                out.append((MacroLayer("identity"), hw))
                continue
            settings = [self._choices[f] for f in _APPLIES[op]]
            for combo in itertools.product(*settings):
                layer = MacroLayer(op, **dict(zip(_APPLIES[op], combo)))
                if layer.kernel <= m and layer.stride <= m:
                    out.append((layer, (_out_size(h, layer.kernel, layer.stride),
                                        _out_size(w, layer.kernel, layer.stride))))
        self._configs[hw] = out
        return out

    def _completions(self, r: int, hw: tuple[int, int]) -> int:
        """Number of feasible chains of exactly ``r`` more layers from an ``hw`` map."""
        key = (r, hw)
        if key not in self._counts:
            if r == 0:
                self._counts[key] = 1
            else:
                per_next: dict = {}
                for _, nxt in self._layer_configs(hw):
                    per_next[nxt] = per_next.get(nxt, 0) + 1
                self._counts[key] = sum(n * self._completions(r - 1, nxt) for nxt, n in per_next.items())
        return self._counts[key]

    def count_by_depth(self, up_to: int | None = None) -> dict[int, int]:
        """Exact number of distinct feasible chains of each depth ``1..up_to``.

        ``up_to`` defaults to ``max_layers``; larger values show how the space would
        grow. Computed by dynamic programming over feature-map sizes (no enumeration).

        Examples
        --------
        >>> import nasviz as nv
        >>> nv.MacroSpace().count_by_depth(up_to=6)
        {1: 105, 2: 8321, 3: 516777, 4: 29436161, 5: 1615386345, 6: 87107762561}
        """
        up_to = self._max_layers if up_to is None else check_positive_int("up_to", up_to, maximum=10 * MAX_LAYERS)
        start = self._input_shape[1:]
        return {d: self._completions(d, start) for d in range(1, up_to + 1)}

    @property
    def size(self) -> int:
        """The exact number of distinct feasible chains (``len(space)`` where it fits an index)."""
        return sum(self.count_by_depth().values())

    def enumerate(self) -> Iterator[MacroArchitecture]:
        """Every member once, by depth, then layer by layer in choice order."""
        start = self._input_shape[1:]

        def chains(r, hw):
            if r == 0:
                yield ()
                return
            for layer, nxt in self._layer_configs(hw):
                if self._completions(r - 1, nxt):
                    for rest in chains(r - 1, nxt):
                        yield (layer, *rest)

        for depth in range(1, self._max_layers + 1):
            for layers in chains(depth, start):
                yield self._make(layers)

    def index(self, arch) -> int:
        """The position of ``arch`` in :meth:`enumerate`, computed without enumerating."""
        arch = self._check_member(arch)
        hw = self._input_shape[1:]
        idx = sum(self._completions(d, hw) for d in range(1, arch.depth))
        for pos, layer in enumerate(arch.layers):
            r = arch.depth - pos - 1
            for cand, nxt in self._layer_configs(hw):
                if cand == layer:
                    hw = nxt
                    break
                idx += self._completions(r, nxt)
        return idx

    def __getitem__(self, i: int) -> MacroArchitecture:
        n = self.size
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not -n <= i < n:
            raise InvalidArgumentError(f"index must be an integer in [{-n}, {n}), got {i!r}")
        i = int(i) % n
        hw = self._input_shape[1:]
        depth = 1
        while i >= self._completions(depth, hw):
            i -= self._completions(depth, hw)
            depth += 1
        layers = []
        for pos in range(depth):
            r = depth - pos - 1
            for cand, nxt in self._layer_configs(hw):
                c = self._completions(r, nxt)
                if i < c:
                    layers.append(cand)
                    hw = nxt
                    break
                i -= c
        return self._make(layers)

    # -- sampling and moves ------------------------------------------------------------
    def sample(self, seed=None) -> MacroArchitecture:
        """A member drawn uniformly from all distinct feasible chains.

        Uniform over architectures means deep chains dominate (see
        :meth:`count_by_depth`): with the defaults nearly every sample has
        ``max_layers`` layers. ``seed``: an int >= 0, ``None`` or a ``numpy.random.Generator``.
        """
        rng = make_rng("seed", seed)
        return self[_randbelow(rng, self.size)]

    def _moves(self, arch: MacroArchitecture) -> dict[str, list[MacroArchitecture]]:
        arch = self._check_member(arch)
        layers = list(arch.layers)
        seen = {arch}
        moves: dict[str, list[MacroArchitecture]] = {"change": [], "remove": [], "add": []}

        def offer(kind, new_layers):
            if self._infeasible(new_layers) is None:
                cand = self._make(new_layers)
                if cand not in seen:
                    seen.add(cand)
                    moves[kind].append(cand)

        # one setting of one layer changes; a new op keeps the settings it shares with the
        # old one and takes the normalised (first) choice for the others
        for pos in range(len(layers)):
            stored = self._layer_decisions(layers[pos])
            for f_idx, field in enumerate(LAYER_FIELDS):
                if field != "op" and field not in _APPLIES[layers[pos].op]:
                    continue
                for choice in self._choices[field]:
                    if choice == stored[f_idx]:
                        continue
                    values = list(stored)
                    values[f_idx] = choice
                    new = self._normal_layer(*(v if f in ("op",) + _APPLIES[values[0]] else None
                                               for f, v in zip(LAYER_FIELDS, values)))
                    offer("change", layers[:pos] + [new] + layers[pos + 1:])
        if len(layers) > 1:
            for pos in range(len(layers)):
                offer("remove", layers[:pos] + layers[pos + 1:])
        if len(layers) < self._max_layers:
            hw = self._input_shape[1:]
            for pos in range(len(layers) + 1):
                for new, _ in self._layer_configs(hw):
                    offer("add", layers[:pos] + [new] + layers[pos:])
                if pos < len(layers):
                    layer = layers[pos]
                    if layer.op != "identity":
                        hw = layer.out_shape((0, *hw))[1:]
        return moves

    def neighbors(self, arch) -> list[MacroArchitecture]:
        """Every member one move away: one applicable setting of one layer changed, one
        layer removed, or one layer inserted anywhere. Changes come first, then removals,
        then insertions; infeasible results are left out.

        Examples
        --------
        >>> import nasviz as nv
        >>> space = nv.MacroSpace(max_layers=2)
        >>> [str(n) for n in space.neighbors(space.from_string("max_pool(k3,s2)"))][:4]
        ['conv(8,k3,s2,relu,d0.0)', 'sep_conv(8,k3,s2,relu,d0.0)', 'avg_pool(k3,s2)', 'identity']
        """
        moves = self._moves(arch)
        return moves["change"] + moves["remove"] + moves["add"]

    def mutate(self, arch, seed=None) -> MacroArchitecture:
        """A random neighbour: first a kind of move uniformly among those possible
        (change one setting, remove a layer, add a layer), then one such move uniformly.

        Picking the kind first keeps insertions (of which there are many) from drowning
        the setting changes.
        """
        rng = make_rng("seed", seed)
        moves = self._moves(arch)
        kinds = [k for k in ("change", "remove", "add") if moves[k]]
        if not kinds:
            raise InvalidArchitectureError(f"{arch!r} has no neighbour to mutate to")
        options = moves[kinds[int(rng.integers(len(kinds)))]]
        return options[int(rng.integers(len(options)))]

    def encode(self, arch, kind: str = "onehot") -> np.ndarray:
        """A fixed-length vector: a one-hot depth block, then per layer slot one-hot
        blocks for op, filters, kernel, stride, activation and dropout. Settings that do
        not apply and slots beyond the depth stay zero (padding to ``max_layers``)."""
        if kind != "onehot":
            raise UnknownNameError(f"unknown encoding {kind!r}; accepted: 'onehot'")
        arch = self._check_member(arch)
        sizes = [len(self._choices[f]) for f in LAYER_FIELDS]
        vec = np.zeros(self._max_layers + self._max_layers * sum(sizes), dtype=np.float32)
        vec[arch.depth - 1] = 1.0
        offset = self._max_layers
        for slot in range(self._max_layers):
            layer = arch.layers[slot] if slot < arch.depth else None
            for field, size, value in zip(LAYER_FIELDS, sizes, layer if layer else (None,) * 6):
                if value is not None:
                    vec[offset + self._choices[field].index(value)] = 1.0
                offset += size
        return vec

    # -- models ------------------------------------------------------------------------
    def build(self, arch, num_classes: int | None = None, in_channels: int | None = None, **kwargs):
        """A ``torch.nn.Module`` taking ``(N, C, H, W)`` images.

        ``conv``: Conv2d -> BatchNorm -> activation -> dropout; ``sep_conv``: depthwise
        then pointwise Conv2d -> BatchNorm -> activation -> dropout; pooling and
        identity as named; then global average pooling and a linear layer.
        ``num_classes`` and ``in_channels`` default to the space's ``num_classes`` and
        ``input_shape[0]``.

        Examples
        --------
        >>> import torch, nasviz as nv
        >>> space = nv.MacroSpace()
        >>> net = space.build(space.from_string("sep_conv(16,k3,s2,relu,d0.2) > avg_pool(k3,s1)"))
        >>> net(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 10])
        >>> nv.count_params(net)  # depthwise 9 + pointwise 16 + batch norm 32 + linear 170
        227
        """
        arch = self._check_member(arch)
        if kwargs:
            raise InvalidArgumentError(
                f"unknown build arguments {sorted(kwargs)!r}; accepted: num_classes, in_channels"
            )
        num_classes = self._num_classes if num_classes is None else check_positive_int("num_classes", num_classes)
        in_channels = (self._input_shape[0] if in_channels is None
                       else check_positive_int("in_channels", in_channels))
        from .macro_model import MacroNetwork

        return MacroNetwork(arch, num_classes=num_classes, in_channels=in_channels)

