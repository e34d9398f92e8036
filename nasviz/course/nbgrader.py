"""An nbgrader course folder from the instructor notebooks.

The instructor notebooks (``notebooks/assignments/A1-...ipynb``) are nbgrader source
notebooks already: solution cells, graded check cells and hidden tests carry
nbgrader's markers and metadata (schema version 3). What nbgrader does not know is
the ``instructor-only`` tag of the banner at the top of each. :func:`make_course`
copies the notebooks into a course folder the way nbgrader expects them, one
assignment per notebook, without those cells, and writes a minimal
``nbgrader_config.py`` when the folder has none::

    python -m nasviz.assignments nbgrader-course notebooks/assignments/A*.ipynb --course course/
    cd course
    nbgrader generate_assignment A1          # release/A1/: the student version
    nbgrader autograde A1 --create            # submitted/<student>/A1/ -> autograded/, scores in gradebook.db
    nbgrader generate_feedback A1             # feedback/<student>/A1/*.html

The assignment's name is the notebook's name up to its first ``-`` (``A1``).
nbgrader's own student version differs from ``make-student``'s only in the stub:
``raise NotImplementedError()`` instead of one that names the function; the checks
say which function is not solved either way. ``tests/test_nbgrader.py`` runs the
whole round trip.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from nasviz.course.nbgrader import make_course
>>> course = Path(tempfile.mkdtemp())
>>> written = make_course(["notebooks/assignments/A1-mutation-operator.ipynb"], course)
>>> [p.relative_to(course).as_posix() for p in written]
['nbgrader_config.py', 'source/A1/A1-mutation-operator.ipynb']
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InvalidArgumentError
from .notebooks import INSTRUCTOR_TAG, read_notebook, write_notebook

#: The ``nbgrader_config.py`` that :func:`make_course` writes into a course folder without one.
CONFIG = '''\
# nbgrader configuration of a nasviz course (written by python -m nasviz.assignments nbgrader-course)
c = get_config()  # noqa: F821 (nbgrader defines it)
c.CourseDirectory.course_id = "{course_id}"
c.CourseDirectory.root = "."
# the A1 checks go through all 15,625 cells, the A2 checks race 20 seeds: give a cell time
c.ExecutePreprocessor.timeout = 600
'''


def assignment_name(path) -> str:
    """The nbgrader assignment a notebook becomes: its name up to the first ``-``.

    Examples
    --------
    >>> assignment_name("notebooks/assignments/A2-search-strategy.ipynb")
    'A2'
    """
    path = Path(path)
    if path.suffix != ".ipynb":
        raise InvalidArgumentError(f"{str(path)!r} is not a notebook; pass the instructor notebooks (.ipynb), "
                                   "e.g. notebooks/assignments/A1-mutation-operator.ipynb")
    return path.stem.split("-", 1)[0]


def source_notebook(nb: dict) -> dict:
    """``nb`` without its ``instructor-only`` cells, everything else (nbgrader metadata, outputs) as it is.

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "markdown", "metadata": {"tags": ["instructor-only"]}, "source": "x"},
    ...                 {"cell_type": "code", "metadata": {}, "source": "1", "outputs": []}]}
    >>> [c["source"] for c in source_notebook(nb)["cells"]]
    ['1']
    """
    out = dict(nb)
    out["cells"] = [c for c in nb["cells"] if INSTRUCTOR_TAG not in c.get("metadata", {}).get("tags", [])]
    return out


def make_course(notebooks, course, *, course_id: str = "nasviz") -> list[Path]:
    """Copy instructor notebooks into an nbgrader course folder as ``source/<assignment>/<notebook>``.

    Parameters
    ----------
    notebooks : iterable of path-like
        Instructor notebooks; each becomes the assignment named by :func:`assignment_name`.
    course : path-like
        The course folder (created if missing). An ``nbgrader_config.py`` is written
        there only if it has none.
    course_id : str
        The course id in a new ``nbgrader_config.py``.

    Returns
    -------
    list of Path
        The files written, the configuration first when it was written.

    Examples
    --------
    >>> import tempfile
    >>> course = Path(tempfile.mkdtemp())
    >>> _ = make_course(["notebooks/assignments/A3-zero-cost-proxy.ipynb"], course)
    >>> nb = read_notebook(course / "source" / "A3" / "A3-zero-cost-proxy.ipynb")
    >>> any("instructor-only" in c["metadata"].get("tags", []) for c in nb["cells"])
    False
    """
    paths = [Path(p) for p in notebooks]
    if not paths:
        raise InvalidArgumentError("no notebooks given; pass the instructor notebooks, "
                                   "e.g. notebooks/assignments/A*.ipynb")
    names, seen = [assignment_name(p) for p in paths], {}
    for p, name in zip(paths, names):  # all checked before anything is written
        if not p.is_file():
            raise InvalidArgumentError(f"no notebook at {str(p)!r}; pass the instructor notebooks, "
                                       "e.g. notebooks/assignments/A*.ipynb")
        if name in seen:
            raise InvalidArgumentError(f"{str(seen[name])!r} and {str(p)!r} would both become assignment "
                                       f"{name!r}; pass one notebook per assignment")
        seen[name] = p
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    written = []
    config = course / "nbgrader_config.py"
    if not config.exists():
        config.write_text(CONFIG.format(course_id=course_id), encoding="utf-8")
        written.append(config)
    for p, name in zip(paths, names):
        (course / "source" / name).mkdir(parents=True, exist_ok=True)
        written.append(write_notebook(source_notebook(read_notebook(p)), course / "source" / name / p.name))
    return written
