"""The layer-level table: recipes over a MacroSpace, their build, MacroSpace table files, decision effects."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

import nasviz as nv
from nasviz.bench import build as B
from nasviz.bench.build import recipes as R
from nasviz.bench.build.recipes import RECIPES, Recipe
from nasviz.bench.effects import matched_pairs
from nasviz.bench.files import write_npz
from nasviz.cli import main as cli_main
from nasviz.devices import torch_threads
from nasviz.errors import InvalidArgumentError, InvalidFileError, NasvizError, UnknownNameError

SMALL = {"kind": "macro", "max_layers": 2, "ops": ("conv", "max_pool"), "filters": (4,), "kernel_sizes": (3,),
         "strides": (1, 2), "activations": ("relu", "tanh"), "dropouts": (0.0,), "max_fc_layers": 1,
         "fc_units": (8,)}
# 48 architectures of 4x4 digits, 2 epochs: a build of a few chunks takes seconds
TINY = Recipe(epochs=2, batch_size=256, lr=0.1, resolution=4, seeds=(0, 1), chunk=3, space=SMALL)


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


def _build(journal, limit, recipe=TINY):
    return B.build(recipe=recipe, journal=journal, limit=limit, workers=1, progress=False)


# -- the recipe names its space -------------------------------------------------------
def test_cell_recipes_keep_their_identity():
    for name in ("digits201", "shifted201"):  # the committed journals refuse any other recipe
        committed = json.loads((B.JOURNAL_DIR / name / "recipe.json").read_text())["recipe"]
        assert RECIPES[name].identity() == committed
    for name in ("digits201", "shifted201"):
        recipe = RECIPES[name]
        assert recipe.space is None and recipe.space_kind == "cell" and "space" not in recipe.identity()
        assert recipe.make_space() == nv.CellSpace() and recipe.space_arguments() == {}
        assert "CellSpace.build(channels=4" in recipe.describe()


def test_macro_recipe_round_trips_through_json():
    text = json.dumps(TINY.to_dict())
    assert '"fc_units": [8]' in text
    again = Recipe.from_dict(json.loads(text))
    assert again == TINY and hash(again) == hash(TINY) and again.space["ops"] == ("conv", "max_pool")
    assert again.identity() == json.loads(json.dumps(TINY.identity())) == TINY.identity()
    assert TINY.identity()["space"]["strides"] == [1, 2]
    assert TINY.make_space() == nv.MacroSpace(**{k: v for k, v in SMALL.items() if k != "kind"},
                                              input_shape=(1, 4, 4))
    assert TINY.with_seeds([3]).space == TINY.space


def test_macro_recipe_describes_its_space():
    text = TINY.describe()
    assert text.startswith("nv.MacroSpace(max_layers=2, ops=('conv', 'max_pool'), filters=(4,), kernel_sizes=(3,), "
                           "strides=(1, 2), activations=('relu', 'tanh'), dropouts=(0.0,), input_shape=(1, 4, 4), "
                           "max_fc_layers=1, fc_units=(8,)).build(arch)")
    assert "each architecture trained on its own, not fused: 3 architectures per task" in text
    assert "canonical classes" not in text and "channels=" not in text


@pytest.mark.parametrize("space, error, match", [
    ("macro", InvalidArgumentError, r"space must be None .* got 'macro'"),
    ({"max_layers": 2}, InvalidArgumentError, r"\{'kind': 'macro', \.\.\.\}"),
    ({"kind": "graph"}, UnknownNameError, r"unknown space kind 'graph' .*accepted: 'macro'"),
    ({"kind": "macro", "layers": 2}, InvalidArgumentError, r"unknown MacroSpace arguments \['layers'\].*'max_layers'"),
    ({"kind": "macro", "input_shape": (1, 8, 8)}, InvalidArgumentError, r"input_shape \(1, 8, 8\).*\(1, 4, 4\)"),
    ({"kind": "macro", "num_classes": 3}, InvalidArgumentError, r"num_classes 3"),
    ({"kind": "macro", "ops": ("conv", "wavelet")}, NasvizError, r"wavelet"),
])
def test_bad_space_names_the_value(space, error, match):
    with pytest.raises(error, match=match):
        Recipe(resolution=4, space=space)


def test_layer_recipe_is_shifted201_over_the_layer_space():
    layers, cells = RECIPES["shifted-layers"], RECIPES["shifted201"]
    assert dataclasses.replace(layers, space=None, lr=cells.lr, seeds=cells.seeds) == cells
    assert (layers.canvas, layers.resolution, layers.epochs, layers.batch_size, layers.lr, layers.seeds) == (
        12, 12, 6, 128, 0.2, (0, 1, 2, 3))
    space = layers.make_space()
    assert space == nv.MacroSpace(max_layers=2, ops=("conv", "max_pool", "avg_pool"), filters=(16, 32),
                                  kernel_sizes=(3, 5), strides=(1, 2), activations=("relu", "tanh"),
                                  dropouts=(0.0, 0.2), input_shape=(1, 12, 12), max_fc_layers=1, fc_units=(16, 64))
    assert len(space) == 4920 and space.count_by_depth() == {1: 120, 2: 4800}
    assert layers.make_space() is space  # built once
    class_of, reps = B.canonical_classes(space)
    assert (class_of == np.arange(4920)).all() and (reps == np.arange(4920)).all()
    est = layers.estimator(seed=2)
    assert est.space is space and est.max_batch == layers.chunk == 16 and est.seed == 2
    assert nv.bench.recipe("shifted-layers") is layers


# -- building a layer table -----------------------------------------------------------
def test_tiny_layer_build_trains_every_architecture_on_its_own(tmp_path):
    j = tmp_path / "j"
    out = _build(j, limit=5)
    assert out["trained"] == 12 and out["total"] == 48 * 2  # two chunks of 3, two seeds
    header = json.loads((j / "recipe.json").read_text())
    assert header["recipe"] == TINY.identity() and header["classes"] == 48
    journal = B.read_journal(j)
    space = TINY.make_space()
    for (k, s), r in journal["runs"].items():
        assert r["cell"] == k and len(r["val"]) == TINY.epochs and np.isfinite(r["loss"])
        net = space.build(space[k], num_classes=10, in_channels=1)
        assert (r["params"], r["flops"]) == (nv.count_params(net), nv.count_flops(net, (1, 4, 4)))
    assert journal["segments"][0]["code"] == B.code_fingerprint(B.code_files("macro")) != B.code_fingerprint()
    assert _build(j, limit=5)["trained"] == 0
    with pytest.raises(InvalidArgumentError, match="another recipe"):
        _build(j, limit=1, recipe=dataclasses.replace(TINY, space=dict(SMALL, fc_units=(16,))))
    st = B.status(recipe=TINY, journal=j)
    assert (st["done"], st["total"], st["classes"]) == (12, 96, 48)


def test_layer_table_holds_the_journal_and_reads_back(tmp_path):
    j = tmp_path / "j"
    _build(j, limit=6)
    out = tmp_path / "layers.npz"
    bench = B.finalize("tiny-layers", recipe=TINY, journal=j, out=out, partial=True, verbose=False)
    loaded = nv.bench.load(out)
    space = TINY.make_space()
    assert loaded.space == space and len(loaded) == 6 and loaded.seeds == [0, 1] and loaded.epochs == [1, 2]
    runs = B.read_journal(j)["runs"]
    assert {space.index(a) for a in loaded.archs()} == {k for k, _ in runs}
    for a in loaded.archs():
        k = space.index(a)
        for s in (0, 1):
            assert loaded.query(a, "val_acc", seed=s) == runs[(k, s)]["val"][-1] / 360
            assert loaded.query(a, "test_acc", epoch=1, seed=s) == runs[(k, s)]["test"][0] / 360
        net = space.build(a, num_classes=10, in_channels=1)
        assert loaded.query(a, "params") == nv.count_params(net) and loaded.array("params").dtype == np.float64
        assert loaded.query(a, "flops") == nv.count_flops(net, (1, 4, 4))
        assert loaded.cost(a) == pytest.approx(np.mean([runs[(k, s)]["seconds"] for s in (0, 1)]))
    text = loaded.description
    assert text.startswith("tiny-layers: every architecture of a layer-chain space (nv.MacroSpace, 48 architectures")
    assert TINY.describe() in text and "12 of 96 (architecture, seed) runs" in text
    assert "Isomorphic" not in text and "its own class" in text
    np.testing.assert_array_equal(loaded.array("val_acc"), bench.array("val_acc"))
    checks = B.verify(loaded, TINY, cells=1, seed=0)
    assert len(checks) == 1 and checks[0]["ok"], checks


def test_complete_layer_journal_finalizes_every_architecture(tmp_path, monkeypatch):
    small = dataclasses.replace(TINY, seeds=(0,), chunk=16,
                                space=dict(SMALL, max_layers=1, max_fc_layers=0, activations=("relu",)))
    assert len(small.make_space()) == 4
    j = tmp_path / "j"
    assert _build(j, limit=None, recipe=small)["done"] == 4
    bench = B.finalize("small", recipe=small, journal=j, out=tmp_path / "full.npz", verbose=False)
    loaded = nv.bench.load(tmp_path / "full.npz")
    assert len(loaded) == 4 and loaded.space == small.make_space() and "4 of 4" in loaded.description
    np.testing.assert_array_equal(loaded.array("train_loss"), bench.array("train_loss"))


def test_command_line_builds_the_layer_table(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(R.RECIPES, "shifted-layers", TINY)  # the real recipe trains for minutes
    j = tmp_path / "x"
    assert cli_main(["bench", "build", "shifted-layers", "--limit", "2", "--workers", "1", "--journal", str(j)]) == 0
    assert "shifted-layers: 6 of 96" in capsys.readouterr().err
    assert B.status("shifted-layers", journal=j)["done"] == 6
    out = tmp_path / "t.npz"
    assert cli_main(["bench", "build", "shifted-layers", "--journal", str(j), "--finalize", "--partial",
                     "--out", str(out)]) == 0
    assert nv.bench.load(out).space == TINY.make_space()


# -- MacroSpace table files -----------------------------------------------------------
def _small_table():
    space = nv.MacroSpace(max_layers=2, ops=("conv", "max_pool"), filters=(8,), kernel_sizes=(3, 5), strides=(1,),
                          activations=("relu",), dropouts=(0.0,), input_shape=(1, 6, 6), num_classes=4,
                          max_fc_layers=1, fc_units=(16,))
    rows = np.array([7, 1, 30, 12])
    rng = np.random.default_rng(0)
    values = {"val_acc": rng.random((4, 2, 3)), "params": np.array([10, 20, 30, 40], dtype=np.int64)}
    return space, nv.bench.Benchmark("small-layers", space, values, epochs=[1, 2, 3], seeds=[0, 1], rows=rows,
                                     cost=np.array([1.0, 2.0, 3.0, 4.0]), train_epochs=3, description="toy")


def test_macro_table_saves_and_loads(tmp_path):
    space, bench = _small_table()
    path = bench.save(tmp_path / "a.npz")
    loaded = nv.bench.load(path)
    assert loaded.space == space and loaded.space is not space and repr(loaded.space) == repr(space)
    assert loaded.archs() == bench.archs() and loaded.description == "toy" and loaded.train_epochs == 3
    for m in bench.metrics:
        np.testing.assert_array_equal(loaded.array(m), bench.array(m))
    np.testing.assert_array_equal(loaded.cost_many(loaded.archs()), bench.cost_many(bench.archs()))
    assert loaded.save(tmp_path / "b.npz").read_bytes() == path.read_bytes()
    with np.load(path) as npz:
        meta = json.loads(str(npz["meta"]))
    assert meta["space"]["type"] == "MacroSpace" and meta["space"]["input_shape"] == [1, 6, 6]


def test_unknown_space_type_in_a_file_names_it(tmp_path):
    _, bench = _small_table()
    path = bench.save(tmp_path / "a.npz")
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(str(arrays["meta"]))
    meta["space"]["type"] = "GraphSpace"
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    write_npz(tmp_path / "bad.npz", arrays)
    with pytest.raises(InvalidFileError, match=r"bad\.npz.*unknown space type 'GraphSpace'; accepted: 'CellSpace', "
                                               r"'MacroSpace'"):
        nv.bench.load(tmp_path / "bad.npz")


def test_table_over_another_space_cannot_be_saved(tmp_path):
    from nasviz.bench.files import space_spec

    class Wider(nv.MacroSpace):
        pass

    bench = nv.bench.Benchmark("w", Wider(max_layers=1), {"acc": np.zeros(len(Wider(max_layers=1)))})
    with pytest.raises(InvalidArgumentError, match="only tables over a CellSpace or a MacroSpace can be saved"):
        bench.save(tmp_path / "w.npz")
    assert space_spec(nv.CellSpace()) == {"type": "CellSpace", "ops": list(nv.CellSpace().ops), "nodes": 4}


# -- decision effects -----------------------------------------------------------------
EFFECTS = {"kernel": 0.05, "tanh": -0.02, "filters16": 0.01, "pool": -0.03, "fc16": 0.03, "fc64": 0.045,
           "second": 0.015}


def _truth(a):
    v = 0.5 + EFFECTS["second"] * (a.depth - 1) + {(): 0.0, (16,): EFFECTS["fc16"], (64,): EFFECTS["fc64"]}[a.fc]
    for layer in a.layers:
        if layer.op == "conv":
            v += (EFFECTS["kernel"] * (layer.kernel == 5) + EFFECTS["tanh"] * (layer.activation == "tanh")
                  + EFFECTS["filters16"] * (layer.filters == 16))
        else:
            v += EFFECTS["pool"] + EFFECTS["kernel"] * (layer.kernel == 5)
    return v


@pytest.fixture(scope="module")
def additive():
    """A layer space with values a known additive function of the settings (no noise)."""
    space = nv.MacroSpace(max_layers=2, ops=("conv", "max_pool", "avg_pool"), filters=(8, 16), kernel_sizes=(3, 5),
                          strides=(1, 2), activations=("relu", "tanh"), dropouts=(0.0, 0.2), input_shape=(1, 12, 12),
                          max_fc_layers=1, fc_units=(16, 64))
    values = np.array([_truth(a) for a in space.enumerate()])
    return nv.bench.Benchmark("additive", space, {"val_acc": values, "loss": -values})


def test_effects_recover_an_additive_truth(additive):
    df = nv.bench.decision_effects(additive, resamples=200)
    assert list(df.columns) == ["decision", "from", "to", "effect", "low", "high", "pairs", "bases"]
    assert df[["decision", "from", "to"]].values.tolist() == [
        ["op", "conv", "max_pool"], ["op", "conv", "avg_pool"], ["filters", 8, 16], ["kernel", 3, 5], ["stride", 1, 2],
        ["activation", "relu", "tanh"], ["dropout", 0.0, 0.2], ["depth", 1, 2], ["fc layers", 0, 1],
        ["fc units", 16, 64]]
    got = {(r["decision"], r["to"]): r for r in df.to_dict("records")}
    # a conv layer becoming a pool loses its filters/activation bonus: the mean over the conv layers of the table
    expected = {("filters", 16): EFFECTS["filters16"], ("kernel", 5): EFFECTS["kernel"], ("stride", 2): 0.0,
                ("activation", "tanh"): EFFECTS["tanh"], ("dropout", 0.2): 0.0,
                ("fc layers", 1): (EFFECTS["fc16"] + EFFECTS["fc64"]) / 2, ("fc units", 64): EFFECTS["fc64"] - EFFECTS["fc16"]}
    for key, value in expected.items():
        r = got[key]
        assert r["effect"] == pytest.approx(value, abs=1e-12), key
        assert r["low"] - 1e-12 <= value <= r["high"] + 1e-12, key
        assert r["high"] - r["low"] < 1e-9 and r["pairs"] > 0 and 0 < r["bases"] <= r["pairs"]
    # op: every pair loses the conv layer's settings and gains the pool's -0.03; on average over the base convs
    conv = [(k, f, a) for k in (3, 5) for f in (8, 16) for a in ("relu", "tanh")]
    loss = np.mean([EFFECTS["filters16"] * (f == 16) + EFFECTS["tanh"] * (a == "tanh") for _, f, a in conv])
    for pool in ("max_pool", "avg_pool"):
        assert got["op", pool]["effect"] == pytest.approx(EFFECTS["pool"] - loss, abs=1e-12)
    # every two-layer architecture is one one-layer architecture with a layer appended
    assert (got["depth", 2]["pairs"], got["depth", 2]["bases"]) == (4800, 120)
    assert got["fc units", 64]["pairs"] == got["fc units", 64]["bases"] == 1640  # one per chain


def test_pairs_differ_in_that_setting_only(additive):
    archs = additive.archs()
    space = additive.space
    for p in matched_pairs(additive):
        assert len(p.base) == len(p.changed) > 0
        for b, c in zip(p.base[::97], p.changed[::97]):
            a, z = archs[b], archs[c]
            if p.decision in ("filters", "kernel", "stride", "activation", "dropout", "fc units"):
                diff = [i for i, (x, y) in enumerate(zip(a.decisions, z.decisions)) if x != y]
                assert len(diff) == 1 and (a.decisions[diff[0]], z.decisions[diff[0]]) == (p.before, p.after)
                assert space.decisions[diff[0]].name.endswith(p.decision.split()[-1])
            elif p.decision == "op":
                i = next(i for i, (x, y) in enumerate(zip(a.layers, z.layers)) if x != y)
                assert (a.layers[i].op, z.layers[i].op) == (p.before, p.after)
                assert a.layers[:i] + a.layers[i + 1:] == z.layers[:i] + z.layers[i + 1:] and a.fc == z.fc
                assert (a.layers[i].kernel, a.layers[i].stride) == (z.layers[i].kernel, z.layers[i].stride)
            elif p.decision == "depth":
                assert z.layers[:-1] == a.layers and z.fc == a.fc and (a.depth, z.depth) == (1, 2)
            else:  # fc layers
                assert z.layers == a.layers and z.fc[:-1] == a.fc


def test_effects_are_seeded_and_intervals_cover_a_noisy_truth(additive):
    rng = np.random.default_rng(3)
    values = additive.array("val_acc")[:, 0, 0] + rng.normal(0, 0.05, len(additive))
    noisy = nv.bench.Benchmark("noisy", additive.space, {"val_acc": values})
    a = nv.bench.decision_effects(noisy, seed=4, resamples=300)
    pd.testing.assert_frame_equal(a, nv.bench.decision_effects(noisy, seed=4, resamples=300))
    other = nv.bench.decision_effects(noisy, seed=5, resamples=300)
    assert (a["effect"] == other["effect"]).all() and not (a["low"] == other["low"]).all()
    assert a.attrs["metric"] == "val_acc" and a.attrs["confidence"] == 0.95 and a.attrs["seed"] == 4
    exact = nv.bench.decision_effects(additive, resamples=10)
    assert ((a["low"] <= exact["effect"]) & (exact["effect"] <= a["high"])).all(), a
    assert (a["high"] - a["low"] > 0).all()


def test_effects_of_a_partial_table_use_the_pairs_it_holds(additive):
    keep = np.arange(0, len(additive), 3)
    part = nv.bench.Benchmark("part", additive.space, {"val_acc": additive.array("val_acc")[keep]}, rows=keep)
    df = nv.bench.decision_effects(part, resamples=50)
    full = nv.bench.decision_effects(additive, resamples=50)
    assert (df["pairs"] < full["pairs"]).all()
    kernel = df[df["decision"] == "kernel"].iloc[0]
    assert kernel.effect == pytest.approx(EFFECTS["kernel"])
    one = nv.MacroSpace(max_layers=1, ops=("conv",), filters=(8,), kernel_sizes=(3, 5), strides=(1,),
                        activations=("relu",), dropouts=(0.0,))
    lonely = nv.bench.Benchmark("one", one, {"acc": np.array([0.5])}, rows=[0])
    row = nv.bench.decision_effects(lonely).iloc[0]
    assert (row.decision, row.pairs) == ("kernel", 0) and np.isnan(row.effect) and np.isnan(row.low)


def test_effects_name_bad_input(additive):
    cells = nv.bench.Benchmark("cells", nv.CellSpace(), {"acc": np.zeros(15625)})
    with pytest.raises(InvalidArgumentError, match=r"layer-chain space \(nv.MacroSpace\); table 'cells' is over "
                                                   r"CellSpace\(\)"):
        nv.bench.decision_effects(cells)
    with pytest.raises(InvalidArgumentError, match="must be a nv.bench.Benchmark"):
        nv.bench.decision_effects("additive")
    with pytest.raises(UnknownNameError, match=r"unknown metric 'acc'; accepted: 'val_acc', 'loss'"):
        nv.bench.decision_effects(additive, "acc")
    with pytest.raises(InvalidArgumentError, match=r"confidence must be a number in \(0, 1\).*got 95"):
        nv.bench.decision_effects(additive, confidence=95)
    with pytest.raises(NasvizError, match="seed"):
        nv.bench.decision_effects(additive, seed=-1)
    with pytest.raises(NasvizError, match="resamples"):
        nv.bench.decision_effects(additive, resamples=0)


def test_draw_effects(additive, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = nv.bench.decision_effects(additive, resamples=50)
    fig, ax = plt.subplots()
    assert nv.draw_effects(df, ax=ax) is ax
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "op: conv → max_pool" and "dropout: 0 → 0.2" in labels and labels[-1] == "fc units: 16 → 64"
    assert "val_acc" in ax.get_xlabel() and "95% interval" in ax.get_xlabel()
    assert any(t.get_text() == "4,800 pairs" for t in ax.texts)
    fig.savefig(tmp_path / "effects.png")
    plt.close(fig)
    plt.figure()
    assert nv.draw_effects(df.iloc[:2], pairs=False, legend=False).get_legend() is None
    plt.close("all")
    with pytest.raises(InvalidArgumentError, match="missing: low, high"):
        nv.draw_effects(df.drop(columns=["low", "high"]))
    with pytest.raises(InvalidArgumentError, match="no rows"):
        nv.draw_effects(df.iloc[:0])
