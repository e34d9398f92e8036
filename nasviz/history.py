"""What a search did: its trials, the best one, curves, Pareto fronts and comparisons.

A :class:`Trial` is one evaluated architecture (frozen, plain data); a
:class:`History` is the trials of one search, in trial-number order. Curves are
computed by plain-data functions that return numpy arrays (:meth:`History.incumbent`,
:func:`nasviz.comparison.compare_data`) and drawn by thin functions that take ``ax=None``
and return the matplotlib Axes (:meth:`History.plot`, :func:`nasviz.compare`).

Examples
--------
>>> import nasviz as nv
>>> space = nv.CellSpace()
>>> trials = [nv.Trial(i, space[i], nv.Result(score=s, cost=2.0))
...           for i, s in enumerate([0.5, 0.7, 0.6])]
>>> history = nv.History(trials)
>>> history.best.number
1
>>> x, best = history.incumbent()
>>> x.tolist(), best.tolist()
([1, 2, 3], [0.5, 0.7, 0.7])
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .errors import InvalidArgumentError, UnknownNameError, check_choice
from .pareto import non_dominated
from .trial import Trial

__all__ = ["History", "Trial", "pareto_values", "running_max"]

_BY = ("evaluations", "cost", "time")


class History:
    """The trials of one search, in trial-number order.

    Parameters
    ----------
    trials : iterable of Trial
        Finished trials (``status`` ``"ok"`` or ``"failed"``).
    n_repeats : int
        How many asks the search answered from already-evaluated trials.
    label : str or None
        A name for comparisons (:func:`compare` groups histories by it); the search
        sets it to the strategy's class name.
    meta : dict or None
        What ran: the reprs of space, strategy and estimator, seed, budget.

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> h = nv.History([nv.Trial(0, space[0], nv.Result(score=0.5, metrics={"params": 3})),
    ...                 nv.Trial(1, space[1], nv.Result.failed("loss became NaN")),
    ...                 nv.Trial(2, space[2], nv.Result(score=0.5, metrics={"params": 9}))])
    >>> h
    History(3 trials, 1 failed, best score 0.5 at trial 0)
    >>> [t.number for t in h.pareto()]
    [0]
    """

    def __init__(self, trials: Iterable[Trial] = (), *, n_repeats: int = 0, label: str | None = None,
                 meta: dict | None = None):
        trials = list(trials)
        for t in trials:
            if not isinstance(t, Trial):
                raise InvalidArgumentError(f"a History holds Trial objects, got {t!r}")
        self.trials = sorted(trials, key=lambda t: t.number)
        self.n_repeats = n_repeats
        self.label = label
        self.meta = dict(meta or {})

    @classmethod
    def from_storage(cls, path, space=None) -> History:
        """The finished trials of the journal at ``path`` (a file written by :class:`nasviz.Search`).

        ``space`` turns the journaled strings back into architectures; by default the
        space is rebuilt from the journal when it can be, else ``arch`` stays a string.
        """
        from .storage import read_trials

        return cls(**read_trials(path, space=space))

    # -- container -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.trials)

    def __iter__(self):
        return iter(self.trials)

    def __getitem__(self, i):
        return self.trials[i]

    def __repr__(self) -> str:
        n_failed = sum(not t.ok for t in self.trials)
        parts = [f"{len(self.trials)} trials", f"{n_failed} failed"]
        if self.n_repeats:
            parts.append(f"{self.n_repeats} repeats")
        best = self.best
        if best is not None:
            parts.append(f"best score {best.score:.4g} at trial {best.number}")
        return f"History({', '.join(parts)})"

    @property
    def ok_trials(self) -> list[Trial]:
        """The trials that succeeded."""
        return [t for t in self.trials if t.ok]

    @property
    def failed(self) -> list[Trial]:
        """The trials that failed, with their ``error``."""
        return [t for t in self.trials if not t.ok]

    @property
    def best(self) -> Trial | None:
        """The succeeded trial with the highest score (the earliest on ties); None if none succeeded."""
        best = None
        for t in self.trials:
            if t.ok and (best is None or t.score > best.score):
                best = t
        return best

    def evaluations_to(self, target: float) -> int | None:
        """Evaluations (trials, in trial order) until a score ``>= target``; None if never.

        Examples
        --------
        >>> import nasviz as nv
        >>> space = nv.CellSpace()
        >>> h = nv.History([nv.Trial(i, space[i], nv.Result(score=s)) for i, s in enumerate([0.2, 0.9, 0.7])])
        >>> h.evaluations_to(0.9), h.evaluations_to(0.95)
        (2, None)
        """
        for k, t in enumerate(self.trials, start=1):
            if t.ok and t.score >= target:
                return k
        return None

    # -- curves ----------------------------------------------------------------------
    def incumbent(self, by: str = "evaluations") -> tuple[np.ndarray, np.ndarray]:
        """The best score so far after each trial: ``(x, best)`` arrays, one entry per trial.

        Parameters
        ----------
        by : {"evaluations", "cost", "time"}
            ``"evaluations"``: x is 1, 2, ... in trial-number order. ``"cost"``: x is the
            cumulative cost (seconds, real or simulated) in trial-number order.
            ``"time"``: x is wall-clock seconds from the first start to each trial's end,
            trials in the order they finished.

        ``best`` is NaN until the first trial that succeeded; failed trials keep the
        previous value.
        """
        check_choice("by", by, _BY)
        trials = list(self.trials)
        if by == "time":
            trials = [t for t in trials if t.finished is not None]
            trials.sort(key=lambda t: (t.finished, t.number))
            t0 = min((t.started if t.started is not None else t.finished for t in trials), default=0.0)
            x = np.array([t.finished - t0 for t in trials], dtype=float)
        elif by == "cost":
            x = np.cumsum([float(t.cost) for t in trials], dtype=float)
        else:
            x = np.arange(1, len(trials) + 1)
        scores = np.array([t.score if t.ok else np.nan for t in trials], dtype=float)
        return x, running_max(scores)

    def to_dataframe(self):
        """A pandas DataFrame, one row per trial.

        Columns: number, arch, score, status, error, cost, parent, fidelity, started,
        finished, worker, attempts; then every scalar metric under its own name (a
        metric whose name is taken gets the prefix ``metrics.``).
        """
        import pandas as pd

        base = ["number", "arch", "score", "status", "error", "cost", "parent", "fidelity",
                "started", "finished", "worker", "attempts"]
        rows = []
        for t in self.trials:
            row = {"number": t.number, "arch": str(t.arch), "score": t.score, "status": t.status,
                   "error": t.error, "cost": t.cost, "parent": None if t.parent is None else str(t.parent),
                   "fidelity": t.fidelity, "started": t.started, "finished": t.finished,
                   "worker": t.worker, "attempts": t.attempts}
            for k, v in t.metrics.items():
                if isinstance(v, (bool, int, float, str, np.integer, np.floating)) or v is None:
                    row[f"metrics.{k}" if k in base else k] = v
            rows.append(row)
        df = pd.DataFrame(rows)
        if not rows:
            df = pd.DataFrame(columns=base)
        return df

    def pareto(self, objectives=("score", "params"), maximize=(True, False)) -> list[Trial]:
        """The non-dominated succeeded trials, in trial-number order.

        Parameters
        ----------
        objectives : sequence of str
            ``"score"``, ``"cost"`` or the name of a metric (e.g. ``"params"``, ``"flops"``).
        maximize : sequence of bool
            One per objective: True where larger is better.

        A trial is dominated when another is at least as good in every objective and
        better in one. Trials missing an objective, or with a non-finite value, are
        left out.
        """
        objectives, maximize = tuple(objectives), tuple(maximize)
        if not objectives or len(objectives) != len(maximize):
            raise InvalidArgumentError(
                f"give one maximize flag per objective: objectives={objectives!r}, maximize={maximize!r}")
        values = pareto_values(self.ok_trials, objectives)
        keep = []
        points = []
        for t, v in values:
            keep.append(t)
            points.append([x if up else -x for x, up in zip(v, maximize)])
        mask = non_dominated(np.array(points, dtype=float).reshape(len(points), len(objectives)))
        return [t for t, m in zip(keep, mask) if m]

    # -- drawing ---------------------------------------------------------------------
    def plot(self, ax=None, by: str = "evaluations", optimum: float | None = None):
        """Best score so far (a step line) over every evaluation (dots); failures as red crosses.

        Parameters
        ----------
        ax : matplotlib Axes or None
            Where to draw; the current Axes by default.
        by : {"evaluations", "cost", "time"}
            The x axis (see :meth:`incumbent`).
        optimum : float or None
            Draws the best achievable score as a dashed line.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        x, best = self.incumbent(by=by)
        if ax is None:
            ax = plt.gca()
        trials = list(self.trials)
        if by == "time":
            trials = sorted((t for t in trials if t.finished is not None), key=lambda t: (t.finished, t.number))
        ok = np.array([t.ok for t in trials], dtype=bool)
        scores = np.array([t.score if t.ok else np.nan for t in trials], dtype=float)
        if ok.any():
            ax.scatter(x[ok], scores[ok], s=14, color="tab:blue", alpha=0.5, label="evaluations", zorder=2)
            ax.step(x, best, where="post", color="tab:orange", lw=2, label="best so far", zorder=3)
        if (~ok).any():
            floor = np.nanmin(scores) if ok.any() else 0.0
            ax.scatter(x[~ok], np.full(int((~ok).sum()), floor), marker="x", color="tab:red",
                       label="failed", zorder=4)
        if optimum is not None:
            ax.axhline(optimum, ls="--", color="0.4", lw=1, label="optimum")
        ax.set_xlabel({"evaluations": "evaluations", "cost": "cost (s)", "time": "wall time (s)"}[by])
        ax.set_ylabel("score")
        if self.label:
            ax.set_title(self.label)
        if len(trials):
            ax.legend(loc="lower right", fontsize="small")
        return ax


def running_max(scores: np.ndarray) -> np.ndarray:
    """The best score so far at each position; NaN until the first finite score (failures keep the last)."""
    out = np.empty_like(scores, dtype=float)
    best = np.nan
    for i, s in enumerate(scores):
        if not np.isnan(s) and (np.isnan(best) or s > best):
            best = s
        out[i] = best
    return out


def pareto_values(trials, objectives) -> list[tuple[Trial, tuple[float, ...]]]:
    """``(trial, values)`` for the trials that have every objective finite."""
    out = []
    for t in trials:
        vals = []
        for name in objectives:
            if name == "score":
                v = t.score
            elif name == "cost":
                v = t.cost
            elif name in t.metrics:
                v = t.metrics[name]
            else:
                available = ["score", "cost", *sorted({k for tt in trials for k in tt.metrics})]
                if not any(name in tt.metrics for tt in trials):
                    raise UnknownNameError(f"unknown objective {name!r}; accepted: {', '.join(map(repr, available))}")
                vals = None
                break
            try:
                v = float(v)
            except (TypeError, ValueError):
                raise InvalidArgumentError(f"objective {name!r} of trial {t.number} is not a number: {v!r}") from None
            if not math.isfinite(v):
                vals = None
                break
            vals.append(v)
        if vals is not None:
            out.append((t, tuple(vals)))
    return out

