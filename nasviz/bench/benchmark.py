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

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import InvalidArgumentError, NasvizError, check_choice
from ..spaces.base import Space
from .axes import TableAxes, span
from .files import FORMAT, METRIC_PREFIX, read_table, space_spec, write_npz
from .rows import CellRows, NotInTableError

__all__ = ["Benchmark", "NotInTableError"]


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
        self._axes = TableAxes(self.name, epochs, seeds, train_epochs)  # epoch, seed -> position
        self.epochs, self.seeds, self.train_epochs = self._axes.epochs, self._axes.seeds, self._axes.train_epochs
        self.description = str(description)
        self._cells = CellRows(self.name, space, rows)  # arch -> row
        self._n, self._held = self._cells.n, self._cells.held  # _held None: every cell, row i is space[i]
        n, order = len(self._cells), self._cells.order
        self._values = {str(k): self._axes.metric_array(str(k), v, n, order) for k, v in values.items()}
        # integer metrics (parameter and FLOP counts) are saved as integers again
        self._int_metrics = {str(k) for k, v in values.items() if np.asarray(v).dtype.kind in "iu"}
        self.metrics = list(self._values)
        self.default_metric = self.metrics[0] if default_metric is None else check_choice(
            "default_metric", default_metric, self.metrics)
        self._cost = None if cost is None else self._checked_cost(cost, n, order)
        self._columns: dict = {}
        self._sorted: dict = {}
        self._archs = None

    def _checked_cost(self, cost, n: int, order) -> np.ndarray:
        cost = np.asarray(cost, dtype=np.float64)
        if cost.shape != (n,):
            raise InvalidArgumentError(f"cost must be an array of shape ({n},), got {cost.shape}")
        if order is not None:
            cost = cost[order]
        bad = ~(np.isfinite(cost) & (cost >= 0))
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InvalidArgumentError(f"cost must be finite seconds >= 0 for every cell; got {cost[k]!r} "
                                       f"for {str(self.space[self._cells.space_index(k)])!r}")
        cost.flags.writeable = False
        return cost

    # -- arch -> row --------------------------------------------------------------
    def row(self, arch) -> int:
        """The row of ``arch`` (or its string): its position in :meth:`archs` and along the first axis of
        :meth:`array`. Raises :class:`NotInTableError` if the table does not hold it.

        Examples
        --------
        >>> import nasviz as nv
        >>> bench = nv.bench.load("nb201-12epoch")
        >>> arch = bench.space.sample(seed=0)
        >>> bench.archs()[bench.row(arch)] == arch
        True
        """
        return self._cells.row(arch)

    # -- metric, epoch, seed -> slice ----------------------------------------------
    def _metric(self, metric) -> str:
        return self.default_metric if metric is None else check_choice("metric", metric, self.metrics)

    def check_epoch(self, epoch) -> None:
        """Raise the error that reading the table at ``epoch`` raises: for an epoch it lacks, or, in
        a table of final values only, for any epoch but its schedule's ``train_epochs``. ``None``
        (the last epoch) always passes."""
        self._axes.epoch_position(epoch)

    def _pick(self, metric, rows, epoch, seed):
        """Values of ``metric`` at ``rows`` (an int or an index array)."""
        return self._axes.pick(self._values[self._metric(metric)], rows, epoch, seed)

    def _column(self, metric, epoch, seed) -> np.ndarray:
        """One value per row (cell held), cached."""
        key = (self._metric(metric), self._axes.epoch_position(epoch), self._axes.seed_position(seed))
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
        return float(self._pick(metric, self.row(arch), epoch, seed))

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
        rows = self._cells.rows(archs)
        return np.array(self._pick(metric, rows, epoch, seed), dtype=np.float64)

    def curve(self, arch, metric: str | None = None, seed: int | None = None) -> np.ndarray:
        """The per-epoch values of ``metric`` for ``arch``, one per entry of :attr:`epochs`."""
        if self.epochs is None:
            raise InvalidArgumentError(f"table {self.name!r} has no per-epoch values (epochs is None); "
                                       "use query(arch, metric) for its final value")
        row = self.row(arch)
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
        return float(self._cost_rows(self.row(arch), epochs))

    def cost_many(self, archs: Iterable, epochs: float | None = None) -> np.ndarray:
        """:meth:`cost` for many architectures at once."""
        return np.array(self._cost_rows(self._cells.rows(archs), epochs), dtype=np.float64)

    def _cost_rows(self, rows, epochs):
        share = self._axes.epochs_share(epochs)  # 1 for epochs=None
        if self._cost is None:
            return share * np.ones(np.shape(rows))
        return self._cost[rows] * share

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
        return self.space[self._cells.space_index(k)], float(col[k])

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
        key = (self._metric(metric), self._axes.epoch_position(epoch), self._axes.seed_position(seed))
        if key not in self._sorted:
            col = self._column(metric, epoch, seed)
            self._sorted[key] = np.sort(col[np.isfinite(col)])
        ranked = self._sorted[key]
        if math.isnan(value) or not len(ranked):
            return math.nan
        return float(100.0 * np.searchsorted(ranked, value, side="right") / len(ranked))

    def array(self, metric: str | None = None) -> np.ndarray:
        """The stored values of ``metric``: a read-only float array shaped ``(len(self), S, E)``.

        Row ``r`` is the cell ``archs()[r]`` (:meth:`row`); ``S`` is ``len(seeds)`` and
        ``E`` ``len(epochs)``, or 1 where the metric does not vary along that axis.
        NaN marks a missing value.

        Examples
        --------
        >>> import nasviz as nv
        >>> nv.bench.load("nb201-12epoch").array("params").shape
        (15625, 1, 1)
        """
        return self._values[self._metric(metric)]

    def lookup(self, archs: Iterable, epoch: int | None = None, seed: int | None = None, *,
               metrics: Sequence[str] | None = None) -> tuple[dict, np.ndarray]:
        """Every metric (or those named) of many cells, and their training cost, in one lookup.

        Returns ``(values, cost)``: ``values`` maps each metric to a float array with one
        value per arch, in the order given, read as :meth:`query` reads it (at ``epoch``,
        the mean over seeds unless ``seed`` is given); ``cost`` is
        ``cost_many(archs, epochs=epoch)``. This is what ``nv.estimators.Tabular``
        returns for a cell. Raises :class:`NotInTableError` if the table lacks any of
        ``archs``, and the error of :meth:`check_epoch` for a bad ``epoch``.

        Examples
        --------
        >>> import nasviz as nv
        >>> bench = nv.bench.load("nb201-12epoch")
        >>> archs = [bench.space.sample(seed=s) for s in range(3)]
        >>> values, cost = bench.lookup(archs, metrics=["cifar10_val_acc", "params"])
        >>> list(values), cost.shape
        (['cifar10_val_acc', 'params'], (3,))
        >>> bool((values["params"] == bench.query_many(archs, "params")).all())
        True
        """
        rows = self._cells.rows(archs)
        names = self.metrics if metrics is None else [
            self._metric(m) for m in ([metrics] if isinstance(metrics, str) else metrics)]
        e, s = self._axes.epoch_position(epoch), self._axes.seed_position(seed)
        values = {m: self._axes.read(self._values[m], rows, e, s) for m in names}  # new float64 arrays
        return values, self._cost_rows(rows, epoch)

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
            self.row(arch)
        except NasvizError:
            return False
        return True

    def __repr__(self) -> str:
        parts = [f"{len(self):,} of {self._n:,} cells of {self.space!r}"]
        if self.seeds is not None:
            parts.append(f"{len(self.seeds)} seeds")
        if self.epochs is not None:
            parts.append(f"epochs {span(self.epochs)}")
        elif self.train_epochs is not None:
            parts.append(f"after {self.train_epochs} epochs")
        parts.append(f"metrics: {', '.join(self.metrics)} (default {self.default_metric!r})")
        return f"Benchmark({self.name!r}: {'; '.join(parts)})"

    # -- files ---------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the table to an NPZ file that :meth:`read` (and ``nv.bench.load(path)``) reads back.

        The file holds plain arrays and a JSON header, no pickled objects, and is
        byte-identical for identical tables (:mod:`nasviz.bench.files`). Tables over a
        :class:`~nasviz.CellSpace` or a :class:`~nasviz.MacroSpace` can be saved: the
        header holds the space's constructor arguments, and reading rebuilds it.

        Examples
        --------
        >>> import tempfile, numpy as np, nasviz as nv
        >>> space = nv.MacroSpace(max_layers=1, ops=("conv", "max_pool"), filters=(8,))
        >>> bench = nv.bench.Benchmark("tiny", space, {"acc": np.linspace(0, 1, len(space))})
        >>> path = bench.save(tempfile.mkdtemp() + "/tiny.npz")
        >>> again = nv.bench.load(path)
        >>> again.space == space, again.query(space[3]) == bench.query(space[3])
        (True, True)
        """
        meta = {
            "format": FORMAT, "name": self.name, "description": self.description, "space": space_spec(self.space),
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
            arrays[METRIC_PREFIX + m] = arr
        return write_npz(path, arrays)

    @classmethod
    def read(cls, path) -> Benchmark:
        """Read a table written by :meth:`save`.

        A file that is not such a table -- not an NPZ (zip) file at all, truncated,
        without its ``meta`` header or a metric's array, or holding arrays that do not
        fit the header -- raises :class:`~nasviz.errors.InvalidFileError` naming the
        file and the cause.
        """
        return read_table(path, cls)
