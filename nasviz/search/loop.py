"""The :class:`Search` loop (see :mod:`nasviz.search` for how a search runs and fails)."""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import threading
import time
import uuid
import warnings

import numpy as np

from ..errors import InvalidArgumentError
from ..estimators.base import Result
from ..history import History
from ..storage import Journal, JournalError, describe, normalize_result
from ..strategies.base import StrategyError, StrategyFinishedError
from ..trial import Trial
from .arguments import callback_list, validate
from .evaluation import MISSING, EvaluationTask, describe_error
from .executors import InlineExecutor, executor_for, sends_nothing
from .progress import DeferSigint, NoBar, progress_bar
from .state import SearchState, key_of, restore, text_of

__all__ = ["Search"]

_POLL_S = 0.1  # how often a parallel run looks at the stop flag while it waits
_SNAPSHOT_EVERY = 10  # journal the strategy's state_dict() every this many tells


class Search:
    """Run a search strategy with an estimator over a space until a budget is spent.

    Parameters
    ----------
    space : Space
        The search space (the strategy's own).
    strategy : Strategy
        Any ask/tell strategy (:mod:`nasviz.strategies`). One strategy object drives
        one search: the search asks and tells it.
    estimator : Estimator
        Anything with ``evaluate(arch, *, parent=None, fidelity=None) -> Result``.
    budget : int or float
        With ``budget_kind="evaluations"`` (default): the number of candidates to
        evaluate, an integer >= 1; failed candidates count, repeats answered from the
        journal do not. With ``budget_kind="cost"``: seconds of cost as the estimator
        reports it (measured, or simulated by tables); the search asks for new
        candidates while the finished ones cost less than the budget, so the last
        ones may go past it (by at most the evaluations in flight).
    workers : int
        Evaluations in flight at once. With ``workers > 1`` and no ``executor`` the
        search makes a ``ThreadPoolExecutor``: it works in notebooks and with any
        estimator (nothing is pickled), table look-ups are instant, and PyTorch
        releases the GIL while it computes. For pure-Python estimators that hold the
        GIL, pass a process pool.
    executor : concurrent.futures.Executor or None
        Where evaluations run: ``ProcessPoolExecutor(n)``, Dask's
        ``Client(...).get_executor()`` for a cluster (see ``docs/distributed.md``), or
        :class:`~nasviz.BatchExecutor` ``(max_batch=workers)`` to judge the candidates in
        flight together with ``estimator.evaluate_many`` (batched training).
        The search neither starts nor shuts it down. Except for thread pools, the
        estimator and the space must be picklable; the estimator is sent once per
        worker process. With an executor, ``workers`` still bounds the evaluations in
        flight: set it to the number of worker processes.
    storage : str, os.PathLike or None
        An SQLite journal file (see :mod:`nasviz.storage`), created by the first
        ``run()``; it must not already hold a search (continue one with
        :meth:`resume`). None keeps the journal in memory.
    seed : int or None
        When given, the strategy's generator is re-seeded with it before the first
        ask (``strategy.rng_ = numpy.random.default_rng(seed)``); None leaves the
        strategy's own seed in charge.
    callbacks : sequence
        Objects with optional ``on_trial(search, trial)`` and ``on_finish(search,
        history)`` methods, or plain callables (called as ``on_trial``). An exception
        in a callback becomes a warning; the search goes on.
    budget_kind : {"evaluations", "cost"}
        What ``budget`` counts.
    max_repeats : int
        Stop when the strategy asks for already-evaluated candidates this many times
        in a row (a strategy stuck on what it knows).
    state : SearchState or None
        Where to continue from: :meth:`resume` passes the state it replayed from the
        journal. None (the default) starts a new search.

    Attributes
    ----------
    trials_ : dict of int -> Trial
        Finished trials by number.
    n_repeats_ : int
        Asks answered from already-evaluated trials.
    stopped_reason_ : str or None
        Why the last ``run()`` ended: ``"budget"``, ``"finished"`` (the strategy has
        nothing left), ``"repeats"``, ``"stopped"`` (:meth:`stop`) or ``"interrupted"``
        (Ctrl-C).

    Examples
    --------
    >>> import nasviz as nv
    >>> from nasviz.estimators.base import Estimator
    >>> class Pools(Estimator):
    ...     def evaluate_one(self, arch, parent=None, fidelity=None):
    ...         return nv.Result(score=-arch.ops.count("avg_pool_3x3"), cost=0.5)
    >>> space = nv.CellSpace()
    >>> search = nv.Search(space, nv.strategies.RandomSearch(space), Pools(), budget=2.0,
    ...                    budget_kind="cost", seed=1)
    >>> history = search.run(progress=False)
    >>> len(history), search.stopped_reason_
    (4, 'budget')
    """

    def __init__(self, space, strategy, estimator, *, budget, workers=1, executor=None, storage=None, seed=None,
                 callbacks=(), budget_kind="evaluations", max_repeats=100, state=None):
        self.space = space
        self.strategy = strategy
        self.estimator = estimator
        self.budget = budget
        self.workers = workers
        self.executor = executor
        self.storage = storage
        self.seed = seed
        self.callbacks = callbacks
        self.budget_kind = budget_kind
        self.max_repeats = max_repeats
        validate(self)
        self.state = state
        self._stop_event = threading.Event()
        self._token = uuid.uuid4().hex
        self._nonce = 0
        self._journal = None
        self._running = False
        self.stopped_reason_ = None
        self._snapshots = storage is not None
        if state is not None and not isinstance(state, SearchState):
            raise InvalidArgumentError(f"state must be a SearchState (from nv.Search.resume), got {state!r}")
        if state is None and Journal.holds_run(storage):
            raise InvalidArgumentError(
                f"storage {os.fspath(storage)!r} already holds a search; continue it with "
                f"nv.Search.resume({os.fspath(storage)!r}, estimator=...), or pass a new path")
        self._st = state if state is not None else SearchState()
        self._best = History(self._st.trials.values()).best

    # -- validation --------------------------------------------------------------------
    def __repr__(self) -> str:
        return (f"Search({self.space!r}, {self.strategy!r}, {self.estimator!r}, budget={self.budget!r}, "
                f"budget_kind={self.budget_kind!r}, workers={self.workers!r}, storage={self.storage!r}, "
                f"seed={self.seed!r})")

    # -- public ------------------------------------------------------------------------
    @property
    def trials_(self) -> dict:
        """Finished trials by number."""
        return self._st.trials

    @property
    def n_repeats_(self) -> int:
        """Asks answered from already-evaluated trials."""
        return self._st.n_repeats

    @property
    def history_(self) -> History:
        """The finished trials so far, as a :class:`~nasviz.History`."""
        return History(self._st.trials.copy().values(), n_repeats=self._st.n_repeats, label=type(self.strategy).__name__,
                       meta={"space": repr(self.space), "strategy": repr(self.strategy),
                             "estimator": repr(self.estimator), "seed": self.seed, "budget": self.budget,
                             "budget_kind": self.budget_kind})

    def stop(self) -> None:
        """Ask a running search to stop (thread-safe): no new asks; queued evaluations are
        cancelled (and run again by a later ``run()`` or resume), running ones finish and
        are recorded; ``run()`` then returns."""
        self._stop_event.set()

    def run(self, progress: bool = True) -> History:
        """Search until the budget is spent (or the strategy is finished, or stopped).

        Parameters
        ----------
        progress : bool
            Show a ``tqdm`` progress bar with the best score so far.

        Returns
        -------
        History
            Every finished trial of this search (earlier runs and resumes included).
        """
        if self._running:
            raise InvalidArgumentError("this search is already running; call stop() or wait for it")
        self._running = True
        self._stop_event.clear()
        try:
            return self._run(progress)
        finally:
            self._running = False

    # -- the loop ----------------------------------------------------------------------
    def _run(self, progress: bool) -> History:
        journal = self._open_journal()
        inflight = {}
        reason = None
        executor = owned = None
        bar = NoBar()
        try:
            if not self._st.started:
                self._start(journal)
            elif self.storage is not None:
                journal.update_run(budget=self.budget)
            executor, owned, send_once = executor_for(self.executor, self.workers, self.estimator, self.space)
            bar = self._progress_bar(progress)
            self._blocked = None
            while True:
                if self._stop_event.is_set():
                    reason = "stopped"
                    for fut in list(inflight):
                        if fut.cancel():
                            self._st.pending.append(inflight.pop(fut)[0])
                else:
                    try:
                        self._fill(executor, inflight, send_once, journal)
                    except StrategyError:
                        self._collect_done(inflight, executor, journal, bar)
                        raise
                if not inflight:
                    break
                timeout = None if isinstance(executor, InlineExecutor) else _POLL_S
                done, _ = cf.wait(list(inflight), timeout=timeout, return_when=cf.FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: inflight[f][0]):
                    self._collect(fut, inflight, executor, journal, bar)
            reason = "stopped" if self._stop_event.is_set() else reason or self._blocked
        except KeyboardInterrupt:
            reason = "interrupted"
        finally:
            for fut, (number, _) in inflight.items():
                fut.cancel()
                self._st.pending.append(number)
            self._st.pending = sorted(set(self._st.pending))
            try:
                journal.mark(self._st.pending, "interrupted")
            finally:
                if owned:
                    executor.shutdown(wait=False, cancel_futures=True)
                bar.close()
                self._close_journal(journal)
        self.stopped_reason_ = reason
        history = self.history_
        self._call("on_finish", history)
        return history

    def _open_journal(self) -> Journal:
        """The journal for one run: in memory, or the file opened with the writer's lock held
        for the whole run (a second writer gets :class:`~nasviz.storage.JournalBusyError`)."""
        if self.storage is None:
            if self._journal is None:
                self._journal = Journal(None)
            return self._journal
        journal = Journal(self.storage, lock=True)
        try:
            if self._st.started and journal.last_seq() != self._st.last_seq:
                raise JournalError(
                    f"the journal {os.fspath(self.storage)!r} changed since this search last wrote it (another "
                    "process continued it); continue from the file with nv.Search.resume(path, estimator=...)")
        except BaseException:
            journal.close()
            raise
        return journal

    def _close_journal(self, journal: Journal) -> None:
        if journal is self._journal:
            return
        try:
            self._st.last_seq = journal.last_seq()
        finally:
            journal.close()

    def _start(self, journal: Journal) -> None:
        if self.seed is not None:
            self.strategy.rng_ = np.random.default_rng(self.seed)
        strategy = describe(self.strategy)
        strategy["fresh"] = getattr(self.strategy, "n_asked_", 0) == 0
        journal.write_run({  # refused, in the same transaction, if the file already holds a search
            "space": describe(self.space, skip=()),
            "strategy": strategy,
            "estimator": {"class": describe(self.estimator)["class"], "repr": repr(self.estimator)},
            "seed": self.seed, "budget": self.budget, "budget_kind": self.budget_kind,
            "max_repeats": self.max_repeats,
        })
        if self._snapshots:
            state = self._strategy_state(force=True)
            if state is not None:
                journal.write_initial_state(state)
        self._st.started = True

    def _progress_bar(self, progress: bool):
        if not progress:
            return NoBar()
        return progress_bar(self.budget, self.budget_kind, spent=self._st.spent, done=len(self._st.trials),
                            best=None if self._best is None else self._best.score)

    def _ask_blocked(self) -> str | None:
        if self.budget_kind == "evaluations" and self._st.next_number >= self.budget:
            return "budget"
        if self.budget_kind == "cost" and self._st.spent >= self.budget:
            return "budget"
        if self._st.consecutive_repeats >= self.max_repeats:
            if self._blocked != "repeats":
                warnings.warn(f"the strategy asked for already-evaluated candidates {self._st.consecutive_repeats} "
                              "times in a row; the search stops here", RuntimeWarning, stacklevel=4)
            return "repeats"
        if getattr(self.strategy, "finished", False):
            return "finished"
        return None

    def _fill(self, executor, inflight, send_once, journal) -> None:
        while len(inflight) < self.workers and not self._stop_event.is_set():
            if self._st.pending:
                number = self._st.pending.pop(0)
                if self._st.attempts.get(number, 0) >= 1:  # evaluated before and interrupted: again
                    journal.restart_trial(number)
                self._st.attempts[number] = self._st.attempts.get(number, 0) + 1
                self._submit(executor, inflight, number, with_estimator=not send_once)
                continue
            self._blocked = self._ask_blocked()
            if self._blocked is not None:
                return
            if self._ask(journal):  # a new candidate: it went to the front of _pending, submit it now
                number = self._st.pending.pop(0)
                self._st.attempts[number] = 1
                self._submit(executor, inflight, number, with_estimator=not send_once)

    def _ask(self, journal) -> bool:
        """Ask the strategy once. True: a new candidate, put first in ``_pending`` (so that an
        interrupt before its submission keeps it); False: a repeat (answered or waiting) or finished."""
        with DeferSigint():
            try:
                arch = self.strategy.ask()
                ctx = self.strategy.context(arch) or {}
                parent, fidelity = ctx.get("parent"), ctx.get("fidelity")
                arch_text, parent_text = str(arch), text_of(parent)
            except StrategyFinishedError:
                self._blocked = "finished"
                return False
            except NotImplementedError:  # an unfinished strategy (an exercise): its own error says where
                raise
            except Exception as err:
                raise self._strategy_error("ask()", self._st.next_number, err) from err
            key = key_of(arch_text, fidelity)
            if key in self._st.done:
                number = self._st.done[key]
                journal.add_repeat(number, arch_text, parent_text, fidelity)
                self._tell(arch, self._st.trials[number].result, number)
                self._st.n_told += 1
                self._write_snapshot(journal)
            elif key in self._st.open:
                number = self._st.open[key]
                self._st.waiting.setdefault(number, []).append((arch, parent, fidelity))
                journal.add_repeat_ask(number, arch_text, parent_text, fidelity)
            else:
                number = self._st.next_number
                journal.add_trial(number, arch_text, parent_text, fidelity)
                self._st.add_candidate(number, arch, parent, fidelity)
                return True
            self._st.add_repeat()
            return False

    def _strategy_error(self, call: str, number: int, err: BaseException) -> StrategyError:
        where = self.storage if self.storage is not None else "the in-memory journal"
        return StrategyError(
            f"the strategy {self.strategy!r} raised in {call} at trial {number}: {type(err).__name__}: {err}; "
            f"every finished evaluation is in {where!s}"
            + (f", continue with nv.Search.resume({os.fspath(self.storage)!r}, ...) once the strategy is fixed"
               if self.storage is not None else ""))

    def _tell(self, arch, result, number: int) -> None:
        try:
            self.strategy.tell(arch, result)
        except NotImplementedError:
            raise
        except Exception as err:
            raise self._strategy_error("tell()", number, err) from err

    def _write_snapshot(self, journal) -> None:
        state = self._strategy_state()
        if state is not None:
            journal.write_snapshot(state)

    def _submit(self, executor, inflight, number, *, with_estimator: bool) -> None:
        arch, parent, fidelity = self._st.asked[number]
        self._nonce += 1
        task = EvaluationTask(self.estimator if with_estimator else None, self.space, str(arch), text_of(parent),
                              fidelity, token=None if sends_nothing(executor) else self._token,
                              nonce=(self._token, self._nonce))
        try:
            fut = executor.submit(task)
        except BaseException:
            self._st.pending.append(number)
            raise
        inflight[fut] = (number, with_estimator)

    def _collect_done(self, inflight, executor, journal, bar) -> None:
        """Record the evaluations that already finished (the search is ending with an error)."""
        for fut in sorted((f for f in inflight if f.done() and not f.cancelled()), key=lambda f: inflight[f][0]):
            try:
                self._collect(fut, inflight, executor, journal, bar)
            except StrategyError:  # journaled already; the first error is the one to report
                pass

    def _collect(self, fut, inflight, executor, journal, bar) -> None:
        number, _ = inflight.pop(fut)
        if fut.cancelled():
            self._st.pending.append(number)
            self._stop_event.set()
            return
        err = fut.exception()
        if isinstance(err, KeyboardInterrupt):
            self._st.pending.append(number)
            raise KeyboardInterrupt
        if err is not None and not isinstance(err, Exception):
            self._st.pending.append(number)
            raise err
        if err is not None:  # the worker itself failed (died, could not unpickle, ...)
            value = (Result.failed(f"worker error: {describe_error(err)}"), None, time.time(), None)
        else:
            value = fut.result()
            if isinstance(value, str) and value == MISSING:
                self._submit(executor, inflight, number, with_estimator=True)
                return
        self._record(number, *value, journal=journal, bar=bar)

    def _record(self, number, result, started, finished, worker, *, journal, bar) -> None:
        result = normalize_result(result)
        arch, parent, fidelity = self._st.asked[number]
        tells = [(arch, parent, fidelity, False)] + [(a, p, f, True) for a, p, f in self._st.waiting.pop(number, [])]
        trial = Trial(number, arch, result, parent=parent, fidelity=fidelity, started=started, finished=finished,
                      worker=worker, attempts=self._st.attempts.get(number, 1))
        with DeferSigint():
            # journal first: a strategy that raises in tell() loses no finished evaluation
            journal.finish_trial(number, result, started=started, finished=finished, worker=worker,
                                 tells=[(str(a), text_of(p), f, r) for a, p, f, r in tells])
            self._st.finish(trial)
            if trial.ok and (self._best is None or (trial.score, -trial.number) > (self._best.score, -self._best.number)):
                self._best = trial
            for a, _, _, _ in tells:
                self._tell(a, result, number)
                self._st.n_told += 1
            self._write_snapshot(journal)
        bar.update(float(result.cost) if self.budget_kind == "cost" else 1)
        if self._best is not None:
            bar.set_postfix(best=f"{self._best.score:.4g}", refresh=False)
        self._call("on_trial", trial)

    def _strategy_state(self, force: bool = False):
        """The strategy's state_dict() for a snapshot (every few tells), or None."""
        if not self._snapshots or not (force or self._st.n_told % _SNAPSHOT_EVERY == 0):
            return None
        state_dict = getattr(self.strategy, "state_dict", None)
        if state_dict is None:
            self._snapshots = False
            return None
        try:
            state = state_dict()
            json.dumps(state, default=lambda o: o.item() if isinstance(o, np.generic) else _no_json(o))
        except Exception as err:  # noqa: BLE001
            warnings.warn(f"{type(self.strategy).__name__}.state_dict() is not JSON data ({err}); the journal "
                          "keeps no state snapshots (resume replays the journal instead)", RuntimeWarning,
                          stacklevel=3)
            self._snapshots = False
            return None
        return state

    def _call(self, hook, *args) -> None:
        for cb in callback_list(self.callbacks):
            fn = getattr(cb, hook, None)
            if fn is None and hook == "on_trial" and callable(cb) and not hasattr(cb, "on_finish"):
                fn = cb
            if fn is None:
                continue
            try:
                fn(self, *args)
            except Exception as err:  # noqa: BLE001 - a callback never kills the search
                warnings.warn(f"callback {cb!r} raised in {hook}: {type(err).__name__}: {err}", RuntimeWarning,
                              stacklevel=3)

    # -- resume ------------------------------------------------------------------------
    @classmethod
    def resume(cls, path, *, estimator, budget=None, strategy=None, space=None, workers=1, executor=None,
               callbacks=(), replay=True, max_repeats=None) -> Search:
        """Continue the search journaled at ``path``: returns a :class:`Search` ready to ``run()``.

        The strategy is rebuilt (from its journaled class and keyword arguments, or
        ``strategy=`` given fresh) and brought to where the run stopped by replaying
        the journaled asks and tells in order, each replayed ask checked against the
        journal. Candidates that were being evaluated when the run stopped are
        evaluated again first (same trial numbers, ``attempts`` + 1), then the search
        goes on. Resuming to the same budget gives exactly the trials of an
        uninterrupted run (for a serial search, whose order is deterministic).

        Parameters
        ----------
        path : str or os.PathLike
            The journal written by ``Search(..., storage=path)``.
        estimator : Estimator
            The estimator, built as in the original run (journals record its repr
            only; a different repr gives a warning).
        budget : int, float or None
            The new total budget (same kind); None keeps the journaled one.
        strategy : Strategy or None
            A fresh strategy built as in the original run; needed when its class is
            not importable (defined in a notebook or script) or its arguments are
            not plain data.
        space : Space or None
            The space; None rebuilds it from the journal.
        workers, executor, callbacks, max_repeats
            As for :class:`Search` (``max_repeats`` None keeps the journaled one).
        replay : bool
            True (default): replay every journaled ask and tell (checked, exact).
            False: restore the latest ``state_dict()`` snapshot and replay only what
            followed it (faster for strategies with costly asks; relies on the
            strategy's state round trip).

        Examples
        --------
        >>> import os, tempfile
        >>> import nasviz as nv
        >>> from nasviz.estimators.base import Estimator
        >>> class Convs(Estimator):
        ...     def evaluate_one(self, arch, parent=None, fidelity=None):
        ...         return nv.Result(score=arch.ops.count("nor_conv_3x3"), cost=1.0)
        >>> path = os.path.join(tempfile.mkdtemp(), "run.sqlite")
        >>> space = nv.CellSpace()
        >>> first = nv.Search(space, nv.strategies.RandomSearch(space, seed=0), Convs(), budget=5,
        ...                   storage=path).run(progress=False)
        >>> more = nv.Search.resume(path, estimator=Convs(), budget=8).run(progress=False)
        >>> len(more), [t.arch for t in more][:5] == [t.arch for t in first]
        (8, True)
        """
        space, strategy, meta, state = restore(path, strategy=strategy, space=space, estimator=estimator,
                                               replay_all=replay)
        budget = meta["budget"] if budget is None else budget
        max_repeats = meta.get("max_repeats", 100) if max_repeats is None else max_repeats
        return cls(space, strategy, estimator, budget=budget, workers=workers, executor=executor, storage=path,
                   seed=meta["seed"], callbacks=callbacks, budget_kind=meta["budget_kind"], max_repeats=max_repeats,
                   state=state)


def _no_json(obj):
    raise TypeError(f"{type(obj).__name__} is not JSON data")


