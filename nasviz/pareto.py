"""Pareto fronts: plain data (masks and indices).

:func:`non_dominated` handles any number of objectives (quadratic in the number of
points: the trials of a search, as :meth:`nasviz.History.pareto` uses it). For two
objectives over a whole table (15,625 cells), one sort and one sweep suffice:
:func:`pareto_front`.
"""

from __future__ import annotations

import numpy as np

from .errors import ShapeError

__all__ = ["non_dominated", "pareto_front"]


def pareto_front(x, y, *, minimize_x: bool = True, maximize_y: bool = True) -> np.ndarray:
    """Indices of the points that no other point dominates, in increasing ``x``.

    Point ``i`` is dominated when some point ``j`` is at least as good in both
    objectives and better in one (with the default directions: ``x[j] <= x[i]`` and
    ``y[j] >= y[i]``, not both equal). Equal points are all kept. Points with a NaN
    (or infinite) value are left out. Ties in ``x`` on the front are ordered by index.

    Parameters
    ----------
    x, y : array-like, same length
        The two objectives, e.g. parameters and accuracy.
    minimize_x, maximize_y : bool
        Directions: by default a smaller ``x`` and a larger ``y`` are better.

    Returns
    -------
    numpy.ndarray of int
        Positions into ``x`` and ``y``; ordered from the best ``x`` to the worst.

    Examples
    --------
    >>> pareto_front([3, 1, 2, 2, 4], [0.9, 0.5, 0.5, 0.7, 0.9]).tolist()
    [1, 3, 0]
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ShapeError(f"x and y must be 1-d and of the same length, got shapes {x.shape} and {y.shape}")
    gx = x if minimize_x else -x  # smaller is better
    gy = y if maximize_y else -y  # larger is better
    ok = np.flatnonzero(np.isfinite(gx) & np.isfinite(gy))
    order = ok[np.lexsort((ok, -gy[ok], gx[ok]))]  # x ascending, then y descending, then index
    keep = []
    best = -np.inf  # the best y among points with a strictly better x
    k = 0
    while k < len(order):
        j = k
        while j < len(order) and gx[order[j]] == gx[order[k]]:
            j += 1
        group = order[k:j]
        top = gy[group[0]]
        if top > best:
            keep.extend(int(i) for i in group if gy[i] == top)
            best = top
        k = j
    return np.array(keep, dtype=np.int64)


def non_dominated(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``points`` (larger is better in every column) that no other row dominates.

    Examples
    --------
    >>> non_dominated(np.array([[1, 1], [2, 0], [0, 0], [1, 1]])).tolist()
    [True, True, False, True]
    """
    points = np.asarray(points, dtype=float)
    n = len(points)
    mask = np.ones(n, dtype=bool)
    for i in range(n):
        ge = np.all(points >= points[i], axis=1)
        gt = np.any(points > points[i], axis=1)
        if np.any(ge & gt):
            mask[i] = False
    return mask
