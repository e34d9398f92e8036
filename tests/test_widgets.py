"""Headless tests of the widgets: build them, set values, click buttons, wait, check."""

import base64
import subprocess
import sys
import threading

import numpy as np
import pytest

import nasviz as nv

EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@pytest.fixture(scope="module")
def bench():
    return nv.bench.load("nb201-12epoch")


def png_of(output):
    """The PNG bytes an Output widget shows (exactly one image)."""
    assert len(output.outputs) == 1
    data = output.outputs[0]["data"]
    assert "image/png" in data
    png = base64.b64decode(data["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return png


def test_importing_nasviz_leaves_ipywidgets_alone():
    code = "import sys, nasviz as nv; nv.bench; nv.draw; print('ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# -- SpaceExplorer ------------------------------------------------------------------------

def test_space_explorer_dropdowns_drive_the_cell(bench):
    ex = nv.widgets.SpaceExplorer(nv.CellSpace(), benchmarks=[bench], seed=0)
    assert len(ex.dropdowns) == 6 and ex.dropdowns[0].description == "edge 0->1"
    before = png_of(ex.drawing)
    ops = list(ex.arch.ops)
    new_op = "nor_conv_3x3" if ops[5] != "nor_conv_3x3" else "skip_connect"
    ex.dropdowns[5].value = new_op
    ops[5] = new_op
    assert ex.arch.ops == tuple(ops)
    assert ex.text.value == str(ex.arch)
    assert png_of(ex.drawing) != before
    stats = ex.stats()
    assert stats["benchmarks"]["nb201-12epoch"]["cifar10_val_acc"] == (
        bench.query(ex.arch, "cifar10_val_acc"), bench.percentile(ex.arch, "cifar10_val_acc"))
    model = nv.CellSpace().build(ex.arch)
    assert stats["params"] == nv.count_params(model)
    assert f"{stats['params']:,}" in ex.info.value
    assert f"{bench.percentile(ex.arch, 'cifar10_val_acc'):.1f}" in ex.info.value
    assert "SpaceExplorer(" in repr(ex) and str(ex.arch) in repr(ex)


def test_space_explorer_twins_and_text(bench):
    space = nv.CellSpace()
    ex = nv.widgets.SpaceExplorer(space, benchmarks=["nb201-12epoch"], seed=0)
    ex.text.value = EXAMPLE
    assert str(ex.arch) == EXAMPLE
    assert [d.value for d in ex.dropdowns] == list(ex.arch.ops)
    canon = space.canonical(ex.arch)
    expected = sum(space.canonical(a) == canon for a in space.enumerate())
    assert ex.stats()["canonical"] == canon and ex.stats()["class_size"] == expected
    assert f"class of {expected:,}" in ex.info.value
    # bad input: a message in the widget, the cell unchanged, and the widget still works
    ex.text.value = "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    assert "unknown op 'conv'" in ex.message.value and "Traceback" not in ex.message.value
    assert str(ex.arch) == EXAMPLE
    ex.dropdowns[0].value = "none"
    assert ex.message.value == "" and ex.arch.ops[0] == "none"
    with pytest.raises(nv.errors.NasvizError):
        ex.set_arch("not a cell")


def test_space_explorer_random_and_mutate_are_seeded():
    a = nv.widgets.SpaceExplorer(seed=7)
    b = nv.widgets.SpaceExplorer(seed=7)
    assert a.arch == b.arch
    a.random_button.click()
    b.random_button.click()
    assert a.arch == b.arch
    start = a.arch
    a.mutate_button.click()
    assert a.previous_ == start
    assert sum(x != y for x, y in zip(start.ops, a.arch.ops)) == 1
    assert [d.value for d in a.dropdowns] == list(a.arch.ops)
    png_of(a.drawing)


def test_space_explorer_macro_space_greys_out_unused_settings():
    space = nv.MacroSpace(max_layers=3)
    ex = nv.widgets.SpaceExplorer(space, seed=0)
    assert len(ex.dropdowns) == 1 + 6 * 3
    ex.dropdowns[0].value = 1
    assert ex.arch.depth == 1
    assert all(d.disabled for d in ex.dropdowns[7:])  # layers 2 and 3 are not used
    ex.dropdowns[1].value = "identity"
    assert str(ex.arch) == "identity"
    assert all(d.disabled for d in ex.dropdowns[2:7])  # identity has no settings
    ex.dropdowns[1].value = "max_pool"
    assert ex.arch.layers[0].op == "max_pool"
    assert not ex.dropdowns[3].disabled and ex.dropdowns[2].disabled  # kernel matters, filters do not
    ex.mutate_button.click()
    assert ex.message.value == ""
    assert ex.arch in space and ex.stats()["class_size"] is None


# -- Pareto fronts and ParetoExplorer -------------------------------------------------------

def _front_by_definition(x, y):
    from nasviz.pareto import non_dominated

    x, y = np.asarray(x, float), np.asarray(y, float)
    fin = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    mask = non_dominated(np.c_[-x[fin], y[fin]])
    return sorted(fin[mask].tolist())


def test_pareto_front_matches_the_definition():
    from nasviz.pareto import pareto_front

    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(1, 30))
        x = rng.integers(0, 5, n).astype(float)  # few values: many ties
        y = rng.integers(0, 5, n).astype(float)
        if trial % 4 == 0:
            x[rng.integers(n)] = np.nan
        front = pareto_front(x, y)
        assert sorted(front.tolist()) == _front_by_definition(x, y)
        assert np.all(np.diff(x[front]) >= 0)
    # directions: maximising x and minimising y is the same front as negating both
    x, y = rng.random(50), rng.random(50)
    assert sorted(pareto_front(x, y, minimize_x=False, maximize_y=False)) == sorted(pareto_front(-x, -y))
    with pytest.raises(nv.errors.ShapeError):
        pareto_front([1, 2], [1])


def test_front_data_is_the_front_of_the_whole_table(bench):
    from nasviz.widgets.pareto_explorer import front_data

    d = front_data(bench, "flops", "cifar100_val_acc")
    x, y, front = d["x"], d["y"], d["front"]
    # nothing dominates a front cell, and a front cell dominates every other cell
    fx, fy = x[front][:, None], y[front][:, None]
    beats_front = (x[None, :] <= fx) & (y[None, :] >= fy) & ((x[None, :] < fx) | (y[None, :] > fy))
    assert not beats_front.any()
    rest = np.setdiff1d(np.arange(len(x)), front)
    dominated = (fx <= x[rest]) & (fy >= y[rest]) & ((fx < x[rest]) | (fy > y[rest]))
    assert dominated.any(axis=0).all()
    assert bench.optimum("cifar100_val_acc")[1] == d["y"][d["front"][-1]]


def test_pareto_explorer_walks_the_front(bench):
    px = nv.widgets.ParetoExplorer(bench, x="params", y="cifar10_val_acc", seed=0)
    front = px.front
    assert px.slider.max == len(front) - 1 and px.arch == front[-1]
    px.slider.value = 0
    smallest = px.arch
    assert smallest == front[0]
    assert bench.query(smallest, "params") == min(bench.to_dataframe()["params"])
    assert str(smallest) in px.info.value and "front point 0 of" in px.info.value
    png_of(px.drawing)
    before = png_of(px.plot)
    px.select(-1)
    assert px.slider.value == len(front) - 1 and px.arch == front[-1]
    assert png_of(px.plot) != before
    px.random_button.click()
    assert px.arch in bench and px.message.value == ""
    # bad input: the same metric twice; the message shows and the widget recovers
    px.y_dropdown.value = "params"
    assert "both 'params'" in px.error_ and px.arch is not None
    px.y_dropdown.value = "imagenet16_val_acc"
    assert px.error_ is None and px.arch == px.front[-1]
    assert px.arch == bench.optimum("imagenet16_val_acc")[0] or bench.query(px.arch, "imagenet16_val_acc") == \
        bench.optimum("imagenet16_val_acc")[1]
    assert "ParetoExplorer(" in repr(px)


# -- SearchRunner ----------------------------------------------------------------------------

class Gate(nv.estimators.Estimator):
    """Scores the 3x3 convolutions; holds evaluation number ``hold_at`` until released."""

    def __init__(self, hold_at=None):
        self.hold_at = hold_at
        self.calls_ = 0
        self.reached_ = threading.Event()
        self.release_ = threading.Event()

    def _evaluate(self, arch, parent=None, fidelity=None):
        self.calls_ += 1
        if self.calls_ == self.hold_at:
            self.reached_.set()
            assert self.release_.wait(30)
        return nv.Result(score=arch.ops.count("nor_conv_3x3") / 6, cost=1.0)


def test_search_runner_table_search_matches_search_run(bench):
    runner = nv.widgets.SearchRunner(nv.CellSpace(), strategy="evolution", budget=60, seed=3, top_k=4)
    assert list(runner.knobs) == ["population", "sample"]
    runner.knobs["population"].value = 10
    runner.metric_dropdown.value = "cifar100_val_acc"
    runner.run_button.click()
    assert runner.wait(60)
    history = runner.history
    space = nv.CellSpace()
    strategy = nv.strategies.get("evolution", space, population=10, seed=3)
    alone = nv.Search(space, strategy, nv.estimators.Tabular(bench, metric="cifar100_val_acc"), budget=60,
                      seed=3).run(progress=False)
    assert [str(t.arch) for t in history] == [str(t.arch) for t in alone]
    assert [t.score for t in history] == [t.score for t in alone]
    assert runner.progress.value == runner.progress.max == 60
    assert runner.search_.stopped_reason_ == "budget"
    png_of(runner.plot)
    png_of(runner.incumbent)
    assert str(history.best.arch) in runner.topk.value and runner.topk.value.count("<tr>") == 1 + 4
    assert f"best {history.best.score:.4g}" in runner.status.value
    assert not runner.run_button.disabled and runner.stop_button.disabled
    assert "60 trials" in repr(runner)


def test_search_runner_stops_mid_search_and_resumes():
    gate = Gate(hold_at=4)
    runner = nv.widgets.SearchRunner(nv.CellSpace(), estimators={"gate": gate}, strategy="random", budget=12,
                                     seed=0)
    runner.run_button.click()
    assert gate.reached_.wait(30)  # the search thread is inside evaluation 4; this thread is free
    assert runner.running and runner.run_button.disabled and not runner.stop_button.disabled
    runner.stop_button.click()
    gate.release_.set()
    assert runner.wait(30)
    assert runner.search_.stopped_reason_ == "stopped"
    assert len(runner.history) == 4 and runner.progress.value == 4
    assert "stopped" in runner.status.value and not runner.resume_button.disabled
    runner.resume_button.click()
    assert runner.wait(30)
    assert len(runner.history) == 12 and runner.search_.stopped_reason_ == "budget"
    assert runner.resume_button.disabled


def test_search_runner_bad_settings_show_a_message_and_it_stays_usable():
    runner = nv.widgets.SearchRunner(nv.CellSpace(), strategy="random", budget=5, seed=0)
    runner.budget_text.value = 0
    runner.run_button.click()
    assert "budget must be an integer >= 1, got 0" in runner.error_
    assert "budget must be" in runner.message.value and runner.search_ is None and not runner.running
    runner.strategy_dropdown.value = "local"
    assert set(runner.knobs) == {"initial", "first_improvement"}
    runner.knobs["initial"].value = -2
    runner.budget_text.value = 5
    runner.run_button.click()
    assert "initial" in runner.error_
    runner.knobs["initial"].value = 2
    runner.run_button.click()
    assert runner.wait(60) and runner.error_ is None and len(runner.history) == 5
    runner.estimator_dropdown.value = "training"
    runner.epochs_text.value = 0
    runner.run_button.click()
    assert "epochs" in runner.error_ and not runner.running


def test_search_runner_zero_cost_and_training_estimators():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    runner = nv.widgets.SearchRunner(nv.CellSpace(), strategy="random", budget=3, seed=1)
    runner.estimator_dropdown.value = "zero-cost"
    runner.proxy_dropdown.value = "params"
    runner.run_button.click()
    assert runner.wait(60), runner.error_
    data = nv.data.digits()
    expect = nv.estimators.ZeroCost("params", data, seed=1)
    assert [t.score for t in runner.history] == [expect.evaluate(t.arch).score for t in runner.history]
    runner.estimator_dropdown.value = "training"
    runner.epochs_text.value = 1
    runner.resolution_text.value = 4
    runner.subset_text.value = 0.2
    runner.budget_text.value = 2
    runner.run_button.click()
    assert runner.wait(120), runner.error_
    assert len(runner.history) == 2 and all(t.ok for t in runner.history)
    assert runner.search_.estimator.epochs == 1 and runner.search_.estimator.data.input_shape == (1, 4, 4)


def test_search_runner_on_a_macro_space_with_two_workers():
    space = nv.MacroSpace(max_layers=3)
    runner = nv.widgets.SearchRunner(space, strategy="evolution", budget=6, workers=2, seed=0)
    assert list(runner.estimator_options_) == ["training", "zero-cost"]  # no table covers this space
    runner.knobs["population"].value = 3
    runner.knobs["sample"].value = 2
    runner.estimator_dropdown.value = "zero-cost"
    runner.proxy_dropdown.value = "params"
    runner.run_button.click()
    assert runner.wait(120), runner.error_
    assert len(runner.history) == 6 and all(t.arch in space for t in runner.history)
    assert runner.search_.workers == 2
    expect = nv.estimators.ZeroCost("params", nv.data.digits(), space=space, seed=0)
    assert [t.score for t in runner.history] == [expect.evaluate(t.arch).score for t in runner.history]
    runner.workers_text.value = 0
    runner.run_button.click()
    assert "workers must be an integer >= 1, got 0" in runner.error_
    runner.close()


# -- StrategyRace ----------------------------------------------------------------------------

def _history(scores):
    space = nv.CellSpace()
    return nv.History([nv.Trial(i, space[i], nv.Result(score=s)) for i, s in enumerate(scores)])


def test_race_table_counts_evaluations_to_the_optimum():
    from nasviz.widgets.strategy_race import race_table

    a = [_history([0.1, 0.9, 1.0]), _history([1.0, 0.2]), _history([0.3, 0.4])]
    assert [h.evaluations_to(1.0) for h in a] == [3, 1, None]
    rows = race_table({"a": a, "b": [_history([0.5])]}, optimum=1.0)
    assert rows[0] == {"label": "a", "runs": 3, "found": 2, "median_evals": 2.0, "mean_evals": 2.0,
                       "mean_regret": pytest.approx((0 + 0 + 0.6) / 3)}
    assert rows[1]["found"] == 0 and rows[1]["median_evals"] is None and rows[1]["mean_regret"] == 0.5


def test_strategy_race_runs_every_strategy_and_seed(bench):
    race = nv.widgets.StrategyRace(bench, strategies=("random", "local"), seeds=3, budget=30,
                                   metric="cifar100_val_acc", seed=5)
    race.run_button.click()
    assert race.wait(120) and race.error_ is None
    assert {k: len(v) for k, v in race.histories_.items()} == {"random": 3, "local": 3}
    assert race.progress.value == race.progress.max == 6
    assert race.optimum_ == bench.optimum("cifar100_val_acc")[1]
    space = nv.CellSpace()
    alone = nv.Search(space, nv.strategies.get("local", space, seed=6),
                      nv.estimators.Tabular(bench, metric="cifar100_val_acc"), budget=30, seed=6).run(progress=False)
    assert [t.score for t in race.histories_["local"][1]] == [t.score for t in alone]
    png_of(race.plot)
    from nasviz.widgets.strategy_race import race_table

    for row in race_table(race.histories_, race.optimum_):
        assert f"{row['found']}/3" in race.table.value
    assert "finished: 6 runs" in race.status.value and "6 runs" in repr(race)


def test_strategy_race_stops_and_reports_bad_settings(bench):
    race = nv.widgets.StrategyRace(bench, strategies=("random",), seeds=400, budget=200)
    race.seeds_text.value = 0
    race.run_button.click()
    assert "seeds must be an integer >= 1, got 0" in race.error_ and not race.running
    race.strategies_select.value = ()
    race.seeds_text.value = 400
    race.run_button.click()
    assert "at least one strategy" in race.error_
    race.strategies_select.value = ("random", "evolution")
    race.run_button.click()
    assert race.running and race.error_ is None
    deadline = 600
    while race.progress.value < 1 and deadline:  # wait for the first finished run, then stop
        race.wait(0.1)
        deadline -= 1
    race.stop_button.click()
    assert race.wait(60)
    done = sum(len(v) for v in race.histories_.values())
    assert 1 <= done < 800 and all(len(h) == 200 for v in race.histories_.values() for h in v)
    assert "stopped" in race.status.value and not race.run_button.disabled


# -- ProxyLab --------------------------------------------------------------------------------

def test_proxy_stats_and_top_k_hit_rate():
    from scipy import stats

    from nasviz.widgets.proxy_lab import proxy_stats, top_k_hit_rate

    rng = np.random.default_rng(0)
    scores, truth, costs = rng.random(30), rng.random(30), rng.random(30)
    scores[3] = np.nan  # a failed evaluation
    s = proxy_stats(scores, truth, costs, k=5)
    keep = np.isfinite(scores)
    assert s["spearman"] == stats.spearmanr(scores[keep], truth[keep]).statistic
    assert s["kendall"] == stats.kendalltau(scores[keep], truth[keep]).statistic
    assert s["cost"] == np.mean(costs) and s["n"] == 29 and s["failed"] == 1
    assert s["top_k"] == top_k_hit_rate(scores[keep], truth[keep], 5)
    assert top_k_hit_rate([3, 2, 1], [3, 2, 1], 2) == 1.0
    assert top_k_hit_rate([1, 2, 3], [3, 2, 1], 1) == 0.0
    assert top_k_hit_rate([1, 1, 0], [0, 1, 1], 2) == 0.5  # ties: the earlier first


def test_proxy_lab_scores_real_networks(bench):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    lab = nv.widgets.ProxyLab(bench, proxies=("params", "synflow", "train-1ep-25pct"), sample_size=6, top_k=3,
                              seed=1)
    assert "another dataset" in lab.note.value  # nb201 was trained on CIFAR; the networks here see digits
    lab.run_button.click()
    assert lab.wait(300) and lab.error_ is None
    assert lab.sample_ == lab.draw_sample(6, 1) and len(set(lab.sample_)) == 6
    assert lab.truth_.tolist() == bench.query_many(lab.sample_, "cifar10_val_acc").tolist()
    data = nv.data.digits(seed=1)
    expect = [nv.estimators.ZeroCost("synflow", data, seed=1).evaluate(a).score for a in lab.sample_]
    assert lab.results_["synflow"]["scores"].tolist() == expect
    from nasviz.widgets.proxy_lab import proxy_stats

    for res in lab.results_.values():
        assert res["stats"] == proxy_stats(res["scores"], lab.truth_, res["costs"], k=3)
        assert f"{res['stats']['top_k']:.2f}" in lab.table.value
    assert np.isfinite(lab.results_["train-1ep-25pct"]["scores"]).all()
    assert lab.progress.value == lab.progress.max == 18
    png_of(lab.plot)
    assert "finished" in lab.status.value and "6 architectures" in repr(lab)


def test_proxy_lab_with_a_mapping_bad_settings_and_stop():
    space = nv.CellSpace()
    archs = [space[i * 511] for i in range(30)]
    gate = Gate(hold_at=12)  # holds the 12th evaluation, in the second chunk of 10
    lab = nv.widgets.ProxyLab({str(a): float(a.ops.count("nor_conv_3x3")) for a in archs},
                              proxies={"convs": gate}, sample_size=30, seed=0)
    lab.sample_text.value = 40
    lab.run_button.click()
    assert "at most 30" in lab.error_ and not lab.running
    lab.sample_text.value = 0
    lab.run_button.click()
    assert "sample size must be an integer >= 2, got 0" in lab.error_
    lab.sample_text.value = 30
    lab.run_button.click()
    assert gate.reached_.wait(30)
    lab.stop_button.click()
    gate.release_.set()
    assert lab.wait(30) and lab.status.value == "stopped"
    res = lab.results_["convs"]
    assert res["done"] == 20 and lab.progress.value == 20  # the chunk in progress ends, no further one starts
    assert res["stats"]["spearman"] == pytest.approx(1.0)  # the gate scores exactly the truth
    assert not lab.run_button.disabled and lab.stop_button.disabled
    with pytest.raises(nv.errors.NasvizError):
        nv.widgets.ProxyLab("no-such-table")
    with pytest.raises(nv.errors.NasvizError, match="unknown proxy"):
        nv.widgets.ProxyLab("nb201-12epoch", proxies=("synfloww",))
    custom = nv.widgets.ProxyLab("nb201-12epoch", data=nv.data.digits(resolution=6), proxies=("train-1ep-4px",))
    custom.run_button.click()
    assert "changes the resolution" in custom.error_ and not custom.running


def test_proxy_lab_uses_the_tables_recipe():
    """With a table that nasviz builds (named digits201), proxies score the recipe's networks."""
    import pandas as pd

    space = nv.CellSpace()
    archs = [space[i * 997] for i in range(8)]
    df = pd.DataFrame({"arch": [str(a) for a in archs], "val_acc": np.linspace(0.5, 0.9, 8)})
    recipe = nv.bench.recipe("digits201")
    for name, channels, batch_size in (("digits201", recipe.channels, recipe.batch_size), ("mine", 8, 64)):
        lab = nv.widgets.ProxyLab(nv.bench.from_dataframe(df, name=name), proxies=("train-2ep", "synflow"))
        train = lab.make_estimator("train-2ep")
        assert (train.epochs, train.channels, train.batch_size) == (2, channels, batch_size)
        assert lab.make_estimator("synflow").channels == channels
    low = lab.make_estimator("train-1ep-4px")
    assert low.data.X_train.shape[-1] == 4 and low.epochs == 1
