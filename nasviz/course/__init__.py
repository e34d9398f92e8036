"""The course's graded assignments: checks with reports a student can act on, and the notebooks' tools.

Each ``check_*`` function runs a student's code against a specification and
returns a :class:`Report`: one line per check, passed or failed, and for each
failure what was expected, an input that fails and how to fix it. The report is
printed. When a check fails the function raises :class:`CheckFailed` (an
``AssertionError``), so that nbgrader, nbval and pytest see the failure, while
Jupyter shows a one-line summary under the printed report instead of a traceback.
Code that still raises ``NotImplementedError`` (an unsolved part of a student
notebook) gives a short "not solved yet: implement ..." report.

One module per concept:

- :mod:`~nasviz.course.report`: :class:`Report`, :class:`CheckFailed`, the steps of
  a check (:class:`Step`, :class:`Prepare`) and their runner :func:`run_checks`;
- :mod:`~nasviz.course.sandbox`: :func:`sandbox`, which keeps global random state
  and torch's threads as they were while students' code runs;
- :mod:`~nasviz.course.references`: the fixed inputs and the ground truths the
  checks compare with, and their caches;
- one module per assignment (``notebooks/assignments``): A1, a mutation operator
  and a new search space (:func:`check_reaches_output`, :func:`check_space` in
  :mod:`~nasviz.course.a1_spaces`, :func:`check_mutation` in
  :mod:`~nasviz.course.a1_mutation`); A2, a search strategy
  (:func:`check_strategy`, :func:`check_beats_random` in
  :mod:`~nasviz.course.a2_strategies`); A3, a zero-cost proxy
  (:func:`check_proxy_function`, :func:`check_proxy` in
  :mod:`~nasviz.course.a3_proxies`, against :func:`proxy_reference` on
  :func:`proxy_sample`);
- :mod:`~nasviz.course.notebooks`: student versions of the assignment notebooks
  and grading without nbgrader (``python -m nasviz.assignments``).

All checks are deterministic: fixed inputs, fixed seeds. ``nasviz.grading`` and
``nasviz.assignments`` keep the names the notebooks import.

Examples
--------
>>> import nasviz as nv
>>> report = nv.course.check_reaches_output(nv.CellSpace().is_connected, forbidden=(), quiet=True)
>>> report.passed, len(report.checks)
(True, 4)
"""

from __future__ import annotations

from .a1_mutation import check_mutation
from .a1_spaces import check_reaches_output, check_space
from .a2_strategies import check_beats_random, check_strategy
from .a3_proxies import check_proxy, check_proxy_function
from .notebooks import grade, make_student, make_student_file, read_notebook, write_notebook
from .references import REFERENCES, proxy_data, proxy_reference, proxy_reference_name, proxy_sample
from .report import Check, CheckFailed, NotSolvedError, Prepare, Report, Step, run_checks
from .sandbox import Sandbox, sandbox

__all__ = [
    "REFERENCES",
    "Check",
    "CheckFailed",
    "NotSolvedError",
    "Prepare",
    "Report",
    "Sandbox",
    "Step",
    "check_beats_random",
    "check_mutation",
    "check_proxy",
    "check_proxy_function",
    "check_reaches_output",
    "check_space",
    "check_strategy",
    "grade",
    "make_student",
    "make_student_file",
    "proxy_data",
    "proxy_reference",
    "proxy_reference_name",
    "proxy_sample",
    "read_notebook",
    "run_checks",
    "sandbox",
    "write_notebook",
]
