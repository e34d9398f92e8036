"""The public hooks and their earlier names reach the most derived definition, for every caller."""

import nasviz as nv
from nasviz.estimators.base import Estimator, Result
from nasviz.strategies._common import is_member


class Shallow(nv.MacroSpace):
    """Under the earlier hook name, below a space that defines the public one."""

    def _valid(self, values):
        return values[0] == 1 and super()._valid(values)


class NoPooling(nv.CellSpace):
    def is_valid(self, values):
        return "avg_pool_3x3" not in values and super().is_valid(values)


def test_a_space_hook_under_either_name_is_the_one_every_caller_uses():
    shallow = Shallow(max_layers=2)
    deep = next(a for a in nv.MacroSpace(max_layers=2).enumerate() if a.depth == 2)
    assert not shallow.is_valid(tuple(deep.decisions)) and not shallow._valid(tuple(deep.decisions))
    assert not is_member(shallow, deep)  # strategies see the subclass's rule, not MacroSpace's
    space = NoPooling()
    assert space.restricted and not nv.CellSpace().restricted
    assert len(space) == 4 ** 6 and space._valid(tuple(space[0].decisions))
    assert all("avg_pool_3x3" not in a.ops for a in (space.sample(seed=s) for s in range(20)))


def test_an_estimator_hook_under_either_name_and_super_calls():
    class Old(Estimator):
        def _evaluate(self, arch, parent=None, fidelity=None):
            return Result(score=1.0)

        def _evaluate_many(self, archs, parents, fidelity=None):
            return [Result(score=2.0) for _ in archs]

    class Newer(Old):
        def evaluate_one(self, arch, parent=None, fidelity=None):
            return Result(score=super()._evaluate(arch).score + 10)

    arch = nv.CellSpace()[0]
    assert Old().evaluate(arch).score == 1.0 and Old().evaluate_one(arch).score == 1.0
    assert [r.score for r in Old().evaluate_many([arch, arch])] == [2.0, 2.0]
    assert Newer().evaluate(arch).score == 11.0 and Newer()._evaluate(arch).score == 11.0
    assert "must implement evaluate_one" in type("Bare", (Estimator,), {})().evaluate(arch).error
