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
POPULATION = ("swap_reg", "vote", "ensemble")  # ranked against a reference sample


def _small(name):
    """A small reference sample for the population proxies (the others ignore it): keeps the tests quick."""
    return {"reference": 8} if name in POPULATION else {}


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
    assert set(ALL) == {"synflow", "naswot", "jacob_cov", "snip", "grad_norm", "fisher", "grasp", "params", "flops",
                        "meco", "zico", "swap", "swap_reg", "vote", "ensemble"}
    assert ALL[:9] == ("synflow", "naswot", "jacob_cov", "snip", "grad_norm", "fisher", "grasp", "params", "flops")
    assert tuple(PROXIES) == ALL
    from nasviz.estimators import _proxies, _ranking

    assert set(ALL) == set(_proxies.NETWORK_PROXIES) | set(_ranking.POPULATION_PROXIES)
    for name, (paper, measures) in PROXIES.items():
        assert paper and len(measures) > 20, name


@pytest.mark.parametrize("name", ALL)
def test_finite_for_varied_and_degenerate_cells(name, data, cells):
    est = ZeroCost(name, data, batch_size=32, **_small(name))
    for label, arch in cells.items():
        r = est.evaluate(arch)
        assert r.ok, (label, r.error)
        assert math.isfinite(r.score), label
        assert r.cost > 0
        assert r.metrics["proxy"] == name
        assert isinstance(r.metrics["degenerate"], bool)


@pytest.mark.parametrize("name", ["synflow", "snip", "grad_norm", "fisher", "naswot", "jacob_cov", "grasp",
                                  "meco", "zico", "swap"])
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
    a = ZeroCost(name, data, batch_size=16, seed=5, **_small(name)).evaluate(arch).score
    b = ZeroCost(name, data, batch_size=16, seed=5, **_small(name)).evaluate(arch).score
    est = ZeroCost(name, data, batch_size=16, seed=5, **_small(name))
    c = est.evaluate_many([cells["conv3"], arch, arch])
    assert a == b == c[1].score == c[2].score


@pytest.mark.parametrize("name", [p for p in STOCHASTIC if p != "vote"])  # vote: see below
def test_different_seed_different_score(name, data, cells):
    arch = cells["conv3"]
    scores = {ZeroCost(name, data, batch_size=16, seed=s, **_small(name)).evaluate(arch).score for s in range(3)}
    assert len(scores) >= 2


def test_vote_depends_on_the_seed(data, cells):
    # vote is a share of the reference sample: the best cells beat all of it whatever the seed (the all-3x3-conv
    # cell scores 1.0); a middling cell's share moves with the weights, the minibatch and the sample
    assert {ZeroCost("vote", data, batch_size=16, seed=s, reference=8).evaluate(cells["conv3"]).score
            for s in range(3)} == {1.0}
    scores = {ZeroCost("vote", data, batch_size=16, seed=s, reference=8).evaluate(cells["conv1"]).score
              for s in range(3)}
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
    est = ZeroCost("naswot", data, batch_size=16, seed=2, reference=8)
    arch = cells["random"]
    together = est.scores(arch)
    assert list(together) == list(ALL)
    for name in ALL:
        alone = ZeroCost(name, data, batch_size=16, seed=2, reference=8).evaluate(arch).score
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


# -- the later proxies, each against a direct computation ------------------------------------------

def _tiny_net(seed, dropout=0.0):
    """Conv-BN-ReLU, a strided conv, a ReLU, pooling and a linear classifier; the conv's channel 1 is constant."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.Conv2d(4, 6, 3, stride=2, padding=1), torch.nn.ReLU(), torch.nn.Dropout(dropout),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(6, 10))
    with torch.no_grad():
        net[0].weight[1] = 0.0  # a constant channel: its correlations are NaN, set to 0 as the reference does
    return net


def _leaf_maps(net, x):
    """(module, first image's output) for every leaf module, from one forward pass of ``x``."""
    seen = []
    hooks = [m.register_forward_hook(lambda mod, i, o: seen.append((mod, o[0].detach().double().clone())))
             for m in net.modules() if not list(m.children())]
    net(x)
    for h in hooks:
        h.remove()
    return seen


def _pearson(a, b):
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    cov = sum((u - ma) * (v - mb) for u, v in zip(a, b))
    va, vb = sum((u - ma) ** 2 for u in a), sum((v - mb) ** 2 for v in b)
    if va == 0 or vb == 0 or max(a) - min(a) <= 1e-6 * max(abs(u) for u in a) \
            or max(b) - min(b) <= 1e-6 * max(abs(v) for v in b):
        return 0.0  # NaN in torch.corrcoef, set to 0 by the reference
    return cov / math.sqrt(va * vb)


def test_meco_matches_a_direct_computation(data, space):
    from nasviz.estimators import _proxies

    x, y = data.X_train[:8], data.y_train[:8]
    for net in (_tiny_net(0), _tiny_net(1), space.build(space.sample(seed=5), channels=4)):
        net.train()
        expected = 0.0
        for module, fmap in _leaf_maps(net, x[:1]):  # one image through the network, as the reference
            if fmap.dim() < 2 or fmap[0].numel() < 2:
                continue  # logits and pooled features: no positions (the reference's NaN, then 0)
            rows = [list(map(float, c.flatten())) for c in fmap]
            corr = np.array([[_pearson(a, b) for b in rows] for a in rows])  # a constant row: all 0
            expected += max(float(np.linalg.eigvalsh(corr).min()), 0.0)
        values, degenerate = _proxies.compute(net, ["meco"], x, y)
        assert values["meco"] == pytest.approx(expected, rel=1e-9, abs=1e-12)
        assert not degenerate["meco"] and expected > 0


def test_zico_matches_a_direct_computation(data, space):
    from nasviz.estimators import _proxies

    x, y = data.X_train[:10], data.y_train[:10]
    for net in (_tiny_net(2), space.build(space.sample(seed=6), channels=4)):
        net.train()
        layers = [m for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
        grads = []
        for half in (slice(0, 5), slice(5, 10)):  # the reference: zero_grad, forward, loss, backward per minibatch
            net.zero_grad()
            torch.nn.functional.cross_entropy(net(x[half]), y[half]).backward()
            grads.append([[float(g) for g in m.weight.grad.flatten()] for m in layers])
        net.zero_grad()
        expected = 0.0
        for k in range(len(layers)):
            total = 0.0
            for a, b in zip(grads[0][k], grads[1][k]):
                mean = (a + b) / 2
                std = math.sqrt(((a - mean) ** 2 + (b - mean) ** 2) / 2)
                if std != 0:
                    total += (abs(a) + abs(b)) / 2 / std
            if total != 0:
                expected += math.log(total)
        values, degenerate = _proxies.compute(net, ["zico"], x, y)
        assert values["zico"] == pytest.approx(expected, rel=1e-6)
        assert not degenerate["zico"] and expected > 0


def test_swap_matches_a_direct_computation(data, space):
    from nasviz.estimators import _proxies

    x, y = data.X_train[:20], data.y_train[:20]
    for net in (_tiny_net(3), space.build(space.sample(seed=7), channels=4)):
        net.train()
        relu_inputs = []
        hooks = [m.register_forward_hook(lambda mod, i, o, seen=relu_inputs: seen.append(i[0].detach()))
                 for m in net.modules() if isinstance(m, torch.nn.ReLU)]
        net(x)
        for h in hooks:
            h.remove()
        patterns = set()
        for inp in relu_inputs:
            if inp.dim() < 3:
                continue
            flat = inp.reshape(len(x), -1)
            for unit in range(flat.shape[1]):
                patterns.add(tuple(bool(flat[i, unit] > 0) for i in range(len(x))))
        values, _ = _proxies.compute(net, ["swap", "naswot"], x, y)
        assert values["swap"] == len(patterns)
        units = sum(inp[0].numel() for inp in relu_inputs)
        assert 1 < values["swap"] <= units
    many = nv.data.digits(subset=1.0)
    r = ZeroCost("swap", many, batch_size=100).evaluate(space.sample(seed=7))  # > 64 images: several words
    assert r.ok and r.score > 1


def test_new_proxies_inside_no_grad(data, cells):
    est = ZeroCost("vote", data, batch_size=16, reference=4)
    names = ["meco", "zico", "swap", "snip", "synflow", "vote"]
    expected = est.scores(cells["random"], names)
    with torch.no_grad():
        assert est.scores(cells["random"], names) == expected


def test_passes_see_the_same_randomness(data):
    # with dropout, each proxy computed alone equals the same proxy computed with the others
    from nasviz.estimators import _proxies

    x, y = data.X_train[:16], data.y_train[:16]
    names = ["naswot", "snip", "meco", "zico", "swap", "synflow"]
    together = _proxies.compute(_tiny_net(4, dropout=0.5), names, x, y)[0]
    for name in names:
        torch.manual_seed(99)
        alone = _proxies.compute(_tiny_net(4, dropout=0.5), [name], x, y)[0][name]
        torch.manual_seed(99)
        assert together[name] == pytest.approx(alone, rel=1e-12), name


# -- population proxies ------------------------------------------------------------------------------

def _ranks_against(value, population):
    below = sum(1 for p in population if p < value)
    tied = sum(1 for p in population if p == value)
    return below + 1 + tied / 2


def test_population_proxies_match_a_direct_computation(data, cells):
    est = ZeroCost("vote", data, batch_size=16, reference=6, seed=3)
    refs = est.reference_archs()
    assert len(refs) == 6 and refs == ZeroCost("ensemble", data, batch_size=16, reference=6, seed=3).reference_archs()
    members = ["synflow", "jacob_cov", "snip", "meco", "zico", "swap", "flops", "params"]
    table = [est.scores(a, members) for a in refs]
    for arch in (cells["random"], cells["conv3"], cells["skip"]):
        mine = est.scores(arch, members)
        wins = 0
        for row in table:
            ahead = sum(mine[m] > row[m] for m in ("synflow", "jacob_cov", "snip"))
            wins += ahead >= 2
        log_rank = sum(math.log(_ranks_against(mine[m], [row[m] for row in table]) / 7)
                       for m in ("meco", "zico", "swap", "flops"))
        size = mine["params"] / max(row["params"] for row in table)
        got = est.scores(arch, ["vote", "ensemble", "swap_reg"])
        assert got["vote"] == pytest.approx(wins / 6)
        assert got["ensemble"] == pytest.approx(log_rank)
        assert got["swap_reg"] == pytest.approx(mine["swap"] * math.exp(-((size - 1) ** 2)))
        assert est.evaluate(arch).score == got["vote"]


def test_population_proxies_within_a_batch(data, space):
    est = ZeroCost("ensemble", data, batch_size=16, reference=4, seed=1)
    archs = [space.sample(seed=s) for s in range(5)]
    members = ["synflow", "jacob_cov", "snip", "meco", "zico", "swap", "flops", "params"]
    rows = [est.scores(a, members) for a in archs]
    got = est.scores_many(archs, ["vote", "ensemble", "swap_reg", "snip"], population="batch")
    for i, mine in enumerate(rows):
        others = [r for j, r in enumerate(rows) if j != i]
        wins = sum(sum(mine[m] > r[m] for m in ("synflow", "jacob_cov", "snip")) >= 2 for r in others)
        assert got["vote"][i] == pytest.approx(wins / 4)
        # AZ-NAS: log(rankdata / n) over the batch, the candidate itself included
        log_rank = sum(math.log(_ranks_against(mine[m], [r[m] for r in others]) / 5)
                       for m in ("meco", "zico", "swap", "flops"))
        assert got["ensemble"][i] == pytest.approx(log_rank)
        size = mine["params"] / max(r["params"] for r in rows)
        assert got["swap_reg"][i] == pytest.approx(mine["swap"] * math.exp(-((size - 1) ** 2)))
        assert got["snip"][i] == mine["snip"]
    against = est.scores_many(archs, ["ensemble", "snip"])
    assert list(against["ensemble"]) == [est.scores(a, ["ensemble"])["ensemble"] for a in archs]


def test_population_proxies_floor_order_and_seed(data, cells):
    kinds = {"vote": 0.0, "swap_reg": 0.0, "ensemble": 4 * math.log(1 / 9)}
    for name, low in kinds.items():
        est = ZeroCost(name, data, batch_size=16, reference=8, seed=4)
        dead = [est.evaluate(cells[k]) for k in ("none", "dead_convs")]
        assert all(r.ok and r.metrics["degenerate"] and r.score == pytest.approx(low) for r in dead), name
        others = [est.evaluate(cells[k]) for k in ("skip", "pool", "conv3", "random", "pool_only")]
        assert all(not r.metrics["degenerate"] and r.score >= low for r in others), name
        assert est.evaluate(cells["conv3"]).metrics["reference"] == 8
        assert set(est.evaluate(cells["conv3"]).metrics["members"]) == set(
            {"vote": ("synflow", "jacob_cov", "snip"), "swap_reg": ("swap", "params"),
             "ensemble": ("meco", "zico", "swap", "flops")}[name])
        # a candidate's score does not depend on what was evaluated before or beside it
        forward = [r.score for r in est.evaluate_many([cells["random"], cells["conv1"]])]
        fresh = ZeroCost(name, data, batch_size=16, reference=8, seed=4)
        backward = [r.score for r in fresh.evaluate_many([cells["conv1"], cells["random"]])]
        assert forward == backward[::-1]
    assert ZeroCost("vote", data, batch_size=16, reference=8).evaluate(cells["conv3"]).score > \
        ZeroCost("vote", data, batch_size=16, reference=8).evaluate(cells["skip"]).score


def test_new_proxies_leave_the_global_rng_untouched(data, cells):
    torch.manual_seed(321)
    state = torch.get_rng_state()
    for name in ("meco", "zico", "swap", "vote"):
        ZeroCost(name, data, batch_size=8, reference=4).evaluate_many([cells["random"], cells["conv1"]])
    assert torch.equal(torch.get_rng_state(), state)


def test_population_bad_arguments(data, cells):
    for bad in (1, 0, "8", 2.5, True):
        with pytest.raises(InvalidArgumentError, match="reference"):
            ZeroCost("vote", data, reference=bad)
    est = ZeroCost("vote", data, batch_size=8, reference=4)
    with pytest.raises(UnknownNameError, match="'reference'.*'batch'"):
        est.scores_many([cells["random"]], ["snip"], population="everyone")
    with pytest.raises(InvalidArgumentError, match="at least 2"):
        est.scores_many([cells["random"]], ["vote"], population="batch")
    assert list(est.scores_many([cells["random"]], ["snip"], population="batch")) == ["snip"]
    with pytest.raises(UnknownNameError, match="ensemble"):
        est.scores_many([cells["random"]], ["vote", "ensembel"])
    assert est.fidelity == "zero-cost: vote at initialisation (8 images, 8 channels, against 4 reference cells)"
    assert "reference=4" in repr(est)


def test_zico_halves_too_small_is_a_shape_error(cells):
    tiny = nv.data.digits(resolution=4)  # 1 x 1 maps at the end: batch normalisation needs 2 images per half
    r = ZeroCost("zico", tiny, batch_size=2).evaluate(cells["random"])
    assert not r.ok and r.error.startswith("ShapeError") and "larger batch_size" in r.error
    assert ZeroCost("zico", tiny, batch_size=4).evaluate(cells["random"]).ok
    assert ZeroCost("meco", tiny, batch_size=2).evaluate(cells["random"]).ok  # falls back to the minibatch


def test_population_scores_from_computed_members(data, space):
    from nasviz.estimators.zero_cost import population_scores

    est = ZeroCost("vote", data, batch_size=16, reference=4, seed=2)
    archs = [space.sample(seed=s) for s in range(4)] + [space.from_ops(["none"] * 6)]
    names = ["synflow", "jacob_cov", "snip", "meco", "zico", "swap", "flops", "params"]
    values = est.scores_many(archs, names)
    flags = {n: np.array([r.metrics["degenerate"]
                          for r in ZeroCost(n, data, batch_size=16, seed=2).evaluate_many(archs)]) for n in names}
    assert all(flags[n][-1] for n in ("synflow", "jacob_cov", "snip", "meco", "zico", "swap"))  # the none cell
    batch = est.scores_many(archs, ["vote", "ensemble", "swap_reg"], population="batch")
    for name in ("vote", "ensemble", "swap_reg"):
        assert np.allclose(population_scores(name, values, flags), batch[name]), name
    ref = {n: np.array([est.scores(a, [n])[n] for a in est.reference_archs()]) for n in names}
    against = est.scores_many(archs, ["ensemble"])["ensemble"]
    assert np.allclose(population_scores("ensemble", values, flags, population=ref), against)
    with pytest.raises(InvalidArgumentError, match="missing scores of jacob_cov"):
        population_scores("vote", {"synflow": [1.0], "snip": [2.0]})
    with pytest.raises(UnknownNameError, match="'vote'"):
        population_scores("snip", values)
