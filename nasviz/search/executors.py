"""Where a search's evaluations run: inline, or batched by :class:`BatchExecutor`.

A search submits an :class:`~nasviz.search.evaluation.EvaluationTask` (a callable) to
any ``concurrent.futures.Executor``: a thread or process pool, Dask's executor, or
the two here. :class:`InlineExecutor` runs it at submit time (the serial search).
:class:`BatchExecutor` gathers the tasks in flight and judges them together with one
``estimator.evaluate_many(...)`` call: for :class:`~nasviz.estimators.Training` that
trains them as one fused network, on the CPU or a GPU, instead of one small network
after another. Nothing else changes: every result is still journaled on its own,
failures stay per candidate, and the strategy is told as results arrive (all of a
batch at once).

Examples
--------
>>> import nasviz as nv
>>> from nasviz.estimators.base import Estimator
>>> class Convs(Estimator):
...     def __init__(self):
...         self.calls = []
...     def evaluate_batch(self, archs, parents, fidelity=None):
...         self.calls.append(len(archs))
...         return [nv.Result(score=a.ops.count("nor_conv_3x3"), cost=1.0) for a in archs]
...     def evaluate_one(self, arch, parent=None, fidelity=None):
...         return self.evaluate_batch([arch], [parent], fidelity)[0]
>>> space, est = nv.CellSpace(), Convs()
>>> history = nv.Search(space, nv.strategies.RandomSearch(space, seed=0), est, budget=12, workers=4,
...                     executor=nv.BatchExecutor(max_batch=4)).run(progress=False)
>>> len(history), est.calls
(12, [4, 4, 4])
"""

from __future__ import annotations

import concurrent.futures as cf
import pickle
import threading
import time

from ..errors import InvalidArgumentError, check_positive_int
from .evaluation import EvaluationTask, evaluate_batch

__all__ = ["BatchExecutor", "InlineExecutor", "executor_for", "sends_nothing"]


class InlineExecutor(cf.Executor):
    """Runs each call at submit time, in the calling thread (the serial search)."""

    def submit(self, fn, /, *args, **kwargs):
        future = cf.Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - KeyboardInterrupt too: the loop handles it
            future.set_exception(err)
        return future


def executor_for(executor, workers: int, estimator, space):
    """``(executor, owned, send_once)`` for a run: the given executor, else a thread pool for
    ``workers > 1``, else :class:`InlineExecutor`; ``owned`` ones are shut down after the run.

    ``send_once``: the executor pickles what it is sent, so the estimator travels once per
    worker process; then estimator and space must pickle (checked here, with a message
    that says what to do).
    """
    if executor is not None:
        send_once = not sends_nothing(executor)
        if send_once:
            check_picklable(executor, estimator=estimator, space=space)
        return executor, False, send_once
    if workers > 1:
        return cf.ThreadPoolExecutor(workers, thread_name_prefix="nasviz-eval"), True, False
    return InlineExecutor(), True, False


def check_picklable(executor, **objects) -> None:
    """Raise a nasviz error naming each object that ``executor``'s workers could not receive."""
    dumps = pickle.dumps
    if not isinstance(executor, cf.ProcessPoolExecutor):
        try:
            import cloudpickle  # what Dask uses

            dumps = cloudpickle.dumps
        except ImportError:
            pass
    for name, obj in objects.items():
        try:
            dumps(obj)
        except Exception as err:  # noqa: BLE001
            raise InvalidArgumentError(
                f"the {name} {obj!r} cannot be pickled ({type(err).__name__}: {err}), so it cannot be sent "
                f"to {type(executor).__name__} workers; define its class in an importable module, or use "
                "workers=N without an executor (threads)") from None


def sends_nothing(executor) -> bool:
    """Whether ``executor`` runs calls in this process (nothing pickled, the estimator shared as is)."""
    return isinstance(executor, (InlineExecutor, cf.ThreadPoolExecutor, BatchExecutor))


class BatchExecutor(cf.Executor):
    """An executor that runs what is submitted in batches, in one background thread.

    Parameters
    ----------
    max_batch : int
        Most evaluations judged together. Give the search ``workers=max_batch``, so
        that it keeps that many candidates in flight.
    wait : float
        Seconds without a new submission after which a batch that is not full starts.
        A search submits the candidates of a batch one ask apart (microseconds for
        most strategies, tens of milliseconds for Bayesian optimisation), and a full
        batch starts at once, so the wait is paid only by the last, partial batch of
        a budget.

    Attributes
    ----------
    batches_ : list of int
        Size of each batch run so far.

    Notes
    -----
    Search evaluations with the same estimator and fidelity go to one
    ``estimator.evaluate_many(archs, parents=..., fidelity=...)`` call (each result
    checked as :func:`~nasviz.search.evaluate_safely` checks one; if the call raises,
    the batch's candidates are evaluated one by one, so only the failing one fails).
    Anything else submitted runs as a plain call, in the same thread. Everything runs
    in this process (nothing is pickled), like a thread pool; for a cluster, use
    Dask's executor instead. ``Training.evaluate_many`` rounds differently from
    ``Training.evaluate`` (fused arithmetic), so scores match a one-by-one search up
    to floating-point rounding, amplified by training.
    """

    def __init__(self, max_batch: int = 8, wait: float = 0.5):
        self.max_batch = max_batch
        self.wait = wait
        check_positive_int("max_batch", max_batch)
        if not isinstance(wait, (int, float)) or isinstance(wait, bool) or not wait >= 0:
            raise InvalidArgumentError(f"wait must be a number of seconds >= 0, got {wait!r}")
        self.batches_ = []
        self._queue = []  # (future, fn, args, kwargs)
        self._cond = threading.Condition()
        self._last = 0.0
        self._shutdown = False
        self._thread = None

    def __repr__(self) -> str:
        return f"BatchExecutor(max_batch={self.max_batch!r}, wait={self.wait!r})"

    def submit(self, fn, /, *args, **kwargs):
        with self._cond:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            future = cf.Future()
            self._queue.append((future, fn, args, kwargs))
            self._last = time.monotonic()
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="nasviz-batch", daemon=True)
                self._thread.start()
            self._cond.notify_all()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._cond:
            self._shutdown = True
            if cancel_futures:
                for future, *_ in self._queue:
                    future.cancel()
                self._queue.clear()
            self._cond.notify_all()
            thread = self._thread
        if wait and thread is not None:
            thread.join()

    # -- the batching thread -------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._shutdown:
                    self._cond.wait()
                if not self._queue:
                    return
                while len(self._queue) < self.max_batch and not self._shutdown:
                    remaining = self._last + self.wait - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
            live = [item for item in batch if item[0].set_running_or_notify_cancel()]
            if live:
                self.batches_.append(len(live))
                self._run(live)

    def _run(self, items) -> None:
        groups: dict = {}
        for item in items:
            _, fn, args, kwargs = item
            if isinstance(fn, EvaluationTask) and not args and not kwargs and fn.estimator is not None:
                groups.setdefault(fn.batch_key, []).append(item)
            else:
                self._call(item)
        for group in groups.values():
            try:
                values = evaluate_batch([fn for _, fn, _, _ in group])
            except BaseException as err:  # noqa: BLE001 - handed to the futures, as a thread pool would
                for future, *_ in group:
                    future.set_exception(err)
                continue
            for (future, *_), value in zip(group, values):
                future.set_result(value)

    @staticmethod
    def _call(item) -> None:
        future, fn, args, kwargs = item
        try:
            result = fn(*args, **kwargs)
        except BaseException as err:  # noqa: BLE001 - handed to the future, as a thread pool would
            future.set_exception(err)
        else:
            future.set_result(result)
