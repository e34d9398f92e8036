"""Table lookup as an estimator: the ground truth of a :class:`~nasviz.bench.Benchmark`.

A lookup takes microseconds, but the :class:`~nasviz.estimators.Result` it returns
carries the table's training cost (measured or simulated seconds), so strategies can
be compared on the wall-clock time that training the cells would have taken, as
NAS-Bench-201 does.
"""

from __future__ import annotations

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
            from ..bench.tables import load

            bench = load(bench)
        from ..bench.benchmark import Benchmark

        if not isinstance(bench, Benchmark):
            raise InvalidArgumentError(f"bench must be a nasviz Benchmark (nv.bench.load(...)) or a table name, "
                                       f"got {bench!r}")
        self._bench = bench
        if metric is not None:
            check_choice("metric", metric, bench.metrics)
        bench.check_epoch(epoch)  # a bad epoch fails here, naming the table's epochs

    @property
    def fidelity(self) -> str:
        metric = self.metric or self._bench.default_metric
        at = f" at epoch {self.epoch}" if self.epoch is not None else ""
        return f"table {self._bench.name}: {metric}{at}"

    def evaluate_one(self, arch, parent=None, fidelity=None) -> Result:
        return self._results([arch], fidelity)[0]

    def evaluate_batch(self, archs, parents, fidelity=None) -> list[Result]:
        try:
            return self._results(archs, fidelity)
        except NasvizError:  # a cell the table lacks, a malformed one, or a bad epoch:
            return [self.evaluate(a, fidelity=fidelity) for a in archs]  # each alone, failing with its reason

    def _results(self, archs, fidelity) -> list[Result]:
        """The results of ``archs`` from one lookup; raises if the table lacks one of them or the epoch."""
        bench = self._bench
        values, cost = bench.lookup(archs, epoch=self.epoch if fidelity is None else fidelity)
        columns = {m: v.tolist() for m, v in values.items()}
        key = self.metric or bench.default_metric
        return [Result(score=columns[key][j], cost=c, metrics={m: col[j] for m, col in columns.items()})
                for j, c in enumerate(cost.tolist())]
