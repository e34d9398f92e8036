"""Weight sharing: what a supernet costs, and how well its ranking of cells agrees with the truth.

For each sampling (SPOS's uniform, FairNAS's fair), with ``none`` among the training paths' ops
(``train_none=True``, the default) and without it (rows marked ``-none``), ``nv.estimators.WeightSharing``
trains one supernet on the task (``nv.data.digits()``, or with ``--truth shifted201`` that table's own task,
``get_recipe("shifted201").data()``) at the tables' width (4 channels: the networks the tables
trained), for ``--epochs`` epochs, on one thread; then ranks ``--cells`` seeded random connected
cells by their path's validation accuracy (BatchNorm re-estimated per cell). Printed:

- the supernet's training time next to training one cell stand-alone for the same epochs
  (``nv.estimators.Training(...).evaluate``, same data, width, batch and learning rate, one thread:
  the mean over ``--standalone`` cells), the seconds per cell judged, and what ranking all the
  sampled cells costs either way;
- Spearman and Kendall rank correlation (``scipy.stats``) between the supernet's scores and the
  truth: ``digits201`` (``nv.bench.load("digits201").query_many(archs)``, the mean over its 3 seeds),
  or the ``shifted201`` build's journal as a partial table (``journal_table("shifted201",
  partial=True)``, cells whose class has all its seeds, the mean over them); beside them, how well
  the truth's own seeds agree with each other on the same cells (the ceiling any estimator faces);
- next to each figure, what the literature reports for weight-sharing rankings on NAS-Bench-201:
  weak, Kendall tau roughly 0.1 to 0.5 depending on how the supernet is trained and evaluated
  (Yu et al., "How to Train Your Super-Net", arXiv 2003.04276; Ning et al., "Evaluating Efficient
  Performance Estimators of Neural Architectures", NeurIPS 2021; Zhang et al., "How Does Weight
  Sharing Help in Neural Architecture Search?", arXiv 2010.08219). Those are CIFAR-sized supernets
  (16 channels, 5 cells per stage, hundreds of epochs) ranked against NAS-Bench-201's 200-epoch
  accuracies; these are 4-channel networks on 8x8 (or 12x12) digits, ranked against tables whose
  own seeds disagree.

Usage::

    python benchmarks/weight_sharing.py --cells 200 --epochs 20           # digits201
    python benchmarks/weight_sharing.py --cells 200 --truth shifted201    # the sharper truth (its journal)
    python benchmarks/weight_sharing.py --cells 40 --epochs 2             # a quick check that it runs

The machine is shared: the script prints the load average next to its timings.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

import numpy as np

LITERATURE = "~0.1-0.5"  # Kendall of weight-sharing rankings on NAS-Bench-201, by method (see the docstring)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _truth(args, nv):
    """(bench, data, per-seed final val_acc of every row, description) for ``--truth``."""
    if args.truth == "digits201":
        bench = nv.bench.load("digits201")
        data = nv.data.digits()
        what = "digits201 (nv.bench.load), the mean over its seeds"
    else:
        from nasviz.bench.build import journal_table
        from nasviz.bench.build.recipes import get_recipe

        bench = journal_table(args.truth, partial=True)
        data = get_recipe(args.truth).data()
        what = f"{args.truth}'s build journal as a partial table, cells whose class has all its seeds, their mean"
    final = np.asarray(bench.array("val_acc"))[:, :, -1]  # (rows, seeds) at the last epoch
    return bench, data, final, what


def _sample(args, bench, final, space):
    """``--cells`` seeded random connected cells whose truth has every seed."""
    rng = np.random.default_rng(args.seed)
    held = bench.archs()
    ok = [r for r, arch in enumerate(held) if np.isfinite(final[r]).all() and space.is_connected(arch)]
    if len(ok) < args.cells:
        print(f"# only {len(ok)} connected cells have every seed: the sample is all of them")
    rows = np.sort(rng.choice(ok, size=min(args.cells, len(ok)), replace=False))
    return [held[int(r)] for r in rows], final[rows], len(ok)


def _ranks(scores, truth) -> tuple[float, float]:
    from scipy.stats import kendalltau, spearmanr

    return float(spearmanr(scores, truth)[0]), float(kendalltau(scores, truth)[0])


def _seed_agreement(per_seed) -> tuple[float, float]:
    """Mean Spearman and Kendall between the truth's seeds, pair by pair, on the sampled cells."""
    pairs = [_ranks(per_seed[:, a], per_seed[:, b]) for a, b in itertools.combinations(range(per_seed.shape[1]), 2)]
    return float(np.mean([p[0] for p in pairs])), float(np.mean([p[1] for p in pairs]))


def _standalone_seconds(args, nv, data, archs) -> float:
    """Mean seconds of training one of ``archs`` stand-alone for ``--epochs`` (one thread, one at a time)."""
    est = nv.estimators.Training(data, epochs=args.epochs, channels=args.channels, batch_size=args.batch_size,
                                 lr=args.lr, seed=args.seed, device="cpu", threads=1)
    est.evaluate(archs[0])  # first-call overheads, not timed
    seconds = []
    for arch in archs[1:args.standalone + 1]:
        start = time.perf_counter()
        est.evaluate(arch)
        seconds.append(time.perf_counter() - start)
    return float(np.mean(seconds))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=200, help="random connected cells ranked (default 200)")
    parser.add_argument("--epochs", type=int, default=20, help="supernet (and stand-alone) epochs (default 20)")
    parser.add_argument("--truth", default="digits201", choices=("digits201", "shifted201"),
                        help="ground truth: the shipped digits201, or shifted201's build journal")
    parser.add_argument("--samplings", default="uniform,fair", help="comma-separated: uniform, fair")
    parser.add_argument("--train-none", default="both", choices=("both", "yes", "no"),
                        help="train paths with the none op (yes), without it (no), or both rows (default)")
    parser.add_argument("--channels", type=int, default=4, help="width (default 4: the tables' networks)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the estimator's)")
    parser.add_argument("--bn-batches", type=int, default=4)
    parser.add_argument("--finetune-steps", type=int, default=0)
    parser.add_argument("--standalone", type=int, default=3, help="cells trained stand-alone for the timing")
    parser.add_argument("--seed", type=int, default=0, help="seeds the sample, the supernets and the trainings")
    args = parser.parse_args(argv)

    import torch

    import nasviz as nv

    torch.set_num_threads(1)
    space = nv.CellSpace()
    bench, data, final, what = _truth(args, nv)
    archs, per_seed, eligible = _sample(args, bench, final, space)
    truth = bench.query_many(archs)
    print(f"# weight sharing: {len(archs)} seeded random connected cells (seed {args.seed}) of {eligible:,} "
          f"eligible; truth {what}; data {data!r}; {args.channels} channels, {args.epochs} epochs, batch "
          f"{args.batch_size}, one thread; {os.cpu_count()} CPUs; {_load()}", flush=True)
    rho_seeds, tau_seeds = _seed_agreement(per_seed)
    print(f"# the truth's own seeds agree on these cells at Spearman {rho_seeds:.3f}, Kendall {tau_seeds:.3f} "
          f"(mean over seed pairs; the mean over {per_seed.shape[1]} seeds agrees better)")
    alone = _standalone_seconds(args, nv, data, archs)
    print(f"# one cell trained stand-alone for {args.epochs} epochs: {alone:.2f} s (mean of {args.standalone}); "
          f"{len(archs)} of them: {alone * len(archs):.0f} s  ({_load()})", flush=True)
    print(f"{'sampling':<13} {'train s':>8} {'x one cell':>10} {'ms/cell':>8} {'rank all s':>10} {'last acc':>8} "
          f"{'median':>7} {'Spearman':>8} {'Kendall':>8}  literature (NAS-Bench-201 Kendall)")
    with_none = {"both": (True, False), "yes": (True,), "no": (False,)}[args.train_none]
    for sampling, train_none in itertools.product(args.samplings.split(","), with_none):
        est = nv.estimators.WeightSharing(data, channels=args.channels, epochs=args.epochs,
                                          batch_size=args.batch_size, lr=args.lr, sampling=sampling,
                                          train_none=train_none,
                                          bn_batches=args.bn_batches, finetune_steps=args.finetune_steps,
                                          seed=args.seed, device="cpu")
        stats = est.train_supernet()
        start = time.perf_counter()
        results = est.evaluate_many(archs)
        per_cell = (time.perf_counter() - start) / len(archs)
        scores = np.array([r.score if r.ok else np.nan for r in results])
        rho, tau = _ranks(scores, truth)
        total = stats["seconds"] + per_cell * len(archs)
        label = sampling if train_none else f"{sampling} -none"
        print(f"{label:<13} {stats['seconds']:8.1f} {stats['seconds'] / alone:10.2f} {per_cell * 1000:8.1f} "
              f"{total:10.1f} {stats['accuracy'][-1]:8.3f} {np.nanmedian(scores):7.3f} {rho:8.3f} {tau:8.3f}  "
              f"{LITERATURE}", flush=True)
    print("# -none: training paths without the none op (train_none=False); train s: the supernet's one-off training; x one cell: that over one stand-alone training of the same "
          "epochs; ms/cell: judging one cell (path copy, BatchNorm re-estimation, validation); rank all s: training "
          "plus judging every sampled cell; last acc: the sampled paths' training accuracy in the last epoch")
    print(f"# the literature finds weight-sharing rankings on NAS-Bench-201 weak (Kendall roughly 0.1-0.5, by "
          f"supernet training method: Yu et al. arXiv 2003.04276; Ning et al. NeurIPS 2021; Zhang et al. arXiv "
          f"2010.08219); {_load()}")


if __name__ == "__main__":
    main()
