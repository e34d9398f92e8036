"""Exhaustive search: every member of a finite space, once."""

from __future__ import annotations

import itertools

import numpy as np

from ..validation import check_bool
from ._common import TrackedStrategy
from .base import StrategyFinishedError

__all__ = ["Exhaustive"]

MATERIALIZE = 100_000  # spaces up to this size are shuffled as a list; larger ones by index
_MASK64 = (1 << 64) - 1


class _Shuffle:
    """A seeded permutation of ``range(n)`` in O(1) memory: a 4-round Feistel network on
    the next even number of bits, cycle-walked back into ``range(n)``."""

    def __init__(self, n: int, seed: int):
        self.n = n
        bits = max(2, (n - 1).bit_length())
        self.half = (bits + 1) // 2
        self.keys = [int(k) for k in np.random.default_rng(seed).integers(2**63, size=4)]

    def _round(self, r: int, key: int) -> int:
        h = ((r ^ key) * 0x9E3779B97F4A7C15) & _MASK64
        h ^= h >> 29
        h = (h * 0xBF58476D1CE4E5B9) & _MASK64
        return h ^ (h >> 32)

    def __call__(self, i: int) -> int:
        mask = (1 << self.half) - 1
        x = i
        while True:
            left, right = x >> self.half, x & mask
            for key in self.keys:
                left, right = right, left ^ (self._round(right, key) & mask)
            x = (left << self.half) | right
            if x < self.n:
                return x


class Exhaustive(TrackedStrategy):
    """Grid search: propose every member of the space exactly once.

    With ``shuffle=False`` the members come in index order (``space[0]``,
    ``space[1]``, ...), with ``shuffle=True`` in a random order drawn from the seed,
    so that any prefix of the run is a sample without replacement. (Spaces of more
    than 100,000 members are shuffled by a seeded bijection of their indices, a
    Feistel network, and read with ``space[i]``, so nothing is listed.) ``finished``
    becomes true after ``space.size`` asks. On a tabular benchmark this is how the
    whole table is scored; it learns nothing from the results.

    Parameters
    ----------
    space : Space
        A finite :class:`nasviz.spaces.Space` (``space.size`` members).
    shuffle : bool
        Visit the members in a seeded random order instead of index order.
    seed : int, numpy.random.Generator or None
        Seeds ``rng_`` (used only for the shuffled order).

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.CellSpace(ops=("none", "skip_connect"), nodes=3)
    >>> s = nv.strategies.Exhaustive(space)
    >>> [str(s.ask()) for _ in range(len(space))][:2]
    ['|none~0|+|none~0|none~1|', '|none~0|+|none~0|skip_connect~1|']
    >>> s.finished
    True
    """

    def __init__(self, space, *, shuffle=False, seed=None):
        super().__init__(space, seed=seed)
        self.shuffle = shuffle
        check_bool("shuffle", shuffle)
        self.position_ = 0
        self.order_seed_ = None
        self._order = None  # derived from order_seed_
        self._iter = None  # (position, iterator over space.enumerate()) for index order

    def _member(self, i: int):
        if self.shuffle:
            if self.order_seed_ is None:
                self.order_seed_ = int(self.rng_.integers(2**63))
            if self._order is None:
                n = self._sampler.size
                if n <= MATERIALIZE:
                    perm = np.random.default_rng(self.order_seed_).permutation(n)
                    members = list(self.space.enumerate())
                    self._order = [members[j] for j in perm]
                else:  # too many to list: a seeded bijection of the indices instead
                    self._order = _Shuffle(n, self.order_seed_)
            if isinstance(self._order, _Shuffle):
                return self.space[self._order(i)]
            return self._order[i]
        if self._iter is None or self._iter[0] != i:
            self._iter = (i, itertools.islice(self.space.enumerate(), i, None))
        arch = next(self._iter[1])
        self._iter = (i + 1, self._iter[1])
        return arch

    def _keeps_asked(self) -> bool:
        return False  # the position says it all; keeps the state small on big grids

    def ask(self):
        if self.finished:
            raise StrategyFinishedError(
                f"Exhaustive has proposed all {self._sampler.size} members of {self.space!r}; "
                "check strategy.finished before calling ask()"
            )
        arch = self._member(self.position_)
        self.position_ += 1
        return self._record_ask(arch)

    @property
    def finished(self) -> bool:
        return self.position_ >= self._sampler.size

    def state_dict(self) -> dict:
        state = super().state_dict()
        state.update(position=self.position_, order_seed=self.order_seed_)
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.position_ = state["position"]
        if state["order_seed"] != self.order_seed_:
            self._order = None
        self.order_seed_ = state["order_seed"]
        self._iter = None
