"""What the digits201 table says: accuracy spread, seed noise, rank agreement, best cells, build time.

Usage::

    python benchmarks/digits201_report.py                      # the shipped table
    python benchmarks/digits201_report.py --journal PATH       # a build journal, finished or not
    python benchmarks/digits201_report.py --journal PATH --seeds 0 1   # e.g. a pilot built with two seeds
    python benchmarks/digits201_report.py --table PATH.npz     # a table file (e.g. a --partial one)

Statistics over the trained runs are taken per canonical class (one trained
representative each), so isomorphic copies do not weigh in several times; the
Spearman correlation with NAS-Bench-201's 12-epoch CIFAR-10 ranking is given both over
the classes' representatives and over every cell the table answers for.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import warnings

import numpy as np


def _spearman(a, b) -> float:
    from scipy.stats import spearmanr

    ok = np.isfinite(a) & np.isfinite(b)
    return float(spearmanr(a[ok], b[ok])[0]) if ok.sum() > 2 else float("nan")


def _histogram(values, lo=None, hi=1.0, bins=12, width=50) -> list[str]:
    values = values[np.isfinite(values)]
    lo = float(np.floor(values.min() * 50) / 50) if lo is None else lo
    edges = np.linspace(lo, hi, bins + 1)
    counts, _ = np.histogram(values, bins=edges)
    top = max(1, counts.max())
    return [f"  [{edges[i]:.3f}, {edges[i + 1]:.3f}{']' if i == bins - 1 else ')'} {counts[i]:6d} "
            f"{'#' * round(width * counts[i] / top)}" for i in range(bins)]


def report(bench, journal=None, out=sys.stdout) -> dict:
    """Print the report for a digits201 :class:`~nasviz.bench.Benchmark`; return its figures."""
    import nasviz as nv
    from nasviz.bench.build import canonical_classes, read_journal

    def say(*lines):
        for line in lines:
            print(line, file=out)

    space = bench.space
    class_of, reps = canonical_classes(space)
    held = np.array([space.index(a) for a in bench.archs()])
    rep_rows = np.flatnonzero(held == reps[class_of[held]])  # rows of trained representatives
    vals = np.asarray(bench.array("val_acc"))  # (rows, seeds, epochs)
    tests = np.asarray(bench.array("test_acc"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        final = vals[:, :, -1]
        mean_cell = np.nanmean(final, axis=1)
        mean_rep = mean_cell[rep_rows]
        complete = np.isfinite(final[rep_rows]).all(axis=1)
        std_rep = np.nanstd(final[rep_rows][complete], axis=1, ddof=1)
    figures = {"cells": len(bench), "classes": len(rep_rows), "classes_all_seeds": int(complete.sum())}
    say(f"digits201 report: {len(bench):,} of {len(space):,} cells, {len(rep_rows):,} of {len(reps):,} canonical "
        f"classes ({int(complete.sum()):,} with all {len(bench.seeds)} seeds), epochs {bench.epochs[0]}.."
        f"{bench.epochs[-1]}, seeds {bench.seeds}", "")

    q = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1]
    qs = np.nanquantile(mean_rep, q)
    figures["val_quantiles"] = dict(zip(q, qs.round(4).tolist()))
    say("final validation accuracy, mean over seeds, one value per class:",
        "  quantile " + " ".join(f"{p:>6g}" for p in q), "  val_acc  " + " ".join(f"{v:6.3f}" for v in qs))
    say(*_histogram(mean_rep, lo=max(0.0, float(np.floor(np.nanquantile(mean_rep, 0.01) * 50) / 50))))
    low = int((mean_rep < np.nanquantile(mean_rep, 0.01)).sum())
    say(f"  ({low} classes below the 1% quantile not drawn; {int((mean_rep < 0.2).sum())} classes at chance "
        "level < 0.2: cells whose output does not depend on the input)", "")

    noise = float(np.mean(std_rep)) if len(std_rep) else float("nan")
    figures["seed_std"] = noise
    pairs = list(itertools.combinations(range(len(bench.seeds)), 2))
    rho = [_spearman(final[rep_rows][complete][:, a], final[rep_rows][complete][:, b]) for a, b in pairs]
    live = mean_rep[complete] >= 0.2
    rho_live = [_spearman(final[rep_rows][complete][live][:, a], final[rep_rows][complete][live][:, b])
                for a, b in pairs]
    figures["seed_spearman"] = float(np.mean(rho)) if rho else float("nan")
    figures["seed_spearman_live"] = float(np.mean(rho_live)) if rho_live else float("nan")
    say(f"seed noise: mean std over seeds of the final validation accuracy {noise:.4f} (median "
        f"{np.median(std_rep) if len(std_rep) else float('nan'):.4f}; 1/360 = 0.0028 is one validation image)",
        f"seed-to-seed Spearman (final val_acc, per class): mean {figures['seed_spearman']:.3f} over pairs "
        f"{', '.join(f'{a}-{b}: {r:.3f}' for (a, b), r in zip(pairs, rho))}; without chance-level classes "
        f"{figures['seed_spearman_live']:.3f}")
    vt = _spearman(mean_rep, np.nanmean(tests[rep_rows, :, -1], axis=1))
    figures["val_test_spearman"] = vt
    say(f"validation vs test Spearman (means over seeds): {vt:.3f}", "")

    say("per epoch (means over seeds, per class): median val_acc, Spearman with the final epoch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for k, e in enumerate(bench.epochs):
            m = np.nanmean(vals[rep_rows, :, k], axis=1)
            say(f"  epoch {e:2d}: median {np.nanmedian(m):.3f}  Spearman with final {_spearman(m, mean_rep):.3f}")
    say("")

    order = np.argsort(-np.where(np.isfinite(mean_rep), mean_rep, -1))[:8]
    say("best classes (mean final val_acc over seeds; the representative cell shown):")
    for r in rep_rows[order]:
        a = space[int(held[r])]
        members = int((class_of == class_of[held[r]]).sum())
        say(f"  val {mean_cell[r]:.4f} +- {np.nanstd(final[r], ddof=1):.4f}  test "
            f"{np.nanmean(tests[r, :, -1]):.4f}  params {int(bench.query(a, 'params')):5d}  {members:3d} cells  {a}")
    say("")

    if "nb201-12epoch" in nv.bench.available():
        nb = nv.bench.load("nb201-12epoch")
        c10 = np.array([nb.query(space[int(i)], "cifar10_val_acc") for i in held])
        r_rep = _spearman(mean_rep, c10[rep_rows])
        r_all = _spearman(mean_cell, c10)
        live_rep = mean_rep >= 0.2
        r_live = _spearman(mean_rep[live_rep], c10[rep_rows][live_rep])
        figures.update(nb201_spearman_classes=r_rep, nb201_spearman_cells=r_all, nb201_spearman_live=r_live)
        say(f"Spearman with NAS-Bench-201 12-epoch CIFAR-10 validation accuracy: {r_rep:.3f} over class "
            f"representatives, {r_all:.3f} over all {len(held):,} cells held, {r_live:.3f} over classes above "
            "chance", "")

    if journal is not None:
        j = read_journal(journal)
        chunks = j["chunks"]
        runs = sum(len(c) for c in [j["runs"]])
        wall = sum(c["wall"] for c in chunks)
        cpu = sum(c["cpu"] for c in chunks)
        total = len(reps) * len(bench.seeds)
        from nasviz.bench.build import elapsed_seconds

        elapsed = elapsed_seconds(j)
        loads = [s.get("load", [float("nan")])[0] for s in j["segments"]]
        figures.update(runs=runs, elapsed_s=elapsed, worker_s=wall, cpu_s=cpu,
                       projected_quiet_h=cpu / max(runs, 1) * total / 2 / 3600)
        say(f"build: {runs:,} of {total:,} runs in {len(j['segments'])} build run(s); {elapsed / 60:.1f} min wall "
            f"clock ({runs / max(elapsed, 1e-9) * 60:.1f} runs/min), {wall / max(runs, 1):.2f} s worker time and "
            f"{cpu / max(runs, 1):.2f} s CPU per run; load average at the starts: "
            f"{', '.join(f'{x:.1f}' for x in loads)}",
            f"  projected: the remaining {total - runs:,} runs take {(total - runs) * wall / max(runs, 1) / 2 / 3600:.2f} h"
            f" at this build's pace on 2 workers; the whole table {figures['projected_quiet_h']:.2f} h on 2 quiet "
            "cores (from CPU seconds per run)")
        for s in sorted({s['machine'] for s in j['segments']}):
            say(f"  machine: {s}")
        codes = [s.get("code", "unrecorded") for s in j["segments"]]
        say(f"  training code fingerprints of the build runs: {', '.join(codes)}")
    else:
        say("build: " + bench.description.split("Built on ", 1)[-1])
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--journal", default=None, help="a build journal folder (finished or not)")
    parser.add_argument("--table", default=None, help="a table file written by Benchmark.save")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="with --journal: the seeds it was built with (default the recipe's, 0 1 2)")
    args = parser.parse_args(argv)
    import nasviz as nv
    from nasviz.bench.build import journal_table

    if args.journal:
        bench = journal_table("digits201", journal=args.journal, seeds=args.seeds, partial=True)
    elif args.table:
        bench = nv.bench.load(args.table)
    else:
        bench = nv.bench.load("digits201")
    report(bench, journal=args.journal)
    return 0


if __name__ == "__main__":
    sys.exit(main())
