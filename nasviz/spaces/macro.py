"""The layer-chain ("macro") search space: the type and number of layers.

A member is a chain of 1..``max_layers`` layers followed by a classifier head
(global average pooling, 0..``max_fc_layers`` hidden fully connected layers, a linear
classifier). Each layer of the chain has an operation and the settings that apply to it:

============  =========  ======  ======  ==========  =======
op            filters    kernel  stride  activation  dropout
============  =========  ======  ======  ==========  =======
conv          yes        yes     yes     yes         yes
sep_conv      yes        yes     yes     yes         yes
max_pool      (keeps C)  yes     yes     --          --
avg_pool      (keeps C)  yes     yes     --          --
identity      --         --      --      --          --
============  =========  ======  ======  ==========  =======

Each hidden fully connected layer of the head is ``Linear(units) -> ReLU``, its
``units`` one of ``fc_units`` (a fixed ReLU, no dropout: the head's only setting is its
width). There are none by default (``max_fc_layers=0``): the head is then pooling and
classifier only, and everything below reads as if the head did not exist.

Settings that do not apply are not part of the architecture (they are ``None`` in
its :class:`MacroLayer` records), so they never create duplicates: the number of
distinct chains is exact, computed by dynamic programming over feature-map sizes, never
by enumerating. The hidden layers see a vector of features, never a feature map, so
every chain takes every head: ``len(space)`` is the number of chains times the number
of heads, ``sum(len(fc_units) ** d for d in 0..max_fc_layers)`` (1 by default).

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

from collections.abc import Iterator, Sequence

import numpy as np

from ..errors import (
    InvalidArchitectureError,
    InvalidArgumentError,
    ShapeError,
    UnknownNameError,
    check_positive_int,
)
from ..validation import make_rng
from .base import Decision, Space
from .macro_choices import HeadChoices, LayerChoices, check_head_choices, check_layer_choices
from .macro_counting import ChainCounts, HeadCounts, randbelow
from .macro_decisions import (
    chain_decisions,
    decision_list,
    head_decision_list,
    head_decisions,
    head_from_decisions,
    head_onehot,
    layers_from_decisions,
    onehot,
    split_head,
)
from .macro_layers import (
    ACTIVATIONS,
    LAYER_FIELDS,
    MACRO_OPS,
    MAX_FC_LAYERS,
    MAX_LAYERS,
    MacroArchitecture,
    MacroLayer,
    _rebuild,  # noqa: F401 - architectures pickled before the split name nasviz.spaces.macro._rebuild
    layer_label,
)
from .macro_moves import chain_moves, head_moves
from .macro_strings import parse_head, parse_layer

__all__ = ["ACTIVATIONS", "LAYER_FIELDS", "MACRO_OPS", "MAX_FC_LAYERS", "MAX_LAYERS", "MacroArchitecture",
           "MacroLayer", "MacroSpace", "layer_label"]


class MacroSpace(Space):
    """Chains of 1..``max_layers`` layers (op, filters, kernel, stride, activation,
    dropout), then global average pooling, 0..``max_fc_layers`` hidden fully connected
    layers (units) and a linear classifier.

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
    max_fc_layers : int
        The most hidden fully connected layers after the pooling,
        ``0 <= max_fc_layers <= 4`` (:data:`MAX_FC_LAYERS`); heads of every depth
        ``0..max_fc_layers`` are members. ``0`` (the default): no hidden layers.
    fc_units : sequence of int
        Units of each hidden fully connected layer (``Linear(units) -> ReLU``).

    Notes
    -----
    The decisions (for strategies that walk them) are ``depth`` followed by six per
    layer for all ``max_layers`` layers; :meth:`from_decisions` ignores the settings
    that do not apply and the layers beyond the depth, and repairs infeasible choices.
    With ``max_fc_layers > 0`` the head's decisions follow: ``fc depth``
    (``0..max_fc_layers``), then ``fc i units`` for each of the ``max_fc_layers`` slots
    (slots beyond the fc depth are ignored).

    Members are ordered by depth, then layer by layer in the order of the choices
    above, then by head (the fastest-varying digit: fc depth, then layer by layer in
    ``fc_units`` order); ``index`` and ``space[i]`` follow that order without
    enumerating. :meth:`count_by_depth` counts by the depth of the chain; each count
    includes every head (the chains of that depth times the number of heads).

    ==================  ===================================================================
    part of a member    written in ``str(arch)`` as
    ==================  ===================================================================
    chain               layers joined by ``" > "``: ``conv(16,k3,s1,relu,d0.0) > identity``
    hidden fc layers    after ``" | "``, joined by ``" > "``: ``| fc(64) > fc(32)``
                        (nothing when the head has none)
    ==================  ===================================================================

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

    Hidden fully connected layers multiply the space by the number of heads
    (here ``1 + 2 + 2 ** 2 = 7``):

    >>> head = nv.MacroSpace(max_fc_layers=2, fc_units=(32, 64))
    >>> head.count_by_depth()[1], len(head) == 7 * len(space)
    (735, True)
    >>> arch = head.sample(seed=1)
    >>> arch.fc, str(arch).split(" | ")[1]
    ((64, 32), 'fc(64) > fc(32)')
    >>> head.from_string(str(arch)) == arch == head[head.index(arch)]
    True
    >>> head.encode(arch).shape         # 68, then fc depth (3) and 2 slots of 2 units
    (75,)
    """

    def __init__(self, max_layers: int = 4,
                 ops: Sequence[str] = MACRO_OPS,
                 filters: Sequence[int] = (8, 16, 32),
                 kernel_sizes: Sequence[int] = (3, 5),
                 strides: Sequence[int] = (1, 2),
                 activations: Sequence[str] = ("relu", "gelu"),
                 dropouts: Sequence[float] = (0.0, 0.2),
                 input_shape: Sequence[int] = (1, 8, 8),
                 num_classes: int = 10,
                 max_fc_layers: int = 0,
                 fc_units: Sequence[int] = (32, 64)):
        self.max_layers = max_layers
        self.ops = ops
        self.filters = filters
        self.kernel_sizes = kernel_sizes
        self.strides = strides
        self.activations = activations
        self.dropouts = dropouts
        self.input_shape = input_shape
        self.num_classes = num_classes
        self.max_fc_layers = max_fc_layers
        self.fc_units = fc_units

        self._max_layers = check_positive_int("max_layers", max_layers, maximum=MAX_LAYERS)
        self._choices = check_layer_choices(ops, filters, kernel_sizes, strides, activations, dropouts)
        self._ops, self._filters, self._kernels, self._strides, self._activations, self._dropouts = (
            self._choices[field] for field in LAYER_FIELDS)
        self._input_shape = self._check_input_shape(input_shape)
        self._num_classes = check_positive_int("num_classes", num_classes)
        self._max_fc, self._fc_units = check_head_choices(max_fc_layers, fc_units)
        self._head = HeadChoices(self._fc_units, self._max_fc)
        self._heads = HeadCounts(self._fc_units, self._max_fc)
        self._n_heads = len(self._heads)
        self._layer_choices = LayerChoices(self._choices, self._input_shape[1:])
        self._chains = ChainCounts(self._choices, self._input_shape[1:])
        self._decision_list: list = []
        if not self._chains.layer_configs(self._chains.start):
            raise InvalidArgumentError(
                f"no layer fits input_shape {self._input_shape!r}: kernel_sizes {self._kernels!r} and strides "
                f"{self._strides!r} need a feature map at least as large as the smallest of each; offer "
                f"'identity' in ops, smaller kernel_sizes/strides, or a larger input_shape"
            )

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
                 "input_shape", "num_classes", "max_fc_layers", "fc_units")
        own = self._key()
        parts = [f"{n}={v!r}" for n, v, d in zip(names, own, defaults)
                 if v != (tuple(d) if isinstance(d, (tuple, list)) else d)]
        return f"MacroSpace({', '.join(parts)})"

    def _key(self):
        return (self._max_layers, self._ops, self._filters, self._kernels, self._strides, self._activations,
                self._dropouts, self._input_shape, self._num_classes, self._max_fc, self._fc_units)

    def __eq__(self, other):
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self):
        return hash((type(self).__name__, self._key()))

    # -- decisions -----------------------------------------------------------------
    @property
    def decisions(self) -> list[Decision]:
        if not self._decision_list:
            self._decision_list.extend(decision_list(self._layer_choices, self._max_layers)
                                       + head_decision_list(self._head))
        return list(self._decision_list)

    def _make(self, layers: Sequence[MacroLayer], fc: Sequence[int] = ()) -> MacroArchitecture:
        """The architecture for already normalised, feasible layers and a checked head."""
        values = (chain_decisions(layers, self._layer_choices, self._max_layers)
                  + head_decisions(fc, self._head))
        return MacroArchitecture(layers, decisions=values, input_shape=self._input_shape,
                                 num_classes=self._num_classes, fc=fc)

    def from_decisions(self, values: Sequence[object]) -> MacroArchitecture:
        """The architecture for ``depth`` then six settings per layer (then the head's decisions).

        ``values`` has ``1 + 6 * max_layers`` entries (or ``1 + 6 * depth``). Settings
        that do not apply and layers beyond the depth are ignored (they may be
        ``None``); infeasible kernels/strides are repaired (see the module docstring).
        With ``max_fc_layers > 0``, ``fc depth`` and ``max_fc_layers`` units (or as many
        as the fc depth) follow; units beyond the fc depth are ignored (they may be ``None``).

        Examples
        --------
        >>> import nasviz as nv
        >>> space = nv.MacroSpace(max_layers=2)
        >>> str(space.from_decisions([1, "max_pool", 32, 3, 2, "gelu", 0.2] + [None] * 6))
        'max_pool(k3,s2)'
        >>> head = nv.MacroSpace(max_layers=2, max_fc_layers=2)
        >>> str(head.from_decisions([1, "max_pool", 32, 3, 2, "gelu", 0.2] + [None] * 6 + [1, 64, None]))
        'max_pool(k3,s2) | fc(64)'
        """
        layers, fc = self._parse_decisions(values)
        return self._make(self._layer_choices.repair(layers), fc)

    def _parse_decisions(self, values) -> tuple[list[MacroLayer], tuple[int, ...]]:
        """The normalised layers (not yet made feasible) and the head that ``values`` name."""
        try:
            values = tuple(values)
        except TypeError:
            raise InvalidArchitectureError(f"expected a sequence of decisions, got {values!r}") from None
        chain, head = split_head(values, self._max_layers, self._max_fc)
        layers = layers_from_decisions(chain, self._layer_choices, self._max_layers)
        return layers, (() if head is None else head_from_decisions(head, self._head))

    def is_valid(self, values: tuple) -> bool:
        """Whether a decision tuple names a feasible chain (and a head) as it is (no repair needed)."""
        try:
            layers, _ = self._parse_decisions(values)
        except InvalidArchitectureError:
            return False
        return self._layer_choices.infeasible(layers) is None

    # -- strings -------------------------------------------------------------------
    def from_string(self, text: str) -> MacroArchitecture:
        """Read ``str(arch)`` back, e.g. ``"conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2) > identity"``.

        Inside a layer's parentheses the fields are tagged, so their order is free:
        a bare integer is the filters, ``k3`` the kernel, ``s2`` the stride, ``d0.2``
        the dropout and a name the activation. Fields that do not apply to the op
        (e.g. filters of a pooling layer) are checked, then dropped. Hidden fully
        connected layers follow the chain after ``" | "``, as ``fc(units)`` joined by
        ``" > "`` (no ``"|"``: none).

        Examples
        --------
        >>> import nasviz as nv
        >>> space = nv.MacroSpace()
        >>> str(space.from_string("max_pool(16, k3, s2, relu, d0.2) >identity()"))
        'max_pool(k3,s2) > identity'
        >>> head = nv.MacroSpace(max_fc_layers=2)
        >>> head.from_string("max_pool(k3,s2)|fc( 64 )>fc(32)").fc
        (64, 32)
        """
        if not isinstance(text, str):
            raise InvalidArchitectureError(f"expected a layer-chain string such as {self._example()!r}, got {text!r}")
        chain_text, bar, head_text = text.partition("|")
        parts = chain_text.split(">")
        if len(parts) > self._max_layers:
            raise InvalidArchitectureError(
                f"{text!r} has {len(parts)} layers; this space allows 1..{self._max_layers} (max_layers)"
            )
        layers = [parse_layer(part, f"in layer {i} of {text!r}", self._layer_choices, self._example())
                  for i, part in enumerate(parts, start=1)]
        bad = self._layer_choices.infeasible(layers)
        if bad is not None:
            i, layer, (h, w) = bad
            raise InvalidArchitectureError(
                f"layer {i + 1} {str(layer)!r} of {text!r} does not fit its {h}x{w} feature map (input_shape "
                f"{self._input_shape!r}): kernel and stride must be at most {min(h, w)}; use smaller "
                f"kernels or fewer stride-2 layers before it"
            )
        fc = parse_head(head_text, text, self._head) if bar else ()
        return self._make(layers, fc)

    def _example(self) -> str:
        chain = "conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2)"
        return f"{chain} | fc({self._fc_units[0]})" if self._max_fc else chain

    # -- membership ------------------------------------------------------------------
    def __contains__(self, arch: object) -> bool:
        if not isinstance(arch, MacroArchitecture) or not 1 <= arch.depth <= self._max_layers:
            return False
        try:
            layers = [self._layer_choices.normal_layer(*layer) for layer in arch.layers]
            fc = self._head.normal_head(arch.fc)
        except InvalidArchitectureError:
            return False
        return (layers == list(arch.layers) and fc == arch.fc and self._layer_choices.infeasible(layers) is None
                and self._make(layers, fc).decisions == arch.decisions)

    def canonical(self, arch) -> str:
        """The normalised string of ``arch`` (an architecture or a string).

        Irrelevant settings never reach a member, so this is ``str`` of the member
        (its hidden fully connected layers included); for a string it normalises field
        order, spacing and fields that do not apply. Identity layers are kept: they are
        layers of the chain (depth is a choice).
        """
        return str(self._check_member(arch))

    # -- counting, order ---------------------------------------------------------------
    def count_by_depth(self, up_to: int | None = None) -> dict[int, int]:
        """Exact number of members whose chain has each depth ``1..up_to``.

        That is the number of distinct feasible chains of the depth, times the number
        of heads (``sum(len(fc_units) ** d for d in 0..max_fc_layers)``: 1 when
        ``max_fc_layers`` is 0), so the counts add up to ``space.size``. ``up_to``
        defaults to ``max_layers``; larger values show how the space would grow.
        Computed by dynamic programming over feature-map sizes (no enumeration).

        Examples
        --------
        >>> import nasviz as nv
        >>> nv.MacroSpace().count_by_depth(up_to=6)
        {1: 105, 2: 8321, 3: 516777, 4: 29436161, 5: 1615386345, 6: 87107762561}
        >>> nv.MacroSpace(max_layers=2, max_fc_layers=1, fc_units=(16, 32, 64)).count_by_depth()  # 4 heads
        {1: 420, 2: 33284}
        """
        up_to = self._max_layers if up_to is None else check_positive_int("up_to", up_to, maximum=10 * MAX_LAYERS)
        chains = self._chains.count_by_depth(up_to)
        return chains if self._n_heads == 1 else {d: n * self._n_heads for d, n in chains.items()}

    @property
    def size(self) -> int:
        """The exact number of members: distinct feasible chains times heads (``len(space)`` where it fits an index)."""
        return sum(self.count_by_depth().values())

    def enumerate(self) -> Iterator[MacroArchitecture]:
        """Every member once, by depth, then layer by layer in choice order, then head by head."""
        heads = list(self._heads)
        for depth in range(1, self._max_layers + 1):
            for layers in self._chains.chains(depth):
                for fc in heads:
                    yield self._make(layers, fc)

    def index(self, arch) -> int:
        """The position of ``arch`` in :meth:`enumerate`, computed without enumerating.

        ``index = chain position * heads + head position``: the head varies fastest.
        """
        arch = self._check_member(arch)
        return self._chains.index(arch.layers) * self._n_heads + self._heads.index(arch.fc)

    def __getitem__(self, i: int) -> MacroArchitecture:
        n = self.size
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not -n <= i < n:
            raise InvalidArgumentError(f"index must be an integer in [{-n}, {n}), got {i!r}")
        chain, head = divmod(int(i) % n, self._n_heads)
        return self._make(self._chains.layers_at(chain), self._heads[head])

    # -- sampling and moves ------------------------------------------------------------
    def sample(self, seed=None) -> MacroArchitecture:
        """A member drawn uniformly from all members (distinct feasible chains, each with every head).

        Uniform over architectures means deep chains dominate (see
        :meth:`count_by_depth`): with the defaults nearly every sample has
        ``max_layers`` layers. ``seed``: an int >= 0, ``None`` or a ``numpy.random.Generator``.
        """
        rng = make_rng("seed", seed)
        return self[randbelow(rng, self.size)]

    def _moves(self, arch) -> dict[str, list[MacroArchitecture]]:
        arch = self._check_member(arch)
        moves = chain_moves(arch.layers, self._layer_choices, self._chains, self._max_layers)
        out = {kind: [self._make(layers, arch.fc) for layers in options] for kind, options in moves.items()}
        out["fc"] = [self._make(arch.layers, fc) for fc in head_moves(arch.fc, self._head)]
        return out

    def neighbors(self, arch) -> list[MacroArchitecture]:
        """Every member one move away: one applicable setting of one layer changed, one
        layer removed, or one layer inserted anywhere. Changes come first, then removals,
        then insertions; infeasible results are left out. With ``max_fc_layers > 0`` the
        head's moves come last: one hidden layer's units changed, the last hidden layer
        dropped, or one appended (the chain kept as it is).

        Examples
        --------
        >>> import nasviz as nv
        >>> space = nv.MacroSpace(max_layers=2)
        >>> [str(n) for n in space.neighbors(space.from_string("max_pool(k3,s2)"))][:4]
        ['conv(8,k3,s2,relu,d0.0)', 'sep_conv(8,k3,s2,relu,d0.0)', 'avg_pool(k3,s2)', 'identity']
        """
        moves = self._moves(arch)
        return moves["change"] + moves["remove"] + moves["add"] + moves["fc"]

    def mutate(self, arch, seed=None) -> MacroArchitecture:
        """A random neighbour: first a kind of move uniformly among those possible
        (change one setting, remove a layer, add a layer; with ``max_fc_layers > 0`` also
        a move of the head), then one such move uniformly.

        Picking the kind first keeps insertions (of which there are many) from drowning
        the setting changes, and the head's few moves from drowning in the chain's.
        """
        rng = make_rng("seed", seed)
        moves = self._moves(arch)
        kinds = [k for k in ("change", "remove", "add", "fc") if moves[k]]
        if not kinds:
            raise InvalidArchitectureError(f"{arch!r} has no neighbour to mutate to")
        options = moves[kinds[int(rng.integers(len(kinds)))]]
        return options[int(rng.integers(len(options)))]

    def encode(self, arch, kind: str = "onehot") -> np.ndarray:
        """A fixed-length vector: a one-hot depth block, then per layer slot one-hot
        blocks for op, filters, kernel, stride, activation and dropout. Settings that do
        not apply and slots beyond the depth stay zero (padding to ``max_layers``).
        With ``max_fc_layers > 0``, then a one-hot fc-depth block (``0..max_fc_layers``)
        and a one-hot units block per hidden-layer slot (zero beyond the fc depth)."""
        if kind != "onehot":
            raise UnknownNameError(f"unknown encoding {kind!r}; accepted: 'onehot'")
        arch = self._check_member(arch)
        vec = onehot(arch.layers, self._layer_choices, self._max_layers)
        return np.concatenate([vec, head_onehot(arch.fc, self._head)]) if self._max_fc else vec

    # -- models ------------------------------------------------------------------------
    def build(self, arch, num_classes: int | None = None, in_channels: int | None = None, **kwargs):
        """A ``torch.nn.Module`` taking ``(N, C, H, W)`` images.

        ``conv``: Conv2d -> BatchNorm -> activation -> dropout; ``sep_conv``: depthwise
        then pointwise Conv2d -> BatchNorm -> activation -> dropout; pooling and
        identity as named; then global average pooling, flattening, each hidden fully
        connected layer as ``Linear(units) -> ReLU``, and a linear classifier.
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
        >>> head = nv.MacroSpace(max_fc_layers=1)
        >>> net = head.build(head.from_string("sep_conv(16,k3,s2,relu,d0.2) > avg_pool(k3,s1) | fc(32)"))
        >>> nv.count_params(net)  # 57 as above + fc 16*32 + 32 + linear 32*10 + 10
        931
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

