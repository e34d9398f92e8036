"""The :class:`Benchmark`: a lookup table of ground truth over a search space.

Every metric is stored as an array shaped ``(cells, seeds, epochs)`` whose rows are
the cells' ``space.index(arch)`` (all of them in order, or a sorted subset for a
table that covers part of a space). An axis of length 1 means the metric does not
vary along it:
NAS-Bench-201's 12-epoch table has one run per cell and no curve, so its arrays are
``(15625, 1, 1)``; a table trained with several seeds and read at every epoch keeps
``(15625, seeds, epochs)`` for its accuracies and ``(15625, 1, 1)`` for parameters
and FLOPs. Asking for a cell the table does not cover raises :class:`NotInTableError`.

Tables are saved as NPZ files without pickled objects (:meth:`Benchmark.save`,
:meth:`Benchmark.read`), written byte for byte the same every time.
"""

from __future__ import annotations

import io
import json
import math
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import InvalidArgumentError, InvalidFileError, NasvizError, check_choice, check_positive_int
from ..validation import check_choices, check_int
from ..spaces.base import Space
from ..spaces.cell import CellSpace

__all__ = ["Benchmark", "NotInTableError"]

_FORMAT = 1
_METRIC_PREFIX = "metric."
# what a saved table's header holds (Benchmark.save writes them all)
_META_KEYS = ("name", "space", "metrics", "default_metric", "epochs", "seeds", "train_epochs", "description")


class NotInTableError(NasvizError):
    """An architecture of the space that the table holds no entry for."""


def _as_3d(name: str, values, n_cells: int, n_seeds: int, n_epochs: int, order=None) -> np.ndarray:
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


class Benchmark:
    """Ground truth for the cells of a search space: query, rank, simulate training cost.

    Load a shipped table with :func:`nasviz.bench.load`, or a table of your own with
    :func:`nasviz.bench.from_csv` / :func:`nasviz.bench.from_dataframe`. Higher
    scores are better; :meth:`optimum` returns the highest value of any metric
    (for ``params`` and ``flops`` that is the largest network).

    Parameters
    ----------
    name : str
        The table's name, e.g. ``"nb201-12epoch"``.
    space : Space
        The search space whose cells the rows are (indexed by ``space.index``).
    values : mapping of str to array
        One array per metric, shaped ``(cells,)`` or ``(cells, S, E)`` with ``S`` 1 or
        ``len(seeds)`` and ``E`` 1 or ``len(epochs)``; ``cells`` is ``len(space)``, or
        ``len(rows)``. NaN marks a missing value. The mapping's order is the order of
        :attr:`metrics`.
    default_metric : str, optional
        The metric that :meth:`query` reads when none is named (default: the first).
    epochs : sequence of int, optional
        The epochs at which per-epoch metrics were recorded; ``None`` for a table
        with final values only.
    seeds : sequence of int, optional
        The seeds of a table with several runs per cell; ``None`` for one run.
    rows : array of int, optional
        For a table that covers part of the space: ``space.index`` of the cell of each
        row of ``values`` and ``cost`` (distinct; any order). Default: every cell, in
        index order.
    cost : array of float, optional
        Seconds to train each cell for ``train_epochs`` epochs (measured or
        simulated); ``None`` makes every full evaluation cost 1.
    train_epochs : int, optional
        The length of the training schedule behind the final values and ``cost``.
    description : str
        What the table is and where it comes from.

    Examples
    --------
    >>> import numpy as np, nasviz as nv
    >>> space = nv.CellSpace()
    >>> acc = np.linspace(0.1, 0.9, len(space))
    >>> bench = nv.bench.Benchmark("toy", space, {"val_acc": acc}, train_epochs=4)
    >>> arch = space.sample(seed=0)
    >>> bench.query(arch) == float(acc[space.index(arch)])
    True
    >>> bench.optimum()[1]
    0.9
    >>> bench.percentile(space[-1])
    100.0
    """

    def __init__(self, name: str, space: Space, values: Mapping[str, object], *, default_metric: str | None = None,
                 epochs: Sequence[int] | None = None, seeds: Sequence[int] | None = None, rows=None, cost=None,
                 train_epochs: int | None = None, description: str = ""):
        if not isinstance(space, Space):
            raise InvalidArgumentError(f"space must be a nasviz Space such as nv.CellSpace(), got {space!r}")
        if not values:
            raise InvalidArgumentError("a benchmark needs at least one metric; values is empty")
        self.name = str(name)
        self.space = space
        self.epochs = None if epochs is None else [check_int("each of epochs", e)
                                                   for e in check_choices("epochs", epochs, distinct=False)]
        self.seeds = None if seeds is None else [check_int("each of seeds", s)
                                                 for s in check_choices("seeds", seeds, distinct=False)]
        self.train_epochs = None if train_epochs is None else check_positive_int("train_epochs", train_epochs)
        self.description = str(description)
        for what, seq in (("epochs", self.epochs), ("seeds", self.seeds)):
            if seq is not None and (not seq or len(set(seq)) != len(seq)):
                raise InvalidArgumentError(f"{what} must be distinct integers, got {seq!r}")
        if self.epochs is not None and self.epochs != sorted(self.epochs):
            raise InvalidArgumentError(f"epochs must be increasing (the last is the final epoch), got {self.epochs}")
        if self.epochs is not None and self.train_epochs is None:
            self.train_epochs = max(self.epochs)
        self._n = len(space)
        order = None
        if rows is None:
            self._held = None  # every cell: row i is space[i]
            n = self._n
        else:
            rows = np.asarray(rows)
            if rows.ndim != 1 or rows.dtype.kind not in "iu" or (len(rows) and (
                    rows.min() < 0 or rows.max() >= self._n)):
                raise InvalidArgumentError(f"rows must be a 1-d array of indices in [0, {self._n}) of {space!r}")
            order = np.argsort(rows, kind="stable")
            held = rows[order].astype(np.int64)
            if len(held) > 1 and (held[1:] == held[:-1]).any():
                k = int(np.flatnonzero(held[1:] == held[:-1])[0])
                raise InvalidArgumentError(f"rows holds the cell {str(space[int(held[k])])!r} twice")
            held.flags.writeable = False
            self._held = held
            n = len(held)
        n_seeds = 1 if self.seeds is None else len(self.seeds)
        n_epochs = 1 if self.epochs is None else len(self.epochs)
        self._values = {str(k): _as_3d(str(k), v, n, n_seeds, n_epochs, order) for k, v in values.items()}
        # integer metrics (parameter and FLOP counts) are saved as integers again
        self._int_metrics = {str(k) for k, v in values.items() if np.asarray(v).dtype.kind in "iu"}
        self.metrics = list(self._values)
        self.default_metric = self.metrics[0] if default_metric is None else check_choice(
            "default_metric", default_metric, self.metrics)
        if cost is not None:
            cost = np.asarray(cost, dtype=np.float64)
            if cost.shape != (n,):
                raise InvalidArgumentError(f"cost must be an array of shape ({n},), got {cost.shape}")
            if order is not None:
                cost = cost[order]
            bad = ~(np.isfinite(cost) & (cost >= 0))
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                raise InvalidArgumentError(f"cost must be finite seconds >= 0 for every cell; got {cost[k]!r} "
                                           f"for {str(space[self._space_index(k)])!r}")
            cost.flags.writeable = False
        self._cost = cost
        self._epoch_pos = None if self.epochs is None else {e: k for k, e in enumerate(self.epochs)}
        self._seed_pos = None if self.seeds is None else {s: k for k, s in enumerate(self.seeds)}
        self._columns: dict = {}
        self._sorted: dict = {}
        self._archs = None
        self._init_index()

    # -- arch -> row --------------------------------------------------------------
    def _init_index(self):
        """Mixed-radix digit tables for a fast ``space.index`` (spaces without exclusions)."""
        self._digits = None
        if type(self.space)._valid is Space._valid:
            decisions = self.space.decisions
            self._digits = [{c: k for k, c in enumerate(d.choices)} for d in decisions]
            self._radix = [len(d.choices) for d in decisions]
            self._arch_type = type(self.space[0])

    def _index(self, arch) -> int:
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

    def _space_index(self, row: int) -> int:
        return int(row) if self._held is None else int(self._held[row])

    def _missing(self, indices: np.ndarray):
        archs = [str(self.space[int(i)]) for i in indices[:3]]
        more = f" and {len(indices) - 3} more" if len(indices) > 3 else ""
        what = "the cell" if len(indices) == 1 else f"{len(indices)} of the cells:"
        return NotInTableError(
            f"table {self.name!r} does not contain {what} {', '.join(map(repr, archs))}{more}; it holds "
            f"{len(self):,} of the {self._n:,} cells of {self.space!r} (check `arch in bench` first)"
        )

    def _row(self, arch) -> int:
        """The row of ``arch`` in the arrays; raises NotInTableError if the table lacks it."""
        i = self._index(arch)
        if self._held is None:
            return i
        k = int(np.searchsorted(self._held, i))
        if k == len(self._held) or self._held[k] != i:
            raise self._missing(np.array([i]))
        return k

    def _rows(self, archs: Iterable) -> np.ndarray:
        indices = np.fromiter((self._index(a) for a in archs), dtype=np.int64)
        if self._held is None:
            return indices
        rows = np.minimum(np.searchsorted(self._held, indices), max(len(self._held) - 1, 0))
        missing = (self._held[rows] != indices) if len(self._held) else np.ones(len(indices), dtype=bool)
        if missing.any():
            raise self._missing(np.unique(indices[missing]))
        return rows

    # -- metric, epoch, seed -> slice ----------------------------------------------
    def _metric(self, metric) -> str:
        return self.default_metric if metric is None else check_choice("metric", metric, self.metrics)

    def _epoch_index(self, epoch) -> int:
        """Position along the epoch axis (-1: final)."""
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
                                       f"available epochs: {_span(self.epochs)}")
        return self._epoch_pos[int(epoch)]

    def _seed_index(self, seed):
        """Position along the seed axis, or None for the mean over seeds."""
        if seed is None:
            return None
        if self.seeds is None:
            raise InvalidArgumentError(f"table {self.name!r} has one run per cell and no seeds; got seed={seed!r}: "
                                       "pass seed=None")
        if not _is_int(seed) or int(seed) not in self._seed_pos:
            raise InvalidArgumentError(f"seed {seed!r} is not in table {self.name!r}; available seeds: {self.seeds}")
        return self._seed_pos[int(seed)]

    def _pick(self, metric, rows, epoch, seed):
        """Values of ``metric`` at ``rows`` (an int or an index array)."""
        arr = self._values[self._metric(metric)]
        e, s = self._epoch_index(epoch), self._seed_index(seed)
        a = arr[rows]
        a = a[..., 0] if arr.shape[2] == 1 else a[..., e]
        if arr.shape[1] == 1:
            return a[..., 0]
        if s is not None:
            return a[..., s]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all seeds missing -> NaN
            return np.nanmean(a, axis=-1)

    def _column(self, metric, epoch, seed) -> np.ndarray:
        """One value per row (cell held), cached."""
        key = (self._metric(metric), self._epoch_index(epoch), self._seed_index(seed))
        if key not in self._columns:
            col = np.array(self._pick(key[0], slice(None), epoch, seed), dtype=np.float64)
            col.flags.writeable = False
            self._columns[key] = col
        return self._columns[key]

    # -- public queries ------------------------------------------------------------
    def query(self, arch, metric: str | None = None, epoch: int | None = None, seed: int | None = None) -> float:
        """The table's value of ``metric`` for ``arch``.

        Parameters
        ----------
        arch : Architecture or str
            A cell of :attr:`space` (or its string).
        metric : str, optional
            One of :attr:`metrics` (default :attr:`default_metric`).
        epoch : int, optional
            For tables with per-epoch curves: the epoch to read (default the last).
            Metrics recorded once per run (parameters, FLOPs) ignore it.
        seed : int, optional
            One of :attr:`seeds`; default: the mean over seeds (missing runs skipped).

        Raises
        ------
        NotInTableError
            If the table does not hold ``arch``.

        Examples
        --------
        >>> import nasviz as nv
        >>> bench = nv.bench.load("nb201-12epoch")
        >>> arch = bench.space.from_string(
        ...     "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
        >>> bench.query(arch, "params")
        1531546.0
        """
        return float(self._pick(metric, self._row(arch), epoch, seed))

    def query_many(self, archs: Iterable, metric: str | None = None, epoch: int | None = None,
                   seed: int | None = None) -> np.ndarray:
        """:meth:`query` for many architectures at once: a float array in the order given.

        Examples
        --------
        >>> import nasviz as nv
        >>> bench = nv.bench.load("nb201-12epoch")
        >>> archs = [bench.space.sample(seed=s) for s in range(3)]
        >>> bench.query_many(archs).shape
        (3,)
        """
        rows = self._rows(archs)
        return np.array(self._pick(metric, rows, epoch, seed), dtype=np.float64)

    def curve(self, arch, metric: str | None = None, seed: int | None = None) -> np.ndarray:
        """The per-epoch values of ``metric`` for ``arch``, one per entry of :attr:`epochs`."""
        if self.epochs is None:
            raise InvalidArgumentError(f"table {self.name!r} has no per-epoch values (epochs is None); "
                                       "use query(arch, metric) for its final value")
        row = self._row(arch)
        return np.array([self._pick(metric, row, e, seed) for e in self.epochs], dtype=np.float64)

    def cost(self, arch, epochs: float | None = None) -> float:
        """Seconds to train ``arch`` for ``epochs`` epochs (default: the table's schedule).

        The seconds are measured or simulated, as the table's :attr:`description`
        says, and scale linearly with ``epochs``. A table without cost data charges
        1 per full training (so budgets count evaluations).

        Examples
        --------
        >>> import nasviz as nv
        >>> bench = nv.bench.load("nb201-12epoch")
        >>> arch = bench.space.sample(seed=0)
        >>> bench.cost(arch, epochs=6) * 2 == bench.cost(arch)
        True
        """
        return float(self._cost_rows(self._row(arch), epochs))

    def cost_many(self, archs: Iterable, epochs: float | None = None) -> np.ndarray:
        """:meth:`cost` for many architectures at once."""
        return np.array(self._cost_rows(self._rows(archs), epochs), dtype=np.float64)

    def _cost_rows(self, rows, epochs):
        full = 1.0 if self._cost is None else self._cost[rows]
        if epochs is None:
            return full * np.ones(np.shape(rows))
        if isinstance(epochs, bool) or not isinstance(epochs, (int, float, np.integer, np.floating)) or not (
            math.isfinite(epochs) and epochs > 0
        ):
            raise InvalidArgumentError(f"epochs must be a positive number, got {epochs!r}")
        if self.train_epochs is None:
            raise InvalidArgumentError(
                f"table {self.name!r} does not know how many epochs its cost stands for; pass epochs=None, or "
                "build the table with train_epochs=... to scale cost by epochs"
            )
        return full * (float(epochs) / self.train_epochs) * np.ones(np.shape(rows))

    def optimum(self, metric: str | None = None, epoch: int | None = None, seed: int | None = None):
        """``(arch, score)`` of the highest value of ``metric`` in the table.

        Always the highest: for ``params`` or ``flops`` that is the largest network.
        Ties go to the lowest ``space.index``.

        Examples
        --------
        >>> import nasviz as nv
        >>> bench = nv.bench.load("nb201-12epoch")
        >>> arch, score = bench.optimum("cifar10_test_acc")
        >>> score
        0.8916
        """
        col = self._column(metric, epoch, seed)
        if not np.isfinite(col).any():
            raise InvalidArgumentError(f"table {self.name!r} has no values of metric {self._metric(metric)!r}")
        k = int(np.nanargmax(col))
        return self.space[self._space_index(k)], float(col[k])

    def percentile(self, arch, metric: str | None = None, epoch: int | None = None, seed: int | None = None) -> float:
        """Percentage of the table's cells that score at most as much as ``arch`` (the optimum: 100).

        Examples
        --------
        >>> import nasviz as nv
        >>> bench = nv.bench.load("nb201-12epoch")
        >>> bench.percentile(bench.optimum()[0])
        100.0
        """
        value = self.query(arch, metric, epoch, seed)
        key = (self._metric(metric), self._epoch_index(epoch), self._seed_index(seed))
        if key not in self._sorted:
            col = self._column(metric, epoch, seed)
            self._sorted[key] = np.sort(col[np.isfinite(col)])
        ranked = self._sorted[key]
        if math.isnan(value) or not len(ranked):
            return math.nan
        return float(100.0 * np.searchsorted(ranked, value, side="right") / len(ranked))

    def archs(self) -> list:
        """The cells the table holds, in ``space.index`` order."""
        if self._archs is None:
            if self._held is None:
                self._archs = list(self.space.enumerate())
            else:
                self._archs = [self.space[int(i)] for i in self._held]
        return list(self._archs)

    def to_dataframe(self, epoch: int | None = None, seed: int | None = None):
        """A ``pandas.DataFrame``: one row per cell held, column ``arch`` (its string), one column per metric.

        Values are read at ``epoch`` (default: the last) and averaged over seeds unless
        ``seed`` is given. The index is ``space.index`` of each cell.

        Examples
        --------
        >>> import nasviz as nv
        >>> df = nv.bench.load("nb201-12epoch").to_dataframe()
        >>> df.shape
        (15625, 9)
        >>> list(df.columns[:3])
        ['arch', 'cifar10_val_acc', 'cifar10_test_acc']
        """
        import pandas as pd

        index = np.arange(self._n) if self._held is None else self._held
        data = {"arch": [str(a) for a in self.archs()]}
        for m in self.metrics:
            data[m] = self._column(m, epoch, seed)
        return pd.DataFrame(data, index=pd.Index(index, name="index"))

    # -- container protocol --------------------------------------------------------
    def __len__(self) -> int:
        return self._n if self._held is None else len(self._held)

    def __contains__(self, arch) -> bool:
        try:
            self._row(arch)
        except NasvizError:
            return False
        return True

    def __repr__(self) -> str:
        parts = [f"{len(self):,} of {self._n:,} cells of {self.space!r}"]
        if self.seeds is not None:
            parts.append(f"{len(self.seeds)} seeds")
        if self.epochs is not None:
            parts.append(f"epochs {_span(self.epochs)}")
        elif self.train_epochs is not None:
            parts.append(f"after {self.train_epochs} epochs")
        parts.append(f"metrics: {', '.join(self.metrics)} (default {self.default_metric!r})")
        return f"Benchmark({self.name!r}: {'; '.join(parts)})"

    # -- files ---------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the table to an NPZ file that :meth:`read` (and ``nv.bench.load(path)``) reads back.

        The file holds plain arrays and a JSON header, no pickled objects, and is
        byte-identical for identical tables. Only :class:`~nasviz.spaces.CellSpace`
        tables can be saved.
        """
        if not isinstance(self.space, CellSpace):
            raise InvalidArgumentError(f"only CellSpace tables can be saved, this one is over {self.space!r}")
        meta = {
            "format": _FORMAT, "name": self.name, "description": self.description,
            "space": {"type": "CellSpace", "ops": list(self.space._ops), "nodes": self.space.nodes},
            "metrics": self.metrics, "default_metric": self.default_metric, "epochs": self.epochs,
            "seeds": self.seeds, "train_epochs": self.train_epochs,
        }
        arrays = {"meta": np.array(json.dumps(meta, sort_keys=True))}
        if self._held is not None:
            arrays["rows"] = self._held
        if self._cost is not None:
            arrays["cost"] = self._cost
        for m in self.metrics:
            arr = self._values[m]
            arr = arr[:, 0, 0] if arr.shape[1:] == (1, 1) else arr
            if m in self._int_metrics:
                arr = np.where(np.isfinite(arr), arr, 0).astype(np.int64)
            arrays[_METRIC_PREFIX + m] = arr
        return write_npz(path, arrays)

    @classmethod
    def read(cls, path) -> Benchmark:
        """Read a table written by :meth:`save`.

        A file that is not such a table -- not an NPZ (zip) file at all, truncated,
        without its ``meta`` header or a metric's array, or holding arrays that do not
        fit the header -- raises :class:`~nasviz.errors.InvalidFileError` naming the
        file and the cause.
        """
        path = Path(path)

        def bad(cause) -> InvalidFileError:
            return InvalidFileError(f"cannot read the benchmark file {str(path)!r}: {cause}")

        try:
            is_zip = zipfile.is_zipfile(path)
        except OSError as err:
            raise bad(err.strerror or err) from None
        if not is_zip:
            raise bad("it is not an NPZ file (the zip of arrays that Benchmark.save writes); "
                      "it is another kind of file, or truncated")
        try:
            with np.load(path, allow_pickle=False) as npz:
                files = set(npz.files)
                if "meta" not in files:
                    raise bad("it is not a nasviz benchmark file (no 'meta' entry)")
                try:
                    meta = json.loads(str(npz["meta"].reshape(-1)[0]))
                except (IndexError, ValueError):
                    raise bad("its 'meta' entry is not the JSON header of a nasviz table") from None
                if not isinstance(meta, dict):
                    raise bad(f"its 'meta' entry is not the JSON header of a nasviz table: {meta!r}")
                if meta.get("format") != _FORMAT:
                    raise bad(f"unsupported benchmark file format {meta.get('format')!r}")
                missing = [k for k in _META_KEYS if k not in meta]
                if missing:
                    raise bad(f"its header lacks {', '.join(map(repr, missing))}")
                metrics = meta["metrics"]
                if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
                    raise bad(f"its header's 'metrics' must list metric names, got {metrics!r}")
                absent = [m for m in metrics if _METRIC_PREFIX + m not in files]
                if absent:
                    raise bad(f"no array for metric{'s' if len(absent) > 1 else ''} {', '.join(map(repr, absent))} "
                              f"(entries {', '.join(repr(_METRIC_PREFIX + m) for m in absent)}); the file is "
                              "incomplete")
                values = {m: npz[_METRIC_PREFIX + m] for m in metrics}
                rows = npz["rows"] if "rows" in files else None
                cost = npz["cost"] if "cost" in files else None
        except NasvizError:
            raise
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as err:  # damaged entries
            raise bad(f"{type(err).__name__}: {err}") from None
        try:
            spec = meta["space"]
            space = CellSpace(ops=tuple(spec["ops"]), nodes=spec["nodes"])
            if space == CellSpace():
                space = CellSpace()
            return cls(meta["name"], space, values, default_metric=meta["default_metric"], epochs=meta["epochs"],
                       seeds=meta["seeds"], rows=rows, cost=cost, train_epochs=meta["train_epochs"],
                       description=meta["description"])
        except NasvizError as err:
            raise bad(err) from None
        except (KeyError, TypeError) as err:
            raise bad(f"its header's 'space' must be {{'type': 'CellSpace', 'ops': [...], 'nodes': N}}, got "
                      f"{meta.get('space')!r} ({type(err).__name__}: {err})") from None


def write_npz(path, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write ``arrays`` to a compressed NPZ with fixed timestamps (same arrays, same bytes)."""
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            arr = np.asarray(arr)
            np.lib.format.write_array(buf, arr if arr.flags.c_contiguous else arr.copy(order="C"), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)
    return path


def _is_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def _span(seq: Sequence[int]) -> str:
    if len(seq) > 2 and list(seq) == list(range(seq[0], seq[-1] + 1)):
        return f"{seq[0]}..{seq[-1]}"
    return ", ".join(map(str, seq))
