import math

import numpy as np
import pytest
import torch

import nasviz as nv
from nasviz.errors import InvalidArgumentError, ShapeError, UnknownNameError
from nasviz.estimators import ZeroCost
from nasviz.estimators.zero_cost import PROXIES

ALL = ZeroCost.available()
STOCHASTIC = [p for p in ALL if p not in ("params", "flops")]  # depend on the initial weights (and minibatch)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def data():
    return nv.data.digits()


@pytest.fixture(scope="module")
def space():
    return nv.CellSpace()


@pytest.fixture(scope="module")
def cells(space):
    return {
        "none": space.from_ops(["none"] * 6),
        "skip": space.from_ops(["skip_connect"] * 6),
        "pool": space.from_ops(["avg_pool_3x3"] * 6),
        "conv3": space.from_ops(["nor_conv_3x3"] * 6),
        "conv1": space.from_ops(["nor_conv_1x1"] * 6),
        # input reaches the output only through a pooling edge; node 1 sees no ReLU
        "pool_only": space.from_string("|none~0|+|none~0|none~1|+|avg_pool_3x3~0|none~1|none~2|"),
        # node 1 is a dead end (its output edges are none)
        "dead_branch": space.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"),
        "random": space.sample(seed=3),
        # disconnected, but its first nodes run convolutions (ReLUs that see the images) that lead nowhere
        "dead_convs": space.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|none~0|none~1|none~2|"),
    }


def test_available_and_documented():
    assert set(ALL) == {"synflow", "naswot", "jacob_cov", "snip", "grad_norm", "fisher", "grasp", "params", "flops"}
    assert tuple(PROXIES) == ALL
    for name, (paper, measures) in PROXIES.items():
        assert paper and len(measures) > 20, name


@pytest.mark.parametrize("name", ALL)
def test_finite_for_varied_and_degenerate_cells(name, data, cells):
    est = ZeroCost(name, data, batch_size=32)
    for label, arch in cells.items():
        r = est.evaluate(arch)
        assert r.ok, (label, r.error)
        assert math.isfinite(r.score), label
        assert r.cost > 0
        assert r.metrics["proxy"] == name
        assert isinstance(r.metrics["degenerate"], bool)


@pytest.mark.parametrize("name", ["synflow", "snip", "grad_norm", "fisher", "naswot", "jacob_cov", "grasp"])
def test_disconnected_cells_get_the_floor(name, data, cells):
    est = ZeroCost(name, data, batch_size=32)
    dead = [est.evaluate(cells[k]) for k in ("none", "dead_convs")]
    assert all(r.ok and r.metrics["degenerate"] for r in dead)
    others = [est.evaluate(cells[k]) for k in ("skip", "pool", "conv3", "random", "pool_only")]
    assert all(not r.metrics["degenerate"] for r in others)
    if name == "grasp":  # flagged, but no floor: grasp may be negative
        return
    assert all(r.score > d.score for r in others for d in dead)
    if name == "jacob_cov":
        from nasviz.estimators._proxies import jacob_cov_floor

        assert all(d.score == pytest.approx(jacob_cov_floor(32)) for d in dead)
    else:
        assert all(d.score == 0.0 for d in dead)


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_score(name, data, cells):
    arch = cells["random"]
    a = ZeroCost(name, data, batch_size=16, seed=5).evaluate(arch).score
    b = ZeroCost(name, data, batch_size=16, seed=5).evaluate(arch).score
    est = ZeroCost(name, data, batch_size=16, seed=5)
    c = est.evaluate_many([cells["conv3"], arch, arch])
    assert a == b == c[1].score == c[2].score


@pytest.mark.parametrize("name", STOCHASTIC)
def test_different_seed_different_score(name, data, cells):
    arch = cells["conv3"]
    scores = {ZeroCost(name, data, batch_size=16, seed=s).evaluate(arch).score for s in range(3)}
    assert len(scores) >= 2


def test_global_rng_untouched(data, cells):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    for name in ("naswot", "synflow", "grasp"):
        ZeroCost(name, data, batch_size=8).evaluate_many([cells["random"], cells["conv1"]])
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(torch.rand(3), expected)


def test_params_and_flops_match_model_stats(data, space, cells):
    for arch in (cells["random"], cells["conv3"], cells["none"]):
        net = space.build(arch, num_classes=10, in_channels=1, channels=8)
        p = ZeroCost("params", data).evaluate(arch)
        f = ZeroCost("flops", data).evaluate(arch)
        assert p.score == nv.count_params(net) == p.metrics["params"]
        assert f.score == nv.count_flops(net, (1, 8, 8)) == f.metrics["flops"]
    big = ZeroCost("params", data, channels=16, cells_per_stage=2).evaluate(cells["random"]).score
    assert big == nv.count_params(space.build(cells["random"], channels=16, cells_per_stage=2))


@pytest.mark.parametrize("name", ["synflow", "snip", "grad_norm", "naswot", "params", "flops"])
def test_conv_cell_beats_skip_cell(name, data, cells):
    est = ZeroCost(name, data, batch_size=32)
    assert est.evaluate(cells["conv3"]).score > est.evaluate(cells["skip"]).score


def test_scores_share_passes_and_match_evaluate(data, cells):
    est = ZeroCost("naswot", data, batch_size=16, seed=2)
    arch = cells["random"]
    together = est.scores(arch)
    assert list(together) == list(ALL)
    for name in ALL:
        alone = ZeroCost(name, data, batch_size=16, seed=2).evaluate(arch).score
        assert together[name] == pytest.approx(alone, rel=1e-9, abs=1e-12), name
    assert list(est.scores(arch, ["snip", "synflow"])) == ["snip", "synflow"]


def test_synflow_is_data_free(data, cells):
    other = nv.data.digits(subset=0.5, seed=7)
    a = ZeroCost("synflow", data, seed=1).evaluate(cells["random"]).score
    b = ZeroCost("synflow", other, seed=1).evaluate(cells["random"]).score
    assert a == b


def test_naswot_kernel_matches_definition(data):
    # a one-ReLU network: the score is the log-determinant of C C^T + (1-C)(1-C)^T
    from nasviz.estimators import _proxies

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 40), torch.nn.ReLU(), torch.nn.Linear(40, 10))
    x = data.X_train[:12]
    values, degenerate = _proxies.compute(net, ["naswot"], x, data.y_train[:12])
    codes = (net[1](net[0](x)) > 0).double()
    K = codes @ codes.T + (1 - codes) @ (1 - codes).T
    assert values["naswot"] == pytest.approx(float(torch.linalg.slogdet(K)[1]))
    assert not degenerate["naswot"]


def _masked_forward(layer):
    import torch.nn.functional as F

    if isinstance(layer, torch.nn.Conv2d):
        return lambda x: F.conv2d(x, layer.weight * layer.weight_mask, layer.bias, layer.stride, layer.padding,
                                  layer.dilation, layer.groups)
    return lambda x: F.linear(x, layer.weight * layer.weight_mask, layer.bias)


def test_snip_and_synflow_follow_the_reference_procedure(data, space):
    # snip as the reference computes it (gradient of the loss wrt all-ones weight masks), synflow on a copy with
    # batch norm bypassed, every state tensor made absolute, double precision and an all-ones input
    import copy

    from nasviz.estimators import _proxies

    x, y = data.X_train[:24], data.y_train[:24]
    for seed in range(2):
        torch.manual_seed(seed)
        net = space.build(space.sample(seed=seed), channels=8)
        layers = lambda m: [l for l in m.modules() if isinstance(l, (torch.nn.Conv2d, torch.nn.Linear))]
        masked = copy.deepcopy(net)
        for layer in layers(masked):
            layer.weight_mask = torch.nn.Parameter(torch.ones_like(layer.weight))
            layer.weight.requires_grad_(False)
            layer.forward = _masked_forward(layer)
        torch.nn.functional.cross_entropy(masked(x), y).backward()
        snip = sum(float(layer.weight_mask.grad.abs().sum()) for layer in layers(masked)
                   if layer.weight_mask.grad is not None)

        flow = copy.deepcopy(net)
        for m in flow.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.forward = lambda t: t
        flow.double()
        with torch.no_grad():
            for t in flow.state_dict().values():
                t.abs_()
        flow(torch.ones(1, 1, 8, 8, dtype=torch.float64)).sum().backward()
        synflow = sum(float((layer.weight.detach() * layer.weight.grad).abs().sum()) for layer in layers(flow)
                      if layer.weight.grad is not None)

        values, _ = _proxies.compute(copy.deepcopy(net), ["snip", "synflow"], x, y)
        assert values["snip"] == pytest.approx(snip, rel=1e-6)
        assert values["synflow"] == pytest.approx(synflow, rel=1e-9)


def test_duplicate_images_are_not_drawn(cells):
    X = np.repeat(np.random.default_rng(0).random((20, 8, 8)), 5, axis=0)  # 20 distinct images, 5 copies each
    d = nv.data.from_tensors(X, np.arange(100) % 2)
    r = ZeroCost("naswot", d, batch_size=40).evaluate(cells["conv3"])
    assert r.ok and not r.metrics["degenerate"]
    assert r.metrics["batch_size"] == len(np.unique(d.X_train.reshape(len(d.X_train), -1).numpy(), axis=0))


def test_unknown_name_lists_names(data):
    with pytest.raises(UnknownNameError) as err:
        ZeroCost("synflw", data)
    assert "synflw" in str(err.value)
    for name in ALL:
        assert repr(name) in str(err.value)
    with pytest.raises(UnknownNameError, match="naswot"):
        ZeroCost("snip", data).scores(nv.CellSpace().sample(seed=0), ["snip", "nope"])


def test_bad_arguments(data):
    with pytest.raises(InvalidArgumentError, match="batch_size"):
        ZeroCost("snip", data, batch_size=1)
    with pytest.raises(InvalidArgumentError, match="batch_size"):
        ZeroCost("snip", data, batch_size=10_000)
    with pytest.raises(InvalidArgumentError, match="channels"):
        ZeroCost("snip", data, channels=0)
    with pytest.raises(InvalidArgumentError, match="nasviz.data.Data"):
        ZeroCost("snip", np.zeros((10, 1, 8, 8)))


def test_bad_data_shapes(data):
    from dataclasses import replace

    with pytest.raises(ShapeError, match=r"\(N, C, H, W\)"):
        ZeroCost("naswot", replace(data, X_train=data.X_train[:, 0]))
    with pytest.raises(ShapeError, match="one label per training image"):
        ZeroCost("naswot", replace(data, y_train=data.y_train[:-3]))
    with pytest.raises(ShapeError, match="at least 2"):
        ZeroCost("naswot", replace(data, X_train=data.X_train[:1], y_train=data.y_train[:1]), batch_size=2)


class _RGBCellSpace(nv.CellSpace):
    """Builds networks for 3-channel images whatever the data says."""

    def build(self, arch, num_classes=10, in_channels=1, **kwargs):
        return super().build(arch, num_classes=num_classes, in_channels=3, **kwargs)


def test_network_that_rejects_the_images(data):
    arch = nv.CellSpace().sample(seed=0)
    est = ZeroCost("snip", data, space=_RGBCellSpace())
    r = est.evaluate(arch)
    assert not r.ok and r.error.startswith("ShapeError") and "(1, 8, 8)" in r.error
    with pytest.raises(ShapeError, match="does not accept images of shape"):
        est.scores(arch, ["naswot", "synflow"])
    with pytest.raises(ShapeError, match="does not accept"):
        est.scores(arch)


def test_bad_architecture_fails_cleanly(data):
    r = ZeroCost("naswot", data).evaluate("not an architecture")
    assert not r.ok and r.error


def test_repr_and_fidelity(data):
    est = ZeroCost("synflow", data, batch_size=32, seed=4)
    text = repr(est)
    assert text.startswith("ZeroCost(name='synflow', data=Data('digits'")
    assert "batch_size=32" in text and "seed=4" in text and "device='cpu'" in text
    assert est.fidelity == "zero-cost: synflow at initialisation (data-free, 8 channels)"
    assert ZeroCost("naswot", data, batch_size=32).fidelity == \
        "zero-cost: naswot at initialisation (32 images, 8 channels)"
    assert ZeroCost("params", data).fidelity.startswith("zero-cost: params")
    est.evaluate(nv.CellSpace().sample(seed=0))
    assert repr(est) == text  # cached minibatch is not a constructor argument


def test_auto_device(data, cells):
    est = ZeroCost("snip", data, batch_size=8, device="auto")
    assert est.evaluate(cells["random"]).ok


def test_macro_space_architecture(data):
    if not hasattr(nv.spaces, "MacroSpace"):
        pytest.skip("MacroSpace is not available")
    space = nv.MacroSpace()
    for seed in range(3):
        arch = space.sample(seed=seed)
        for name in ("synflow", "naswot", "snip", "jacob_cov", "params"):
            est = ZeroCost(name, data, space=space, batch_size=16)
            r = est.evaluate(arch)
            assert r.ok and math.isfinite(r.score), (name, arch, r.error)
            assert r.score == est.evaluate(arch).score
        assert ZeroCost("params", data, space=space).evaluate(arch).score == nv.count_params(space.build(arch))
