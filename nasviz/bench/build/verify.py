"""Check a table against its recipe: retrain sampled cells and compare within the table's own seed noise."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ...devices import torch_threads
from .recipes import Recipe

__all__ = ["verify"]


def verify(bench, recipe: Recipe, *, cells: int = 3, seed: int = 0, epoch: int | None = None) -> list[dict]:
    """Retrain ``cells`` sampled trained cells with ``recipe`` (every seed, one at a time) and compare
    with ``bench``.

    The tolerance is the table's own seed noise. A retraining with the same seeds
    differs from the table by floating-point rounding (one network alone instead of a
    fused chunk), which training amplifies to at most about a fresh seed's difference;
    the mean over ``S`` seeds of such a retraining then differs from the table's mean
    with a standard deviation of about ``sqrt(2 / S) * sigma``. ``sigma`` is the cell's
    standard deviation over seeds in the table, or the median over the table's cells
    if that is larger (three seeds estimate one cell's noise poorly); the tolerance is
    three times that deviation plus half a validation image.
    Returns one dict per cell: ``arch``, ``table``, ``retrained``, ``tolerance``, ``ok``.
    """
    rng = np.random.default_rng(seed)
    pos = -1 if epoch is None else bench.epochs.index(epoch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        arr = np.asarray(bench.array("val_acc"))[:, :, pos]
        stds = np.nanstd(arr, axis=1, ddof=1)
    median_std = float(np.nanmedian(stds))
    held = [a for a in bench.archs() if np.isfinite(bench.query(a, "val_acc"))]
    picks = [held[int(i)] for i in rng.choice(len(held), size=min(cells, len(held)), replace=False)]
    n_val = len(recipe.data().y_val)
    data = recipe.data()
    out = []
    with torch_threads(1):
        for arch in picks:
            scores = []
            for s in recipe.seeds:
                r = recipe.estimator(s, data=data).evaluate(arch)
                scores.append(r.metrics["val_curve"][(epoch or recipe.epochs) - 1] if r.status == "ok" else math.nan)
            table = bench.query(arch, "val_acc", epoch=epoch)
            mine = float(np.nanmean(scores))
            sigma = max(float(np.nan_to_num(stds[bench.row(arch)])), median_std)
            tol = 3 * math.sqrt(2 / len(recipe.seeds)) * sigma + 0.5 / n_val
            out.append({"arch": str(arch), "table": table, "retrained": mine, "tolerance": tol,
                        "ok": abs(mine - table) <= tol})
    return out
