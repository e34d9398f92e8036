import math

import numpy as np
import pandas as pd
import pytest

import nasviz as nv
from nasviz.bench import Benchmark
from nasviz.errors import InvalidArgumentError, UnknownNameError
from nasviz.estimators import Estimator, Result, Tabular

EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@pytest.fixture(scope="module")
def bench():
    return nv.bench.load("nb201-12epoch")


@pytest.fixture(scope="module")
def curves():
    """Two seeds, epochs 1..4: val_acc = (index / n) * epoch / 4 + seed / 100; cost 8 s per 4 epochs."""
    space = nv.CellSpace()
    n = len(space)
    val = (np.arange(n)[:, None, None] / n) * (np.arange(1, 5)[None, None, :] / 4) + np.array([0, 1])[None, :,
                                                                                                       None] / 100
    return Benchmark("curves", space, {"val_acc": val, "params": np.arange(n)}, epochs=[1, 2, 3, 4], seeds=[0, 1],
                     cost=np.full(n, 8.0))


def test_is_an_estimator_with_a_fidelity(bench):
    est = Tabular(bench)
    assert isinstance(est, Estimator)
    assert est.bench is bench and est.metric is None and est.epoch is None
    assert est.fidelity == "table nb201-12epoch: cifar10_val_acc"
    assert Tabular(bench, metric="imagenet16_test_acc").fidelity == "table nb201-12epoch: imagenet16_test_acc"
    assert "Tabular(bench=Benchmark('nb201-12epoch'" in repr(est)


def test_result_is_the_table_row(bench):
    est = Tabular(bench, metric="cifar100_val_acc")
    arch = bench.space.from_string(EXAMPLE)
    r = est.evaluate(arch)
    assert r.ok and isinstance(r, Result)
    assert r.score == bench.query(arch, "cifar100_val_acc")
    assert r.cost == bench.cost(arch) and r.cost > 0
    assert set(r.metrics) == set(bench.metrics)
    for m in bench.metrics:
        assert r.metrics[m] == bench.query(arch, m)
    assert est.evaluate(EXAMPLE) == r  # strings work too


def test_evaluate_many_matches_evaluate(bench):
    est = Tabular(bench, metric="cifar10_test_acc")
    archs = [bench.space.sample(seed=s) for s in range(40)] + ["|none~0|", bench.space.sample(seed=3)]
    many = est.evaluate_many(archs)
    assert len(many) == len(archs)
    one = [est.evaluate(a) for a in archs]
    assert many[:40] == one[:40] and many[41] == one[41]
    assert not many[40].ok and many[40].error == one[40].error and "malformed" in many[40].error
    assert many[41] == many[3]


def test_missing_cell_is_a_failed_result():
    df = pd.DataFrame({"arch": [EXAMPLE], "acc": [0.7], "seconds": [5.0]})
    own = nv.bench.from_dataframe(df, cost_column="seconds", name="mine")
    est = Tabular(own)
    assert est.evaluate(EXAMPLE) == Result(score=0.7, cost=5.0, metrics={"acc": 0.7})
    other = own.space.sample(seed=0)
    r = est.evaluate(other)
    assert r.status == "failed" and math.isnan(r.score)
    assert "NotInTableError" in r.error and "does not contain" in r.error and str(other) in r.error
    many = est.evaluate_many([other, EXAMPLE])
    assert [x.ok for x in many] == [False, True] and many[0].error == r.error


def test_missing_value_is_a_failed_result():
    df = pd.DataFrame({"arch": [EXAMPLE], "acc": [float("nan")]})
    r = Tabular(nv.bench.from_dataframe(df)).evaluate(EXAMPLE)
    assert not r.ok and "non-finite" in r.error


def test_fidelity_reads_the_curve_and_scales_cost(curves):
    space, n = curves.space, len(curves.space)
    arch = space[6000]
    est = Tabular(curves)
    full = est.evaluate(arch)
    assert full.score == pytest.approx(6000 / n + 0.005) and full.cost == 8.0  # final epoch, mean of 2 seeds
    low = est.evaluate(arch, fidelity=1)
    assert low.score == pytest.approx(6000 / n / 4 + 0.005) and low.cost == 2.0
    assert low.metrics["params"] == 6000
    fixed = Tabular(curves, epoch=2)
    assert fixed.fidelity == "table curves: val_acc at epoch 2"
    assert fixed.evaluate(arch).score == pytest.approx(6000 / n / 2 + 0.005)
    assert fixed.evaluate_many([arch, space[1]], fidelity=3)[0] == est.evaluate(arch, fidelity=3)
    bad = est.evaluate_many([arch, space[1]], fidelity=7)
    assert all(not r.ok and "epoch 7" in r.error and "1..4" in r.error for r in bad)


def test_table_without_curves_fails_low_fidelity(bench):
    est = Tabular(bench)
    arch = bench.space.sample(seed=1)
    assert est.evaluate(arch, fidelity=12) == est.evaluate(arch)  # its values are the 12-epoch ones
    r = est.evaluate(arch, fidelity=4)
    assert not r.ok and "no per-epoch values" in r.error


def test_bad_arguments_fail_at_construction(bench):
    with pytest.raises(UnknownNameError, match="cifar10_val_acc") as info:
        Tabular(bench, metric="accuracy")
    assert "'accuracy'" in str(info.value)
    with pytest.raises(InvalidArgumentError, match="no per-epoch values"):
        Tabular(bench, epoch=3)
    with pytest.raises(UnknownNameError, match="nb201-12epoch"):
        Tabular("nb201-1epoch")
    with pytest.raises(InvalidArgumentError, match="Benchmark"):
        Tabular({"acc": 1})


def test_table_by_name(bench):
    est = Tabular("nb201-12epoch", metric="cifar10_val_acc")
    arch = bench.space.sample(seed=5)
    assert est.evaluate(arch).score == bench.query(arch)
