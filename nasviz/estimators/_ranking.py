"""Population proxies: a candidate's network proxies turned into a rank against other cells.

Rank aggregation (Abdelfattah et al.'s vote, AZ-NAS's sum of log-ranks) and SWAP's size
regularisation on a relative scale need a *population* to rank in. Two are offered, with
one formula for both (numpy only, no torch):

- ``population`` given (the estimator's fixed, seeded *reference sample*): each candidate is
  ranked against the same cells, so its score is defined on its own, does not depend on
  which candidates came before or come with it, and compares across calls. This is what
  ``evaluate``, ``evaluate_many`` and a Search use.
- ``population=None``: the candidates are ranked among themselves (the papers' definition,
  over the evaluated set): only meaningful for a batch, such as a benchmark's sample.

Scores:

- ``vote``: the share of the population that the candidate beats, where it beats a cell when
  at least half of the members score it strictly higher (Abdelfattah et al.'s majority vote
  of synflow, jacob_cov and snip, decided pair by pair; Copeland's rule turns those pairwise
  votes into one score). Against itself (``population=None``) a cell is not counted.
- ``ensemble``: the sum over the members of log(rank / (R + 1)), rank the candidate's average
  rank (ascending: the best is R + 1) among the R population cells and itself; among the
  candidates themselves, log(rank / n) with the ranks of the n candidates: AZ-NAS's
  aggregation (``np.log(rankdata(scores) / n)`` summed over its proxies).
- ``swap_reg``: ``swap * exp(-(s - SIZE_MU)**2 / SIZE_SIGMA)``, s the parameter count divided
  by the largest of the population's.

A candidate is degenerate for an aggregate when every member that can be degenerate is (its
output does not depend on its input), and gets the aggregate's floor: 0 for ``vote`` and
``swap_reg``, ``M * log(1 / (R + 1))`` (last on every member) for ``ensemble``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["POPULATION_PROXIES", "SIZE_MU", "SIZE_SIGMA", "aggregate", "members"]

#: population proxy -> the network proxies it is built on
POPULATION_PROXIES = {
    "swap_reg": ("swap", "params"),
    "vote": ("synflow", "jacob_cov", "snip"),
    "ensemble": ("meco", "zico", "swap", "flops"),
}
#: SWAP's regularisation on the relative size s (1 = the population's largest network)
SIZE_MU = 1.0
SIZE_SIGMA = 1.0

_SIZE = ("params", "flops")  # never degenerate


def members(names) -> list:
    """The network proxies that ``names`` need, in order of first appearance.

    Examples
    --------
    >>> members(["snip", "vote", "params"])
    ['snip', 'synflow', 'jacob_cov', 'params']
    """
    out = []
    for name in names:
        for m in POPULATION_PROXIES.get(name, (name,)):
            if m not in out:
                out.append(m)
    return out


def aggregate(name, values, degenerate, population=None) -> tuple[np.ndarray, np.ndarray]:
    """(scores, degenerate flags) of population proxy ``name`` for every candidate.

    ``values`` and ``degenerate`` map each member to an array over the candidates; the
    ``population`` maps each member to an array over the reference cells, or is None to
    rank the candidates among themselves.

    Examples
    --------
    >>> v = {"synflow": np.array([3.0]), "jacob_cov": np.array([0.0]), "snip": np.array([2.0])}
    >>> d = {k: np.array([False]) for k in v}
    >>> ref = {"synflow": np.array([1.0, 4.0]), "jacob_cov": np.array([1.0, 1.0]), "snip": np.array([1.0, 1.0])}
    >>> aggregate("vote", v, d, ref)[0]    # beats the first cell (synflow, snip), not the second (snip only)
    array([0.5])
    """
    parts = POPULATION_PROXIES[name]
    n = len(values[parts[0]])
    flagged = np.ones(n, dtype=bool)
    for m in parts:
        if m not in _SIZE:
            flagged &= np.asarray(degenerate[m], dtype=bool)
    if name == "swap_reg":
        scores = _swap_reg(values, population)
        return np.where(flagged, 0.0, scores), flagged
    V = np.column_stack([np.asarray(values[m], dtype=float) for m in parts])
    R = None if population is None else np.column_stack([np.asarray(population[m], dtype=float) for m in parts])
    if name == "vote":
        return np.where(flagged, 0.0, _vote(V, R)), flagged
    size = n if R is None else len(R) + 1
    return np.where(flagged, len(parts) * math.log(1.0 / size), _log_ranks(V, R)), flagged


def _swap_reg(values, population) -> np.ndarray:
    params = np.asarray(values["params"], dtype=float)
    unit = float(np.max(params if population is None else population["params"]))
    s = params / unit
    return np.asarray(values["swap"], dtype=float) * np.exp(-((s - SIZE_MU) ** 2) / SIZE_SIGMA)


def _vote(V, R) -> np.ndarray:
    """Share of the population each candidate beats by majority vote (``R`` None: of the other candidates)."""
    other = V if R is None else R
    ahead = (V[:, None, :] > other[None, :, :]).sum(axis=2)  # (candidates, population): members that prefer it
    beats = ahead >= V.shape[1] / 2
    if R is None:
        np.fill_diagonal(beats, False)
        return beats.sum(axis=1) / max(len(V) - 1, 1)
    return beats.mean(axis=1)


def _log_ranks(V, R) -> np.ndarray:
    """Sum over members of log(average ascending rank / population size), the candidate included."""
    total = np.zeros(len(V))
    for k in range(V.shape[1]):
        if R is None:
            from scipy.stats import rankdata

            total += np.log(rankdata(V[:, k]) / len(V))
        else:
            below = (R[None, :, k] < V[:, None, k]).sum(axis=1)
            tied = (R[None, :, k] == V[:, None, k]).sum(axis=1)
            total += np.log((below + 1 + tied / 2) / (len(R) + 1))
    return total
