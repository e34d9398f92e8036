"""The run journal: an SQLite file that records a search as it happens.

A journal holds one search. :class:`nasviz.Search` writes it (``storage="run.sqlite"``)
and :meth:`nasviz.Search.resume` continues from it. It uses the standard library's
``sqlite3`` in WAL mode, one transaction per step, so a process killed at any
moment leaves a consistent file: every finished evaluation is committed before the
next candidate is asked for.

Tables
------
``run``
    ``key -> value`` (JSON): format version, the space, strategy and estimator
    (class path, constructor keyword arguments where they are JSON data, repr),
    seed, budget and budget kind, created time.
``trials``
    One row per candidate: number, arch (string), parent, fidelity (JSON), status
    (``running``, ``interrupted``, ``ok``, ``failed``), score, cost, error, metrics
    (JSON), started/finished timestamps, worker, attempts.
``events``
    The exact sequence of the strategy's asks and tells (``seq`` order), repeats
    included: what a resume replays.
``snapshots``
    ``strategy.state_dict()`` as JSON: the state before the first ask (``seq`` 0)
    and after the latest tell.

Read one with ``nv.History.from_storage(path)`` (its trials, via :func:`read_trials`) or the
:class:`Journal` class
(everything, for tools).

Examples
--------
>>> j = Journal()                      # in memory; Journal("run.sqlite") for a file
>>> j.add_trial(0, "a", None, 3)
>>> j.trials()[0]["status"], j.trials()[0]["fidelity"]
('running', 3)
>>> j.close()
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import sqlite3
import time
import urllib.parse

import numpy as np

from .errors import JournalBusyError, JournalError, NasvizError
from .estimators.base import Result
from .journal_lock import JournalLock
from .params import describe, rebuild
from .trial import Trial

__all__ = ["Journal", "JournalBusyError", "JournalError", "JournalLock", "describe", "normalize_result",
           "read_trials", "rebuild", "to_json"]

FORMAT = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS run (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    number INTEGER PRIMARY KEY,
    arch TEXT NOT NULL,
    parent TEXT,
    fidelity TEXT NOT NULL,
    status TEXT NOT NULL,
    score REAL,
    cost REAL,
    error TEXT,
    metrics TEXT,
    started REAL,
    finished REAL,
    worker TEXT,
    attempts INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    trial INTEGER NOT NULL,
    repeat INTEGER NOT NULL,
    arch TEXT NOT NULL,
    parent TEXT,
    fidelity TEXT NOT NULL,
    time REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshots (seq INTEGER PRIMARY KEY, state TEXT NOT NULL);
"""


_REQUIRED_RUN_KEYS = ("space", "strategy", "estimator", "seed", "budget", "budget_kind")


def _cause(err: BaseException) -> str:
    """What went wrong, in words, for a journal error message."""
    text = str(err)
    low = text.lower()
    if isinstance(err, sqlite3.DatabaseError):
        if "not a database" in low:
            return f"the file is not an SQLite database, or its header is damaged (SQLite: {text})"
        if "malformed" in low or "corrupt" in low:
            return f"the file is damaged (SQLite: {text})"
        if "readonly" in low or "read-only" in low:
            return f"the file is read-only (SQLite: {text})"
        if "disk is full" in low or "disk i/o" in low:
            return f"the disk is full or failing (SQLite: {text})"
        if "locked" in low or "busy" in low:
            return f"another process holds the database (SQLite: {text})"
        return f"SQLite: {text}"
    if isinstance(err, json.JSONDecodeError):
        return f"a stored value is not valid JSON ({text})"
    if isinstance(err, KeyError):
        return f"a field is missing: {text}"
    return f"{type(err).__name__}: {text}"


def _guarded(method):
    """Journal methods: any SQLite, JSON or missing-field error becomes a JournalError naming the file."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except JournalError:
            raise
        except (sqlite3.Error, json.JSONDecodeError, KeyError, TypeError, IndexError) as err:
            raise JournalError(f"journal {self.name!r}: {_cause(err)}") from None

    return wrapper


# -- JSON helpers ---------------------------------------------------------------------
def _default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    item = getattr(obj, "item", None)
    if callable(item):
        with contextlib.suppress(Exception):  # e.g. a tensor of several values: try tolist
            return item()
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):
        return tolist()
    return str(obj)


def to_json(value) -> str:
    """``value`` as JSON text: numpy scalars and arrays become numbers and lists, NaN stays NaN,
    anything else unknown becomes its string."""
    return json.dumps(value, default=_default, sort_keys=True)


def normalize_result(result: Result) -> Result:
    """``result`` exactly as the journal stores and reads it back (plain floats, JSON metrics).

    The search tells strategies the normalized result, so a resumed run replays the
    very values the original run saw.
    """
    score = result.score
    try:
        score = float(score)
    except (TypeError, ValueError):
        score = math.nan
    cost = float(result.cost) if result.cost is not None else 0.0
    metrics = json.loads(to_json(dict(result.metrics or {})))
    return Result(score=score, cost=cost, metrics=metrics, status=str(result.status),
                  error=None if result.error is None else str(result.error))


# -- the journal ----------------------------------------------------------------------
class Journal:
    """An SQLite journal of one search (see the module docstring for its tables).

    Parameters
    ----------
    path : str, os.PathLike or None
        The file (created if missing); None keeps the journal in memory.
    """

    def __init__(self, path=None, *, lock=False, readonly=False):
        self.path = path
        self.lock = lock
        self.readonly = readonly
        target = ":memory:" if path is None else os.fspath(path)
        self.name = target
        self._lock = None
        if path is not None:
            folder = os.path.dirname(os.path.abspath(target))
            if not os.path.isdir(folder):
                raise JournalError(f"cannot create the journal {target!r}: the folder {folder!r} does not exist")
            if readonly and not os.path.exists(target):
                raise JournalError(f"no journal at {target!r}")
            if lock and not readonly:
                self._lock = JournalLock(target).acquire()
        try:
            if readonly and path is not None:
                uri = "file:" + urllib.parse.quote(os.path.abspath(target)) + "?mode=ro"
                self._conn = sqlite3.connect(uri, uri=True, timeout=30.0, isolation_level=None,
                                             check_same_thread=False)
            else:
                self._conn = sqlite3.connect(target, timeout=30.0, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as err:
            self._release()
            raise JournalError(f"cannot open the journal {target!r}: {_cause(err)}") from None
        try:
            self._conn.row_factory = sqlite3.Row
            tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if tables and "run" not in tables:
                raise JournalError(f"{target!r} is an SQLite database of something else (tables: "
                                   f"{', '.join(sorted(tables))}), not a nasviz journal; choose another path")
            if readonly:
                missing = {"run", "trials", "events", "snapshots"} - tables
                if missing:
                    raise JournalError(f"{target!r} is not a complete nasviz journal (missing tables: "
                                       f"{', '.join(sorted(missing))})")
            else:
                if path is not None:
                    self._conn.execute("PRAGMA journal_mode=WAL")
                    # survives a killed process (the contract); only a power cut may lose the last commits
                    self._conn.execute("PRAGMA synchronous=NORMAL")
                with self._tx():
                    for stmt in _SCHEMA.strip().split(";"):
                        if stmt.strip():
                            self._conn.execute(stmt)
        except sqlite3.DatabaseError as err:
            self.close()
            raise JournalError(f"{target!r} is not a nasviz journal: {_cause(err)}") from None
        except JournalError:
            self.close()
            raise

    # transactions: BEGIN IMMEDIATE ... COMMIT, rolled back on any exception
    class _Tx:
        def __init__(self, conn):
            self.conn = conn

        def __enter__(self):
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn

        def __exit__(self, exc_type, exc, tb):
            if exc_type is None:
                self.conn.execute("COMMIT")
            else:
                self.conn.execute("ROLLBACK")
            return False

    def _tx(self):
        return Journal._Tx(self._conn)

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def close(self) -> None:
        """Close the connection (an in-memory journal is then gone) and give back the writer's lock."""
        conn = getattr(self, "_conn", None)
        try:
            if conn is not None:
                conn.close()
        finally:
            self._release()

    @_guarded
    def check_integrity(self) -> None:
        """``PRAGMA quick_check``: raise :class:`JournalError` naming the damage, if any."""
        rows = [r[0] for r in self._conn.execute("PRAGMA quick_check").fetchall()]
        if rows != ["ok"]:
            raise JournalError(f"journal {self.name!r} is damaged (SQLite quick_check: {'; '.join(rows[:3])}); "
                               "restore it from a copy, or start a new search")

    @_guarded
    def last_seq(self) -> int:
        """The ``seq`` of the latest ask or tell event (0 if none): where a writer left the journal."""
        return self._conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]

    @_guarded
    def count_repeat_asks(self) -> int:
        """How many asks were repeats (answered from, or waiting for, an evaluated trial)."""
        return self._conn.execute("SELECT count(*) FROM events WHERE kind='ask' AND repeat=1").fetchone()[0]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"Journal({self.path!r})"

    @staticmethod
    def holds_run(path) -> bool:
        """Whether the file at ``path`` exists and already records a search."""
        if path is None or not os.path.exists(path):
            return False
        try:
            conn = sqlite3.connect(f"file:{os.fspath(path)}?mode=ro", uri=True)
            try:
                row = conn.execute("SELECT count(*) FROM run").fetchone()
            finally:
                conn.close()
        except sqlite3.Error:  # not a journal (or unreadable): opening it says so
            return False
        return bool(row and row[0])

    # -- run ---------------------------------------------------------------------------
    @_guarded
    def write_run(self, meta: dict) -> None:
        """Record what runs (a dict of JSON values); adds ``format`` and ``created``.

        Written once: in the same transaction, a journal that already records a run (or
        any ask) is refused with :class:`JournalError`, never mixed with this one.
        """
        meta = {"format": FORMAT, "created": time.time(), **meta}
        with self._tx() as c:
            held = c.execute("SELECT (SELECT count(*) FROM run) + (SELECT count(*) FROM events)").fetchone()[0]
            if held:
                raise JournalError(
                    f"storage {self.name!r} already holds a search; continue it with "
                    f"nv.Search.resume({self.name!r}, estimator=...), or pass a new path")
            c.executemany("INSERT INTO run (key, value) VALUES (?, ?)", [(k, to_json(v)) for k, v in meta.items()])

    @_guarded
    def update_run(self, **meta) -> None:
        """Change some run values (e.g. the budget when a resume extends it)."""
        with self._tx() as c:
            c.executemany("INSERT OR REPLACE INTO run (key, value) VALUES (?, ?)",
                          [(k, to_json(v)) for k, v in meta.items()])

    @_guarded
    def read_run(self) -> dict:
        """The run's metadata, checked: every field a resume needs is there."""
        rows = self._conn.execute("SELECT key, value FROM run").fetchall()
        meta = {}
        for r in rows:
            try:
                meta[r["key"]] = json.loads(r["value"])
            except json.JSONDecodeError as err:
                raise JournalError(f"journal {self.name!r}: the run field {r['key']!r} is not valid JSON "
                                   f"({err}); the journal is damaged") from None
        if not meta:
            raise JournalError(f"{self.name!r} holds no search; start one with nv.Search(..., storage=path)")
        if meta.get("format") != FORMAT:
            raise JournalError(f"{self.name!r} has journal format {meta.get('format')!r}; this nasviz reads {FORMAT}")
        missing = [k for k in _REQUIRED_RUN_KEYS if k not in meta]
        if missing:
            raise JournalError(f"journal {self.name!r} misses the run field(s) {', '.join(map(repr, missing))}; "
                               "the journal is damaged")
        return meta

    # -- asks and tells ----------------------------------------------------------------
    def _event(self, c, kind, trial, repeat, arch, parent, fidelity) -> int:
        cur = c.execute("INSERT INTO events (kind, trial, repeat, arch, parent, fidelity, time) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (kind, trial, int(repeat), arch, parent, to_json(fidelity), time.time()))
        return cur.lastrowid

    def _snapshot(self, c, seq, state) -> None:
        if state is None:
            return
        c.execute("INSERT OR REPLACE INTO snapshots (seq, state) VALUES (?, ?)", (seq, to_json(state)))
        c.execute("DELETE FROM snapshots WHERE seq != 0 AND seq < ?", (seq,))

    @_guarded
    def write_initial_state(self, state) -> None:
        """The strategy's state before its first ask (snapshot ``seq`` 0)."""
        with self._tx() as c:
            self._snapshot(c, 0, state)

    @_guarded
    def write_snapshot(self, state) -> None:
        """The strategy's state after the latest tell (kept with the latest event's ``seq``)."""
        if state is None:
            return
        with self._tx() as c:
            seq = c.execute("SELECT coalesce(max(seq), 0) FROM events WHERE kind='tell'").fetchone()[0]
            if seq:
                self._snapshot(c, seq, state)

    @_guarded
    def add_trial(self, number: int, arch: str, parent: str | None, fidelity) -> None:
        """A new candidate was asked for: its trial row (``running``) and the ask event."""
        with self._tx() as c:
            c.execute("INSERT INTO trials (number, arch, parent, fidelity, status, attempts) "
                      "VALUES (?, ?, ?, ?, 'running', 1)", (number, arch, parent, to_json(fidelity)))
            self._event(c, "ask", number, False, arch, parent, fidelity)

    @_guarded
    def restart_trial(self, number: int) -> None:
        """An interrupted candidate is evaluated again: ``running``, one more attempt."""
        with self._tx() as c:
            c.execute("UPDATE trials SET status='running', attempts=attempts+1 WHERE number=?", (number,))

    @_guarded
    def add_repeat_ask(self, number: int, arch: str, parent: str | None, fidelity) -> None:
        """The strategy asked again for a candidate still being evaluated (told when it finishes)."""
        with self._tx() as c:
            self._event(c, "ask", number, True, arch, parent, fidelity)

    @_guarded
    def add_repeat(self, number: int, arch: str, parent: str | None, fidelity, state=None) -> None:
        """The strategy asked again for a finished candidate and was told its journaled result."""
        with self._tx() as c:
            self._event(c, "ask", number, True, arch, parent, fidelity)
            seq = self._event(c, "tell", number, True, arch, parent, fidelity)
            self._snapshot(c, seq, state)

    @_guarded
    def finish_trial(self, number: int, result: Result, *, started, finished, worker, tells, state=None) -> None:
        """A candidate finished: its result, one tell event per ``(arch, parent, fidelity, repeat)``
        in ``tells`` (the strategy was told in that order), and the strategy's state after them."""
        with self._tx() as c:
            c.execute("UPDATE trials SET status=?, score=?, cost=?, error=?, metrics=?, started=?, finished=?, "
                      "worker=? WHERE number=?",
                      (result.status, None if not math.isfinite(result.score) else result.score, result.cost,
                       result.error, to_json(result.metrics), started, finished, worker, number))
            seq = None
            for arch, parent, fidelity, repeat in tells:
                seq = self._event(c, "tell", number, repeat, arch, parent, fidelity)
            if seq is not None:
                self._snapshot(c, seq, state)

    @_guarded
    def mark(self, numbers, status: str) -> None:
        """Set the status of unfinished trials (``interrupted`` when a run stops with them in flight)."""
        numbers = list(numbers)
        if not numbers:
            return
        with self._tx() as c:
            c.executemany("UPDATE trials SET status=? WHERE number=? AND status IN ('running', 'interrupted')",
                          [(status, n) for n in numbers])

    # -- reading -----------------------------------------------------------------------
    @_guarded
    def trials(self) -> list[dict]:
        """Every trial row as a dict (``fidelity`` and ``metrics`` decoded, NaN for a missing score)."""
        out = []
        for r in self._conn.execute("SELECT * FROM trials ORDER BY number"):
            d = dict(r)
            d["fidelity"] = json.loads(d["fidelity"])
            d["metrics"] = json.loads(d["metrics"]) if d["metrics"] else {}
            d["score"] = math.nan if d["score"] is None else d["score"]
            d["cost"] = 0.0 if d["cost"] is None else d["cost"]
            out.append(d)
        return out

    @_guarded
    def events(self, after: int = 0) -> list[dict]:
        """The ask and tell events with ``seq > after``, in order."""
        out = []
        for r in self._conn.execute("SELECT * FROM events WHERE seq > ? ORDER BY seq", (after,)):
            d = dict(r)
            d["fidelity"] = json.loads(d["fidelity"])
            d["repeat"] = bool(d["repeat"])
            out.append(d)
        return out

    @_guarded
    def snapshot(self, seq: int | None = None) -> tuple[int, dict] | None:
        """``(seq, state)`` of the latest snapshot (or the one at ``seq``); None if there is none."""
        if seq is None:
            row = self._conn.execute("SELECT seq, state FROM snapshots ORDER BY seq DESC LIMIT 1").fetchone()
        else:
            row = self._conn.execute("SELECT seq, state FROM snapshots WHERE seq=?", (seq,)).fetchone()
        return None if row is None else (row["seq"], json.loads(row["state"]))


def result_of(row: dict) -> Result:
    """The :class:`Result` of a finished trial row."""
    return Result(score=row["score"], cost=row["cost"], metrics=row["metrics"], status=row["status"],
                  error=row["error"])


def trial_of(row: dict, arch, parent) -> Trial:
    """The :class:`~nasviz.Trial` of a finished trial row, with its architecture and parent as given
    (rebuilt from the row's strings by the caller's space, or the strings themselves)."""
    return Trial(row["number"], arch, result_of(row), parent=parent, fidelity=row["fidelity"],
                 started=row["started"], finished=row["finished"], worker=row["worker"], attempts=row["attempts"])


def rebuild_space(meta: dict):
    """The journaled space, rebuilt from its class and keyword arguments."""
    from .spaces.base import Space

    return rebuild(meta["space"], Space)


def read_trials(path, space=None) -> dict:
    """The finished trials of the journal at ``path``, as plain data for :class:`nasviz.History`.

    The file is opened read-only (a running search may go on writing it). ``space``
    turns the journaled strings back into architectures; without it the space is
    rebuilt from the journal where it is a nasviz space, else ``arch`` stays a string.
    Returns ``{"trials", "n_repeats", "label", "meta"}``; raises :class:`JournalError`
    naming the file and the cause when it cannot be read. ``nv.History.from_storage``
    is the usual way in.
    """
    if not os.path.exists(path):
        raise JournalError(f"no journal at {os.fspath(path)!r}")
    j = Journal(path, readonly=True)
    try:
        meta = j.read_run()
        if space is None:
            try:
                space = rebuild_space(meta)
            except JournalError:
                space = None
        parse = space.from_string if space is not None else (lambda s: s)
        trials = []
        for row in j.trials():
            if row["status"] not in ("ok", "failed"):
                continue
            try:
                parent = None if row["parent"] is None else parse(row["parent"])
                trials.append(trial_of(row, parse(row["arch"]), parent))
            except NasvizError as err:
                raise JournalError(f"journal {j.name!r}: trial {row['number']} holds an architecture the space "
                                   f"does not accept ({err}); pass the space it was searched in") from None
        n_repeats = j.count_repeat_asks()
    finally:
        j.close()
    strategy = meta.get("strategy")
    label = strategy["class"].rpartition(":")[2] if isinstance(strategy, dict) and "class" in strategy else None
    return {"trials": trials, "n_repeats": n_repeats, "label": label, "meta": _public_meta(meta)}


def _public_meta(meta: dict) -> dict:
    out = {}
    for key in ("space", "strategy", "estimator"):
        if isinstance(meta.get(key), dict) and "repr" in meta[key]:
            out[key] = meta[key]["repr"]
    for key in ("seed", "budget", "budget_kind", "created"):
        if key in meta:
            out[key] = meta[key]
    return out
