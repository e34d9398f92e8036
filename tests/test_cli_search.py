import os
import subprocess
import sys

import pytest

import nasviz as nv
from nasviz.cli import main

PNG = b"\x89PNG\r\n\x1a\n"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def lines(text):
    return dict(line.split(": ", 1) for line in text.strip().splitlines() if ": " in line)


def test_search_prints_the_best_cell_and_draws_it(tmp_path, capsys):
    path = tmp_path / "run.sqlite"
    code = main(["search", "--space", "cell", "--benchmark", "nb201-12epoch", "--strategy", "evolution",
                 "--budget", "30", "--seed", "0", "--storage", str(path)])
    out, err = capsys.readouterr()
    assert code == 0
    assert "30/30" in err  # the progress bar
    info = lines(out)
    history = nv.History.from_storage(path)
    assert len(history) == 30
    assert info["best"] == str(history.best.arch)
    assert info["score"].startswith(f"{history.best.score:.6g} (table nb201-12epoch: cifar10_val_acc)")
    assert info["drawing"] == str(tmp_path / "run-best.png")
    assert (tmp_path / "run-best.png").read_bytes()[:8] == PNG
    # the same as the library call with the same seed
    bench = nv.bench.load("nb201-12epoch")
    expected = nv.Search(bench.space, nv.strategies.get("evolution", bench.space, seed=0),
                         nv.estimators.Tabular(bench), budget=30).run(progress=False)
    assert [str(t.arch) for t in history] == [str(t.arch) for t in expected]

    # a second run on the same journal needs --resume; with it, the search goes on
    assert main(["search", "--budget", "40", "--storage", str(path), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--resume" in err
    assert main(["search", "--budget", "40", "--storage", str(path), "--resume", "--quiet",
                 "--draw", str(tmp_path / "best.png")]) == 0
    out = capsys.readouterr().out
    more = nv.History.from_storage(path)
    assert len(more) == 40 and [str(t.arch) for t in more][:30] == [str(t.arch) for t in history]
    assert lines(out)["drawing"] == str(tmp_path / "best.png") and (tmp_path / "best.png").is_file()


def test_resume_without_a_journal_starts_one_and_options(tmp_path, capsys):
    path = tmp_path / "new.sqlite"
    assert main(["search", "--strategy", "random", "--budget", "6", "--storage", str(path), "--resume",
                 "--workers", "2", "--metric", "cifar100_val_acc", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "cifar100_val_acc" in lines(out)["score"]
    assert len(nv.History.from_storage(path)) == 6
    assert main(["search", "--strategy", "RandomSearch", "--budget", "150", "--budget-kind", "cost",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "s of cost" in out and lines(out)["drawing"].startswith("none")


def test_search_with_a_zero_cost_estimator(capsys, tmp_path):
    assert main(["search", "--estimator", "zerocost:params", "--strategy", "random", "--budget", "3", "--quiet",
                 "--draw", str(tmp_path / "zc.png")]) == 0
    assert "zero-cost: params" in lines(capsys.readouterr().out)["score"]


def test_differentiable_search_evaluates_each_epochs_cell(tmp_path, capsys):
    path = tmp_path / "gdas.sqlite"
    assert main(["search", "--benchmark", "digits201", "--strategy", "gdas", "--search-epochs", "2", "--budget", "5",
                 "--seed", "1", "--storage", str(path), "--quiet"]) == 0
    info = lines(capsys.readouterr().out)
    history = nv.History.from_storage(path)
    strategy = nv.strategies.get("gdas", nv.CellSpace(), seed=1, data=nv.data.digits(), epochs=2)
    expected = [str(strategy.ask()) for _ in range(2)]
    assert [str(t.arch) for t in history] == list(dict.fromkeys(expected))
    assert info["best"] in expected
    assert main(["search", "--storage", str(path), "--resume", "--quiet"]) == 2
    assert "does not continue a darts or gdas search" in capsys.readouterr().err


def test_search_with_the_weight_sharing_estimator(tmp_path, capsys):
    path = tmp_path / "ws.sqlite"
    assert main(["search", "--estimator", "weightsharing", "--epochs", "1", "--strategy", "random", "--budget", "3",
                 "--storage", str(path), "--quiet", "--draw", str(tmp_path / "ws.png")]) == 0
    history = nv.History.from_storage(path)
    assert len(history) == 3 and all(t.ok for t in history)
    assert len({t.score for t in history}) > 1  # the supernet tells cells apart


@pytest.mark.parametrize("argv, message", [
    (["--strategy", "nope"], "unknown strategy 'nope'; accepted: random, exhaustive, evolution"),
    (["--estimator", "oracle"], "unknown estimator 'oracle'; accepted: table, training, weightsharing, zerocost:NAME"),
    (["--estimator", "zerocost:nope"], "unknown zero-cost proxy 'nope'"),
    (["--benchmark", "nb999"], "unknown benchmark 'nb999'; accepted: nb201-12epoch"),
    (["--budget", "-1"], "argument --budget: expected a positive number, got '-1'"),
    (["--budget", "2.5"], "expected an integer, got 2.5"),
    (["--workers", "0"], "argument --workers"),
    (["--resume"], "--resume needs --storage"),
    (["--estimator", "zerocost:synflow", "--metric", "cifar10_val_acc"], "--metric applies to --estimator table"),
    (["--space", "macro"], "--space macro has no table"),
    (["--space", "graph"], "invalid choice: 'graph'"),
])
def test_usage_errors_exit_2(argv, message, capsys):
    assert main(["search", *argv]) == 2
    err = capsys.readouterr().err
    assert "usage: nasviz search" in err and message in err


def test_nasviz_errors_exit_1_with_one_line(capsys, tmp_path):
    assert main(["search", "--metric", "bogus", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("nasviz search: error: unknown metric 'bogus'; accepted:")
    assert main(["search", "--budget", "2", "--quiet", "--draw", str(tmp_path / "missing" / "x.png")]) == 1
    assert "cannot write the drawing" in capsys.readouterr().err


def test_help_lists_search(capsys):
    assert main(["--help"]) == 0
    assert "search" in capsys.readouterr().out
    assert main(["search", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--dask-scheduler" in out and "--resume" in out


def test_console_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "nasviz", "search", "--budget", "5", "--quiet",
                           "--storage", str(tmp_path / "cli.sqlite")], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert lines(proc.stdout)["journal"] == str(tmp_path / "cli.sqlite")
    proc = subprocess.run([sys.executable, "-m", "nasviz", "search", "--strategy", "nope"], capture_output=True,
                          text=True, cwd=ROOT, timeout=120, check=False)
    assert proc.returncode == 2 and "unknown strategy" in proc.stderr
