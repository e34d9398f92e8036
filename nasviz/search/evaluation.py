"""Evaluating candidates on whatever worker runs them: one task, or a batch of them.

A search hands each candidate to an executor as an :class:`EvaluationTask`: a
frozen, picklable call (``task()`` evaluates it) that carries the architecture as a
string, so process pools and Dask workers rebuild it with ``space.from_string``.
Nothing here raises for a failing candidate: exceptions, out-of-memory errors,
non-finite scores and return values that are not a :class:`~nasviz.Result` all
become ``Result.failed`` with the reason.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..devices import is_out_of_memory
from ..estimators.base import Result
from ..storage import to_json

__all__ = ["MISSING", "EvaluationTask", "describe_error", "evaluate_batch", "evaluate_safely", "worker_name"]

#: what a task answers on a worker that has not cached its estimator yet (sent once per process)
MISSING = "nasviz.search: estimator not cached on this worker"
_WORKER_CACHE: dict = {}  # token -> estimator, in each worker process


def describe_error(err: BaseException) -> str:
    """``"Name: message"``, marked ``out of memory (...)`` for host or GPU memory errors.

    Examples
    --------
    >>> describe_error(RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"))
    'out of memory (RuntimeError: CUDA out of memory. Tried to allocate 2 GiB)'
    """
    name = type(err).__name__
    text = f"{name}: {err}"
    if is_out_of_memory(err):
        return f"out of memory ({text})"
    return text


def evaluate_safely(estimator, arch, parent=None, fidelity=None) -> Result:
    """``estimator.evaluate(...)`` that never raises for a failing candidate.

    An exception (``MemoryError`` and ``torch.cuda.OutOfMemoryError`` included), a
    non-finite score, or a return value that is not a :class:`~nasviz.Result` gives
    ``Result.failed`` with the reason. ``KeyboardInterrupt`` and ``SystemExit`` pass.

    Examples
    --------
    >>> class Broken:
    ...     def evaluate(self, arch, parent=None, fidelity=None):
    ...         raise MemoryError("8 GiB needed")
    >>> evaluate_safely(Broken(), None).error
    'out of memory (MemoryError: 8 GiB needed)'
    """
    start = time.perf_counter()
    try:
        result = estimator.evaluate(arch, parent=parent, fidelity=fidelity)
    except Exception as err:  # noqa: BLE001 - a failing candidate is recorded, the search goes on
        return Result.failed(describe_error(err), cost=time.perf_counter() - start)
    return Result.validated(result, cost=time.perf_counter() - start)


def worker_name() -> str:
    """The Dask worker's address, or ``host:pid:thread`` of the process that evaluates."""
    dist = sys.modules.get("distributed")
    if dist is not None:
        try:
            return str(dist.get_worker().address)
        except ValueError:  # not inside a Dask worker
            pass
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


@dataclass(frozen=True)
class EvaluationTask:
    """One candidate to evaluate, as an executor receives it: ``task()`` returns
    ``(result, started, finished, worker)``.

    Parameters
    ----------
    estimator : Estimator or None
        None when the worker is expected to have it cached under ``token`` (an
        estimator is sent once per worker process); a worker that has not answers
        :data:`MISSING` and the search sends it along on the next try.
    space : Space
        Rebuilds the architectures from their strings.
    arch, parent : str, str or None
        The candidate and the architecture it was derived from, as strings.
    fidelity : JSON value or None
        The strategy's fidelity for this candidate (epochs, for multi-fidelity).
    token : str or None
        The search's estimator token (None: nothing is cached, e.g. threads).
    nonce : tuple
        Keeps every submission distinct (Dask treats equal calls as one task).

    Examples
    --------
    >>> import nasviz as nv
    >>> from nasviz.estimators.base import Estimator
    >>> class Convs(Estimator):
    ...     def evaluate_one(self, arch, parent=None, fidelity=None):
    ...         return nv.Result(score=arch.ops.count("nor_conv_3x3"), cost=1.0)
    >>> space = nv.CellSpace()
    >>> task = EvaluationTask(Convs(), space, str(space[0]))
    >>> task()[0].score, task.batch_key == EvaluationTask(task.estimator, space, str(space[1])).batch_key
    (0, True)
    """

    estimator: Any
    space: Any
    arch: str
    parent: str | None = None
    fidelity: Any = None
    token: str | None = None
    nonce: tuple = field(default=(), compare=False)

    @property
    def batch_key(self) -> tuple:
        """Tasks with equal keys can be judged by one ``estimator.evaluate_many`` call."""
        return id(self.estimator), id(self.space), to_json(self.fidelity)

    def rebuild(self):
        """``(arch, parent)`` as architectures of the space (raises for a malformed string)."""
        parent = None if self.parent is None else self.space.from_string(self.parent)
        return self.space.from_string(self.arch), parent

    def __call__(self):
        estimator = self.estimator
        if estimator is None:
            estimator = _WORKER_CACHE.get(self.token)
            if estimator is None:
                return MISSING
        elif self.token is not None:
            _WORKER_CACHE[self.token] = estimator
            while len(_WORKER_CACHE) > 4:
                _WORKER_CACHE.pop(next(iter(_WORKER_CACHE)))
        started = time.time()
        try:
            arch, parent = self.rebuild()
        except Exception as err:  # noqa: BLE001
            return (Result.failed(f"cannot rebuild the architecture: {describe_error(err)}"), started, time.time(),
                    worker_name())
        result = evaluate_safely(estimator, arch, parent, self.fidelity)
        return result, started, time.time(), worker_name()


def evaluate_batch(tasks) -> list:
    """Several :class:`EvaluationTask` of one ``batch_key``, judged together.

    The candidates go to one ``estimator.evaluate_many(archs, parents=...,
    fidelity=...)`` call (batched training), each result checked as
    :func:`evaluate_safely` checks one; if that call raises (or the estimator has no
    ``evaluate_many``), one by one, so that only a failing candidate fails. Returns
    ``(result, started, finished, worker)`` per task, in order.
    """
    estimator, fidelity = tasks[0].estimator, tasks[0].fidelity
    started = time.time()
    out: list = [None] * len(tasks)
    archs, parents, where = [], [], []
    for k, task in enumerate(tasks):
        try:
            arch, parent = task.rebuild()
        except Exception as err:  # noqa: BLE001
            out[k] = (Result.failed(f"cannot rebuild the architecture: {describe_error(err)}"), started,
                      time.time(), worker_name())
            continue
        archs.append(arch)
        parents.append(parent)
        where.append(k)
    worker = worker_name()
    results = None
    many = getattr(estimator, "evaluate_many", None)
    start = time.perf_counter()
    if len(archs) > 1 and callable(many):
        try:
            results = list(many(archs, parents=parents, fidelity=fidelity))
        except Exception:  # noqa: BLE001 - judged one by one below: only the failing candidates fail
            results = None
        if results is not None and len(results) != len(archs):
            results = None
    if results is None:
        for k, arch, parent in zip(where, archs, parents):
            begun = time.time()
            out[k] = (evaluate_safely(estimator, arch, parent, fidelity), begun, time.time(), worker)
    else:
        finished = time.time()
        for k, result in zip(where, results):
            out[k] = (Result.validated(result, cost=time.perf_counter() - start), started, finished, worker)
    return out
