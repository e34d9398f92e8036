"""The build side of :mod:`nasviz.bench`: the tables nasviz trains itself, and the NB201 conversion.

``python -m nasviz.bench build digits201`` (also ``nasviz bench build digits201``)
trains one representative of each of the 6,466 canonical classes of
:class:`~nasviz.CellSpace` (isomorphic cells compute the same function, so they share
one training: the lowest ``space.index`` of each class is trained, and every member
of the class gets its values) for each seed of the recipe
(:mod:`nasviz.bench.build.recipes`), and appends the results to a journal
(:mod:`~nasviz.bench.build.journal`, default ``nasviz/bench/journal/digits201/``): a
killed build loses at most the chunks in flight, and a build with another recipe
refuses to append.

A recipe may name another space (``Recipe.space``): ``python -m nasviz.bench build
shifted-layers`` trains every architecture of a small :class:`~nasviz.MacroSpace`,
each its own class, one network after another inside a chunk
(``recipe.make_space()`` decides; :mod:`~nasviz.bench.build.plan`).

Classes are grouped into chunks in a fixed random order (``recipe.order_seed``,
:mod:`~nasviz.bench.build.plan`), so the chunks, and so the numbers, do not depend on
how the build was split into runs, and any finished prefix is a uniform random sample
of the classes. ``--limit N`` builds the chunks holding the first ``N`` classes of that
order. A finished (class, seed) pair is never trained again. Each chunk of cells is
trained as one fused network in a worker process (:mod:`~nasviz.bench.build.worker`).

:func:`finalize` assembles a complete journal into ``nasviz/bench/data/digits201.npz``
(:mod:`~nasviz.bench.build.assemble`, :meth:`Benchmark.save`) and prints its sha256. An
incomplete journal is refused unless ``partial=True``, which writes the cells done so
far to another path. :func:`verify` retrains sampled cells and compares them with a
table. ``python -m nasviz.bench.build.convert_nb201`` converts NAS-Bench-201's 12-epoch
CSV into the shipped ``nb201-12epoch`` table.

This side sits above :mod:`nasviz.estimators` (it trains with ``Training``); the read
side (``nv.bench.load``, :class:`~nasviz.bench.Benchmark`) never imports it.

Examples
--------
>>> import tempfile, nasviz as nv
>>> from nasviz.bench.build import build, finalize
>>> from nasviz.bench.build.recipes import Recipe
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

import os
import sys
import time
from pathlib import Path

import numpy as np

from ...errors import InvalidArgumentError
from ..tables import sha256
from .assemble import table_from_runs
from .journal import (
    JOURNAL_DIR,
    IncompleteBuildError,
    Segment,
    _check_header,
    _header,
    elapsed_seconds,
    journal_path,
    read_journal,
)
from .plan import canonical_classes, tasks
from .provenance import CODE_FILES, code_files, code_fingerprint, machine
from .recipes import Recipe, get_recipe
from .verify import verify
from .worker import run_tasks

__all__ = ["CODE_FILES", "JOURNAL_DIR", "IncompleteBuildError", "Recipe", "build", "canonical_classes",
           "code_fingerprint", "elapsed_seconds", "finalize", "journal_table", "read_journal", "sha256", "status",
           "verify"]


def _resolve(name, recipe, seeds) -> Recipe:
    recipe = get_recipe(name) if recipe is None else recipe
    if seeds is not None:
        recipe = recipe.with_seeds(seeds)
    return recipe


def _have(runs: dict, recipe: Recipe, n_classes: int) -> np.ndarray:
    """Which (class, seed) runs the journal holds: booleans, classes x the recipe's seeds."""
    return np.array([[(k, s) in runs for s in recipe.seeds] for k in range(n_classes)], dtype=bool).reshape(
        n_classes, len(recipe.seeds))


def status(name: str = "digits201", *, recipe: Recipe | None = None, seeds=None, journal=None) -> dict:
    """``done``/``total`` (class, seed) runs of a journal for the recipe's seeds, and ``classes``."""
    recipe = _resolve(name, recipe, seeds)
    path = journal_path(name, journal)
    n_classes = len(canonical_classes(recipe.make_space())[1])
    runs = read_journal(path)["runs"] if (path / "recipe.json").is_file() else {}
    done = int(_have(runs, recipe, n_classes).sum())
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
    recipe = _resolve(name, recipe, seeds)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidArgumentError(f"workers must be an integer >= 1, got {workers!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidArgumentError(f"limit must be a number of classes >= 1 (or None for all), got {limit!r}")
    path = journal_path(name, journal)
    _, reps = canonical_classes(recipe.make_space())
    header = _header(name, recipe, len(reps), recipe.data())
    _check_header(path, header)
    state = read_journal(path)
    todo = tasks(recipe, reps, state["runs"], header, limit)
    n_runs = sum(len(t[3]) for t in todo)  # (class, seed) runs to train
    start = time.perf_counter()
    summary = {"trained": 0, "done": int(_have(state["runs"], recipe, len(reps)).sum()),
               "total": len(reps) * len(recipe.seeds), "seconds": 0.0, "journal": str(path)}
    if progress:
        print(f"{name}: {summary['done']:,} of {summary['total']:,} (class, seed) runs in {path}; training "
              f"{n_runs:,} in {len(todo):,} chunks of {recipe.chunk} with {workers} worker "
              f"process{'es' if workers > 1 else ''}", file=sys.stderr, flush=True)
    if not todo:
        return summary
    segment = _start_segment(name, path, state["segments"], workers, progress, recipe)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_runs, unit="run", desc=name, file=sys.stderr, mininterval=2.0, smoothing=0.05)
    try:
        run_tasks(todo, workers, segment, summary, bar)
    finally:
        segment.close()
        if bar is not None:
            bar.close()
        summary["seconds"] = time.perf_counter() - start
    if progress:
        print(f"{name}: {summary['done']:,} of {summary['total']:,} runs done; this run trained "
              f"{summary['trained']:,} in {summary['seconds']:.0f} s", file=sys.stderr, flush=True)
    return summary


def _start_segment(name: str, path: Path, segments: list, workers: int, progress: bool, recipe: Recipe) -> Segment:
    """Open this build run's segment and write its start record: when, where, with what code."""
    code = code_fingerprint(code_files(recipe.space_kind))
    earlier = sorted({seg.get("code", "unrecorded") for seg in segments} - {code})
    if progress and earlier:
        print(f"{name}: note: earlier build runs trained with other code ({', '.join(earlier)}; now {code}): "
              "results differ from a one-go build by rounding, amplified by training to about the seed noise",
              file=sys.stderr, flush=True)
    segment = Segment(path)
    segment.append({"segment": 1, "start": round(time.time(), 1), "machine": machine(), "workers": workers,
                    "load": [round(x, 2) for x in os.getloadavg()], "nice": os.nice(0), "code": code})
    return segment


def journal_table(name: str = "digits201", *, recipe: Recipe | None = None, seeds=None, journal=None,
                  partial: bool = False):
    """The journal as a :class:`Benchmark` over all members of the recipe's space (``partial``: the members
    of classes with a run).

    Raises :class:`IncompleteBuildError` if runs are missing and ``partial`` is False.
    """
    return _journal_table(name, recipe=recipe, seeds=seeds, journal=journal, partial=partial)[0]


def _journal_table(name, *, recipe, seeds, journal, partial):
    recipe = _resolve(name, recipe, seeds)
    path = journal_path(name, journal)
    j = read_journal(path)
    if j["header"].get("recipe") != recipe.identity():
        raise InvalidArgumentError(f"the journal {str(path)!r} was built with another recipe: "
                                   f"{j['header'].get('recipe')}")
    class_of, reps = canonical_classes(recipe.make_space())
    have = _have(j["runs"], recipe, len(reps))
    done, total = int(have.sum()), have.size
    if done < total and not partial:
        raise IncompleteBuildError(
            f"the journal {str(path)!r} holds {done:,} of the {total:,} (class, seed) runs of table {name!r} "
            f"({100 * done / total:.1f}%); continue the build with 'python -m nasviz.bench build {name}', or pass "
            "--partial --out PATH to write the cells done so far")
    return table_from_runs(name, j, recipe, class_of, reps, have), done, total


def finalize(name: str = "digits201", *, recipe: Recipe | None = None, seeds=None, journal=None, out=None,
             partial: bool = False, verbose: bool = True):
    """Write the journal as the table's NPZ (:meth:`Benchmark.save`) and return the :class:`Benchmark`.

    ``out`` defaults to ``nasviz/bench/data/<name>.npz`` for a complete journal; a
    partial table (``partial=True``) needs an ``out`` of its own.
    """
    from ..tables import DATA_DIR, TABLES

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
