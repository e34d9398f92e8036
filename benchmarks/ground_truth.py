"""How good is a ground-truth table that nasviz builds: reliability, spread, the fidelity ladder, cost.

For a table of ``nasviz.bench.build.recipes.RECIPES`` (default ``shifted201``), read from its
build journal (finished or not: the classes with every seed count) or from a table file, over
the *connected* canonical classes (one value per class; cells whose output ignores the input
are left out):

- **reliability**: mean Spearman between two single runs (seeds), and the *measured* split-half
  Spearman: the mean of the first half of the seeds against the mean of the other half (goal
  >= 0.85 for ``shifted201``);
- **saturation**: median and interquartile range of the mean final validation accuracy (goal:
  median <= 0.90, IQR >= 5 points);
- the same over functionally distinct classes: NAS-Bench-201's classes keep zero terms, so cells that
  differ only in what they add zero to are separate classes, though they compute one function (and,
  with parameter-free differences, train to identical numbers); ``space.canonical(arch,
  zeros="drop")`` merges them, and one class per function is kept;
- **the ladder** (``--ladder N``): ``N`` random connected classes of the table are trained
  again with a seed the table does not hold (``--proxy-seed``), once per proxy: k epochs of
  training (its own k-epoch schedule), the table's full recipe, lower resolution and less data
  at the full epochs; each proxy's Spearman with the table's truth (the mean of all its seeds:
  runs other than the proxy's own) and its measured seconds per cell (one CPU thread, fused
  chunks as the build trains them).

Usage::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/ground_truth.py                       # shifted201's journal
    python benchmarks/ground_truth.py --seeds 0 1 2 3 4 5     # the classes complete in seeds 0-5 only
    OMP_WAIT_POLICY=PASSIVE python benchmarks/ground_truth.py --ladder 200 --workers 2
    python benchmarks/ground_truth.py --name digits201 --table nasviz/bench/data/digits201.npz

It prints the figures, and ``--json PATH`` writes them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time

import numpy as np


def spearman(a, b) -> float:
    from scipy.stats import spearmanr

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    return float(spearmanr(a[ok], b[ok]).statistic) if ok.sum() > 2 else float("nan")


def reliability(final: np.ndarray) -> dict:
    """Figures of ``final`` (classes x runs) accuracies: single-run and split-half Spearman, median, IQR."""
    runs = final.shape[1]
    single = float(np.mean([spearman(final[:, i], final[:, j]) for i, j in itertools.combinations(range(runs), 2)]))
    h = runs // 2
    half = spearman(final[:, :h].mean(1), final[:, h:2 * h].mean(1)) if h else float("nan")
    mean = final.mean(1)
    q1, med, q3 = np.percentile(mean, [25, 50, 75])
    return {"classes": int(final.shape[0]), "runs": int(runs), "single": single, "half": half, "half_runs": h,
            "median": float(med), "iqr": float(q3 - q1), "q1": float(q1), "q3": float(q3)}


def connected_classes(bench):
    """``(class representatives held, their rows)`` for the table's connected canonical classes."""
    space = bench.space
    class_of, reps = space.canonical_classes()
    held = np.array([space.index(a) for a in bench.archs()])
    rows = np.flatnonzero(held == reps[class_of[held]])
    keep = [r for r in rows if space.is_connected(space[int(held[r])])]
    return held[keep], np.array(keep, dtype=int)


def _proxies(recipe, full_epochs: int) -> dict:
    """name -> (Training changes, data changes) of each proxy on the ladder."""
    res = recipe.resolution
    low = max(2, res // 2)
    out = {f"{k} epoch{'s' if k > 1 else ''}": ({"epochs": k}, {}) for k in (1, 2, 3) if k < full_epochs}
    out[f"{full_epochs} epochs (full)"] = ({}, {})
    out[f"{low}x{low} pixels, {full_epochs} epochs"] = ({}, {"resolution": low})
    out[f"{low}x{low} pixels, 2 epochs"] = ({"epochs": 2}, {"resolution": low})
    out[f"25% data, {full_epochs} epochs"] = ({}, {"subset": 0.25})
    return out


_CACHE: dict = {}


def _train(job):
    name, proxy, seed, cells = job
    import torch

    import nasviz as nv
    from nasviz.bench.build.recipes import get_recipe

    torch.set_num_threads(1)
    recipe = get_recipe(name)
    changes, data_changes = _proxies(recipe, recipe.epochs)[proxy]
    key = (name, json.dumps(data_changes, sort_keys=True))
    if key not in _CACHE:
        _CACHE[key] = recipe.data(**data_changes)
    space = nv.CellSpace()
    est = recipe.estimator(seed, data=_CACHE[key], **changes)
    t = time.perf_counter()
    res = est.evaluate_many([space[int(i)] for i in cells])
    wall = time.perf_counter() - t
    return proxy, list(cells), [r.score if r.status == "ok" else float("nan") for r in res], wall


def ladder(name: str, cells, truth: dict, *, seed: int, workers: int) -> list[dict]:
    """Train every proxy on ``cells`` (chunks of the recipe's size) and rank them against ``truth``."""
    import multiprocessing as mp

    from nasviz.bench.build.recipes import get_recipe

    recipe = get_recipe(name)
    proxies = _proxies(recipe, recipe.epochs)
    chunks = [cells[i:i + recipe.chunk] for i in range(0, len(cells), recipe.chunk)]
    jobs = [(name, p, seed, c) for p in proxies for c in chunks]
    scores = {p: {} for p in proxies}
    wall = dict.fromkeys(proxies, 0.0)
    with mp.get_context("spawn").Pool(workers) as pool:
        for proxy, cs, ss, w in pool.imap_unordered(_train, jobs):
            scores[proxy].update(zip(cs, ss))
            wall[proxy] += w
    rows = []
    t = np.array([truth[c] for c in cells])
    for p in proxies:
        s = np.array([scores[p][c] for c in cells])
        rows.append({"proxy": p, "spearman": spearman(s, t), "seconds_per_cell": wall[p] / len(cells)})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="shifted201", help="the table's recipe name (default shifted201)")
    parser.add_argument("--journal", default=None, help="its build journal (default the table's own)")
    parser.add_argument("--table", default=None, help="a table file instead of the journal")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, metavar="S",
                        help="with the journal: these seeds only (default the recipe's), e.g. 0 1 2 3 4 5")
    parser.add_argument("--ladder", type=int, default=0, help="train the proxies on this many classes")
    parser.add_argument("--proxy-seed", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="chooses the ladder's classes")
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import nasviz as nv
    from nasviz.bench.build import journal_table

    if args.table:
        bench = nv.bench.load(args.table)
    else:
        bench = journal_table(args.name, journal=args.journal, partial=True, seeds=args.seeds)
    cells, rows = connected_classes(bench)
    final = np.asarray(bench.array("val_acc"))[rows, :, -1]
    complete = np.isfinite(final).all(1)
    cells, rows, final = cells[complete], rows[complete], final[complete]
    fig = {"table": args.name, **reliability(final)}
    n_classes = sum(bench.space.is_connected(bench.space[int(i)]) for i in bench.space.canonical_classes()[1])
    print(f"{args.name}: {fig['classes']:,} of {n_classes:,} connected canonical classes with all {fig['runs']} "
          f"runs (seeds {list(bench.seeds)})")
    print(f"  reliability: single run vs single run Spearman {fig['single']:.3f} (mean over pairs); split-half "
          f"(mean of {fig['half_runs']} runs vs mean of the other {fig['half_runs']}) {fig['half']:.3f}")
    print(f"  spread: median {100 * fig['median']:.1f}%, interquartile range {100 * fig['q1']:.1f}-"
          f"{100 * fig['q3']:.1f}% ({100 * fig['iqr']:.1f} points)")
    # classes that differ only in what they add zero to compute one function (and often train alike): the same
    # figures over one class per function, the first in the table's order
    first = {}
    for k, cell in enumerate(cells.tolist()):
        first.setdefault(bench.space.canonical(bench.space[int(cell)], zeros="drop"), k)
    distinct = reliability(final[sorted(first.values())])
    fig["zeros_dropped"] = distinct
    print(f"  over {distinct['classes']:,} functionally distinct classes (space.canonical(arch, zeros='drop')): "
          f"single run {distinct['single']:.3f}, split-half {distinct['half']:.3f}, median "
          f"{100 * distinct['median']:.1f}%, IQR {100 * distinct['iqr']:.1f} points")
    if args.ladder:
        rng = np.random.default_rng(args.seed)
        pick = np.sort(rng.choice(len(cells), size=min(args.ladder, len(cells)), replace=False))
        truth = dict(zip(cells[pick].tolist(), final[pick].mean(1).tolist()))
        table = ladder(args.name, cells[pick].tolist(), truth, seed=args.proxy_seed, workers=args.workers)
        fig["ladder"] = table
        print(f"  ladder: {len(pick)} classes trained again with seed {args.proxy_seed}, Spearman with the mean "
              f"of the table's {fig['runs']} runs (load {os.getloadavg()[0]:.1f}):")
        for row in table:
            print(f"    {row['proxy']:>26}: Spearman {row['spearman']:.3f}, {row['seconds_per_cell']:.2f} s per cell")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(fig, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
