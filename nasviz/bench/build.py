"""Build the ``digits201`` table with nasviz's own training code: resumable, on every core.

``python -m nasviz.bench build digits201`` (also ``nasviz bench build digits201``)
trains one representative of each of the 6,466 canonical classes of
:class:`~nasviz.CellSpace` (isomorphic cells compute the same function, so they share
one training: the lowest ``space.index`` of each class is trained, and every member
of the class gets its values) for each seed of the recipe
(:mod:`nasviz.bench.recipes`), and appends the results to a journal.

The journal is a folder (default ``nasviz/bench/journal/digits201/``):

- ``recipe.json``: the recipe it was built with, the number of classes and the sizes
  of the validation and test sets. A build with another recipe refuses to append.
- ``seg-<UTC time>-<pid>.jsonl.gz``: one file per build run. Each finished chunk
  (``recipe.chunk`` classes trained with one seed as one fused network) is appended
  as its own gzip member holding one JSON line, flushed and synced at once; a killed
  build loses at most the chunks in flight, and a member cut short by the kill is
  ignored when reading.

Classes are grouped into chunks in a fixed random order (``recipe.order_seed``), so
the chunks, and so the numbers, do not depend on how the build was split into runs,
and any finished prefix is a uniform random sample of the classes. ``--limit N``
builds the chunks holding the first ``N`` classes of that order. A finished (class,
seed) pair is never trained again.

:func:`finalize` assembles a complete journal into ``nasviz/bench/data/digits201.npz``
(:meth:`Benchmark.save`) and prints its sha256. An incomplete journal is refused
unless ``partial=True``, which writes the cells done so far to another path.

Examples
--------
>>> import tempfile, nasviz as nv
>>> from nasviz.bench.build import build, finalize
>>> from nasviz.bench.recipes import Recipe
>>> tiny = Recipe(channels=2, epochs=1, seeds=(0,), chunk=2)
>>> tmp = tempfile.mkdtemp()
>>> build(recipe=tiny, journal=tmp + "/j", limit=2, workers=1, progress=False)["trained"]
2
>>> bench = finalize(recipe=tiny, journal=tmp + "/j", out=tmp + "/t.npz", partial=True, verbose=False)
>>> nv.bench.load(tmp + "/t.npz").metrics[:3]
['val_acc', 'test_acc', 'train_loss']
>>> import shutil; shutil.rmtree(tmp)
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import platform
import sys
import time
import zlib
from pathlib import Path

import numpy as np

from ..errors import InvalidArgumentError, NasvizError
from ..spaces.cell import CellSpace
from .recipes import Recipe, get_recipe
from .tables import sha256

__all__ = ["CODE_FILES", "JOURNAL_DIR", "IncompleteBuildError", "build", "canonical_classes", "code_fingerprint",
           "finalize", "journal_table", "read_journal", "sha256", "status", "verify"]

JOURNAL_DIR = Path(__file__).resolve().parent / "journal"
_FORMAT = 1


class IncompleteBuildError(NasvizError):
    """The journal does not hold every (class, seed) run yet."""


# -- classes and plan ----------------------------------------------------------------
_CLASSES: dict = {}


def canonical_classes(space: CellSpace | None = None):
    """``(class_of, representatives)`` of ``space``'s isomorphism classes (``space.canonical``).

    ``representatives[k]`` is the lowest ``space.index`` of class ``k`` (classes are
    numbered in that order) and ``class_of[i]`` the class of ``space[i]``.

    Examples
    --------
    >>> class_of, reps = canonical_classes()
    >>> len(class_of), len(reps), int(reps[0]), int(class_of[reps[5]])
    (15625, 6466, 0, 5)
    """
    space = CellSpace() if space is None else space
    key = (tuple(space._ops), space.nodes)
    if key not in _CLASSES:
        first: dict = {}
        class_of = np.empty(len(space), dtype=np.int64)
        reps = []
        for i, arch in enumerate(space.enumerate()):
            form = space.canonical(arch)
            if form not in first:
                first[form] = len(reps)
                reps.append(i)
            class_of[i] = first[form]
        reps = np.array(reps, dtype=np.int64)
        class_of.flags.writeable = False
        reps.flags.writeable = False
        _CLASSES[key] = (class_of, reps)
    return _CLASSES[key]


def _chunks(recipe: Recipe, n_classes: int) -> list[np.ndarray]:
    order = np.random.default_rng(recipe.order_seed).permutation(n_classes)
    return [np.sort(order[s:s + recipe.chunk]) for s in range(0, n_classes, recipe.chunk)]


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import torch

        tv = torch.__version__
    except ImportError:  # pragma: no cover
        tv = "?"
    return f"{platform.system()} {platform.machine()}, {model}, {os.cpu_count()} logical CPUs, torch {tv}"


#: The source files whose code decides a run's numbers (besides torch): their sha256 is journaled per build run.
CODE_FILES = ("estimators/training.py", "estimators/_batched.py", "spaces/_cell_model.py", "spaces/cell.py",
              "data.py", "bench/recipes.py")


def code_fingerprint() -> str:
    """sha256 (first 16 hex digits) of :data:`CODE_FILES`: a build run records the code it trained with.

    A resumed build with other code (or another torch) gives numbers that differ from
    a one-go build by floating-point rounding, which a few epochs of training amplify
    to about the size of the seed noise; the journal keeps the fingerprint of every run.
    """
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for name in CODE_FILES:
        h.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return h.hexdigest()[:16]




# -- journal -------------------------------------------------------------------------
def _journal_path(name: str, journal) -> Path:
    return JOURNAL_DIR / name if journal is None else Path(journal)


def _header(name: str, recipe: Recipe, n_classes: int, data) -> dict:
    return {"format": _FORMAT, "table": name, "recipe": recipe.identity(), "classes": int(n_classes),
            "n_val": len(data.y_val), "n_test": len(data.y_test)}


def _check_header(path: Path, header: dict) -> None:
    file = path / "recipe.json"
    if not file.is_file():
        path.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(header, indent=1, sort_keys=True) + "\n")
        return
    old = json.loads(file.read_text())
    if old != header:
        diff = sorted(k for k in set(old.get("recipe", {})) | set(header["recipe"])
                      if old.get("recipe", {}).get(k) != header["recipe"].get(k))
        other = sorted(k for k in set(old) | set(header) if k != "recipe" and old.get(k) != header.get(k))
        raise InvalidArgumentError(
            f"the journal {str(path)!r} was built with another recipe (differs in {diff + other}: journal "
            f"{ {k: old.get('recipe', {}).get(k, old.get(k)) for k in diff + other} }, asked "
            f"{ {k: header['recipe'].get(k, header.get(k)) for k in diff + other} }); use the journal's recipe "
            "or another --journal folder")


def _read_members(file: Path):
    """The JSON records of one segment file; a member cut short by a kill ends the file."""
    data = file.read_bytes()
    records = []
    while data:
        d = zlib.decompressobj(wbits=31)
        try:
            text = d.decompress(data)
        except zlib.error:
            break
        if not d.eof:
            break
        for line in text.decode("utf-8", "replace").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                pass
        data = d.unused_data
    return records


def read_journal(journal) -> dict:
    """Everything in a journal folder: ``header``, ``runs`` ({(class, seed): cell record}),
    ``chunks`` (chunk records without their cells) and ``segments`` (start records).

    A (class, seed) pair that appears twice (two builds racing) keeps its first record.
    """
    path = Path(journal)
    file = path / "recipe.json"
    if not file.is_file():
        raise InvalidArgumentError(f"{str(path)!r} is not a build journal (no recipe.json); start a build with "
                                   "'python -m nasviz.bench build digits201 --journal PATH'")
    header = json.loads(file.read_text())
    runs, chunks, segments = {}, [], []
    for seg in sorted(path.glob("seg-*.jsonl.gz")):
        for rec in _read_members(seg):
            if "segment" in rec:
                segments.append(dict(rec, file=seg.name))
                continue
            if "cells" not in rec:
                continue
            seed = int(rec["seed"])
            for cell in rec["cells"]:
                runs.setdefault((int(cell["class"]), seed), dict(cell, seed=seed))
            chunks.append({k: v for k, v in rec.items() if k != "cells"} | {"file": seg.name})
    return {"header": header, "runs": runs, "chunks": chunks, "segments": segments}


class _Segment:
    """One build run's append-only file: each record a gzip member, synced at once."""

    def __init__(self, path: Path):
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        self.file = path / f"seg-{stamp}-{os.getpid()}.jsonl.gz"
        self._f = open(self.file, "ab")  # noqa: SIM115 (kept open for the build run, closed by close())

    def append(self, record: dict) -> None:
        line = json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"
        self._f.write(gzip.compress(line.encode(), compresslevel=9, mtime=0))
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()


# -- training (runs in worker processes) ---------------------------------------------
_WORKER: dict = {}


def _init_worker() -> None:
    import signal

    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the main process, which stops the pool
    torch.set_num_threads(1)


def _train_chunk(task) -> dict:
    """Train one chunk (its classes' representatives, one seed) as one fused network."""
    recipe_dict, seed, chunk_id, classes, cells, n_val, n_test = task
    import torch

    recipe = Recipe.from_dict(recipe_dict)
    key = json.dumps(recipe.identity(), sort_keys=True)
    if _WORKER.get("key") != key:
        _WORKER.update(key=key, data=recipe.data(), space=CellSpace())
    space, data = _WORKER["space"], _WORKER["data"]
    est = recipe.estimator(seed, data=data)
    wall, cpu = time.perf_counter(), time.process_time()
    results = est.evaluate_many([space[int(i)] for i in cells])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    out = []
    for k, i, r in zip(classes, cells, results):
        m = r.metrics
        rec = {"class": int(k), "cell": int(i), "params": int(m.get("params", 0)), "flops": int(m.get("flops", 0)),
               "seconds": round(float(r.cost), 4)}
        if r.status != "ok":
            rec.update(failed=str(r.error), val=None, test=None, loss=None)
        else:
            rec.update(val=[round(v * n_val) for v in m["val_curve"]],
                       test=[round(v * n_test) for v in m["test_curve"]],
                       loss=float(f"{m['train_loss']:.6g}"))
        out.append(rec)
    return {"chunk": int(chunk_id), "seed": int(seed), "wall": round(wall, 3), "cpu": round(cpu, 3),
            "threads": torch.get_num_threads(), "end": round(time.time(), 1), "cells": out}


# -- build ---------------------------------------------------------------------------
def _resolve(name, recipe, seeds) -> Recipe:
    recipe = get_recipe(name) if recipe is None else recipe
    if seeds is not None:
        recipe = recipe.with_seeds(seeds)
    return recipe


def status(name: str = "digits201", *, recipe: Recipe | None = None, seeds=None, journal=None) -> dict:
    """``done``/``total`` (class, seed) runs of a journal for the recipe's seeds, and ``classes``."""
    recipe = _resolve(name, recipe, seeds)
    path = _journal_path(name, journal)
    n_classes = len(canonical_classes()[1])
    runs = read_journal(path)["runs"] if (path / "recipe.json").is_file() else {}
    done = sum((k, s) in runs for k in range(n_classes) for s in recipe.seeds)
    return {"done": done, "total": n_classes * len(recipe.seeds), "classes": n_classes, "seeds": recipe.seeds}


def build(name: str = "digits201", *, recipe: Recipe | None = None, seeds=None, workers: int = 2,
          limit: int | None = None, journal=None, progress: bool = True) -> dict:
    """Train every (class, seed) run of the recipe that the journal lacks; append each finished chunk.

    Parameters
    ----------
    name : str
        The table (its recipe is ``RECIPES[name]`` unless ``recipe`` is given).
    recipe : Recipe, optional
        Another recipe (tests use tiny ones); its journal must be its own.
    seeds : sequence of int, optional
        Train these seeds instead of the recipe's.
    workers : int
        Worker processes, one CPU thread each; 1 trains in this process.
    limit : int, optional
        Only the chunks that hold the first ``limit`` classes of the build order.
    journal : path, optional
        The journal folder (default ``nasviz/bench/journal/<name>``).
    progress : bool
        Print a start line and a tqdm bar with the ETA (to stderr).

    Returns
    -------
    dict
        ``trained`` (runs trained now), ``done`` and ``total`` (runs in the journal for
        these seeds, of all), ``seconds`` (wall time of this call), ``journal``.
    """
    from ..data import digits

    recipe = _resolve(name, recipe, seeds)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidArgumentError(f"workers must be an integer >= 1, got {workers!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidArgumentError(f"limit must be a number of classes >= 1 (or None for all), got {limit!r}")
    path = _journal_path(name, journal)
    space = CellSpace()
    _, reps = canonical_classes(space)
    data = digits(resolution=recipe.resolution)
    header = _header(name, recipe, len(reps), data)
    _check_header(path, header)
    state = read_journal(path)
    runs = state["runs"]
    chunks = _chunks(recipe, len(reps))
    if limit is not None:
        chunks = chunks[:math.ceil(min(limit, len(reps)) / recipe.chunk)]
    tasks = []
    for j, classes in enumerate(chunks):
        for s in recipe.seeds:
            if not all((int(k), s) in runs for k in classes):
                tasks.append((recipe.to_dict(), s, j, [int(k) for k in classes], [int(reps[k]) for k in classes],
                              header["n_val"], header["n_test"]))
    total = len(reps) * len(recipe.seeds)
    done = sum((k, s) in runs for k in range(len(reps)) for s in recipe.seeds)
    todo = sum(len(t[3]) for t in tasks)
    start = time.perf_counter()
    summary = {"trained": 0, "done": done, "total": total, "seconds": 0.0, "journal": str(path)}
    if progress:
        print(f"{name}: {done:,} of {total:,} (class, seed) runs in {path}; training {todo:,} in {len(tasks):,} "
              f"chunks of {recipe.chunk} with {workers} worker process{'es' if workers > 1 else ''}",
              file=sys.stderr, flush=True)
    if not tasks:
        return summary
    code = code_fingerprint()
    earlier = sorted({seg.get("code", "unrecorded") for seg in state["segments"]} - {code})
    if progress and earlier:
        print(f"{name}: note: earlier build runs trained with other code ({', '.join(earlier)}; now {code}): "
              "results differ from a one-go build by rounding, amplified by training to about the seed noise",
              file=sys.stderr, flush=True)
    segment = _Segment(path)
    segment.append({"segment": 1, "start": round(time.time(), 1), "machine": _machine(), "workers": workers,
                    "load": [round(x, 2) for x in os.getloadavg()], "nice": os.nice(0), "code": code})
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=todo, unit="run", desc=name, file=sys.stderr, mininterval=2.0, smoothing=0.05)
    pool = None
    old_term = _on_sigterm_interrupt()
    try:
        if workers == 1:
            import torch

            old = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                results = map(_train_chunk, tasks)
                _collect(results, segment, summary, bar)
            finally:
                torch.set_num_threads(old)
        else:
            import multiprocessing as mp

            pool = mp.get_context("spawn").Pool(workers, initializer=_init_worker)
            _collect(pool.imap_unordered(_train_chunk, tasks), segment, summary, bar)
            pool.close()
            pool.join()
            pool = None
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        segment.close()
        _restore_sigterm(old_term)
        if bar is not None:
            bar.close()
        summary["seconds"] = time.perf_counter() - start
    if progress:
        print(f"{name}: {summary['done']:,} of {total:,} runs done; this run trained {summary['trained']:,} in "
              f"{summary['seconds']:.0f} s", file=sys.stderr, flush=True)
    return summary


def _on_sigterm_interrupt():
    """Make SIGTERM (``timeout``, ``kill``) stop a build like Ctrl-C: the pool is terminated, finished chunks kept."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    return signal.signal(signal.SIGTERM, interrupt)


def _restore_sigterm(old):
    import signal
    import threading

    if old is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, old)


def _collect(results, segment, summary, bar):
    for rec in results:
        segment.append(rec)
        n = len(rec["cells"])
        summary["trained"] += n
        summary["done"] += n
        if bar is not None:
            bar.update(n)


_EDGE_CACHE: dict = {}


# -- finalize ------------------------------------------------------------------------
def _edge_decomposition(space: CellSpace, recipe: Recipe, check: int = 10):
    """Exact per-(edge, op) params and FLOPs of the recipe's network (checked on random cells)."""
    from ..model_stats import count_flops, count_params, edge_decomposition

    key = (tuple(space._ops), space.nodes, recipe.channels, recipe.cells_per_stage, recipe.resolution)
    if key in _EDGE_CACHE:
        return _EDGE_CACHE[key]
    shape = (1, recipe.resolution, recipe.resolution)

    def measure(ops):
        net = space.build(space.from_ops(ops), num_classes=10, in_channels=1, channels=recipe.channels,
                          cells_per_stage=recipe.cells_per_stage)
        return count_params(net), count_flops(net, shape)

    ops, n_edges = list(space._ops), len(space.edges)
    base, contrib = edge_decomposition(space, measure, check=check, seed=0)
    digits = np.array([[ops.index(op) for op in a.ops] for a in space.enumerate()], dtype=np.int64)
    totals = base + contrib[np.arange(n_edges), digits].sum(axis=1)
    _EDGE_CACHE[key] = (totals[:, 0], totals[:, 1])
    return _EDGE_CACHE[key]


def journal_table(name: str = "digits201", *, recipe: Recipe | None = None, seeds=None, journal=None,
                  partial: bool = False):
    """The journal as a :class:`Benchmark` over all cells (``partial``: the cells of classes with a run).

    Raises :class:`IncompleteBuildError` if runs are missing and ``partial`` is False.
    """
    return _journal_table(name, recipe=recipe, seeds=seeds, journal=journal, partial=partial)[0]


def _journal_table(name, *, recipe, seeds, journal, partial):
    from .benchmark import Benchmark

    recipe = _resolve(name, recipe, seeds)
    path = _journal_path(name, journal)
    j = read_journal(path)
    header = j["header"]
    if header.get("recipe") != recipe.identity():
        raise InvalidArgumentError(f"the journal {str(path)!r} was built with another recipe: {header.get('recipe')}")
    runs = j["runs"]
    space = CellSpace()
    class_of, reps = canonical_classes(space)
    n_classes, S, E = len(reps), len(recipe.seeds), recipe.epochs
    total = n_classes * S
    have = np.array([[(k, s) in runs for s in recipe.seeds] for k in range(n_classes)])
    done = int(have.sum())
    if done < total and not partial:
        raise IncompleteBuildError(
            f"the journal {str(path)!r} holds {done:,} of the {total:,} (class, seed) runs of table {name!r} "
            f"({100 * done / total:.1f}%); continue the build with 'python -m nasviz.bench build {name}', or pass "
            "--partial --out PATH to write the cells done so far")
    val = np.full((n_classes, S, E), np.nan)
    test = np.full((n_classes, S, E), np.nan)
    loss = np.full((n_classes, S, 1), np.nan)
    secs = np.full((n_classes, S, 1), np.nan)
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
    params, flops = (a.copy() for a in _edge_decomposition(space, recipe))
    for r in runs.values():
        if (int(params[r["cell"]]), int(flops[r["cell"]])) != (r["params"], r["flops"]):
            raise RuntimeError(f"cell {r['cell']}: journal params/FLOPs {r['params']}/{r['flops']} differ from the "
                               f"count {params[r['cell']]}/{flops[r['cell']]}")
    rows = None
    cls = class_of
    if done < total:
        rows = np.flatnonzero(have.any(axis=1)[class_of])
        cls = class_of[rows]
        params, flops = params[rows], flops[rows]
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            cost = np.nanmean(secs[cls, :, 0], axis=1)
    values = {"val_acc": val[cls], "test_acc": test[cls], "train_loss": loss[cls], "params": params,
              "flops": flops, "train_seconds": secs[cls]}
    wall = sum(c["wall"] for c in j["chunks"])
    cpu = sum(c["cpu"] for c in j["chunks"])
    elapsed = _elapsed(j)
    machines = sorted({s["machine"] for s in j["segments"]})
    codes = sorted({s.get("code", "unrecorded") for s in j["segments"]})
    description = (
        f"{name}: every cell of NAS-Bench-201's cell space (nv.CellSpace(), 15,625 cells) trained by nasviz on "
        f"scikit-learn's handwritten digits. Recipe: {recipe.describe()}. Isomorphic cells share one training: "
        f"one representative per canonical class (space.canonical, {n_classes:,} classes; the lowest space.index "
        "of the class) was trained, and every member of the class carries its representative's accuracies, loss "
        "and seconds; params and flops are counted for each cell's own network (a multiply-add is 2 FLOPs, input "
        f"1x{recipe.resolution}x{recipe.resolution}). val_acc/test_acc: accuracy after each epoch (fractions); "
        "train_loss: mean training loss of the last epoch; train_seconds and cost: MEASURED wall seconds per "
        f"cell (its share of its fused chunk) on one CPU thread. Built on {'; '.join(machines) or 'unknown'} "
        f"with {len(j['segments'])} build run(s): {elapsed / 3600:.2f} h wall clock, {wall / 3600:.2f} h of "
        f"worker time ({cpu / 3600:.2f} h CPU); training code fingerprint(s) {', '.join(codes)} "
        f"(nasviz.bench.build.code_fingerprint). {done:,} of {total:,} (class, seed) runs."
    )
    bench = Benchmark(name, space, values, default_metric="val_acc", epochs=list(range(1, E + 1)),
                      seeds=list(recipe.seeds), rows=rows, cost=cost, train_epochs=E, description=description)
    return bench, done, total


def _elapsed(j: dict) -> float:
    """Wall-clock seconds of all build runs (segment start to its last chunk)."""
    ends: dict = {}
    for c in j["chunks"]:
        ends[c["file"]] = max(ends.get(c["file"], 0.0), c["end"])
    return float(sum(ends[s["file"]] - s["start"] for s in j["segments"] if s["file"] in ends))


def finalize(name: str = "digits201", *, recipe: Recipe | None = None, seeds=None, journal=None, out=None,
             partial: bool = False, verbose: bool = True):
    """Write the journal as the table's NPZ (:meth:`Benchmark.save`) and return the :class:`Benchmark`.

    ``out`` defaults to ``nasviz/bench/data/<name>.npz`` for a complete journal; a
    partial table (``partial=True``) needs an ``out`` of its own.
    """
    from .tables import DATA_DIR, TABLES

    shipped = (DATA_DIR / TABLES[name][0]).resolve() if name in TABLES else None
    bench, done, total = _journal_table(name, recipe=recipe, seeds=seeds, journal=journal, partial=partial)
    complete = done == total
    if out is None:
        if not complete:
            raise InvalidArgumentError("a partial table needs an output path of its own: pass --out PATH")
        out = shipped
    out = Path(out)
    if not complete and shipped is not None and out.resolve() == shipped:
        raise InvalidArgumentError(f"a partial table may not be written to the shipped file {str(out)!r}; "
                                   "pass another --out PATH")
    out.parent.mkdir(parents=True, exist_ok=True)
    bench.save(out)
    if verbose:
        print(f"wrote {out} ({out.stat().st_size:,} bytes, {len(bench):,} cells)\nsha256 {sha256(out)}")
    return bench


# -- verification --------------------------------------------------------------------
def verify(bench, recipe: Recipe, *, cells: int = 3, seed: int = 0, epoch: int | None = None) -> list[dict]:
    """Retrain ``cells`` sampled trained cells with ``recipe`` (every seed, one at a time) and compare
    with ``bench``.

    The tolerance is the table's own seed noise. A retraining with the same seeds
    differs from the table by floating-point rounding (one network alone instead of a
    fused chunk), which training amplifies to at most about a fresh seed's difference;
    the mean over ``S`` seeds of such a retraining then differs from the table's mean
    with a standard deviation of about ``sqrt(2 / S) * sigma``. ``sigma`` is the cell's
    standard deviation over seeds in the table, or the median over the table's cells
    if that is larger (three seeds estimate one cell's noise poorly); the tolerance is
    three times that deviation plus half a validation image.
    Returns one dict per cell: ``arch``, ``table``, ``retrained``, ``tolerance``, ``ok``.
    """
    import warnings

    rng = np.random.default_rng(seed)
    pos = -1 if epoch is None else bench.epochs.index(epoch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        arr = np.asarray(bench._values["val_acc"])[:, :, pos]
        stds = np.nanstd(arr, axis=1, ddof=1)
    median_std = float(np.nanmedian(stds))
    held = [a for a in bench.archs() if np.isfinite(bench.query(a, "val_acc"))]
    picks = [held[int(i)] for i in rng.choice(len(held), size=min(cells, len(held)), replace=False)]
    n_val = len(recipe.data().y_val)
    data = recipe.data()
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    out = []
    try:
        for arch in picks:
            scores = []
            for s in recipe.seeds:
                r = recipe.estimator(s, data=data).evaluate(arch)
                scores.append(r.metrics["val_curve"][(epoch or recipe.epochs) - 1] if r.status == "ok" else math.nan)
            table = bench.query(arch, "val_acc", epoch=epoch)
            mine = float(np.nanmean(scores))
            sigma = max(float(np.nan_to_num(stds[bench._row(arch)])), median_std)
            tol = 3 * math.sqrt(2 / len(recipe.seeds)) * sigma + 0.5 / n_val
            out.append({"arch": str(arch), "table": table, "retrained": mine, "tolerance": tol,
                        "ok": abs(mine - table) <= tol})
    finally:
        torch.set_num_threads(old)
    return out
