"""Pilots for the layer-level table's recipe: 48 random members x 4 seeds of each variant.

Each variant is ``RECIPES["shifted-layers"]`` with other settings (``variants()``); 48 random
members of its space (seeded) are trained with seeds 0..3 in 2 one-thread processes, and the
script prints the single-run and split-half (2 seeds vs 2) Spearman, median and interquartile
range of the mean final validation accuracy, and seconds per run. Measured on 2026-12-01 (Intel
Xeon, the other core partly busy):

==================  =======  ======  =========  ======  =====  =====
variant             members  single  half 2v2   median  IQR    s/run
==================  =======  ======  =========  ======  =====  =====
lr 0.05, 8/16       4,920    0.681   0.779      16.1    7.7    0.51
lr 0.2, 8/16        4,920    0.865   0.916      24.1    14.5   0.51
adam 0.01, 8/16     4,920    0.859   0.923      29.6    14.8   0.56
lr 0.2, 16/32       4,920    0.873   0.949      30.2    22.4   0.79
adam 0.01, 16/32    4,920    0.921   0.941      34.9    26.1   0.97
adam, 3 layers      172,920  0.928   0.966      47.4    28.9   1.34
==================  =======  ======  =========  ======  =====  =====

The table's recipe is "lr 0.2, 16/32" (same optimizer as shifted201's, the whole space, cheaper
than Adam). Usage::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/layer_pilots.py as-is,lr0.2
"""
import multiprocessing as mp
import sys
import time
from dataclasses import replace

import numpy as np


def variants():
    from nasviz.bench.build.recipes import RECIPES
    base = RECIPES["shifted-layers"]
    sp = dict(base.space)
    return {
        "as-is": base,
        "lr0.2": replace(base, lr=0.2),
        "adam": replace(base, optimizer="adam", lr=0.01),
        "L2-16/32-adam": replace(base, optimizer="adam", lr=0.01, space={**sp, "filters": (16, 32)}),
        "L2-16/32-lr0.2": replace(base, lr=0.2, space={**sp, "filters": (16, 32)}),
        "L3-16/32": replace(base, space={**sp, "max_layers": 3, "filters": (16, 32)}),
        "L3-16/32-adam": replace(base, optimizer="adam", lr=0.01, space={**sp, "max_layers": 3, "filters": (16, 32)}),
    }

def job(args):
    name, seed, idx = args
    import torch

    torch.set_num_threads(1)
    r = variants()[name]
    space = r.make_space()
    est = r.estimator(seed)
    t = time.perf_counter()
    res = est.evaluate_many([space[int(i)] for i in idx])
    return name, seed, [x.score for x in res], time.perf_counter() - t

if __name__ == "__main__":
    from ground_truth import reliability  # the script's own folder is on sys.path

    names = sys.argv[1].split(",")
    with mp.get_context("spawn").Pool(2) as pool:
        for name in names:
            space = variants()[name].make_space()
            idx = sorted(np.random.default_rng(0).choice(len(space), 48, replace=False).tolist())
            jobs = [(name, s, idx[i:i + 24]) for s in range(4) for i in (0, 24)]
            acc, wall = np.zeros((48, 4)), 0.0
            out = pool.map(job, jobs)
            for (n, s, idxs), (_, _, sc, w) in zip(jobs, out):
                pos = [idx.index(i) for i in idxs]
                acc[pos, s] = sc
                wall += w
            f = reliability(acc)
            print(f"{name:>14} | len {len(space)} | single {f['single']:.3f} half(2v2) {f['half']:.3f} | median "
                  f"{100 * f['median']:.1f} IQR {100 * f['iqr']:.1f} | {wall / (48 * 4):.2f} s/run", flush=True)
