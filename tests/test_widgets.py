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


def test_space_explorer_says_a_disconnected_cell_computes_nothing(bench):
    from nasviz.widgets.space_explorer import DISCONNECTED_NOTE

    ex = nv.widgets.SpaceExplorer(nv.CellSpace(), benchmarks=[bench], seed=0)
    for dead in ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                 "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|"):  # node 2 never sees the input
        ex.set_arch(dead)
        assert ex.stats()["disconnected"] is True
        assert ex.info.value.lower().count(DISCONNECTED_NOTE) >= 2  # a banner, and beside the accuracies
        assert f"nb201-12epoch ({DISCONNECTED_NOTE})" in ex.info.value
    ex.set_arch(EXAMPLE)
    assert ex.stats()["disconnected"] is False and "disconnected" not in ex.info.value
    assert nv.widgets.SpaceExplorer(nv.MacroSpace(max_layers=2), seed=0).stats()["disconnected"] is None


def test_space_explorer_names_the_network_of_each_parameter_count(bench):
    from nasviz.widgets.space_explorer import CANONICAL_NOTE, table_network

    ex = nv.widgets.SpaceExplorer(nv.CellSpace(), benchmarks=[bench, "digits201"], seed=0)
    ex.set_arch(EXAMPLE)
    info = ex.info.value
    own = ex.stats()["params"]
    assert ("parameters (this nasviz network, space.build(arch): 16 channels, 1 cell per stage, 1x8x8 input)"
            f"</td><td style='padding:1px 8px'>{own:,}") in info
    nb201 = f"{bench.query(ex.arch, 'params'):,.0f}"
    assert f"params (NAS-Bench-201's CIFAR-10 network)</td><td style='padding:1px 8px'>{nb201}" in info
    assert "16 channels, 5 cells per stage, 3x32x32 input" in info
    digits = nv.bench.load("digits201")
    assert table_network(digits) == ("digits201's network", "4 channels, 1 cell per stage, 1x8x8 input")
    assert "params (digits201" in info and "4 channels, 1 cell per stage, 1x8x8 input" in info
    pd = pytest.importorskip("pandas")
    assert table_network(nv.bench.from_dataframe(pd.DataFrame({"arch": [EXAMPLE], "acc": [0.5]}), name="mine")) is None
    # the canonical string, explained in one line, for cells only
    assert CANONICAL_NOTE in info and "\n" not in CANONICAL_NOTE
    macro = nv.widgets.SpaceExplorer(nv.MacroSpace(max_layers=2), seed=0)
    assert CANONICAL_NOTE not in macro.info.value


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
    assert str(smallest) in px.info.value.replace("<wbr>", "") and "front point 0 of" in px.info.value
    assert "overflow-wrap:anywhere" in px.info.value.split("<table")[0]  # the string wraps instead of being cut
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
    table = runner.topk.value.replace("<wbr>", "")  # break points between a cell's nodes
    assert str(history.best.arch) in table and runner.topk.value.count("<tr>") == 1 + 4
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


def test_search_runner_weight_sharing_estimator_and_a_differentiable_strategy():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    runner = nv.widgets.SearchRunner(nv.CellSpace(), bench="digits201", strategy="random", budget=3, seed=2)
    assert "weight-sharing" in runner.estimator_options_ and "gdas" in runner.strategy_dropdown.options
    runner.estimator_dropdown.value = "weight-sharing"
    runner.epochs_text.value = 1
    runner.resolution_text.value = 4
    runner.subset_text.value = 0.25
    runner.run_button.click()
    assert runner.wait(120), runner.error_
    est = runner.search_.estimator
    assert isinstance(est, nv.estimators.WeightSharing) and (est.epochs, est.seed) == (1, 2)
    assert len(runner.history) == 3 and all(t.ok for t in runner.history)
    runner.strategy_dropdown.value = "gdas"
    assert "method" not in runner.knobs and runner.knobs["epochs"].value == 20
    runner.knobs["epochs"].value = 2
    runner.knobs["channels"].value = 2
    runner.estimator_dropdown.value = "table"
    runner.run_button.click()
    assert runner.wait(120), runner.error_
    strategy = runner.search_.strategy
    assert strategy.method == "gdas" and strategy.data.input_shape == (1, 4, 4)
    assert [str(t.arch) for t in runner.history] == list(dict.fromkeys(str(c) for c in strategy.history_.cells[1:]))
    runner.close()


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


LONG = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def test_search_runner_top_k_table_shows_whole_architecture_strings():
    from nasviz.widgets._common import CODE_STYLE, table_html

    runner = nv.widgets.SearchRunner(nv.CellSpace(), strategy="random", budget=20, seed=0)
    # the table has its own row at the widget's full width, not a corner beside the curve
    assert runner.box.children[-1] is runner.topk
    assert all(runner.topk not in getattr(c, "children", ()) for c in runner.box.children[:-1])
    runner.run_button.click()
    assert runner.wait(60)
    arch_cells = runner.topk.value.split(CODE_STYLE + "'>")[1:]
    assert len(arch_cells) == 5  # every architecture in the small monospace style that wraps
    shown = [c.split("</td>")[0].replace("<wbr>", "") for c in arch_cells]
    top = sorted(runner.history.ok_trials, key=lambda t: (-t.score, t.number))[:5]
    assert shown == [str(t.arch) for t in top]  # whole strings, nothing cut
    html = table_html(["arch"], [[LONG]], code_columns=(0,))
    assert LONG.replace("+", "+<wbr>") in html and "overflow-wrap:anywhere" in html


def test_search_runner_training_uses_trainings_own_defaults():
    import inspect

    from nasviz.estimators.training import Training

    defaults = {k: p.default for k, p in inspect.signature(Training.__init__).parameters.items()
                if p.default is not p.empty}
    runner = nv.widgets.SearchRunner(nv.CellSpace(), strategy="random", budget=2, seed=4)
    runner.estimator_dropdown.value = "training"
    assert runner.training_note in runner.estimator_box.children
    runner.epochs_text.value = 3
    runner.resolution_text.value = 4
    est = runner.make_estimator()
    assert isinstance(est, Training)
    assert (est.channels, est.batch_size, est.lr) == (defaults["channels"], defaults["batch_size"], defaults["lr"])
    for name in ("optimizer", "weight_decay", "schedule", "cells_per_stage", "recalibrate_bn", "device", "inherit"):
        assert getattr(est, name) == defaults[name], name
    assert est.epochs == 3 and est.seed == 4 and est.data.input_shape == (1, 4, 4)
    # the same estimator as a notebook's nv.estimators.Training(data, epochs=3)
    same = Training(nv.data.digits(resolution=4, seed=4), epochs=3, seed=4)
    assert est.fidelity == same.fidelity and (est.channels, est.batch_size) == (same.channels, same.batch_size)
    assert f"{defaults['channels']} channels" in runner.training_note.value
    assert f"batch {defaults['batch_size']}" in runner.training_note.value
    # an estimator object passed in is used as given
    mine = Training(nv.data.digits(), epochs=1, channels=4, batch_size=128)
    runner = nv.widgets.SearchRunner(nv.CellSpace(), estimators={"mine": mine}, strategy="random", budget=2)
    assert runner.make_estimator() is mine


def test_search_runner_refused_run_clears_the_previous_results():
    runner = nv.widgets.SearchRunner(nv.CellSpace(), strategy="random", budget=10, seed=0)
    for refuse, fix in ((lambda r: setattr(r.budget_text, "value", 0), lambda r: setattr(r.budget_text, "value", 10)),
                        (lambda r: (setattr(r.strategy_dropdown, "value", "local"),
                                    setattr(r.knobs["initial"], "value", -2)),
                         lambda r: setattr(r.strategy_dropdown, "value", "random"))):
        runner.run_button.click()
        assert runner.wait(60) and runner.error_ is None
        png_of(runner.plot)
        png_of(runner.incumbent)
        assert runner.topk.value
        refuse(runner)
        runner.run_button.click()
        assert runner.error_ is not None and not runner.running
        assert [set(o["data"]) for o in runner.plot.outputs] == [{"text/plain"}]  # the old curve is gone
        assert "refused" in runner.plot.outputs[0]["data"]["text/plain"]
        assert runner.incumbent.outputs == () and runner.topk.value == ""
        assert "refused" in runner.status.value
        fix(runner)


def _drawn_figures(monkeypatch):
    """Record every architecture drawing a widget renders: ``[(figure, dpi)]``."""
    from nasviz.widgets import _common

    seen = []
    render = _common.figure_png

    def recording(fig, dpi=90, tight=True):
        if any((p.get_gid() or "").startswith(("node ", "box ")) for ax in fig.axes for p in ax.patches):
            seen.append((fig, dpi))
        return render(fig, dpi=dpi, tight=tight)

    monkeypatch.setattr(_common, "figure_png", recording)
    return seen


def test_widget_drawings_stay_legible(monkeypatch):
    from nasviz.widgets._legible import MIN_TEXT_PX, legibility

    seen = _drawn_figures(monkeypatch)
    runner = nv.widgets.SearchRunner(nv.CellSpace(), strategy="random", budget=20, seed=0)
    runner.run_button.click()
    assert runner.wait(60)
    runner_cells = list(seen)
    ex = nv.widgets.SpaceExplorer(nv.CellSpace(), seed=0)
    ex.mutate()
    nv.widgets.SpaceExplorer(nv.MacroSpace(max_layers=3), seed=1)
    nv.widgets.ParetoExplorer("nb201-12epoch", x="params", y="cifar10_val_acc")
    space = nv.MacroSpace(max_layers=3)
    chain = nv.widgets.SearchRunner(space, strategy="random", budget=3, seed=0)
    chain.estimator_dropdown.value = "zero-cost"
    chain.proxy_dropdown.value = "params"
    chain.run_button.click()
    assert chain.wait(60), chain.error_
    assert len(seen) >= 6
    for fig, dpi in seen:
        report = legibility(fig, dpi)
        assert report["min_px"] >= MIN_TEXT_PX - 1e-6 and not report["clashes"], report
    # the incumbent of SearchRunner is small: its edges are colour-coded, with a legend of the ops
    for fig, _ in runner_cells:
        ax = fig.axes[0]
        assert not [t for t in ax.texts if (t.get_gid() or "").startswith("edge label")]
        assert ax.get_legend() is not None and ax.get_title().startswith("incumbent")


def test_arch_figure_labels_edges_when_there_is_room():
    from nasviz.widgets._legible import MIN_TEXT_PX, arch_figure, legibility

    arch = nv.CellSpace().from_string(LONG)
    big = arch_figure(arch, max_size=(7.5, 4.5), dpi=90)
    small = arch_figure(arch, max_size=(4.0, 3.0), dpi=80)
    labels = [t for t in big.axes[0].texts if (t.get_gid() or "").startswith("edge label")]
    assert len(labels) == 6 and legibility(big, 90)["min_px"] >= MIN_TEXT_PX
    assert not [t for t in small.axes[0].texts if (t.get_gid() or "").startswith("edge label")]
    report = legibility(small, 80)
    assert report["min_px"] >= MIN_TEXT_PX and report["width"] <= 4.05
    legend = [t.get_text() for t in small.axes[0].get_legend().get_texts()]
    assert sorted(legend) == sorted(set(arch.ops))
    # a diff in little room still names the change
    other = nv.CellSpace().from_string(LONG.replace("nor_conv_1x1~2", "skip_connect~2"))
    diff = arch_figure(other, max_size=(4.0, 3.0), dpi=80, diff_from=arch)
    texts = [t.get_text() for t in diff.axes[0].texts if (t.get_gid() or "").startswith("edge label")]
    assert texts == ["nor_conv_1x1 \u2192\nskip_connect"]


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
    assert lab.progress.value == lab.progress.max == 18 and lab.progress.description == "18 / 18 scored"
    png_of(lab.plot)
    assert "finished" in lab.status.value and "6 architectures" in repr(lab)


def test_proxy_lab_with_a_mapping_bad_settings_and_stop():
    space = nv.CellSpace()
    archs = [space[i * 511] for i in range(30)]
    gate = Gate(hold_at=12)  # holds the 12th evaluation, in the second chunk of 10
    lab = nv.widgets.ProxyLab({str(a): float(a.ops.count("nor_conv_3x3")) for a in archs},
                              proxies={"convs": gate, "later": Gate(), "last": Gate()}, sample_size=30, seed=0)
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
    assert lab.wait(30) and lab.status.value == "stopped: convs scored 20 of 30; not run: later, last"
    res = lab.results_["convs"]
    assert res["done"] == 20 and lab.progress.value == 20  # the chunk in progress ends, no further one starts
    assert lab.progress.description == "20 / 90 scored"
    assert [lab.results_[k]["done"] for k in ("later", "last")] == [0, 0]
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


def test_proxy_lab_offers_a_supernet_that_ranks_against_the_truth():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    lab = nv.widgets.ProxyLab("digits201", data=nv.data.digits(resolution=4, subset=0.25),
                              proxies=("supernet-2ep",), sample_size=8, seed=1)
    assert "supernet-20ep" in lab.proxies_select.options
    est = lab.make_estimator("supernet-2ep")
    recipe = nv.bench.recipe("digits201")
    assert isinstance(est, nv.estimators.WeightSharing) and (est.epochs, est.train_none) == (2, False)
    assert est.channels == recipe.channels
    lab.run_button.click()
    assert lab.wait(120) and lab.error_ is None
    stats = lab.results_["supernet-2ep"]["stats"]
    assert len(lab.results_["supernet-2ep"]["scores"]) == 8 and -1 <= stats["spearman"] <= 1
    import pandas as pd

    chains = nv.MacroSpace(max_layers=2)
    df = pd.DataFrame({"arch": [str(chains.sample(seed=i)) for i in range(3)], "acc": [0.3, 0.5, 0.7]})
    macro = nv.widgets.ProxyLab(nv.bench.from_dataframe(df, space=chains, on_duplicate="first"), proxies=("params",))
    assert "supernet-20ep" not in macro.proxies_select.options  # a supernet holds cells only
    with pytest.raises(nv.errors.UnknownNameError, match="supernet-<epochs>ep"):
        nv.widgets.ProxyLab("digits201", proxies=("supernet-many",))


def test_proxy_lab_shows_every_proxy_and_how_to_choose_several():
    lab = nv.widgets.ProxyLab("nb201-12epoch", proxies=("params", "synflow"), sample_size=5)
    options = lab.proxies_select.options
    assert len(options) >= 13 and lab.proxies_select.rows == len(options)
    assert "choose several" in lab.select_hint.value and "Shift" in lab.select_hint.value
    assert lab.select_hint in lab.box.children[2].children[0].children  # under the list
    assert lab.progress.description == "0 / 0 scored"
    lab.proxies_select.value = ("params", "flops")
    lab.run_button.click()
    assert lab.wait(60) and lab.error_ is None
    assert lab.progress.description == "10 / 10 scored" and lab.status.value == "finished"
