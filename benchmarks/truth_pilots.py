"""Pilots for a ground-truth recipe: how reliable, spread and cheap is a table built a given way?

For each candidate task/recipe, ``--cells`` random *connected* canonical classes of
``nv.CellSpace()`` (seeded, the same for every variant) are trained ``--runs`` times (seeds
0..runs-1) with ``nv.estimators.Training.evaluate_many`` (fused chunks of 16), in
``--workers`` processes of one torch thread each. Printed per variant:

- ``single``: mean Spearman between two single runs (all pairs of seeds);
- ``half``: Spearman between the mean of the first half of the runs and the mean of the other
  half (measured, not extrapolated), and the Spearman-Brown prediction for a mean of ``2h`` runs
  against another (``pred2h``), to size a build;
- ``median`` and ``IQR`` of the mean final validation accuracy (accuracy points);
- ``ep1``: Spearman of one run's epoch-1 accuracy with the mean final accuracy of the *other* runs,
  next to the same for one run's final accuracy (``full``): the fidelity ladder against
  independent runs;
- seconds per run (wall of the fused chunk, per cell, per process).

Usage::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/truth_pilots.py --cells 96 --runs 6 --variants digits8,shift12

The variants are defined in ``VARIANTS`` below (task + Training settings). Measured on
2026-12-01 (Intel Xeon, 96 classes x 6 runs; seconds per run with other work on the machine,
so only roughly comparable):

============  ======  ===========  ======  ====  ===========  ========
variant       single  half (3v3)   median  IQR   ep1 / full   s/run
============  ======  ===========  ======  ====  ===========  ========
digits8       0.433   0.667        94.1    2.8   0.55 / 0.56  0.71
shift12       0.660   0.871        53.4    13.4  0.61 / 0.77  1.25
shift12-e4    0.599   0.863        39.9    10.1  0.62 / 0.73  1.01
shift12-b64   0.562   0.798        76.0    7.6   0.50 / 0.69  1.75
shift12-adam  0.428   0.683        65.4    8.3   0.44 / 0.59  1.34
shift12-lr0.1 0.519   0.772        68.4    9.5   0.46 / 0.66  1.49
shift10       0.618   0.783        65.9    9.6   0.61 / 0.73  1.43
============  ======  ===========  ======  ====  ===========  ========

``shifted201`` uses ``shift12`` (``RECIPES["shifted201"]``).
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

import numpy as np
from ground_truth import spearman  # noqa: E402 - the script's own folder is on sys.path

BASE = {"epochs": 6, "channels": 4, "batch_size": 128, "lr": 0.05}
VARIANTS = {
    # name: (keyword arguments of nv.data.shifted_digits, or {} for nv.data.digits; Training settings)
    "digits8": ({}, BASE),
    "digits8-e10": ({}, {**BASE, "epochs": 10}),
    "shift12": ({"canvas": 12}, BASE),
    "shift12-e10": ({"canvas": 12}, {**BASE, "epochs": 10}),
    "shift12-e4": ({"canvas": 12}, {**BASE, "epochs": 4}),
    "shift12-adam": ({"canvas": 12}, {**BASE, "optimizer": "adam", "lr": 0.01}),
    "shift12-lr0.1": ({"canvas": 12}, {**BASE, "lr": 0.1}),
    "shift12-b64": ({"canvas": 12}, {**BASE, "batch_size": 64}),
    "shift12-b32": ({"canvas": 12}, {**BASE, "batch_size": 32}),
    "shift12-k32": ({"canvas": 12}, {**BASE, "max_batch": 32}),
    "shift12x2": ({"canvas": 12, "copies": 2}, BASE),
    "shift12-noise": ({"canvas": 12, "noise": 0.3}, BASE),
    "shift10": ({"canvas": 10}, BASE),
    "shift16": ({"canvas": 16}, BASE),
}


def make_data(task: dict):
    import nasviz as nv

    if not task:
        return nv.data.digits()
    return nv.data.shifted_digits(**task)


_CACHE = {}


def train(job):
    variant, seed, cells = job
    import torch

    import nasviz as nv

    torch.set_num_threads(1)
    task, settings = VARIANTS[variant]
    if _CACHE.get("variant") != variant:
        _CACHE.update(variant=variant, data=make_data(task), space=nv.CellSpace())
    space = _CACHE["space"]
    settings = {"max_batch": 16, **settings}
    est = nv.estimators.Training(_CACHE["data"], seed=seed, device="cpu", recalibrate_bn=4, **settings)
    t = time.perf_counter()
    res = est.evaluate_many([space[int(i)] for i in cells])
    wall = time.perf_counter() - t
    curves = [r.metrics["val_curve"] if r.status == "ok" else [np.nan] * settings["epochs"] for r in res]
    return variant, seed, list(cells), curves, wall


def report(variant, runs, curves, seconds):
    """curves: (runs, cells, epochs)."""
    final = curves[:, :, -1]
    r = len(final)
    single = np.mean([spearman(final[i], final[j]) for i, j in itertools.combinations(range(r), 2)])
    h = r // 2
    half = spearman(final[:h].mean(0), final[h:2 * h].mean(0))
    pred = 2 * h * single / (1 + (2 * h - 1) * single)
    pred2h = 2 * half / (1 + half)
    mean = final.mean(0)
    q1, med, q3 = np.percentile(mean, [25, 50, 75])
    ep1 = np.mean([spearman(curves[i, :, 0], np.delete(final, i, 0).mean(0)) for i in range(r)])
    full = np.mean([spearman(final[i], np.delete(final, i, 0).mean(0)) for i in range(r)])
    print(f"{variant:>14} | single {single:.3f} | half({h}v{h}) {half:.3f} (SB from single {pred:.3f}) | "
          f"pred {2 * h}v{2 * h} {pred2h:.3f} | median {100 * med:.1f} IQR {100 * (q3 - q1):.1f} | "
          f"ep1 {ep1:.3f} full {full:.3f} | {seconds:.3f} s/run", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cells", type=int, default=96)
    p.add_argument("--runs", type=int, default=6)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--variants", default="digits8,shift12")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import multiprocessing as mp

    import nasviz as nv

    space = nv.CellSpace()
    _, reps = space.canonical_classes()
    connected = [int(i) for i in reps if space.is_connected(space[int(i)])]
    rng = np.random.default_rng(args.seed)
    cells = sorted(rng.choice(connected, size=args.cells, replace=False).tolist())
    chunks = [cells[i:i + 16] for i in range(0, len(cells), 16)]
    variants = args.variants.split(",")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; known: {sorted(VARIANTS)}")
    print(f"{args.cells} connected classes of {len(connected)}, {args.runs} runs, {args.workers} workers; "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    with mp.get_context("spawn").Pool(args.workers) as pool:
        for v in variants:
            jobs = [(v, s, c) for s in range(args.runs) for c in chunks]
            curves = np.full((args.runs, args.cells, VARIANTS[v][1]["epochs"]), np.nan)
            pos = {c: i for i, c in enumerate(cells)}
            wall = 0.0
            for _, seed, cs, cv, w in pool.imap_unordered(train, jobs):
                wall += w
                for c, curve in zip(cs, cv):
                    curves[seed, pos[c]] = curve
            report(v, args.runs, curves, wall / (args.runs * args.cells))


if __name__ == "__main__":
    main()
