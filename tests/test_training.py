import math

import pytest
import torch

import nasviz as nv
from nasviz.errors import InvalidArgumentError, NasvizError, UnknownNameError

EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


pytestmark = pytest.mark.usefixtures("one_thread")  # data, space, one_thread: tests/conftest.py


def small(data, **kwargs):
    kwargs = {"epochs": 2, "channels": 4, "batch_size": 32, "lr": 0.1, "device": "cpu", **kwargs}
    return nv.estimators.Training(data, **kwargs)


def test_result_score_and_metrics(data, space):
    r = small(data).evaluate(space.from_string(EXAMPLE))
    assert r.ok and 0.0 <= r.score <= 1.0
    m = r.metrics
    assert m["epochs"] == 2
    assert len(m["val_curve"]) == len(m["test_curve"]) == len(m["train_curve"]) == len(m["loss_curve"]) == 2
    assert m["val_curve"][-1] == r.score == m["val_acc"]
    assert m["test_curve"][-1] == m["test_acc"] and 0.0 <= m["test_acc"] <= 1.0
    assert m["train_loss"] == m["loss_curve"][-1] and m["train_loss"] > 0
    net = space.build(space.from_string(EXAMPLE), channels=4)
    assert m["params"] == nv.count_params(net)
    assert m["flops"] == nv.count_flops(net, (1, 4, 4))
    assert m["inherited"] is False and m["batched"] is False and m["device"] == "cpu"
    assert r.cost > 0


def test_same_seed_same_score_and_global_rng_untouched(data, space):
    arch = space.from_string(EXAMPLE)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = small(data, seed=3, epochs=1).evaluate(arch)
    assert torch.equal(torch.get_rng_state(), state)  # the global generator is neither used nor reseeded
    b = small(data, seed=3, epochs=1).evaluate(arch)
    c = small(data, seed=4, epochs=1).evaluate(arch)
    assert a.score == b.score and a.metrics["loss_curve"] == b.metrics["loss_curve"]
    assert a.metrics["val_curve"] == b.metrics["val_curve"]
    assert c.metrics["loss_curve"] != a.metrics["loss_curve"]


def test_fidelity_overrides_epochs(data, space):
    est = small(data, epochs=1)
    r = est.evaluate(space.from_string(EXAMPLE), fidelity=2)
    assert r.metrics["epochs"] == 2 and len(r.metrics["val_curve"]) == 2
    assert est.evaluate(space.from_string(EXAMPLE)).metrics["epochs"] == 1
    with pytest.raises(InvalidArgumentError, match="fidelity"):
        est.evaluate(space.from_string(EXAMPLE), fidelity=0)


def test_fidelity_text_and_repr(data):
    est = small(data, epochs=1)
    assert est.fidelity == "1 epoch, 4x4 images, 50% of the training data"
    assert small(nv.data.digits(), epochs=4).fidelity == "4 epochs, 8x8 images, 100% of the training data"
    assert "inherit weights and train 2 epochs" in small(data, epochs=4, inherit=True).fidelity
    text = repr(est)
    assert text.startswith("Training(data=Data('digits', 1x4x4")
    assert "epochs=1" in text and "channels=4" in text and "device='cpu'" in text
    assert "_parents" not in text


def test_bad_arguments(data):
    with pytest.raises(InvalidArgumentError, match="epochs must be an integer >= 1, got 0"):
        small(data, epochs=0)
    with pytest.raises(UnknownNameError, match="'rmsprop'.*'sgd', 'adam'"):
        small(data, optimizer="rmsprop")
    with pytest.raises(UnknownNameError, match="'cosine', 'constant'"):
        small(data, schedule="step")
    with pytest.raises(InvalidArgumentError, match="lr must be a positive number"):
        small(data, lr=-0.1)
    with pytest.raises(InvalidArgumentError, match="batch_size"):
        small(data, batch_size=0)
    with pytest.raises(InvalidArgumentError, match="unknown device 'tpu'; accepted: 'auto', 'cpu'"):
        small(data, device="tpu")
    with pytest.raises(InvalidArgumentError, match="nv.data.digits"):
        nv.estimators.Training("digits")
    with pytest.raises(InvalidArgumentError, match="inherit_epochs"):
        small(data, inherit_epochs=-1)
    if not torch.cuda.is_available():
        with pytest.raises(InvalidArgumentError, match="no CUDA"):
            small(data, device="cuda")
    assert issubclass(InvalidArgumentError, NasvizError)


def test_pickles_with_its_trained_parents(data, space):
    import pickle

    est = small(data, epochs=1, inherit=True)
    arch = space.from_string(EXAMPLE)
    first = est.evaluate(arch)
    copy = pickle.loads(pickle.dumps(est))
    assert list(copy._parents) == [arch]
    child = space.mutate(arch, seed=0)
    assert copy.evaluate(child, parent=arch).metrics["inherited"] is True
    assert copy.evaluate(arch).score == first.score


def test_batchnorm_recalibration_makes_short_training_measurable(data, space):
    arch = space.from_string(EXAMPLE)
    plain = small(data, epochs=1, recalibrate_bn=0).evaluate(arch)
    recal = small(data, epochs=1).evaluate(arch)
    # identical training (same loss), only the statistics used for evaluation differ
    assert plain.metrics["loss_curve"] == recal.metrics["loss_curve"]
    assert recal.score > plain.score
    with pytest.raises(InvalidArgumentError, match="recalibrate_bn"):
        small(data, recalibrate_bn=-1)


def test_invalid_architecture_fails_without_raising(data):
    other = nv.CellSpace(nodes=3).sample(seed=0)
    r = small(data).evaluate(other)
    assert r.status == "failed" and "nodes" in r.error


def test_threads_argument_is_restored(data, space):
    torch.set_num_threads(2)
    try:
        r = small(data, epochs=1, threads=1).evaluate(space.sample(seed=1))
        assert r.ok and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)


def test_adam_and_constant_schedule(data, space):
    est = small(data, optimizer="adam", schedule="constant", epochs=1, lr=None)
    assert est.effective_lr == 0.005
    r = est.evaluate(space.from_string(EXAMPLE))
    assert r.ok and 0.0 <= r.score <= 1.0
    assert est._lr_at(5, 10) == 0.005
    assert small(data, lr=None)._lr_at(5, 10) == pytest.approx(0.025)


def test_diverging_candidate_fails(data, space, monkeypatch):
    est = small(data, epochs=1)
    build = est._build_model

    def poisoned(arch):
        net = build(arch)
        with torch.no_grad():
            net.classifier.weight.mul_(1e38)
        return net

    monkeypatch.setattr(est, "_build_model", poisoned)
    r = est.evaluate(space.from_string(EXAMPLE))
    assert r.status == "failed" and "non-finite" in r.error and "epoch 1 of 1" in r.error
    assert math.isnan(r.score) and r.metrics["params"] > 0


def test_other_spaces_train_one_at_a_time(data):
    space = nv.MacroSpace()
    est = small(data, space=space, epochs=1)
    archs = [space.sample(seed=i) for i in range(2)]
    many = est.evaluate_many(archs)
    assert all(r.ok and r.metrics["batched"] is False for r in many)
    assert [r.score for r in many] == [est.evaluate(a).score for a in archs]
