"""What a build trains: one representative of each canonical class, in chunks of a fixed random order.

Isomorphic cells compute the same function, so they share one training: the lowest
``space.index`` of each class of ``space.canonical`` is trained. In a
:class:`~nasviz.MacroSpace` every member is its own class (its canonical form is its
string), so every architecture is trained. Classes are grouped into chunks in a fixed
random order (``recipe.order_seed``), so the chunks, and so the numbers, do not depend
on how the build is split into runs, and any finished prefix is a uniform random sample
of the classes.
"""

from __future__ import annotations

import math

import numpy as np

from ...spaces.base import Space
from ...spaces.cell import CellSpace
from .recipes import Recipe

__all__ = ["canonical_classes", "chunks", "tasks"]


def canonical_classes(space: Space | None = None):
    """``(class_of, representatives)`` of ``space``'s isomorphism classes: ``space.canonical_classes()``
    (default: NAS-Bench-201's :class:`~nasviz.CellSpace`; a build passes ``recipe.make_space()``).

    ``representatives[k]`` is the lowest ``space.index`` of class ``k`` (classes are
    numbered in that order) and ``class_of[i]`` the class of ``space[i]``.

    Examples
    --------
    >>> class_of, reps = canonical_classes()
    >>> len(class_of), len(reps), int(reps[0]), int(class_of[reps[5]])
    (15625, 6466, 0, 5)

    In a layer-chain space every architecture is a class of its own:

    >>> from nasviz.bench.build.recipes import RECIPES
    >>> class_of, reps = canonical_classes(RECIPES["shifted-layers"].make_space())
    >>> len(reps), bool((class_of == reps).all())
    (4920, True)
    """
    return (CellSpace() if space is None else space).canonical_classes()


def chunks(recipe: Recipe, n_classes: int) -> list[np.ndarray]:
    """The classes of each chunk (sorted), in build order."""
    order = np.random.default_rng(recipe.order_seed).permutation(n_classes)
    return [np.sort(order[s:s + recipe.chunk]) for s in range(0, n_classes, recipe.chunk)]


def tasks(recipe: Recipe, reps: np.ndarray, runs: dict, header: dict, limit: int | None = None) -> list[tuple]:
    """One task per (chunk, seed) with a run the journal's ``runs`` lack, among the chunks holding the first
    ``limit`` classes: ``(recipe dict, seed, chunk number, classes, their representatives' indices, n_val,
    n_test)``, what a worker process trains (``worker.train_chunk``)."""
    planned = chunks(recipe, len(reps))
    if limit is not None:
        planned = planned[:math.ceil(min(limit, len(reps)) / recipe.chunk)]
    out = []
    for j, classes in enumerate(planned):
        for s in recipe.seeds:
            if not all((int(k), s) in runs for k in classes):
                out.append((recipe.to_dict(), s, j, [int(k) for k in classes], [int(reps[k]) for k in classes],
                            header["n_val"], header["n_test"]))
    return out
