"""The seed and epoch axes of a table, and how a query's ``epoch`` and ``seed`` read along them.

Every metric of a :class:`~nasviz.bench.Benchmark` is an array shaped ``(cells,
seeds, epochs)``; an axis of length 1 means the metric does not vary along it (one
run per cell, or a value recorded once per run such as ``params``). A query reads
one epoch (default: the last) and one seed (default: the mean over seeds).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from ..errors import InvalidArgumentError, check_positive_int
from ..validation import check_choices, check_int

__all__ = ["TableAxes"]


class TableAxes:
    """The ``epochs`` and ``seeds`` of table ``name`` (``None``: final values only / one run per cell).

    Examples
    --------
    >>> import numpy as np
    >>> axes = TableAxes("toy", epochs=[1, 2, 3], seeds=[0, 1])
    >>> arr = axes.metric_array("acc", np.arange(12.0).reshape(2, 2, 3), 2)
    >>> float(axes.pick(arr, 1, epoch=2, seed=None)), float(axes.pick(arr, 1, epoch=None, seed=0))
    (8.5, 8.0)
    >>> axes.train_epochs
    3
    """

    def __init__(self, name: str, epochs: Sequence[int] | None = None, seeds: Sequence[int] | None = None,
                 train_epochs: int | None = None):
        self.name = name
        self.epochs = None if epochs is None else [check_int("each of epochs", e)
                                                   for e in check_choices("epochs", epochs, distinct=False)]
        self.seeds = None if seeds is None else [check_int("each of seeds", s)
                                                 for s in check_choices("seeds", seeds, distinct=False)]
        self.train_epochs = None if train_epochs is None else check_positive_int("train_epochs", train_epochs)
        for what, seq in (("epochs", self.epochs), ("seeds", self.seeds)):
            if seq is not None and (not seq or len(set(seq)) != len(seq)):
                raise InvalidArgumentError(f"{what} must be distinct integers, got {seq!r}")
        if self.epochs is not None and self.epochs != sorted(self.epochs):
            raise InvalidArgumentError(f"epochs must be increasing (the last is the final epoch), got {self.epochs}")
        if self.epochs is not None and self.train_epochs is None:
            self.train_epochs = max(self.epochs)
        self._epoch_pos = None if self.epochs is None else {e: k for k, e in enumerate(self.epochs)}
        self._seed_pos = None if self.seeds is None else {s: k for k, s in enumerate(self.seeds)}

    def metric_array(self, name: str, values, n_cells: int, order=None) -> np.ndarray:
        """``values`` of metric ``name`` as a read-only float array ``(cells, seeds or 1, epochs or 1)``,
        its rows put in ``order``."""
        n_seeds = 1 if self.seeds is None else len(self.seeds)
        n_epochs = 1 if self.epochs is None else len(self.epochs)
        arr = np.asarray(values)
        if arr.dtype.kind not in "iuf":
            raise InvalidArgumentError(f"metric {name!r} must be numeric, got an array of dtype {arr.dtype}")
        arr = arr.astype(np.float64)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1, 1)
        if arr.ndim != 3 or arr.shape[0] != n_cells or arr.shape[1] not in (1, n_seeds) or arr.shape[2] not in (
            1, n_epochs
        ):
            raise InvalidArgumentError(
                f"metric {name!r} must be shaped (cells,) or (cells, seeds or 1, epochs or 1) = "
                f"({n_cells}, {n_seeds} or 1, {n_epochs} or 1); got {np.shape(values)}"
            )
        if order is not None:
            arr = arr[order]
        arr.flags.writeable = False
        return arr

    def epoch_position(self, epoch) -> int:
        """Position along the epoch axis (-1: final); an epoch the table lacks raises, naming those it has."""
        if epoch is None:
            return -1
        if self.epochs is None:
            if self.train_epochs is not None and _is_int(epoch) and int(epoch) == self.train_epochs:
                return -1
            after = f" (they were recorded after {self.train_epochs} epochs)" if self.train_epochs else ""
            raise InvalidArgumentError(
                f"table {self.name!r} has no per-epoch values{after}; got epoch={epoch!r}: pass epoch=None"
            )
        if not _is_int(epoch) or int(epoch) not in self._epoch_pos:
            raise InvalidArgumentError(f"epoch {epoch!r} is not in table {self.name!r}; "
                                       f"available epochs: {span(self.epochs)}")
        return self._epoch_pos[int(epoch)]

    def seed_position(self, seed):
        """Position along the seed axis, or None for the mean over seeds."""
        if seed is None:
            return None
        if self.seeds is None:
            raise InvalidArgumentError(f"table {self.name!r} has one run per cell and no seeds; got seed={seed!r}: "
                                       "pass seed=None")
        if not _is_int(seed) or int(seed) not in self._seed_pos:
            raise InvalidArgumentError(f"seed {seed!r} is not in table {self.name!r}; available seeds: {self.seeds}")
        return self._seed_pos[int(seed)]

    def pick(self, arr: np.ndarray, rows, epoch, seed):
        """Values of ``arr`` (a :meth:`metric_array`) at ``rows`` (an int, an index array or a slice)."""
        return self.read(arr, rows, self.epoch_position(epoch), self.seed_position(seed))

    @staticmethod
    def read(arr: np.ndarray, rows, e: int, s: int | None):
        """:meth:`pick` at the positions ``e`` (:meth:`epoch_position`) and ``s`` (:meth:`seed_position`)."""
        a = arr[rows]
        a = a[..., 0] if arr.shape[2] == 1 else a[..., e]
        if arr.shape[1] == 1:
            return a[..., 0]
        if s is not None:
            return a[..., s]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all seeds missing -> NaN
            return np.nanmean(a, axis=-1)

    def epochs_share(self, epochs) -> float:
        """The share of the training schedule (``train_epochs``) that ``epochs`` epochs are (None: all of it)."""
        if epochs is None:
            return 1.0
        if isinstance(epochs, bool) or not isinstance(epochs, (int, float, np.integer, np.floating)) or not (
            math.isfinite(epochs) and epochs > 0
        ):
            raise InvalidArgumentError(f"epochs must be a positive number, got {epochs!r}")
        if self.train_epochs is None:
            raise InvalidArgumentError(
                f"table {self.name!r} does not know how many epochs its cost stands for; pass epochs=None, or "
                "build the table with train_epochs=... to scale cost by epochs"
            )
        return float(epochs) / self.train_epochs


def _is_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def span(seq: Sequence[int]) -> str:
    """``1..6`` for a run of consecutive integers, else the list."""
    if len(seq) > 2 and list(seq) == list(range(seq[0], seq[-1] + 1)):
        return f"{seq[0]}..{seq[-1]}"
    return ", ".join(map(str, seq))
