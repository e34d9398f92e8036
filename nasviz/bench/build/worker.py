"""Training the tasks of a build: each chunk of classes, in worker processes of one thread each.

A chunk of CellSpace classes trains as one fused network; a chunk of MacroSpace
architectures (which do not fuse) trains one network after another in the same process
(``Training.evaluate_many`` decides). A task (:func:`nasviz.bench.build.plan.tasks`) is
one chunk of classes with one seed;
:func:`train_chunk` trains it and returns the record the journal keeps. :func:`run_tasks`
runs tasks in this process (``workers=1``) or in a pool of spawned processes, appending
each finished chunk to the build run's segment; Ctrl-C, ``timeout`` and ``kill``
(SIGTERM) stop it with the finished chunks kept.
"""

from __future__ import annotations

import json
import time

from ...devices import torch_threads
from .recipes import Recipe

__all__ = ["init_worker", "run_tasks", "train_chunk"]

_WORKER: dict = {}


def init_worker() -> None:
    """Set up a worker process: one torch thread, Ctrl-C left to the main process."""
    import signal

    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the main process, which stops the pool
    torch.set_num_threads(1)


def train_chunk(task) -> dict:
    """Train one chunk (its classes' representatives, one seed) with the recipe's space: CellSpace cells as one
    fused network, other networks one at a time."""
    recipe_dict, seed, chunk_id, classes, cells, n_val, n_test = task
    import torch

    recipe = Recipe.from_dict(recipe_dict)
    key = json.dumps(recipe.identity(), sort_keys=True)
    if _WORKER.get("key") != key:
        _WORKER.update(key=key, data=recipe.data(), space=recipe.make_space())
    space, data = _WORKER["space"], _WORKER["data"]
    est = recipe.estimator(seed, data=data, space=space)
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


def run_tasks(tasks: list, workers: int, segment, summary: dict, bar=None) -> None:
    """Train ``tasks`` with ``workers`` processes (1: in this one), appending each chunk to ``segment`` and
    counting its runs in ``summary`` (``trained``, ``done``) and on the progress ``bar``."""
    pool = None
    old_term = _on_sigterm_interrupt()
    try:
        if workers == 1:
            with torch_threads(1):
                _collect(map(train_chunk, tasks), segment, summary, bar)
        else:
            import multiprocessing as mp

            pool = mp.get_context("spawn").Pool(workers, initializer=init_worker)
            _collect(pool.imap_unordered(train_chunk, tasks), segment, summary, bar)
            pool.close()
            pool.join()
            pool = None
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        _restore_sigterm(old_term)


def _collect(results, segment, summary, bar):
    for rec in results:
        segment.append(rec)
        n = len(rec["cells"])
        summary["trained"] += n
        summary["done"] += n
        if bar is not None:
            bar.update(n)


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
