"""Where a search stands, and how a journal brings a fresh strategy back to it.

:class:`SearchState` is the search's bookkeeping: finished trials, candidates asked
and not finished, repeats, budget spent. :func:`restore` opens a journal (locked,
checked), rebuilds or checks the strategy, and :func:`replay` tells it the
journaled asks and tells in order, each replayed ask checked against the journal;
:meth:`nasviz.Search.resume` passes the resulting state to a new search.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidArgumentError, NasvizError
from ..storage import Journal, JournalError, rebuild, rebuild_space, result_of, to_json, trial_of
from ..strategies.base import Strategy, StrategyError
from ..trial import Trial

__all__ = ["SearchState", "key_of", "replay", "restore", "text_of"]


def text_of(arch) -> str | None:
    """An architecture as the journal stores it (None stays None)."""
    return None if arch is None else str(arch)


def key_of(arch_text: str, fidelity) -> tuple[str, str]:
    """What makes two asks the same candidate: the architecture and the fidelity."""
    return arch_text, to_json(fidelity)


@dataclass
class SearchState:
    """A search's bookkeeping (a new search starts from the empty state).

    Attributes
    ----------
    trials : dict of int -> Trial
        Finished trials by number.
    asked : dict of int -> (arch, parent, fidelity)
        Every candidate asked, as the strategy asked it.
    attempts : dict of int -> int
        Evaluations started per trial.
    done, open : dict of key -> int
        Finished, and asked but unfinished, trials by :func:`key_of`.
    waiting : dict of int -> list
        Repeat asks of an unfinished trial, owed a tell when it finishes.
    pending : list of int
        Trials to evaluate (again) before asking anew.
    """

    trials: dict = field(default_factory=dict)
    asked: dict = field(default_factory=dict)
    attempts: dict = field(default_factory=dict)
    done: dict = field(default_factory=dict)
    open: dict = field(default_factory=dict)
    waiting: dict = field(default_factory=dict)
    pending: list = field(default_factory=list)
    next_number: int = 0
    spent: float = 0.0
    n_repeats: int = 0
    consecutive_repeats: int = 0
    n_told: int = 0
    started: bool = False
    last_seq: int = 0  # the journal's last event when the search last closed it

    def add_candidate(self, number: int, arch, parent, fidelity) -> None:
        """A new candidate was asked: it goes first in ``pending``."""
        self.next_number = max(self.next_number, number + 1)
        self.asked[number] = (arch, parent, fidelity)
        self.attempts[number] = 0
        self.open[key_of(str(arch), fidelity)] = number
        self.pending.insert(0, number)
        self.consecutive_repeats = 0

    def add_repeat(self) -> None:
        self.n_repeats += 1
        self.consecutive_repeats += 1

    def finish(self, trial: Trial) -> None:
        """A trial finished (journaled already)."""
        self.trials[trial.number] = trial
        key = key_of(str(trial.arch), trial.fidelity)
        self.open.pop(key, None)
        self.done[key] = trial.number
        self.spent += float(trial.cost)


def restore(path, *, strategy=None, space=None, estimator=None, replay_all: bool = True):
    """``(space, strategy, meta, state)`` to continue the search journaled at ``path``.

    The journal is locked while it is read (a search still writing it gives
    :class:`~nasviz.storage.JournalBusyError`) and checked with ``quick_check``. The
    strategy is rebuilt from the journal (nasviz classes only) or ``strategy`` (fresh)
    is used, re-seeded or restored from its initial snapshot as the original run was,
    and replayed. See :meth:`nasviz.Search.resume`.
    """
    if not os.path.exists(path):
        raise JournalError(f"no journal at {os.fspath(path)!r}; start a search with nv.Search(..., storage=path)")
    journal = Journal(path, lock=True)
    try:
        journal.check_integrity()
        meta = journal.read_run()
        space = rebuild_space(meta) if space is None else space
        strategy = _strategy_for(meta, strategy, space)
        if estimator is not None and repr(estimator) != meta["estimator"].get("repr"):
            warnings.warn(f"the journal was written with estimator {meta['estimator'].get('repr')}, resuming "
                          f"with {estimator!r}", RuntimeWarning, stacklevel=3)
        seed = meta["seed"]
        if seed is not None:
            strategy.rng_ = np.random.default_rng(seed)
        own_seed = getattr(strategy, "seed", None)
        seeded = isinstance(own_seed, (int, np.integer)) and not isinstance(own_seed, bool)
        if not meta["strategy"].get("fresh", True) or (seed is None and not seeded):
            initial = journal.snapshot(0)
            if initial is None:
                raise JournalError(f"{os.fspath(path)!r} records no initial strategy state, and the strategy "
                                   "had no seed; it cannot be resumed exactly")
            strategy.load_state_dict(initial[1])
        state = replay(journal, strategy, space, use_snapshot=not replay_all, path=path)
        state.last_seq = journal.last_seq()
    finally:
        journal.close()
    return space, strategy, meta, state


def _strategy_for(meta: dict, strategy, space):
    if strategy is None:
        return rebuild(meta["strategy"], Strategy, space)
    if getattr(strategy, "n_asked_", 0):
        raise InvalidArgumentError(
            f"resume needs a fresh strategy (never asked), got {strategy!r} after "
            f"{strategy.n_asked_} asks; build a new one as in the original run")
    journaled = str(meta["strategy"].get("class", "")).rpartition(":")[2]
    if type(strategy).__name__ != journaled:
        warnings.warn(f"the journal was written by a {journaled} strategy, resuming with "
                      f"{type(strategy).__name__}", RuntimeWarning, stacklevel=4)
    return strategy


def replay(journal: Journal, strategy, space, *, use_snapshot: bool, path) -> SearchState:
    """Bring a fresh ``strategy`` to the journaled point; the search state to continue from."""
    rows = {row["number"]: row for row in journal.trials()}
    events = journal.events()
    start = 0
    if use_snapshot:
        snap = journal.snapshot()
        if snap is not None and snap[0] > 0:
            strategy.load_state_dict(snap[1])
            start = snap[0]
    n_told = 0
    for k, ev in enumerate(events):
        if ev["kind"] == "tell":
            n_told += 1
        if ev["seq"] > start:
            _replay_event(k, ev, rows, strategy, space, path)
    state = _state_of(rows, events, space)
    state.n_told = n_told
    return state


def _replay_event(k: int, ev: dict, rows: dict, strategy, space, path) -> None:
    where = os.fspath(path)
    if ev["kind"] == "ask":
        try:
            arch = strategy.ask()
            ctx = strategy.context(arch) or {}
        except Exception as err:
            raise StrategyError(f"replaying {where!r}: the strategy {strategy!r} raised in ask() "
                                f"for trial {ev['trial']}: {type(err).__name__}: {err}") from err
        got = (str(arch), text_of(ctx.get("parent")), to_json(ctx.get("fidelity")))
        want = (ev["arch"], ev["parent"], to_json(ev["fidelity"]))
        if got != want:
            raise JournalError(
                f"replaying {where!r}: ask {k} gave {got[0]} (parent {got[1]}, fidelity {got[2]}) "
                f"but the journal has {want[0]} (parent {want[1]}, fidelity {want[2]}); the strategy is not "
                "built as in the original run, or it is not deterministic for its seed")
        return
    row = rows.get(ev["trial"])
    if row is None:
        raise JournalError(f"replaying {where!r}: tell {k} is for trial {ev['trial']}, which the "
                           "journal does not hold (a trial row was deleted); the journal is damaged")
    try:
        strategy.tell(space.from_string(ev["arch"]), result_of(row))
    except NasvizError:
        raise
    except Exception as err:
        raise StrategyError(f"replaying {where!r}: the strategy {strategy!r} raised in tell() "
                            f"for trial {ev['trial']}: {type(err).__name__}: {err}") from err


def _state_of(rows: dict, events: list, space) -> SearchState:
    def parse(text):
        return None if text is None else space.from_string(text)

    state = SearchState(started=True)
    for number, row in rows.items():
        arch, parent = space.from_string(row["arch"]), parse(row["parent"])
        state.asked[number] = (arch, parent, row["fidelity"])
        state.attempts[number] = row["attempts"]
        key = key_of(row["arch"], row["fidelity"])
        if row["status"] in ("ok", "failed"):
            state.trials[number] = trial_of(row, arch, parent)
            state.done[key] = number
        else:
            state.open[key] = number
            state.pending.append(number)
    open_numbers = set(state.open.values())
    for ev in events:
        if ev["kind"] == "ask" and ev["repeat"] and ev["trial"] in open_numbers:
            state.waiting.setdefault(ev["trial"], []).append((parse(ev["arch"]), parse(ev["parent"]),
                                                              ev["fidelity"]))
    asks = [ev for ev in events if ev["kind"] == "ask"]
    trailing = 0
    for ev in reversed(asks):
        if not ev["repeat"]:
            break
        trailing += 1
    state.n_repeats = sum(ev["repeat"] for ev in asks)
    state.consecutive_repeats = trailing
    state.next_number = max(rows, default=-1) + 1
    state.spent = sum(t.cost for t in state.trials.values())
    return state
