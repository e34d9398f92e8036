"""Training proxies: rank correlation with full training versus cost.

A fixed seeded sample of ``--n`` CellSpace cells is trained "fully" (``--full-epochs``
epochs at 8x8 on all the training data: the reference) and with cheaper proxies of the
same training, all with ``nv.estimators.Training(...).evaluate_many`` (batched):

- the reference again with another seed: the noise ceiling of any proxy's correlation;

- fewer epochs (a short cosine schedule of 1, 2, 4, 8 epochs);
- lower resolution (4x4 and 6x6 images, 4 epochs);
- less data (25% and 50% of the training part, 4 epochs);
- early stopping of the reference run itself (its validation accuracy after 1, 2, 4, 8
  of its epochs: free once the reference exists, but its learning rate has not decayed).

For each it prints the seconds per architecture (chunk wall time shared equally) and the
Spearman and Kendall rank correlation of its validation accuracy with the reference's.
This is the trade-off curve the course plots.

Usage::

    python benchmarks/proxy_fidelity.py                 # 40 cells, reference 12 epochs
    python benchmarks/proxy_fidelity.py --n 100 --full-epochs 30 --threads 2

The machine may be shared: the load average is printed next to the timings.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="number of cells (default 40)")
    parser.add_argument("--full-epochs", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0, help="chooses the cells and seeds the training")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the estimator's")
    args = parser.parse_args(argv)

    import torch
    from scipy.stats import kendalltau, spearmanr

    import nasviz as nv

    torch.set_num_threads(args.threads)
    space = nv.CellSpace()
    rng = np.random.default_rng(args.seed)
    archs = [space[int(i)] for i in rng.choice(len(space), size=args.n, replace=False)]
    extra = {} if args.batch_size is None else {"batch_size": args.batch_size}

    def run(epochs, resolution=8, subset=1.0, seed=args.seed):
        est = nv.estimators.Training(nv.data.digits(resolution=resolution, subset=subset, seed=args.seed),
                                     epochs=epochs, device=args.device, seed=seed, **extra)
        start = time.perf_counter()
        results = est.evaluate_many(archs)
        wall = time.perf_counter() - start
        return est, results, wall

    load = os.getloadavg()[0]
    ref_est, ref, ref_wall = run(args.full_epochs)
    truth = np.array([r.score for r in ref])
    rows = []

    def add(name, epochs, resolution, subset, scores, seconds):
        scores = np.asarray(scores, dtype=float)
        ok = np.isfinite(scores) & np.isfinite(truth)
        rows.append((name, epochs, resolution, subset, seconds, np.nanmean(scores),
                     spearmanr(scores[ok], truth[ok]).statistic, kendalltau(scores[ok], truth[ok]).statistic))

    add("reference (full)", args.full_epochs, 8, 1.0, truth, ref_wall / args.n)
    _, again, wall = run(args.full_epochs, seed=args.seed + 1)
    add("reference, another seed", args.full_epochs, 8, 1.0, [r.score for r in again], wall / args.n)
    for e in (1, 2, 4, 8):
        if e < args.full_epochs:
            curve = [r.metrics["val_curve"][e - 1] if r.ok else np.nan for r in ref]
            add("early stop of the reference", e, 8, 1.0, curve, ref_wall / args.n * e / args.full_epochs)
    for e in (1, 2, 4, 8):
        _, res, wall = run(e)
        add("short schedule", e, 8, 1.0, [r.score for r in res], wall / args.n)
    for resolution in (4, 6):
        _, res, wall = run(4, resolution=resolution)
        add("lower resolution", 4, resolution, 1.0, [r.score for r in res], wall / args.n)
    for subset in (0.25, 0.5):
        _, res, wall = run(4, subset=subset)
        add("less data", 4, 8, subset, [r.score for r in res], wall / args.n)

    print(f"{args.n} CellSpace cells (seed {args.seed}), digits, {ref_est.fidelity.split(',')[0]} reference; "
          f"batch {ref_est.batch_size}, lr {ref_est.effective_lr}, channels {ref_est.channels}, device "
          f"{ref_est._resolved_device()}, threads {args.threads}; load average at start {load:.2f}, "
          f"at end {os.getloadavg()[0]:.2f} (the machine is shared)")
    print(f"reference validation accuracy: mean {np.nanmean(truth):.3f}, min {np.nanmin(truth):.3f}, "
          f"max {np.nanmax(truth):.3f}")
    print(f"{'proxy':30s} {'epochs':>6s} {'res':>4s} {'data':>5s} {'s/arch':>7s} {'mean val':>8s} "
          f"{'Spearman':>8s} {'Kendall':>8s}")
    for name, e, r, s, sec, mean, rho, tau in rows:
        note = " (estimated)" if name.startswith("early") else ""
        print(f"{name:30s} {e:6d} {r:4d} {s:5.2f} {sec:7.3f} {mean:8.3f} {rho:8.3f} {tau:8.3f}{note}")


if __name__ == "__main__":
    main()
