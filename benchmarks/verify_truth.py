"""Retrain sampled classes of a table nasviz built, on this CPU, and compare with the table within its seed noise.

``nasviz.bench.build.verify`` retrains ``--cells`` random cells of the table (every seed of the
recipe, one network at a time with a plain loop, while the build trained fused chunks of 16), and
checks that the mean over the seeds is within the table's own seed noise: three times
``sqrt(2 / seeds)`` times the cell's standard deviation over seeds (or the table's median one, if
larger), plus half a validation image. For ``shifted201`` before it is finalized, the table is the
build journal's complete classes (``journal_table(..., partial=True)``): those classes' runs are
final, so the check is the same one the finished table would get for them.

Usage::

    python benchmarks/verify_truth.py shifted201 --cells 50
    python benchmarks/verify_truth.py digits201 --cells 5

Printed: one line per cell (table, retrained, difference, tolerance), then the count within
tolerance, the mean absolute difference, the mean of the retrained minus the table (a bias would
show there) and the seconds taken, with the load average.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("name", choices=("digits201", "shifted201"))
    parser.add_argument("--cells", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0, help="seeds the sample of cells")
    args = parser.parse_args(argv)

    import nasviz as nv
    from nasviz.bench.build import journal_table
    from nasviz.bench.build.verify import verify

    recipe = nv.bench.recipe(args.name)
    bench = nv.bench.load(args.name) if args.name in nv.bench.available() else journal_table(args.name, partial=True)
    start = time.perf_counter()
    rows = verify(bench, recipe, cells=args.cells, seed=args.seed)
    seconds = time.perf_counter() - start
    for r in rows:
        print(f"{r['arch']}  table {r['table']:.4f}  retrained {r['retrained']:.4f}  "
              f"diff {r['retrained'] - r['table']:+.4f}  tolerance {r['tolerance']:.4f}  {'ok' if r['ok'] else 'OUT'}")
    diffs = np.array([r["retrained"] - r["table"] for r in rows])
    one, five, fifteen = os.getloadavg()
    print(f"\n{sum(r['ok'] for r in rows)} of {len(rows)} within tolerance; mean |diff| {np.abs(diffs).mean():.4f}, "
          f"mean diff {diffs.mean():+.4f} (sd {diffs.std(ddof=1):.4f}); {seconds:.0f} s "
          f"(load average {one:.2f} {five:.2f} {fifteen:.2f})")


if __name__ == "__main__":
    main()
