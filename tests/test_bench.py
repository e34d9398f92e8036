import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nasviz as nv
from nasviz.bench import Benchmark, NotInTableError
from nasviz.bench.tables import DATA_DIR, TABLES, simulated_seconds_per_epoch
from nasviz.errors import InvalidArchitectureError, InvalidArgumentError, NasvizError, UnknownNameError

EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "nb201-12epoch" / "nb201_12epoch.csv"
SOURCE_COLUMNS = {
    "cifar10-val": "cifar10_val_acc", "cifar10-test": "cifar10_test_acc",
    "cifar100-val": "cifar100_val_acc", "cifar100-test": "cifar100_test_acc",
    "imagenet-val": "imagenet16_val_acc", "imagenet-test": "imagenet16_test_acc",
}
needs_source = pytest.mark.skipif(not SOURCE.is_file(), reason=f"source CSV not found at {SOURCE}")


@pytest.fixture(scope="module")
def bench():
    return nv.bench.load("nb201-12epoch")


@pytest.fixture(scope="module")
def source():
    return pd.read_csv(SOURCE)


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# -- shipped table ------------------------------------------------------------------
def test_available_and_unknown_name():
    names = nv.bench.available()
    assert "nb201-12epoch" in names
    assert all((DATA_DIR / TABLES[n][0]).is_file() for n in names)
    with pytest.raises(UnknownNameError, match="nb201-12epoch") as info:
        nv.bench.load("nb201-200epoch")
    assert "'nb201-200epoch'" in str(info.value)


def test_checksums_and_plain_arrays():
    readme = (Path(nv.bench.__file__).parent / "README.md").read_text()
    for name in nv.bench.available():
        file, expected = TABLES[name]
        if expected is not None:
            assert sha256(DATA_DIR / file) == expected, name
            assert expected in readme, name
    path = DATA_DIR / TABLES["nb201-12epoch"][0]
    assert TABLES["nb201-12epoch"][1] is not None
    assert "dd03f9c5ffc3ad6fcc7abeae23c0844d840f0a65d243b01926dcd83ca5c93999" in readme  # the source's
    licence = (Path(nv.bench.__file__).parent / "LICENSE-nb201").read_text()
    assert "MIT License" in licence and "BayesWatch" in licence
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    assert all(a.dtype != object for a in arrays.values())
    assert arrays["metric.cifar10_val_acc"].shape == (15625,)


def test_metadata_and_repr(bench):
    assert bench.name == "nb201-12epoch"
    assert bench.space == nv.CellSpace()
    assert bench.metrics == ["cifar10_val_acc", "cifar10_test_acc", "cifar100_val_acc", "cifar100_test_acc",
                             "imagenet16_val_acc", "imagenet16_test_acc", "params", "flops"]
    assert bench.default_metric == "cifar10_val_acc"
    assert bench.epochs is None and bench.seeds is None and bench.train_epochs == 12
    assert "BayesWatch" in bench.description and "SIMULATED" in bench.description
    text = repr(bench)
    assert "nb201-12epoch" in text and "15,625" in text and "cifar100_test_acc" in text


def test_covers_every_cell_once_in_index_order(bench):
    space = bench.space
    assert len(bench) == len(space) == 15625
    df = bench.to_dataframe()
    assert list(df.columns) == ["arch", *bench.metrics] and len(df) == 15625
    assert df["arch"].is_unique
    parsed = [space.from_string(s) for s in df["arch"]]
    assert [str(a) for a in parsed] == list(df["arch"])
    assert [space.index(a) for a in parsed] == list(df.index) == list(range(15625))
    assert all(a in bench for a in parsed[::500])
    acc = df[[m for m in bench.metrics if m.endswith("_acc")]].to_numpy()
    assert np.isfinite(acc).all() and (acc >= 0).all() and (acc <= 1).all()


@needs_source
def test_values_match_the_source_csv(bench, source):
    assert sha256(SOURCE) == "dd03f9c5ffc3ad6fcc7abeae23c0844d840f0a65d243b01926dcd83ca5c93999"
    archs = [bench.space.from_string(s) for s in source["cellstr"]]
    for column, metric in SOURCE_COLUMNS.items():
        np.testing.assert_array_equal(bench.query_many(archs, metric), source[column].to_numpy() / 100)
    row = source.iloc[1]  # spot check: the cell of the README example
    assert row["cellstr"] == EXAMPLE
    assert bench.query(EXAMPLE, "cifar10_test_acc") == pytest.approx(0.8822, abs=1e-12)
    assert bench.query(EXAMPLE, "cifar100_val_acc") == row["cifar100-val"] / 100
    assert bench.optimum("cifar10_test_acc")[1] == source["cifar10-test"].max() / 100


@needs_source
def test_from_csv_on_the_source_gives_the_same_table(bench):
    own = nv.bench.from_csv(SOURCE, arch_column="cellstr", metrics=["cifar10-val", "imagenet-test"], name="copy")
    assert len(own) == 15625 and own.metrics == ["cifar10-val", "imagenet-test"]
    archs = bench.archs()[::37]
    np.testing.assert_allclose(own.query_many(archs, "cifar10-val") / 100, bench.query_many(archs), rtol=1e-15)
    assert own.optimum("imagenet-test")[0] == bench.optimum("imagenet16_test_acc")[0]


def test_params_and_flops_match_direct_counts(bench):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    space = bench.space
    for arch in [space.sample(seed=11), space.from_string(EXAMPLE)]:
        net = space.build(arch, num_classes=10, in_channels=3, channels=16, cells_per_stage=5)
        assert bench.query(arch, "params") == nv.count_params(net)
        assert bench.query(arch, "flops") == nv.count_flops(net, (3, 32, 32))


def test_optimum_is_the_max_of_the_dataframe(bench):
    df = bench.to_dataframe()
    for metric in bench.metrics:
        arch, score = bench.optimum(metric)
        assert score == df[metric].max()
        assert str(arch) == df.loc[df[metric].idxmax(), "arch"]
        assert bench.query(arch, metric) == score
    assert bench.optimum() == bench.optimum("cifar10_val_acc")
    # params/flops: the largest network, six 3x3 convolutions
    assert set(bench.optimum("params")[0].ops) == {"nor_conv_3x3"}


def test_percentile(bench):
    space = bench.space
    best, _ = bench.optimum("cifar100_val_acc")
    assert bench.percentile(best, "cifar100_val_acc") == 100.0
    archs = [space.sample(seed=s) for s in range(30)]
    values = bench.query_many(archs, "cifar100_val_acc")
    pct = np.array([bench.percentile(a, "cifar100_val_acc") for a in archs])
    col = bench.to_dataframe()["cifar100_val_acc"].to_numpy()
    np.testing.assert_allclose(pct, [100 * (col <= v).mean() for v in values])
    assert (pct > 0).all() and (pct <= 100).all()


def test_simulated_cost(bench):
    space = bench.space
    arch = space.from_string(EXAMPLE)
    flops = bench.query(arch, "flops")
    assert bench.cost(arch) == pytest.approx(12 * simulated_seconds_per_epoch(flops))
    assert bench.cost(arch, epochs=6) == pytest.approx(bench.cost(arch) / 2)
    assert bench.cost(arch, epochs=200) == pytest.approx(200 * flops * 3 * 50_000 / 3e12)
    archs = [space.sample(seed=s) for s in range(20)]
    ratio = bench.cost_many(archs) / bench.query_many(archs, "flops")
    np.testing.assert_allclose(ratio, ratio[0])  # proportional to FLOPs
    with pytest.raises(InvalidArgumentError, match="positive number"):
        bench.cost(arch, epochs=0)


def test_query_errors_name_what_is_accepted(bench):
    arch = bench.space.sample(seed=0)
    with pytest.raises(UnknownNameError, match="cifar10_val_acc.*imagenet16_test_acc") as info:
        bench.query(arch, "val_acc")
    assert "'val_acc'" in str(info.value)
    with pytest.raises(UnknownNameError, match="accepted"):
        bench.query_many([arch], metric="accuracy")
    with pytest.raises(InvalidArgumentError, match="no per-epoch values"):
        bench.query(arch, epoch=4)
    assert bench.query(arch, epoch=12) == bench.query(arch)  # its values are the epoch-12 values
    with pytest.raises(InvalidArgumentError, match="no seeds"):
        bench.query(arch, seed=0)
    with pytest.raises(InvalidArchitectureError, match="malformed"):
        bench.query("|nor_conv_3x3~0|")
    with pytest.raises(NasvizError):
        bench.query(nv.CellSpace(nodes=3).sample(seed=0))
    assert "garbage" not in bench and nv.CellSpace(nodes=3).sample(seed=0) not in bench
    with pytest.raises(InvalidArgumentError, match="per-epoch"):
        bench.curve(arch)


def test_query_accepts_strings_and_query_many_agrees(bench):
    archs = [bench.space.sample(seed=s) for s in range(50)]
    many = bench.query_many(archs, "imagenet16_val_acc")
    assert many.dtype == np.float64
    assert list(many) == [bench.query(str(a), "imagenet16_val_acc") for a in archs]


def test_import_stays_light():
    code = ("import sys, nasviz as nv; b = nv.bench.load('nb201-12epoch'); b.query(b.space.sample(seed=0)); "
            "print(sorted(m for m in ('torch', 'matplotlib', 'ipywidgets', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- the storage design: several seeds, per-epoch curves ------------------------------
@pytest.fixture(scope="module")
def curves():
    """A toy table shaped like a multi-seed, per-epoch benchmark: values computed from the index."""
    space = nv.CellSpace()
    n = len(space)
    idx = np.arange(n, dtype=np.float64)[:, None, None]
    seeds = np.array([0.0, 1.0, 2.0])[None, :, None]
    epochs = np.arange(1, 6, dtype=np.float64)[None, None, :]
    val = idx / n * epochs / 5 + seeds / 100  # (n, 3, 5)
    val[7, 1, :] = np.nan  # one failed run
    rows = np.setdiff1d(np.arange(n), np.arange(100, 200))[::-1]  # all but 100 cells, in reverse order
    return Benchmark("toy", space, {"val_acc": val[rows], "train_loss": val[rows, :, -1:] * 2,
                                    "params": rows.astype(np.int64)},
                     epochs=[1, 2, 3, 4, 5], seeds=[0, 1, 2], rows=rows, cost=np.full(len(rows), 10.0))


def test_seeds_and_epochs(curves):
    space, n = curves.space, len(curves.space)
    arch = space[5000]
    base = 5000 / n
    assert curves.query(arch) == pytest.approx(base + 0.01)  # final epoch, mean over seeds 0, 1, 2 -> +1/100
    assert curves.query(arch, seed=2) == pytest.approx(base + 0.02)
    assert curves.query(arch, epoch=1, seed=0) == pytest.approx(base / 5)
    np.testing.assert_allclose(curves.curve(arch, seed=1), base * np.arange(1, 6) / 5 + 0.01)
    assert curves.query(arch, "params", epoch=2, seed=1) == 5000  # no epoch or seed axis: one value
    assert curves.query(arch, "train_loss", seed=1) == pytest.approx(2 * (base + 0.01))
    assert curves.query(space[7]) == pytest.approx(7 / n + 0.01)  # the NaN run is skipped: (0 + 2) / 2 / 100
    with pytest.raises(InvalidArgumentError, match=r"1\.\.5"):
        curves.query(arch, epoch=6)
    with pytest.raises(InvalidArgumentError, match=r"\[0, 1, 2\]"):
        curves.query(arch, seed=3)
    np.testing.assert_allclose(curves.query_many([space[1], space[2]], epoch=5, seed=0), np.array([1, 2]) / n)
    assert curves.cost(arch) == 10.0 and curves.cost(arch, epochs=1) == 2.0
    assert curves.optimum() == (space[-1], pytest.approx((n - 1) / n + 0.01))
    assert curves.optimum(epoch=1, seed=0)[1] == pytest.approx((n - 1) / n / 5)


def test_subset_table(curves):
    space = curves.space
    assert len(curves) == len(space) - 100
    assert space[150] not in curves and space[250] in curves
    with pytest.raises(NotInTableError, match=r"does not contain the cell '\|") as info:
        curves.query(space[150])
    assert str(space[150]) in str(info.value)
    with pytest.raises(NotInTableError, match="2 of the cells"):
        curves.query_many([space[1], space[101], space[102]])
    df = curves.to_dataframe(epoch=2, seed=0)
    assert len(df) == len(space) - 100 and 150 not in df.index
    assert df.loc[250, "val_acc"] == pytest.approx(250 / len(space) * 2 / 5)


def test_save_and_read_round_trip(curves, tmp_path):
    path = curves.save(tmp_path / "toy.npz")
    again = nv.bench.load(path)
    assert again.metrics == curves.metrics and again.epochs == curves.epochs and again.seeds == curves.seeds
    assert len(again) == len(curves) and again.train_epochs == 5
    archs = again.archs()[::101]
    for metric in curves.metrics:
        for epoch, seed in [(None, None), (2, 1)]:
            np.testing.assert_array_equal(again.query_many(archs, metric, epoch, seed),
                                          curves.query_many(archs, metric, epoch, seed))
    np.testing.assert_array_equal(again.cost_many(archs), curves.cost_many(archs))
    assert sha256(again.save(tmp_path / "again.npz")) == sha256(path)  # byte-identical
    with np.load(path, allow_pickle=False) as npz:
        assert npz["metric.params"].dtype.kind == "i" and npz["metric.val_acc"].shape == (15525, 3, 5)
        assert list(npz["rows"][98:102]) == [98, 99, 200, 201]


def test_benchmark_rejects_bad_shapes():
    space = nv.CellSpace()
    with pytest.raises(InvalidArgumentError, match="shaped"):
        Benchmark("bad", space, {"acc": np.zeros(10)})
    with pytest.raises(InvalidArgumentError, match="shaped"):
        Benchmark("bad", space, {"acc": np.zeros((len(space), 2, 1))})  # seeds=None: one run
    with pytest.raises(UnknownNameError, match="'acc'"):
        Benchmark("bad", space, {"acc": np.zeros(len(space))}, default_metric="val")
    with pytest.raises(InvalidArgumentError, match="twice"):
        Benchmark("bad", space, {"acc": np.zeros(3)}, rows=[4, 9, 4])
    with pytest.raises(InvalidArgumentError, match="indices in"):
        Benchmark("bad", space, {"acc": np.zeros(2)}, rows=[4, len(space)])
    with pytest.raises(InvalidArgumentError, match="cost must be finite"):
        Benchmark("bad", space, {"acc": np.zeros(2)}, rows=[4, 5], cost=[1.0, -1.0])


# -- a user's own table ---------------------------------------------------------------
CSV = f"""arch,val_acc,test_acc,seconds
{EXAMPLE},0.91,0.90,120
{ALL_NONE},0.10,0.10,30

|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|,0.55,,60
"""


def test_from_csv_small_table(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(CSV)
    bench = nv.bench.from_csv(path, metrics=["val_acc", "test_acc"], cost_column="seconds", train_epochs=200)
    assert bench.name == "mine" and len(bench) == 3
    assert bench.query(EXAMPLE) == 0.91 and bench.query(ALL_NONE, "test_acc") == 0.10
    third = "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"
    assert np.isnan(bench.query(third, "test_acc"))  # an empty entry stays missing
    assert bench.cost(EXAMPLE) == 120 and bench.cost(EXAMPLE, epochs=100) == 60
    assert bench.optimum() == (bench.space.from_string(EXAMPLE), 0.91)
    assert bench.percentile(third) == pytest.approx(200 / 3)
    missing = bench.space.sample(seed=0)
    assert missing not in bench
    with pytest.raises(NotInTableError, match="does not contain") as info:
        bench.query(missing)
    assert str(missing) in str(info.value) and "'mine'" in str(info.value)
    df = bench.to_dataframe()
    assert list(df.columns) == ["arch", "val_acc", "test_acc"] and set(df["arch"]) == {EXAMPLE, ALL_NONE, third}
    # metrics=None: every numeric column but the arch and cost columns; no cost column: unit cost
    plain = nv.bench.from_csv(path)
    assert plain.metrics == ["val_acc", "test_acc", "seconds"] and plain.cost(EXAMPLE) == 1.0


def test_from_csv_names_the_bad_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(CSV + "|nor_conv_3x3~0|+|conv~0|none~1|+|none~0|none~1|none~2|,0.3,0.3,1\n")
    with pytest.raises(InvalidArchitectureError, match="line 6 of bad.csv.*conv") as info:
        nv.bench.from_csv(path)
    assert "'conv'" in str(info.value)  # the unknown op, with the accepted ones
    path.write_text(CSV + "|nor_conv_3x3~0|+|none~0|,0.3,0.3,1\n")
    with pytest.raises(InvalidArchitectureError, match="line 6 of bad.csv.*malformed"):
        nv.bench.from_csv(path)
    path.write_text(CSV + f"{ALL_NONE},0.2,0.3,1\n")
    with pytest.raises(InvalidArgumentError, match="line 3 of bad.csv and line 6 of bad.csv are the same cell"):
        nv.bench.from_csv(path)
    mean = nv.bench.from_csv(path, on_duplicate="mean")
    assert len(mean) == 3 and mean.query(ALL_NONE) == pytest.approx(0.15)
    assert nv.bench.from_csv(path, on_duplicate="first").query(ALL_NONE) == 0.10
    assert nv.bench.from_csv(path, on_duplicate="last").query(ALL_NONE) == 0.2
    path.write_text(CSV + f"{ALL_NONE},high,0.3,1\n")
    with pytest.raises(InvalidArgumentError, match="line 6 of bad.csv: column 'val_acc' must be numeric"):
        nv.bench.from_csv(path, metrics=["val_acc"])
    with pytest.raises(UnknownNameError, match="'seconds'"):
        nv.bench.from_csv(tmp_path / "bad.csv", metrics=["accuracy"])


def test_from_dataframe_rows_and_options():
    df = pd.DataFrame({"cell": [EXAMPLE, ALL_NONE, None], "acc": [0.9, 0.1, 0.5]}, index=[10, 20, 30])
    with pytest.raises(InvalidArchitectureError, match="row 30, column 'cell'"):
        nv.bench.from_dataframe(df, arch_column="cell")
    with pytest.raises(UnknownNameError, match="'cell'"):
        nv.bench.from_dataframe(df)  # arch_column defaults to "arch"
    ok = nv.bench.from_dataframe(df.iloc[:2], arch_column="cell", name="two", default_metric="acc")
    assert ok.name == "two" and ok.query(ALL_NONE) == 0.1 and len(ok) == 2
    with pytest.raises(InvalidArgumentError, match="on_duplicate"):
        nv.bench.from_dataframe(df.iloc[:2], arch_column="cell", on_duplicate="max")
    archs = pd.DataFrame({"arch": [nv.CellSpace().from_string(EXAMPLE)], "acc": [0.5]})
    assert nv.bench.from_dataframe(archs).query(EXAMPLE) == 0.5  # Architecture objects work too
    with pytest.raises(InvalidArgumentError, match="no rows"):
        nv.bench.from_dataframe(df.iloc[:0], arch_column="cell")


def test_a_few_cells_of_a_large_space():
    space = nv.MacroSpace()
    archs = [space.sample(seed=s) for s in range(4)]
    df = pd.DataFrame({"arch": [str(a) for a in archs[:3]], "acc": [0.3, 0.8, 0.5]})
    bench = nv.bench.from_dataframe(df, space=space)
    assert len(bench) == 3 and len(space) > 10**6  # only the rows are stored
    assert bench.query(archs[1]) == 0.8 and bench.optimum() == (archs[1], 0.8)
    assert archs[3] not in bench
    with pytest.raises(NotInTableError, match="does not contain"):
        bench.query(archs[3])
    assert list(bench.to_dataframe()["acc"]) == list(bench.query_many(bench.archs()))


# -- digits201 ----------------------------------------------------------------------
def test_digits201_ships_every_cell_with_its_recipe():
    from nasviz.bench.build import canonical_classes

    assert "digits201" in nv.bench.available()
    file, expected = TABLES["digits201"]
    assert expected is not None and sha256(DATA_DIR / file) == expected
    assert (DATA_DIR / file).stat().st_size <= 10 * 2**20
    bench = nv.bench.load("digits201")
    recipe = nv.bench.recipe("digits201")
    assert len(bench) == 15625 and bench.seeds == list(recipe.seeds)
    assert bench.default_metric == "val_acc"
    assert {"val_acc", "test_acc", "train_loss", "params", "flops", "train_seconds"} <= set(bench.metrics)
    assert recipe.describe() in bench.description
    df = bench.to_dataframe()
    assert len(df) == 15625 and df["arch"].tolist() == [str(a) for a in bench.space.enumerate()]
    for seed in recipe.seeds:
        for epoch in range(1, recipe.epochs + 1):
            acc = bench.to_dataframe(epoch=epoch, seed=seed)["val_acc"].to_numpy()
            assert np.isfinite(acc).all() and ((acc >= 0) & (acc <= 1)).all()
    # isomorphic cells share one training; sizes are each cell's own
    space = bench.space
    class_of, _ = canonical_classes(space)
    big = int(np.bincount(class_of).argmax())  # the largest class
    members = np.flatnonzero(class_of == big)
    assert len(members) > 3
    curves = {tuple(bench.curve(space[int(i)], seed=0)) for i in members}
    assert len(curves) == 1
    arch = space.from_string(EXAMPLE)
    assert bench.query(arch, "params") == nv.count_params(space.build(arch, channels=recipe.channels,
                                                                       cells_per_stage=recipe.cells_per_stage))
    assert np.median(df["val_acc"]) < 0.97  # the recipe keeps the cells apart (not all at 97-99%)
