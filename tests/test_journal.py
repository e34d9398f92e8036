"""The journal holds under concurrent writers, damaged files and broken strategies."""

import math
import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

import nasviz as nv
from nasviz.estimators.base import Estimator, Result
from nasviz.storage import Journal, JournalBusyError, JournalError, JournalLock
from nasviz.strategies import StrategyError

load_history = nv.History.from_storage
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class Convs(Estimator):
    """Deterministic, instant scores (an optional delay per evaluation)."""

    def __init__(self, delay=0.0):
        self.delay = delay

    def _evaluate(self, arch, parent=None, fidelity=None):
        if self.delay:
            time.sleep(self.delay)
        return Result(score=arch.ops.count("nor_conv_3x3") + arch.ops.count("nor_conv_1x1") / 10, cost=1.0)


def summary(history):
    return [(t.number, str(t.arch), t.status, t.score if t.ok else "nan") for t in history]


@pytest.fixture(scope="module")
def space():
    return nv.CellSpace()


def evolution(space, seed=3):
    return nv.strategies.RegularizedEvolution(space, population=6, sample=3, seed=seed)


# -- one writer at a time ---------------------------------------------------------------
_WRITER = """
import os, sys, time
sys.path.insert(0, {here!r})
import nasviz as nv
from nasviz.storage import JournalBusyError
from test_journal import Convs
space = nv.CellSpace()
seed = int(sys.argv[1])
strategy = nv.strategies.RegularizedEvolution(space, population=6, sample=3, seed=seed)
search = nv.Search(space, strategy, Convs(delay=0.03), budget=12, storage={path!r})
print("ready", flush=True)
while not os.path.exists({go!r}):
    time.sleep(0.001)
try:
    search.run(progress=False)
    print("ran", seed)
except JournalBusyError as err:
    print("busy", err)
except nv.errors.NasvizError as err:
    print("refused", type(err).__name__, err)
"""


def test_two_writers_started_together_one_runs_the_other_is_busy(space, tmp_path):
    rounds, per_batch = 20, 5
    outcomes = []
    for batch in range(rounds // per_batch):
        procs = []
        go = str(tmp_path / f"go{batch}")
        for k in range(per_batch):
            path = str(tmp_path / f"run{batch}-{k}.sqlite")
            code = _WRITER.format(here=HERE, path=path, go=go)
            pair = [subprocess.Popen([sys.executable, "-c", code, str(seed)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=ROOT))
                    for seed in (1, 2)]
            procs.append((path, pair))
        for _, pair in procs:  # every process built its search and waits: start them together
            for proc in pair:
                assert proc.stdout.readline().strip() == "ready", proc.communicate()[1][-2000:]
        open(go, "w").close()
        for path, pair in procs:
            outs = []
            for proc in pair:
                out, err = proc.communicate(timeout=120)
                assert proc.returncode == 0, err[-2000:]
                outs.append(out.strip())
            outcomes.append((path, outs))
    for path, outs in outcomes:
        ran = [o for o in outs if o.startswith("ran")]
        # exactly one writer ran; the other was told the journal is busy, and by whom
        assert len(ran) == 1, outs
        other = next(o for o in outs if not o.startswith("ran"))
        assert other.startswith("busy") and path in other and "pid" in other, outs
        winner = int(ran[0].split()[1])
        # the journal replays: a resume with the winner's strategy gives the winner's uninterrupted trials
        resumed = nv.Search.resume(path, estimator=Convs(delay=0.03), budget=12).run(progress=False)
        expected = nv.Search(space, evolution(space, winner), Convs(), budget=12).run(progress=False)
        assert summary(resumed) == summary(expected)
        assert load_history(path).meta["strategy"] == repr(evolution(space, winner))


def test_a_resume_while_the_search_runs_is_busy(space, tmp_path):
    path = tmp_path / "run.sqlite"
    search = nv.Search(space, evolution(space), Convs(delay=0.02), budget=40, storage=path)
    thread = threading.Thread(target=search.run, kwargs={"progress": False})
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not Journal.holds_run(path):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        with pytest.raises(JournalBusyError, match="being written by another search") as info:
            nv.Search.resume(path, estimator=Convs())
        assert os.fspath(path) in str(info.value) and f"pid {os.getpid()}" in str(info.value)
        with pytest.raises(JournalBusyError):  # nor may any other writer take it
            JournalLock(path).acquire()
        assert load_history(path).meta["budget"] == 40  # reading is fine while it runs
    finally:
        thread.join()
    assert len(search.trials_) == 40
    # once it is done, a resume works and continues it
    more = nv.Search.resume(path, estimator=Convs(delay=0.02), budget=45).run(progress=False)
    assert len(more) == 45


def test_a_search_refuses_a_journal_written_since_it_last_ran(space, tmp_path):
    path = tmp_path / "run.sqlite"
    first = nv.Search(space, evolution(space), Convs(), budget=5, storage=path)
    first.run(progress=False)
    nv.Search.resume(path, estimator=Convs(), budget=8).run(progress=False)  # someone else continued it
    first.budget = 10
    with pytest.raises(JournalError, match="changed since this search last wrote it"):
        first.run(progress=False)
    assert len(load_history(path)) == 8  # nothing mixed in


def test_a_second_search_on_the_same_file_is_refused_before_writing(space, tmp_path):
    path = tmp_path / "run.sqlite"
    a = nv.Search(space, evolution(space, 1), Convs(), budget=4, storage=path)
    b = nv.Search(space, evolution(space, 2), Convs(), budget=4, storage=path)  # both built before either ran
    a.run(progress=False)
    with pytest.raises(JournalError, match="already holds a search"):
        b.run(progress=False)
    assert summary(load_history(path)) == summary(a.history_)


def test_the_lock_is_released_when_a_run_ends_in_error(space, tmp_path):
    path = tmp_path / "run.sqlite"

    class Explodes(nv.strategies.RandomSearch):
        def ask(self):
            if self.n_asked_ == 2:
                raise RuntimeError("boom")
            return super().ask()

    with pytest.raises(StrategyError):
        nv.Search(space, Explodes(space, seed=0), Convs(), budget=5, storage=path).run(progress=False)
    with JournalLock(path):  # free again
        pass


# -- a journal is data ------------------------------------------------------------------
def _set_run_field(path, key, text):
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE run SET value=? WHERE key=?", (text, key))


def test_a_journal_naming_a_module_outside_nasviz_imports_nothing(space, tmp_path, monkeypatch):
    path = tmp_path / "run.sqlite"
    nv.Search(space, evolution(space), Convs(), budget=3, storage=path).run(progress=False)
    marker = tmp_path / "imported.txt"
    (tmp_path / "evil_module.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\nclass X: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for target in ("this:X", "evil_module:X", "os:system", "subprocess:Popen"):
        for key in ("strategy", "space"):
            before = set(sys.modules)
            with sqlite3.connect(path) as conn:
                value = conn.execute("SELECT value FROM run WHERE key=?", (key,)).fetchone()[0]
            _set_run_field(path, key, value.replace(value.split('"class": "')[1].split('"')[0], target))
            with pytest.raises(JournalError, match="not part of nasviz") as info:
                nv.Search.resume(path, estimator=Convs(), space=space if key == "strategy" else None)
            assert target in str(info.value) and f"pass {key}=" in str(info.value)
            history = load_history(path)  # reading it imports nothing either; the arch stays a string
            assert len(history) == 3
            assert set(sys.modules) - before <= {m for m in sys.modules if m.startswith("nasviz")}
            assert "this" not in set(sys.modules) - before and "evil_module" not in sys.modules
            assert not marker.exists()
            _set_run_field(path, key, value)
    # with the objects passed, the same journal resumes
    assert len(nv.Search.resume(path, estimator=Convs(), budget=5).run(progress=False)) == 5


def test_damaged_journals_give_journal_errors_naming_the_file(space, tmp_path):
    def fresh(name, budget=12):
        path = tmp_path / name
        nv.Search(space, evolution(space), Convs(), budget=budget, storage=path).run(progress=False)
        return path

    # a broken JSON field
    path = fresh("json.sqlite")
    _set_run_field(path, "strategy", "{not json")
    for call in (lambda: nv.Search.resume(path, estimator=Convs()), lambda: load_history(path)):
        with pytest.raises(JournalError, match="not valid JSON") as info:
            call()
        assert str(path) in str(info.value)
    # a broken JSON value in a trial
    path = fresh("trial-json.sqlite")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE trials SET metrics='{oops' WHERE number=3")
    with pytest.raises(JournalError, match="not valid JSON"):
        load_history(path)
    # a missing run field
    path = fresh("field.sqlite")
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM run WHERE key='budget_kind'")
    with pytest.raises(JournalError, match="budget_kind"):
        nv.Search.resume(path, estimator=Convs())
    # a deleted trial row
    path = fresh("trial.sqlite")
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM trials WHERE number=4")
    with pytest.raises(JournalError, match="trial 4.*does not hold"):
        nv.Search.resume(path, estimator=Convs())
    # a damaged page: overwrite the middle of the file
    path = fresh("page.sqlite", budget=300)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = os.path.getsize(path)
    assert size > 8 * 4096
    with open(path, "r+b") as f:
        f.seek(size // 2)
        f.write(b"\xff" * 4096 * 3)
    with pytest.raises(JournalError) as info:
        nv.Search.resume(path, estimator=Convs())
    assert str(path) in str(info.value) and "damaged" in str(info.value)
    # not a database at all
    path = tmp_path / "text.sqlite"
    path.write_text("hello " * 1000)
    for call in (lambda: nv.Search.resume(path, estimator=Convs()), lambda: load_history(path)):
        with pytest.raises(JournalError, match="not a nasviz journal"):
            call()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes read-only files")
def test_a_read_only_journal(space, tmp_path):
    path = tmp_path / "run.sqlite"
    nv.Search(space, evolution(space), Convs(), budget=4, storage=path).run(progress=False)
    os.chmod(path, 0o444)
    with pytest.raises(JournalError, match="read-only"):
        nv.Search.resume(path, estimator=Convs(), budget=6).run(progress=False)


def test_a_read_only_folder_is_a_journal_error(space, tmp_path):
    """A journal that cannot be written (here: SQLite told the file is read-only) is named as such."""
    path = tmp_path / "run.sqlite"
    nv.Search(space, evolution(space), Convs(), budget=4, storage=path).run(progress=False)
    j = Journal(path)
    j._conn.execute("PRAGMA query_only=ON")
    with pytest.raises(JournalError, match="read-only|readonly") as info:
        j.add_trial(99, "x", None, None)
    assert str(path) in str(info.value)
    j.close()


# -- failures contained -----------------------------------------------------------------
class Flaky(nv.strategies.RegularizedEvolution):
    """Raises in ask() or tell() once, at a given call; otherwise regularized evolution."""

    def __init__(self, space, *, population=6, sample=3, seed=None, fail_ask=None, fail_tell=None):
        super().__init__(space, population=population, sample=sample, seed=seed)
        self.fail_ask = fail_ask
        self.fail_tell = fail_tell

    def ask(self):
        if self.fail_ask is not None and self.n_asked_ == self.fail_ask:
            self.fail_ask = None
            raise RuntimeError("the ask broke")
        return super().ask()

    def tell(self, arch, result):
        if self.fail_tell is not None and self.n_told_ == self.fail_tell:
            self.fail_tell = None
            raise RuntimeError("the tell broke")
        super().tell(arch, result)


@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize("where", ["ask", "tell"])
def test_an_exception_in_ask_or_tell_loses_no_evaluation_and_resume_continues(space, tmp_path, where, workers):
    path = tmp_path / "run.sqlite"
    at = 7
    strategy = Flaky(space, seed=3, **{f"fail_{where}": at})
    estimator = Convs(delay=0.002 if workers > 1 else 0.0)
    search = nv.Search(space, strategy, estimator, budget=20, workers=workers, storage=path)
    with pytest.raises(StrategyError) as info:
        search.run(progress=False)
    message = str(info.value)
    assert "Flaky(" in message and f"{where}()" in message and f"the {where} broke" in message
    assert "trial" in message and str(path) in message
    with Journal(path) as j:
        rows = j.trials()
    finished = [r for r in rows if r["status"] in ("ok", "failed")]
    if where == "tell":
        # the trial whose tell raised is journaled with its score, not left 'running'
        assert workers > 1 or [r["status"] for r in rows] == ["ok"] * (at + 1)
        assert all(math.isfinite(r["score"]) for r in finished)
    else:
        assert len(finished) >= at if workers == 1 else len(finished) >= at - workers
    assert len(load_history(path)) == len(finished)
    # resume with a strategy that does not fail continues from the journal, nothing lost
    history = nv.Search.resume(path, estimator=estimator, strategy=Flaky(space, seed=3), workers=workers).run(
        progress=False)
    assert len(history) == 20
    assert {(r["number"], r["arch"], r["score"]) for r in finished} <= \
        {(t.number, str(t.arch), t.score) for t in history}
    if workers == 1:
        expected = nv.Search(space, evolution(space, 3), Convs(), budget=20).run(progress=False)
        assert summary(history) == summary(expected)


@pytest.mark.parametrize("value", [0.93, None, "0.9", (0.9, 1.0), {"score": 0.9}])
def test_an_estimator_returning_something_else_gives_a_failed_trial(space, value):
    class Odd(Estimator):
        def _evaluate(self, arch, parent=None, fidelity=None):
            return value

    assert Odd().evaluate(space[0]).status == "failed"
    assert "expected a nasviz Result" in Odd().evaluate(space[0]).error
    history = nv.Search(space, nv.strategies.RandomSearch(space, seed=0), Odd(), budget=3).run(progress=False)
    assert len(history.failed) == 3 and type(value).__name__ in history.failed[0].error
    assert [r.status for r in Odd().evaluate_many([space[0], space[1]])] == ["failed", "failed"]


# -- the command line -------------------------------------------------------------------
def test_cli_resume_refuses_another_strategy_or_seed(tmp_path, capsys):
    from nasviz.cli import main

    path = str(tmp_path / "run.sqlite")
    assert main(["search", "--budget", "5", "--strategy", "random", "--seed", "3", "--storage", path,
                 "--quiet", "--draw", str(tmp_path / "b.png")]) == 0
    capsys.readouterr()
    for extra, words in ((["--strategy", "evolution"], ["RandomSearch", "--strategy evolution"]),
                         (["--seed", "4"], ["--seed 4", "seed is 3"])):
        assert main(["search", "--budget", "8", "--storage", path, "--resume", "--quiet", *extra]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and all(w in err for w in words), err
    assert len(load_history(path)) == 5  # refused before anything ran
    assert main(["search", "--budget", "8", "--storage", path, "--resume", "--quiet", "--seed", "3",
                 "--strategy", "random", "--draw", str(tmp_path / "b.png")]) == 0
    assert len(load_history(path)) == 8


def test_a_worker_that_fails_gives_failed_trials(space):
    import concurrent.futures as cf

    class DeadWorkers(cf.Executor):
        def submit(self, fn, /, *args, **kwargs):
            future = cf.Future()
            future.set_exception(OSError("the worker process died"))
            return future

    history = nv.Search(space, nv.strategies.RandomSearch(space, seed=0), Convs(), budget=4, workers=2,
                        executor=DeadWorkers()).run(progress=False)
    assert [t.status for t in history] == ["failed"] * 4
    assert history[0].error == "worker error: OSError: the worker process died"
