"""A1, a mutation operator: :func:`check_mutation`.

The checks are :data:`MUTATION_CHECKS`, small named functions over a
:class:`MutationCase` (the operator, its inputs, and what it returned for every
input and seed): to add a check, write ``def my_check(case) -> (passed, message)``
and add a :class:`~nasviz.course.report.Step` to the list.

Examples
--------
>>> import nasviz as nv
>>> import numpy as np
>>> def connected_mutate(space, arch, seed=None):
...     rng = np.random.default_rng(seed)
...     options = [n for n in space.neighbors(arch) if space.is_connected(n)]
...     return options[rng.integers(len(options))]
>>> report = check_mutation(connected_mutate, n_random=2, quiet=True)
>>> report.passed, len(report.checks)
(True, 7)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidArgumentError, check_positive_int
from .a1_spaces import why_connected
from .references import HAND_PICKED, default_space, hand_picked, random_cells
from .report import Prepare, Report, Step, call, display_name, run_checks
from .sandbox import Sandbox, leaves_global_state, rng_advice, sandbox

__all__ = ["MUTATION_CHECKS", "MutationCase", "check_mutation"]


def _diff(space, a, b) -> list[str]:
    """The decisions in which ``b`` differs from ``a``, as ``"<decision>: <old> -> <new>"``."""
    names = [d.name for d in space.decisions]
    return [f"{n}: {x} -> {y}" for n, x, y in zip(names, a.decisions, b.decisions) if x != y]


@dataclass
class MutationCase:
    """What :func:`check_mutation` checks, and the outputs of ``mutate`` on every input and seed."""

    report: Report
    mutate: object
    space: object
    allowed: object
    rule: str
    inputs: list
    legal: dict  # input -> its neighbours that satisfy the rule
    n_seeds: int
    seed: int
    box: Sandbox
    is_cell_space: bool
    outs: dict = field(default_factory=dict)  # input -> results for seeds 0 .. n_seeds - 1
    again: dict = field(default_factory=dict)  # input -> results for seeds 0 .. 4, a second time
    changed: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.report.title

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def unit(self) -> str:
        return "cell" if self.is_cell_space else "architecture"

    @property
    def step(self) -> str:
        if self.is_cell_space:
            return "changes exactly one edge"
        return "returns a neighbour (one of space.neighbors(arch))"

    def call(self, arch, s):
        shown = "<Generator>" if isinstance(s, np.random.Generator) else s
        return call(f"{self.name}(space, {arch}, seed={shown})", self.mutate, self.space, arch, seed=s)

    def random_advice(self, generators: str) -> str:
        return rng_advice(f"{self.name} drew from {generators}")


def run_mutations(c: MutationCase) -> None:
    c.box.mark()
    c.outs = {a: [c.call(a, s) for s in range(c.n_seeds)] for a in c.inputs}
    c.again = {a: [c.call(a, s) for s in range(5)] for a in c.inputs}
    c.changed = c.box.changed()


def returns_members(c: MutationCase):
    from ..spaces.base import Architecture

    for a, results in c.outs.items():
        for s, b in enumerate(results):
            if not isinstance(b, Architecture) or b not in c.space:
                return False, (f"{c.name}(space, {a}, seed={s}) returned {b!r} ({type(b).__name__}), "
                               f"which is not a member of {c.space!r}: return a cell such as "
                               "space.from_ops(ops) or one of space.neighbors(arch)")
    return True, ""


def changes_one_decision(c: MutationCase):
    for a, results in c.outs.items():
        around = set(c.space.neighbors(a))
        for s, b in enumerate(results):
            if b not in around:
                d = _diff(c.space, a, b)
                what = ("the input unchanged" if not d else
                        f"a {c.unit} that differs in {len(d)} {'edges' if c.is_cell_space else 'decisions'} "
                        f"({'; '.join(d)})")
                return False, (f"{c.name}(space, {a}, seed={s}) returned {what}: return one of "
                               f"space.neighbors(arch){', which change exactly one edge' if c.is_cell_space else ''}")
    return True, ""


def obeys_the_rule(c: MutationCase):
    for a, results in c.outs.items():
        for s, b in enumerate(results):
            if not c.allowed(b):
                why = f": {why_connected(b)}" if c.rule == "connected" else ""
                return False, (f"{c.name}(space, {a}, seed={s}) returned {b}, which is not {c.rule}{why}. "
                               f"Choose only among the neighbours that are {c.rule}.")
    return True, ""


def same_seed_same_result(c: MutationCase):
    for a in c.inputs:
        for s in range(5):
            if c.again[a][s] != c.outs[a][s]:
                return False, rng_advice(f"{c.name}(space, {a}, seed={s}) returned {c.outs[a][s]} the first "
                                         f"time and {c.again[a][s]} the second")
    return True, ""


def accepts_a_generator(c: MutationCase):
    from ..spaces.base import Architecture

    a = max(c.inputs, key=lambda x: len(c.legal[x]))
    rng = np.random.default_rng(c.seed)
    results = [c.call(a, rng) for _ in range(20)]
    bad = [b for b in results if not isinstance(b, Architecture) or b not in c.space]
    if bad:
        return False, (f"{c.name}(space, {a}, seed=<Generator>) returned {bad[0]!r}: with a "
                       "numpy.random.Generator as seed it must behave as with an int; "
                       "np.random.default_rng(seed) passes a Generator through")
    if len(set(results)) < 2:
        return False, (f"20 calls {c.name}(space, {a}, seed=rng) with one numpy Generator rng all returned "
                       f"{results[0]}: draw from the Generator you are given (rng = "
                       "np.random.default_rng(seed)), so that successive calls differ")
    return True, ""


def returns_every_neighbour(c: MutationCase):
    for a in c.inputs:
        got = set(c.outs[a])
        missing = [n for n in c.legal[a] if n not in got]
        if missing:
            return False, (f"from {a}, seeds 0..{c.n_seeds - 1} never gave {missing[0]} "
                           f"({'; '.join(_diff(c.space, a, missing[0]))}), one of its {len(c.legal[a])} {c.rule} "
                           f"neighbours ({len(missing)} missing). Every {c.rule} neighbour must be possible: "
                           "pick uniformly among all of them")
    return True, ""


#: The steps of :func:`check_mutation`, in report order.
MUTATION_CHECKS = (
    Prepare(run_mutations),
    Step("returns a member of the space ({c.n_inputs} inputs x {c.n_seeds} seeds)", returns_members,
         on_failure="skip"),
    Step("{c.step}", changes_one_decision),
    Step("never returns a {c.unit} that is not {c.rule}", obeys_the_rule),
    Step("same seed, same {c.unit}", same_seed_same_result),
    Step("leaves global random state alone", leaves_global_state),
    Step("accepts a numpy Generator as seed", accepts_a_generator),
    Step("can return every {c.rule} neighbour", returns_every_neighbour, needs=(changes_one_decision, obeys_the_rule)),
)


def _mutation_case(mutate, space, allowed, rule, archs, n_random, n_seeds, seed, box) -> MutationCase:
    from ..spaces.cell import CellSpace

    space = default_space(space)
    if allowed is None:
        allowed = getattr(space, "is_connected", None) or (lambda arch: True)
    check_positive_int("n_seeds", n_seeds)
    if archs is None:
        inputs = hand_picked(space, HAND_PICKED) + random_cells(space, n_random, seed)
    else:
        inputs = list(archs)
    legal = {a: [n for n in space.neighbors(a) if allowed(n)] for a in inputs}
    inputs = [a for a in inputs if legal[a]]  # a cell without a legal neighbour cannot be mutated
    if not inputs:
        raise InvalidArgumentError("no input architecture has a neighbour that satisfies the rule; pass other archs")
    return MutationCase(Report(display_name(mutate)), mutate, space, allowed, rule, inputs, legal, n_seeds, seed,
                        box, isinstance(space, CellSpace))


def check_mutation(mutate, space=None, *, allowed=None, rule: str = "connected", archs=None, n_random: int = 12,
                   n_seeds: int = 200, seed: int = 0, quiet: bool = False) -> Report:
    """Check a mutation operator ``mutate(space, arch, seed=None) -> arch``.

    The specification: the result is a member of ``space`` that differs from
    ``arch`` in exactly one decision (edge), satisfies the rule ``allowed`` (by
    default: the cell is connected, its input reaches its output), is the same for
    the same integer seed, comes from the ``numpy.random.Generator`` when one is
    passed as ``seed`` (never from global random state), and every neighbour that
    satisfies the rule can come out.

    Parameters
    ----------
    mutate : callable
        Called as ``mutate(space, arch, seed=s)``.
    space : Space, optional
        Default ``nv.CellSpace()``.
    allowed : callable, optional
        ``allowed(arch) -> bool``, the rule; default ``space.is_connected``.
    rule : str
        A word for what ``allowed`` means, used in the messages.
    archs : iterable, optional
        Input architectures; default: hand-picked cells plus ``n_random`` random ones.
    n_seeds : int
        Seeds ``0 .. n_seeds - 1`` tried per input for coverage.
    quiet : bool
        Do not print the report.

    Examples
    --------
    >>> import nasviz as nv
    >>> from nasviz.course import CheckFailed
    >>> def plain(space, arch, seed=None):    # the default mutation may disconnect the cell
    ...     return space.mutate(arch, seed=seed)
    >>> try:
    ...     check_mutation(plain, quiet=True)
    ... except CheckFailed as err:
    ...     print(err.report.failures[0].name)
    never returns a cell that is not connected
    """
    with sandbox() as box:
        case = _mutation_case(mutate, space, allowed, rule, archs, n_random, n_seeds, seed, box)
        return run_checks(case, MUTATION_CHECKS, quiet=quiet)
