"""The digits201 builder: journal, resume, finalize, verification (tiny recipes in tmp folders)."""

import dataclasses
import gzip
import json

import numpy as np
import pytest

import nasviz as nv
from nasviz.bench import build as B
from nasviz.bench.build.recipes import RECIPES, Recipe
from nasviz.cli import main as cli_main
from nasviz.devices import torch_threads
from nasviz.errors import InvalidArgumentError

# order_seed 5: the first two chunks hold classes with 31, 2, 5 and 3 member cells (and three singletons)
TINY = Recipe(channels=2, epochs=2, batch_size=256, lr=0.1, resolution=4, seeds=(0, 1), chunk=3, order_seed=5)


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


def _build(journal, limit, recipe=TINY):
    return B.build(recipe=recipe, journal=journal, limit=limit, workers=1, progress=False)


def _arrays(journal, recipe=TINY):
    bench = B.journal_table(recipe=recipe, journal=journal, partial=True)
    return bench, {m: np.asarray(bench._values[m]) for m in bench.metrics}


def test_canonical_classes_partition_the_space():
    space = nv.CellSpace()
    class_of, reps = B.canonical_classes(space)
    assert len(reps) == 6466 and len(class_of) == 15625
    assert (np.diff(reps) > 0).all() and (class_of[reps] == np.arange(len(reps))).all()
    rng = np.random.default_rng(0)
    for i in rng.choice(15625, 50, replace=False):  # each cell's class holds its canonical form, lowest index first
        rep = int(reps[class_of[i]])
        assert rep <= i and space.canonical(space[rep]) == space.canonical(space[int(i)])


def test_tiny_build_journals_every_run_and_skips_them_later(tmp_path):
    j = tmp_path / "j"
    out = _build(j, limit=3)
    assert out["trained"] == 6 and out["done"] == 6 and out["total"] == 6466 * 2
    header = json.loads((j / "recipe.json").read_text())
    assert header["recipe"] == TINY.identity() and header["n_val"] == 360
    journal = B.read_journal(j)
    assert sorted(journal["runs"]) == sorted((k, s) for k in {k for k, _ in journal["runs"]} for s in (0, 1))
    _, reps = B.canonical_classes()
    for (k, s), r in journal["runs"].items():
        assert r["cell"] == reps[k] and len(r["val"]) == len(r["test"]) == TINY.epochs
        assert all(0 <= v <= 360 for v in r["val"] + r["test"])
        assert r["params"] > 0 and r["flops"] > 0 and r["seconds"] > 0 and np.isfinite(r["loss"])
    assert len(journal["segments"]) == 1 and len(journal["chunks"]) == 2
    assert journal["segments"][0]["code"] == B.code_fingerprint() and journal["segments"][0]["workers"] == 1
    again = _build(j, limit=3)
    assert again["trained"] == 0 and len(list(j.glob("seg-*"))) == 1


def test_killed_and_resumed_build_equals_one_go(tmp_path):
    one_go = tmp_path / "one"
    _build(one_go, limit=6)
    resumed = tmp_path / "resumed"
    _build(resumed, limit=3)
    _build(resumed, limit=6)
    # a kill during a write leaves a member cut short: it is ignored, and its chunk is trained again
    seg = max(resumed.glob("seg-*"))
    data = seg.read_bytes()
    last = gzip.compress(b'{"chunk": 99, "seed": 0, "cells": []}\n')
    seg.write_bytes(data + last[: len(last) // 2])
    _, ref = _arrays(one_go)
    bench, got = _arrays(resumed)
    assert len(bench) > 6
    for m in ("val_acc", "test_acc", "train_loss", "params", "flops"):
        np.testing.assert_array_equal(got[m], ref[m], err_msg=m)
    assert _build(resumed, limit=6)["trained"] == 0
    # the last complete chunk removed (killed before it was written): only that chunk is trained again
    members, rest = [], data
    import zlib

    while rest:
        d = zlib.decompressobj(wbits=31)
        d.decompress(rest)
        members.append(rest[: len(rest) - len(d.unused_data)])
        rest = d.unused_data
    seg.write_bytes(b"".join(members[:-1]))
    assert _build(resumed, limit=6)["trained"] == TINY.chunk
    _, again = _arrays(resumed)
    np.testing.assert_array_equal(again["val_acc"], ref["val_acc"])


def test_other_recipe_refuses_the_journal(tmp_path):
    j = tmp_path / "j"
    _build(j, limit=1)
    with pytest.raises(InvalidArgumentError, match="another recipe.*epochs"):
        _build(j, limit=1, recipe=dataclasses.replace(TINY, epochs=3))
    with pytest.raises(InvalidArgumentError, match="not a build journal"):
        B.read_journal(tmp_path / "nothing")


def test_finalize_refuses_incomplete_and_partial_table_loads(tmp_path):
    j = tmp_path / "j"
    _build(j, limit=6)
    with pytest.raises(B.IncompleteBuildError, match=r"holds 12 of the 12,932"):
        B.finalize(recipe=TINY, journal=j, verbose=False)
    with pytest.raises(InvalidArgumentError, match="output path of its own"):
        B.finalize(recipe=TINY, journal=j, partial=True, verbose=False)
    shipped = B.JOURNAL_DIR.parent / "data" / "digits201.npz"
    existed = shipped.exists()
    with pytest.raises(InvalidArgumentError, match="shipped file"):
        B.finalize(recipe=TINY, journal=j, partial=True, out=shipped, verbose=False)
    assert shipped.exists() == existed
    out = tmp_path / "partial.npz"
    B.finalize(recipe=TINY, journal=j, partial=True, out=out, verbose=False)
    bench = nv.bench.load(out)
    assert bench.seeds == [0, 1] and bench.epochs == [1, 2] and bench.default_metric == "val_acc"
    assert "Isomorphic cells share one training" in bench.description and "12 of 12,932" in bench.description
    space = bench.space
    class_of, _ = B.canonical_classes(space)
    trained = {k for k, _ in B.read_journal(j)["runs"]}
    members = [a for a in bench.archs()]
    assert {int(class_of[space.index(a)]) for a in members} == trained
    assert len(members) > len(trained)  # the table answers for every member of a trained class
    runs = B.read_journal(j)["runs"]
    for a in members:
        k = int(class_of[space.index(a)])
        for s in (0, 1):
            assert bench.query(a, "val_acc", epoch=2, seed=s) == runs[(k, s)]["val"][-1] / 360
            assert bench.query(a, "train_loss", seed=s) == runs[(k, s)]["loss"]
    by_class = {}
    for a in members:
        by_class.setdefault(int(class_of[space.index(a)]), []).append(a)
    shared = [v for v in by_class.values() if len(v) > 1]
    assert shared
    for group in shared:
        curves = {tuple(bench.curve(a, "val_acc", seed=0)) for a in group}
        assert len(curves) == 1
    # params and flops are each cell's own network: they match a direct count
    a = members[-1]
    net = space.build(a, num_classes=10, in_channels=1, channels=TINY.channels, cells_per_stage=1)
    assert bench.query(a, "params") == nv.count_params(net)
    assert bench.query(a, "flops") == nv.count_flops(net, (1, 4, 4))
    assert bench.cost(a) == pytest.approx(np.mean([runs[(int(class_of[space.index(a)]), s)]["seconds"]
                                                   for s in (0, 1)]))


def test_retrained_cells_agree_with_the_tiny_table(tmp_path):
    j = tmp_path / "j"
    _build(j, limit=6)
    bench = B.journal_table(recipe=TINY, journal=j, partial=True)
    checks = B.verify(bench, TINY, cells=2, seed=1)
    assert len(checks) == 2 and all(c["tolerance"] > 0 for c in checks)
    assert all(c["ok"] for c in checks), checks


def test_retrained_cells_agree_with_the_shipped_table():
    if "digits201" not in nv.bench.available():
        pytest.skip("digits201 is not built in this installation (its journal is being built)")
    bench = nv.bench.load("digits201")
    assert len(bench) == 15625 and bench.seeds == list(RECIPES["digits201"].seeds)
    checks = B.verify(bench, RECIPES["digits201"], cells=2, seed=0)
    assert all(c["ok"] for c in checks), checks


def test_command_line(tmp_path, capsys):
    assert cli_main(["bench", "list"]) == 0
    assert "digits201" in capsys.readouterr().out
    assert cli_main(["bench", "build", "digits201", "--finalize", "--journal", str(tmp_path / "none")]) == 1
    assert "not a build journal" in capsys.readouterr().err
    assert cli_main(["bench", "build", "digits201", "--partial"]) == 1
    assert "--finalize" in capsys.readouterr().err
    assert cli_main(["bench", "build", "nope"]) == 1
    assert "digits201" in capsys.readouterr().err


def test_two_worker_processes_give_the_same_runs(tmp_path):
    _build(tmp_path / "one", limit=3)
    out = B.build(recipe=TINY, journal=tmp_path / "two", limit=3, workers=2, progress=False)
    assert out["trained"] == 6
    a, b = B.read_journal(tmp_path / "one")["runs"], B.read_journal(tmp_path / "two")["runs"]
    assert a.keys() == b.keys()
    for key in a:
        assert {k: v for k, v in a[key].items() if k != "seconds"} == {k: v for k, v in b[key].items()
                                                                        if k != "seconds"}


def test_complete_journal_finalizes_every_cell(tmp_path, monkeypatch, capsys):
    # two stand-in classes (even and odd cells) make a complete journal quick to build
    class_of = np.arange(15625) % 2
    monkeypatch.setattr(B, "canonical_classes", lambda space=None: (class_of, np.array([0, 1])))
    j = tmp_path / "j"
    assert _build(j, limit=None)["done"] == 4
    out = tmp_path / "full.npz"
    bench = B.finalize(recipe=TINY, journal=j, out=out)
    printed = capsys.readouterr().out
    assert f"sha256 {B.sha256(out)}" in printed and "15,625 cells" in printed
    loaded = nv.bench.load(out)
    assert len(loaded) == 15625 and loaded._held is None and "4 of 4 (class, seed) runs" in loaded.description
    space = loaded.space
    for k in (0, 1):
        curves = {tuple(loaded.curve(space[i], "test_acc", seed=1)) for i in range(k, 40, 2)}
        assert len(curves) == 1
    assert loaded.query(space[2], "val_acc") == bench.query(space[0], "val_acc")


def test_command_line_finalize_refuses_an_incomplete_journal(tmp_path, capsys):
    from nasviz.data import digits

    recipe = RECIPES["digits201"]
    j = tmp_path / "j"
    B._check_header(j, B._header("digits201", recipe, 6466, digits()))
    assert cli_main(["bench", "build", "digits201", "--finalize", "--journal", str(j)]) == 1
    err = capsys.readouterr().err
    assert "holds 0 of the 19,398" in err and "--partial" in err


def test_recipe_estimator_takes_changes_and_names_bad_ones():
    est = TINY.estimator(seed=3, epochs=1, device="auto", inherit=True)
    assert (est.seed, est.epochs, est.channels, est.batch_size, est.device, est.inherit) == (3, 1, 2, 256, "auto", True)
    assert TINY.estimator().seed == 0
    with pytest.raises(nv.errors.NasvizError, match=r"unknown Training arguments \['epoch'\]; accepted: .*'epochs'"):
        TINY.estimator(epoch=2)
    assert nv.bench.recipe("digits201") is RECIPES["digits201"]
    with pytest.raises(nv.errors.NasvizError, match="no build recipe for table 'nb201-12epoch'"):
        nv.bench.recipe("nb201-12epoch")


def test_committed_journal_assembles_to_the_shipped_table(tmp_path):
    if "digits201" not in nv.bench.available():
        pytest.skip("digits201 is not built in this installation (its journal is being built)")
    from nasviz.bench.tables import DATA_DIR, TABLES

    committed = json.loads((B.JOURNAL_DIR / "digits201" / "recipe.json").read_text())
    assert committed["recipe"] == RECIPES["digits201"].identity() and "space" not in committed["recipe"]
    out = tmp_path / "digits201.npz"
    B.finalize("digits201", out=out, verbose=False)
    assert B.sha256(out) == TABLES["digits201"][1] == B.sha256(DATA_DIR / TABLES["digits201"][0])
