"""The arguments of :class:`~nasviz.Search`, checked: every bad one is named with what is accepted."""

from __future__ import annotations

import math
import os

import numpy as np

from ..errors import InvalidArgumentError, check_choice, check_positive_int

__all__ = ["BUDGET_KINDS", "callback_list", "validate"]

BUDGET_KINDS = ("evaluations", "cost")


def validate(search) -> None:
    """Raise :class:`~nasviz.errors.InvalidArgumentError` for the first bad argument of ``search``."""
    if not all(callable(getattr(search.space, m, None)) for m in ("from_string", "sample")):
        raise InvalidArgumentError(f"space must be a nasviz Space (e.g. nv.CellSpace()), got {search.space!r}")
    if not all(callable(getattr(search.strategy, m, None)) for m in ("ask", "tell")):
        raise InvalidArgumentError(
            f"strategy must have ask() and tell() (e.g. nv.strategies.RandomSearch(space)), got {search.strategy!r}")
    own = getattr(search.strategy, "space", search.space)
    if own is not search.space and own != search.space and repr(own) != repr(search.space):
        raise InvalidArgumentError(
            f"the strategy searches {own!r} but the search was given space={search.space!r}; build both "
            "from the same space")
    if not callable(getattr(search.estimator, "evaluate", None)):
        raise InvalidArgumentError(
            f"estimator must have evaluate(arch, *, parent=None, fidelity=None), got {search.estimator!r}")
    check_choice("budget_kind", search.budget_kind, BUDGET_KINDS, error=InvalidArgumentError)
    if search.budget_kind == "evaluations":
        check_positive_int("budget", search.budget)
    else:
        budget = search.budget
        ok = isinstance(budget, (int, float, np.integer, np.floating)) and not isinstance(budget, bool)
        if not ok or not (math.isfinite(float(search.budget)) and search.budget > 0):
            raise InvalidArgumentError(
                f"budget must be a positive number of seconds with budget_kind='cost', got {search.budget!r}")
    check_positive_int("workers", search.workers)
    check_positive_int("max_repeats", search.max_repeats)
    if search.storage is not None and (not isinstance(search.storage, (str, os.PathLike)) or
                                     not os.fspath(search.storage)):
        raise InvalidArgumentError(
            f"storage must be the path of an SQLite journal file (a str or pathlib.Path, e.g. 'run.sqlite') "
            f"or None, got {search.storage!r}")
    if search.seed is not None:
        check_positive_int("seed", search.seed, minimum=0)
    if search.executor is not None and not callable(getattr(search.executor, "submit", None)):
        raise InvalidArgumentError(
            f"executor must be a concurrent.futures.Executor (e.g. ProcessPoolExecutor(2) or "
            f"dask Client.get_executor()), got {search.executor!r}")
    for cb in callback_list(search.callbacks):
        if not (callable(cb) or hasattr(cb, "on_trial") or hasattr(cb, "on_finish")):
            raise InvalidArgumentError(
                f"a callback must be callable or have on_trial(search, trial) / on_finish(search, history); "
                f"got {cb!r}")


def callback_list(callbacks) -> list:
    """``callbacks`` as a list (None, one callback, or a sequence of them)."""
    cbs = callbacks
    if cbs is None:
        return []
    if callable(cbs) or hasattr(cbs, "on_trial") or hasattr(cbs, "on_finish"):
        return [cbs]
    return list(cbs)
