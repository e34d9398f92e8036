"""Tests of nasviz.grading: checks pass correct code and fail wrong code with messages that point at the fault."""

import math
import re

import numpy as np
import pytest
import torch

import nasviz as nv
from nasviz import grading
from nasviz.errors import InvalidArgumentError, UnknownNameError
from nasviz.estimators.base import Estimator
from nasviz.strategies import Strategy

SPACE = nv.CellSpace()


FEW = {"n_random": 2}  # hand-picked cells plus two random ones: fewer calls, same kinds of input


def failure(check, *args, **kwargs) -> grading.Report:
    """The report of a check that must fail (quietly)."""
    with pytest.raises(grading.CheckFailed) as info:
        check(*args, quiet=True, **kwargs)
    return info.value.report


def message(report: grading.Report, name_start: str) -> str:
    (check,) = [c for c in report.checks if c.name.startswith(name_start)]
    assert check.passed is False, check
    return check.message


def cells_in(text: str) -> list:
    return [SPACE.from_string(s) for s in re.findall(r"\|[^ ,;()]*\|", text)]


# -- reports -----------------------------------------------------------------------------------
def test_report_lists_checks_and_raises_with_a_short_render(capsys):
    report = grading.Report("demo")
    report.add("first", True)
    report.add("second", False, "expected 2, got 3\nuse addition")
    report.add("third", None, "skipped")
    assert not report.passed and [c.name for c in report.failures] == ["second"]
    with pytest.raises(grading.CheckFailed) as info:
        report.finish()
    printed = capsys.readouterr().out
    assert printed.splitlines() == ["demo: 1 of 2 checks passed", "  ✓ first", "  ✗ second", "      expected 2, got 3",
                                    "      use addition", "  - third", "      skipped"]
    assert isinstance(info.value, AssertionError)
    assert "expected 2, got 3" in str(info.value)  # logs and pytest see everything
    render = info.value._render_traceback_()
    assert render[0] == "CheckFailed: demo: 1 of 2 checks passed" and len(render) == 2


def test_a_quiet_failure_renders_the_whole_report():
    report = grading.Report("quiet")
    report.add("only", False, "why it failed")
    with pytest.raises(grading.CheckFailed) as info:
        report.finish(quiet=True)
    assert "      why it failed" in info.value._render_traceback_()


def test_a_passing_report_is_returned_and_has_a_one_line_repr(capsys):
    report = grading.Report("fine")
    report.add("a", True)
    report.add("b", True)
    assert report.finish() is report
    assert capsys.readouterr().out.startswith("fine: both checks passed")
    assert repr(report) == "<Report 'fine: both checks passed'>"


def test_an_empty_report_does_not_pass():
    assert not grading.Report("nothing ran").passed


# -- A1: reaches_output ------------------------------------------------------------------------
def test_check_reaches_output_passes_the_definition():
    assert grading.check_reaches_output(SPACE.is_connected, forbidden=(), quiet=True).passed


def test_check_reaches_output_shows_a_counterexample_with_its_path():
    def only_direct(arch):  # ignores paths through the intermediate nodes
        return arch.ops[3] != "none"

    report = failure(grading.check_reaches_output, only_direct)
    text = message(report, "agrees with the definition on 9 hand-picked")
    (cell,) = cells_in(text)[:1]
    assert SPACE.is_connected(cell) and not only_direct(cell)
    assert "returned False, expected True: the input reaches the output along" in text


def test_check_reaches_output_explains_a_disconnected_counterexample():
    def any_edge_into_output(arch):
        return any(op != "none" for (i, j), op in zip(arch.edges, arch.ops) if j == 3)

    text = message(failure(grading.check_reaches_output, any_edge_into_output), "agrees with the definition on 9")
    cell = cells_in(text)[0]
    assert SPACE.is_disconnected(cell) and "never the output (node 3)" in text


def test_check_reaches_output_wants_a_bool():
    report = failure(grading.check_reaches_output, lambda arch: 1)
    assert "returned 1 of type int" in message(report, "returns True or False")
    assert len(report.checks) == 1  # the rest would only repeat the problem


def test_an_unsolved_function_is_reported_as_not_solved():
    def reaches_output(arch):
        raise NotImplementedError

    with pytest.raises(grading.NotSolvedError) as info:
        grading.check_reaches_output(reaches_output)
    assert info.value.report.summary() == ("reaches_output: not solved yet: implement reaches_output() (it raises "
                                           "NotImplementedError), then run this check again")
    assert info.value._render_traceback_() == [f"NotSolvedError: {info.value.report.summary()}"]


def test_the_generated_stub_message_is_used_as_it_is():
    def f(arch):
        raise NotImplementedError("not solved yet: implement f()")

    with pytest.raises(grading.NotSolvedError, match=r"f: not solved yet: implement f\(\), then run this check"):
        grading.check_reaches_output(f, quiet=True)


def test_an_exception_names_the_call_that_raised():
    def broken(arch):
        return {}["x"]

    text = message(failure(grading.check_reaches_output, broken), "runs without an error")
    assert text.startswith("broken(|none~0|") and "raised KeyError" in text


# -- A1: mutation ----------------------------------------------------------------------------------
def connected_mutate(space, arch, seed=None):
    rng = np.random.default_rng(seed)
    options = [n for n in space.neighbors(arch) if space.is_connected(n)]
    return options[rng.integers(len(options))]


def test_check_mutation_passes_a_correct_operator():
    report = grading.check_mutation(connected_mutate, SPACE, quiet=True, **FEW)
    assert report.passed and len(report.checks) == 7


def test_check_mutation_catches_a_disconnecting_mutation():
    def plain(space, arch, seed=None):
        return space.mutate(arch, seed=seed)

    report = failure(grading.check_mutation, plain, SPACE, **FEW)
    assert [c.name for c in report.failures] == ["never returns a cell that is not connected"]
    given, returned = cells_in(report.failures[0].message)[:2]
    assert returned in SPACE.neighbors(given) and SPACE.is_disconnected(returned)


def test_check_mutation_catches_global_random_state():
    def global_rng(space, arch, seed=None):
        options = [n for n in space.neighbors(arch) if space.is_connected(n)]
        return options[np.random.randint(len(options))]

    report = failure(grading.check_mutation, global_rng, SPACE, **FEW)
    failed = {c.name for c in report.failures}
    assert {"same seed, same cell", "leaves global random state alone"} <= failed
    # the unseeded global draws may also miss a neighbour in the few samples of FEW: that depends on the global
    # state the tests before this one left, so it is allowed, and nothing else is
    assert failed <= {"same seed, same cell", "leaves global random state alone", "can return every connected neighbour"}
    assert "numpy's global generator" in message(report, "leaves global")


def test_check_mutation_wants_the_generator_it_is_given():
    def int_seeds_only(space, arch, seed=None):
        return connected_mutate(space, arch, seed if isinstance(seed, int) else 0)

    report = failure(grading.check_mutation, int_seeds_only, SPACE, **FEW)
    assert [c.name for c in report.failures] == ["accepts a numpy Generator as seed"]


def test_check_mutation_wants_every_allowed_neighbour():
    def convolutions_only(space, arch, seed=None):
        rng = np.random.default_rng(seed)
        options = [n for n in space.neighbors(arch) if space.is_connected(n) and "nor_conv" in str(n)]
        return options[rng.integers(len(options))]

    report = failure(grading.check_mutation, convolutions_only, SPACE, **FEW)
    text = message(report, "can return every connected neighbour")
    given, missing = cells_in(text)[:2]
    assert missing in SPACE.neighbors(given) and SPACE.is_connected(missing)
    assert missing != convolutions_only(SPACE, given, seed=0)


def test_check_mutation_counts_changed_edges():
    def two_steps(space, arch, seed=None):
        rng = np.random.default_rng(seed)
        return connected_mutate(space, connected_mutate(space, arch, rng), rng)

    text = message(failure(grading.check_mutation, two_steps, SPACE, **FEW), "changes exactly one edge")
    assert "differs in 2 edges" in text or "the input unchanged" in text


def test_check_mutation_stops_at_a_wrong_return_type():
    report = failure(grading.check_mutation, lambda space, arch, seed=None: str(arch), SPACE, **FEW)
    assert "(str), which is not a member of CellSpace()" in report.failures[0].message
    assert len(report.failures) == 1 and all(c.passed is None for c in report.checks[1:])


def test_check_mutation_takes_another_rule():
    def no_pool(arch):
        return "avg_pool_3x3" not in arch.ops

    def mutate(space, arch, seed=None):
        rng = np.random.default_rng(seed)
        options = [n for n in space.neighbors(arch) if no_pool(n)]
        return options[rng.integers(len(options))]

    archs = [SPACE.sample(seed=s) for s in range(5)]
    assert grading.check_mutation(mutate, SPACE, allowed=no_pool, rule="free of pooling", archs=archs,
                                  n_seeds=150, quiet=True).passed
    report = failure(grading.check_mutation, connected_mutate, SPACE, allowed=no_pool, rule="free of pooling",
                     archs=archs, n_seeds=50)
    assert "which is not free of pooling" in message(report, "never returns a cell that is not free of pooling")


# -- A1: spaces -----------------------------------------------------------------------------------------
class ConnectedCellSpace(nv.CellSpace):
    def _valid(self, values):
        reach = {0}
        for (i, j), op in zip(self.edges, values):
            if op != "none" and i in reach:
                reach.add(j)
        return self.nodes - 1 in reach


def test_check_space_passes_a_connected_space():
    assert grading.check_space(ConnectedCellSpace(), quiet=True).passed
    assert grading.check_space(ConnectedCellSpace(nodes=3), quiet=True).passed


def test_check_space_counts_the_members():
    class DirectOnly(nv.CellSpace):
        def _valid(self, values):
            return values[3] != "none"

    report = failure(grading.check_space, DirectOnly())
    assert message(report, "len(space)").startswith("len(space) is 12500, expected 15284")
    assert "is False, but the cell is connected" in message(report, "membership")


def test_check_space_explains_endless_recursion():
    class Recursive(nv.CellSpace):
        def _valid(self, values):
            return self.is_connected(self.from_ops(values))

    report = failure(grading.check_space, Recursive())
    assert "do not call methods that check membership" in message(report, "membership")


def test_check_space_wants_a_space_instance():
    report = failure(grading.check_space, ConnectedCellSpace)  # the class, not an instance
    assert report.failures[0].name == "is a nasviz Space"


# -- A2: strategies ------------------------------------------------------------------------------------
class GlobalRandom(Strategy):
    def ask(self):
        return self.space[np.random.randint(len(self.space))]


class AlwaysTheSame(Strategy):
    def ask(self):
        return self.space[0]


class FragileTell(Strategy):
    def ask(self):
        return self.space.sample(seed=self.rng_)

    def tell(self, arch, result):
        super().tell(arch, result)
        assert result.ok, "only successes expected"


class NotAStrategy:
    def __init__(self, space, seed=None):
        self.space = space

    def ask(self):
        return self.space.sample(seed=0)

    def tell(self, arch, result):
        pass


@pytest.mark.parametrize("cls", [nv.strategies.RandomSearch, nv.strategies.RegularizedEvolution,
                                 nv.strategies.LocalSearch])
def test_check_strategy_passes_the_built_in_strategies(cls):
    assert grading.check_strategy(cls, allow_builtin=True, quiet=True).passed


def test_check_strategy_catches_global_random_state():
    report = failure(grading.check_strategy, GlobalRandom)
    assert {c.name for c in report.failures} == {"same seed, same asks", "leaves global random state alone"}
    assert "self.rng_" in message(report, "leaves global random state alone")


def test_check_strategy_catches_a_strategy_stuck_on_one_cell():
    report = failure(grading.check_strategy, AlwaysTheSame)
    assert "all returned |none~0|" in message(report, "several asks pending")
    assert "asked 100 already-evaluated cells in a row" in message(report, "runs through nv.Search")


def test_check_strategy_catches_a_tell_that_cannot_take_failures():
    report = failure(grading.check_strategy, FragileTell)
    assert [c.name for c in report.failures] == ["a failed result can be told"]
    assert "raised AssertionError: only successes expected" in report.failures[0].message


def test_check_strategy_wants_a_strategy_subclass():
    report = failure(grading.check_strategy, NotAStrategy)
    assert "subclass nasviz.strategies.Strategy" in message(report, "is a Strategy")


def test_check_strategy_wants_members_of_the_space():
    class Strings(Strategy):
        def ask(self):
            return str(self.space.sample(seed=self.rng_))

    assert "(str), not a member of CellSpace()" in message(failure(grading.check_strategy, Strings), "ask() returns")


def test_check_beats_random_passes_evolution_and_fails_random_search():
    report = grading.check_beats_random(nv.strategies.RegularizedEvolution, seeds=range(10), allow_builtin=True,
                                        quiet=True)
    regret = report.details["regret"]
    assert report.passed and regret["RegularizedEvolution"].mean() <= 0.4 * regret["RandomSearch"].mean()
    assert {k: len(v) for k, v in report.details["histories"].items()} == {"RegularizedEvolution": 10,
                                                                           "RandomSearch": 10}
    assert report.details["optimum"] == pytest.approx(nv.bench.load("nb201-12epoch").optimum("cifar10_val_acc")[1])
    same = failure(grading.check_beats_random, nv.strategies.RandomSearch, seeds=range(10), allow_builtin=True)
    assert "tied on 10" in message(same, "beats random search by 60%")


def test_check_beats_random_draws_the_regret_curves_also_when_failing():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    report = failure(grading.check_beats_random, nv.strategies.RandomSearch, seeds=range(3), budget=30, ax=ax,
                     plot=True, allow_builtin=True)
    assert report.details["ax"] is ax and len(ax.get_lines()) == 2
    plt.close(fig)


def test_check_beats_random_rejects_bad_arguments():
    with pytest.raises(InvalidArgumentError, match="margin"):
        grading.check_beats_random(nv.strategies.RandomSearch, margin=1.5)
    with pytest.raises(UnknownNameError, match="metric"):
        grading.check_beats_random(nv.strategies.RandomSearch, metric="accuracy")


# -- A3: proxies -------------------------------------------------------------------------------------------
def n_weights(net, inputs, targets):
    return float(sum(p.numel() for p in net.parameters()))


def test_check_proxy_function_passes_a_deterministic_proxy():
    report = grading.check_proxy_function(n_weights, quiet=True)
    assert report.passed and len(report.checks) == 7


def test_check_proxy_function_wants_finite_numbers():
    report = failure(grading.check_proxy_function, lambda net, x, y: math.nan)
    assert "returned nan for the connected cell" in report.failures[0].message


def test_check_proxy_function_wants_a_floor_for_disconnected_cells():
    def log_output_spread(net, inputs, targets):
        with torch.no_grad():
            return float(torch.log(net(inputs).std(0).sum()))  # -inf when the output ignores the input

    report = failure(grading.check_proxy_function, log_output_spread)
    assert [c.name for c in report.failures] == ["returns a finite number for a disconnected cell"]
    assert "floor" in report.failures[0].message


def test_check_proxy_function_catches_side_effects():
    def noisy(net, inputs, targets):
        inputs.mul_(1.0)  # in place, though unchanged
        targets[0] = (targets[0] + 1) % 10
        return n_weights(net, inputs, targets) + float(torch.rand(1))

    report = failure(grading.check_proxy_function, noisy)
    assert {c.name for c in report.failures} - {"scores the disconnected cell at or below the 3 connected ones"} == {
        "same network and minibatch, same score", "leaves the minibatch unchanged", "leaves global random state alone"}
    assert "torch's global generator" in message(report, "leaves global")


def test_check_proxy_function_wants_different_scores_for_different_cells():
    report = failure(grading.check_proxy_function, lambda net, x, y: 1.0)
    assert [c.name for c in report.failures] == ["tells different cells apart"]


class Synflow(Estimator):
    """A proxy estimator built on the shipped ZeroCost one."""

    def __init__(self, data):
        self.data = data
        self._inner = nv.estimators.ZeroCost("synflow", data)

    def _evaluate(self, arch, parent=None, fidelity=None):
        return self._inner.evaluate(arch)


def test_check_proxy_passes_a_proxy_and_reports_baselines():
    report = grading.check_proxy(Synflow, reference="nb201-12epoch", sample_size=16, threshold=0.0, margin=None,
                                 baselines=("params",), quiet=True)
    d = report.details
    assert report.passed and d["reference_name"] == "nb201-12epoch" and len(d["scores"]) == 16
    assert d["baselines"]["params"] == pytest.approx(grading._spearman(
        [r.score for r in nv.estimators.ZeroCost("params", d_data()).evaluate_many(d["archs"])], d["reference"]))
    assert "Spearman rho" in report.checks[-1].message and "params:" in report.checks[-1].message


def d_data():
    return grading.proxy_data("nb201-12epoch")


def test_check_proxy_fails_below_the_threshold():
    report = failure(grading.check_proxy, Synflow, reference="nb201-12epoch", sample_size=16, threshold=0.99,
                     baselines=())
    assert "needed 0.99" in report.failures[-1].message


def test_check_proxy_explains_a_constant_proxy():
    class Constant(Estimator):
        def __init__(self, data):
            self.data = data

        def _evaluate(self, arch, parent=None, fidelity=None):
            return nv.Result(score=1.0)

    report = failure(grading.check_proxy, Constant, reference="nb201-12epoch", sample_size=8, baselines=())
    assert "the same score to every cell" in report.failures[-1].message


def test_check_proxy_catches_unseeded_networks():
    class Unseeded(Estimator):
        def __init__(self, data):
            self.data = data

        def _evaluate(self, arch, parent=None, fidelity=None):
            net = SPACE.build(arch, channels=4)  # draws its weights from torch's global generator
            return nv.Result(score=float(sum(p.detach().abs().sum() for p in net.parameters())))

    report = failure(grading.check_proxy, Unseeded, reference="nb201-12epoch", sample_size=8, baselines=())
    assert {"same cell, same score", "leaves global random state alone"} <= {c.name for c in report.failures}


def test_check_proxy_reports_an_unsolved_estimator_before_any_work():
    class Unsolved(Estimator):
        def __init__(self, data):
            self.data = data

        def _evaluate(self, arch, parent=None, fidelity=None):
            raise NotImplementedError("not solved yet: implement Unsolved._evaluate()")

    with pytest.raises(grading.NotSolvedError, match=r"implement Unsolved._evaluate\(\), then run"):
        grading.check_proxy(Unsolved, reference="training", quiet=True)  # would train 64 cells if it went on
    assert not any(key[0] == "training" and len(key[1]) == 64 for key in grading._REFERENCE_CACHE)


def test_check_proxy_wants_an_estimator():
    report = failure(grading.check_proxy, lambda data: (lambda arch: 1.0), reference="nb201-12epoch", sample_size=4)
    assert report.failures[0].name == "is an Estimator"


def test_proxy_sample_and_references():
    cells = grading.proxy_sample(6, seed=3)
    assert len(set(cells)) == 6 and cells == grading.proxy_sample(6, seed=3) != grading.proxy_sample(6, seed=4)
    table, data, name = grading.proxy_reference(cells, "nb201-12epoch")
    assert name == "nb201-12epoch" and data.input_shape == (1, 8, 8)
    assert table.tolist() == nv.bench.load("nb201-12epoch").query_many(cells, "cifar10_val_acc").tolist()
    trained, small, _ = grading.proxy_reference(cells[:3], "training")
    assert small.input_shape == (1, 4, 4) and np.all((trained >= 0) & (trained <= 1))
    assert grading.proxy_reference(cells[:3], "training")[0] is trained  # kept in memory, not trained again
    assert grading.proxy_reference_name() == "digits201"  # the truth of the data the proxy sees: see REFERENCES
    with pytest.raises(UnknownNameError, match="'training'"):
        grading.proxy_reference(cells, "cifar")


def test_the_checks_restore_torch_threads():
    before = torch.get_num_threads()
    grading.check_proxy_function(n_weights, quiet=True)
    assert torch.get_num_threads() == before


def test_check_mutation_works_on_other_spaces():
    macro = nv.MacroSpace(max_layers=2)

    def mutate(space, arch, seed=None):
        return space.mutate(arch, seed=seed)

    archs = [macro.sample(seed=s) for s in range(3)]
    report = grading.check_mutation(mutate, macro, allowed=lambda a: True, rule="valid", archs=archs, n_seeds=400,
                                    quiet=True)
    assert report.passed
