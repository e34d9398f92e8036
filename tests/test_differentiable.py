"""DARTS and GDAS: the relaxed supernet, the search loop, the strategy, bad input."""

import matplotlib
import numpy as np
import pytest
import torch

import nasviz as nv
from nasviz.errors import NasvizError
from nasviz.oneshot import DARTS, GDAS, Supernet
from nasviz.oneshot.differentiable import unrolled_alpha_grad

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def tiny():
    return nv.data.digits(resolution=4, subset=0.25)


def _one_hot(space, arch):
    w = torch.zeros(len(space.edges), len(space.ops))
    for k, op in enumerate(arch.ops):
        w[k, space.ops.index(op)] = 1.0
    return w


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_hot_relaxation_is_the_path(seed):
    torch.manual_seed(seed)
    space = nv.CellSpace()
    net = Supernet(space, channels=3).eval()
    arch = space.sample(seed=seed)
    x = torch.randn(4, 1, 8, 8)
    with torch.no_grad():
        path = net(x, arch)
        w = _one_hot(space, arch)
        assert torch.allclose(net.forward_weighted(x, w), path, atol=1e-5)
        chosen = [space.ops.index(op) for op in arch.ops]
        assert torch.allclose(net.forward_weighted(x, w, chosen), path, atol=1e-5)


def test_mixture_is_the_weighted_sum_of_ops():
    torch.manual_seed(0)
    space = nv.CellSpace(nodes=2, ops=("nor_conv_1x1", "avg_pool_3x3"))
    net = Supernet(space, channels=2).eval()
    x = torch.randn(3, 1, 8, 8)
    cell = net.cells[0]
    h = net.stem(x)
    w = torch.tensor([[0.3, 0.7]])
    want = 0.3 * cell.choices[0]["nor_conv_1x1"](h) + 0.7 * cell.choices[0]["avg_pool_3x3"](h)
    with torch.no_grad():
        assert torch.allclose(cell.forward_weighted(h, w), want, atol=1e-6)


def test_gdas_straight_through_reaches_every_alpha(tiny):
    search = GDAS(data=tiny, epochs=1, channels=2, seed=0)
    alpha = torch.zeros(6, 5, requires_grad=True)
    weights, chosen = search._edge_weights(alpha, 0, torch.Generator().manual_seed(0))
    assert len(chosen) == 6
    assert torch.equal((weights.detach() > 0.5).float().sum(-1), torch.ones(6))  # one-hot values
    torch.manual_seed(0)
    net = Supernet(nv.CellSpace(), channels=2)
    net.forward_weighted(tiny.X_train[:8], weights, chosen).logsumexp(-1).sum().backward()
    assert alpha.grad is not None and (alpha.grad != 0).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_darts_finds_a_planted_best_op(tiny, seed):
    # one edge: a 3x3 convolution or an average pool; only the convolution can learn features
    space = nv.CellSpace(nodes=2, ops=("avg_pool_3x3", "nor_conv_3x3"))
    history = DARTS(space, tiny, epochs=5, channels=2, arch_lr=0.05, seed=seed).run()
    assert str(history.best) == "|nor_conv_3x3~0|"
    assert history.probabilities[-1, 0, 1] > 0.52
    assert history.probabilities[-1, 0, 1] > history.probabilities[0, 0, 1]


def _exact_unrolled_grad(net, alpha, train, val, lr, weight_decay):
    """The second-order gradient by double backpropagation through the virtual step (no finite differences)."""
    from torch.func import functional_call

    class Weighted(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net.forward_weighted(x, torch.softmax(alpha, -1))

    wrapper = Weighted()
    params = dict(net.named_parameters())

    def loss(weights, batch):
        out = functional_call(wrapper, {f"net.{k}": v for k, v in weights.items()}, (batch[0],))
        return torch.nn.functional.cross_entropy(out, batch[1])

    grads = torch.autograd.grad(loss(params, train), list(params.values()), create_graph=True)
    ahead = {k: p - lr * (g + weight_decay * p) for (k, p), g in zip(params.items(), grads)}
    return torch.autograd.grad(loss(ahead, val), alpha)[0]


def test_second_order_gradient_is_the_unrolled_gradient():
    """The finite-difference Hessian-vector product gives what double backpropagation gives, and lr=0 is first order."""
    torch.manual_seed(0)
    net = Supernet(nv.CellSpace(), channels=2).double()
    alpha = (0.3 * torch.randn(6, 5, dtype=torch.float64)).requires_grad_(True)
    train = (torch.randn(16, 1, 4, 4, dtype=torch.float64), torch.arange(16) % 10)
    val = (torch.randn(16, 1, 4, 4, dtype=torch.float64), (torch.arange(16) * 3) % 10)
    weights = lambda: (torch.softmax(alpha, -1), None)  # noqa: E731
    # in float64 and with a small finite-difference scale the estimate is the exact gradient (the paper's r=0.01
    # is coarse on a network this small: its loss bends sharply within 0.01 of w)
    got, _ = unrolled_alpha_grad(net, weights, alpha, train, val, lr=0.5, weight_decay=1e-3, r=1e-7)
    exact = _exact_unrolled_grad(net, alpha, train, val, lr=0.5, weight_decay=1e-3)
    assert torch.allclose(got, exact, rtol=1e-4, atol=1e-7), (got - exact).abs().max()
    # the correction matters: the plain gradient at the current weights is far from it
    plain = torch.autograd.grad(torch.nn.functional.cross_entropy(
        net.forward_weighted(val[0], torch.softmax(alpha, -1)), val[1]), alpha)[0]
    assert not torch.allclose(plain, exact, rtol=1e-2, atol=1e-5)
    zero, _ = unrolled_alpha_grad(net, weights, alpha, train, val, lr=0.0)
    assert torch.allclose(zero, plain, rtol=1e-9, atol=1e-12)  # lr 0: no step, no correction: first order
    before = [p.detach().clone() for p in net.parameters()] + [b.clone() for b in net.buffers()]
    by_double_backward, _ = unrolled_alpha_grad(net, weights, alpha, train, val, lr=0.5, weight_decay=1e-3,
                                                hessian="exact")
    assert torch.allclose(by_double_backward, exact, rtol=1e-9, atol=1e-12)
    after = list(net.parameters()) + list(net.buffers())
    assert all(torch.equal(a, b) for a, b in zip(before, after))  # weights and BatchNorm statistics as they were


def test_second_order_darts_runs_reproducibly_and_differs(tiny):
    a = DARTS(data=tiny, order=2, epochs=2, channels=2, seed=3).run()
    b = DARTS(data=tiny, order=2, epochs=2, channels=2, seed=3).run()
    first = DARTS(data=tiny, epochs=2, channels=2, seed=3).run()
    assert a.method == "darts-2nd" and np.array_equal(a.probabilities, b.probabilities)
    assert not np.array_equal(a.probabilities, first.probabilities)
    assert np.allclose(a.probabilities.sum(-1), 1)
    fd = DARTS(data=tiny, order=2, hessian="finite-difference", epochs=2, channels=2, seed=3).run()
    assert not np.array_equal(fd.probabilities, a.probabilities)
    with pytest.raises(NasvizError, match="order must be 1"):
        DARTS(data=tiny, order=3)
    with pytest.raises(NasvizError, match="hessian must be"):
        DARTS(data=tiny, order=2, hessian="approx")


@pytest.mark.parametrize("cls", [DARTS, GDAS])
def test_same_seed_same_search(tiny, cls):
    a = cls(data=tiny, epochs=2, channels=2, seed=3).run()
    b = cls(data=tiny, epochs=2, channels=2, seed=3).run()
    c = cls(data=tiny, epochs=2, channels=2, seed=4).run()
    assert np.array_equal(a.probabilities, b.probabilities)
    assert [str(x) for x in a.cells] == [str(x) for x in b.cells]
    assert not np.array_equal(a.probabilities, c.probabilities)
    state = torch.random.get_rng_state()
    cls(data=tiny, epochs=1, channels=2, seed=3).run()
    assert torch.equal(state, torch.random.get_rng_state())  # the global generator is left alone


def test_history_table_plot_and_keep_none(tiny):
    history = DARTS(data=tiny, epochs=2, channels=2, seed=0).run()
    assert history.probabilities.shape == (3, 6, 5)
    assert np.allclose(history.probabilities.sum(-1), 1)
    df = history.to_dataframe()
    assert list(df["epoch"]) == [0, 1, 2]
    assert {"cell", "p_none", "p_skip_connect", "parameter_free", "arch_loss"} <= set(df.columns)
    assert np.isnan(df["train_loss"][0]) and df["train_loss"][2] > 0
    ax = history.plot(truth=lambda cell: 0.5)
    assert isinstance(ax, matplotlib.axes.Axes) and len(ax.lines) == 5
    matplotlib.pyplot.close("all")
    no_none = DARTS(data=tiny, epochs=2, channels=2, seed=0, keep_none=False).run()
    assert all("none" not in cell.ops for cell in no_none.cells)
    assert np.array_equal(no_none.probabilities, history.probabilities)  # only the derivation differs


def test_gdas_temperature_falls_linearly(tiny):
    search = GDAS(data=tiny, epochs=5, channels=2, tau_max=10, tau_min=2)
    assert [search.tau(e) for e in range(5)] == [10, 8, 6, 4, 2]


@pytest.mark.parametrize("kwargs, words", [
    ({"data": None}, "pass data="),
    ({"epochs": 0}, "epochs"),
    ({"arch_lr": -1}, "arch_lr"),
    ({"channels": 1.5}, "channels"),
    ({"seed": -1}, "seed"),
    ({"keep_none": "no"}, "keep_none"),
    ({"device": "tpu"}, "tpu"),
    ({"space": nv.MacroSpace()}, "CellSpace"),
])
def test_bad_settings_are_refused(tiny, kwargs, words):
    settings = {"data": tiny, "epochs": 1, **kwargs}
    with pytest.raises(NasvizError, match=words):
        DARTS(**settings)


def test_bad_temperatures_are_refused(tiny):
    with pytest.raises(NasvizError, match="tau_min"):
        GDAS(data=tiny, tau_max=1, tau_min=2)
    with pytest.raises(NasvizError, match="tau_max"):
        GDAS(data=tiny, tau_max=0)


def test_strategy_asks_each_epochs_cell_then_finishes(tiny):
    bench = nv.bench.load("digits201")
    strategy = nv.strategies.Differentiable(nv.CellSpace(), data=tiny, method="gdas", epochs=3, channels=2, seed=0)
    history = nv.Search(nv.CellSpace(), strategy, nv.estimators.Tabular(bench), budget=10).run()
    assert strategy.finished
    cells = [str(c) for c in strategy.history_.cells[1:]]
    assert [str(t.arch) for t in history.trials] == list(dict.fromkeys(cells))  # repeats answered from the cache
    with pytest.raises(nv.strategies.StrategyFinishedError):
        strategy.ask()
    again = nv.strategies.Differentiable(nv.CellSpace(), data=tiny, method="gdas", epochs=3, channels=2, seed=0)
    assert str(again.ask()) == cells[0]


def test_strategy_refuses_bad_method(tiny):
    with pytest.raises(NasvizError, match="'darts', 'gdas'"):
        nv.strategies.Differentiable(nv.CellSpace(), data=tiny, method="enas")
    with pytest.raises(NasvizError, match="data="):
        nv.strategies.Differentiable(nv.CellSpace())
