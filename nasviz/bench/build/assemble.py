"""From a journal's runs to the table: per-class arrays, every member of a class, params and FLOPs per cell.

Every member of a canonical class carries its representative's accuracies, loss and
seconds; ``params`` and ``flops`` are counted for each cell's own network: in a
:class:`~nasviz.CellSpace` from exact per-(edge, op) contributions
(:func:`nasviz.model_stats.edge_decomposition`), in any other space (a
:class:`~nasviz.MacroSpace`, whose every member is its own class) by counting each
architecture's network directly (:func:`network_counts`).
"""

from __future__ import annotations

import json
import warnings

import numpy as np

from ...spaces.cell import CellSpace
from ..benchmark import Benchmark
from .journal import elapsed_seconds
from .recipes import Recipe

__all__ = ["cell_counts", "class_arrays", "network_counts", "table_from_runs"]

_EDGE_CACHE: dict = {}
_NETWORK_CACHE: dict = {}  # recipe identity -> {space.index: (params, flops)}


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


def network_counts(space, recipe: Recipe, indices) -> tuple[np.ndarray, np.ndarray]:
    """``(params, flops)`` of the network of each ``space[i]``, ``i`` in ``indices`` (int arrays in that order),
    counted directly: ``nv.count_params`` and ``nv.count_flops`` of ``space.build(arch, num_classes=10,
    in_channels=1)`` on one ``(1, resolution, resolution)`` image. Counts are kept per recipe for the process.

    Examples
    --------
    >>> from nasviz.bench.build.recipes import RECIPES
    >>> recipe = RECIPES["shifted-layers"]
    >>> space = recipe.make_space()
    >>> str(space[0]), network_counts(space, recipe, [0])  # conv 72 + batch norm 16 + linear 90
    ('conv(8,k3,s1,relu,d0.0)', (array([178]), array([20896])))
    """
    from ...model_stats import count_flops, count_params

    cache = _NETWORK_CACHE.setdefault(json.dumps(recipe.identity(), sort_keys=True), {})
    shape = (1, recipe.resolution, recipe.resolution)
    out = []
    for i in indices:
        i = int(i)
        if i not in cache:
            net = space.build(space[i], num_classes=10, in_channels=1)
            cache[i] = (count_params(net), count_flops(net, shape))
        out.append(cache[i])
    counts = np.array(out, dtype=np.int64).reshape(len(out), 2)
    return counts[:, 0], counts[:, 1]


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
    """The table of a :func:`~nasviz.bench.build.read_journal` ``journal`` over ``recipe.make_space()``: every
    cell whose class has a run (``have``: classes x seeds, which runs the journal holds); all cells when it holds
    every run. The journal's params and FLOPs of each run must match the counts."""
    space = recipe.make_space()
    n_classes, runs = len(reps), journal["runs"]
    done, total = int(have.sum()), have.size
    per_class = class_arrays(runs, journal["header"], recipe, n_classes)
    rows, cls = None, class_of
    if done < total:
        rows = np.flatnonzero(have.any(axis=1)[class_of])
        cls = class_of[rows]
    if isinstance(space, CellSpace):
        params, flops = (a.copy() for a in cell_counts(space, recipe))
        count = {int(i): (int(params[i]), int(flops[i])) for i in {r["cell"] for r in runs.values()}}
        if rows is not None:
            params, flops = params[rows], flops[rows]
    else:  # every member is its own class: count the networks held
        held = np.arange(len(space)) if rows is None else rows
        params, flops = network_counts(space, recipe, held)
        count = {int(i): (int(p), int(f)) for i, p, f in zip(held, params, flops)}
    for r in runs.values():
        mine = count.get(int(r["cell"]))
        if r.get("failed") and not r["params"]:
            continue  # an exception before the network was counted
        if mine != (r["params"], r["flops"]):
            raise RuntimeError(f"cell {r['cell']}: journal params/FLOPs {r['params']}/{r['flops']} differ from the "
                               f"count {mine}")
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
    if recipe.space is not None:
        return _describe_layers(name, journal, recipe, n_classes, done, total, wall, cpu, elapsed, machines, codes)
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


def _describe_layers(name, journal, recipe, n, done, total, wall, cpu, elapsed, machines, codes) -> str:
    """:func:`describe` for a layer-chain table: every architecture its own class, trained on its own."""
    space = recipe.make_space()
    layers = space.max_layers
    head = ("no hidden fully connected layer" if not space.max_fc_layers else
            f"0 to {space.max_fc_layers} hidden fully connected layers of {'/'.join(map(str, space.fc_units))} units")
    return (
        f"{name}: every architecture of a layer-chain space (nv.MacroSpace, {n:,} architectures: chains of 1 to "
        f"{layers} layers of {', '.join(space.ops)}, then global average pooling, {head} and a linear classifier) "
        f"trained by nasviz on scikit-learn's handwritten digits{'' if recipe.canvas == 8 else ' pasted on a larger canvas'}. "
        f"Recipe: {recipe.describe()}. Every architecture is its own class (space.canonical is its string), trained "
        "for each seed; params and flops are counted for each architecture's "
        f"own network (a multiply-add is 2 FLOPs, input 1x{recipe.resolution}x{recipe.resolution}). val_acc/test_acc: "
        "accuracy after each epoch (fractions); train_loss: mean training loss of the last epoch; train_seconds and "
        "cost: MEASURED wall seconds of each architecture's own training run (building and counting its network "
        f"included) on one CPU thread. Built on {'; '.join(machines) or 'unknown'} with {len(journal['segments'])} "
        f"build run(s): {elapsed / 3600:.2f} h wall clock, {wall / 3600:.2f} h of worker time ({cpu / 3600:.2f} h CPU); "
        f"training code fingerprint(s) {', '.join(codes)} (nasviz.bench.build.code_fingerprint). {done:,} of "
        f"{total:,} (architecture, seed) runs."
    )
