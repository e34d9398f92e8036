"""Checks for graded assignments, with reports a student can act on.

Each ``check_*`` function runs a student's code against a specification and
returns a :class:`Report`: one line per check, passed or failed, and for each
failure what was expected, an input that fails and how to fix it. The report is
printed. When a check fails the function raises :class:`CheckFailed` (an
``AssertionError``), so that nbgrader, nbval and pytest see the failure, while
Jupyter shows a one-line summary under the printed report instead of a traceback.
Code that still raises ``NotImplementedError`` (an unsolved part of a student
notebook) gives a short "not solved yet: implement ..." report.

The checks of the course's assignments (``notebooks/assignments``):

- A1, a mutation operator and a new search space: :func:`check_reaches_output`,
  :func:`check_mutation`, :func:`check_space`;
- A2, a search strategy: :func:`check_strategy`, :func:`check_beats_random`;
- A3, a zero-cost proxy: :func:`check_proxy_function`, :func:`check_proxy`
  (against :func:`proxy_reference` on :func:`proxy_sample`).

All checks are deterministic: fixed inputs, fixed seeds.

Examples
--------
>>> import nasviz as nv
>>> from nasviz import grading
>>> space = nv.CellSpace()
>>> report = grading.check_reaches_output(space.is_connected)
CellSpace.is_connected: all 4 checks passed
  ✓ returns True or False
  ✓ agrees with the definition on 9 hand-picked cells
  ✓ agrees with the definition on 200 random cells
  ✓ agrees with the definition on 6 more hand-picked cells
>>> report.passed
True
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .errors import InvalidArgumentError, check_choice

__all__ = [
    "REFERENCES",
    "Check",
    "CheckFailed",
    "NotSolvedError",
    "Report",
    "check_beats_random",
    "check_mutation",
    "check_proxy",
    "check_proxy_function",
    "check_reaches_output",
    "check_space",
    "check_strategy",
    "proxy_data",
    "proxy_reference",
    "proxy_reference_name",
    "proxy_sample",
]

PASS, FAIL, SKIP = "✓", "✗", "-"


# -- reports -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """One check of a report: its name, ``passed`` (``None``: skipped) and a message."""

    name: str
    passed: bool | None
    message: str = ""


class CheckFailed(AssertionError):
    """A check failed. ``report`` holds every check and what to fix.

    In Jupyter the error shows as one line under the printed report (no traceback);
    ``str(err)`` holds the whole report for logs, nbgrader and pytest.
    """

    def __init__(self, report: Report, printed: bool = False):
        self.report = report
        self.printed = printed
        text = str(report)
        super().__init__(text if report.not_solved is not None else f"{report.summary()}\n{text}")

    def _render_traceback_(self) -> list[str]:  # IPython: show this instead of a traceback
        if self.report.not_solved is not None:
            return [f"{type(self).__name__}: {self.report.summary()}"]
        if self.printed:
            return [f"{type(self).__name__}: {self.report.summary()}",
                    "(the report above says what was expected and how to fix it)"]
        return [f"{type(self).__name__}: {self.report.summary()}", *str(self.report).splitlines()[1:]]


class NotSolvedError(CheckFailed):
    """The code under test still raises ``NotImplementedError``: that part is not solved yet."""


class Report:
    """The outcome of a ``check_*`` function: checks passed, failed or skipped.

    Attributes
    ----------
    title : str
        What was checked (usually the name of the student's function or class).
    checks : list of Check
    details : dict
        Numbers the check computed (e.g. regrets, correlations), for plots and tables.
    not_solved : str or None
        Set when the code under test still raises ``NotImplementedError``.

    Examples
    --------
    >>> r = Report("demo")
    >>> r.add("adds up", 1 + 1 == 2)
    >>> r.add("is odd", 2 % 2 == 1, "2 is even: try 3")
    >>> print(r)
    demo: 1 of 2 checks passed
      ✓ adds up
      ✗ is odd
          2 is even: try 3
    >>> r.passed
    False
    """

    def __init__(self, title: str):
        self.title = title
        self.checks: list[Check] = []
        self.details: dict = {}
        self.not_solved: str | None = None

    def add(self, name: str, passed: bool | None, message: str = "") -> None:
        """Record one check (``passed=None`` marks it skipped)."""
        self.checks.append(Check(name, None if passed is None else bool(passed), message))

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.passed is False]

    @property
    def passed(self) -> bool:
        """True when nothing failed, nothing is unsolved, and at least one check ran."""
        return self.not_solved is None and not self.failures and any(c.passed for c in self.checks)

    def summary(self) -> str:
        if self.not_solved is not None:
            return f"{self.title}: {self.not_solved}"
        ran = [c for c in self.checks if c.passed is not None]
        ok = sum(1 for c in ran if c.passed)
        if ran and ok == len(ran):
            return f"{self.title}: " + {1: "the check passed", 2: "both checks passed"}.get(ok, f"all {ok} checks passed")
        return f"{self.title}: {ok} of {len(ran)} checks passed"

    def __str__(self) -> str:
        lines = [self.summary()]
        if self.not_solved is not None:
            return lines[0]
        for c in self.checks:
            mark = SKIP if c.passed is None else PASS if c.passed else FAIL
            lines.append(f"  {mark} {c.name}")
            for text in c.message.splitlines():
                lines.append(f"      {text}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Report {self.summary()!r}>"

    def finish(self, quiet: bool = False) -> Report:
        """Print the report (unless ``quiet``); raise :class:`CheckFailed` if anything failed.

        An unsolved report is not printed: :class:`NotSolvedError` carries its one line.
        """
        if self.not_solved is not None:  # one line says it all: the error itself
            raise NotSolvedError(self)
        if not quiet:
            print(self)
        if not self.passed:
            raise CheckFailed(self, printed=not quiet)
        return self


# -- running student code ---------------------------------------------------------------------
class _Raised(Exception):
    """Student code raised something other than NotImplementedError; the message names the call."""


def _short(qualname: str) -> str:
    """``f.<locals>.g`` -> ``g``: the name as the student wrote it."""
    return qualname.rsplit("<locals>.", 1)[-1]


def _name(obj) -> str:
    return _short(getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__name__)


def _raiser(err: BaseException) -> str:
    """The qualified name of the function that raised ``err`` (its innermost frame)."""
    tb = err.__traceback__
    if tb is None:
        return "your code"
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return _short(getattr(code, "co_qualname", code.co_name))


def _not_solved_message(err: NotImplementedError) -> str:
    text = str(err)
    if text.startswith("not solved yet"):
        return f"{text}, then run this check again"
    return f"not solved yet: implement {_raiser(err)}() (it raises NotImplementedError), then run this check again"


def _call(desc: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``; an exception (other than NotImplementedError) becomes ``_Raised``
    whose message names the call ``desc``."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except (KeyboardInterrupt, SystemExit, CheckFailed):
        raise
    except RecursionError as err:
        raise _Raised(f"{desc} raised RecursionError: a function calls itself without end. Inside a space's "
                      "_valid(values), do not call methods that check membership (such as is_connected or "
                      "'arch in self'): membership calls _valid again") from err
    except Exception as err:
        raise _Raised(f"{desc} raised {type(err).__name__}" + (f": {err}" if str(err) else "")) from err


def _run(report: Report, body: Callable[[Report], None], *, quiet: bool = False) -> Report:
    """Run the checks in ``body``; NotImplementedError marks the report not solved."""
    try:
        body(report)
    except NotImplementedError as err:
        report.not_solved = _not_solved_message(err)
    except _Raised as err:
        report.add("runs without an error", False, str(err))
    return report.finish(quiet=quiet)


def _attempt(report: Report, name: str, fn: Callable[[], tuple[bool, str]]) -> bool:
    """Run one check ``fn() -> (passed, message)``; student exceptions become its failure."""
    try:
        passed, message = fn()
    except _Raised as err:
        passed, message = False, str(err)
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - e.g. an unexpected return value that the check cannot use
        passed, message = False, f"the check could not run: {type(err).__name__}: {err}"
    report.add(name, passed, message)
    return bool(passed)


class _GlobalRandomState:
    """Snapshots of Python's, numpy's (and torch's, if loaded) global generators."""

    def __init__(self, torch_too: bool = False):
        self.py = random.getstate()
        self.np = np.random.get_state()
        self.torch = None
        if torch_too:
            import torch

            self.torch = torch.random.get_rng_state()

    def changed(self) -> list[str]:
        now = _GlobalRandomState(torch_too=self.torch is not None)
        out = []
        if now.py != self.py:
            out.append("Python's random module")
        if not (now.np[0] == self.np[0] and np.array_equal(now.np[1], self.np[1]) and now.np[2:] == self.np[2:]):
            out.append("numpy's global generator (np.random.*)")
        if self.torch is not None and not bool((now.torch == self.torch).all()):
            out.append("torch's global generator (torch.rand*, torch.manual_seed, nn.Module initialisation)")
        return out


@contextmanager
def _one_thread():
    """torch on one thread while a check runs (restored after): small networks run fastest that way, and a
    machine shared with other work does not make the threads wait on each other."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _rng_advice(what: str) -> str:
    return (f"{what}: every random choice must come from the generator made from the seed, "
            "e.g. rng = np.random.default_rng(seed); rng.integers(...)")


# -- A1: cells, connectivity, mutation, spaces ---------------------------------------------------
# edges of a 4-node cell, in NAS-Bench-201 order: 0->1, 0->2, 1->2, 0->3, 1->3, 2->3
_HAND_PICKED = (
    ("none", "none", "none", "none", "none", "none"),                          # nothing at all
    ("none", "none", "none", "nor_conv_3x3", "none", "none"),                  # one edge, input to output
    ("nor_conv_3x3", "none", "skip_connect", "none", "none", "avg_pool_3x3"),  # the long way 0->1->2->3
    ("none", "none", "nor_conv_3x3", "none", "nor_conv_3x3", "nor_conv_3x3"),  # edges into 3 from unreached nodes
    ("nor_conv_3x3", "none", "none", "none", "none", "skip_connect"),          # 1 is a dead end, 2 unreached
    ("none", "skip_connect", "nor_conv_1x1", "none", "none", "nor_conv_1x1"),  # only through node 2
    ("avg_pool_3x3", "none", "none", "none", "skip_connect", "none"),          # only through node 1
    ("nor_conv_3x3",) * 6,
    ("nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_3x3", "skip_connect"),
)
_MORE_HAND_PICKED = (
    ("skip_connect", "none", "none", "none", "none", "none"),                  # reaches 1, stops
    ("none", "none", "avg_pool_3x3", "none", "none", "avg_pool_3x3"),          # 1->2->3 but 0 feeds nothing
    ("none", "avg_pool_3x3", "none", "none", "none", "none"),                  # reaches 2, stops
    ("none", "nor_conv_1x1", "none", "none", "none", "skip_connect"),          # 0->2->3
    ("nor_conv_1x1", "none", "none", "none", "nor_conv_1x1", "none"),          # 0->1->3
    ("none", "none", "none", "skip_connect", "none", "none"),                  # a plain identity
)


def _default_space(space):
    if space is None:
        from .spaces import CellSpace

        return CellSpace()
    return space


def _cells(space, ops_list) -> list:
    """The hand-picked cells, for a 4-node cell space with NAS-Bench-201's ops (none for other spaces)."""
    from .spaces.cell import NB201_OPS

    if getattr(space, "nodes", None) != 4 or tuple(getattr(space, "ops", ())) != NB201_OPS:
        return []
    return [space.from_ops(ops) for ops in ops_list]


def _random_cells(space, n: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    out, seen = [], set()
    while len(out) < min(n, len(space)):
        arch = space.sample(seed=rng)
        if arch not in seen:
            seen.add(arch)
            out.append(arch)
    return out


def _reached(arch) -> set:
    """Nodes the cell input reaches through non-``none`` edges."""
    reach = {0}
    for (i, j), op in zip(arch.edges, arch.ops):  # edges come in topological order
        if op != "none" and i in reach:
            reach.add(j)
    return reach


def _why_connected(arch) -> str:
    """A sentence that proves (or refutes) that the input reaches the output."""
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


def _diff(space, a, b) -> list[str]:
    """The decisions in which ``b`` differs from ``a``, as ``"<decision>: <old> -> <new>"``."""
    names = [d.name for d in space.decisions]
    return [f"{n}: {x} -> {y}" for n, x, y in zip(names, a.decisions, b.decisions) if x != y]


def check_reaches_output(fn, space=None, *, archs=None, n_random: int = 200, seed: int = 0,
                         quiet: bool = False) -> Report:
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
    quiet : bool
        Do not print the report.

    Returns
    -------
    Report
        Raises :class:`CheckFailed` when a check fails.

    Examples
    --------
    >>> import nasviz as nv
    >>> def wrong(arch):                      # an edge into the output is not enough
    ...     return any(op != "none" for (i, j), op in zip(arch.edges, arch.ops) if j == arch.nodes - 1)
    >>> try:
    ...     check_reaches_output(wrong, quiet=True)
    ... except CheckFailed as err:
    ...     print(err.report.failures[0].message)     # doctest: +ELLIPSIS
    wrong(|none~0|+|none~0|nor_conv_3x3~1|+|none~0|nor_conv_3x3~1|nor_conv_3x3~2|) returned True, expected False: ...
    """
    space = _default_space(space)
    name = _name(fn)
    if archs is not None:
        groups = [("agrees with the definition on {n} given cells", list(archs))]
    else:
        groups = [("agrees with the definition on {n} hand-picked cells", _cells(space, _HAND_PICKED)),
                  ("agrees with the definition on {n} random cells", _random_cells(space, n_random, seed)),
                  ("agrees with the definition on {n} more hand-picked cells", _cells(space, _MORE_HAND_PICKED))]
    groups = [(label, cells) for label, cells in groups if cells]

    def body(report):
        first = groups[0][1][0]
        value = _call(f"{name}({first})", fn, first)

        def returns_bool():
            if isinstance(value, (bool, np.bool_)):
                return True, ""
            return False, (f"{name}({first}) returned {value!r} of type {type(value).__name__}; "
                           "return True or False (e.g. return output in reached)")

        if not _attempt(report, "returns True or False", returns_bool):
            return
        for label, cells in groups:
            def agrees(cells=cells):
                wrong = []
                for arch in cells:
                    got = _call(f"{name}({arch})", fn, arch)
                    want = space.is_connected(arch)
                    if bool(got) != want:
                        wrong.append((arch, got, want))
                if not wrong:
                    return True, ""
                arch, got, want = wrong[0]
                more = "" if len(wrong) == 1 else (
                    " (1 more cell is wrong too)" if len(wrong) == 2 else f" ({len(wrong) - 1} more cells are wrong too)")
                return False, (f"{name}({arch}) returned {got!r}, expected {want}: {_why_connected(arch)}{more}")

            _attempt(report, label.format(n=len(cells)), agrees)

    return _run(Report(name), body, quiet=quiet)


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
    >>> def plain(space, arch, seed=None):    # the default mutation may disconnect the cell
    ...     return space.mutate(arch, seed=seed)
    >>> try:
    ...     check_mutation(plain, quiet=True)
    ... except CheckFailed as err:
    ...     print(err.report.failures[0].name)
    never returns a cell that is not connected
    """
    space = _default_space(space)
    if allowed is None:
        allowed = getattr(space, "is_connected", None) or (lambda arch: True)
    _positive("n_seeds", n_seeds)
    name = _name(mutate)
    from .spaces.cell import CellSpace

    cells = isinstance(space, CellSpace)
    unit = "cell" if cells else "architecture"
    step = "changes exactly one edge" if cells else "returns a neighbour (one of space.neighbors(arch))"
    inputs = list(archs) if archs is not None else (_cells(space, _HAND_PICKED) + _random_cells(space, n_random, seed))
    legal = {a: [n for n in space.neighbors(a) if allowed(n)] for a in inputs}
    inputs = [a for a in inputs if legal[a]]  # a cell without a legal neighbour cannot be mutated
    if not inputs:
        raise InvalidArgumentError("no input architecture has a neighbour that satisfies the rule; pass other archs")

    def call(arch, s):
        shown = "<Generator>" if isinstance(s, np.random.Generator) else s
        return _call(f"{name}(space, {arch}, seed={shown})", mutate, space, arch, seed=s)

    def body(report):
        state = _GlobalRandomState()
        outs = {a: [call(a, s) for s in range(n_seeds)] for a in inputs}
        again = {a: [call(a, s) for s in range(5)] for a in inputs}
        changed = state.changed()
        from .spaces.base import Architecture

        def members():
            for a, results in outs.items():
                for s, b in enumerate(results):
                    if not isinstance(b, Architecture) or b not in space:
                        return False, (f"{name}(space, {a}, seed={s}) returned {b!r} ({type(b).__name__}), "
                                       f"which is not a member of {space!r}: return a cell such as "
                                       "space.from_ops(ops) or one of space.neighbors(arch)")
            return True, ""

        def one_change():
            for a, results in outs.items():
                around = set(space.neighbors(a))
                for s, b in enumerate(results):
                    if b not in around:
                        d = _diff(space, a, b)
                        what = ("the input unchanged" if not d else
                                f"a {unit} that differs in {len(d)} {'edges' if cells else 'decisions'} "
                                f"({'; '.join(d)})")
                        return False, (f"{name}(space, {a}, seed={s}) returned {what}: return one of "
                                       f"space.neighbors(arch){', which change exactly one edge' if cells else ''}")
            return True, ""

        def obeys():
            for a, results in outs.items():
                for s, b in enumerate(results):
                    if not allowed(b):
                        why = f": {_why_connected(b)}" if rule == "connected" else ""
                        return False, (f"{name}(space, {a}, seed={s}) returned {b}, which is not {rule}{why}. "
                                       f"Choose only among the neighbours that are {rule}.")
            return True, ""

        def deterministic():
            for a in inputs:
                for s in range(5):
                    if again[a][s] != outs[a][s]:
                        return False, _rng_advice(f"{name}(space, {a}, seed={s}) returned {outs[a][s]} the first "
                                                  f"time and {again[a][s]} the second")
            return True, ""

        def global_state():
            if changed:
                return False, _rng_advice(f"{name} drew from {' and '.join(changed)}")
            return True, ""

        def generator():
            a = max(inputs, key=lambda x: len(legal[x]))
            rng = np.random.default_rng(seed)
            results = [call(a, rng) for _ in range(20)]
            bad = [b for b in results if not isinstance(b, Architecture) or b not in space]
            if bad:
                return False, (f"{name}(space, {a}, seed=<Generator>) returned {bad[0]!r}: with a "
                               "numpy.random.Generator as seed it must behave as with an int; "
                               "np.random.default_rng(seed) passes a Generator through")
            if len(set(results)) < 2:
                return False, (f"20 calls {name}(space, {a}, seed=rng) with one numpy Generator rng all returned "
                               f"{results[0]}: draw from the Generator you are given (rng = "
                               "np.random.default_rng(seed)), so that successive calls differ")
            return True, ""

        def coverage():
            for a in inputs:
                got = set(outs[a])
                missing = [n for n in legal[a] if n not in got]
                if missing:
                    return False, (f"from {a}, seeds 0..{n_seeds - 1} never gave {missing[0]} "
                                   f"({'; '.join(_diff(space, a, missing[0]))}), one of its {len(legal[a])} {rule} "
                                   f"neighbours ({len(missing)} missing). Every {rule} neighbour must be possible: "
                                   "pick uniformly among all of them")
            return True, ""

        if not _attempt(report, f"returns a member of the space ({len(inputs)} inputs x {n_seeds} seeds)",
                        members):
            for label in (step, f"never returns a {unit} that is not {rule}",
                          f"same seed, same {unit}", "leaves global random state alone",
                          "accepts a numpy Generator as seed", f"can return every {rule} neighbour"):
                report.add(label, None, "skipped: fix the check above first")
            return
        ok = _attempt(report, step, one_change)
        ok = _attempt(report, f"never returns a {unit} that is not {rule}", obeys) and ok
        _attempt(report, f"same seed, same {unit}", deterministic)
        _attempt(report, "leaves global random state alone", global_state)
        _attempt(report, "accepts a numpy Generator as seed", generator)
        if ok:
            _attempt(report, f"can return every {rule} neighbour", coverage)
        else:
            report.add(f"can return every {rule} neighbour", None, "skipped: fix the checks above first")

    return _run(Report(name), body, quiet=quiet)


def _positive(what: str, value) -> int:
    from .errors import check_positive_int

    return check_positive_int(what, value)


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
    from .spaces.base import Space
    from .spaces.cell import CellSpace

    title = type(space).__name__

    def body(report):
        if not isinstance(space, Space):
            report.add("is a nasviz Space", False,
                       f"got {space!r}; subclass nv.CellSpace (or nasviz.spaces.Space) and create an instance")
            return
        report.add("is a nasviz Space", True)
        b = base if base is not None else CellSpace(nodes=getattr(space, "nodes", 4))
        rule_fn = allowed or b.is_connected
        cells = list(archs) if archs is not None else _cells(b, _HAND_PICKED + _MORE_HAND_PICKED) + _random_cells(
            b, 40, 1)

        def membership():
            for a in cells:
                inside = _call(f"{a} in space", space.__contains__, a)
                if bool(inside) != rule_fn(a):
                    why = f" ({_why_connected(a)})" if rule == "connected" else ""
                    if inside:
                        return False, (f"{a} in space is True, but the cell is not {rule}{why}. "
                                       "Make _valid(values) return False for it")
                    return False, (f"{a} in space is False, but the cell is {rule}{why}. "
                                   "Make _valid(values) return True for it")
            return True, ""

        def length():
            want = _count_members(b, rule_fn)
            got = _call("len(space)", len, space)
            if got != want:
                return False, (f"len(space) is {got}, expected {want} (the {rule} members of {b!r}); "
                               "len counts the decision tuples for which _valid(values) is True")
            return True, ""

        def sampling():
            for s in range(30):
                a = _call(f"space.sample(seed={s})", space.sample, seed=s)
                if a not in b or not rule_fn(a):
                    return False, f"space.sample(seed={s}) returned {a}, which is not {rule}"
                if _call(f"space.sample(seed={s})", space.sample, seed=s) != a:
                    return False, f"space.sample(seed={s}) gave different cells on two calls"
            return True, ""

        def moves():
            for a in [c for c in cells if rule_fn(c)][:12]:
                got = _call(f"space.neighbors({a})", space.neighbors, a)
                want = [n for n in b.neighbors(a) if rule_fn(n)]
                if sorted(map(str, got)) != sorted(map(str, want)):
                    extra = [n for n in got if n not in want]
                    lost = [n for n in want if n not in got]
                    example = (f"it includes {extra[0]}, which is not {rule}" if extra
                               else f"it lacks {lost[0]}, which is {rule}")
                    return False, f"space.neighbors({a}) has {len(got)} cells, expected {len(want)}: {example}"
                for s in range(5):
                    m = _call(f"space.mutate({a}, seed={s})", space.mutate, a, seed=s)
                    if not rule_fn(m):
                        return False, f"space.mutate({a}, seed={s}) returned {m}, which is not {rule}"
            return True, ""

        _attempt(report, f"membership follows the rule on {len(cells)} cells", membership)
        _attempt(report, f"len(space) counts the {rule} cells", length)
        _attempt(report, "sample() returns members, same seed same cell", sampling)
        _attempt(report, "neighbors() and mutate() stay inside the space", moves)

    return _run(Report(title), body, quiet=quiet)


_COUNTS: dict = {}


def _count_members(base, rule_fn) -> int:
    key = (repr(base), getattr(rule_fn, "__qualname__", None)) if getattr(rule_fn, "__self__", None) is base else None
    if key is not None and key in _COUNTS:
        return _COUNTS[key]
    n = sum(1 for a in base.enumerate() if rule_fn(a))
    if key is not None:
        _COUNTS[key] = n
    return n


# -- A2: strategies -------------------------------------------------------------------------------
def _table(bench, metric):
    from .bench import Benchmark, load

    if isinstance(bench, str):
        bench = load(bench)
    if not isinstance(bench, Benchmark):
        raise InvalidArgumentError(f"bench must be a table name such as 'nb201-12epoch' or a Benchmark, got {bench!r}")
    metric = metric or bench.default_metric
    check_choice("metric", metric, bench.metrics)
    return bench, metric


def _make(make_strategy, space, seed):
    return _call(f"{_name(make_strategy)}(space, seed={seed})", make_strategy, space, seed=seed)


def _drive(strategy, space, estimator, rounds: int, label: str) -> list:
    """Ask/tell ``rounds`` times with table scores; the asked architectures in order."""
    asked = []
    for k in range(rounds):
        arch = _call(f"{label}.ask() (ask number {k + 1})", strategy.ask)
        asked.append(arch)
        if arch not in space:
            break
        result = estimator.evaluate(arch)
        _call(f"{label}.tell({arch}, Result(score={result.score:.4f}))", strategy.tell, arch, result)
    return asked


def check_strategy(make_strategy, *, bench="nb201-12epoch", metric: str | None = None, quiet: bool = False) -> Report:
    """Check that a strategy keeps the ask/tell contract of :class:`nasviz.strategies.Strategy`.

    Checks: it is a ``Strategy`` built as ``make_strategy(space, seed=s)``; ``ask()``
    returns members of the space; the same seed gives the same asks for the same
    results; it draws only from its own generator ``rng_`` (global random state
    untouched); a failed result can be told; several asks may be pending and told
    in any order; and it runs through :class:`nasviz.Search`, sequentially and with
    4 workers, without getting stuck on repeats.

    Parameters
    ----------
    make_strategy : callable
        Usually the class: ``make_strategy(space, seed=s)`` returns a new strategy.
    bench, metric
        The table whose scores are told (default ``"nb201-12epoch"``, its default metric).
    quiet : bool
        Do not print the report.

    Examples
    --------
    >>> import nasviz as nv
    >>> report = check_strategy(nv.strategies.RandomSearch, quiet=True)
    >>> report.passed
    True
    """
    from .estimators.base import Result
    from .estimators.tabular import Tabular
    from .strategies.base import Strategy

    bench, metric = _table(bench, metric)
    space = bench.space
    est = Tabular(bench, metric=metric)
    name = _name(make_strategy)

    def body(report):
        strategy = _make(make_strategy, space, 0)

        def is_strategy():
            if not isinstance(strategy, Strategy):
                return False, (f"{name}(space, seed=0) made {strategy!r}; subclass nasviz.strategies.Strategy and "
                               "call super().__init__(space, seed=seed) first in __init__")
            if not isinstance(getattr(strategy, "rng_", None), np.random.Generator):
                return False, "strategy.rng_ is not a numpy Generator: call super().__init__(space, seed=seed)"
            return True, ""

        if not _attempt(report, "is a Strategy with its own generator rng_", is_strategy):
            return
        state = _GlobalRandomState()
        asked = _drive(strategy, space, est, 40, name)
        changed = state.changed()

        def members():
            for k, a in enumerate(asked):
                if a not in space:
                    return False, (f"ask number {k + 1} returned {a!r} ({type(a).__name__}), not a member of "
                                   f"{space!r}: return architectures such as space.sample(seed=self.rng_) or "
                                   "space.mutate(parent, seed=self.rng_)")
            return True, ""

        if not _attempt(report, "ask() returns members of the space (40 asks)", members):
            return

        def reproducible():
            first = _drive(_make(make_strategy, space, 3), space, est, 40, name)
            second = _drive(_make(make_strategy, space, 3), space, est, 40, name)
            for k, (a, b) in enumerate(zip(first, second)):
                if a != b:
                    return False, _rng_advice(f"two strategies made with seed=3 and told the same results asked "
                                              f"different cells at ask {k + 1}: {a} and {b}") + \
                        " (self.rng_ is made for you by super().__init__)"
            return True, ""

        def global_state():
            if changed:
                return False, (f"{name} drew from {' and '.join(changed)}: draw from self.rng_ (for example "
                               "self.rng_.integers(n), space.sample(seed=self.rng_), space.mutate(a, seed=self.rng_))")
            return True, ""

        def failed_results():
            s = _make(make_strategy, space, 1)
            a = _call(f"{name}.ask()", s.ask)
            _call(f"{name}.tell(arch, Result.failed('out of memory'))", s.tell, a, Result.failed("out of memory"))
            _drive(s, space, est, 25, name)
            return True, ""

        def pending():
            s = _make(make_strategy, space, 2)
            for wave in range(3):
                batch = [_call(f"{name}.ask() with {k} asks pending", s.ask) for k in range(8)]
                bad = [a for a in batch if a not in space]
                if bad:
                    return False, f"with asks pending, ask() returned {bad[0]!r}, not a member of the space"
                if len(set(batch)) < 2:
                    return False, (f"8 asks in a row (before any tell) all returned {batch[0]}: with asks pending, "
                                   "propose different architectures (parallel workers would evaluate one cell "
                                   "8 times)")
                order = [batch[i] for i in np.random.default_rng(wave).permutation(len(batch))]
                for a in order:  # tells in another order than the asks
                    _call(f"{name}.tell({a}, ...) told out of order", s.tell, a, est.evaluate(a))
            return True, ""

        def through_search():
            from .search import Search

            for workers, budget in ((1, 60), (4, 40)):
                s = _make(make_strategy, space, 4)
                search = Search(space, s, est, budget=budget, workers=workers)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    history = _call(f"nv.Search(space, {name}(space, seed=4), ..., workers={workers}).run()",
                                    search.run, progress=False)
                if search.stopped_reason_ != "budget" or len(history) != budget:
                    why = {"repeats": (f"it asked {search.max_repeats} already-evaluated cells in a row: remember "
                                       "what you asked (and told) and propose cells not seen before"),
                           "finished": "the strategy said it was finished"}.get(search.stopped_reason_,
                                                                                 str(search.stopped_reason_))
                    return False, (f"with workers={workers} the search stopped after {len(history)} of {budget} "
                                   f"evaluations: {why}")
            return True, ""

        _attempt(report, "same seed, same asks", reproducible)
        _attempt(report, "leaves global random state alone", global_state)
        _attempt(report, "a failed result can be told", failed_results)
        _attempt(report, "several asks pending, told in any order", pending)
        _attempt(report, "runs through nv.Search (1 and 4 workers)", through_search)

    return _run(Report(name), body, quiet=quiet)


def check_beats_random(make_strategy, *, bench="nb201-12epoch", metric: str | None = None,
                       seeds: Iterable[int] = range(20), budget: int = 100, margin: float = 0.25,
                       plot: bool = False, ax=None, quiet: bool = False) -> Report:
    """Check that a strategy beats random search on a table, by mean regret over fixed seeds.

    For each seed ``s``, ``make_strategy(space, seed=s)`` and
    ``RandomSearch(space, seed=s)`` each run ``budget`` evaluations through
    :class:`nasviz.Search` on the table's ``metric``. The regret of a run is the
    table's optimum minus the best score it found. The check passes when the mean
    regret is at most ``(1 - margin)`` times random search's.

    Parameters
    ----------
    make_strategy : callable
        ``make_strategy(space, seed=s)``, usually the strategy's class.
    bench, metric
        The table (default ``"nb201-12epoch"``) and its metric (default: the table's).
    seeds : iterable of int
    budget : int
        Evaluations per run.
    margin : float
        The required improvement, as a fraction of random search's mean regret.
    plot : bool
        Draw the mean regret curves (:func:`nasviz.compare`) on ``ax`` (default: the
        current Axes), also when the check fails.
    quiet : bool
        Do not print the report.

    Returns
    -------
    Report
        ``details``: ``histories`` (label -> list of History), ``optimum``, ``regret``
        (label -> per-seed final regrets), ``ax`` when plotted.

    Examples
    --------
    >>> import nasviz as nv
    >>> r = check_beats_random(nv.strategies.RegularizedEvolution, seeds=range(5), quiet=True)
    >>> r.passed, sorted(r.details["regret"])
    (True, ['RandomSearch', 'RegularizedEvolution'])
    """
    from .estimators.tabular import Tabular
    from .search import Search
    from .strategies import RandomSearch

    if not 0 <= margin < 1:
        raise InvalidArgumentError(f"margin must be in [0, 1), got {margin!r}")
    _positive("budget", budget)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise InvalidArgumentError("seeds must hold at least one seed, e.g. range(20)")
    bench, metric = _table(bench, metric)
    space = bench.space
    est = Tabular(bench, metric=metric)
    optimum = float(bench.optimum(metric)[1])
    name = _name(make_strategy)
    if name == "RandomSearch":  # the strategy under test keeps a label of its own
        name = "RandomSearch (checked)"
    labels = {name: make_strategy, "RandomSearch": RandomSearch}  # the checked one first: unsolved stops at once

    def body(report):
        histories, stops = {label: [] for label in labels}, {}
        for label, make in labels.items():
            for s in seeds:
                search = Search(space, _make(make, space, s), est, budget=budget)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    h = _call(f"nv.Search(space, {label}(space, seed={s}), ...).run()", search.run, progress=False)
                histories[label].append(h)
                if search.stopped_reason_ != "budget":
                    stops.setdefault(label, (s, search.stopped_reason_, len(h)))
        regret = {label: np.array([optimum - (h.best.score if h.best is not None else -np.inf) for h in hs])
                  for label, hs in histories.items()}
        report.details.update(histories=histories, optimum=optimum, regret=regret, metric=metric)
        if plot:
            from .history import compare

            axes = compare(histories, optimum=optimum, ax=ax)
            axes.set_title(f"{metric} on {bench.name}: {len(seeds)} seeds x {budget} evaluations")
            start = max(1, budget // 10)  # zoom in on where strategies differ: after the first tenth of the budget
            curves = [optimum - np.maximum.accumulate([t.score if t.ok else -np.inf for t in h])[start - 1:]
                      for hs in histories.values() for h in hs if len(h) >= start]
            if curves:
                top = max(float(np.mean([c[0] for c in curves])), 1e-6)
                axes.set_ylim(0, 1.5 * top)
            report.details["ax"] = axes
        mine, rand = regret[name], regret["RandomSearch"]
        bar = (1 - margin) * float(rand.mean())

        def spent_budget():
            if name in stops:
                s, why, n = stops[name]
                hint = ("it kept asking cells it had already seen: propose unseen ones" if why == "repeats"
                        else f"it stopped: {why}")
                return False, f"with seed={s} the search ended after {n} of {budget} evaluations: {hint}"
            return True, ""

        def beats():
            def pts(x):
                return f"{100 * x:.2f}"

            sem = float(mine.std(ddof=1) / math.sqrt(len(mine))) if len(mine) > 1 else 0.0
            wins = int(np.sum(mine < rand))
            ties = int(np.sum(mine == rand))
            text = (f"mean regret {pts(mine.mean())} ± {pts(sem)} percentage points of {metric} (random search: "
                    f"{pts(rand.mean())}; needed at most {pts(bar)}, {100 * margin:.0f}% lower); better than random "
                    f"on {wins} of {len(seeds)} seeds" + (f", tied on {ties}" if ties else ""))
            if mine.mean() <= bar:
                return True, text
            return False, (text + ". Use what the tells teach you: e.g. mutate the best cells found so far "
                           "instead of sampling blindly")

        _attempt(report, f"spends the whole budget ({budget} evaluations) on every seed", spent_budget)
        _attempt(report, f"beats random search by {100 * margin:.0f}% on mean regret ({len(seeds)} seeds)", beats)

    return _run(Report(f"{name} vs random search"), body, quiet=quiet)


# -- A3: zero-cost proxies -----------------------------------------------------------------------
#: reference name -> what it is. ``"auto"`` is ``"nb201-12epoch"``.
#:
#: Why not digits201, whose networks are the very ones the proxies see: its cells are close to each other for the
#: size of its validation set (two training seeds of the same cells agree only at Spearman about 0.5), and the
#: zero-cost proxies rank them at Spearman 0.3 at best (notebook 03, section 6), so a grade against it would mostly
#: measure noise. Why not a short training: on 32 cells, the rankings that 3 epochs of training on the digits give
#: with three seeds agree with each other only at Spearman 0.64-0.84, so a proxy's correlation with one of them
#: moves by +-0.2 with the sample and with details of the training code. NAS-Bench-201's table is a real, settled
#: ranking of the same cells (its CIFAR-10 and CIFAR-100 rankings agree at 0.98): the better yardstick for a grade,
#: even though the proxies see the digits. ``"digits201"`` and ``"training"`` stay available for comparison.
REFERENCES = {
    "digits201": "validation accuracy in the digits201 table (cells trained on scikit-learn's digits by nasviz)",
    "nb201-12epoch": ("NAS-Bench-201's CIFAR-10 validation accuracy after 12 epochs, for the same cells "
                      "(another dataset: the proxies see the digits)"),
    "training": ("validation accuracy after nv.estimators.Training: 3 epochs, 8 channels, 4x4-pixel digits, "
                 "seed 0 (computed here, kept in memory; a noisy reference)"),
}
_TRAINING_REFERENCE = {"epochs": 3, "channels": 8, "resolution": 4, "seed": 0, "max_batch": 32}
_REFERENCE_CACHE: dict = {}


def proxy_reference_name(reference: str = "auto") -> str:
    """The reference that ``reference`` stands for: ``"auto"`` resolved, other names checked.

    Examples
    --------
    >>> proxy_reference_name("training")
    'training'
    """
    if reference == "auto":
        return "nb201-12epoch"
    return check_choice("reference", reference, list(REFERENCES))


def _reference_data(reference: str):
    from .data import digits

    resolution = _TRAINING_REFERENCE["resolution"] if reference == "training" else 8
    return digits(resolution=resolution)


def proxy_data(reference: str = "auto"):
    """The data whose networks the reference judges, and that :func:`check_proxy` gives a proxy.

    Examples
    --------
    >>> proxy_data("training").input_shape
    (1, 4, 4)
    """
    return _reference_data(proxy_reference_name(reference))


def proxy_sample(size: int = 64, seed: int = 0, space=None) -> list:
    """The fixed sample of distinct cells a proxy is judged on (seeded, in draw order).

    Examples
    --------
    >>> cells = proxy_sample(4, seed=0)
    >>> len(set(cells)), cells == proxy_sample(4, seed=0)
    (4, True)
    """
    _positive("size", size)
    return _random_cells(_default_space(space), size, seed)


def proxy_reference(archs: Sequence, reference: str = "auto") -> tuple[np.ndarray, object, str]:
    """Ground truth for ``archs``: ``(values, data, name)``.

    ``reference`` is one of :data:`REFERENCES` or ``"auto"`` (``"nb201-12epoch"``,
    see :data:`REFERENCES` for why). ``data`` is the dataset whose networks
    the reference judges, which a proxy should see too. The ``"training"``
    reference trains the cells (batched, one thread, seeded) once per process and
    keeps the values in memory; nothing is written to disk.

    Examples
    --------
    >>> values, data, name = proxy_reference(proxy_sample(3), "nb201-12epoch")
    >>> values.shape, data.input_shape, name
    ((3,), (1, 8, 8), 'nb201-12epoch')
    """
    name = proxy_reference_name(reference)
    archs = list(archs)
    key = (name, tuple(str(a) for a in archs))
    if key not in _REFERENCE_CACHE:
        data = _reference_data(name)
        if name == "training":
            from .estimators.training import Training

            cfg = _TRAINING_REFERENCE
            est = Training(data, epochs=cfg["epochs"], channels=cfg["channels"], seed=cfg["seed"], device="cpu",
                           threads=1, max_batch=cfg["max_batch"])
            results = est.evaluate_many(archs)
            values = np.array([r.score if r.ok else np.nan for r in results], dtype=float)
        else:
            from .bench import load

            bench = load(name)
            metric = "cifar10_val_acc" if name == "nb201-12epoch" else bench.default_metric
            values = np.asarray(bench.query_many(archs, metric), dtype=float)
        values.flags.writeable = False
        _REFERENCE_CACHE[key] = (values, data)
    values, data = _REFERENCE_CACHE[key]
    return values, data, name


def _spearman(a, b) -> float:
    from scipy.stats import spearmanr

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if np.all(a == a[0]) or np.all(b == b[0]):
        return math.nan
    return float(spearmanr(a, b)[0])


def _probe_networks(data, seed: int = 0):
    """Four seeded networks (three connected, one disconnected) and a minibatch of ``data``."""
    import torch

    from .spaces import CellSpace

    space = CellSpace()
    cells = [space.from_ops(ops) for ops in (_HAND_PICKED[8], _HAND_PICKED[2], _HAND_PICKED[6], _HAND_PICKED[0])]

    def build(arch):
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            return space.build(arch, num_classes=data.num_classes, in_channels=data.in_channels, channels=8)

    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(data.y_train), generator=g)[:32]
    return cells, build, data.X_train[idx].clone(), data.y_train[idx].clone()


def check_proxy_function(fn, data=None, *, quiet: bool = False) -> Report:
    """Check a proxy function ``fn(net, inputs, targets) -> float`` on a few networks.

    ``net`` is a freshly built, untrained ``torch.nn.Module`` (a CellSpace network),
    ``inputs`` a minibatch of images and ``targets`` their labels. Checks: a finite
    number for connected cells and for a disconnected one (whose output ignores its
    input), the same number for the same network and minibatch, the minibatch left
    unchanged, different numbers for different cells, and global random state
    (Python, numpy, torch) untouched.

    Parameters
    ----------
    fn : callable
    data : nasviz.data.Data, optional
        Default: the data of the ``"auto"`` reference of :func:`check_proxy`.
    quiet : bool
        Do not print the report.

    Examples
    --------
    >>> def n_weights(net, inputs, targets):
    ...     return float(sum(p.numel() for p in net.parameters()))
    >>> check_proxy_function(n_weights, quiet=True).passed
    True
    """
    import torch

    name = _name(fn)

    def body(report):
        d = data if data is not None else proxy_data("auto")
        cells, build, x, y = _probe_networks(d)
        x0, y0 = x.clone(), y.clone()
        state = _GlobalRandomState(torch_too=True)
        values = {}
        for arch in cells:
            values[arch] = _call(f"{name}(net of {arch}, inputs, targets)", fn, build(arch), x, y)
        repeat = _call(f"{name}(net of {cells[0]}, inputs, targets)", fn, build(cells[0]), x, y)
        changed = state.changed()
        connected, dead = cells[:3], cells[3]

        def as_float(v):
            try:
                return float(v)
            except (TypeError, ValueError, RuntimeError):
                return None

        def finite(group, label, hint):
            for arch in group:
                v = as_float(values[arch])
                if v is None:
                    return False, (f"{name}(...) returned {values[arch]!r} ({type(values[arch]).__name__}) for "
                                   f"{arch}; return one number, e.g. float(score)")
                if not math.isfinite(v):
                    return False, f"{name}(...) returned {v} for {label} {arch}; {hint}"
            return True, ""

        if not _attempt(report, "returns a finite number (3 connected cells)",
                        lambda: finite(connected, "the connected cell", "return a finite number")):
            return
        _attempt(report, "returns a finite number for a disconnected cell", lambda: finite(
            [dead], "the disconnected cell",
            "its output ignores the input, so e.g. a log-determinant is -inf or a correlation is nan: "
            "return a low finite value (a floor) instead, so that such cells rank last"))

        def same():
            a, b = as_float(values[cells[0]]), as_float(repeat)
            if a is None or b is None or not (a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)):
                return False, (f"two networks built alike for {cells[0]} scored {a} and {b}: make the score depend "
                               "only on the network and the minibatch (seed any randomness you use with a "
                               "torch.Generator)")
            return True, ""

        def batch_untouched():
            if not (torch.equal(x, x0) and torch.equal(y, y0)):
                return False, f"{name} changed the minibatch in place; work on a copy (inputs.clone())"
            return True, ""

        def discriminates():
            vs = [as_float(values[a]) for a in connected]
            if len(set(vs)) == 1:
                return False, (f"{name} gave the same score {vs[0]} to 3 different cells ({', '.join(map(str, connected))}); "
                               "a proxy has to tell architectures apart")
            return True, ""

        def global_state():
            if changed:
                return False, (f"{name} changed {' and '.join(changed)}; if you need random numbers, use "
                               "g = torch.Generator().manual_seed(0) and torch.randn(..., generator=g)")
            return True, ""

        _attempt(report, "same network and minibatch, same score", same)
        _attempt(report, "leaves the minibatch unchanged", batch_untouched)
        _attempt(report, "tells different cells apart", discriminates)
        _attempt(report, "leaves global random state alone", global_state)

    with _one_thread():
        return _run(Report(name), body, quiet=quiet)


def check_proxy(make_estimator, *, reference: str = "auto", sample_size: int = 64, seed: int = 0,
                threshold: float = 0.3, baselines: Sequence[str] = ("params", "synflow"), plot: bool = False,
                ax=None, quiet: bool = False) -> Report:
    """Check a proxy estimator by its Spearman rank correlation with a reference.

    ``make_estimator(data)`` (usually the estimator's class) is built on the
    reference's data and scores :func:`proxy_sample` ``(sample_size, seed)`` with
    ``evaluate_many``. Checks: every result ok with a finite score, the same score
    twice for the same cell, a finite score for a disconnected cell, global random
    state untouched, and Spearman's rho with :func:`proxy_reference` at least
    ``threshold``. The ``baselines`` (``nv.estimators.ZeroCost`` proxies on the same
    data and cells) are reported for comparison.

    Parameters
    ----------
    make_estimator : callable
        ``make_estimator(data)`` returns a :class:`nasviz.estimators.base.Estimator`.
    reference : str
        ``"auto"`` or one of :data:`REFERENCES`.
    sample_size, seed : int
        The fixed sample of cells.
    threshold : float
        The Spearman rho to reach.
    baselines : sequence of str
        ZeroCost proxy names reported beside the student's.
    plot : bool
        Draw proxy score against reference value on ``ax`` (default: the current
        Axes), also when the check fails.
    quiet : bool
        Do not print the report.

    Returns
    -------
    Report
        ``details``: ``archs``, ``scores``, ``reference`` (values), ``reference_name``,
        ``rho``, ``baselines`` (name -> rho), ``ax`` when plotted.

    Examples
    --------
    >>> import nasviz as nv
    >>> def synflow(data):
    ...     return nv.estimators.ZeroCost("synflow", data)
    >>> r = check_proxy(synflow, reference="nb201-12epoch", sample_size=12, threshold=0.0, baselines=(), quiet=True)
    >>> r.passed, -1 <= r.details["rho"] <= 1
    (True, True)
    """
    from .estimators.base import Estimator, Result
    from .spaces import CellSpace

    if not -1 <= threshold <= 1:
        raise InvalidArgumentError(f"threshold must be a Spearman rho in [-1, 1], got {threshold!r}")
    name = _name(make_estimator)

    def body(report):
        archs = proxy_sample(sample_size, seed)
        ref_name = proxy_reference_name(reference)
        data = _reference_data(ref_name)
        est = _call(f"{name}(data)", make_estimator, data)
        if not isinstance(est, Estimator):
            report.add("is an Estimator", False, f"{name}(data) made {est!r}; subclass "
                       "nasviz.estimators.base.Estimator and implement _evaluate(arch, parent=None, fidelity=None)")
            return
        # a quick probe first: an unsolved notebook stops here, before any training
        state = _GlobalRandomState(torch_too=True)
        probe = est.evaluate(archs[0])
        if probe.status != "ok" and str(probe.error).startswith("NotImplementedError"):
            text = probe.error.split(": ", 1)[1] if ": " in probe.error else ""
            report.not_solved = (f"{text}, then run this check again" if text.startswith("not solved yet")
                                 else f"not solved yet: {name}.evaluate raised {probe.error}")
            return
        again = est.evaluate(archs[0])
        dead = est.evaluate(CellSpace().from_ops(("none",) * 6))
        changed = state.changed()
        results = est.evaluate_many(archs)
        scores = np.array([r.score if isinstance(r, Result) and r.ok else np.nan for r in results], dtype=float)

        def all_ok():
            for a, r in zip(archs, results):
                if not isinstance(r, Result) or not r.ok:
                    why = r.error if isinstance(r, Result) else f"returned {r!r}"
                    return False, f"{name}.evaluate({a}) failed: {why}"
            return True, ""

        def same():
            if probe.ok and again.ok and (probe.score == again.score or math.isclose(probe.score, again.score,
                                                                                     rel_tol=1e-9)):
                return True, ""
            return False, (f"evaluate({archs[0]}) scored {probe.score} then {again.score}"
                           f"{' (' + str(probe.error or again.error) + ')' if not (probe.ok and again.ok) else ''}: "
                           "build the network with seeded weights (torch.random.fork_rng() and torch.manual_seed) "
                           "and draw the minibatch with a seeded torch.Generator")

        def degenerate():
            if dead.ok:
                return True, ""
            return False, (f"the disconnected cell {CellSpace().from_ops(('none',) * 6)} failed: "
                           f"{dead.error}; return a low finite score (a floor) for networks whose output ignores "
                           "the input")

        def global_state():
            if changed:
                return False, (f"evaluate changed {' and '.join(changed)}: build inside torch.random.fork_rng() "
                               "after torch.manual_seed(seed), and use a torch.Generator for the minibatch")
            return True, ""

        _attempt(report, f"every cell of the sample gets a finite score ({len(archs)} cells)", all_ok)
        _attempt(report, "same cell, same score", same)
        _attempt(report, "a disconnected cell gets a finite score", degenerate)
        _attempt(report, "leaves global random state alone", global_state)

        truth, _, _ = proxy_reference(archs, ref_name)
        base = {}
        if baselines:
            from .estimators.zero_cost import ZeroCost

            for b in baselines:
                bs = [r.score for r in ZeroCost(b, data, batch_size=32, channels=8, seed=0).evaluate_many(archs)]
                base[b] = _spearman(bs, truth)
        ok = np.isfinite(scores)
        rho = _spearman(scores[ok], truth[ok]) if ok.sum() >= 3 else math.nan
        report.details.update(archs=archs, scores=scores, reference=truth, reference_name=ref_name, rho=rho,
                              baselines=base, threshold=threshold)
        if plot:
            report.details["ax"] = _scatter(scores, truth, ref_name, f"{name}, Spearman rho = {rho:.2f}", ax)

        def correlates():
            compare = ", ".join(f"{b}: {v:.2f}" for b, v in base.items())
            versus = f" (for comparison {compare})" if compare else ""
            if math.isnan(rho):
                return False, (f"Spearman rho is undefined: the proxy gave the same score to every cell{versus}; "
                               "it has to vary with the architecture")
            text = f"Spearman rho {rho:.2f} with the reference '{ref_name}', needed {threshold:.2f}{versus}"
            if rho >= threshold:
                if base and rho > max(v for v in base.values() if not math.isnan(v)):
                    text += "; it beats every baseline"
                return True, text
            return False, (text + ". A zero-cost proxy should grow with what makes a network train well: how "
                           "differently it treats different images, how well gradients flow, its capacity")

        _attempt(report, f"ranks the {len(archs)} cells like the reference: Spearman rho >= {threshold:.2f}",
                 correlates)

    with _one_thread():
        return _run(Report(name), body, quiet=quiet)


def _scatter(scores, truth, ref_name: str, title: str, ax=None):
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.gca()
    ax.scatter(scores, truth, s=25, alpha=0.8)
    ax.set_xlabel("proxy score")
    ax.set_ylabel(f"reference accuracy ({ref_name})")
    ax.set_title(title)
    return ax
