"""A1, cells and search spaces: :func:`check_reaches_output` and :func:`check_space`.

(A1's mutation operator is checked by :func:`nasviz.course.a1_mutation.check_mutation`.)
Each check is a list of steps (:class:`~nasviz.course.report.Step`) over a case
that holds the student's object and what was computed from it: to add a check,
write ``def my_check(case) -> (passed, message)`` and add a ``Step`` to the list.

Examples
--------
>>> import nasviz as nv
>>> report = check_reaches_output(nv.CellSpace().is_connected, forbidden=(), quiet=True)
>>> [c.name for c in report.checks][:2]
['returns True or False', 'agrees with the definition on 9 hand-picked cells']
>>> why_connected(nv.CellSpace().from_ops(("none", "skip_connect", "none", "none", "none", "nor_conv_1x1")))
'the input reaches the output along 0 -(skip_connect)-> 2, 2 -(nor_conv_1x1)-> 3'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .references import HAND_PICKED, MORE_HAND_PICKED, count_members, default_space, hand_picked, random_cells
from .report import Prepare, Report, Step, call, display_name, run_checks
from .sandbox import CallWatch, sandbox

__all__ = ["FORBIDDEN_HELPERS", "SPACE_CHECKS", "ReachesCase", "helper_code", "SpaceCase", "check_reaches_output", "check_space", "reaches_output_checks",
           "why_connected"]


def why_connected(arch) -> str:
    """A sentence that proves (or refutes) that the input of cell ``arch`` reaches its output."""
    out = arch.nodes - 1
    parent = {0: None}
    for (i, j), op in zip(arch.edges, arch.ops):
        if op != "none" and i in parent and j not in parent:
            parent[j] = (i, op)
    if out in parent:
        steps, node = [], out
        while parent[node] is not None:
            i, op = parent[node]
            steps.append(f"{i} -({op})-> {node}")
            node = i
        return "the input reaches the output along " + ", ".join(reversed(steps))
    reached = sorted(parent)
    return (f"following only edges that are not 'none', node 0 reaches nodes {reached} and never the output "
            f"(node {out})")


# -- check_reaches_output -----------------------------------------------------------------------
#: The space methods that :func:`check_reaches_output` forbids by default: they answer the question the student's
#: function is to answer (``canonical`` writes a cell whose output is cut off as zero terms).
FORBIDDEN_HELPERS = ("is_connected", "is_disconnected", "canonical")


def helper_code(names: Sequence[str]) -> dict:
    """``code object -> "Class.name"`` for the methods ``names`` of every search space class (nasviz's and others')."""
    from ..spaces.base import Space

    code, todo, seen = {}, [Space], set()
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        for n in names:
            fn = vars(cls).get(n)
            fn = getattr(fn, "__func__", fn)
            if hasattr(fn, "__code__"):
                code.setdefault(fn.__code__, f"space.{n}")
    return code


@dataclass
class ReachesCase:
    """What :func:`check_reaches_output` checks: ``fn`` on groups of cells (label -> cells)."""

    report: Report
    fn: object
    space: object
    groups: list
    forbidden: tuple = FORBIDDEN_HELPERS
    first: object = None  # fn's answer for the first cell
    used: list = field(default_factory=list)  # forbidden helpers that fn called

    def __post_init__(self):
        self._code = helper_code(self.forbidden)

    def run(self, arch):
        """``fn(arch)``, watching for the forbidden helpers."""
        with CallWatch(self._code) as watch:
            got = call(f"{self.name}({arch})", self.fn, arch)
        self.used += [n for n in watch.names if n not in self.used]
        return got

    @property
    def name(self) -> str:
        return self.report.title


def call_on_first_cell(c: ReachesCase) -> None:
    c.first = c.run(c.groups[0][1][0])


def returns_bool(c: ReachesCase):
    if isinstance(c.first, (bool, np.bool_)):
        return True, ""
    return False, (f"{c.name}({c.groups[0][1][0]}) returned {c.first!r} of type {type(c.first).__name__}; "
                   "return True or False (e.g. return output in reached)")


def agrees_with_definition(c: ReachesCase, cells: list):
    wrong = []
    for arch in cells:
        got = c.run(arch)
        want = c.space.is_connected(arch)
        if bool(got) != want:
            wrong.append((arch, got, want))
    if not wrong:
        return True, ""
    arch, got, want = wrong[0]
    more = "" if len(wrong) == 1 else (
        " (1 more cell is wrong too)" if len(wrong) == 2 else f" ({len(wrong) - 1} more cells are wrong too)")
    return False, f"{c.name}({arch}) returned {got!r}, expected {want}: {why_connected(arch)}{more}"


def uses_no_forbidden_helper(c: ReachesCase):
    if not c.used:
        return True, ""
    return False, (f"{c.name} called {' and '.join(c.used)}, which this assignment asks you to implement yourself: "
                   "follow the edges whose op is not 'none' from node 0, using arch.edges, arch.ops and arch.nodes")


def reaches_output_checks(c: ReachesCase) -> list:
    """The steps of :func:`check_reaches_output`: a bool first, then one step per group of cells, then the
    helpers it must not call (when ``forbidden``)."""
    steps = [Prepare(call_on_first_cell), Step("returns True or False", returns_bool, on_failure="stop"),
             *(Step(label, agrees_with_definition, args=(cells,)) for label, cells in c.groups)]
    if c.forbidden:
        steps.append(Step(f"works it out itself (calls none of {', '.join('space.' + n for n in c.forbidden)})",
                          uses_no_forbidden_helper))
    return steps


def check_reaches_output(fn, space=None, *, archs=None, n_random: int = 200, seed: int = 0,
                         forbidden: Sequence[str] = FORBIDDEN_HELPERS, quiet: bool = False) -> Report:
    """Check ``fn(arch) -> bool``: does the cell's input reach its output?

    The definition: following only edges whose op is not ``"none"``, there is a
    path from node 0 to the last node (``CellSpace.is_connected``).

    Parameters
    ----------
    fn : callable
        The student's function, called as ``fn(arch)``.
    space : CellSpace, optional
        Default ``nv.CellSpace()``.
    archs : iterable of cells, optional
        Check these cells only (e.g. ``space.enumerate()`` for an exhaustive check).
    n_random, seed : int
        Without ``archs``: hand-picked cells plus ``n_random`` random ones.
    forbidden : sequence of str
        Space methods ``fn`` must not call (default :data:`FORBIDDEN_HELPERS`); a call
        to any of them, seen by :class:`~nasviz.course.sandbox.CallWatch` even when
        made through a method bound earlier, fails the check. ``()`` allows them.
    quiet : bool
        Do not print the report.

    Returns
    -------
    Report
        Raises :class:`CheckFailed` when a check fails.

    Examples
    --------
    >>> import nasviz as nv
    >>> from nasviz.course import CheckFailed
    >>> def wrong(arch):                      # an edge into the output is not enough
    ...     return any(op != "none" for (i, j), op in zip(arch.edges, arch.ops) if j == arch.nodes - 1)
    >>> try:
    ...     check_reaches_output(wrong, quiet=True)
    ... except CheckFailed as err:
    ...     print(err.report.failures[0].message)     # doctest: +ELLIPSIS
    wrong(|none~0|+|none~0|nor_conv_3x3~1|+|none~0|nor_conv_3x3~1|nor_conv_3x3~2|) returned True, expected False: ...
    """
    space = default_space(space)
    if archs is not None:
        groups = [("agrees with the definition on {n} given cells", list(archs))]
    else:
        groups = [("agrees with the definition on {n} hand-picked cells", hand_picked(space, HAND_PICKED)),
                  ("agrees with the definition on {n} random cells", random_cells(space, n_random, seed)),
                  ("agrees with the definition on {n} more hand-picked cells", hand_picked(space, MORE_HAND_PICKED))]
    groups = [(label.format(n=len(cells)), cells) for label, cells in groups if cells]
    case = ReachesCase(Report(display_name(fn)), fn, space, groups, tuple(forbidden))
    with sandbox():
        return run_checks(case, reaches_output_checks(case), quiet=quiet)


# -- check_space --------------------------------------------------------------------------------
@dataclass
class SpaceCase:
    """What :func:`check_space` checks: the student's ``space`` against the members of ``base`` that obey a rule."""

    report: Report
    space: object
    base: object
    allowed: object
    rule: str
    archs: object
    cells: list = field(default_factory=list)

    @property
    def n_cells(self) -> int:
        return len(self.cells)


def is_a_space(c: SpaceCase):
    from ..spaces.base import Space

    if not isinstance(c.space, Space):
        return False, f"got {c.space!r}; subclass nv.CellSpace (or nasviz.spaces.Space) and create an instance"
    return True, ""


def choose_cells(c: SpaceCase) -> None:
    from ..spaces.cell import CellSpace

    c.base = c.base if c.base is not None else CellSpace(nodes=getattr(c.space, "nodes", 4))
    c.allowed = c.allowed or c.base.is_connected
    c.cells = list(c.archs) if c.archs is not None else (
        hand_picked(c.base, HAND_PICKED + MORE_HAND_PICKED) + random_cells(c.base, 40, 1))


def membership_follows_rule(c: SpaceCase):
    for a in c.cells:
        inside = call(f"{a} in space", c.space.__contains__, a)
        if bool(inside) != c.allowed(a):
            why = f" ({why_connected(a)})" if c.rule == "connected" else ""
            if inside:
                return False, (f"{a} in space is True, but the cell is not {c.rule}{why}. "
                               "Make _valid(values) return False for it")
            return False, (f"{a} in space is False, but the cell is {c.rule}{why}. "
                           "Make _valid(values) return True for it")
    return True, ""


def length_counts_members(c: SpaceCase):
    want = count_members(c.base, c.allowed)
    got = call("len(space)", len, c.space)
    if got != want:
        return False, (f"len(space) is {got}, expected {want} (the {c.rule} members of {c.base!r}); "
                       "len counts the decision tuples for which _valid(values) is True")
    return True, ""


def sample_returns_members(c: SpaceCase):
    for s in range(30):
        a = call(f"space.sample(seed={s})", c.space.sample, seed=s)
        if a not in c.base or not c.allowed(a):
            return False, f"space.sample(seed={s}) returned {a}, which is not {c.rule}"
        if call(f"space.sample(seed={s})", c.space.sample, seed=s) != a:
            return False, f"space.sample(seed={s}) gave different cells on two calls"
    return True, ""


def moves_stay_inside(c: SpaceCase):
    for a in [x for x in c.cells if c.allowed(x)][:12]:
        got = call(f"space.neighbors({a})", c.space.neighbors, a)
        want = [n for n in c.base.neighbors(a) if c.allowed(n)]
        if sorted(map(str, got)) != sorted(map(str, want)):
            extra = [n for n in got if n not in want]
            lost = [n for n in want if n not in got]
            example = (f"it includes {extra[0]}, which is not {c.rule}" if extra
                       else f"it lacks {lost[0]}, which is {c.rule}")
            return False, f"space.neighbors({a}) has {len(got)} cells, expected {len(want)}: {example}"
        for s in range(5):
            m = call(f"space.mutate({a}, seed={s})", c.space.mutate, a, seed=s)
            if not c.allowed(m):
                return False, f"space.mutate({a}, seed={s}) returned {m}, which is not {c.rule}"
    return True, ""


#: The steps of :func:`check_space`, in report order.
SPACE_CHECKS = (
    Step("is a nasviz Space", is_a_space, on_failure="stop"),
    Prepare(choose_cells),
    Step("membership follows the rule on {c.n_cells} cells", membership_follows_rule),
    Step("len(space) counts the {c.rule} cells", length_counts_members),
    Step("sample() returns members, same seed same cell", sample_returns_members),
    Step("neighbors() and mutate() stay inside the space", moves_stay_inside),
)


def check_space(space, *, base=None, allowed=None, rule: str = "connected", archs=None, quiet: bool = False) -> Report:
    """Check a search space that keeps the members of ``base`` satisfying a rule.

    For example a ``CellSpace`` subclass whose ``_valid`` hook keeps only connected
    cells: its ``len``, membership, ``sample``, ``neighbors`` and ``mutate`` must all
    follow the rule.

    Parameters
    ----------
    space : Space
        The student's space (an instance).
    base : Space, optional
        The space it restricts; default ``nv.CellSpace(nodes=space.nodes)``.
    allowed : callable, optional
        The rule, ``allowed(arch) -> bool``; default ``base.is_connected``.
    quiet : bool
        Do not print the report.

    Examples
    --------
    >>> import nasviz as nv
    >>> from nasviz.course import CheckFailed
    >>> class NoPooling(nv.CellSpace):            # cells without average pooling
    ...     def _valid(self, values):
    ...         return "avg_pool_3x3" not in values
    >>> def no_pool(arch):
    ...     return "avg_pool_3x3" not in arch.ops
    >>> check_space(NoPooling(), allowed=no_pool, rule="free of pooling", quiet=True).passed
    True
    >>> try:                                      # the plain space has pooling cells too
    ...     check_space(nv.CellSpace(), allowed=no_pool, rule="free of pooling", quiet=True)
    ... except CheckFailed as err:
    ...     print(err.report.summary())
    CellSpace: 1 of 5 checks passed
    """
    case = SpaceCase(Report(type(space).__name__), space, base, allowed, rule, archs)
    with sandbox():
        return run_checks(case, SPACE_CHECKS, quiet=quiet)
