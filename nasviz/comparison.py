"""Comparing searches: mean best-so-far curves with confidence bands, as data and as a figure.

:func:`compare_data` computes the curves (plain numpy arrays, tested by equality);
:func:`compare` draws them (``ax=None``, returns the Axes). Both take one
:class:`~nasviz.History`, a list of them, or ``{label: [histories]}`` (several seeds
of each strategy).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .errors import InvalidArgumentError, check_choice
from .history import _BY, History

__all__ = ["compare", "compare_data"]


def _groups(histories, labels) -> dict[str, list[History]]:
    if isinstance(histories, History):
        histories = [histories]
    if isinstance(histories, Mapping):
        if labels is not None:
            raise InvalidArgumentError("labels must be None when histories is a dict (its keys are the labels)")
        groups = {str(k): list(v) if not isinstance(v, History) else [v] for k, v in histories.items()}
    else:
        histories = list(histories)
        if labels is None:
            labels = [(h.label if isinstance(h, History) else None) or "search" for h in histories]
        elif isinstance(labels, str):
            labels = [labels] * len(histories)
        labels = list(labels)
        if len(labels) != len(histories):
            raise InvalidArgumentError(
                f"labels must have one entry per history ({len(histories)}), got {len(labels)}")
        groups = {}
        for label, h in zip(labels, histories):
            groups.setdefault(str(label), []).append(h)
    for label, hs in groups.items():
        if not hs:
            raise InvalidArgumentError(f"no histories for label {label!r}")
        for h in hs:
            if not isinstance(h, History):
                raise InvalidArgumentError(f"compare takes History objects, got {h!r} under {label!r}")
    return groups


def compare_data(histories, *, optimum: float | None = None, labels=None, by: str = "evaluations",
                 ci: float | None = 0.95) -> dict[str, dict[str, np.ndarray]]:
    """Mean regret over seeds, with a confidence band, per label: plain data for :func:`compare`.

    Parameters
    ----------
    histories : dict of label -> list of History, or a list of History
        Runs to compare. With a list, ``labels`` (one per history) groups them; without
        labels, each history's own ``label`` does.
    optimum : float or None
        The best achievable score. Regret is ``optimum - best so far``; without an
        optimum it is ``-best so far`` (lower is still better).
    by : {"evaluations", "cost", "time"}
        The x axis, as in :meth:`History.incumbent`.
    ci : float or None
        Confidence level of the band: mean +- t-quantile * standard error over runs.

    Returns
    -------
    dict
        ``label -> {"x", "mean", "low", "high", "n"}``: arrays on a grid that is the
        union of the runs' x values. Each run's best-so-far is a step function (NaN
        before its first success; after its last trial its final value holds);
        ``n`` counts the runs with a value at each x. Where ``n < 2`` the band
        collapses to the mean; with ``ci=None`` ``low`` and ``high`` are None.

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> def run(scores):
    ...     return nv.History([nv.Trial(i, space[i], nv.Result(score=s)) for i, s in enumerate(scores)])
    >>> d = compare_data({"a": [run([0.5, 0.9]), run([0.7, 0.8])]}, optimum=1.0)
    >>> d["a"]["x"].tolist(), d["a"]["mean"].round(3).tolist()
    ([1, 2], [0.4, 0.15])
    """
    check_choice("by", by, _BY)
    if ci is not None and not (isinstance(ci, (int, float)) and 0 < ci < 1):
        raise InvalidArgumentError(f"ci must be a level in (0, 1) such as 0.95, or None; got {ci!r}")
    from scipy import stats

    out = {}
    for label, hs in _groups(histories, labels).items():
        curves = [h.incumbent(by=by) for h in hs]
        grid = np.unique(np.concatenate([x for x, _ in curves])) if curves else np.array([])
        if by == "evaluations":
            grid = grid.astype(int)
        rows = []
        for x, best in curves:
            regret = (optimum - best) if optimum is not None else -best
            if len(x) == 0:
                rows.append(np.full(len(grid), np.nan))
                continue
            idx = np.searchsorted(x, grid, side="right") - 1
            rows.append(np.where(idx >= 0, regret[np.clip(idx, 0, None)], np.nan))
        values = np.array(rows, dtype=float).reshape(len(rows), len(grid))
        n = np.sum(~np.isnan(values), axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            total = np.nansum(values, axis=0)
            mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
            if ci is None:
                low = high = None
            else:
                dev = np.where(np.isnan(values), 0.0, values - mean)
                sd = np.sqrt(np.sum(dev ** 2, axis=0) / np.maximum(n - 1, 1))
                t = stats.t.ppf((1 + ci) / 2, np.maximum(n - 1, 1))
                half = np.where(n >= 2, t * sd / np.sqrt(np.maximum(n, 1)), 0.0)
                low, high = mean - half, mean + half
        out[label] = {"x": grid, "mean": mean, "low": low, "high": high, "n": n}
    return out


def compare(histories, *, optimum: float | None = None, labels=None, by: str = "evaluations", ax=None,
            ci: float | None = 0.95):
    """Draw mean regret with a confidence band over seeds, one line per label.

    Takes the arguments of :func:`compare_data` (which computes what is drawn) and
    ``ax``; returns the matplotlib Axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> h = nv.History([nv.Trial(i, space[i], nv.Result(score=s)) for i, s in enumerate([0.5, 0.9])])
    >>> ax = nv.compare({"random": [h, h]}, optimum=1.0)
    >>> ax.get_ylabel()
    'regret (optimum - best so far)'
    """
    import matplotlib.pyplot as plt

    data = compare_data(histories, optimum=optimum, labels=labels, by=by, ci=ci)
    if ax is None:
        ax = plt.gca()
    for label, d in data.items():
        (line,) = ax.step(d["x"], d["mean"], where="post", lw=2, label=f"{label} (n={int(d['n'].max(initial=0))})")
        if d["low"] is not None:
            ax.fill_between(d["x"], d["low"], d["high"], step="post", alpha=0.2, color=line.get_color(), lw=0)
    ax.set_xlabel({"evaluations": "evaluations", "cost": "cost (s)", "time": "wall time (s)"}[by])
    ax.set_ylabel("regret (optimum - best so far)" if optimum is not None else "- best score so far")
    if data:
        ax.legend(fontsize="small")
    return ax
