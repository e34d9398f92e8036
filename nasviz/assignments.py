"""Student versions of assignment notebooks, and grading without nbgrader.

The code lives in :mod:`nasviz.course.notebooks` (the command line in
:mod:`nasviz.course.commands`); this module keeps its names and its command line::

    python -m nasviz.assignments make-student notebooks/assignments/A1-mutation-operator.ipynb \\
        -o notebooks/assignments/student/
    python -m nasviz.assignments grade SUBMISSION --source INSTRUCTOR_NOTEBOOK

Examples
--------
>>> from nasviz import assignments
>>> assignments.BEGIN_SOLUTION, assignments.INSTRUCTOR_TAG
('BEGIN SOLUTION', 'instructor-only')
"""

from __future__ import annotations

import sys

from .course.commands import main
from .course.notebooks import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    INSTRUCTOR_TAG,
    grade,
    make_student,
    make_student_file,
    read_notebook,
    write_notebook,
)

__all__ = [
    "BEGIN_HIDDEN",
    "BEGIN_SOLUTION",
    "END_HIDDEN",
    "END_SOLUTION",
    "INSTRUCTOR_TAG",
    "grade",
    "main",
    "make_student",
    "make_student_file",
    "read_notebook",
    "write_notebook",
]

if __name__ == "__main__":
    sys.exit(main())
