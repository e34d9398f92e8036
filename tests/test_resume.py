import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
import warnings

import pytest

import nasviz as nv
from nasviz.errors import InvalidArgumentError
from nasviz.estimators.base import Estimator, Result
from nasviz.storage import Journal, JournalError
from nasviz.strategies.base import Strategy

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class Greedy(Strategy):
    """Mutates the best architecture told so far: its asks depend on the order of tells."""

    def __init__(self, space, *, warmup=4, seed=None):
        super().__init__(space, seed=seed)
        self.warmup = warmup
        self.best_ = None
        self.parents_ = {}

    def ask(self):
        self.n_asked_ += 1
        if self.best_ is None or self.n_asked_ <= self.warmup or self.rng_.random() < 0.3:
            return self.space.sample(seed=self.rng_)
        child = self.space.mutate(self.best_[0], seed=self.rng_)
        self.parents_[str(child)] = self.best_[0]
        return child

    def context(self, arch):
        parent = self.parents_.get(str(arch))
        return {} if parent is None else {"parent": parent}

    def tell(self, arch, result):
        super().tell(arch, result)
        if result.ok and (self.best_ is None or result.score > self.best_[1]):
            self.best_ = (arch, result.score)

    def state_dict(self):
        state = super().state_dict()
        state["best"] = None if self.best_ is None else [str(self.best_[0]), self.best_[1]]
        state["parents"] = {k: str(v) for k, v in self.parents_.items()}
        return state

    def load_state_dict(self, state):
        super().load_state_dict(state)
        best = state["best"]
        self.best_ = None if best is None else (self.space.from_string(best[0]), best[1])
        self.parents_ = {k: self.space.from_string(v) for k, v in state["parents"].items()}


class Slow(Estimator):
    """Deterministic scores, some failures, and an optional delay per evaluation."""

    def __init__(self, space, delay=0.0):
        self.space = space
        self.delay = delay

    def _evaluate(self, arch, parent=None, fidelity=None):
        if self.delay:
            time.sleep(self.delay)
        i = self.space.index(arch)
        if i % 11 == 0:
            raise RuntimeError(f"cell {i} diverged")
        return Result(score=(i * 2654435761 % 1000) / 1000, cost=1.0 + i % 3)


@pytest.fixture(scope="module")
def space():
    return nv.CellSpace()


def summary(history):
    # a failed candidate's cost is the time it took to fail (measured): left out
    return [(t.number, str(t.arch), None if t.parent is None else str(t.parent), t.status,
             t.score if t.ok else "nan", t.cost if t.ok else "-", t.error) for t in history]


def uninterrupted(space, budget, seed=7, **kw):
    return nv.Search(space, Greedy(space, seed=seed), Slow(space), budget=budget, **kw).run(progress=False)


def _finished_trials(path) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT count(*) FROM trials WHERE status IN ('ok', 'failed')").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _run_and_kill(code: str, path, at_least: int) -> None:
    """Run ``code`` in a fresh Python, SIGKILL it once ``at_least`` trials are journaled."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, ROOT]))
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while _finished_trials(path) < at_least:
            if proc.poll() is not None:
                raise AssertionError(f"the search process ended early: {proc.communicate()[1].decode()[-2000:]}")
            assert time.monotonic() < deadline, "the search process made no progress"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL


class SlowTable(nv.estimators.Tabular):
    """The shipped NAS-Bench-201 table, slowed down so that a run can be killed mid-way."""

    def __init__(self, bench, metric=None, epoch=None, delay=0.0):
        super().__init__(bench, metric=metric, epoch=epoch)
        self.delay = delay

    def _evaluate(self, arch, parent=None, fidelity=None):
        time.sleep(self.delay)
        return super()._evaluate(arch, parent, fidelity)


def _evolution(space, estimator):
    strategy = nv.strategies.RegularizedEvolution(space, population=10, sample=3, seed=5)
    return nv.Search(space, strategy, estimator, budget=30)


SETUPS = {
    # a strategy of this file: failures, repeats and parents
    "greedy": {
        "imports": "from test_resume import Greedy, Slow",
        "start": "nv.Search(space, Greedy(space, seed=7), Slow(space, delay=0.02), budget=30, storage={path!r})",
        "estimator": "Slow(space, delay=0.02)",
        "make_estimator": lambda space: Slow(space, delay=0.02),
        # a class outside nasviz: a journal never imports it, the resume passes a fresh one
        "resume_strategy": "Greedy(space, seed=7)",
        "make_strategy": lambda space: Greedy(space, seed=7),
        "expected": lambda space: uninterrupted(space, 30),
        "strategy": "Greedy",
    },
    # the real thing: regularized evolution on NAS-Bench-201's table
    "evolution": {
        "imports": "from test_resume import SlowTable",
        "start": "nv.Search(space, nv.strategies.RegularizedEvolution(space, population=10, sample=3, seed=5), "
                 "SlowTable('nb201-12epoch', delay=0.02), budget=30, storage={path!r})",
        "estimator": "SlowTable('nb201-12epoch', delay=0.02)",
        "make_estimator": lambda space: SlowTable("nb201-12epoch", delay=0.02),
        "resume_strategy": "None",  # rebuilt from the journal
        "make_strategy": lambda space: None,
        "expected": lambda space: _evolution(space, nv.estimators.Tabular("nb201-12epoch")).run(progress=False),
        "strategy": "RegularizedEvolution",
    },
}


@pytest.mark.parametrize("setup", list(SETUPS))
def test_resume_after_sigkill_gives_the_uninterrupted_trials(space, tmp_path, setup):
    cfg = SETUPS[setup]
    path = str(tmp_path / "run.sqlite")
    head = f"import nasviz as nv\n{cfg['imports']}\nspace = nv.CellSpace()\n"
    _run_and_kill(head + cfg["start"].format(path=path) + ".run(progress=False)\n", path, at_least=6)
    killed_at = _finished_trials(path)
    assert 6 <= killed_at < 30
    # killed again, this time while resuming
    resume = (f"nv.Search.resume({path!r}, estimator={cfg['estimator']}, strategy={cfg['resume_strategy']})"
              ".run(progress=False)\n")
    _run_and_kill(head + resume, path, at_least=killed_at + 5)
    assert _finished_trials(path) < 30
    with Journal(path) as j:
        unfinished = [r["number"] for r in j.trials() if r["status"] not in ("ok", "failed")]
    assert len(unfinished) <= 1  # a serial search loses at most the evaluation in flight

    search = nv.Search.resume(path, estimator=cfg["make_estimator"](space), strategy=cfg["make_strategy"](space))
    assert type(search.strategy).__name__ == cfg["strategy"]
    history = search.run(progress=False)
    assert search.stopped_reason_ == "budget"

    expected = cfg["expected"](space)
    assert summary(history) == summary(expected)
    assert history.n_repeats == expected.n_repeats
    assert any(t.parent is not None for t in history)
    # the evaluations in flight at the kills ran again: at most two trials show a second attempt
    assert sum(t.attempts > 1 for t in history) <= 2
    assert set(unfinished) <= {t.number for t in history if t.attempts > 1}
    with Journal(path) as j:
        assert [r["status"] for r in j.trials()] == [t.status for t in expected]
    if setup == "greedy":
        assert history.failed


def _interrupted_run(space, path, k, budget=20, workers=1, seed=7, strategy=None, search_seed=None):
    class InterruptAt(Slow):
        def __init__(self, space):
            super().__init__(space, delay=0.002 if workers > 1 else 0.0)
            self.calls = 0

        def _evaluate(self, arch, parent=None, fidelity=None):
            self.calls += 1
            if self.calls == k:
                raise KeyboardInterrupt
            return super()._evaluate(arch, parent, fidelity)

        def __repr__(self):  # the journal records Slow's repr: resuming with Slow gives no warning
            return repr(Slow(self.space, self.delay))

    strategy = strategy or Greedy(space, seed=seed)
    search = nv.Search(space, strategy, InterruptAt(space), budget=budget, workers=workers, storage=path,
                       seed=search_seed)
    history = search.run(progress=False)
    assert search.stopped_reason_ == "interrupted"
    return history


@pytest.mark.parametrize("k", [1, 2, 9, 20])
def test_resume_after_an_interrupt_at_any_trial(space, tmp_path, k):
    path = tmp_path / "run.sqlite"
    partial = _interrupted_run(space, path, k)
    assert len(partial) == k - 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same estimator repr: no warning
        history = nv.Search.resume(path, estimator=Slow(space), strategy=Greedy(space, seed=7)).run(progress=False)
    assert summary(history) == summary(uninterrupted(space, 20))
    assert history[k - 1].attempts == 2


@pytest.mark.parametrize("replay", [True, False])
def test_resume_extends_the_budget(space, tmp_path, replay):
    path = tmp_path / "run.sqlite"
    uninterrupted(space, 23, storage=path)
    search = nv.Search.resume(path, estimator=Slow(space), strategy=Greedy(space, seed=7), budget=40, replay=replay)
    history = search.run(progress=False)
    assert summary(history) == summary(uninterrupted(space, 40))
    with Journal(path) as j:
        assert j.read_run()["budget"] == 40


def test_snapshot_resume_of_an_interrupted_run(space, tmp_path):
    path = tmp_path / "run.sqlite"
    _interrupted_run(space, path, 17)  # past a snapshot (every 10 tells), with asks after it
    with Journal(path) as j:
        seq, state = j.snapshot()
    assert seq > 0 and state["n_told"] == 10
    history = nv.Search.resume(path, estimator=Slow(space), strategy=Greedy(space, seed=7), replay=False).run(progress=False)
    assert summary(history) == summary(uninterrupted(space, 20))


def test_resume_without_any_seed_uses_the_initial_snapshot(space, tmp_path):
    path = tmp_path / "run.sqlite"
    partial = _interrupted_run(space, path, 8, strategy=Greedy(space, seed=None))
    history = nv.Search.resume(path, estimator=Slow(space), strategy=Greedy(space, seed=None)).run(progress=False)
    assert summary(history)[:7] == summary(partial)
    assert len(history) == 20 and all(t.status in ("ok", "failed") for t in history)
    # the same run, uninterrupted, from the generator state the journal recorded first
    with Journal(path) as j:
        initial = j.snapshot(0)[1]
    again = Greedy(space)
    again.load_state_dict(initial)
    expected = nv.Search(space, again, Slow(space), budget=20).run(progress=False)
    assert summary(history) == summary(expected)


def test_resume_a_search_seed(space, tmp_path):
    path = tmp_path / "run.sqlite"
    _interrupted_run(space, path, 5, strategy=Greedy(space, seed=None), search_seed=3)
    history = nv.Search.resume(path, estimator=Slow(space), strategy=Greedy(space, seed=None)).run(progress=False)
    expected = nv.Search(space, Greedy(space), Slow(space), budget=20, seed=3).run(progress=False)
    assert summary(history) == summary(expected)


def test_resume_a_parallel_run(space, tmp_path):
    path = tmp_path / "run.sqlite"
    partial = _interrupted_run(space, path, 9, workers=3)
    search = nv.Search.resume(path, estimator=Slow(space, delay=0.002), strategy=Greedy(space, seed=7), workers=3)
    history = search.run(progress=False)
    assert len(history) == 20 and [t.number for t in history] == list(range(20))
    assert set(summary(partial)) <= set(summary(history))  # what was recorded stays as it was
    with Journal(path) as j:
        events = j.events()
    asks = [e for e in events if e["kind"] == "ask"]
    tells = [e for e in events if e["kind"] == "tell"]
    assert len(asks) == len(tells) == 20 + history.n_repeats
    # a resumed parallel run is itself resumable: replaying its whole journal agrees with it
    again = nv.Search.resume(path, estimator=Slow(space, delay=0.002), strategy=Greedy(space, seed=7), budget=25).run(progress=False)
    assert summary(again)[:20] == summary(history)


def test_resume_checks_the_replayed_asks(space, tmp_path):
    path = tmp_path / "run.sqlite"
    uninterrupted(space, 6, storage=path)
    with pytest.raises(JournalError, match="not built as in the original run"):
        nv.Search.resume(path, estimator=Slow(space), strategy=Greedy(space, seed=8))
    with pytest.warns(RuntimeWarning, match="estimator"):
        nv.Search.resume(path, estimator=Slow(space, delay=0.001), strategy=Greedy(space, seed=7))
    used = Greedy(space, seed=7)
    used.ask()
    with pytest.raises(InvalidArgumentError, match="fresh strategy"):
        nv.Search.resume(path, estimator=Slow(space), strategy=used)
    with pytest.raises(JournalError, match="no journal"):
        nv.Search.resume(tmp_path / "missing.sqlite", estimator=Slow(space))
    not_a_journal = tmp_path / "notes.sqlite"
    not_a_journal.write_text("hello, this is not SQLite" * 50)
    with pytest.raises(JournalError, match="not a nasviz journal"):
        nv.Search.resume(not_a_journal, estimator=Slow(space))


def test_a_strategy_defined_in_a_script_must_be_passed(space, tmp_path):
    path = tmp_path / "run.sqlite"
    uninterrupted(space, 4, storage=path)
    with sqlite3.connect(path) as conn:  # as if Greedy had been defined in a notebook
        row = conn.execute("SELECT value FROM run WHERE key='strategy'").fetchone()[0]
        conn.execute("UPDATE run SET value=? WHERE key='strategy'", (row.replace("test_resume:", "__main__:"),))
    with pytest.raises(JournalError, match="pass strategy="):
        nv.Search.resume(path, estimator=Slow(space))
    history = nv.Search.resume(path, estimator=Slow(space), strategy=Greedy(space, seed=7), budget=8).run(
        progress=False)
    assert summary(history) == summary(uninterrupted(space, 8))


def test_history_from_storage(space, tmp_path):
    path = tmp_path / "run.sqlite"
    history = uninterrupted(space, 12, storage=path)
    loaded = nv.History.from_storage(path)
    assert summary(loaded) == summary(history)
    assert loaded.label == "Greedy" and loaded.meta["budget"] == 12 and loaded.meta["space"] == "CellSpace()"
    assert all(math.isnan(t.score) for t in loaded.failed)


def test_storage_that_is_not_a_journal(space, tmp_path):
    import sqlite3 as sq

    other = tmp_path / "app.sqlite"
    with sq.connect(other) as conn:
        conn.execute("CREATE TABLE users (name TEXT)")
    search = nv.Search(space, Greedy(space, seed=0), Slow(space), budget=3, storage=other)
    with pytest.raises(JournalError, match="SQLite database of something else"):
        search.run(progress=False)
    with sq.connect(other) as conn:  # left as it was
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["users"]
    garbage = tmp_path / "notes.sqlite"
    garbage.write_text("not SQLite at all " * 100)
    with pytest.raises(JournalError, match="not a nasviz journal"):
        nv.Search(space, Greedy(space, seed=0), Slow(space), budget=3, storage=garbage).run(progress=False)
    with pytest.raises(JournalError, match="does not exist"):
        nv.Search(space, Greedy(space, seed=0), Slow(space), budget=3,
                  storage=tmp_path / "no" / "run.sqlite").run(progress=False)


def test_ctrl_c_in_a_running_process_keeps_the_journal(space, tmp_path):
    path = str(tmp_path / "run.sqlite")
    code = ("import nasviz as nv\nfrom test_resume import Greedy, Slow\nspace = nv.CellSpace()\n"
            f"s = nv.Search(space, Greedy(space, seed=7), Slow(space, delay=0.02), budget=30, storage={path!r})\n"
            "h = s.run(progress=False)\nprint(s.stopped_reason_, len(h))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, ROOT]))
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 60
        while _finished_trials(path) < 5:
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err[-2000:]
    reason, n = out.split()
    assert reason == "interrupted" and 5 <= int(n) < 30
    with Journal(path) as j:
        rows = j.trials()
    assert sum(r["status"] in ("ok", "failed") for r in rows) == int(n)
    assert all(r["status"] == "interrupted" for r in rows if r["status"] not in ("ok", "failed"))
    history = nv.Search.resume(path, estimator=Slow(space, delay=0.02), strategy=Greedy(space, seed=7)).run(progress=False)
    assert summary(history) == summary(uninterrupted(space, 30))
