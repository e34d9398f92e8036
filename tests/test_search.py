import concurrent.futures as cf
import math
import threading
import time
import warnings

import pytest

import nasviz as nv
from nasviz.errors import InvalidArgumentError, NasvizError
from nasviz.estimators.base import Estimator, Result
from nasviz.storage import Journal
from nasviz.strategies.base import Strategy


class Sampler(Strategy):
    """Random sampling with its own generator; records what it was told."""

    def __init__(self, space, *, seed=None):
        super().__init__(space, seed=seed)
        self.told_ = []

    def ask(self):
        self.n_asked_ += 1
        return self.space.sample(seed=self.rng_)

    def tell(self, arch, result):
        super().tell(arch, result)
        self.told_.append((str(arch), result.score))


class Cycle(Strategy):
    """Asks for the same few architectures over and over (a strategy that repeats itself)."""

    def __init__(self, space, *, k=3, limit=None, seed=None):
        super().__init__(space, seed=seed)
        self.k = k
        self.limit = limit

    def ask(self):
        arch = self.space[self.n_asked_ % self.k]
        self.n_asked_ += 1
        return arch

    @property
    def finished(self):
        return self.limit is not None and self.n_asked_ >= self.limit


def score_of(space, arch):
    return (space.index(arch) * 2654435761 % 1000) / 1000


class Lookup(Estimator):
    """A deterministic estimator: a hash of the cell index, cost 1 + index % 3; counts its calls."""

    def __init__(self, space, delay=0.0):
        self.space = space
        self.delay = delay
        self.calls = 0

    def _evaluate(self, arch, parent=None, fidelity=None):
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        i = self.space.index(arch)
        return Result(score=score_of(self.space, arch), cost=1.0 + i % 3, metrics={"params": i % 7})


class OutOfMemoryError(RuntimeError):
    """Stands in for torch.cuda.OutOfMemoryError (caught by name)."""


class Flaky:
    """A duck-typed estimator (no base class) that fails in four ways by call number."""

    def __init__(self, space):
        self.space = space
        self.calls = 0

    def evaluate(self, arch, *, parent=None, fidelity=None):
        self.calls += 1
        k = self.calls
        if k == 2:
            raise ValueError("bad candidate")
        if k == 4:
            return Result(score=math.nan, cost=1.0)
        if k == 6:
            raise MemoryError("needs 64 GiB")
        if k == 8:
            raise OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return Result(score=score_of(self.space, arch), cost=1.0)


@pytest.fixture(scope="module")
def space():
    return nv.CellSpace()


def run(space, budget=12, seed=0, **kw):
    est = kw.pop("estimator", None) or Lookup(space)
    strategy = kw.pop("strategy", None) or Sampler(space, seed=seed)
    search = nv.Search(space, strategy, est, budget=budget, **kw)
    return search, search.run(progress=False)


def summary(history):
    return [(t.number, str(t.arch), t.score, t.status) for t in history]


def test_budget_in_evaluations_is_exact(space):
    search, history = run(space, budget=17)
    assert len(history) == 17
    assert [t.number for t in history] == list(range(17))
    assert search.stopped_reason_ == "budget"
    assert search.estimator.calls == 17
    expected = Sampler(space, seed=0)
    assert [str(t.arch) for t in history] == [str(expected.ask()) for _ in range(17)]
    assert all(t.score == score_of(space, t.arch) and t.ok for t in history)
    assert search.strategy.told_ == [(str(t.arch), t.score) for t in history]
    # run() again: the budget is spent, nothing more happens
    assert len(search.run(progress=False)) == 17 and search.estimator.calls == 17


def test_budget_in_cost(space):
    search, history = run(space, budget=20.0, budget_kind="cost")
    costs = [t.cost for t in history]
    assert sum(costs[:-1]) < 20.0 <= sum(costs)
    assert costs == [1.0 + space.index(t.arch) % 3 for t in history]
    assert search.stopped_reason_ == "budget"
    x, _ = history.incumbent(by="cost")
    assert x[-1] == sum(costs)


def test_same_seed_same_trials_and_seed_reseeds(space):
    assert summary(run(space, seed=3)[1]) == summary(run(space, seed=3)[1])
    assert summary(run(space, seed=3)[1]) != summary(run(space, seed=4)[1])
    # Search(seed=...) re-seeds the strategy's generator
    h = nv.Search(space, Sampler(space, seed=99), Lookup(space), budget=5).run(progress=False)
    h2 = nv.Search(space, Sampler(space, seed=None), Lookup(space), budget=5, seed=99).run(progress=False)
    h3 = nv.Search(space, Sampler(space, seed=1), Lookup(space), budget=5, seed=99).run(progress=False)
    assert summary(h) == summary(h2) == summary(h3)


def test_journal_has_every_trial(space, tmp_path):
    path = tmp_path / "run.sqlite"
    _, history = run(space, budget=9, storage=path, estimator=Flaky(space))
    with Journal(path) as j:
        rows = j.trials()
        meta = j.read_run()
        events = j.events()
    assert [r["number"] for r in rows] == list(range(9))
    assert [r["arch"] for r in rows] == [str(t.arch) for t in history]
    assert [r["status"] for r in rows] == [t.status for t in history]
    for r, t in zip(rows, history):
        assert r["score"] == t.score or (math.isnan(r["score"]) and math.isnan(t.score))
        assert r["error"] == t.error and r["cost"] == t.cost
        assert r["started"] <= r["finished"] and r["worker"]
    assert [e["kind"] for e in events] == ["ask", "tell"] * 9
    assert meta["budget"] == 9 and meta["budget_kind"] == "evaluations" and meta["seed"] is None
    assert meta["space"]["repr"] == "CellSpace()" and meta["strategy"]["kwargs"] == {"seed": 0}
    loaded = nv.History.from_storage(path)
    assert summary(loaded)[:1] == summary(history)[:1]
    assert [str(t.arch) for t in loaded] == [str(t.arch) for t in history]
    # a second Search on the same file refuses and says how to continue
    with pytest.raises(InvalidArgumentError, match="resume"):
        nv.Search(space, Sampler(space), Lookup(space), budget=3, storage=path)


def test_failures_are_recorded_and_the_search_goes_on(space):
    search, history = run(space, budget=10, estimator=Flaky(space))
    assert len(history) == 10
    failed = {t.number: t.error for t in history.failed}
    assert sorted(failed) == [1, 3, 5, 7]
    assert failed[1] == "ValueError: bad candidate"
    assert "non-finite score" in failed[3]
    assert failed[5].startswith("out of memory") and "MemoryError" in failed[5]
    assert failed[7].startswith("out of memory") and "OutOfMemoryError" in failed[7]
    assert all(math.isnan(t.score) for t in history.failed)
    assert history.best.ok and history.best.number not in failed
    # failures are told to the strategy too
    assert len(search.strategy.told_) == 10


def test_workers_threads_same_trials_as_serial(space):
    serial = run(space, budget=15)[1]
    search, parallel = run(space, budget=15, workers=4, estimator=Lookup(space, delay=0.002))
    assert summary(parallel) == summary(serial)
    assert len({t.worker for t in parallel}) >= 1
    assert search.stopped_reason_ == "budget"


class CountingLookup(Lookup):
    """Counts how often it is pickled (in the parent process, which does the pickling)."""

    pickled = 0

    def __getstate__(self):
        type(self).pickled += 1
        return dict(self.__dict__)


def test_process_pool_sends_the_estimator_once_per_worker(space):
    CountingLookup.pickled = 0
    serial = run(space, budget=24)[1]
    with cf.ProcessPoolExecutor(2) as pool:
        _, parallel = run(space, budget=24, workers=2, executor=pool, estimator=CountingLookup(space))
    assert summary(parallel) == summary(serial)
    assert len({t.worker for t in parallel}) >= 1
    # one pickle for the up-front check, then only when a worker process lacks it
    assert 1 <= CountingLookup.pickled < 24


def test_unpicklable_estimator_with_a_process_pool(space):
    est = Lookup(space)
    est.hook = lambda: None  # lambdas do not pickle
    with cf.ProcessPoolExecutor(1) as pool, pytest.raises(InvalidArgumentError, match="cannot be pickled"):
        nv.Search(space, Sampler(space), est, budget=3, executor=pool).run(progress=False)


class InterruptAt(Lookup):
    """Raises KeyboardInterrupt (as Ctrl-C would) at its k-th call."""

    def __init__(self, space, k, delay=0.0):
        super().__init__(space, delay)
        self.k = k

    def _evaluate(self, arch, parent=None, fidelity=None):
        if self.calls + 1 == self.k:
            self.calls += 1
            raise KeyboardInterrupt
        return super()._evaluate(arch, parent, fidelity)


@pytest.mark.parametrize("workers", [1, 3])
def test_keyboard_interrupt_stops_cleanly_and_run_continues(space, tmp_path, workers):
    path = tmp_path / "run.sqlite"
    est = InterruptAt(space, 6, delay=0.002 if workers > 1 else 0.0)
    search = nv.Search(space, Sampler(space, seed=0), est, budget=12, workers=workers, storage=path)
    history = search.run(progress=False)
    assert search.stopped_reason_ == "interrupted"
    with Journal(path) as j:
        statuses = {r["number"]: r["status"] for r in j.trials()}
    if workers == 1:
        assert len(history) == 5 and statuses[5] == "interrupted" and len(statuses) == 6
    in_flight = sorted(set(statuses) - {t.number for t in history})
    assert 1 <= len(in_flight) <= workers and len(history) < 12
    assert all(statuses[n] == "interrupted" for n in in_flight)
    assert all(statuses[t.number] == t.status for t in history)
    # run() again: the interrupted candidates are evaluated again, then the search finishes
    history = search.run(progress=False)
    assert search.stopped_reason_ == "budget"
    assert summary(history) == summary(run(space, budget=12)[1])
    assert [t.number for t in history if t.attempts == 2] == in_flight
    with Journal(path) as j:
        assert [r["status"] for r in j.trials()] == ["ok"] * 12


def test_repeats_are_answered_from_the_journal(space):
    est = Lookup(space)
    strategy = Cycle(space, k=3)
    search = nv.Search(space, strategy, est, budget=10, max_repeats=10)
    with pytest.warns(RuntimeWarning, match="10 times in a row"):
        history = search.run(progress=False)
    assert len(history) == 3 and est.calls == 3
    assert history.n_repeats == search.n_repeats_ == 10
    assert search.stopped_reason_ == "repeats"
    assert strategy.n_told_ == 13  # every ask was told, repeats from the journal


def test_repeats_do_not_consume_budget(space):
    class Mostly(Sampler):  # every other ask repeats the first architecture
        def ask(self):
            self.n_asked_ += 1
            if self.n_asked_ % 2 == 0:
                return self.space[0]
            return self.space.sample(seed=self.rng_)

    est = Lookup(space)
    search, history = run(space, budget=8, strategy=Mostly(space, seed=1), estimator=est)
    assert len(history) == 8 and est.calls == 8
    assert search.n_repeats_ == 5  # asks 4, 6, ..., 12 repeat space[0] (ask 2 evaluated it)
    assert len({str(t.arch) for t in history}) == 8
    told = search.strategy.told_
    assert len(told) == 8 + search.n_repeats_
    first = next(t for t in history if t.arch == space[0])
    assert all(score == first.score for arch, score in told if arch == str(space[0]))


def test_repeat_of_a_candidate_in_flight_waits_for_it(space, tmp_path):
    class Twice(Sampler):  # asks each architecture twice in a row
        def ask(self):
            self.n_asked_ += 1
            if self.n_asked_ % 2 == 0:
                return self.last_
            self.last_ = self.space.sample(seed=self.rng_)
            return self.last_

    est = Lookup(space, delay=0.02)
    path = tmp_path / "twice.sqlite"
    search, history = run(space, budget=6, workers=2, strategy=Twice(space, seed=2), estimator=est, storage=path)
    assert len(history) == 6 and est.calls == 6
    assert search.n_repeats_ == 5  # the 12th ask never happens: the budget is spent after the 11th
    scores = {str(t.arch): t.score for t in history}
    told = search.strategy.told_
    assert len(told) == 11 and all(scores[arch] == score for arch, score in told)
    with Journal(path) as j:
        events = j.events()
    # the repeat of trial 0 was asked while trial 0 was still running, and told when it finished
    kinds = [(e["kind"], e["repeat"]) for e in events if e["trial"] == 0]
    assert kinds == [("ask", False), ("ask", True), ("tell", False), ("tell", True)]


def test_finished_strategy_stops(space):
    search, history = run(space, budget=50, strategy=Cycle(space, k=5, limit=5))
    assert len(history) == 5 and search.stopped_reason_ == "finished"


def test_callbacks(space):
    seen, finished = [], []

    class Logger:
        def on_trial(self, search, trial):
            seen.append((trial.number, len(search.trials_)))

        def on_finish(self, search, history):
            finished.append(len(history))

    plain = []

    def broken(search, trial):
        raise RuntimeError("callback bug")

    with pytest.warns(RuntimeWarning, match="callback bug"):
        run(space, budget=4, callbacks=[Logger(), lambda s, t: plain.append(t.number), broken])
    assert seen == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert finished == [4] and plain == [0, 1, 2, 3]


def test_stop_from_another_thread(space):
    three = threading.Event()
    est = Lookup(space, delay=0.01)
    search = nv.Search(space, Sampler(space, seed=0), est, budget=500,
                       callbacks=[lambda s, t: three.set() if len(s.trials_) >= 3 else None])
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("h", search.run(progress=False)))
    worker.start()
    assert three.wait(30)
    search.stop()
    worker.join(30)
    assert not worker.is_alive()
    assert search.stopped_reason_ == "stopped"
    assert 3 <= len(out["h"]) < 500
    # the stopped search continues where it was
    search.budget = len(out["h"]) + 2
    assert summary(search.run(progress=False)) == summary(run(space, budget=len(out["h"]) + 2)[1])


def test_progress_bar(space, capsys):
    search = nv.Search(space, Sampler(space, seed=0), Lookup(space), budget=3)
    search.run()
    err = capsys.readouterr().err
    assert "3/3" in err and "best=" in err


@pytest.mark.parametrize("kwargs, match", [
    ({"budget": -1}, "budget must be an integer >= 1, got -1"),
    ({"budget": 0}, "budget"),
    ({"budget": 2.5}, "budget"),
    ({"budget": -3.0, "budget_kind": "cost"}, "positive number of seconds"),
    ({"budget": 5, "budget_kind": "epochs"}, "budget_kind 'epochs'"),
    ({"budget": 5, "workers": 0}, "workers"),
    ({"budget": 5, "max_repeats": 0}, "max_repeats"),
    ({"budget": 5, "seed": -2}, "seed"),
    ({"budget": 5, "executor": "threads"}, "executor"),
    ({"budget": 5, "callbacks": [42]}, "callback"),
])
def test_bad_arguments(space, kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match):
        nv.Search(space, Sampler(space), Lookup(space), **kwargs)


def test_bad_objects(space):
    with pytest.raises(NasvizError, match="estimator must have evaluate"):
        nv.Search(space, Sampler(space), object(), budget=3)
    with pytest.raises(NasvizError, match="strategy must have ask"):
        nv.Search(space, object(), Lookup(space), budget=3)
    other = nv.CellSpace(nodes=3)
    with pytest.raises(NasvizError, match="the strategy searches"):
        nv.Search(space, Sampler(other), Lookup(space), budget=3)


def test_evaluate_safely_on_a_bad_return(space):
    class Wrong:
        def evaluate(self, arch, *, parent=None, fidelity=None):
            return 0.5

    from nasviz.search import evaluate_safely

    r = evaluate_safely(Wrong(), space[0])
    assert r.status == "failed" and "expected a nasviz Result" in r.error


def test_context_parent_and_fidelity_reach_the_estimator(space, tmp_path):
    class WithContext(Sampler):
        def context(self, arch):
            return {"parent": self.space[0], "fidelity": 4}

    class Echo(Estimator):
        def _evaluate(self, arch, parent=None, fidelity=None):
            return Result(score=float(fidelity), metrics={"parent": str(parent)})

    path = tmp_path / "ctx.sqlite"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, history = run(space, budget=3, strategy=WithContext(space, seed=0), estimator=Echo(), storage=path)
    assert all(t.score == 4.0 and t.fidelity == 4 and t.parent == space[0] for t in history)
    assert history[0].metrics["parent"] == str(space[0])
    loaded = nv.History.from_storage(path)
    assert [t.parent for t in loaded] == [space[0]] * 3 and [t.fidelity for t in loaded] == [4] * 3


def test_torch_out_of_memory_is_a_failed_trial(space):
    torch = pytest.importorskip("torch")

    class Hungry(Lookup):
        def _evaluate(self, arch, parent=None, fidelity=None):
            if self.calls == 1:
                self.calls += 1
                raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 80.00 GiB")
            return super()._evaluate(arch, parent, fidelity)

    class Bare:  # without the Estimator base class, the search itself catches it
        def evaluate(self, arch, *, parent=None, fidelity=None):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    _, history = run(space, budget=4, estimator=Hungry(space))
    assert [t.status for t in history] == ["ok", "failed", "ok", "ok"]
    assert "OutOfMemoryError: CUDA out of memory" in history[1].error
    _, history = run(space, budget=2, estimator=Bare())
    assert all(t.error.startswith("out of memory (OutOfMemoryError") for t in history)
