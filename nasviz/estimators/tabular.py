"""Table lookup as an estimator: the ground truth of a :class:`~nasviz.bench.Benchmark`.

A lookup takes microseconds, but the :class:`~nasviz.estimators.Result` it returns
carries the table's training cost (measured or simulated seconds), so strategies can
be compared on the wall-clock time that training the cells would have taken, as
NAS-Bench-201 does.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError, NasvizError, check_choice
from .base import Estimator, Result

__all__ = ["Tabular"]


class Tabular(Estimator):
    """Score a cell by looking it up in a table.

    Parameters
    ----------
    bench : Benchmark or str
        The table, or the name of a shipped one (``nv.bench.load(bench)``).
    metric : str, optional
        The metric that becomes the score (default: the table's ``default_metric``).
    epoch : int, optional
        For tables with per-epoch curves: the epoch to read (default: the last). A
        ``fidelity`` passed to :meth:`evaluate` overrides it per call, as successive
        halving does.

    Notes
    -----
    The result's ``cost`` is ``bench.cost(arch, epochs=epoch)``: the seconds training
    the cell for that many epochs took (or is simulated to take). ``metrics`` holds
    every metric of the cell at the same epoch (means over seeds). A cell the table
    does not hold, or an epoch it lacks, gives a failed result.

    Examples
    --------
    >>> import nasviz as nv
    >>> est = nv.estimators.Tabular(nv.bench.load("nb201-12epoch"), metric="cifar100_val_acc")
    >>> est.fidelity
    'table nb201-12epoch: cifar100_val_acc'
    >>> r = est.evaluate(est.bench.space.sample(seed=0))
    >>> r.ok, r.score == r.metrics["cifar100_val_acc"], r.cost > 0
    (True, True, True)
    """

    def __init__(self, bench, metric: str | None = None, epoch: int | None = None):
        self.bench = bench
        self.metric = metric
        self.epoch = epoch
        if isinstance(bench, str):
            from ..bench import load

            bench = load(bench)
        from ..bench import Benchmark

        if not isinstance(bench, Benchmark):
            raise InvalidArgumentError(f"bench must be a nasviz Benchmark (nv.bench.load(...)) or a table name, "
                                       f"got {bench!r}")
        self._bench = bench
        if metric is not None:
            check_choice("metric", metric, bench.metrics)
        bench._epoch_index(epoch)  # a bad epoch fails here, naming the table's epochs

    @property
    def fidelity(self) -> str:
        metric = self.metric or self._bench.default_metric
        at = f" at epoch {self.epoch}" if self.epoch is not None else ""
        return f"table {self._bench.name}: {metric}{at}"

    def evaluate_one(self, arch, parent=None, fidelity=None) -> Result:
        bench = self._bench
        epoch = self.epoch if fidelity is None else fidelity
        row = bench._row(arch)
        metrics = {m: float(bench._pick(m, row, epoch, None)) for m in bench.metrics}
        score = metrics[self.metric or bench.default_metric]
        return Result(score=score, cost=float(bench._cost_rows(row, epoch)), metrics=metrics)

    def evaluate_batch(self, archs, parents, fidelity=None) -> list[Result]:
        bench = self._bench
        epoch = self.epoch if fidelity is None else fidelity
        results: list = [None] * len(archs)
        ok_pos, rows = [], []
        for k, arch in enumerate(archs):
            try:
                rows.append(bench._row(arch))
                ok_pos.append(k)
            except NasvizError as err:
                results[k] = Result.failed(f"{type(err).__name__}: {err}")
        if ok_pos:
            rows = np.asarray(rows, dtype=np.int64)
            try:
                columns = {m: bench._pick(m, rows, epoch, None).tolist() for m in bench.metrics}
                costs = bench._cost_rows(rows, epoch).tolist()
            except NasvizError as err:  # a bad fidelity fails every candidate
                failed = Result.failed(f"{type(err).__name__}: {err}")
                return [r if r is not None else failed for r in results]
            key = self.metric or bench.default_metric
            names = bench.metrics
            for j, k in enumerate(ok_pos):
                metrics = {m: columns[m][j] for m in names}
                results[k] = Result(score=metrics[key], cost=costs[j], metrics=metrics)
        return results
