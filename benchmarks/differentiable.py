"""Differentiable search against the truth: what DARTS and GDAS return, epoch by epoch, next to evolution.

For ``--seeds`` seeds, first-order DARTS and GDAS (``nv.oneshot.DARTS`` / ``GDAS``; ``--methods`` adds
second-order DARTS, ``darts-2nd``) search the
cell space on the truth's own task (``nv.data.digits()`` for digits201; with ``--truth shifted201``
that table's task, read from its build journal as a partial table) with a supernet of the tables'
width (4 channels), ``--epochs`` epochs, one thread. After every search epoch the derived cell (the
op of largest architecture weight on each edge, ``none`` included, as NAS-Bench-201 derives it) is
looked up in the table. Printed:

- per search epoch, over the seeds: the mean truth (validation accuracy, the mean of the table's
  seeds) of the derived cell, its mean percentile in the table, and the mean number of its 6 edges
  whose op has no weights (``none``, ``skip_connect``, pooling): the collapse NAS-Bench-201 (ICLR
  2020, Fig. 7) and Zela et al. (ICLR 2020) report, where DARTS's cells fill with parameter-free ops
  as the search goes on;
- for each method, the mean search time, and regularized evolution and random search given the
  same wall clock: ``nv.Search`` with the table's own recipe as the estimator
  (``nv.bench.recipe(table).estimator(seed)``: the same training the table's runs had, one run per
  candidate, 1 thread), ``budget_kind="cost"`` with the budget set to that method's mean search
  seconds; the truth of the cell each search picked (its best by its own noisy training score).
  The truth of the best cell in the table and the table's median are printed for scale.

Usage::

    python benchmarks/differentiable.py                       # 5 seeds, 20 epochs, digits201
    python benchmarks/differentiable.py --seeds 2 --epochs 3  # a quick check that it runs
    python benchmarks/differentiable.py --methods darts,darts-2nd   # first against second order

The machine may be shared: the load average is printed next to the timings.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

PARAMETER_FREE = ("none", "skip_connect", "avg_pool_3x3", "max_pool_3x3")


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _truth(name, nv):
    """(truth(cell) -> float or NaN, percentile(cell), best, median, data, recipe) of table ``name``."""
    recipe = nv.bench.recipe(name)
    if name == "digits201":
        bench = nv.bench.load(name)
    else:
        from nasviz.bench.build import journal_table

        bench = journal_table(name, partial=True)
    final = np.asarray(bench.array("val_acc"))[:, :, -1].mean(1)  # NaN where a class is not complete
    known = np.sort(final[np.isfinite(final)])

    def truth(cell):
        try:
            return float(final[bench.row(cell)])
        except nv.errors.NotInTableError:
            return float("nan")

    def percentile(cell):
        v = truth(cell)
        return float("nan") if not np.isfinite(v) else 100.0 * np.searchsorted(known, v, side="right") / len(known)

    return truth, percentile, float(known[-1]), float(np.median(known)), recipe.data(), recipe


def _search(nv, method, data, args, seed):
    settings = dict(epochs=args.epochs, channels=args.channels, arch_lr=args.arch_lr, seed=seed)
    if method == "darts-2nd":  # the second-order (unrolled) update, exact
        return nv.oneshot.DARTS(nv.CellSpace(), data, order=2, **settings).run()
    cls = {"darts": nv.oneshot.DARTS, "gdas": nv.oneshot.GDAS}[method]
    return cls(nv.CellSpace(), data, **settings).run()


def _baseline(nv, strategy_name, recipe, data, seconds, seed):
    """The truth-free search's pick: its best cell by its own training score within ``seconds`` of training."""
    space = nv.CellSpace()
    est = recipe.estimator(seed, data=data)
    strategy = nv.strategies.get(strategy_name, space, seed=seed)
    history = nv.Search(space, strategy, est, budget=seconds, budget_kind="cost").run(progress=False)
    return history.best.arch, len(history)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20, help="search epochs (default 20)")
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--arch-lr", type=float, default=0.01, help="Adam lr of the architecture weights")
    parser.add_argument("--truth", default="digits201", choices=("digits201", "shifted201"))
    parser.add_argument("--methods", default="darts,gdas", help="comma-separated: darts, darts-2nd (second order), "
                        "gdas (default darts,gdas)")
    parser.add_argument("--baselines", default="evolution,random", help="comma-separated strategy names, or ''")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    import nasviz as nv

    truth, percentile, best, median, data, recipe = _truth(args.truth, nv)
    print(f"# truth: {args.truth}; best cell {best:.4f}, median {median:.4f}; {args.seeds} seeds, "
          f"{args.epochs} epochs, {args.channels} channels, arch_lr {args.arch_lr}; {_load()}")
    for method in args.methods.split(","):
        runs = [_search(nv, method, data, args, seed) for seed in range(args.seeds)]
        values = np.array([[truth(c) for c in h.cells] for h in runs])
        pcts = np.array([[percentile(c) for c in h.cells] for h in runs])
        free = np.array([[sum(op in PARAMETER_FREE for op in c.ops) for c in h.cells] for h in runs])
        nones = np.array([[sum(op == "none" for op in c.ops) for c in h.cells] for h in runs])
        seconds = float(np.mean([h.seconds for h in runs]))
        print(f"\n## {method.upper()}: mean search time {seconds:.1f} s ({_load()})")
        print("| epoch | truth mean | truth sd | percentile | parameter-free edges | none edges | unknown |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for e in range(values.shape[1]):
            col = values[:, e]
            ok = np.isfinite(col)
            print(f"| {e} | {np.nanmean(col):.4f} | {np.nanstd(col):.4f} | {np.nanmean(pcts[:, e]):.1f} | "
                  f"{free[:, e].mean():.1f} | {nones[:, e].mean():.1f} | {int((~ok).sum())} |")
        print(f"final cells: {', '.join(str(h.best) for h in runs)}")
        for name in filter(None, args.baselines.split(",")):
            picks = [_baseline(nv, name, recipe, data, seconds, seed) for seed in range(args.seeds)]
            vals = np.array([truth(a) for a, _ in picks])
            print(f"{name} with {seconds:.1f} s of training per seed: truth {np.nanmean(vals):.4f} "
                  f"(sd {np.nanstd(vals):.4f}), percentile {np.nanmean([percentile(a) for a, _ in picks]):.1f}, "
                  f"{np.mean([n for _, n in picks]):.1f} evaluations")


if __name__ == "__main__":
    main()
