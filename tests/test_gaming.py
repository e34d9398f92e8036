"""The gaming corpus: answers that game the graded checks, each of which must fail with an actionable message.

Each gamed answer is run through the check it games; the test asserts which check line fails and what its message
says. The reference solutions of the instructor notebooks pass the same checks (tests/test_assignments.py runs the
whole notebooks; here only the steps the gaming checks add).
"""

import json
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

import nasviz as nv
from nasviz import grading
from nasviz.estimators.base import Estimator
from nasviz.strategies import Strategy

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks" / "assignments"


def solution(notebook: str, name: str, **namespace):
    """The object ``name`` defined by the code cells of an instructor notebook that define it (run in order)."""
    nb = json.loads((FOLDER / notebook).read_text())
    ns = {"np": np, "nv": nv, "torch": torch, "time": time, "grading": grading, "Strategy": Strategy,
          "Estimator": Estimator, **namespace}
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and ("def " in src or "class " in src) and "grading.check" not in src:
            exec(src, ns)  # noqa: S102 - the course's own notebooks
    return ns[name]


def failure(check, *args, **kwargs):
    with pytest.raises(grading.CheckFailed) as info:
        check(*args, quiet=True, **kwargs)
    return info.value.report.failures[0]


# -- A2: a built-in strategy under another name ----------------------------------------------------
class SubLocal(nv.strategies.LocalSearch):
    pass


class SubEvolution(nv.strategies.RegularizedEvolution):
    pass


class SubRandom(nv.strategies.RandomSearch):
    pass


class Wrapper(Strategy):
    """Hands every ask and tell to a LocalSearch kept in an attribute."""

    def __init__(self, space, *, seed=None):
        super().__init__(space, seed=seed)
        self.inner = nv.strategies.LocalSearch(space, seed=seed)

    def ask(self):
        self.n_asked_ += 1
        return self.inner.ask()

    def tell(self, arch, result):
        super().tell(arch, result)
        self.inner.tell(arch, result)


_HIDDEN = {}


class HiddenWrapper(Strategy):
    """Keeps its RegularizedEvolution in a module-level dict, out of sight of its attributes."""

    def __init__(self, space, *, seed=None):
        super().__init__(space, seed=seed)
        _HIDDEN[id(self)] = nv.strategies.RegularizedEvolution(space, seed=seed)

    def ask(self):
        self.n_asked_ += 1
        return _HIDDEN[id(self)].ask()

    def tell(self, arch, result):
        super().tell(arch, result)
        _HIDDEN[id(self)].tell(arch, result)


def made_by_a_function(space, seed=None):
    return nv.strategies.LocalSearch(space, seed=seed)


GAMED_STRATEGIES = [
    (SubLocal, "SubLocal subclasses LocalSearch, one of nasviz's built-in strategies"),
    (SubEvolution, "SubEvolution subclasses RegularizedEvolution, one of nasviz's built-in strategies"),
    (SubRandom, "SubRandom subclasses RandomSearch, one of nasviz's built-in strategies"),
    (nv.strategies.LocalSearch, "LocalSearch is nasviz's built-in LocalSearch"),
    (made_by_a_function, "made_by_a_function(space, seed=0) made nasviz's built-in LocalSearch"),
    (Wrapper, "Wrapper keeps a built-in LocalSearch in self.inner"),
    (HiddenWrapper, "built-in strategy code ran (RegularizedEvolution."),
]


@pytest.mark.parametrize("check", [grading.check_strategy, grading.check_beats_random], ids=["protocol", "race"])
@pytest.mark.parametrize("gamed, says", GAMED_STRATEGIES, ids=lambda x: getattr(x, "__name__", "")[:20])
def test_a2_refuses_a_built_in_strategy(check, gamed, says):
    f = failure(check, gamed)
    assert f.name == "is a strategy of its own (neither a built-in nor a wrapper of one)"
    assert says in f.message
    assert "subclass nasviz.strategies.Strategy and write the search in your own ask() and tell()" in f.message


def test_a2_reference_solution_is_its_own_and_beats_the_bar():
    mine = solution("A2-search-strategy.ipynb", "MyStrategy")
    report = grading.check_beats_random(mine, quiet=True)
    assert report.passed and report.checks[0].passed
    regret = report.details["regret"]
    assert regret["MyStrategy"].mean() <= 0.4 * regret["RandomSearch"].mean()


def test_a2_the_bar_is_what_the_built_ins_reach():
    assert grading.check_beats_random.__kwdefaults__["margin"] == 0.6
    report = grading.check_beats_random(nv.strategies.RegularizedEvolution, allow_builtin=True, quiet=True)
    assert report.passed  # the built-ins reach it, random search is far from it
    with pytest.raises(grading.CheckFailed):
        grading.check_beats_random(nv.strategies.RandomSearch, allow_builtin=True, quiet=True)


# -- A3: proxies that are not proxies ---------------------------------------------------------------
def zero_cost(name):
    def make(data):
        return nv.estimators.ZeroCost(name, data, channels=8, seed=0)

    make.__name__ = f"{name}_proxy"
    return make


class RandomProxy(Estimator):
    """A seeded random number per cell."""

    def __init__(self, data):
        self.data = data

    def _evaluate(self, arch, parent=None, fidelity=None):
        return nv.Result(score=zlib.crc32(str(arch).encode()) / 2**32, cost=0.0)


class IgnoresDisconnected(Estimator):
    """MeCo-like, but scores disconnected cells like any other."""

    def __init__(self, data):
        self.inner = nv.estimators.ZeroCost("meco", data, channels=8, seed=0)

    def _evaluate(self, arch, parent=None, fidelity=None):
        r = self.inner.evaluate(arch)
        return nv.Result(score=1e9 if r.metrics.get("degenerate") else r.score, cost=0.0)


@pytest.mark.parametrize("gamed", [zero_cost("params"), zero_cost("flops"), RandomProxy],
                         ids=["params", "flops", "random"])
def test_a3_refuses_size_and_random_proxies(gamed):
    with pytest.raises(grading.CheckFailed) as info:
        grading.check_proxy(gamed, baselines=(), quiet=True)
    failed = {c.name: c.message for c in info.value.report.failures}
    rank = [m for n, m in failed.items() if n.startswith("ranks the 256 cells like the reference")]
    assert rank, failed
    assert "with the reference 'digits201'" in rank[0]
    if gamed is not RandomProxy:
        assert "better than counting their parameters" in rank[0]


def test_a3_refuses_a_proxy_that_ignores_disconnected_cells():
    f = failure(grading.check_proxy, IgnoresDisconnected, baselines=())
    assert f.name.startswith("disconnected cells score at or below every connected cell")
    assert "must rank last" in f.message and "return a floor below every connected cell's score" in f.message


def test_a3_refuses_a_proxy_function_that_ranks_a_disconnected_cell_first():
    def backwards(net, inputs, targets):
        return -float(sum(p.numel() for p in net.parameters()))

    f = failure(grading.check_proxy_function, backwards)
    assert f.name == "scores the disconnected cell at or below the 3 connected ones"
    assert "must rank last" in f.message


def test_a3_reference_solution_beats_the_parameter_count_on_digits201():
    my_proxy = solution("A3-zero-cost-proxy.ipynb", "my_proxy")
    grading.check_proxy_function(my_proxy, quiet=True)
    grading.check_proxy_function(my_proxy, nv.data.digits(resolution=4), quiet=True)
    proxy = solution("A3-zero-cost-proxy.ipynb", "MyProxy")
    report = grading.check_proxy(proxy, baselines=(), quiet=True)
    assert report.details["reference_name"] == "digits201"
    assert report.details["rho"] >= report.details["params_rho"] + 0.05


# -- A1: the helper the assignment asks students to write themselves --------------------------------
SPACE = nv.CellSpace()
EARLY = SPACE.is_connected  # bound before the check runs: still seen


@pytest.mark.parametrize("gamed, called", [
    (lambda arch: SPACE.is_connected(arch), "space.is_connected"),
    (lambda arch: nv.CellSpace().is_connected(arch), "space.is_connected"),
    (lambda arch: EARLY(arch), "space.is_connected"),
    (lambda arch: not SPACE.is_disconnected(arch), "space.is_disconnected"),
    (lambda arch: not SPACE.canonical(arch).endswith("#"), "space.canonical"),
], ids=["method", "fresh-space", "bound-early", "is_disconnected", "canonical"])
def test_a1_refuses_the_forbidden_helpers(gamed, called):
    with pytest.raises(grading.CheckFailed) as info:
        grading.check_reaches_output(gamed, n_random=20, quiet=True)
    f = [c for c in info.value.report.failures if c.name.startswith("works it out itself")][0]
    assert f.message.startswith(f"<lambda> called {called}")  # is_disconnected calls is_connected too
    assert "which this assignment asks you to implement yourself" in f.message


def test_a1_reference_solution_passes_and_the_helpers_may_be_allowed():
    reaches_output = solution("A1-mutation-operator.ipynb", "reaches_output")
    assert grading.check_reaches_output(reaches_output, quiet=True).passed
    assert grading.check_reaches_output(SPACE.is_connected, forbidden=(), quiet=True).passed


# Copying a reference solution verbatim is not detected: the student versions hold none (the generator removes the
# solution regions), and a correct answer equal to the instructor's is indistinguishable from an independent one.
