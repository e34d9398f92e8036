"""The bad-input corpus: every public entry point, fed nonsense.

Each case must raise an error of the nasviz family (:class:`nasviz.errors.NasvizError`)
whose message names the bad value (its repr or str), quickly: no other exception, no
silent acceptance, no hang (every case runs under an alarm). The command line cases
must exit with 1 (a nasviz error) or 2 (a usage error) and print one line, no traceback.

A few cases at the end check the other side of the same fixes: spaces too large for
``len()`` still work with every strategy, through ``space.size``.

Case ids start with their class: ``seed-``, ``type-``, ``data-``, ``size-``, ``file-``,
``cli-`` (the classes of the audit that built this corpus), then ``space-``,
``strategy-``, ``estimator-``, ``search-``, ``draw-``, ``bench-`` for the rest.
"""

from __future__ import annotations

import pickle
import signal
import zipfile
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import nasviz as nv
from nasviz.estimators.base import Estimator

CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
CHAIN = "conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2)"
TIME_LIMIT = 20  # seconds per case: generous on 2 shared cores; a hang is far longer


class Hang(Exception):
    """A case ran past TIME_LIMIT."""


@pytest.fixture(autouse=True)
def alarm():
    """Fail a case that hangs instead of waiting for it."""
    def on_alarm(signum, frame):
        raise Hang(f"no answer within {TIME_LIMIT} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, old)


class Pools(Estimator):
    """A free estimator for the Search cases."""

    def _evaluate(self, arch, parent=None, fidelity=None):
        return nv.Result(score=-str(arch).count("avg_pool"), cost=1.0)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    from matplotlib.figure import Figure

    cell = nv.CellSpace()
    macro = nv.MacroSpace()
    path = tmp_path_factory.mktemp("bad")
    data = nv.data.digits(resolution=4, subset=0.5)
    bench = nv.bench.load("nb201-12epoch")
    return SimpleNamespace(
        cell=cell, macro=macro, arch=cell.from_string(CELL), chain=macro.from_string(CHAIN), data=data,
        bench=bench, path=path, ax=lambda: Figure().add_subplot(),
        X=np.random.default_rng(0).random((40, 1, 4, 4)), y=np.arange(40) % 2,
        df=pd.DataFrame({"arch": [CELL, NONE], "val_acc": [0.9, 0.1]}),
        search=lambda **kw: nv.Search(cell, nv.strategies.RandomSearch(cell), Pools(),
                                      **{"budget": 2, **kw}),
    )


def write(ctx, name, content):
    """A file under the corpus' tmp folder (bytes or text)."""
    p = ctx.path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content)
    return p


def npz(ctx, name, arrays, *, truncate=False):
    p = ctx.path / name
    np.savez(p, **arrays)
    if truncate:
        p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])
    return p


def saved(ctx, name, drop=()):
    """A real benchmark file with some entries dropped."""
    bench = nv.bench.from_dataframe(ctx.df)
    p = bench.save(ctx.path / f"whole-{name}")
    out = ctx.path / name
    with zipfile.ZipFile(p) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename.removesuffix(".npy") not in drop:
                dst.writestr(info, src.read(info))
    return out


def meta_npz(ctx, name, meta):
    import json

    return npz(ctx, name, {"meta": np.array(json.dumps(meta)), "metric.val_acc": np.zeros(2)})


S = nv.strategies
STRATEGIES = {
    "random": S.RandomSearch, "exhaustive": S.Exhaustive, "evolution": S.RegularizedEvolution,
    "local": S.LocalSearch, "bo": S.BayesianOptimization, "reinforce": S.REINFORCE, "mcts": S.MCTS,
    "sh": S.SuccessiveHalving, "hyperband": S.Hyperband,
}


def P(id, fn, needle):
    """A case: ``fn(ctx)`` must raise a NasvizError whose message holds ``needle``
    (a string, or a value whose repr or str it must hold)."""
    return pytest.param(fn, needle, id=id)


CASES = [
    # -- seeds ---------------------------------------------------------------------------
    P("seed-cellspace-sample-negative", lambda c: c.cell.sample(seed=-1), -1),
    P("seed-cellspace-sample-str", lambda c: c.cell.sample(seed="x"), "x"),
    P("seed-cellspace-sample-float", lambda c: c.cell.sample(seed=1.5), 1.5),
    P("seed-cellspace-sample-bool", lambda c: c.cell.sample(seed=True), True),
    P("seed-cellspace-sample-list", lambda c: c.cell.sample(seed=[1, 2]), [1, 2]),
    P("seed-cellspace-mutate-negative", lambda c: c.cell.mutate(c.arch, seed=-1), -1),
    P("seed-cellspace-mutate-str", lambda c: c.cell.mutate(c.arch, seed="x"), "x"),
    P("seed-macrospace-sample-negative", lambda c: c.macro.sample(seed=-1), -1),
    P("seed-macrospace-sample-float", lambda c: c.macro.sample(seed=1.5), 1.5),
    P("seed-macrospace-mutate-str", lambda c: c.macro.mutate(c.chain, seed="x"), "x"),
    *[P(f"seed-{name}-negative", lambda c, cls=cls: cls(c.cell, seed=-1), -1) for name, cls in STRATEGIES.items()],
    *[P(f"seed-{name}-str", lambda c, cls=cls: cls(c.cell, seed="x"), "x")
      for name, cls in STRATEGIES.items() if name in ("random", "evolution", "bo", "mcts")],
    *[P(f"seed-{name}-float", lambda c, cls=cls: cls(c.cell, seed=1.5), 1.5)
      for name, cls in STRATEGIES.items() if name in ("local", "reinforce", "sh")],
    P("seed-evolution-bool", lambda c: S.RegularizedEvolution(c.cell, seed=True), True),
    P("seed-strategies-get-negative", lambda c: S.get("random", c.cell, seed=-1), -1),
    P("seed-digits-negative", lambda c: nv.data.digits(seed=-1), -1),
    P("seed-digits-str", lambda c: nv.data.digits(seed="x"), "x"),
    P("seed-digits-float", lambda c: nv.data.digits(subset=0.5, seed=1.5), 1.5),
    P("seed-from-tensors-negative", lambda c: nv.data.from_tensors(c.X, c.y, seed=-1), -1),
    P("seed-zerocost-negative", lambda c: nv.estimators.ZeroCost("synflow", c.data, seed=-1), -1),
    P("seed-zerocost-str", lambda c: nv.estimators.ZeroCost("synflow", c.data, seed="x"), "x"),
    P("seed-zerocost-device-tpu", lambda c: nv.estimators.ZeroCost("synflow", c.data, device="tpu"), "tpu"),
    P("seed-zerocost-device-int", lambda c: nv.estimators.ZeroCost("synflow", c.data, device=3), 3),
    P("seed-training-negative", lambda c: nv.estimators.Training(c.data, seed=-1, device="cpu"), -1),
    P("seed-search-negative", lambda c: c.search(seed=-1), -1),
    P("seed-search-str", lambda c: c.search(seed="x"), "x"),

    # -- types ---------------------------------------------------------------------------
    P("type-cellspace-ops-none", lambda c: nv.CellSpace(ops=None), None),
    P("type-cellspace-ops-str", lambda c: nv.CellSpace(ops="abc"), "abc"),
    P("type-cellspace-ops-int", lambda c: nv.CellSpace(ops=5), 5),
    P("type-cellspace-ops-empty", lambda c: nv.CellSpace(ops=()), ()),
    P("type-cellspace-ops-duplicate", lambda c: nv.CellSpace(ops=("a", "a")), "'a'"),
    P("type-cellspace-ops-numbers", lambda c: nv.CellSpace(ops=(1, 2)), 1),
    P("type-cellspace-nodes-str", lambda c: nv.CellSpace(nodes="4"), "4"),
    P("type-cellspace-nodes-float", lambda c: nv.CellSpace(nodes=4.0), 4.0),
    P("type-cellspace-nodes-one", lambda c: nv.CellSpace(nodes=1), 1),
    P("type-cellspace-nodes-bool", lambda c: nv.CellSpace(nodes=True), True),
    P("type-macrospace-ops-int", lambda c: nv.MacroSpace(ops=5), 5),
    P("type-macrospace-ops-str", lambda c: nv.MacroSpace(ops="conv"), "conv"),
    P("type-macrospace-ops-unknown", lambda c: nv.MacroSpace(ops=("conv", "lstm")), "lstm"),
    P("type-macrospace-activations-none", lambda c: nv.MacroSpace(activations=None), None),
    P("type-macrospace-activations-int", lambda c: nv.MacroSpace(activations=3), 3),
    P("type-macrospace-filters-none", lambda c: nv.MacroSpace(filters=None), None),
    P("type-macrospace-filters-zero", lambda c: nv.MacroSpace(filters=(0, 8)), 0),
    P("type-macrospace-kernels-float", lambda c: nv.MacroSpace(kernel_sizes=(3.5,)), 3.5),
    P("type-macrospace-dropouts-one", lambda c: nv.MacroSpace(dropouts=(0.0, 1.0)), 1.0),
    P("type-macrospace-dropouts-str", lambda c: nv.MacroSpace(dropouts="0.1"), "0.1"),
    P("type-macrospace-input-shape-2d", lambda c: nv.MacroSpace(input_shape=(8, 8)), (8, 8)),
    P("type-macrospace-max-layers-zero", lambda c: nv.MacroSpace(max_layers=0), 0),
    P("type-macrospace-max-layers-str", lambda c: nv.MacroSpace(max_layers="3"), "3"),
    P("type-macrospace-max-layers-float", lambda c: nv.MacroSpace(max_layers=2.5), 2.5),
    P("type-macrospace-num-classes-zero", lambda c: nv.MacroSpace(num_classes=0), 0),
    P("type-macrospace-max-fc-layers-negative", lambda c: nv.MacroSpace(max_fc_layers=-1), -1),
    P("type-macrospace-max-fc-layers-five", lambda c: nv.MacroSpace(max_fc_layers=5), 5),
    P("type-macrospace-max-fc-layers-str", lambda c: nv.MacroSpace(max_fc_layers="2"), "2"),
    P("type-macrospace-fc-units-zero", lambda c: nv.MacroSpace(fc_units=(32, 0)), 0),
    P("type-macrospace-fc-units-float", lambda c: nv.MacroSpace(fc_units=(32.5,)), 32.5),
    P("type-macrospace-fc-units-repeated", lambda c: nv.MacroSpace(fc_units=(64, 64)), (64, 64)),
    P("type-macrospace-fc-units-str", lambda c: nv.MacroSpace(fc_units="64"), "64"),
    P("type-macrospace-fc-units-none", lambda c: nv.MacroSpace(fc_units=None), None),
    P("type-cellspace-from-decisions-none", lambda c: c.cell.from_decisions(None), None),
    P("type-cellspace-from-decisions-int", lambda c: c.cell.from_decisions(5), 5),
    P("type-cellspace-from-decisions-short", lambda c: c.cell.from_decisions(["none"] * 5), 5),
    P("type-cellspace-from-decisions-unknown-op", lambda c: c.cell.from_decisions(["conv"] * 6), "conv"),
    P("type-macrospace-from-decisions-none", lambda c: c.macro.from_decisions(None), None),
    P("type-macrospace-from-decisions-depth", lambda c: c.macro.from_decisions([9] + [None] * 24), 9),
    P("type-cellspace-from-json-int-decisions", lambda c: c.cell.from_json('{"decisions": 5}'), 5),
    P("type-cellspace-from-json-null-decisions", lambda c: c.cell.from_json('{"decisions": null}'), None),
    P("type-cellspace-from-json-list", lambda c: c.cell.from_json("[1, 2]"), "[1, 2]"),
    P("type-cellspace-from-json-none", lambda c: c.cell.from_json(None), None),
    P("type-cellspace-from-json-garbage", lambda c: c.cell.from_json("{nope"), "{nope"),
    P("type-macrospace-from-json-int-decisions", lambda c: c.macro.from_json('{"decisions": 5}'), 5),
    P("type-macrospace-from-json-dict-decisions", lambda c: c.macro.from_json('{"decisions": {"a": 1}}'),
      "{'a': 1}"),
    P("type-strategies-get-list", lambda c: S.get(["random"], c.cell), ["random"]),
    P("type-strategies-get-none", lambda c: S.get(None, c.cell), None),
    P("type-strategies-get-unknown", lambda c: S.get("simulated-annealing", c.cell), "simulated-annealing"),
    P("type-strategies-get-bogus-kwarg", lambda c: S.get("evolution", c.cell, bogus=1), "bogus"),
    P("type-strategies-get-kwarg-of-other", lambda c: S.get("random", c.cell, population=10), "population"),
    P("type-bench-load-list", lambda c: nv.bench.load(["x"]), ["x"]),
    P("type-bench-load-none", lambda c: nv.bench.load(None), None),
    P("type-bench-load-int", lambda c: nv.bench.load(5), 5),
    P("type-bench-load-unknown", lambda c: nv.bench.load("nb201-200epoch"), "nb201-200epoch"),
    *[P(f"type-{name}-space-none", lambda c, cls=cls: cls(None), None) for name, cls in STRATEGIES.items()],
    P("type-random-space-str", lambda c: S.RandomSearch("cell"), "cell"),
    P("type-random-unique-str", lambda c: S.RandomSearch(c.cell, unique="no"), "no"),
    P("type-random-unique-int", lambda c: S.RandomSearch(c.cell, unique=1), 1),
    P("type-exhaustive-shuffle-str", lambda c: S.Exhaustive(c.cell, shuffle="x"), "x"),
    P("type-local-first-improvement-str", lambda c: S.LocalSearch(c.cell, first_improvement="yes"), "yes"),

    # -- data ----------------------------------------------------------------------------
    P("data-from-tensors-nan", lambda c: nv.data.from_tensors(np.where(c.X > 0.5, np.nan, c.X), c.y), "nan"),
    P("data-from-tensors-inf", lambda c: nv.data.from_tensors(np.where(c.X > 0.5, np.inf, c.X), c.y), "inf"),
    P("data-from-tensors-complex", lambda c: nv.data.from_tensors(c.X + 1j, c.y), "complex128"),
    P("data-from-tensors-strings", lambda c: nv.data.from_tensors(np.full((40, 4, 4), "a"), c.y), "<U1"),
    P("data-from-tensors-objects", lambda c: nv.data.from_tensors(np.full((40, 4, 4), None), c.y), "object"),
    P("data-from-tensors-empty", lambda c: nv.data.from_tensors(np.zeros((0, 1, 4, 4)), np.zeros(0, int)),
      "(0, 1, 4, 4)"),
    P("data-from-tensors-one-class", lambda c: nv.data.from_tensors(c.X, np.zeros(40, int)), "class 0"),
    P("data-from-tensors-num-classes-str", lambda c: nv.data.from_tensors(c.X, c.y, num_classes="x"), "x"),
    P("data-from-tensors-num-classes-zero", lambda c: nv.data.from_tensors(c.X, c.y, num_classes=0), 0),
    P("data-from-tensors-num-classes-float", lambda c: nv.data.from_tensors(c.X, c.y, num_classes=2.5), 2.5),
    P("data-from-tensors-num-classes-too-few", lambda c: nv.data.from_tensors(c.X, c.y, num_classes=1), 1),
    P("data-from-tensors-float-labels", lambda c: nv.data.from_tensors(c.X, c.y + 0.5), "float64"),
    P("data-from-tensors-negative-labels", lambda c: nv.data.from_tensors(c.X, c.y - 1), -1),
    P("data-from-tensors-2d", lambda c: nv.data.from_tensors(c.X.reshape(40, 16), c.y), "(40, 16)"),
    P("data-from-tensors-not-square", lambda c: nv.data.from_tensors(c.X.reshape(40, 1, 2, 8), c.y), "2 x 8"),
    P("data-from-tensors-label-count", lambda c: nv.data.from_tensors(c.X, c.y[:10]), "(10,)"),
    P("data-from-tensors-resolution-zero", lambda c: nv.data.from_tensors(c.X, c.y, resolution=0), 0),
    P("data-from-tensors-subset-zero", lambda c: nv.data.from_tensors(c.X, c.y, subset=0), 0),
    P("data-from-tensors-val-fraction", lambda c: nv.data.from_tensors(c.X, c.y, val_fraction=1.5), 1.5),
    P("data-from-tensors-name-int", lambda c: nv.data.from_tensors(c.X, c.y, name=5), 5),
    P("data-from-tensors-too-few-per-class", lambda c: nv.data.from_tensors(c.X[:5], np.array([0, 0, 0, 0, 1])),
      "1: 1"),
    P("data-from-tensors-ragged-list", lambda c: nv.data.from_tensors([[[0.0]], [[0.0, 1.0]]], [0, 1]), "list"),
    P("data-from-tensors-overflow-float32", lambda c: nv.data.from_tensors(np.where(c.X > 0.5, 1e300, c.X), c.y),
      "1e+300"),
    P("data-digits-resolution-nine", lambda c: nv.data.digits(resolution=9), 9),
    P("data-digits-resolution-str", lambda c: nv.data.digits(resolution="8"), "8"),
    P("data-digits-subset-big", lambda c: nv.data.digits(subset=1.5), 1.5),
    P("data-digits-subset-nan", lambda c: nv.data.digits(subset=float("nan")), "nan"),
    P("data-digits-fractions-sum", lambda c: nv.data.digits(val_fraction=0.6, test_fraction=0.5), "0.6"),
    P("data-digits-val-fraction-str", lambda c: nv.data.digits(val_fraction="0.2"), "0.2"),

    # -- size ----------------------------------------------------------------------------
    P("size-macrospace-len-3000-layers", lambda c: len(nv.MacroSpace(max_layers=3000)), 3000),
    P("size-macrospace-million-layers-sample", lambda c: nv.MacroSpace(max_layers=10**6).sample(seed=0), 10**6),
    P("size-macrospace-len-12-layers", lambda c: len(nv.MacroSpace(max_layers=12)), ".size"),
    P("size-cellspace-len-huge", lambda c: len(nv.CellSpace(nodes=30)), ".size"),
    P("size-cellspace-million-nodes", lambda c: nv.CellSpace(nodes=10**6), 10**6),
    P("size-cellspace-path-encoding-huge", lambda c: nv.CellSpace(nodes=30).encode(
        nv.CellSpace(nodes=30).sample(seed=0), "path"), "path"),
    P("size-cellspace-index-too-big", lambda c: c.cell[10**30], 10**30),
    P("size-cellspace-nodes-33", lambda c: nv.CellSpace(nodes=33), 33),
    P("size-macrospace-max-layers-101", lambda c: nv.MacroSpace(max_layers=101), 101),
    P("size-macrospace-count-by-depth-million", lambda c: c.macro.count_by_depth(up_to=10**6), 10**6),
    P("size-macrospace-index-too-big", lambda c: nv.MacroSpace(max_layers=12)[10**40], 10**40),

    # -- files ---------------------------------------------------------------------------
    P("file-csv-ragged-row", lambda c: nv.bench.from_csv(write(c, "ragged.csv", f"arch,val_acc\n{CELL},0.5,7\n")),
      "ragged.csv"),
    P("file-csv-unterminated-quote", lambda c: nv.bench.from_csv(
        write(c, "quote.csv", f'arch,val_acc\n"{CELL},0.5\n{NONE},0.1\n')), "quote.csv"),
    P("file-csv-empty", lambda c: nv.bench.from_csv(write(c, "empty.csv", "")), "empty.csv"),
    P("file-csv-not-utf8", lambda c: nv.bench.from_csv(
        write(c, "latin.csv", b"arch,val\xe9\n" + CELL.encode() + b",0.5\n")), "latin.csv"),
    P("file-csv-inf-value", lambda c: nv.bench.from_csv(write(c, "inf.csv", f"arch,val_acc\n{CELL},inf\n{NONE},0.1\n")),
      "inf"),
    P("file-csv-minus-inf-value", lambda c: nv.bench.from_csv(
        write(c, "minf.csv", f"arch,val_acc\n{CELL},0.5\n{NONE},-inf\n")), "line 3"),
    P("file-csv-short-row", lambda c: nv.bench.from_csv(write(c, "short.csv", f"arch,val_acc,test_acc\n{CELL},0.5\n")),
      "short.csv"),
    P("file-csv-header-only", lambda c: nv.bench.from_csv(write(c, "header.csv", "arch,val_acc\n")), "header.csv"),
    P("file-csv-bad-cell", lambda c: nv.bench.from_csv(write(c, "cell.csv", "arch,val_acc\n|conv~0|,0.5\n")),
      "|conv~0|"),
    P("file-csv-text-metric", lambda c: nv.bench.from_csv(
        write(c, "text.csv", f"arch,val_acc\n{CELL},high\n"), metrics=["val_acc"]), "high"),
    P("file-csv-missing", lambda c: nv.bench.from_csv(c.path / "nope.csv"), "nope.csv"),
    P("file-csv-directory", lambda c: nv.bench.from_csv(c.path), str),
    P("file-csv-path-none", lambda c: nv.bench.from_csv(None), None),
    P("file-csv-path-int", lambda c: nv.bench.from_csv(5), 5),
    P("file-load-text-file", lambda c: nv.bench.load(write(c, "text.npz", "hello, world\n")), "text.npz"),
    P("file-load-pickle-renamed", lambda c: nv.bench.load(write(c, "pickle.npz", pickle.dumps({"a": 1}))),
      "pickle.npz"),
    P("file-load-npz-no-metrics", lambda c: nv.bench.load(saved(c, "nometric.npz", drop=("metric.val_acc",))),
      "nometric.npz"),
    P("file-load-npz-truncated", lambda c: nv.bench.load(npz(c, "cut.npz", {"meta": np.zeros(5000)}, truncate=True)),
      "cut.npz"),
    P("file-load-npz-no-meta", lambda c: nv.bench.load(npz(c, "nometa.npz", {"x": np.zeros(3)})), "nometa.npz"),
    P("file-load-npz-meta-no-space", lambda c: nv.bench.load(meta_npz(c, "nospace.npz", {
        "format": 1, "name": "t", "metrics": ["val_acc"]})), "nospace.npz"),
    P("file-load-npz-missing", lambda c: nv.bench.load(c.path / "absent.npz"), "absent.npz"),
    P("file-load-empty-file", lambda c: nv.bench.load(write(c, "zero.npz", b"")), "zero.npz"),
    P("file-load-directory", lambda c: nv.bench.load((c.path / "dir.npz").mkdir(exist_ok=True) or c.path / "dir.npz"),
      "dir.npz"),
    P("file-load-npz-metric-wrong-length", lambda c: nv.bench.load(meta_npz(c, "short.npz", {
        "format": 1, "name": "t", "metrics": ["val_acc"], "space": {"type": "CellSpace", "ops": ["none"], "nodes": 4},
        "default_metric": "val_acc", "epochs": None, "seeds": None, "train_epochs": None, "description": ""})),
      "short.npz"),

    # -- spaces: other methods -----------------------------------------------------------
    P("space-cell-from-string-none", lambda c: c.cell.from_string(None), None),
    P("space-cell-from-string-int", lambda c: c.cell.from_string(5), 5),
    P("space-cell-from-string-empty", lambda c: c.cell.from_string(""), "''"),
    P("space-cell-from-string-unknown-op", lambda c: c.cell.from_string(CELL.replace("avg_pool_3x3", "conv_9x9")),
      "conv_9x9"),
    P("space-cell-from-string-wrong-source", lambda c: c.cell.from_string(CELL.replace("~1", "~0")), "~0"),
    P("space-macro-from-string-none", lambda c: c.macro.from_string(None), None),
    P("space-macro-from-string-unknown-op", lambda c: c.macro.from_string("lstm(16)"), "lstm"),
    P("space-macro-from-string-too-deep", lambda c: c.macro.from_string(" > ".join(["identity"] * 9)), "9 layers"),
    P("space-macro-from-string-bad-kernel", lambda c: c.macro.from_string("conv(16,k7,s1,relu,d0.0)"), 7),
    P("space-cell-encode-kind", lambda c: c.cell.encode(c.arch, kind="graph"), "graph"),
    P("space-cell-encode-none", lambda c: c.cell.encode(None), None),
    P("space-macro-encode-path", lambda c: c.macro.encode(c.chain, kind="path"), "path"),
    P("space-cell-encode-chain", lambda c: c.cell.encode(c.chain), "conv(16"),
    P("space-cell-build-none", lambda c: c.cell.build(None), None),
    P("space-cell-build-num-classes-zero", lambda c: c.cell.build(c.arch, num_classes=0), 0),
    P("space-cell-build-in-channels-str", lambda c: c.cell.build(c.arch, in_channels="1"), "1"),
    P("space-cell-build-channels-negative", lambda c: c.cell.build(c.arch, channels=-8), -8),
    P("space-cell-build-cells-per-stage-zero", lambda c: c.cell.build(c.arch, cells_per_stage=0), 0),
    P("space-macro-build-kwarg", lambda c: c.macro.build(c.chain, channels=8), "channels"),
    P("space-macro-build-num-classes-zero", lambda c: c.macro.build(c.chain, num_classes=0), 0),
    P("space-cell-index-none", lambda c: c.cell.index(None), None),
    P("space-cell-index-chain", lambda c: c.cell.index(c.chain), "conv(16"),
    P("space-macro-index-cell", lambda c: c.macro.index(c.arch), "nor_conv_3x3"),
    P("space-cell-getitem-str", lambda c: c.cell["x"], "x"),
    P("space-cell-getitem-out-of-range", lambda c: c.cell[15625], 15625),
    P("space-cell-neighbors-int", lambda c: c.cell.neighbors(5), 5),
    P("space-cell-mutate-none", lambda c: c.cell.mutate(None), None),
    P("space-macro-neighbors-none", lambda c: c.macro.neighbors(None), None),
    P("space-macro-mutate-cell", lambda c: c.macro.mutate(c.arch), "nor_conv_3x3"),
    P("space-cell-canonical-garbage", lambda c: c.cell.canonical("garbage"), "garbage"),
    P("space-macro-count-by-depth-zero", lambda c: c.macro.count_by_depth(up_to=0), 0),
    P("space-macro-from-string-head-without-fc", lambda c: c.macro.from_string(CHAIN + " | fc(32)"), "fc(32)"),
    P("space-macro-from-string-head-units", lambda c: nv.MacroSpace(max_fc_layers=2).from_string(CHAIN + " | fc(48)"),
      48),
    P("space-macro-from-string-head-malformed",
      lambda c: nv.MacroSpace(max_fc_layers=2).from_string(CHAIN + " | dense64"), "dense64"),
    P("space-macro-from-string-head-too-deep",
      lambda c: nv.MacroSpace(max_fc_layers=1).from_string(CHAIN + " | fc(32) > fc(32)"), "fc(32) > fc(32)"),
    P("space-macro-from-decisions-fc-depth",
      lambda c: nv.MacroSpace(max_fc_layers=2).from_decisions([1, "identity"] + [None] * 23 + [7, 32, 32]), 7),
    P("space-macro-from-decisions-fc-units",
      lambda c: nv.MacroSpace(max_fc_layers=2).from_decisions([1, "identity"] + [None] * 23 + [1, 48, 32]), 48),

    # -- strategies: numeric arguments ---------------------------------------------------
    P("strategy-evolution-population-zero", lambda c: S.RegularizedEvolution(c.cell, population=0), 0),
    P("strategy-evolution-population-str", lambda c: S.RegularizedEvolution(c.cell, population="20"), "20"),
    P("strategy-evolution-sample-zero", lambda c: S.RegularizedEvolution(c.cell, sample=0), 0),
    P("strategy-evolution-sample-over-population", lambda c: S.RegularizedEvolution(c.cell, population=3, sample=5),
      5),
    P("strategy-local-initial-zero", lambda c: S.LocalSearch(c.cell, initial=0), 0),
    P("strategy-bo-initial-negative", lambda c: S.BayesianOptimization(c.cell, initial=-2), -2),
    P("strategy-bo-pool-zero", lambda c: S.BayesianOptimization(c.cell, pool=0), 0),
    P("strategy-bo-acquisition", lambda c: S.BayesianOptimization(c.cell, acquisition="greedy"), "greedy"),
    P("strategy-bo-surrogate", lambda c: S.BayesianOptimization(c.cell, surrogate="forest"), "forest"),
    P("strategy-bo-encoding", lambda c: S.BayesianOptimization(c.cell, encoding="adjacency"), "adjacency"),
    P("strategy-reinforce-lr-zero", lambda c: S.REINFORCE(c.cell, lr=0), 0),
    P("strategy-reinforce-lr-nan", lambda c: S.REINFORCE(c.cell, lr=float("nan")), "nan"),
    P("strategy-reinforce-lr-str", lambda c: S.REINFORCE(c.cell, lr="0.1"), "0.1"),
    P("strategy-reinforce-baseline-decay-one", lambda c: S.REINFORCE(c.cell, baseline_decay=1), 1),
    P("strategy-reinforce-baseline-decay-nan", lambda c: S.REINFORCE(c.cell, baseline_decay=float("nan")), "nan"),
    P("strategy-mcts-exploration-negative", lambda c: S.MCTS(c.cell, exploration=-1), -1),
    P("strategy-mcts-exploration-inf", lambda c: S.MCTS(c.cell, exploration=float("inf")), "inf"),
    P("strategy-mcts-exploration-bool", lambda c: S.MCTS(c.cell, exploration=True), True),
    P("strategy-sh-min-fidelity-zero", lambda c: S.SuccessiveHalving(c.cell, min_fidelity=0), 0),
    P("strategy-sh-eta-one", lambda c: S.SuccessiveHalving(c.cell, eta=1), 1),
    P("strategy-sh-min-over-max", lambda c: S.SuccessiveHalving(c.cell, min_fidelity=20, max_fidelity=12), 20),
    P("strategy-sh-n-zero", lambda c: S.SuccessiveHalving(c.cell, n=0), 0),
    P("strategy-hyperband-iterations-zero", lambda c: S.Hyperband(c.cell, iterations=0), 0),
    P("strategy-hyperband-eta-float", lambda c: S.Hyperband(c.cell, eta=2.5), 2.5),
    P("strategy-tell-unknown-string", lambda c: S.RandomSearch(c.cell).tell("garbage", 0.5), "garbage"),
    P("strategy-tell-none", lambda c: S.LocalSearch(c.cell).tell(None, 0.5), None),
    P("strategy-tell-other-space", lambda c: S.RegularizedEvolution(c.cell).tell(c.chain, 0.5), "conv(16"),
    P("strategy-tell-result-str", lambda c: S.RandomSearch(c.cell).tell(c.arch, "good"), "good"),

    # -- estimators (construction only) --------------------------------------------------
    P("estimator-zerocost-unknown-proxy", lambda c: nv.estimators.ZeroCost("magic", c.data), "magic"),
    P("estimator-zerocost-data-none", lambda c: nv.estimators.ZeroCost("synflow", None), None),
    P("estimator-zerocost-batch-size-one", lambda c: nv.estimators.ZeroCost("naswot", c.data, batch_size=1), 1),
    P("estimator-zerocost-batch-size-huge", lambda c: nv.estimators.ZeroCost("naswot", c.data, batch_size=10**6),
      10**6),
    P("estimator-zerocost-channels-zero", lambda c: nv.estimators.ZeroCost("synflow", c.data, channels=0), 0),
    P("estimator-zerocost-space-str", lambda c: nv.estimators.ZeroCost("synflow", c.data, space="cell"), "cell"),
    P("estimator-training-data-none", lambda c: nv.estimators.Training(None), None),
    P("estimator-training-epochs-zero", lambda c: nv.estimators.Training(c.data, epochs=0), 0),
    P("estimator-training-batch-size-str", lambda c: nv.estimators.Training(c.data, batch_size="64"), "64"),
    P("estimator-training-lr-negative", lambda c: nv.estimators.Training(c.data, lr=-0.1), -0.1),
    P("estimator-training-optimizer", lambda c: nv.estimators.Training(c.data, optimizer="lion"), "lion"),
    P("estimator-training-schedule", lambda c: nv.estimators.Training(c.data, schedule="step"), "step"),
    P("estimator-training-device-tpu", lambda c: nv.estimators.Training(c.data, device="tpu"), "tpu"),
    P("estimator-training-inherit-str", lambda c: nv.estimators.Training(c.data, inherit="yes"), "yes"),
    P("estimator-training-threads-zero", lambda c: nv.estimators.Training(c.data, threads=0), 0),
    P("estimator-training-seed-str", lambda c: nv.estimators.Training(c.data, seed="0"), "0"),
    P("estimator-tabular-unknown-table", lambda c: nv.estimators.Tabular("nb201-200epoch"), "nb201-200epoch"),
    P("estimator-tabular-int", lambda c: nv.estimators.Tabular(5), 5),
    P("estimator-tabular-metric", lambda c: nv.estimators.Tabular(c.bench, metric="accuracy"), "accuracy"),
    P("estimator-tabular-epoch", lambda c: nv.estimators.Tabular(c.bench, epoch=999), 999),
    P("estimator-tabular-epoch-str", lambda c: nv.estimators.Tabular(c.bench, epoch="12"), "12"),

    # -- bench: tables in memory -----------------------------------------------------------
    P("bench-from-dataframe-none", lambda c: nv.bench.from_dataframe(None), None),
    P("bench-from-dataframe-arch-column", lambda c: nv.bench.from_dataframe(c.df, arch_column="cell"), "cell"),
    P("bench-from-dataframe-inf", lambda c: nv.bench.from_dataframe(c.df.assign(val_acc=[np.inf, 0.1])), "inf"),
    P("bench-from-dataframe-metrics-int", lambda c: nv.bench.from_dataframe(c.df, metrics=5), 5),
    P("bench-from-dataframe-on-duplicate", lambda c: nv.bench.from_dataframe(c.df, on_duplicate="max"), "max"),
    P("bench-from-dataframe-train-epochs-negative", lambda c: nv.bench.from_dataframe(c.df, train_epochs=-1), -1),
    P("bench-from-dataframe-train-epochs-str", lambda c: nv.bench.from_dataframe(c.df, train_epochs="x"), "x"),
    P("bench-from-dataframe-space-int", lambda c: nv.bench.from_dataframe(c.df, space=5), 5),
    P("bench-from-dataframe-duplicate-cell", lambda c: nv.bench.from_dataframe(
        pd.DataFrame({"arch": [CELL, CELL], "val_acc": [0.9, 0.1]})), "row 1"),
    P("bench-query-metric", lambda c: c.bench.query(c.arch, "accuracy"), "accuracy"),
    P("bench-query-none", lambda c: c.bench.query(None), None),
    P("bench-benchmark-epochs-str", lambda c: nv.bench.Benchmark("t", c.cell, {"a": np.zeros(15625)}, epochs=["a"]),
      "a"),
    P("bench-benchmark-metric-length", lambda c: nv.bench.Benchmark("t", c.cell, {"a": np.zeros(3)}), "(3,)"),

    # -- Search ----------------------------------------------------------------------------
    P("search-budget-negative", lambda c: c.search(budget=-1), -1),
    P("search-budget-zero", lambda c: c.search(budget=0), 0),
    P("search-budget-str", lambda c: c.search(budget="10"), "10"),
    P("search-budget-float-evaluations", lambda c: c.search(budget=1.5), 1.5),
    P("search-budget-inf-cost", lambda c: c.search(budget=float("inf"), budget_kind="cost"), "inf"),
    P("search-budget-kind", lambda c: c.search(budget_kind="seconds"), "seconds"),
    P("search-workers-zero", lambda c: c.search(workers=0), 0),
    P("search-workers-str", lambda c: c.search(workers="2"), "2"),
    P("search-storage-int", lambda c: c.search(storage=123), 123),
    P("search-storage-list", lambda c: c.search(storage=["run.sqlite"]), ["run.sqlite"]),
    P("search-max-repeats-zero", lambda c: c.search(max_repeats=0), 0),
    P("search-space-none", lambda c: nv.Search(None, S.RandomSearch(c.cell), Pools(), budget=2), None),
    P("search-strategy-none", lambda c: nv.Search(c.cell, None, Pools(), budget=2), None),
    P("search-estimator-none", lambda c: nv.Search(c.cell, S.RandomSearch(c.cell), None, budget=2), None),
    P("search-space-mismatch", lambda c: nv.Search(c.macro, S.RandomSearch(c.cell), Pools(), budget=2), "MacroSpace"),
    P("search-executor-int", lambda c: c.search(executor=5), 5),
    P("search-callback-int", lambda c: c.search(callbacks=[5]), 5),

    # -- drawing -------------------------------------------------------------------------
    P("draw-none", lambda c: nv.draw(None, ax=c.ax()), None),
    P("draw-string", lambda c: nv.draw(CELL, ax=c.ax()), "str"),
    P("draw-ax-int", lambda c: nv.draw(c.arch, ax=5), 5),
    P("draw-show-none-str", lambda c: nv.draw(c.arch, ax=c.ax(), show_none="no"), "no"),
    P("draw-labels-str", lambda c: nv.draw(c.arch, ax=c.ax(), labels="yes"), "yes"),
    P("draw-legend-int", lambda c: nv.draw(c.arch, ax=c.ax(), legend=2), 2),
    P("draw-fontsize-negative", lambda c: nv.draw(c.arch, ax=c.ax(), fontsize=-3), -3),
    P("draw-fontsize-str", lambda c: nv.draw(c.arch, ax=c.ax(), fontsize="big"), "big"),
    P("draw-colors-list", lambda c: nv.draw(c.arch, ax=c.ax(), colors=["red"]), "red"),
    P("draw-colors-bad-colour", lambda c: nv.draw(c.arch, ax=c.ax(), colors={"nor_conv_3x3": "notacolour"}),
      "notacolour"),
    P("draw-per-row-zero", lambda c: nv.draw(c.chain, ax=c.ax(), per_row=0), 0),
    P("draw-diff-cell-chain", lambda c: nv.draw_diff(c.arch, c.chain, ax=c.ax()), "cell"),
    P("draw-network-channels-zero", lambda c: nv.draw_network(c.cell, c.arch, ax=c.ax(), channels=0), 0),
    P("draw-network-input-shape", lambda c: nv.draw_network(c.cell, c.arch, ax=c.ax(), input_shape=(8, 8)), (8, 8)),

    # -- learned predictors and BANANAS-style BO -----------------------------------------
    P("estimator-predictor-model", lambda c: nv.estimators.Predictor(c.cell, model="xgboost"), "xgboost"),
    P("estimator-predictor-encoding", lambda c: nv.estimators.Predictor(c.cell, encoding="adjacency"), "adjacency"),
    P("estimator-predictor-path-on-macro", lambda c: nv.estimators.Predictor(c.macro), "path"),
    P("estimator-predictor-space-str", lambda c: nv.estimators.Predictor("cell"), "cell"),
    P("estimator-predictor-seed-str", lambda c: nv.estimators.Predictor(c.cell, seed="0"), "0"),
    P("estimator-predictor-features-str", lambda c: nv.estimators.Predictor(c.cell, features="naswot"), "naswot"),
    P("estimator-predictor-feature-unknown", lambda c: nv.estimators.Predictor(c.cell, features=["magic"]), "magic"),
    P("estimator-predictor-feature-no-data", lambda c: nv.estimators.Predictor(c.cell, features=["naswot"]), "data="),
    P("estimator-predictor-fit-lengths", lambda c: nv.estimators.Predictor(c.cell).fit([c.arch] * 3, [0.5, 0.6]),
      "3 architectures and 2 scores"),
    P("estimator-predictor-fit-nan", lambda c: nv.estimators.Predictor(c.cell).fit([c.arch] * 2, [0.5, np.nan]),
      "nan"),
    P("estimator-predictor-fit-empty", lambda c: nv.estimators.Predictor(c.cell).fit([], []), "none"),
    P("estimator-predictor-fit-bad-cell", lambda c: nv.estimators.Predictor(c.cell).fit([NONE, "|conv~0|"], [0, 1]),
      "conv"),
    P("estimator-predictor-fit-chain-in-cell", lambda c: nv.estimators.Predictor(c.cell).fit([c.chain, c.arch], [0, 1]),
      "conv(16"),
    P("estimator-predictor-evaluate-unfitted", lambda c: nv.estimators.Predictor(c.cell).evaluate(c.arch), "fit("),
    P("estimator-predictor-predict-unfitted", lambda c: nv.estimators.Predictor(c.cell).predict([c.arch]), "fit("),
    P("strategy-bo-acquisition-thompson", lambda c: S.BayesianOptimization(c.cell, acquisition="thompson"),
      "thompson"),
    P("strategy-bo-refit-every-zero", lambda c: S.BayesianOptimization(c.cell, refit_every=0), 0),
    P("strategy-bo-refit-every-float", lambda c: S.BayesianOptimization(c.cell, refit_every=2.5), 2.5),
    P("oneshot-darts-no-data", lambda c: nv.oneshot.DARTS(c.cell), "data="),
    P("oneshot-darts-data-array", lambda c: nv.oneshot.DARTS(c.cell, c.X), "ndarray"),
    P("oneshot-darts-macro", lambda c: nv.oneshot.DARTS(c.macro, c.data), "MacroSpace"),
    P("oneshot-darts-epochs-zero", lambda c: nv.oneshot.DARTS(c.cell, c.data, epochs=0), 0),
    P("oneshot-darts-arch-lr-negative", lambda c: nv.oneshot.DARTS(c.cell, c.data, arch_lr=-0.1), -0.1),
    P("oneshot-darts-keep-none-str", lambda c: nv.oneshot.DARTS(c.cell, c.data, keep_none="yes"), "yes"),
    P("oneshot-darts-seed-negative", lambda c: nv.oneshot.DARTS(c.cell, c.data, seed=-3), -3),
    P("oneshot-darts-device", lambda c: nv.oneshot.DARTS(c.cell, c.data, device="tpu"), "tpu"),
    P("oneshot-gdas-tau-order", lambda c: nv.oneshot.GDAS(c.cell, c.data, tau_max=1, tau_min=5), "tau_min=5"),
    P("oneshot-gdas-tau-nan", lambda c: nv.oneshot.GDAS(c.cell, c.data, tau_max=float("nan")), "nan"),
    P("strategy-differentiable-method", lambda c: S.Differentiable(c.cell, data=c.data, method="enas"), "enas"),
    P("strategy-differentiable-no-data", lambda c: S.Differentiable(c.cell), "data="),
    P("strategy-differentiable-epochs", lambda c: S.Differentiable(c.cell, data=c.data, epochs=-2), -2),
    P("strategy-darts-unknown-kwarg", lambda c: S.get("darts", c.cell, data=c.data, population=3), "population"),
    P("canonical-zeros", lambda c: c.cell.canonical(c.arch, zeros="ignore"), "ignore"),
    P("export-onnx-value", lambda c: nv.export(c.arch, c.path / "e1", onnx="maybe"), "maybe"),
    P("export-build-without-model", lambda c: nv.export(c.arch, c.path / "e2", channels=4), "model="),
    P("export-model-not-module", lambda c: nv.export(c.arch, c.path / "e3", model="net"), "str"),
    P("export-bad-cell", lambda c: nv.export("|conv~0|", c.path / "e4"), "conv"),
    P("export-chain-without-space", lambda c: nv.export(c.chain, c.path / "e5"), "space="),
    P("export-load-missing", lambda c: nv.load_export(c.path / "nothing-here"), "architecture.json"),
]


@pytest.mark.parametrize("fn, needle", CASES)
def test_bad_input_raises_a_nasviz_error_naming_it(ctx, fn, needle):
    with pytest.raises(nv.errors.NasvizError) as info:
        fn(ctx)
    message = str(info.value)
    if needle is str:  # the case names a path of the context
        needle = str(ctx.path)
    options = {needle} if isinstance(needle, str) else {repr(needle), str(needle)}
    assert any(o in message for o in options), f"{message!r} names none of {sorted(options)}"


# -- the command line -----------------------------------------------------------------------

def _png(ctx, name="x.png"):
    return str(ctx.path / name)


CLI = [
    pytest.param(lambda c: ["draw", CELL, "-o", _png(c), "--dpi", "100000"], "100000", id="cli-draw-dpi-huge"),
    pytest.param(lambda c: ["draw", CELL, "-o", _png(c), "--dpi", "5000"], "5000", id="cli-draw-dpi-5000"),
    pytest.param(lambda c: ["draw", CELL, "-o", _png(c), "--dpi", "0"], "0", id="cli-draw-dpi-zero"),
    pytest.param(lambda c: ["draw", CELL, "-o", _png(c), "--dpi", "x"], "x", id="cli-draw-dpi-str"),
    pytest.param(lambda c: ["draw", "|conv~0|", "-o", _png(c)], "conv", id="cli-draw-bad-cell"),
    pytest.param(lambda c: ["draw", CELL, "-o", str(c.path / "no" / "such" / "dir.png")], "dir.png",
                 id="cli-draw-unwritable"),
    pytest.param(lambda c: ["draw", CELL, "-o", str(c.path / "x.xyz")], ".xyz", id="cli-draw-format"),
    pytest.param(lambda c: ["draw", CELL, "-o", _png(c), "--network", "--channels", "0"], "0",
                 id="cli-draw-network-channels-zero"),
    pytest.param(lambda c: ["draw", CELL, "-o", _png(c), "--network", "--cells-per-stage", "-1"], "-1",
                 id="cli-draw-network-cells-negative"),
    pytest.param(lambda c: ["draw", CELL, "-o", _png(c), "--input-shape", "1,8"], "1,8", id="cli-draw-input-shape"),
    pytest.param(lambda c: ["draw", "conv(16,k3) > lstm", "-o", _png(c)], "lstm", id="cli-draw-bad-chain"),
    pytest.param(lambda c: ["search", "--seed", "-1", "--budget", "2", "--quiet"], "-1", id="cli-search-seed-negative"),
    pytest.param(lambda c: ["search", "--seed", "x", "--budget", "2", "--quiet"], "x", id="cli-search-seed-str"),
    pytest.param(lambda c: ["search", "--seed", "1.5", "--budget", "2", "--quiet"], "1.5", id="cli-search-seed-float"),
    pytest.param(lambda c: ["search", "--budget", "-1", "--quiet"], "-1", id="cli-search-budget-negative"),
    pytest.param(lambda c: ["search", "--budget", "1.5", "--quiet"], "1.5", id="cli-search-budget-float"),
    pytest.param(lambda c: ["search", "--workers", "0", "--quiet"], "0", id="cli-search-workers-zero"),
    pytest.param(lambda c: ["search", "--strategy", "annealing", "--quiet"], "annealing", id="cli-search-strategy"),
    pytest.param(lambda c: ["search", "--estimator", "zerocost:magic", "--quiet"], "magic",
                 id="cli-search-proxy"),
    pytest.param(lambda c: ["search", "--benchmark", "nb201-200epoch", "--quiet"], "nb201-200epoch",
                 id="cli-search-benchmark"),
    pytest.param(lambda c: ["search", "--metric", "accuracy", "--budget", "2", "--quiet"], "accuracy",
                 id="cli-search-metric"),
    pytest.param(lambda c: ["search", "--epochs", "0", "--quiet"], "0", id="cli-search-epochs-zero"),
    pytest.param(lambda c: ["search", "--benchmark", str(write(c, "t.npz", "not a table")), "--budget", "2",
                            "--quiet"], "t.npz", id="cli-search-benchmark-text-file"),
    pytest.param(lambda c: ["frobnicate"], "frobnicate", id="cli-unknown-command"),
    pytest.param(lambda c: ["search", "--budget", "2", "--quiet", "--storage", str(c.path)], str,
                 id="cli-search-storage-directory"),
    pytest.param(lambda c: ["draw", CELL, "-o", str((c.path / "d.png").mkdir(exist_ok=True) or c.path / "d.png")],
                 "d.png", id="cli-draw-output-directory"),
]


@pytest.mark.parametrize("argv, needle", CLI)
def test_cli_bad_input_exits_with_one_line(ctx, argv, needle, capsys):
    code = nv.cli.main(argv(ctx))
    err = capsys.readouterr().err
    assert code in (1, 2), f"exit code {code}; stderr: {err}"
    assert "Traceback" not in err, err
    last = err.strip().splitlines()[-1] if err.strip() else ""
    assert "error" in last, err
    if needle is str:  # the case names a path of the context
        needle = str(ctx.path)
    assert needle in last, f"{last!r} does not name {needle!r}"
    if code == 1:
        assert len(err.strip().splitlines()) == 1, err


# -- the other side: huge spaces work through .size ----------------------------------------

HUGE_STRATEGIES = {
    "random": S.RandomSearch, "random-unique": lambda s, seed: S.RandomSearch(s, unique=True, seed=seed),
    "exhaustive": S.Exhaustive, "exhaustive-shuffled": lambda s, seed: S.Exhaustive(s, shuffle=True, seed=seed),
    "evolution": lambda s, seed: S.RegularizedEvolution(s, population=3, sample=2, seed=seed),
    "local": lambda s, seed: S.LocalSearch(s, initial=2, seed=seed),
    "bo": lambda s, seed: S.BayesianOptimization(s, initial=2, pool=20, seed=seed),
    "reinforce": S.REINFORCE, "mcts": S.MCTS,
    "sh": lambda s, seed: S.SuccessiveHalving(s, n=9, seed=seed), "hyperband": S.Hyperband,
}


@pytest.fixture(scope="module")
def huge():
    return nv.MacroSpace(max_layers=12)


def test_huge_space_has_an_exact_size(huge):
    assert isinstance(huge.size, int) and huge.size > 2**64
    assert huge.size == sum(huge.count_by_depth().values())
    assert nv.CellSpace().size == len(nv.CellSpace()) == 15625
    assert nv.MacroSpace().size == len(nv.MacroSpace())


@pytest.mark.parametrize("make", HUGE_STRATEGIES.values(), ids=[f"size-huge-{k}" for k in HUGE_STRATEGIES])
def test_strategies_work_on_a_space_too_large_for_len(huge, make):
    strategy = make(huge, seed=0)
    for k in range(5):
        arch = strategy.ask()
        assert arch in huge
        strategy.tell(arch, nv.Result(score=float(arch.depth + k)))
    assert not strategy.finished


def test_valid_seeds_still_work():
    space = nv.CellSpace()
    for seed in (0, 7, np.int64(3), np.uint8(2), None, np.random.default_rng(0)):
        assert space.sample(seed=seed) in space
    assert space.sample(seed=np.int64(3)) == space.sample(seed=3)
    assert S.RandomSearch(space, seed=np.int32(4)).ask() == S.RandomSearch(space, seed=4).ask()
    assert S.RandomSearch(space, unique=np.True_).unique


@pytest.mark.parametrize("error, needle", [
    pytest.param(PermissionError(13, "Permission denied", "/root/run.sqlite"), "Permission denied",
                 id="cli-oserror-one-line"),
    pytest.param(MemoryError(), "out of memory", id="cli-memoryerror-one-line"),
    pytest.param(nv.errors.ShapeError("X is empty (shape (0, 1))"), "(0, 1)", id="cli-nasviz-error-one-line"),
])
def test_cli_reports_os_and_memory_errors_in_one_line(monkeypatch, capsys, error, needle):
    def _add_boom(subparsers):
        return subparsers.add_parser("boom", help="fails")

    def _cmd_boom(args):
        raise error

    monkeypatch.setattr(nv.cli, "SUBCOMMANDS", nv.cli.SUBCOMMANDS + [(_add_boom, _cmd_boom)])
    assert nv.cli.main(["boom"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nasviz boom: error: ") and needle in err and err.count("\n") == 1, err
