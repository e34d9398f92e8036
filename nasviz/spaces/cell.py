"""NAS-Bench-201's cell search space.

A cell is a DAG on ``nodes`` nodes (4 by default) with an edge ``i -> j`` for every
``i < j`` (6 edges); each edge carries one operation. Node 0 is the cell input, the
last node its output, and each node sums its incoming edges. With the five
NAS-Bench-201 operations there are 5**6 = 15,625 cells.

Reference: Dong & Yang, "NAS-Bench-201: Extending the Scope of Reproducible Neural
Architecture Search", ICLR 2020.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..errors import (
    InvalidArchitectureError,
    InvalidArgumentError,
    ShapeError,
    UnknownNameError,
    UnknownOpError,
    check_choice,
    check_positive_int,
)
from ..validation import check_choices, check_int
from .base import Architecture, Decision, Space

__all__ = ["CellSpace", "CellArchitecture", "SkeletonBlock", "NB201_OPS", "MAX_NODES"]

NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: The most nodes a cell may have (496 edges); NAS-Bench-201 uses 4.
MAX_NODES = 32
#: The longest path encoding :meth:`CellSpace.encode` builds (entries of the vector).
MAX_PATH_ENCODING = 2**22


def _edges(nodes: int) -> tuple[tuple[int, int], ...]:
    """Edges in NAS-Bench-201 string order: grouped by target node, then by source."""
    return tuple((i, j) for j in range(1, nodes) for i in range(j))


class CellArchitecture(Architecture):
    """A cell: one operation per edge, edges in NAS-Bench-201 order.

    Build one with :meth:`CellSpace.from_string`, :meth:`CellSpace.sample` or
    :meth:`CellSpace.from_decisions`.

    Examples
    --------
    >>> import nasviz as nv
    >>> a = nv.CellSpace().from_string(
    ...     "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
    >>> a.ops[:2]
    ('nor_conv_3x3', 'nor_conv_3x3')
    >>> sorted(a.to_networkx().edges(data="op"))[0]
    (0, 1, 'nor_conv_3x3')
    """

    __slots__ = ("_ops", "_nodes")

    def __init__(self, ops: Sequence[str], nodes: int = 4):
        n_edges = nodes * (nodes - 1) // 2
        if len(ops) != n_edges:
            raise InvalidArchitectureError(
                f"a {nodes}-node cell needs {n_edges} ops (one per edge), got {len(ops)}: {tuple(ops)!r}"
            )
        object.__setattr__(self, "_ops", tuple(str(o) for o in ops))
        object.__setattr__(self, "_nodes", int(nodes))

    def __reduce__(self):  # immutable objects pickle through their constructor
        return (CellArchitecture, (self._ops, self._nodes))

    @property
    def ops(self) -> tuple[str, ...]:
        """The operation on each edge, in :attr:`edges` order."""
        return self._ops

    @property
    def nodes(self) -> int:
        return self._nodes

    @property
    def edges(self) -> tuple[tuple[int, int], ...]:
        """``(source, target)`` pairs in the order of :attr:`ops`."""
        return _edges(self._nodes)

    @property
    def decisions(self) -> tuple[str, ...]:
        return self._ops

    def edge_op(self, source: int, target: int) -> str:
        """The operation on edge ``source -> target``."""
        try:
            return self._ops[self.edges.index((source, target))]
        except ValueError:
            raise InvalidArgumentError(
                f"no edge {source} -> {target} in a {self._nodes}-node cell; edges: {list(self.edges)}"
            ) from None

    def __str__(self) -> str:
        groups, k = [], 0
        for j in range(1, self._nodes):
            terms = []
            for i in range(j):
                terms.append(f"{self._ops[k]}~{i}")
                k += 1
            groups.append("|" + "|".join(terms) + "|")
        return "+".join(groups)

    def __repr__(self) -> str:
        return f"CellArchitecture('{self}')"

    def to_networkx(self):
        """An ``nx.DiGraph``: nodes ``0..nodes-1`` (``role`` input/intermediate/output),
        one edge per cell edge with its ``op``."""
        import networkx as nx

        g = nx.DiGraph()
        for n in range(self._nodes):
            role = "input" if n == 0 else "output" if n == self._nodes - 1 else "intermediate"
            g.add_node(n, role=role)
        for (i, j), op in zip(self.edges, self._ops):
            g.add_edge(i, j, op=op)
        return g


class SkeletonBlock(NamedTuple):
    """One block of a :class:`CellSpace` network, as :meth:`CellSpace.blocks` lists them."""

    kind: str                        # "stem", "cell", "reduction" or "head"
    stage: int                       # 1..3 for cells and the reduction opening a stage, else 0
    in_shape: tuple[int, int, int]   # the (C, H, W) the block receives
    out_shape: tuple[int, ...]       # the (C, H, W) it gives; the head's: (num_classes,)


class CellSpace(Space):
    """NAS-Bench-201's cell space: an op per edge of a complete DAG on ``nodes`` nodes.

    Parameters
    ----------
    ops : sequence of str
        The operations an edge may carry. Defaults to NAS-Bench-201's five. ``"none"``
        (zero) and ``"skip_connect"`` (identity) are understood by :meth:`canonical`.
    nodes : int
        Nodes per cell, input and output included, ``2 <= nodes <= 32``
        (:data:`MAX_NODES`). NAS-Bench-201 uses 4.

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> len(space), len(space.decisions)
    (15625, 6)
    >>> arch = space.sample(seed=0)
    >>> len(space.neighbors(arch))
    24
    >>> space.encode(arch).shape
    (30,)
    """

    def __init__(self, ops: Sequence[str] = NB201_OPS, nodes: int = 4):
        self.nodes = nodes
        ops_t = check_choices("ops", ops, types=str)  # distinct strings, and a list of them (not one string)
        nodes = check_int("nodes", nodes, minimum=2, maximum=MAX_NODES)
        self._ops = ops_t
        self._edges = _edges(nodes)

    def __repr__(self) -> str:
        if self._ops == NB201_OPS and self.nodes == 4:
            return "CellSpace()"
        return f"CellSpace(ops={self._ops!r}, nodes={self.nodes})"

    def __eq__(self, other):
        return type(other) is type(self) and (other.ops, other.nodes) == (self.ops, self.nodes)

    def __hash__(self):
        return hash((type(self).__name__, self._ops, self.nodes))

    @property
    def ops(self) -> tuple[str, ...]:
        """The op names an edge may carry, in order (a tuple; ``ops[k]`` is digit ``k`` of :meth:`index`)."""
        return self._ops

    @property
    def edges(self) -> tuple[tuple[int, int], ...]:
        return self._edges

    @property
    def decisions(self) -> list[Decision]:
        return [Decision(f"edge {i}->{j}", self._ops) for i, j in self._edges]

    def from_decisions(self, values: Sequence[str]) -> CellArchitecture:
        if isinstance(values, str) or not isinstance(values, (list, tuple, np.ndarray)):
            raise InvalidArchitectureError(
                f"expected a list of {len(self._edges)} ops (one per edge {list(self._edges)}), got {values!r}")
        values = tuple(values)
        if len(values) != len(self._edges):
            raise InvalidArchitectureError(
                f"expected {len(self._edges)} ops (one per edge {list(self._edges)}), got {len(values)}: {values!r}"
            )
        for v in values:
            if v not in self._ops:
                raise UnknownOpError(f"unknown op {v!r}; accepted: {', '.join(map(repr, self._ops))}")
        return CellArchitecture(values, self.nodes)

    def from_ops(self, ops: Sequence[str]) -> CellArchitecture:
        """The cell with these ops, in :attr:`edges` order (same as :meth:`from_decisions`)."""
        return self.from_decisions(ops)

    def from_string(self, text: str) -> CellArchitecture:
        """Parse a NAS-Bench-201 cell string such as ``|nor_conv_3x3~0|+|...|``."""
        if not isinstance(text, str):
            raise InvalidArchitectureError(f"expected a NAS-Bench-201 cell string, got {text!r}")
        example = str(CellArchitecture((self._ops[0],) * len(self._edges), self.nodes))
        groups = text.strip().split("+")
        if len(groups) != self.nodes - 1:
            raise InvalidArchitectureError(
                f"malformed cell string {text!r}: expected {self.nodes - 1} node groups joined by '+', "
                f"like {example!r}"
            )
        ops = []
        for j, group in enumerate(groups, start=1):
            if not (group.startswith("|") and group.endswith("|")) or len(group) < 2:
                raise InvalidArchitectureError(
                    f"malformed cell string {text!r}: node group {group!r} must look like '|op~0|op~1|'"
                )
            terms = group[1:-1].split("|")
            if len(terms) != j:
                raise InvalidArchitectureError(
                    f"malformed cell string {text!r}: node {j} needs {j} inputs, group {group!r} has {len(terms)}"
                )
            for i, term in enumerate(terms):
                op, sep, src = term.partition("~")
                if not sep or src != str(i):
                    raise InvalidArchitectureError(
                        f"malformed cell string {text!r}: term {term!r} of node {j} should be 'op~{i}'"
                    )
                if op not in self._ops:
                    raise UnknownOpError(
                        f"unknown op {op!r} in {text!r}; accepted: {', '.join(map(repr, self._ops))}"
                    )
                ops.append(op)
        return CellArchitecture(ops, self.nodes)

    def validate(self, arch):
        """``arch`` if it is a cell of this space (a string is parsed first); else raise
        :class:`~nasviz.errors.InvalidArchitectureError` (see :meth:`Space.validate`)."""
        if isinstance(arch, CellArchitecture) and arch.nodes != self.nodes:
            raise InvalidArchitectureError(f"{arch!r} has {arch.nodes} nodes; this space's cells have {self.nodes}")
        return super().validate(arch)

    def __contains__(self, arch) -> bool:
        return isinstance(arch, CellArchitecture) and arch.nodes == self.nodes and super().__contains__(arch)

    # -- structure -----------------------------------------------------------------
    def is_connected(self, arch: CellArchitecture) -> bool:
        """Whether the cell input reaches its output through non-``none`` edges."""
        arch = self._check_member(arch)
        reach = {0}
        for (i, j), op in zip(self._edges, arch.ops):  # edges are in topological order
            if op != "none" and i in reach:
                reach.add(j)
        return self.nodes - 1 in reach

    def is_disconnected(self, arch: CellArchitecture) -> bool:
        """Whether the cell's output is constant zero (input never reaches output)."""
        return not self.is_connected(arch)

    def canonical(self, arch: CellArchitecture, zeros: str = "keep") -> str:
        """NAS-Bench-201's isomorphism-aware form (``to_unique_str`` with zeros considered).

        ``skip_connect`` passes its input's expression on; ``none`` -- or an input that
        is already zero -- becomes the term ``#``; each node's terms are sorted and
        joined with ``+``. Over the 15,625 default cells this yields 6,466 classes.

        ``zeros="drop"`` also drops the zero terms (a node with none left is zero, ``#``,
        and an op of a zero input is zero too): cells that differ only in what they add
        zero to compute the same function, and merge, to 5,390 classes. NAS-Bench-201 (and
        nasviz's tables, one training per class) use the default, ``"keep"``.

        Examples
        --------
        >>> import nasviz as nv
        >>> s = nv.CellSpace()
        >>> a = s.from_string("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|")
        >>> s.canonical(a)
        '#+#+#+(0)@nor_conv_3x3'
        >>> b = s.from_string("|skip_connect~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|")
        >>> c = s.from_string("|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|")
        >>> s.canonical(b) == s.canonical(c)
        True
        >>> d = s.from_string("|none~0|+|none~0|none~1|+|nor_conv_1x1~0|none~1|skip_connect~2|")
        >>> e = s.from_string("|none~0|+|none~0|none~1|+|nor_conv_1x1~0|none~1|none~2|")
        >>> s.canonical(d) == s.canonical(e), s.canonical(d, zeros="drop") == s.canonical(e, zeros="drop")
        (False, True)
        """
        arch = self._check_member(arch)
        drop = check_choice("zeros", zeros, ("keep", "drop")) == "drop"
        expr = {0: "0"}
        k = 0
        for j in range(1, self.nodes):
            terms = []
            for i in range(j):
                op = arch.ops[k]
                k += 1
                if op == "none" or expr[i] == "#":
                    if not drop:
                        terms.append("#")
                elif op == "skip_connect":
                    terms.append(expr[i])
                else:
                    terms.append(f"({expr[i]})@{op}")
            expr[j] = "+".join(sorted(terms)) if terms else "#"
        return expr[self.nodes - 1]

    def encode(self, arch: CellArchitecture, kind: str = "onehot") -> np.ndarray:
        """A numeric vector: ``"onehot"`` (an op block per edge) or ``"path"``.

        The path encoding (White et al., BANANAS, 2021) has one bit per sequence of
        ops along an input-to-output path, ``none`` excluded: two cells that route the
        same op sequences get the same vector whatever edges carry them.
        """
        if kind == "onehot":
            return super().encode(arch, kind)
        if kind != "path":
            raise UnknownNameError(f"unknown encoding {kind!r}; accepted: 'onehot', 'path'")
        arch = self._check_member(arch)
        ops = [o for o in self._ops if o != "none"]
        offsets, size = {}, 0
        for length in range(1, self.nodes):
            offsets[length] = size
            size += len(ops) ** length
        if size > MAX_PATH_ENCODING:
            raise InvalidArgumentError(
                f"the 'path' encoding of {self!r} would have {size:.3g} entries (one per op sequence along a "
                f"path), more than {MAX_PATH_ENCODING:,}; use kind='onehot' or fewer nodes/ops")
        vec = np.zeros(size, dtype=np.float32)
        for path in self._paths():
            seq = [arch.edge_op(a, b) for a, b in zip(path, path[1:])]
            if "none" in seq:
                continue
            idx = 0
            for op in seq:
                idx = idx * len(ops) + ops.index(op)
            vec[offsets[len(seq)] + idx] = 1.0
        return vec

    def _paths(self):
        last = self.nodes - 1
        for r in range(0, last):
            for mid in itertools.combinations(range(1, last), r):
                yield (0, *mid, last)

    def build(self, arch: CellArchitecture, num_classes: int = 10, in_channels: int = 1, *,
              channels: int = 16, cells_per_stage: int = 1):
        """A ``torch.nn.Module``: NAS-Bench-201's skeleton scaled to small images.

        One module per block that :meth:`blocks` lists (stem, three stages of cells with
        a reduction opening stages 2 and 3, head), in that order. NAS-Bench-201 itself
        uses ``channels=16, cells_per_stage=5`` on 32x32 images.

        Examples
        --------
        >>> import torch, nasviz as nv
        >>> space = nv.CellSpace()
        >>> net = space.build(space.sample(seed=0), num_classes=10, in_channels=1)
        >>> net(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 10])
        """
        arch = self._check_member(arch)
        blocks = self.blocks(num_classes, in_channels, channels=channels, cells_per_stage=cells_per_stage)
        from .cell_model import CellNetwork

        return CellNetwork(arch, blocks)

    def blocks(self, num_classes: int = 10, in_channels: int = 1, *, channels: int = 16, cells_per_stage: int = 1,
               input_size=(8, 8)) -> list[SkeletonBlock]:
        """The network :meth:`build` makes, block by block, as plain data.

        stem (3x3 conv + BN, ``in_channels`` -> ``channels``) -> ``cells_per_stage``
        cells (stage 1) -> reduction (a residual block of 3x3 convolutions, the first
        with stride 2: channels x 2, the feature map halved rounding up, as its shortcut
        pools 2x2 with ``ceil_mode``) -> cells (stage 2) -> reduction -> cells (stage 3)
        -> head (BN-ReLU, global average pooling, linear to ``num_classes``). The model,
        the network drawing and the batched trainer's memory estimate all read this list.

        Parameters
        ----------
        num_classes, in_channels, channels, cells_per_stage : int
            As for :meth:`build`.
        input_size : int or (int, int)
            The input's height and width (the model itself takes any size).

        Returns
        -------
        list of SkeletonBlock
            ``(kind, stage, in_shape, out_shape)``: ``kind`` is ``"stem"``, ``"cell"``,
            ``"reduction"`` or ``"head"``; ``stage`` 1..3 for cells and reductions, 0
            otherwise; shapes are ``(C, H, W)``, the head's output ``(num_classes,)``.

        Examples
        --------
        >>> import nasviz as nv
        >>> [(b.kind, b.stage, b.out_shape) for b in nv.CellSpace().blocks(channels=8, input_size=7)]
        ... # doctest: +NORMALIZE_WHITESPACE
        [('stem', 0, (8, 7, 7)), ('cell', 1, (8, 7, 7)), ('reduction', 2, (16, 4, 4)), ('cell', 2, (16, 4, 4)),
         ('reduction', 3, (32, 2, 2)), ('cell', 3, (32, 2, 2)), ('head', 0, (10,))]
        """
        num_classes = check_positive_int("num_classes", num_classes)
        in_channels = check_positive_int("in_channels", in_channels)
        channels = check_positive_int("channels", channels)
        cells_per_stage = check_positive_int("cells_per_stage", cells_per_stage)
        size = (input_size, input_size) if isinstance(input_size, int) else input_size
        if not (isinstance(size, (tuple, list)) and len(size) == 2
                and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in size)):
            raise ShapeError(f"input_size must be a positive int or (height, width) of positive ints, e.g. (8, 8); "
                             f"got {input_size!r}")
        shape = (channels, *size)
        out = [SkeletonBlock("stem", 0, (in_channels, *size), shape)]
        for stage in range(1, 4):
            if stage > 1:
                c, h, w = shape
                shape = (2 * c, (h - 1) // 2 + 1, (w - 1) // 2 + 1)
                out.append(SkeletonBlock("reduction", stage, out[-1].out_shape, shape))
            out.extend(SkeletonBlock("cell", stage, shape, shape) for _ in range(cells_per_stage))
        out.append(SkeletonBlock("head", 0, shape, (num_classes,)))
        return out
