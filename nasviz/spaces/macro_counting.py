"""Exact counting and ordering of layer chains, by dynamic programming over feature-map sizes.

How many chains of ``r`` more layers can follow a feature map depends only on the
map's side lengths, so :class:`ChainCounts` counts per ``(r, (h, w))`` once and reuses
it: that gives :meth:`~nasviz.spaces.MacroSpace.count_by_depth` and ``len(space)``
exactly, the position of any chain (``index``) and the chain at any position
(``space[i]``) without enumerating, and so uniform sampling (:func:`randbelow`).

Members are ordered by depth, then layer by layer: the layers that fit a map come in
the order of :meth:`ChainCounts.layer_configs` (op, then the op's settings in
:data:`~nasviz.spaces.macro.LAYER_FIELDS` order, each in choice order).

The hidden fully connected layers after the pooling (the *head*) do not depend on
the chain, so :class:`HeadCounts` orders them on their own: by number of layers, then
layer by layer in ``fc_units`` order. A space's members are then chains times heads,
the head the fastest-varying digit: ``index = chain index * len(heads) + head index``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from .macro_layers import _APPLIES, MacroLayer, _out_size

__all__ = ["ChainCounts", "HeadCounts", "randbelow"]


def randbelow(rng: np.random.Generator, n: int) -> int:
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


class HeadCounts:
    """Heads of ``0..max_fc`` hidden fully connected layers, each with units from ``units``:
    counted, ordered, indexed.

    Heads are ordered by their number of layers, then layer by layer in choice order
    (``()`` first). There are ``sum(len(units) ** d for d in 0..max_fc)`` of them: one,
    ``()``, when ``max_fc`` is 0.

    Examples
    --------
    >>> heads = HeadCounts((8, 16), 2)
    >>> len(heads), list(heads)
    (7, [(), (8,), (16,), (8, 8), (8, 16), (16, 8), (16, 16)])
    >>> heads.index((16, 8)), heads[5]
    (5, (16, 8))
    """

    def __init__(self, units: Sequence[int], max_fc: int):
        self.units = tuple(units)
        self.max_fc = max_fc

    def __len__(self) -> int:
        return sum(len(self.units) ** d for d in range(self.max_fc + 1))

    def __iter__(self) -> Iterator[tuple[int, ...]]:
        for d in range(self.max_fc + 1):
            yield from itertools.product(self.units, repeat=d)

    def index(self, fc: Sequence[int]) -> int:
        """The position of the head ``fc`` (units that are choices, at most ``max_fc`` of them)."""
        n = len(self.units)
        idx = sum(n**d for d in range(len(fc)))
        digits = 0
        for u in fc:
            digits = digits * n + self.units.index(u)
        return idx + digits

    def __getitem__(self, i: int) -> tuple[int, ...]:
        """The head at position ``0 <= i < len(self)``."""
        n = len(self.units)
        d = 0
        while i >= n**d:
            i -= n**d
            d += 1
        digits = []
        for _ in range(d):
            i, r = divmod(i, n)
            digits.append(self.units[r])
        return tuple(reversed(digits))


class ChainCounts:
    """Feasible chains of a space's layers from an input map: counted, ordered, indexed.

    Parameters
    ----------
    choices : mapping of str to tuple
        The choices of each of :data:`~nasviz.spaces.macro.LAYER_FIELDS` (``"op"``
        first), in the space's order.
    start : (int, int)
        Height and width of the input feature map.

    Notes
    -----
    A layer is feasible on a map when its kernel and stride are at most the map's
    smaller side; ``identity`` always is. Results are cached per map (and depth), so
    one object answers every question about one space.
    """

    def __init__(self, choices: Mapping[str, Sequence[object]], start: tuple[int, int]):
        self.choices = choices
        self.start = tuple(start)
        self._configs: dict = {}
        self._counts: dict = {}

    def layer_configs(self, hw: tuple[int, int]) -> list[tuple[MacroLayer, tuple[int, int]]]:
        """Feasible distinct layers on an ``hw`` map, in index order, each with the map it yields."""
        if hw in self._configs:
            return self._configs[hw]
        h, w = hw
        m = min(h, w)
        out = []
        for op in self.choices["op"]:
            if op == "identity":
                out.append((MacroLayer("identity"), hw))
                continue
            settings = [self.choices[f] for f in _APPLIES[op]]
            for combo in itertools.product(*settings):
                layer = MacroLayer(op, **dict(zip(_APPLIES[op], combo)))
                if layer.kernel <= m and layer.stride <= m:
                    out.append((layer, (_out_size(h, layer.kernel, layer.stride),
                                        _out_size(w, layer.kernel, layer.stride))))
        self._configs[hw] = out
        return out

    def completions(self, r: int, hw: tuple[int, int]) -> int:
        """Number of feasible chains of exactly ``r`` more layers from an ``hw`` map."""
        key = (r, hw)
        if key not in self._counts:
            if r == 0:
                self._counts[key] = 1
            else:
                per_next: dict = {}
                for _, nxt in self.layer_configs(hw):
                    per_next[nxt] = per_next.get(nxt, 0) + 1
                self._counts[key] = sum(n * self.completions(r - 1, nxt) for nxt, n in per_next.items())
        return self._counts[key]

    def count_by_depth(self, up_to: int) -> dict[int, int]:
        """``{depth: number of feasible chains of that depth}`` for depths ``1..up_to``."""
        return {d: self.completions(d, self.start) for d in range(1, up_to + 1)}

    def chains(self, depth: int) -> Iterator[tuple[MacroLayer, ...]]:
        """Every feasible chain of ``depth`` layers, in index order."""

        def rest(r, hw):
            if r == 0:
                yield ()
                return
            for layer, nxt in self.layer_configs(hw):
                if self.completions(r - 1, nxt):
                    for tail in rest(r - 1, nxt):
                        yield (layer, *tail)

        yield from rest(depth, self.start)

    def index(self, layers: Sequence[MacroLayer]) -> int:
        """The position of the feasible chain ``layers`` among all chains (shorter ones first)."""
        hw = self.start
        depth = len(layers)
        idx = sum(self.completions(d, hw) for d in range(1, depth))
        for pos, layer in enumerate(layers):
            r = depth - pos - 1
            for cand, nxt in self.layer_configs(hw):
                if cand == layer:
                    hw = nxt
                    break
                idx += self.completions(r, nxt)
        return idx

    def layers_at(self, i: int) -> list[MacroLayer]:
        """The chain at position ``i`` (``0 <= i`` < the number of chains up to some depth)."""
        hw = self.start
        depth = 1
        while i >= self.completions(depth, hw):
            i -= self.completions(depth, hw)
            depth += 1
        layers = []
        for pos in range(depth):
            r = depth - pos - 1
            for cand, nxt in self.layer_configs(hw):
                c = self.completions(r, nxt)
                if i < c:
                    layers.append(cand)
                    hw = nxt
                    break
                i -= c
        return layers
