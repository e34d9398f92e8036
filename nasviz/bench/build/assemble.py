"""From a journal's runs to the table: per-class arrays, every member of a class, params and FLOPs per cell.

Every member of a canonical class carries its representative's accuracies, loss and
seconds; ``params`` and ``flops`` are counted for each cell's own network, from exact
per-(edge, op) contributions (:func:`nasviz.model_stats.edge_decomposition`).
"""

from __future__ import annotations

import warnings

import numpy as np

from ...spaces.cell import CellSpace
from ..benchmark import Benchmark
from .journal import elapsed_seconds
from .recipes import Recipe

__all__ = ["cell_counts", "class_arrays", "table_from_runs"]

_EDGE_CACHE: dict = {}


def cell_counts(space: CellSpace, recipe: Recipe, check: int = 10):
    """``(params, flops)`` of the recipe's network for every cell of ``space`` (int arrays in index order),
    from exact per-(edge, op) contributions checked against direct counts on ``check`` random cells."""
    from ...model_stats import count_flops, count_params, edge_decomposition

    key = (space.ops, space.nodes, recipe.channels, recipe.cells_per_stage, recipe.resolution)
    if key in _EDGE_CACHE:
        return _EDGE_CACHE[key]
    shape = (1, recipe.resolution, recipe.resolution)

    def measure(ops):
        net = space.build(space.from_ops(ops), num_classes=10, in_channels=1, channels=recipe.channels,
                          cells_per_stage=recipe.cells_per_stage)
        return count_params(net), count_flops(net, shape)

    ops, n_edges = list(space.ops), len(space.edges)
    base, contrib = edge_decomposition(space, measure, check=check, seed=0)
    digits = np.array([[ops.index(op) for op in a.ops] for a in space.enumerate()], dtype=np.int64)
    totals = base + contrib[np.arange(n_edges), digits].sum(axis=1)
    _EDGE_CACHE[key] = (totals[:, 0], totals[:, 1])
    return _EDGE_CACHE[key]


def class_arrays(runs: dict, header: dict, recipe: Recipe, n_classes: int) -> dict:
    """Per class: ``val``, ``test`` ``(classes, seeds, epochs)`` (fractions), ``loss`` and ``seconds``
    ``(classes, seeds, 1)``; NaN where the journal lacks the run (or, but for seconds, where it failed)."""
    shape = (n_classes, len(recipe.seeds))
    val, test = np.full((*shape, recipe.epochs), np.nan), np.full((*shape, recipe.epochs), np.nan)
    loss, secs = np.full((*shape, 1), np.nan), np.full((*shape, 1), np.nan)
    for k in range(n_classes):
        for p, s in enumerate(recipe.seeds):
            r = runs.get((k, s))
            if r is None:
                continue
            secs[k, p, 0] = r["seconds"]
            if r.get("failed"):
                continue
            val[k, p] = np.asarray(r["val"], dtype=np.float64) / header["n_val"]
            test[k, p] = np.asarray(r["test"], dtype=np.float64) / header["n_test"]
            loss[k, p, 0] = r["loss"]
    return {"val": val, "test": test, "loss": loss, "seconds": secs}


def table_from_runs(name: str, journal: dict, recipe: Recipe, class_of: np.ndarray, reps: np.ndarray,
                    have: np.ndarray) -> Benchmark:
    """The table of a :func:`~nasviz.bench.build.read_journal` ``journal``: every cell whose class has a run
    (``have``: classes x seeds, which runs the journal holds); all cells when it holds every run."""
    space = CellSpace()
    n_classes, runs = len(reps), journal["runs"]
    done, total = int(have.sum()), have.size
    per_class = class_arrays(runs, journal["header"], recipe, n_classes)
    params, flops = (a.copy() for a in cell_counts(space, recipe))
    for r in runs.values():
        if (int(params[r["cell"]]), int(flops[r["cell"]])) != (r["params"], r["flops"]):
            raise RuntimeError(f"cell {r['cell']}: journal params/FLOPs {r['params']}/{r['flops']} differ from the "
                               f"count {params[r['cell']]}/{flops[r['cell']]}")
    rows, cls = None, class_of
    if done < total:
        rows = np.flatnonzero(have.any(axis=1)[class_of])
        cls = class_of[rows]
        params, flops = params[rows], flops[rows]
    secs = per_class["seconds"]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cost = np.nanmean(secs[cls, :, 0], axis=1)
    values = {"val_acc": per_class["val"][cls], "test_acc": per_class["test"][cls], "train_loss": per_class["loss"][cls],
              "params": params, "flops": flops, "train_seconds": secs[cls]}
    return Benchmark(name, space, values, default_metric="val_acc", epochs=list(range(1, recipe.epochs + 1)),
                     seeds=list(recipe.seeds), rows=rows, cost=cost, train_epochs=recipe.epochs,
                     description=describe(name, journal, recipe, n_classes, done, total))


def describe(name: str, journal: dict, recipe: Recipe, n_classes: int, done: int, total: int) -> str:
    """The table's description: what it is, its recipe, the machines and time of its build, its code."""
    wall = sum(c["wall"] for c in journal["chunks"])
    cpu = sum(c["cpu"] for c in journal["chunks"])
    elapsed = elapsed_seconds(journal)
    machines = sorted({s["machine"] for s in journal["segments"]})
    codes = sorted({s.get("code", "unrecorded") for s in journal["segments"]})
    return (
        f"{name}: every cell of NAS-Bench-201's cell space (nv.CellSpace(), 15,625 cells) trained by nasviz on "
        f"scikit-learn's handwritten digits{'' if recipe.canvas == 8 else ' pasted on a larger canvas'}. "
        f"Recipe: {recipe.describe()}. Isomorphic cells share one training: "
        f"one representative per canonical class (space.canonical, {n_classes:,} classes; the lowest space.index "
        "of the class) was trained, and every member of the class carries its representative's accuracies, loss "
        "and seconds; params and flops are counted for each cell's own network (a multiply-add is 2 FLOPs, input "
        f"1x{recipe.resolution}x{recipe.resolution}). val_acc/test_acc: accuracy after each epoch (fractions); "
        "train_loss: mean training loss of the last epoch; train_seconds and cost: MEASURED wall seconds per "
        f"cell (its share of its fused chunk) on one CPU thread. Built on {'; '.join(machines) or 'unknown'} "
        f"with {len(journal['segments'])} build run(s): {elapsed / 3600:.2f} h wall clock, {wall / 3600:.2f} h of "
        f"worker time ({cpu / 3600:.2f} h CPU); training code fingerprint(s) {', '.join(codes)} "
        f"(nasviz.bench.build.code_fingerprint). {done:,} of {total:,} (class, seed) runs."
    )
