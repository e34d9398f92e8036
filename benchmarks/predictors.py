"""Learned predictors: rank correlation with the truth of held-out cells, against the number of training cells.

For each table, a seeded held-out set of ``--test`` cells is fixed; for each seed, the training cells are the
first 10, 20, 50, 100, 200 (``--sizes``) of a seeded draw from the other cells, and
``nv.estimators.Predictor(model=..., encoding="path", seed=seed)`` is fitted on them and ranks the held-out
set. Printed per table, model and feature set: Spearman and Kendall (``scipy.stats``) of the predictions
with the table's truth, mean ± standard deviation over ``--seeds`` seeds, and the seconds per fit and
prediction of the held-out set (the largest size).

Zero-cost features (Krishnakumar et al., "NAS-Bench-Suite-Zero", NeurIPS 2022: appending proxy scores
to the encoding helps most predictors):

- ``digits201`` (truth: ``val_acc``, the mean over its 3 seeds at its last epoch): ``--proxies`` (default
  naswot, synflow, params) computed by ``nv.estimators.ZeroCost`` on ``nv.data.digits(resolution=8)``
  with 4 channels, the very networks digits201 trained (its recipe). Each cell is scored once and the
  scores are reused for every seed and model (a lookup estimator in ``features``); "proxy alone" rows give
  each proxy's own Spearman on the held-out set.
- ``nb201-12epoch`` (truth: ``cifar10_val_acc``): the data-dependent proxies need NAS-Bench-201's CIFAR
  networks and images, which are not on disk, so none is computed there. The "+ params, flops" rows use
  the table's own ``params`` and ``flops`` columns of NAS-Bench-201's CIFAR-10 network (data-free
  zero-cost proxies, through ``nv.estimators.Tabular(bench, metric="params")`` as a feature).

White et al., "How Powerful are Performance Predictors in Neural Architecture Search?", NeurIPS 2021,
compare such predictors on NAS-Bench-201's 200-epoch CIFAR-10 results (as curves of Kendall tau against
the training set size); the 12-epoch table here is a different (noisier) truth. digits201's truth is
the mean of 3 training seeds that agree with each other only at Spearman ~0.42, so its mean is
reliable at about 0.68 (Spearman-Brown), and even a perfect predictor of the noise-free accuracy would
rank it at only about sqrt(0.68) ~ 0.82.

Usage::

    python benchmarks/predictors.py                          # 5 seeds, both tables, every model (~1.5 min, 1 core)
    python benchmarks/predictors.py --seeds 10 --models gp,ensemble
    python benchmarks/predictors.py --tables nb201-12epoch --sizes 50,100,200,500

Measured with ``OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 python benchmarks/predictors.py`` (one
process, on a 2-core machine that other jobs kept busy: see the load average)::

    # learned predictors (path encoding): 2 CPUs, one process; load average 3.89 4.33 4.78
    == nb201-12epoch, cifar10_val_acc: 500 held-out cells, training sets of 10, 20, 50, 100, 200 cells, 5 seeds (load average 3.89 4.33 4.78)
    Spearman (mean ± std)                          n=10         n=20         n=50        n=100        n=200   s/fit
      gbm                                   0.168 ±0.08  0.417 ±0.10  0.580 ±0.12  0.669 ±0.04  0.760 ±0.02    0.23
      gp                                    0.197 ±0.16  0.399 ±0.16  0.482 ±0.11  0.588 ±0.03  0.767 ±0.02    0.16
      ensemble                              0.297 ±0.12  0.439 ±0.16  0.554 ±0.13  0.697 ±0.05  0.829 ±0.01    0.29
      gbm + params, flops                   0.318 ±0.17  0.507 ±0.06  0.597 ±0.05  0.609 ±0.06  0.715 ±0.02    0.26
      gp + params, flops                    0.225 ±0.12  0.426 ±0.11  0.536 ±0.07  0.574 ±0.06  0.702 ±0.02    0.18
      ensemble + params, flops              0.365 ±0.21  0.512 ±0.10  0.566 ±0.06  0.658 ±0.05  0.817 ±0.02    0.43
    Kendall (mean ± std)                           n=10         n=20         n=50        n=100        n=200
      gbm                                   0.116 ±0.05  0.288 ±0.07  0.422 ±0.09  0.494 ±0.03  0.575 ±0.02
      gp                                    0.131 ±0.10  0.275 ±0.10  0.343 ±0.08  0.418 ±0.02  0.581 ±0.02
      ensemble                              0.203 ±0.08  0.304 ±0.11  0.401 ±0.10  0.530 ±0.04  0.654 ±0.01
      gbm + params, flops                   0.219 ±0.12  0.358 ±0.04  0.432 ±0.04  0.449 ±0.05  0.538 ±0.02
      gp + params, flops                    0.153 ±0.08  0.294 ±0.08  0.376 ±0.05  0.406 ±0.04  0.516 ±0.02
      ensemble + params, flops              0.251 ±0.15  0.361 ±0.07  0.409 ±0.05  0.488 ±0.04  0.637 ±0.03
    == digits201, val_acc: 500 held-out cells, training sets of 10, 20, 50, 100, 200 cells, 5 seeds (load average 3.93 4.30 4.75)
       zero-cost naswot, synflow, params on 1474 cells (4 channels, digits 8x8): 29.5 s, 20.0 ms per cell (load average 3.96 4.27 4.73)
    Spearman (mean ± std)                          n=10         n=20         n=50        n=100        n=200   s/fit
      gbm                                   0.223 ±0.11  0.287 ±0.09  0.382 ±0.08  0.475 ±0.06  0.544 ±0.03    0.36
      gp                                    0.253 ±0.13  0.354 ±0.10  0.402 ±0.13  0.404 ±0.06  0.415 ±0.14    0.22
      ensemble                              0.275 ±0.10  0.343 ±0.09  0.424 ±0.12  0.540 ±0.04  0.642 ±0.02    0.40
      gbm + naswot, synflow, params         0.321 ±0.13  0.448 ±0.09  0.557 ±0.09  0.667 ±0.02  0.717 ±0.02    0.34
      gp + naswot, synflow, params          0.347 ±0.10  0.494 ±0.08  0.537 ±0.03  0.635 ±0.02  0.698 ±0.01    0.20
      ensemble + naswot, synflow, params    0.297 ±0.12  0.500 ±0.05  0.603 ±0.05  0.670 ±0.01  0.725 ±0.01    0.37
    Kendall (mean ± std)                           n=10         n=20         n=50        n=100        n=200
      gbm                                   0.155 ±0.08  0.199 ±0.06  0.264 ±0.06  0.333 ±0.05  0.387 ±0.02
      gp                                    0.177 ±0.09  0.244 ±0.07  0.298 ±0.08  0.285 ±0.04  0.296 ±0.10
      ensemble                              0.185 ±0.07  0.234 ±0.06  0.301 ±0.08  0.390 ±0.03  0.478 ±0.02
      gbm + naswot, synflow, params         0.221 ±0.09  0.312 ±0.07  0.397 ±0.07  0.488 ±0.02  0.534 ±0.02
      gp + naswot, synflow, params          0.235 ±0.07  0.346 ±0.06  0.380 ±0.02  0.460 ±0.01  0.513 ±0.01
      ensemble + naswot, synflow, params    0.204 ±0.08  0.352 ±0.03  0.434 ±0.04  0.491 ±0.01  0.541 ±0.01
      proxy alone: naswot    Spearman 0.097, Kendall 0.066
      proxy alone: synflow   Spearman 0.369, Kendall 0.256
      proxy alone: params    Spearman 0.332, Kendall 0.228
    wall 91 s; load average 3.98 4.24 4.70

What it shows. On nb201-12epoch the ensemble ranks best once it has 100 cells or more (Spearman 0.83
at 200); the table's params and flops as features help every model with 10-50 cells and cost every
model a little at 100-200 (the trees and the GP most). On digits201 the zero-cost features help every
model at every size (gbm at 200 cells: 0.54 -> 0.72), far above each proxy alone; the GP without
features varies much between seeds there at 200 cells (0.42 ± 0.14).

The machine is shared: the script prints the load average next to its timings.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

SIZES = (10, 20, 50, 100, 200)
MODELS = ("gbm", "gp", "ensemble")
TABLES = ("nb201-12epoch", "digits201")
METRIC = {"nb201-12epoch": "cifar10_val_acc", "digits201": "val_acc"}
PROXIES = ("naswot", "synflow", "params")
CHANNELS = 4  # digits201's recipe: its networks have 4 channels, 1 cell per stage, on 8x8 digits


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _lookup_estimator(name, values: dict):
    """An estimator that answers precomputed scores (arch -> value): a feature computed once."""
    import nasviz as nv

    class Lookup(nv.estimators.Estimator):
        def __init__(self, name):
            self.name = name

        def evaluate_one(self, arch, parent=None, fidelity=None):
            return nv.Result(score=values[arch], cost=0.0)

    return Lookup(name)


def _split(space, n_test, n_train, seed):
    """Held-out indices (fixed by ``seed``) and the candidates for the training draws."""
    order = np.random.default_rng(seed).permutation(len(space))
    return order[:n_test], order[n_test:n_test + n_train]


def _features(args, nv, table, bench, archs) -> dict:
    """feature set name -> list of feature estimators (empty: the encoding alone)."""
    sets = {"": []}
    if table == "nb201-12epoch":
        sets["+ params, flops"] = [nv.estimators.Tabular(bench, metric="params"),
                                   nv.estimators.Tabular(bench, metric="flops")]
        return sets
    if not args.proxies:
        return sets
    import torch

    torch.set_num_threads(1)
    data = nv.data.digits(resolution=8)
    est = nv.estimators.ZeroCost(args.proxies[0], data, channels=CHANNELS, seed=0)
    start = time.perf_counter()
    scores = est.scores_many(archs, list(args.proxies))
    seconds = time.perf_counter() - start
    print(f"   zero-cost {', '.join(args.proxies)} on {len(archs)} cells ({CHANNELS} channels, digits 8x8): "
          f"{seconds:.1f} s, {1000 * seconds / len(archs):.1f} ms per cell ({_load()})")
    lookups = [_lookup_estimator(n, dict(zip(archs, map(float, scores[n])))) for n in args.proxies]
    sets["+ " + ", ".join(args.proxies)] = lookups
    return sets


def _measure(nv, space, model, feats, train, y_train, test, y_test, sizes, seed):
    from scipy.stats import kendalltau, spearmanr

    out = {}
    for n in sizes:
        start = time.perf_counter()
        pred = nv.estimators.Predictor(space, model=model, features=feats or None, seed=seed)
        pred.fit(train[:n], y_train[:n])
        p = pred.predict(test)
        out[n] = (spearmanr(p, y_test).statistic, kendalltau(p, y_test).statistic, time.perf_counter() - start)
    return out


def run_table(args, nv, table) -> list:
    bench = nv.bench.load(table)
    space = bench.space
    metric = METRIC[table]
    truth = np.asarray(bench.query_many(space.enumerate(), metric), float)
    test_idx, pool = _split(space, args.test, len(space) - args.test, args.split_seed)
    test = [space[int(i)] for i in test_idx]
    draws = [np.random.default_rng(1000 + s).choice(pool, size=max(args.sizes), replace=False)
             for s in range(args.seeds)]
    used = sorted({int(i) for d in draws for i in d} | {int(i) for i in test_idx})
    print(f"\n== {table}, {metric}: {len(test)} held-out cells, training sets of {', '.join(map(str, args.sizes))} "
          f"cells, {args.seeds} seeds ({_load()})")
    sets = _features(args, nv, table, bench, [space[i] for i in used])
    rows = []
    for label, feats in sets.items():
        for model in args.models:
            per_seed = []
            for s, d in enumerate(draws):
                train = [space[int(i)] for i in d]
                per_seed.append(_measure(nv, space, model, feats, train, truth[d], test, truth[test_idx],
                                         args.sizes, s))
            rows.append((f"{model} {label}".strip(), per_seed))
    _print_rows(rows, args.sizes)
    if table == "digits201" and len(sets) > 1:
        from scipy.stats import kendalltau, spearmanr

        feats = list(sets.values())[1]
        for f in feats:
            values = [f.evaluate(a).score for a in test]
            print(f"  proxy alone: {f.name:<9} Spearman {spearmanr(values, truth[test_idx]).statistic:.3f}, "
                  f"Kendall {kendalltau(values, truth[test_idx]).statistic:.3f}")
    return rows


def _print_rows(rows, sizes):
    width = 13
    for what, k in (("Spearman", 0), ("Kendall", 1)):
        print(f"{what + ' (mean ± std)':<38}" + "".join(f"{'n=' + str(n):>{width}}" for n in sizes)
              + ("   s/fit" if k == 0 else ""))
        for label, per_seed in rows:
            line = f"  {label:<36}"
            for n in sizes:
                v = np.array([r[n][k] for r in per_seed], float)
                line += f"{np.nanmean(v):>7.3f} ±{np.nanstd(v):.2f}".rjust(width)
            if k == 0:
                line += f"{np.mean([r[sizes[-1]][2] for r in per_seed]):>8.2f}"
            print(line)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--sizes", default=",".join(map(str, SIZES)), help="training set sizes, comma-separated")
    p.add_argument("--test", type=int, default=500, help="held-out cells per table")
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated: " + ", ".join(MODELS))
    p.add_argument("--tables", default=",".join(TABLES), help="comma-separated: " + ", ".join(TABLES))
    p.add_argument("--proxies", default=",".join(PROXIES),
                   help="zero-cost features on digits201, comma-separated ('' for none)")
    p.add_argument("--split-seed", type=int, default=0, help="seed of the held-out set")
    a = p.parse_args(argv)
    a.sizes = tuple(sorted(int(s) for s in a.sizes.split(",")))
    a.models = [m for m in a.models.split(",") if m]
    a.proxies = tuple(x for x in a.proxies.split(",") if x)
    tables = [t for t in a.tables.split(",") if t]
    bad = [m for m in a.models if m not in MODELS] + [t for t in tables if t not in TABLES]
    if bad:
        p.error(f"unknown models or tables {bad}; accepted: {', '.join(MODELS + TABLES)}")
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # one core: BLAS on one thread
    import nasviz as nv

    print(f"# learned predictors (path encoding): {os.cpu_count()} CPUs, one process; {_load()}")
    start = time.perf_counter()
    for t in tables:
        if t not in nv.bench.available():
            print(f"\n== {t}: not in nv.bench.available(); skipped")
            continue
        run_table(a, nv, t)
    print(f"\nwall {time.perf_counter() - start:.0f} s; {_load()}")


if __name__ == "__main__":
    main()
