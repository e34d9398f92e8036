"""BANANAS-style Bayesian optimisation: independent Thompson sampling, path encodings, batched refits."""

from __future__ import annotations

import numpy as np
import pytest

import nasviz as nv
from nasviz.errors import InvalidArgumentError, UnknownNameError

S = nv.strategies
BANANAS = {"surrogate": "ensemble", "encoding": "path", "acquisition": "its", "refit_every": 10}


@pytest.fixture(scope="module")
def table():
    bench = nv.bench.load("nb201-12epoch")
    return bench, np.asarray(bench.array("cifar10_val_acc"), float).reshape(-1)


def run(strategy, table, budget):
    """Ask/tell ``budget`` evaluations on the table; the asked cells and the best score so far."""
    bench, values = table
    asked, best = [], []
    for _ in range(budget):
        arch = strategy.ask()
        score = float(values[bench.space.index(arch)])
        strategy.tell(arch, nv.Result(score=score))
        asked.append(arch)
        best.append(max(score, best[-1]) if best else score)
    return asked, best


@pytest.mark.parametrize("kwargs", [{**BANANAS, "pool": 50}, {"acquisition": "its", "pool": 50}],
                         ids=["bananas", "gp-its"])
def test_asks_are_new_members_and_reproducible(table, kwargs):
    space = table[0].space
    asked, _ = run(S.BayesianOptimization(space, seed=0, **kwargs), table, 16)
    again, _ = run(S.BayesianOptimization(space, seed=0, **kwargs), table, 16)
    other, _ = run(S.BayesianOptimization(space, seed=1, **kwargs), table, 16)
    assert all(a in space for a in asked) and len(set(asked)) == len(asked)
    assert asked == again
    assert asked != other


def test_its_draws_thompson_samples_around_the_mean():
    space = nv.CellSpace()
    s = S.BayesianOptimization(space, acquisition="its", seed=0)
    mu, sigma = np.zeros(20000), np.full(20000, 2.0)
    draws = s._acquire(mu, sigma, best=0.0)
    assert abs(draws.mean()) < 0.05 and abs(draws.std() - 2.0) < 0.05
    assert not np.array_equal(draws, s._acquire(mu, sigma, best=0.0))  # fresh draws at each ask
    np.testing.assert_array_equal(s._acquire(mu, np.zeros(20000), best=0.0), mu)  # no spread: the mean


def test_refit_every_fits_once_the_random_asks_are_made_then_every_k_results():
    space = nv.CellSpace()
    s = S.BayesianOptimization(space, initial=4, refit_every=5, pool=20, seed=0)
    fitted = []
    for _ in range(16):
        arch = s.ask()
        s.tell(arch, nv.Result(score=arch.ops.count("nor_conv_3x3") / 6))
        fitted.append(s.n_fitted_)
    assert fitted == [0, 0, 0, 4, 4, 4, 4, 4, 9, 9, 9, 9, 9, 14, 14, 14]


def test_resume_continues_with_the_same_asks(table):
    space = table[0].space
    first = S.BayesianOptimization(space, seed=3, **BANANAS)
    run(first, table, 17)  # fitted on 10, 7 results since
    resumed = S.BayesianOptimization(space, seed=3, **BANANAS)
    resumed.load_state_dict(first.state_dict())
    assert resumed.n_fitted_ == first.n_fitted_ == 10
    assert run(resumed, table, 6)[0] == run(first, table, 6)[0]


def test_no_ask_repeats_the_path_encoding_of_an_earlier_one(table):
    space = table[0].space
    s = S.BayesianOptimization(space, initial=5, pool=60, encoding="path", acquisition="its", seed=0)
    asked, _ = run(s, table, 40)
    codes = [space.encode(a, "path").tobytes() for a in asked]
    for k in range(5, len(codes)):  # the surrogate's asks (the first 5 are random)
        assert codes[k] not in codes[:k], asked[k]


def test_thompson_sampling_beats_random_search_on_nb201(table):
    """Mean regret at 100 evaluations over 5 seeds, in accuracy points: measured 0.24 (GP with
    Thompson sampling, pool 100) against 1.29 (random search); benchmarks/strategies.py over 20 seeds
    gives 0.23 (bo-its) and 1.25 (random). The BANANAS preset (0.06 on seeds 0-19, 0.38 on 20-39) is
    too slow to race here."""
    space = table[0].space
    optimum = table[1].max()

    def regret(make):
        return np.mean([100 * (optimum - run(make(seed), table, 100)[1][-1]) for seed in range(5)])

    random = regret(lambda seed: S.RandomSearch(space, seed=seed))
    its = regret(lambda seed: S.BayesianOptimization(space, acquisition="its", pool=100, seed=seed))
    assert its < random - 0.6, (its, random)


def test_bad_knobs_name_the_value():
    space = nv.CellSpace()
    with pytest.raises(UnknownNameError, match="'thompson'.*'ei', 'ucb', 'pi', 'its'"):
        S.BayesianOptimization(space, acquisition="thompson")
    with pytest.raises(InvalidArgumentError, match="refit_every.*0"):
        S.BayesianOptimization(space, refit_every=0)
    s = S.BayesianOptimization(space, **BANANAS)
    assert s.get_params() == {"space": space, "seed": None, "initial": 10, "pool": 200, **BANANAS}
