import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import stats

import nasviz as nv
from nasviz.errors import InvalidArgumentError, UnknownNameError
from nasviz.comparison import compare_data
from nasviz.pareto import non_dominated

SPACE = nv.CellSpace()


def make(scores, costs=None, params=None, started=None, finished=None, label=None):
    """A History from plain lists; a score of None is a failed trial."""
    trials = []
    for i, s in enumerate(scores):
        cost = 1.0 if costs is None else costs[i]
        metrics = {} if params is None else {"params": params[i]}
        result = nv.Result.failed("boom", cost=cost) if s is None else nv.Result(score=s, cost=cost, metrics=metrics)
        trials.append(nv.Trial(i, SPACE[i], result,
                               started=None if started is None else started[i],
                               finished=None if finished is None else finished[i]))
    return nv.History(trials, label=label)


def test_trial_reads_its_result():
    t = nv.Trial(3, SPACE[5], nv.Result(score=0.5, cost=2.0, metrics={"params": 7}), parent=SPACE[1], fidelity=12)
    assert (t.score, t.cost, t.status, t.error, t.metrics, t.ok) == (0.5, 2.0, "ok", None, {"params": 7}, True)
    with pytest.raises(AttributeError):
        t.number = 4
    f = nv.Trial(4, SPACE[0], nv.Result.failed("NaN loss"))
    assert f.status == "failed" and f.error == "NaN loss" and math.isnan(f.score) and not f.ok
    assert "NaN loss" in repr(f) and "score=0.5" in repr(t)


def test_container_best_and_repr():
    h = make([0.3, None, 0.8, 0.8, 0.1])
    assert len(h) == 5 and [t.number for t in h] == [0, 1, 2, 3, 4] and h[2].score == 0.8
    assert h.best.number == 2  # ties: the earliest
    assert [t.number for t in h.failed] == [1] and len(h.ok_trials) == 4
    assert repr(h) == "History(5 trials, 1 failed, best score 0.8 at trial 2)"
    assert make([None, None]).best is None
    assert repr(nv.History()) == "History(0 trials, 0 failed)"
    # trials are kept in number order whatever order they come in
    shuffled = nv.History(list(h)[::-1])
    assert [t.number for t in shuffled] == [0, 1, 2, 3, 4]
    with pytest.raises(InvalidArgumentError, match="Trial"):
        nv.History([0.5])


def test_incumbent_by_evaluations_cost_and_time():
    h = make([None, 0.3, 0.2, 0.7, None, 0.5], costs=[1, 2, 3, 4, 5, 6],
             started=[10, 11, 12, 13, 14, 15], finished=[11, 15, 13, 14.5, 16, 15.5])
    x, best = h.incumbent()
    assert x.tolist() == [1, 2, 3, 4, 5, 6]
    np.testing.assert_array_equal(best, [np.nan, 0.3, 0.3, 0.7, 0.7, 0.7])
    x, best = h.incumbent(by="cost")
    assert x.tolist() == [1, 3, 6, 10, 15, 21]
    x, best = h.incumbent(by="time")  # finish order: 0, 2, 3, 1, 5, 4
    assert x.tolist() == [1, 3, 4.5, 5, 5.5, 6]
    np.testing.assert_array_equal(best, [np.nan, 0.2, 0.7, 0.7, 0.7, 0.7])
    with pytest.raises(UnknownNameError, match="'evaluations', 'cost', 'time'"):
        h.incumbent(by="epochs")


def test_to_dataframe():
    h = make([0.3, None], params=[10, 20])
    df = h.to_dataframe()
    assert list(df.columns[:12]) == ["number", "arch", "score", "status", "error", "cost", "parent", "fidelity",
                                     "started", "finished", "worker", "attempts"]
    assert df["number"].tolist() == [0, 1] and df["status"].tolist() == ["ok", "failed"]
    assert df["arch"].tolist() == [str(SPACE[0]), str(SPACE[1])]
    assert df.loc[0, "params"] == 10 and df.loc[1, "error"] == "boom"
    clash = nv.History([nv.Trial(0, SPACE[0], nv.Result(score=1.0, metrics={"cost": 5, "curve": [1, 2]}))])
    df = clash.to_dataframe()
    assert df.loc[0, "metrics.cost"] == 5 and "curve" not in df.columns
    assert list(nv.History().to_dataframe().columns)[:3] == ["number", "arch", "score"]


def test_pareto():
    h = make([0.9, 0.8, 0.95, 0.7, None, 0.8], params=[100, 50, 300, 50, 10, 60])
    front = h.pareto()  # max score, min params
    assert [t.number for t in front] == [0, 1, 2]
    assert [t.number for t in h.pareto(("score",), (True,))] == [2]
    assert [t.number for t in h.pareto(("params", "score"), (False, True))] == [0, 1, 2]
    assert [t.number for t in h.pareto(("score", "cost"), (True, False))] == [2]
    with pytest.raises(UnknownNameError, match="'score', 'cost', 'params'"):
        h.pareto(("score", "flops"))
    with pytest.raises(InvalidArgumentError, match="one maximize flag per objective"):
        h.pareto(("score", "params"), (True,))
    assert non_dominated(np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 1.0]])).tolist() == [True, True, False]


def test_compare_data_by_equality():
    a1, a2, a3 = make([0.5, 0.6, 0.9]), make([0.7, 0.7, 0.8]), make([0.1, 0.9])
    b1 = make([None, 0.4, 0.4])
    d = compare_data({"a": [a1, a2, a3], "b": [b1]}, optimum=1.0)
    assert list(d) == ["a", "b"]
    regrets = np.array([[0.5, 0.4, 0.1], [0.3, 0.3, 0.2], [0.9, 0.1, 0.1]])  # a3 keeps its last value
    mean = regrets.mean(axis=0)
    half = stats.t.ppf(0.975, 2) * regrets.std(axis=0, ddof=1) / np.sqrt(3)
    assert d["a"]["x"].tolist() == [1, 2, 3] and d["a"]["n"].tolist() == [3, 3, 3]
    np.testing.assert_allclose(d["a"]["mean"], mean)
    np.testing.assert_allclose(d["a"]["low"], mean - half)
    np.testing.assert_allclose(d["a"]["high"], mean + half)
    # before its first success a run has no value; a single run has no band
    assert d["b"]["n"].tolist() == [0, 1, 1]
    np.testing.assert_allclose(d["b"]["mean"], [np.nan, 0.6, 0.6])
    np.testing.assert_allclose(d["b"]["low"], d["b"]["mean"])
    # without an optimum: minus the best so far; ci=None: no band
    d = compare_data([a1, a2], labels=["x", "x"], ci=None)
    np.testing.assert_allclose(d["x"]["mean"], [-0.6, -0.65, -0.85])
    assert d["x"]["low"] is None and d["x"]["high"] is None


def test_compare_data_grouping_and_cost_axis():
    h1 = make([0.5, 0.9], costs=[1, 3], label="random")
    h2 = make([0.6, 0.7], costs=[2, 2], label="random")
    h3 = make([0.8], costs=[5], label="evolution")
    d = compare_data([h1, h2, h3], optimum=1.0, by="cost")
    assert list(d) == ["random", "evolution"]
    assert d["random"]["x"].tolist() == [1, 2, 4]
    # h1: 0.5 from cost 1, 0.1 from cost 4; h2: 0.4 from cost 2, 0.3 from cost 4
    np.testing.assert_allclose(d["random"]["mean"], [0.5, 0.45, 0.2])
    assert d["random"]["n"].tolist() == [1, 2, 2]
    d = compare_data(make([0.2]), optimum=1.0)
    assert list(d) == ["search"] and d["search"]["mean"].tolist() == [0.8]
    with pytest.raises(InvalidArgumentError, match="one entry per history"):
        compare_data([h1, h2], labels=["a"])
    with pytest.raises(InvalidArgumentError, match="ci must be"):
        compare_data([h1], ci=95)
    with pytest.raises(InvalidArgumentError, match="History objects"):
        compare_data({"a": [h1, "not a history"]})


def test_plot_and_compare_draw(tmp_path):
    h = make([None, 0.3, 0.2, 0.7, None, 0.5], label="random")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    out = h.plot(ax=ax1, optimum=0.9)
    assert out is ax1
    assert len(ax1.lines) == 2  # best so far and the optimum
    np.testing.assert_array_equal(ax1.lines[0].get_ydata(), h.incumbent()[1])
    assert len(ax1.collections) == 2  # evaluations and failures
    ax = nv.compare({"random": [h, make([0.1, 0.8, 0.9])], "other": [make([0.4, 0.4, 0.6, 0.6])]},
                    optimum=0.9, ax=ax2)
    assert ax is ax2 and len(ax2.lines) == 2
    fig.savefig(tmp_path / "history.png")
    plt.close(fig)
    plt.figure()
    assert nv.History().plot() is plt.gca()
    plt.close("all")
