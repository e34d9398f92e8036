"""BatchExecutor: a search's evaluations in flight judged together by evaluate_many."""

import concurrent.futures as cf
import math
import threading

import numpy as np
import pytest

import nasviz as nv
from nasviz.errors import NasvizError
from nasviz.estimators.base import Estimator


class Recorder(Estimator):
    """Scores the number of 3x3 convolutions; records each evaluate_many batch; can fail on purpose."""

    def __init__(self, nan_for=None, raise_for=None):
        self.nan_for = nan_for
        self.raise_for = raise_for
        self.batches_ = []
        self.singles_ = []

    def _score(self, arch):
        if self.raise_for is not None and str(arch) == self.raise_for:
            raise RuntimeError("this candidate breaks the estimator")
        if self.nan_for is not None and str(arch) == self.nan_for:
            return nv.Result(score=math.nan)
        return nv.Result(score=float(arch.ops.count("nor_conv_3x3")), cost=1.0)

    def _evaluate_many(self, archs, parents, fidelity):
        self.batches_.append((len(archs), threading.current_thread().name))
        return [self._score(a) for a in archs]

    def _evaluate(self, arch, parent=None, fidelity=None):
        self.singles_.append(str(arch))
        return self._score(arch)


def search(space, est, budget=12, max_batch=4, **kwargs):
    executor = nv.BatchExecutor(max_batch=max_batch)
    s = nv.Search(space, nv.strategies.RandomSearch(space, seed=0), est, budget=budget, workers=max_batch,
                  executor=executor, seed=0, **kwargs)
    return s.run(progress=False), executor


def test_in_flight_candidates_go_to_evaluate_many_together(tmp_path):
    space = nv.CellSpace()
    est = Recorder()
    history, executor = search(space, est, budget=12, max_batch=4, storage=tmp_path / "run.sqlite")
    assert [n for n, _ in est.batches_] == [4, 4, 4] == executor.batches_
    assert {name for _, name in est.batches_} == {"nasviz-batch"} and est.singles_ == []
    assert all(t.ok and t.score == t.arch.ops.count("nor_conv_3x3") for t in history.trials)
    # the same cells as a serial search with the same seed (random search asks do not depend on tells)
    serial = nv.Search(space, nv.strategies.RandomSearch(space, seed=0), Recorder(), budget=12, seed=0).run(
        progress=False)
    assert sorted(str(t.arch) for t in history.trials) == sorted(str(t.arch) for t in serial.trials)
    # every trial is journaled on its own
    assert len(nv.History.from_storage(tmp_path / "run.sqlite")) == 12


def test_a_failing_candidate_fails_alone():
    space = nv.CellSpace()
    first = nv.strategies.RandomSearch(space, seed=0)
    first.rng_ = np.random.default_rng(0)
    cells = [str(first.ask()) for _ in range(8)]
    history, _ = search(space, Recorder(nan_for=cells[2]), budget=8, max_batch=4)
    failed = [t for t in history.trials if not t.ok]
    assert [str(t.arch) for t in failed] == [cells[2]] and "non-finite score" in failed[0].error
    est = Recorder(raise_for=cells[5])
    history, _ = search(space, est, budget=8, max_batch=4)
    failed = [t for t in history.trials if not t.ok]
    assert [str(t.arch) for t in failed] == [cells[5]] and "breaks the estimator" in failed[0].error
    assert len(est.singles_) == 4  # the batch that raised was judged one by one; the other stayed batched
    assert sum(t.ok for t in history.trials) == 7


def test_partial_batches_other_calls_and_arguments():
    space = nv.CellSpace()
    est = Recorder()
    history, executor = search(space, est, budget=10, max_batch=4)
    assert len(history) == 10 and sum(executor.batches_) == 10 and max(executor.batches_) <= 4
    ex = nv.BatchExecutor(max_batch=3, wait=0.0)
    futures = [ex.submit(pow, 2, k) for k in range(5)] + [ex.submit(int, "x")]
    assert [f.result(10) for f in futures[:5]] == [1, 2, 4, 8, 16]
    with pytest.raises(ValueError):
        futures[5].result(10)
    ex.shutdown()
    with pytest.raises(RuntimeError, match="after shutdown"):
        ex.submit(pow, 2, 2)
    assert repr(ex) == "BatchExecutor(max_batch=3, wait=0.0)" and isinstance(ex, cf.Executor)
    with pytest.raises(NasvizError, match="max_batch must be an integer >= 1, got 0"):
        nv.BatchExecutor(max_batch=0)
    with pytest.raises(NasvizError, match="wait must be a number of seconds >= 0, got -1"):
        nv.BatchExecutor(wait=-1)


def test_training_search_is_batched_and_scores_like_evaluate_many(data, space, one_thread):
    est = nv.estimators.Training(data, epochs=1, channels=4, batch_size=128, seed=0, device="cpu")
    history, executor = search(space, est, budget=4, max_batch=4)
    assert executor.batches_ == [4]
    assert all(t.ok and t.metrics["batched"] for t in history.trials)
    archs = [t.arch for t in history.trials]
    again = nv.estimators.Training(data, epochs=1, channels=4, batch_size=128, seed=0, device="cpu")
    assert [t.score for t in history.trials] == [r.score for r in again.evaluate_many(archs)]
