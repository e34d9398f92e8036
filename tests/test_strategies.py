"""The strategy suite: the same contract tests run against every strategy on several
spaces, then unit tests of each algorithm.

The tests drive ask/evaluate/tell themselves (no ``nv.Search``), with a synthetic,
seeded objective: an additive score per (decision, choice) plus pairwise
interactions.
"""

import json
import math

import networkx as nx
import numpy as np
import pytest

import nasviz as nv
from nasviz.errors import InvalidArchitectureError, InvalidArgumentError, NasvizError, UnknownNameError
from nasviz.estimators.base import Result
from nasviz.spaces.base import Architecture, Decision, Space
from nasviz.strategies import StrategyFinishedError

S = nv.strategies


# -- a second, small space with a validity rule -----------------------------------------
class ChainArchitecture(Architecture):
    __slots__ = ("_values",)

    def __init__(self, values):
        object.__setattr__(self, "_values", tuple(values))

    @property
    def decisions(self):
        return self._values

    def __str__(self):
        return "-".join(map(str, self._values))

    def to_networkx(self):
        return nx.path_graph(self._values[0] + 1, create_using=nx.DiGraph)


class ChainSpace(Space):
    """48 members: depth x width x activation x kernel, without (width 32, kernel 5)."""

    _DECISIONS = (Decision("depth", (1, 2, 3)), Decision("width", (8, 16, 32)),
                  Decision("act", ("relu", "tanh")), Decision("kernel", (1, 3, 5)))

    @property
    def decisions(self):
        return list(self._DECISIONS)

    def _valid(self, values):
        return not (values[1] == 32 and values[3] == 5)

    def from_decisions(self, values):
        values = tuple(values)
        if len(values) != 4 or any(v not in d.choices for v, d in zip(values, self._DECISIONS)):
            raise InvalidArchitectureError(f"bad chain {values!r}")
        return ChainArchitecture(values)

    def from_string(self, text):
        depth, width, act, kernel = text.split("-")
        return self.from_decisions((int(depth), int(width), act, int(kernel)))

    def build(self, arch, num_classes=10, in_channels=1, **kwargs):
        raise NotImplementedError("a test space")

    def __repr__(self):
        return "ChainSpace()"


SPACES = {
    "cell": nv.CellSpace,
    "chain": ChainSpace,
    "macro": lambda: nv.MacroSpace(max_layers=3),
}

# every strategy, with knobs small enough for quick tests
FACTORIES = {
    "random": lambda space, seed: S.RandomSearch(space, seed=seed),
    "random-unique": lambda space, seed: S.RandomSearch(space, unique=True, seed=seed),
    "exhaustive": lambda space, seed: S.Exhaustive(space, shuffle=True, seed=seed),
    "evolution": lambda space, seed: S.RegularizedEvolution(space, population=8, sample=3, seed=seed),
    "local": lambda space, seed: S.LocalSearch(space, initial=3, seed=seed),
    "bo": lambda space, seed: S.BayesianOptimization(space, initial=5, pool=40, seed=seed),
    "reinforce": lambda space, seed: S.REINFORCE(space, seed=seed),
    "mcts": lambda space, seed: S.MCTS(space, seed=seed),
    "sh": lambda space, seed: S.SuccessiveHalving(space, n=9, seed=seed),
    "hyperband": lambda space, seed: S.Hyperband(space, seed=seed),
}
MULTI_FIDELITY = {"sh", "hyperband"}
NO_REPEATS = {"random-unique", "exhaustive", "evolution", "local", "bo", "mcts"}


@pytest.fixture(scope="module", params=list(SPACES))
def space(request):
    return SPACES[request.param]()


@pytest.fixture(params=list(FACTORIES))
def make(request):
    return FACTORIES[request.param]


def make_objective(space, seed=0, interaction=0.5):
    """A fixed random score per (decision, choice) plus a pairwise interaction term."""
    rng = np.random.default_rng(seed)
    ds = space.decisions
    unary = [rng.normal(size=len(d.choices)) for d in ds]
    pairs = [(i, j, rng.normal(scale=interaction, size=(len(ds[i].choices), len(ds[j].choices))))
             for i in range(len(ds)) for j in range(i + 1, len(ds))]

    def objective(arch, fidelity=None):
        idx = [d.choices.index(v) for d, v in zip(ds, space.to_decisions(arch))]
        value = sum(u[k] for u, k in zip(unary, idx)) + sum(m[idx[i], idx[j]] for i, j, m in pairs)
        if fidelity is not None:  # lower fidelities see a damped, shifted score
            value = value * fidelity / (fidelity + 1.0)
        return float(value)

    return objective


class Driver:
    """Ask/evaluate/tell with up to ``pending`` asks in flight, told in a seeded random order."""

    def __init__(self, strategy, objective, *, pending=1, order_seed=0, fail=lambda i, arch: False):
        self.strategy, self.objective, self.pending = strategy, objective, pending
        self.order = np.random.default_rng(order_seed)
        self.fail = fail
        self.in_flight = []
        self.log = []  # (str(arch), context) of every ask
        self.results = []
        self.n_told = 0

    def fill(self):
        while len(self.in_flight) < self.pending and not self.strategy.finished:
            arch = self.strategy.ask()
            ctx = self.strategy.context(arch)
            self.log.append((str(arch), {k: str(v) for k, v in ctx.items()}))
            self.in_flight.append((arch, ctx))

    def step(self):
        self.fill()
        if not self.in_flight:
            return False
        arch, ctx = self.in_flight.pop(int(self.order.integers(len(self.in_flight))))
        if self.fail(self.n_told, arch):
            result = Result.failed("diverged")
        else:
            result = Result(score=self.objective(arch, ctx.get("fidelity")), cost=1.0)
        self.results.append((arch, ctx, result))
        self.strategy.tell(arch, result)
        self.n_told += 1
        return True

    def run(self, tells):
        for _ in range(tells):
            if not self.step():
                break
        return self

    def drain(self):
        while self.in_flight:
            arch, ctx = self.in_flight.pop(0)
            self.strategy.tell(arch, Result(score=self.objective(arch, ctx.get("fidelity"))))
            self.n_told += 1


def check_member(space, arch):
    assert isinstance(arch, Architecture)
    assert arch in space, arch
    valid = getattr(space, "_valid", None)
    assert valid is None or valid(tuple(arch.decisions)), arch
    assert space.from_string(str(arch)) == arch


def check_context(space, strategy, ctx):
    assert set(ctx) <= {"parent", "fidelity"}, ctx
    if "parent" in ctx:
        check_member(space, ctx["parent"])
    if "fidelity" in ctx:
        f = ctx["fidelity"]
        assert isinstance(f, int) and strategy.min_fidelity <= f <= strategy.max_fidelity


# -- the shared suite: every strategy x every space ----------------------------------------
def test_same_seed_same_asks(make, space):
    f = make_objective(space, seed=1)
    a = Driver(make(space, 7), f, pending=3, order_seed=2).run(30)
    b = Driver(make(space, 7), f, pending=3, order_seed=2).run(30)
    assert a.log == b.log
    assert len(a.log) >= 30 or a.strategy.finished


def test_different_seeds_differ(make, space):
    f = make_objective(space, seed=1)
    a = Driver(make(space, 0), f).run(15)
    b = Driver(make(space, 1), f).run(15)
    assert a.log != b.log


def test_ask_tell_contract_with_pending_asks(make, space, request):
    name = request.node.callspec.params["make"]
    strategy = make(space, 3)
    f = make_objective(space, seed=2)
    driver = Driver(strategy, f, pending=3, order_seed=5).run(40)
    driver.fill()  # asks were outstanding while tells came back shuffled
    assert len(driver.in_flight) == 3 or strategy.finished
    for arch, ctx, _ in driver.results:
        check_member(space, arch)
        check_context(space, strategy, ctx)
    driver.drain()
    assert strategy.n_asked_ == strategy.n_told_ == driver.n_told
    if name in NO_REPEATS:
        asked = [text for text, _ in driver.log]
        assert len(set(asked)) == len(asked)
    if name in MULTI_FIDELITY:
        assert all("fidelity" in ctx for _, ctx, _ in driver.results)


def test_failed_results_are_tolerated(make, space):
    strategy = make(space, 4)
    f = make_objective(space, seed=3)
    # the first six fail, then every third: the strategy must keep proposing members
    driver = Driver(strategy, f, pending=2, fail=lambda i, arch: i < 6 or i % 3 == 0).run(36)
    assert driver.n_told == 36 or strategy.finished
    for arch, ctx, _ in driver.results:
        check_member(space, arch)
        check_context(space, strategy, ctx)
    json.dumps(strategy.state_dict(), allow_nan=False)


def test_state_round_trip_continues_identically(make, space):
    f = make_objective(space, seed=4)
    original = make(space, 11)
    driver = Driver(original, f, pending=3, order_seed=9).run(17)
    driver.fill()  # snapshot with asks outstanding
    state = json.loads(json.dumps(original.state_dict(), allow_nan=False))
    clone = make(space, 12345)  # another seed: the state must carry everything
    clone.load_state_dict(state)
    twin = Driver(clone, f, pending=3)
    twin.in_flight = list(driver.in_flight)
    twin.order = np.random.default_rng(9)
    twin.order.bit_generator.state = driver.order.bit_generator.state
    twin.n_told = driver.n_told
    start = len(driver.log)
    driver.run(25)
    twin.run(25)
    assert twin.log == driver.log[start:]
    assert len(twin.log) > 0 or original.finished
    assert json.dumps(clone.state_dict()) == json.dumps(original.state_dict())


def test_tell_accepts_strings_numbers_and_unasked(make):
    space = nv.CellSpace()
    strategy = make(space, 0)
    arch = strategy.ask()
    strategy.tell(str(arch), 0.5)  # the string form and a plain number
    other = space.sample(seed=99)
    strategy.tell(other, Result(score=0.1))  # never asked: an extra observation, never an error
    check_member(space, strategy.ask())


def test_repr_shows_the_knobs(make):
    text = repr(make(nv.CellSpace(), 0))
    assert "seed=0" in text and "space=CellSpace()" in text
    assert "rng" not in text and "_seen" not in text and "pending" not in text


# -- search quality on a synthetic objective -----------------------------------------------
def mean_best(make, budget=60, seeds=10):
    space = nv.CellSpace()
    bests = []
    for seed in range(seeds):
        f = make_objective(space, seed=100 + seed)
        driver = Driver(make(space, seed), f).run(budget)
        bests.append(max(r.score for _, _, r in driver.results))
    return float(np.mean(bests))


@pytest.fixture(scope="module")
def random_mean_best():
    return mean_best(lambda space, seed: S.RandomSearch(space, seed=seed))


@pytest.mark.parametrize("name", ["evolution", "local", "bo", "reinforce"])
def test_beats_random_search(name, random_mean_best):
    make = {"evolution": lambda space, seed: S.RegularizedEvolution(space, seed=seed),
            "local": lambda space, seed: S.LocalSearch(space, seed=seed),
            "bo": lambda space, seed: S.BayesianOptimization(space, pool=100, seed=seed),
            "reinforce": lambda space, seed: S.REINFORCE(space, seed=seed)}[name]
    assert mean_best(make) > random_mean_best + 0.5


# -- registry ---------------------------------------------------------------------------------
def test_registry_names_and_errors():
    assert S.available() == ["random", "exhaustive", "evolution", "local", "bo", "reinforce", "mcts", "sh",
                             "hyperband", "darts", "gdas"]
    names = S.available(differentiable=False)
    assert names == S.available()[:-2]
    data = nv.data.digits(resolution=4, subset=0.25)
    assert [S.get(n, nv.CellSpace(), data=data).method for n in ("darts", "gdas")] == ["darts", "gdas"]
    assert S.get("Differentiable", nv.CellSpace(), data=data).method == "darts"
    classes = [type(S.get(n, nv.CellSpace(), seed=0)).__name__ for n in names]
    assert classes == ["RandomSearch", "Exhaustive", "RegularizedEvolution", "LocalSearch",
                       "BayesianOptimization", "REINFORCE", "MCTS", "SuccessiveHalving", "Hyperband"]
    assert isinstance(S.get("RegularizedEvolution", nv.CellSpace()), S.RegularizedEvolution)
    s = S.get("evolution", nv.CellSpace(), population=7, sample=2, seed=3)
    assert (s.population, s.sample, s.seed) == (7, 2, 3)
    with pytest.raises(UnknownNameError, match="'evolutoin'.*'evolution'.*'hyperband'"):
        S.get("evolutoin", nv.CellSpace())
    assert set(S.__all__) >= {"RandomSearch", "Exhaustive", "RegularizedEvolution", "LocalSearch",
                              "BayesianOptimization", "REINFORCE", "MCTS", "SuccessiveHalving", "Hyperband"}


def test_bad_knobs_raise_nasviz_errors():
    space = nv.CellSpace()
    with pytest.raises(InvalidArgumentError, match="sample must be at most population"):
        S.RegularizedEvolution(space, population=4, sample=5)
    with pytest.raises(InvalidArgumentError, match="population"):
        S.RegularizedEvolution(space, population=0)
    with pytest.raises(UnknownNameError, match="'poi'.*'ei', 'ucb', 'pi'"):
        S.BayesianOptimization(space, acquisition="poi")
    with pytest.raises(UnknownNameError, match="'rf'.*'gp', 'ensemble'"):
        S.BayesianOptimization(space, surrogate="rf")
    with pytest.raises(UnknownNameError, match="encoding"):
        S.BayesianOptimization(space, encoding="adjacency")
    with pytest.raises(InvalidArgumentError, match="lr"):
        S.REINFORCE(space, lr=-1)
    with pytest.raises(InvalidArgumentError, match="baseline_decay"):
        S.REINFORCE(space, baseline_decay=1.0)
    with pytest.raises(InvalidArgumentError, match="exploration"):
        S.MCTS(space, exploration=-0.1)
    with pytest.raises(InvalidArgumentError, match="min_fidelity"):
        S.SuccessiveHalving(space, min_fidelity=20, max_fidelity=12)
    with pytest.raises(InvalidArgumentError, match="eta"):
        S.Hyperband(space, eta=1)
    with pytest.raises(NasvizError):
        S.LocalSearch(space, initial=0)


# -- random search and the grid ---------------------------------------------------------------
def test_exhaustive_covers_the_space_once():
    space = ChainSpace()
    members = list(space.enumerate())
    assert len(members) == len(space) == 48
    for shuffle in (False, True):
        s = S.Exhaustive(space, shuffle=shuffle, seed=0)
        asked = []
        while not s.finished:
            asked.append(s.ask())
            s.tell(asked[-1], 1.0)
        assert sorted(map(str, asked)) == sorted(map(str, members))
        assert (asked == members) is (not shuffle)
        with pytest.raises(StrategyFinishedError, match="all 48 members"):
            s.ask()


def test_random_search_without_repeats_uses_up_the_space():
    space = ChainSpace()
    s = S.RandomSearch(space, unique=True, seed=0)
    asked = [s.ask() for _ in range(len(space))]
    assert len(set(asked)) == len(space) and s.finished
    with pytest.raises(StrategyFinishedError):
        s.ask()
    plain = S.RandomSearch(space, seed=0)
    draws = [plain.ask() for _ in range(len(space))]
    assert len(set(draws)) < len(space) and not plain.finished  # independent draws repeat


# -- regularized evolution ------------------------------------------------------------------
def test_evolution_warm_up_then_children_of_tournament_winners():
    space = nv.CellSpace()
    f = make_objective(space, seed=5)
    s = S.RegularizedEvolution(space, population=6, sample=6, seed=0)
    warm = []
    for _ in range(6):
        arch = s.ask()
        assert s.context(arch) == {}
        s.tell(arch, Result(score=f(arch)))
        warm.append(arch)
    parents = []
    for i in range(10):  # sample == population: the tournament always picks the best member
        child = s.ask()
        parent = s.context(child)["parent"]
        assert sum(a != b for a, b in zip(child.ops, parent.ops)) == 1
        assert parent == max(s.population_, key=lambda member: member[1])[0]
        parents.append(parent)
        s.tell(child, Result(score=-100.0 - i))  # poor children, distinct scores
    assert parents[0] == max(warm, key=f)


def test_tournament_winner_is_best_of_its_sample():
    space = nv.CellSpace()
    s = S.RegularizedEvolution(space, population=10, sample=4, seed=1)
    for i in range(10):
        s.tell(s.ask(), Result(score=float(i)))
    scores = {a: sc for a, sc in s.population_}
    worst = sorted(scores, key=scores.get)[:3]  # a best-of-4 never picks the 3 worst
    parents = []
    for _ in range(60):  # no tells: the population stays as it is
        parents.append(s.context(s.ask())["parent"])
    assert not set(parents) & set(worst)
    assert len(set(parents)) >= 4  # yet not only the very best: the sample is random
    assert max(scores, key=scores.get) in parents


def test_aging_removes_the_oldest():
    space = nv.CellSpace()
    s = S.RegularizedEvolution(space, population=4, sample=2, seed=0)
    told = []
    for score in (10.0, 1.0, 2.0, 3.0, 4.0, 5.0):
        arch = s.ask()
        s.tell(arch, Result(score=score))
        told.append(arch)
    assert [a for a, _ in s.population_] == told[-4:]  # the best (10.0) was the oldest: gone
    assert [sc for _, sc in s.population_] == [2.0, 3.0, 4.0, 5.0]
    s.tell(s.ask(), Result.failed("oom"))
    assert s.population_[-1][1] is None and len(s.population_) == 4


# -- local search -------------------------------------------------------------------------------
def test_local_search_moves_to_the_best_neighbour_then_restarts():
    space = nv.CellSpace()
    f = make_objective(space, seed=6)
    s = S.LocalSearch(space, initial=1, seed=0)
    start = s.ask()
    s.tell(start, Result(score=f(start)))
    nbrs = space.neighbors(start)
    asked = []
    for _ in range(len(nbrs)):
        arch = s.ask()
        assert s.context(arch) == {"parent": start}
        s.tell(arch, Result(score=f(arch)))
        asked.append(arch)
    assert sorted(map(str, asked)) == sorted(map(str, nbrs))  # the whole neighbourhood, once
    best = max(nbrs, key=f)
    assert f(best) > f(start)
    nxt = s.ask()
    assert s.incumbent_ == (best, f(best))
    assert s.context(nxt) == {"parent": best} and nxt in space.neighbors(best)
    # run the walk to its local optimum: then a fresh random start (no parent)
    s.tell(nxt, Result(score=f(nxt)))
    for _ in range(300):
        arch = s.ask()
        if s.optima_:
            break
        s.tell(arch, Result(score=f(arch)))
    opt, score = s.optima_[0]
    assert all(f(n) <= score for n in space.neighbors(opt))
    assert s.context(arch) == {} and s.incumbent_ is None


def test_local_search_first_improvement_moves_early():
    space = nv.CellSpace()
    s = S.LocalSearch(space, initial=1, first_improvement=True, seed=0)
    s.tell(s.ask(), 0.0)
    first = s.ask()
    s.tell(first, 1.0)  # the first neighbour improves: move at once
    assert s.context(s.ask()) == {"parent": first}
    best = S.LocalSearch(space, initial=1, seed=0)
    best.tell(best.ask(), 0.0)
    first = best.ask()
    best.tell(first, 1.0)  # best improvement: the rest of the neighbourhood first
    assert best.context(best.ask())["parent"] != first


# -- Bayesian optimisation -----------------------------------------------------------------------
def test_bo_never_repeats_while_the_space_has_others():
    space = ChainSpace()
    f = make_objective(space, seed=7)
    s = S.BayesianOptimization(space, initial=4, pool=10, seed=0)
    driver = Driver(s, f, pending=2).run(len(space))
    asked = [text for text, _ in driver.log]
    assert len(set(asked[: len(space)])) == len(space)  # a repeat only once every member was asked


@pytest.mark.parametrize("acquisition", ["ei", "ucb", "pi"])
@pytest.mark.parametrize("surrogate", ["gp", "ensemble"])
def test_bo_acquisitions_and_surrogates(acquisition, surrogate):
    space = nv.CellSpace()
    f = make_objective(space, seed=8)
    s = S.BayesianOptimization(space, initial=4, pool=30, acquisition=acquisition, surrogate=surrogate, seed=0)
    Driver(s, f).run(8)
    mu, sigma = s._predict(np.stack([s._encode(a) for a, _ in s.observations_]))
    assert mu.shape == sigma.shape == (8,) and np.all(sigma >= 0)
    assert np.corrcoef(mu, [sc for _, sc in s.observations_])[0, 1] > 0.5  # it learned the told scores


def test_bo_ignores_failures_in_the_surrogate():
    space = nv.CellSpace()
    s = S.BayesianOptimization(space, initial=2, pool=20, seed=0)
    for i in range(6):
        arch = s.ask()
        s.tell(arch, Result.failed("nan") if i % 2 else Result(score=float(i)))
    assert [sc for _, sc in s.observations_] == [0.0, 2.0, 4.0]
    assert s.model_ is not None


# -- REINFORCE ---------------------------------------------------------------------------------
def test_reinforce_policy_moves_toward_rewarded_choices():
    space = nv.CellSpace()
    s = S.REINFORCE(space, lr=0.3, seed=0)
    assert all(np.allclose(p, 0.2) for p in s.probabilities())
    for _ in range(60):
        arch = s.ask()
        s.tell(arch, Result(score=float(arch.ops.count("nor_conv_3x3"))))
    conv = space.decisions[0].choices.index("nor_conv_3x3")
    probs = s.probabilities()
    assert all(p.argmax() == conv and p[conv] > 0.4 for p in probs)
    before = [z.copy() for z in s.logits_]
    s.tell(s.ask(), Result.failed("nan"))
    assert all(np.array_equal(a, b) for a, b in zip(before, s.logits_))


def test_reinforce_works_through_from_decisions_on_a_constrained_space():
    space = ChainSpace()
    s = S.REINFORCE(space, lr=1.0, seed=0)
    for _ in range(40):  # reward the invalid corner's neighbours: samples must stay valid
        arch = s.ask()
        check_member(space, arch)
        s.tell(arch, float(arch.decisions[1] == 32) + float(arch.decisions[3] == 5))


# -- MCTS ----------------------------------------------------------------------------------------
def test_mcts_counts_pending_asks_and_backs_up_scores():
    space = nv.CellSpace()
    s = S.MCTS(space, seed=0)
    asked = [s.ask() for _ in range(3)]
    assert s.tree_[()] == [3, 0, 0.0]  # visits counted at once (virtual loss), no score yet
    assert len({a.ops[0] for a in asked}) == 3  # pending asks steer to different first choices
    for i, arch in enumerate(asked):
        s.tell(arch, Result(score=float(i)))
    assert s.tree_[()] == [3, 3, 3.0]
    first = space.decisions[0].choices.index(asked[2].ops[0])
    assert s.tree_[(first,)] == [1, 1, 2.0]
    s.tell(s.ask(), Result.failed("oom"))
    assert s.tree_[()][:2] == [4, 3]


def test_mcts_prefers_the_better_subtree():
    space = nv.CellSpace()
    s = S.MCTS(space, exploration=0.1, seed=0)
    conv = space.decisions[0].choices.index("nor_conv_3x3")
    for _ in range(80):
        arch = s.ask()
        s.tell(arch, Result(score=float(arch.ops[0] == "nor_conv_3x3") + 0.1 * arch.ops.count("skip_connect")))
    visits = {c: s.tree_[(c,)][0] for c in range(5)}
    assert max(visits, key=visits.get) == conv


# -- successive halving and Hyperband ----------------------------------------------------------
def run_sequential(strategy, objective, limit=10000):
    log = []
    while not strategy.finished and len(log) < limit:
        arch = strategy.ask()
        fid = strategy.context(arch)["fidelity"]
        score = objective(arch, fid)
        log.append((arch, fid, score))
        strategy.tell(arch, Result(score=score))
    return log


def test_successive_halving_rungs_and_promotions():
    space = nv.CellSpace()
    f = make_objective(space, seed=9)
    s = S.SuccessiveHalving(space, min_fidelity=1, max_fidelity=12, eta=3, n=27, seed=0)
    assert s.rungs() == [(27, 1), (9, 4), (3, 12)]
    assert S.SuccessiveHalving(space, min_fidelity=1, max_fidelity=27, eta=3, n=81).rungs() == \
        [(81, 1), (27, 3), (9, 9), (3, 27)]
    log = run_sequential(s, f)
    assert s.finished and [fid for _, fid, _ in log] == [1] * 27 + [4] * 9 + [12] * 3
    rung0 = {a: sc for a, fid, sc in log if fid == 1}
    rung1 = {a: sc for a, fid, sc in log if fid == 4}
    rung2 = [a for a, fid, _ in log if fid == 12]
    assert set(rung1) == set(sorted(rung0, key=rung0.get)[-9:])  # the same cells again, the best 9
    assert set(rung2) == set(sorted(rung1, key=rung1.get)[-3:])
    assert len(set(rung0)) == 27


def test_successive_halving_never_promotes_failures():
    space = nv.CellSpace()
    s = S.SuccessiveHalving(space, n=9, seed=0)
    failed = set()
    for i in range(9):
        arch = s.ask()
        if i < 7:
            failed.add(arch)
            s.tell(arch, Result.failed("nan"))
        else:
            s.tell(arch, Result(score=float(i)))
    promoted = []
    while not s.finished:
        arch = s.ask()
        promoted.append((arch, s.context(arch)["fidelity"]))
        s.tell(arch, 1.0)
    assert not {a for a, _ in promoted} & failed
    assert [fid for _, fid in promoted] == [4, 4, 12]  # 2 survivors: rung 1 gets 2 of its 3, rung 2 its 1


def hyperband_formula(r_min, r_max, eta):
    s_max = math.floor(math.log(r_max / r_min, eta) + 1e-9)
    out = []
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) / (s + 1) * eta**s)
        out.append([(int(n * eta ** (-i) + 1e-9), round(r_max * eta ** (i - s))) for i in range(s + 1)])
    return out


def test_hyperband_brackets_match_the_formula():
    space = nv.CellSpace()
    # Li et al. (2018), Table 1: R = 81, eta = 3
    assert S.Hyperband(space, min_fidelity=1, max_fidelity=81, eta=3).brackets() == [
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        [(34, 3), (11, 9), (3, 27), (1, 81)],
        [(15, 9), (5, 27), (1, 81)],
        [(8, 27), (2, 81)],
        [(5, 81)],
    ]
    for lo, hi, eta in [(1, 12, 3), (1, 200, 3), (2, 16, 2), (1, 1, 3)]:
        assert S.Hyperband(space, min_fidelity=lo, max_fidelity=hi, eta=eta).brackets() == \
            hyperband_formula(lo, hi, eta)


def test_hyperband_runs_its_brackets_in_order():
    space = nv.CellSpace()
    f = make_objective(space, seed=10)
    s = S.Hyperband(space, iterations=1, seed=0)
    log = run_sequential(s, f)
    expected = [fid for bracket in s.brackets() for n, fid in bracket for _ in range(n)]
    assert s.finished and [fid for _, fid, _ in log] == expected
    assert len(log) == 9 + 3 + 1 + 5 + 1 + 3
    looping = S.Hyperband(space, seed=0)
    assert not looping.finished
    assert [fid for *_, fid, _ in run_sequential(looping, f, limit=44)] == expected * 2


def test_parallel_successive_halving_keeps_busy_and_finishes():
    space = nv.CellSpace()
    f = make_objective(space, seed=11)
    s = S.SuccessiveHalving(space, n=9, seed=0)
    driver = Driver(s, f, pending=4, order_seed=1).run(200)
    driver.drain()
    assert s.finished
    fids = [ctx["fidelity"] for _, ctx, _ in driver.results]
    assert fids.count(12) == 1 and fids.count(4) == 3 and fids.count(1) >= 9
