"""Does this choice matter? Matched-pair effects of single-setting changes in a layer-chain table.

In a table over a :class:`~nasviz.MacroSpace`, two members that differ in one setting
only -- one layer's kernel 3 instead of 5, the same chain with one more layer, the same
chain with a hidden fully connected layer -- form a *matched pair*: everything else is
the same, so the difference of their table values is the effect of that one change on
that one architecture. :func:`matched_pairs` finds every such pair through the space's
own structure (each member's :class:`~nasviz.spaces.MacroLayer` records with one field
changed, looked up among the table's members); :func:`decision_effects` averages the
differences over all pairs of each change, with a bootstrap confidence interval that
resamples the base architectures (pairs that share a base are not independent).

The changes, each from a space's first choice of a setting (the baseline) to each of
its other choices:

==============  ===========================================================================
decision        a pair is
==============  ===========================================================================
op, filters,    one layer's setting changed (``op``: the new layer keeps the settings both
kernel,         ops have, e.g. ``conv(8,k3,s1,relu,d0.0)`` -> ``max_pool(k3,s1)``); a member
stride,         with two such layers gives two pairs
activation,
dropout
depth           ``d`` -> ``d + 1``: the same chain with one more layer (any that fits) at its end
fc layers       ``d`` -> ``d + 1``: the same chain and head with one more hidden fully connected
                layer (of any width) at the end of the head
fc units        one hidden fully connected layer's units changed
==============  ===========================================================================

A change that leads out of the space (a kernel that no longer fits its feature map) or
out of the table (a partial table) gives no pair.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..errors import InvalidArgumentError, check_choice, check_positive_int
from ..spaces.macro import LAYER_FIELDS, MacroSpace
from ..validation import check_seed

__all__ = ["MatchedPairs", "decision_effects", "matched_pairs"]

#: The columns of :func:`decision_effects`' table, in order.
COLUMNS = ("decision", "from", "to", "effect", "low", "high", "pairs", "bases")


class MatchedPairs(NamedTuple):
    """The pairs of one change: table rows of each base member and of its changed twin."""

    decision: str
    before: object
    after: object
    base: np.ndarray
    changed: np.ndarray


def _check_table(bench) -> MacroSpace:
    space = getattr(bench, "space", None)
    if not callable(getattr(bench, "query_many", None)) or space is None:
        raise InvalidArgumentError(f"bench must be a nv.bench.Benchmark over a nv.MacroSpace, got {bench!r}")
    if not isinstance(space, MacroSpace):
        raise InvalidArgumentError(
            f"decision effects need a table over a layer-chain space (nv.MacroSpace); table {bench.name!r} is over "
            f"{space!r}. Pass a MacroSpace table, e.g. one built with 'python -m nasviz.bench build shifted-layers'")
    return space


def _swaps(vocabulary: list, field: str, before, after) -> dict:
    """For each layer whose ``field`` is ``before``: the layers with ``field`` ``after`` that agree with it in
    every other setting both have (for ``op``, the new op's own settings may take any value)."""
    others = [g for g in LAYER_FIELDS if g != field]
    out = {}
    for old in vocabulary:
        if getattr(old, field) != before:
            continue
        out[old] = [new for new in vocabulary if getattr(new, field) == after and all(
            getattr(old, g) == getattr(new, g) for g in others
            if getattr(old, g) is not None and getattr(new, g) is not None)]
    return out


def matched_pairs(bench) -> list[MatchedPairs]:
    """Every single-setting change of a MacroSpace table with its matched pairs (rows of ``bench``).

    Returns one :class:`MatchedPairs` per change, in the order of the module's table
    (``op``, ``filters``, ``kernel``, ``stride``, ``activation``, ``dropout``, then
    ``depth``, ``fc layers``, ``fc units``); settings with one choice give none.
    ``base[k]`` and ``changed[k]`` are the rows (:meth:`Benchmark.row`) of the two
    members of pair ``k``.

    Examples
    --------
    >>> import numpy as np, nasviz as nv
    >>> space = nv.MacroSpace(max_layers=1, ops=("conv",), filters=(8,), kernel_sizes=(3, 5), strides=(1,),
    ...                       activations=("relu",), dropouts=(0.0,))
    >>> bench = nv.bench.Benchmark("tiny", space, {"acc": np.array([0.5, 0.7])})
    >>> [(p.decision, p.before, p.after, p.base.tolist(), p.changed.tolist()) for p in matched_pairs(bench)]
    [('kernel', 3, 5, [0], [1])]
    """
    space = _check_table(bench)
    archs = bench.archs()
    row_of = {(a.layers, a.fc): r for r, a in enumerate(archs)}
    choices = {d.name: tuple(d.choices) for d in space.decisions}
    vocabulary = list(dict.fromkeys(layer for a in archs for layer in a.layers))
    found = []

    def pairs_of(decision, before, after, twins):
        base, changed = [], []
        for r, a in enumerate(archs):
            for key in twins(a):
                c = row_of.get(key)
                if c is not None:
                    base.append(r)
                    changed.append(c)
        found.append(MatchedPairs(decision, before, after, np.array(base, dtype=np.int64),
                                  np.array(changed, dtype=np.int64)))

    for field in LAYER_FIELDS:
        options = choices[f"layer 1 {field}"]
        for after in options[1:]:
            swaps = _swaps(vocabulary, field, options[0], after)
            pairs_of(field, options[0], after, lambda a, swaps=swaps: [
                (a.layers[:i] + (new,) + a.layers[i + 1:], a.fc)
                for i, old in enumerate(a.layers) for new in swaps.get(old, ())])
    depths = choices["depth"]
    for d in depths[:-1]:
        pairs_of("depth", d, d + 1, lambda a, d=d: [(a.layers + (new,), a.fc) for new in vocabulary]
                 if a.depth == d else [])
    if "fc depth" in choices:
        for d in choices["fc depth"][:-1]:
            units = choices[f"fc {d + 1} units"]
            pairs_of("fc layers", d, d + 1, lambda a, d=d, units=units: [(a.layers, a.fc + (u,)) for u in units]
                     if len(a.fc) == d else [])
        options = choices["fc 1 units"]
        for after in options[1:]:
            pairs_of("fc units", options[0], after, lambda a, before=options[0], after=after: [
                (a.layers, a.fc[:j] + (after,) + a.fc[j + 1:]) for j, u in enumerate(a.fc) if u == before])
    return found


def decision_effects(bench, metric: str | None = None, *, confidence: float = 0.95, seed: int = 0,
                     epoch: int | None = None, resamples: int = 2000):
    """How much each single-setting change moves a MacroSpace table's values: matched-pair effects with
    bootstrap intervals.

    For each change (see the module's table: each setting from the space's first choice
    to each other, one more layer, one more hidden fully connected layer, other units),
    the effect is the mean over all its matched pairs (:func:`matched_pairs`) of
    ``truth(changed) - truth(base)``, ``truth`` being the table's ``metric`` (mean over
    seeds, at ``epoch``). The interval is a percentile bootstrap that resamples the base
    architectures with replacement (each with all its pairs), ``resamples`` times.

    Parameters
    ----------
    bench : Benchmark
        A table over a :class:`~nasviz.MacroSpace` (it may hold part of the space: pairs
        need both members in the table).
    metric : str, optional
        One of ``bench.metrics`` (default: its default metric).
    confidence : float
        Coverage of the interval, in ``(0, 1)``.
    seed : int
        Seeds the bootstrap (``numpy.random.default_rng(seed)``, one spawned stream per change).
    epoch : int, optional
        The epoch to read (default: the last).
    resamples : int
        Bootstrap resamples per change.

    Returns
    -------
    pandas.DataFrame
        One row per change, columns ``decision``, ``from``, ``to`` (the settings as the
        space names them), ``effect``, ``low``, ``high`` (the interval), ``pairs`` (matched
        pairs with both values present) and ``bases`` (distinct base architectures among
        them). A change with no pair has NaN effect and interval. ``df.attrs`` holds the
        table's name, the metric, the confidence, the seed and the resamples.

    Examples
    --------
    >>> import numpy as np, nasviz as nv
    >>> space = nv.MacroSpace(max_layers=2, ops=("conv", "max_pool"), filters=(8,), kernel_sizes=(3, 5),
    ...                       strides=(1,), activations=("relu",), dropouts=(0.0,))
    >>> kernel5 = [sum(layer.kernel == 5 for layer in a.layers) for a in space.enumerate()]
    >>> noise = np.random.default_rng(0).normal(0, 0.01, len(space))
    >>> bench = nv.bench.Benchmark("toy", space, {"acc": 0.5 + 0.04 * np.array(kernel5) + noise})
    >>> df = nv.bench.decision_effects(bench, seed=0)
    >>> df[["decision", "from", "to", "pairs"]].values.tolist()
    [['op', 'conv', 'max_pool', 18], ['kernel', 3, 5, 18], ['depth', 1, 2, 16]]
    >>> row = df.iloc[1]
    >>> bool(row.low < 0.04 < row.high), round(float(row.effect), 2)
    (True, 0.04)
    """
    space = _check_table(bench)
    metric = bench.default_metric if metric is None else check_choice("metric", metric, bench.metrics)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise InvalidArgumentError(f"confidence must be a number in (0, 1), e.g. 0.95, got {confidence!r}")
    check_seed("seed", seed, allow_none=False)
    resamples = check_positive_int("resamples", resamples)
    bench.check_epoch(epoch)
    truth = bench.query_many(bench.archs(), metric, epoch=epoch)
    changes = matched_pairs(bench)
    streams = np.random.default_rng(seed).spawn(len(changes))
    rows = [(c.decision, c.before, c.after,
             *_effect(truth[c.changed] - truth[c.base], c.base, confidence, resamples, rng))
            for c, rng in zip(changes, streams)]
    import pandas as pd

    df = pd.DataFrame(rows, columns=list(COLUMNS))
    df.attrs.update(table=bench.name, metric=metric, confidence=float(confidence), seed=seed, resamples=resamples,
                    space=repr(space))
    return df


def _effect(diffs: np.ndarray, bases: np.ndarray, confidence: float, resamples: int, rng):
    """``(effect, low, high, pairs, bases)`` of one change from its pairs' differences and base rows."""
    keep = np.isfinite(diffs)
    diffs, bases = diffs[keep], bases[keep]
    if not len(diffs):
        return math.nan, math.nan, math.nan, 0, 0
    _, group = np.unique(bases, return_inverse=True)
    sums, counts = np.bincount(group, weights=diffs), np.bincount(group).astype(np.float64)
    n = len(sums)
    effect = float(diffs.mean())
    boot = np.empty(resamples)
    block = max(1, 2**20 // n)  # resamples drawn at once: about a million indices
    for s in range(0, resamples, block):
        pick = rng.integers(0, n, size=(min(block, resamples - s), n))
        boot[s:s + len(pick)] = sums[pick].sum(axis=1) / counts[pick].sum(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(boot, [tail, 1 - tail])
    return effect, float(low), float(high), len(diffs), n
