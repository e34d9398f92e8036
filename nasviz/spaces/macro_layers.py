"""The layers of the layer-chain space and the chains they form: plain, immutable data.

:data:`MACRO_OPS`, :data:`ACTIVATIONS` and :data:`LAYER_FIELDS` name what a layer may be;
a :class:`MacroLayer` is one layer (settings that do not apply to its op are ``None``),
and a :class:`MacroArchitecture` is a chain of them, optionally followed by hidden fully
connected layers (its ``fc``: a tuple of units, ``()`` for none). Which chains a space offers, and
in what order, is :class:`~nasviz.spaces.MacroSpace`'s business (``spaces/macro.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ..errors import InvalidArchitectureError
from .base import Architecture

__all__ = ["ACTIVATIONS", "LAYER_FIELDS", "MACRO_OPS", "MAX_FC_LAYERS", "MAX_LAYERS", "MacroArchitecture",
           "MacroLayer", "fc_label", "fc_token", "layer_label"]

#: The longest chain a space may offer: deeper spaces take seconds per neighbourhood
#: (``neighbors`` is quadratic in the depth) and have over 10^170 members.
MAX_LAYERS = 100
#: The most hidden fully connected layers a space may offer after the global average pooling.
MAX_FC_LAYERS = 4

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


def fc_token(units: int) -> str:
    """A hidden fully connected layer's token in the architecture string, e.g. ``fc(64)``."""
    return f"fc({units})"


def fc_label(units: int) -> str:
    """The text a drawing writes in a hidden fully connected layer's box.

    Examples
    --------
    >>> print(fc_label(64))
    fc 64
    relu
    """
    return f"fc {units}\nrelu"


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

    The head is global average pooling, then the hidden fully connected layers
    ``fc`` (each ``Linear(units) -> ReLU``; ``()`` for none, the only head of a space
    with ``max_fc_layers=0``), then the linear classifier.

    Build one with :meth:`MacroSpace.from_string`, :meth:`MacroSpace.sample`,
    :meth:`MacroSpace.from_decisions` or ``space[i]``. Equality and hashing use the
    decisions (as for every :class:`~nasviz.spaces.Architecture`), which hold the
    hidden layers wherever a space offers them; ``input_shape`` and ``num_classes`` are
    the space's, kept so that :meth:`to_networkx` can give shapes.

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.MacroSpace()
    >>> a = space.from_string("conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2) > identity")
    >>> a
    MacroArchitecture('conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2) > identity')
    >>> a.depth, a.ops, a.fc
    (3, ('conv', 'max_pool', 'identity'), ())
    >>> a.layers[1]
    MacroLayer(op='max_pool', filters=None, kernel=3, stride=2, activation=None, dropout=None)
    >>> a.shapes
    ((1, 8, 8), (16, 8, 8), (16, 4, 4), (16, 4, 4))
    >>> g = a.to_networkx()
    >>> g.nodes[1]["label"], g.edges[2, 3]["shape"]
    ('conv 16\\n3x3 s1\\nrelu', (16, 4, 4))

    With hidden fully connected layers (written after ``" | "``):

    >>> b = nv.MacroSpace(max_fc_layers=2).from_string("conv(16,k3,s2,relu,d0.0) | fc(64) > fc(32)")
    >>> b.fc, b.head_shapes
    ((64, 32), ((16,), (64,), (32,)))
    >>> [b.to_networkx().nodes[n]["kind"] for n in range(6)]
    ['input', 'layer', 'pool', 'fc', 'fc', 'head']
    """

    __slots__ = ("_decisions", "_fc", "_input_shape", "_layers", "_num_classes")

    def __init__(self, layers: Sequence[MacroLayer], *, decisions: Sequence[object],
                 input_shape: Sequence[int] = (1, 8, 8), num_classes: int = 10, fc: Sequence[int] = ()):
        layers = tuple(MacroLayer(*layer) for layer in layers)
        if not layers:
            raise InvalidArchitectureError("a macro architecture needs at least one layer")
        object.__setattr__(self, "_layers", layers)
        object.__setattr__(self, "_decisions", tuple(decisions))
        object.__setattr__(self, "_input_shape", tuple(int(d) for d in input_shape))
        object.__setattr__(self, "_num_classes", int(num_classes))
        object.__setattr__(self, "_fc", tuple(int(u) for u in fc))

    def __reduce__(self):  # pickling (e.g. to parallel workers) despite immutability
        args = (self._layers, self._decisions, self._input_shape, self._num_classes)
        return (_rebuild, args + (self._fc,) if self._fc else args)

    @property
    def layers(self) -> tuple[MacroLayer, ...]:
        """The layers in order, as :class:`MacroLayer` records."""
        return self._layers

    @property
    def fc(self) -> tuple[int, ...]:
        """The units of the hidden fully connected layers after the pooling, in order (``()`` for none)."""
        return self._fc

    @property
    def decisions(self) -> tuple:
        """Depth, then op/filters/kernel/stride/activation/dropout for each of the
        space's ``max_layers`` layers; settings that do not apply (and layers beyond the
        depth) hold the first choice of their decision. In a space with
        ``max_fc_layers > 0``, then the number of hidden fully connected layers and the
        units of each of the ``max_fc_layers`` (beyond that number: the first choice)."""
        return self._decisions

    @property
    def depth(self) -> int:
        """The number of layers of the chain (the hidden fully connected layers are not counted)."""
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

    @property
    def head_shapes(self) -> tuple[tuple[int], ...]:
        """``(features,)`` after the global average pooling and after each hidden fully
        connected layer (``len(fc) + 1`` shapes; the classifier then gives ``(num_classes,)``)."""
        return ((self.shapes[-1][0],), *((u,) for u in self._fc))

    def __str__(self) -> str:
        chain = " > ".join(str(layer) for layer in self._layers)
        return f"{chain} | {' > '.join(map(fc_token, self._fc))}" if self._fc else chain

    def __repr__(self) -> str:
        return f"MacroArchitecture('{self}')"

    def to_networkx(self):
        """A chain ``nx.DiGraph``: node 0 the input, nodes ``1..depth`` the layers, then
        the head; edge ``i -> i+1`` carries the ``shape`` flowing along it.

        Layer nodes have ``kind="layer"``, ``op``, ``filters``, ``kernel``, ``stride``,
        ``activation``, ``dropout`` (``None`` where not applicable) and ``label``.
        Without hidden fully connected layers the head is one node ``depth + 1``
        (``kind="head"``: pooling and classifier). With them, node ``depth + 1`` is the
        global average pooling (``kind="pool"``), then one node per hidden layer
        (``kind="fc"``, ``op="fc"``, ``units``, ``activation="relu"``), then the
        classifier (``kind="head"``).
        """
        import networkx as nx

        shapes = self.shapes
        g = nx.DiGraph()
        c, h, w = self._input_shape
        g.add_node(0, kind="input", shape=self._input_shape, label=f"input\n{c}x{h}x{w}")
        for i, layer in enumerate(self._layers, start=1):
            g.add_node(i, kind="layer", label=layer.label, **layer._asdict())
        n = len(self._layers) + 1
        if self._fc:
            shapes += self.head_shapes
            g.add_node(n, kind="pool", label="avg pool")
            for units in self._fc:
                n += 1
                g.add_node(n, kind="fc", op="fc", units=units, activation="relu", label=fc_label(units))
            n += 1
            g.add_node(n, kind="head", num_classes=self._num_classes, label=f"linear {self._num_classes}")
        else:
            g.add_node(n, kind="head", num_classes=self._num_classes,
                       label=f"avg pool\nlinear {self._num_classes}")
        for i in range(n):
            g.add_edge(i, i + 1, shape=shapes[i])
        return g


def _rebuild(layers, decisions, input_shape, num_classes, fc=()):
    return MacroArchitecture(layers, decisions=decisions, input_shape=input_shape, num_classes=num_classes, fc=fc)
