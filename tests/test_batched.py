import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

import nasviz as nv
from nasviz.estimators import fused_fit as _batched
from nasviz.estimators.fused import FusedCellNetwork, NotFusable, fusable
from nasviz.estimators.training import Training

EMPTY = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
SKIPS = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
CONVS = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


pytestmark = pytest.mark.usefixtures("one_thread")  # data, space, one_thread: tests/conftest.py


@pytest.fixture(scope="module")
def archs(space):
    return [space.from_string(s) for s in (EMPTY, SKIPS, CONVS)] + [space.sample(seed=i) for i in range(5)]


def small(data, **kwargs):
    return Training(data, **{"epochs": 2, "channels": 4, "batch_size": 32, "lr": 0.1, "device": "cpu", **kwargs})


@pytest.mark.parametrize("channels_last", [True, False])
@pytest.mark.parametrize("cells_per_stage", [1, 2])
def test_fused_forward_equals_each_network(data, space, archs, channels_last, cells_per_stage):
    est = small(data, cells_per_stage=cells_per_stage)
    nets = [est._build_model(a) for a in archs]
    fused = FusedCellNetwork(nets, channels_last=channels_last)
    x = nv.data.digits(resolution=8).X_train[:16]
    for train in (True, False):
        for n in nets:
            n.train(train)
        fused.train(train)
        expected = torch.stack([n(x) for n in nets], 1)
        got = fused(x)
        assert got.shape == (16, len(archs), 10)
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    # running statistics moved identically: the eval-mode outputs above already agree; write_back is exact
    with torch.no_grad():
        fused.weight.add_(1.0)
        fused.last_bn.running_var.mul_(2.0)
    fused.write_back(steps=3)
    for k, n in enumerate(nets):
        torch.testing.assert_close(n.classifier.weight, fused.weight.reshape(len(nets), 10, -1)[k])
        assert int(n.lastact[0].num_batches_tracked) == 3 + 1  # one train-mode forward above, 3 written back
    torch.testing.assert_close(nets[2].lastact[0].running_var, fused.last_bn.running_var.reshape(len(nets), -1)[2])


def test_recalibration_matches_each_network(data, archs):
    from nasviz.estimators.fit import recalibrate_bn as _recalibrate_bn

    est = small(data)
    nets = [est._build_model(a) for a in archs]
    fused = FusedCellNetwork(nets)
    X = data.X_train
    fused.recalibrate(X, 3, 32)
    for n in nets:
        _recalibrate_bn(n, X, 3, 32)
    fused.eval()
    for n in nets:
        n.eval()
    torch.testing.assert_close(fused(X[:16]), torch.stack([n(X[:16]) for n in nets], 1), rtol=1e-4, atol=1e-5)
    got = fused.last_bn.running_var.reshape(len(nets), -1)
    for k, n in enumerate(nets):
        torch.testing.assert_close(got[k], n.lastact[0].running_var)
        assert n.lastact[0].momentum == 0.1  # restored after the cumulative average


def test_fusable_rejects_other_networks(data):
    macro = nv.MacroSpace()
    nets = [macro.build(macro.sample(seed=0), num_classes=10, in_channels=1)]
    assert not fusable(nets) and not fusable([])
    with pytest.raises(NotFusable):
        FusedCellNetwork(nets)


@pytest.fixture(scope="module")
def both(data, archs):
    """The same cells trained together and one at a time."""
    est = small(data)
    return est.evaluate_many(archs), [est.evaluate(a) for a in archs]


def test_batched_matches_one_at_a_time(both):
    many, one = both
    assert all(r.ok for r in many + one)
    a = np.array([r.score for r in many])
    b = np.array([r.score for r in one])
    assert np.mean(np.abs(a - b)) < 0.02
    assert spearmanr(a, b).statistic > 0.9
    assert a[0] <= 0.15 and a[2] > a[0] + 0.3  # the empty cell is at chance, the conv cell learns
    for r, s in zip(many, one):
        assert r.metrics["batched"] is True
        assert r.metrics["params"] == s.metrics["params"] and r.metrics["flops"] == s.metrics["flops"]
        assert len(r.metrics["val_curve"]) == 2 and r.metrics["epochs"] == 2
        assert abs(r.metrics["test_acc"] - s.metrics["test_acc"]) < 0.05
    costs = {r.cost for r in many}
    assert len(costs) == 1 and costs.pop() > 0  # one chunk: its wall time shared equally


def test_chunking_gives_the_same_results(data, archs, both):
    whole = both[0]
    calls = []
    est = small(data, max_batch=3)
    original = est._train_chunk

    def spy(cands, epochs):
        calls.append(len(cands))
        return original(cands, epochs)

    est._train_chunk = spy
    chunked = est.evaluate_many(archs)
    assert calls == [3, 3, 2]
    assert np.mean(np.abs(np.array([r.score for r in whole]) - [r.score for r in chunked])) < 0.02


def test_a_diverging_candidate_fails_alone(data, archs, both, monkeypatch):
    clean = both[0][1:5]
    est = small(data)
    build = est._build_model
    bad = archs[2]

    def poisoned(arch):
        net = build(arch)
        if arch == bad:
            with torch.no_grad():
                net.classifier.weight.mul_(1e38)
        return net

    monkeypatch.setattr(est, "_build_model", poisoned)
    results = est.evaluate_many(archs[1:5])
    assert [r.status for r in results] == ["ok", "failed", "ok", "ok"]
    assert "non-finite" in results[1].error
    others = [r.score for i, r in enumerate(results) if i != 1]
    reference = [r.score for i, r in enumerate(clean) if i != 1]
    assert np.max(np.abs(np.array(others) - reference)) < 0.02


def test_a_nan_loss_mid_training_is_masked(data, archs, monkeypatch):
    real = _batched.candidate_losses
    calls = {"n": 0}

    def sometimes_nan(logits, y):
        losses = real(logits, y)
        calls["n"] += 1
        if calls["n"] >= 20:  # candidate 1 diverges during the second epoch (17 steps each)
            losses = losses + torch.tensor([0.0, float("nan"), 0.0], device=losses.device)
        return losses

    monkeypatch.setattr(_batched, "candidate_losses", sometimes_nan)
    results = small(data).evaluate_many(archs[2:5])
    assert [r.status for r in results] == ["ok", "failed", "ok"]
    assert "epoch 2 of 2" in results[1].error
    assert all(np.isfinite(r.score) for r in (results[0], results[2]))


def test_out_of_memory_is_retried_in_halves(data, archs, monkeypatch):
    calls = []
    original = Training._train_chunk

    def flaky(self, cands, epochs):
        calls.append(len(cands))
        if len(cands) > 2 or any(c.arch == archs[5] for c in cands):
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return original(self, cands, epochs)

    monkeypatch.setattr(Training, "_train_chunk", flaky)
    est = small(data, epochs=1)
    results = est.evaluate_many(archs)
    assert calls[:3] == [8, 4, 2]
    assert sorted(calls) == sorted([8, 4, 2, 2, 4, 2, 1, 1, 2])
    statuses = [r.status for r in results]
    assert statuses[5] == "failed" and "out of memory" in results[5].error
    assert statuses.count("ok") == 7


def test_out_of_memory_messages():
    from nasviz.devices import is_out_of_memory as _is_oom

    assert _is_oom(RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB"))
    assert _is_oom(RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory"))
    assert _is_oom(MemoryError())
    assert not _is_oom(RuntimeError("shape mismatch"))


def test_other_errors_fall_back_to_one_at_a_time(data, archs, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("fused training broke")

    monkeypatch.setattr(_batched, "fit_fused", broken)
    results = small(data, epochs=1).evaluate_many(archs[:3])
    assert all(r.ok and r.metrics["batched"] is False for r in results)


def test_default_max_batch_is_bounded(data):
    assert 1 <= small(data).default_max_batch() <= 32
    assert small(data, max_batch=5).max_batch == 5


def test_an_invalid_architecture_in_a_batch_fails_alone(data, archs):
    other = nv.CellSpace(nodes=3).sample(seed=0)
    results = small(data, epochs=1).evaluate_many([archs[2], other, archs[3]])
    assert [r.status for r in results] == ["ok", "failed", "ok"]
