"""Reports of graded checks, and the runner of an assignment's checks.

A ``check_*`` function of an assignment module is a list of :class:`Step` s (small
named check functions) run by :func:`run_checks` over a *case*: a dataclass that
holds the student's object, the inputs and what the steps computed, and the
:class:`Report` that collects one line per step. The runner turns the student's
exceptions into report lines, ``NotImplementedError`` into a "not solved yet"
report, and prints the report (:meth:`Report.finish`). The checks run inside
:func:`nasviz.course.sandbox.sandbox`, which keeps global random state as it was.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass
... class Case:
...     report: Report
...     value: int
>>> def is_even(case):
...     if case.value % 2:
...         return False, f"{case.value} is odd: try {case.value + 1}"
...     return True, ""
>>> def is_small(case):
...     return case.value < 10, ""
>>> steps = [Step("is even", is_even), Step("is small", is_small, needs=(is_even,))]
>>> run_checks(Case(Report("demo"), 4), steps).passed
demo: both checks passed
  ✓ is even
  ✓ is small
True
>>> try:
...     run_checks(Case(Report("demo"), 3), steps, quiet=True)
... except CheckFailed as err:
...     print(err.report)
demo: 0 of 1 checks passed
  ✗ is even
      3 is odd: try 4
  - is small
      skipped: fix the check above first
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import check_choice

__all__ = [
    "FAIL",
    "PASS",
    "SKIP",
    "Check",
    "CheckFailed",
    "NotSolvedError",
    "Prepare",
    "Report",
    "Step",
    "StudentError",
    "attempt",
    "call",
    "display_name",
    "not_solved_message",
    "run_checks",
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
            done = {1: "the check passed", 2: "both checks passed"}.get(ok, f"all {ok} checks passed")
            return f"{self.title}: {done}"
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
class StudentError(Exception):
    """Student code raised something other than ``NotImplementedError``; the message names the call."""


def _short(qualname: str) -> str:
    """``f.<locals>.g`` -> ``g``: the name as the student wrote it."""
    return qualname.rsplit("<locals>.", 1)[-1]


def display_name(obj) -> str:
    """The name of a student's function or class as they wrote it (``f.<locals>.g`` -> ``g``).

    Examples
    --------
    >>> display_name(display_name), display_name(lambda: 0), display_name(3)
    ('display_name', '<lambda>', 'int')
    """
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


def not_solved_message(err: NotImplementedError) -> str:
    """What a report says about an unsolved part: the stub's own message, or the function that raised.

    Examples
    --------
    >>> not_solved_message(NotImplementedError("not solved yet: implement f()"))
    'not solved yet: implement f(), then run this check again'
    """
    text = str(err)
    if text.startswith("not solved yet"):
        return f"{text}, then run this check again"
    return f"not solved yet: implement {_raiser(err)}() (it raises NotImplementedError), then run this check again"


def call(desc: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` for student code ``fn``, whose exceptions name the call ``desc``.

    ``NotImplementedError`` passes as it is (the part is not solved); any other
    exception becomes :class:`StudentError`, whose message starts with ``desc``.

    Examples
    --------
    >>> call("f(1)", lambda x: x + 1, 1)
    2
    >>> try:
    ...     call("f(0)", lambda x: 1 / x, 0)
    ... except StudentError as err:
    ...     print(err)
    f(0) raised ZeroDivisionError: division by zero
    """
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except (KeyboardInterrupt, SystemExit, CheckFailed):
        raise
    except RecursionError as err:
        raise StudentError(f"{desc} raised RecursionError: a function calls itself without end. Inside a space's "
                           "_valid(values), do not call methods that check membership (such as is_connected or "
                           "'arch in self'): membership calls _valid again") from err
    except Exception as err:
        raise StudentError(f"{desc} raised {type(err).__name__}" + (f": {err}" if str(err) else "")) from err


def attempt(report: Report, name: str, test: Callable[..., tuple[bool, str]], *args) -> bool:
    """Run one check ``test(*args) -> (passed, message)`` into ``report``; student exceptions become its failure."""
    try:
        passed, message = test(*args)
    except StudentError as err:
        passed, message = False, str(err)
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - e.g. an unexpected return value that the check cannot use
        passed, message = False, f"the check could not run: {type(err).__name__}: {err}"
    report.add(name, passed, message)
    return bool(passed)


# -- the steps of an assignment's check, and their runner ----------------------------------------
@dataclass(frozen=True)
class Step:
    """One named check of an assignment, run by :func:`run_checks` over a case.

    Attributes
    ----------
    label : str
        The report line; ``{c.attr}`` fields are filled in from the case (``label.format(c=case)``).
    test : callable
        ``test(case, *args) -> (passed, message)``.
    on_failure : {"continue", "stop", "skip"}
        What a failure does to the steps after it: nothing; end the checks there
        (the report shows no more lines); or list every later step as skipped.
    needs : tuple of callables
        Tests of earlier steps that must have passed; otherwise this step is skipped.
    args : tuple
        Passed to ``test`` after the case.
    """

    label: str
    test: Callable[..., tuple[bool, str]]
    on_failure: str = "continue"
    needs: tuple = ()
    args: tuple = ()

    def __post_init__(self):
        check_choice("on_failure", self.on_failure, ("continue", "stop", "skip"))


@dataclass(frozen=True)
class Prepare:
    """Work between steps, ``run(case)``: call the student's code, fill in the case.

    An exception of the student's code ends the checks with a "runs without an
    error" line; ``run`` returning ``False`` ends them silently (it may add a report
    line first, or mark the report not solved).
    """

    run: Callable[[object], bool | None]


def _skip(report: Report, steps: Sequence, case, why: str) -> None:
    for step in steps:
        if isinstance(step, Step):
            report.add(step.label.format(c=case), None, why)


def run_checks(case, steps: Sequence[Step | Prepare], *, quiet: bool = False) -> Report:
    """Run ``steps`` in order over ``case`` (which has a ``report``), then finish the report.

    ``NotImplementedError`` from the student's code marks the report not solved; any
    other exception of the student's code outside a step adds "runs without an
    error". Returns the report, or raises :class:`CheckFailed` (see
    :meth:`Report.finish`).
    """
    report = case.report
    try:
        passed = {}
        for k, step in enumerate(steps):
            if isinstance(step, Prepare):
                if step.run(case) is False:
                    break
                continue
            label = step.label.format(c=case)
            if not all(passed.get(t) for t in step.needs):
                report.add(label, None, "skipped: fix the check above first" if len(step.needs) == 1
                           else "skipped: fix the checks above first")
                continue
            passed[step.test] = ok = attempt(report, label, step.test, case, *step.args)
            if not ok and step.on_failure == "skip":
                _skip(report, steps[k + 1:], case, "skipped: fix the check above first")
            if not ok and step.on_failure in ("stop", "skip"):
                break
    except NotImplementedError as err:
        report.not_solved = not_solved_message(err)
    except StudentError as err:
        report.add("runs without an error", False, str(err))
    return report.finish(quiet=quiet)
