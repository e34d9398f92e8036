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

All checks are deterministic: fixed inputs, fixed seeds. The code lives in
:mod:`nasviz.course`, one module per assignment; this module keeps the names the
assignment notebooks import.

Examples
--------
>>> import nasviz as nv
>>> from nasviz import grading
>>> space = nv.CellSpace()
>>> report = grading.check_reaches_output(space.is_connected, forbidden=())  # the reference itself
CellSpace.is_connected: all 4 checks passed
  ✓ returns True or False
  ✓ agrees with the definition on 9 hand-picked cells
  ✓ agrees with the definition on 200 random cells
  ✓ agrees with the definition on 6 more hand-picked cells
>>> report.passed
True
"""

from __future__ import annotations

from .course.a1_mutation import check_mutation
from .course.a1_spaces import check_reaches_output, check_space
from .course.a2_strategies import check_beats_random, check_strategy
from .course.a3_proxies import check_proxy, check_proxy_function
from .course.a3_proxies import spearman as _spearman  # noqa: F401 - the old private name, for existing callers
from .course.references import REFERENCE_CACHE as _REFERENCE_CACHE  # noqa: F401 - likewise
from .course.references import REFERENCES, proxy_data, proxy_reference, proxy_reference_name, proxy_sample
from .course.report import FAIL, PASS, SKIP, Check, CheckFailed, NotSolvedError, Report  # noqa: F401 - the marks

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
