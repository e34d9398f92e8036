"""Which row of a table holds a cell.

A table's rows are its cells' ``space.index``: every cell of the space in index
order, or a sorted subset of them (a table that covers part of a space).
:class:`CellRows` turns architectures (or their strings) into rows, with a fast
mixed-radix ``space.index`` for spaces in which every combination of choices is a
member.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidArgumentError, NasvizError
from ..spaces.base import Space

__all__ = ["CellRows", "NotInTableError"]


class NotInTableError(NasvizError):
    """An architecture of the space that the table holds no entry for."""


class CellRows:
    """The rows of table ``name`` over ``space``: every cell (``rows=None``) or the cells ``rows``.

    ``rows`` holds ``space.index`` of the cell of each row as given (distinct, any
    order); :attr:`order` is the stable sort that puts them, and so the values given
    with them, in index order, and :attr:`held` the sorted indices (``None``: every
    cell, row ``i`` is ``space[i]``).

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> part = CellRows("part", space, [9, 2, 5])
    >>> part.order.tolist(), part.held.tolist(), len(part)
    ([1, 2, 0], [2, 5, 9], 3)
    >>> part.row(space[5]), part.rows([space[9], space[2]]).tolist()
    (1, [2, 0])
    >>> part.row(space[3])
    Traceback (most recent call last):
    ...
    nasviz.bench.rows.NotInTableError: table 'part' does not contain the cell ...
    """

    def __init__(self, name: str, space: Space, rows=None):
        self.name = name
        self.space = space
        self.n = len(space)
        self.order = None
        self.held = None
        if rows is not None:
            self.order, self.held = _sorted_rows(space, self.n, rows)
        self._digits = None
        decisions = space.decisions
        if type(space).index is Space.index and self.n == math.prod(len(d.choices) for d in decisions):
            # every combination of choices is a member: space.index is the mixed-radix number of the choices
            self._digits = [{c: k for k, c in enumerate(d.choices)} for d in decisions]
            self._radix = [len(d.choices) for d in decisions]
            self._arch_type = type(space[0])

    def __len__(self) -> int:
        return self.n if self.held is None else len(self.held)

    def index(self, arch) -> int:
        """``space.index(arch)``; ``arch`` may be its string. Raises a nasviz error for a non-member."""
        if isinstance(arch, str):
            arch = self.space.from_string(arch)
        if self._digits is not None and type(arch) is self._arch_type:
            values = arch.decisions
            if len(values) == len(self._digits):
                idx = 0
                try:
                    for v, digits, r in zip(values, self._digits, self._radix):
                        idx = idx * r + digits[v]
                except (KeyError, TypeError):
                    pass
                else:
                    return idx
        return self.space.index(arch)  # raises a nasviz error for a non-member

    def row(self, arch) -> int:
        """The row of ``arch`` (or its string); raises :class:`NotInTableError` if the table lacks it."""
        i = self.index(arch)
        if self.held is None:
            return i
        k = int(np.searchsorted(self.held, i))
        if k == len(self.held) or self.held[k] != i:
            raise self.missing(np.array([i]))
        return k

    def rows(self, archs) -> np.ndarray:
        """The rows of ``archs``; raises :class:`NotInTableError` naming the cells the table lacks."""
        indices = np.fromiter((self.index(a) for a in archs), dtype=np.int64)
        if self.held is None:
            return indices
        rows = np.minimum(np.searchsorted(self.held, indices), max(len(self.held) - 1, 0))
        missing = (self.held[rows] != indices) if len(self.held) else np.ones(len(indices), dtype=bool)
        if missing.any():
            raise self.missing(np.unique(indices[missing]))
        return rows

    def missing(self, indices: np.ndarray) -> NotInTableError:
        """The error for the cells ``space[i]``, ``i`` in ``indices``, that the table lacks."""
        archs = [str(self.space[int(i)]) for i in indices[:3]]
        more = f" and {len(indices) - 3} more" if len(indices) > 3 else ""
        what = "the cell" if len(indices) == 1 else f"{len(indices)} of the cells:"
        return NotInTableError(
            f"table {self.name!r} does not contain {what} {', '.join(map(repr, archs))}{more}; it holds "
            f"{len(self):,} of the {self.n:,} cells of {self.space!r} (check `arch in bench` first)"
        )

    def space_index(self, row: int) -> int:
        """``space.index`` of the cell of ``row``."""
        return int(row) if self.held is None else int(self.held[row])


def _sorted_rows(space: Space, n: int, rows) -> tuple[np.ndarray, np.ndarray]:
    rows = np.asarray(rows)
    if rows.ndim != 1 or rows.dtype.kind not in "iu" or (len(rows) and (rows.min() < 0 or rows.max() >= n)):
        raise InvalidArgumentError(f"rows must be a 1-d array of indices in [0, {n}) of {space!r}")
    order = np.argsort(rows, kind="stable")
    held = rows[order].astype(np.int64)
    if len(held) > 1 and (held[1:] == held[:-1]).any():
        k = int(np.flatnonzero(held[1:] == held[:-1])[0])
        raise InvalidArgumentError(f"rows holds the cell {str(space[int(held[k])])!r} twice")
    held.flags.writeable = False
    return order, held
