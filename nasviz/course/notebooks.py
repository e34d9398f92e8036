"""Student versions of assignment notebooks: solutions out, hidden checks out, outputs cleared.

An instructor writes one notebook per assignment with the solutions and the
checks in it (``notebooks/assignments/A1-...ipynb``) and generates the version
handed to students::

    python -m nasviz.assignments make-student notebooks/assignments/A1-mutation-operator.ipynb \\
        -o notebooks/assignments/student/

The markers are nbgrader's, so the same notebook also works as an nbgrader source:

- in a code cell, the lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION``
  become ``# YOUR CODE HERE`` and ``raise NotImplementedError("not solved yet:
  implement <function>()")``, indented like the markers (``<function>`` is the
  enclosing ``def``, with its class); in a markdown cell they become ``YOUR ANSWER
  HERE``;
- the lines from ``### BEGIN HIDDEN TESTS`` to ``### END HIDDEN TESTS`` are removed;
- cells tagged ``instructor-only`` are removed;
- every output and execution count is cleared.

Everything else (markdown, given code, visible checks, cell metadata such as
nbgrader's) is kept as it is, and the notebook is written the way ``nbformat``
writes it, so that generating again gives the same bytes.

Grading without nbgrader: ``python -m nasviz.assignments grade SUBMISSION --source
INSTRUCTOR_NOTEBOOK`` runs the student's notebook with the instructor's graded
cells (hidden checks included) and prints the points of each.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

from ..errors import InvalidArgumentError

__all__ = [
    "BEGIN_HIDDEN",
    "BEGIN_SOLUTION",
    "END_HIDDEN",
    "END_SOLUTION",
    "INSTRUCTOR_TAG",
    "grade",
    "make_student",
    "make_student_file",
    "read_notebook",
    "write_notebook",
]

BEGIN_SOLUTION = "BEGIN SOLUTION"
END_SOLUTION = "END SOLUTION"
BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
END_HIDDEN = "END HIDDEN TESTS"
INSTRUCTOR_TAG = "instructor-only"
_MARKER = re.compile(r"^\s*#+\s*(BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS)\s*$")
_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(")
_CLASS = re.compile(r"^(\s*)class\s+([A-Za-z_]\w*)\s*[(:]")


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _split(text: str) -> list[str]:
    """Lines as nbformat stores them: each keeps its newline, except the last."""
    return text.splitlines(keepends=True)


def _marker(line: str) -> str | None:
    m = _MARKER.match(line)
    return m.group(1) if m else None


def _enclosing(lines: list[str], index: int, indent: int) -> str | None:
    """``Class.method`` or ``function``: the ``def`` that encloses line ``index`` (indented ``indent``)."""
    names, limit = [], indent
    for line in reversed(lines[:index]):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        lead = len(line) - len(line.lstrip())
        if lead >= limit:
            continue
        limit = lead
        d, c = _DEF.match(line), _CLASS.match(line)
        if d and not names:
            names.append(d.group(2))
        elif c and names:
            names.append(c.group(2))
        elif names:
            break  # the function sits in another block, not in a class
        # else: a block inside the function (if, for, with): keep looking outwards
        if limit == 0:
            break
    return ".".join(reversed(names)) or None


def _stub(lines: list[str], index: int, cell_type: str) -> list[str]:
    line = lines[index]
    indent = line[: len(line) - len(line.lstrip())]
    if cell_type == "markdown":
        return [f"{indent}YOUR ANSWER HERE\n"]
    where = _enclosing(lines, index, len(indent))
    what = f"implement {where}()" if where else "write your code in this cell"
    return [f"{indent}# YOUR CODE HERE\n", f'{indent}raise NotImplementedError("not solved yet: {what}")\n']


def _clean_cell(cell, number: int) -> dict:
    cell = copy.deepcopy(cell)
    lines = _split(_source(cell))
    out, region, start = [], None, 0
    for k, line in enumerate(lines):
        mark = _marker(line)
        if mark is None:
            if region is None:
                out.append(line)
            continue
        opening = mark.startswith("BEGIN")
        kind = mark.split(" ", 1)[1]  # SOLUTION or HIDDEN TESTS
        if opening:
            if region is not None:
                raise InvalidArgumentError(
                    f"cell {number}: '{mark}' on line {k + 1} opens a region inside the {region} region opened "
                    f"on line {start + 1}; close it with '### END {region}' first")
            region, start = kind, k
            if kind == "SOLUTION":
                out.extend(_stub(lines, k, cell.get("cell_type", "code")))
        else:
            if region != kind:
                raise InvalidArgumentError(
                    f"cell {number}: '{mark}' on line {k + 1} closes a region that is not open"
                    + (f" (the {region} region opened on line {start + 1} is)" if region else ""))
            region = None
    if region is not None:
        raise InvalidArgumentError(f"cell {number}: the {region} region opened on line {start + 1} is never "
                                   f"closed; add '### END {region}'")
    while out and not out[-1].strip():  # a removed hidden block at the end leaves blank lines
        out.pop()
    if out:
        out[-1] = out[-1].rstrip("\n")
    cell["source"] = out
    if cell.get("cell_type") == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    cell.get("metadata", {}).pop("execution", None)
    return cell


def make_student(nb: dict) -> dict:
    """The student version of a notebook (a dict as ``json.load`` reads it); the input is unchanged.

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": 3, "outputs": [{"x": 1}],
    ...                  "source": ["def double(x):\\n", "    ### BEGIN SOLUTION\\n", "    return 2 * x\\n",
    ...                             "    ### END SOLUTION\\n"]}],
    ...       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    >>> print("".join(make_student(nb)["cells"][0]["source"]))
    def double(x):
        # YOUR CODE HERE
        raise NotImplementedError("not solved yet: implement double()")
    """
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise InvalidArgumentError("expected a notebook: a dict with a 'cells' list (json.load of an .ipynb file)")
    out = copy.deepcopy(nb)
    cells = []
    for number, cell in enumerate(nb["cells"], start=1):
        if INSTRUCTOR_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        cells.append(_clean_cell(cell, number))
    out["cells"] = cells
    return out


def read_notebook(path) -> dict:
    """A notebook file as a dict, with a clear error for a missing or malformed file."""
    path = Path(path)
    if not path.is_file():
        raise InvalidArgumentError(f"no notebook at {str(path)!r}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise InvalidArgumentError(f"{str(path)!r} is not a notebook (invalid JSON: {err})") from None


def write_notebook(nb: dict, path) -> Path:
    """Write ``nb`` as nbformat does (sorted keys, one-space indent, trailing newline)."""
    path = Path(path)
    path.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def make_student_file(src, out_dir) -> Path:
    """Write the student version of notebook ``src`` into folder ``out_dir`` (same file name).

    Returns the path written. ``out_dir`` is created if needed; it must not be the
    folder of ``src`` (that would overwrite the instructor version).
    """
    src, out_dir = Path(src), Path(out_dir)
    nb = read_notebook(src)
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidArgumentError(f"-o must be a folder, got the file {str(out_dir)!r}")
    if out_dir.resolve() == src.parent.resolve():
        raise InvalidArgumentError(f"the output folder {str(out_dir)!r} holds the instructor notebook itself; "
                                   "write the student version elsewhere, e.g. -o notebooks/assignments/student/")
    out_dir.mkdir(parents=True, exist_ok=True)
    return write_notebook(make_student(nb), out_dir / src.name)


def _grade_cells(nb: dict) -> dict:
    """grade_id -> cell, for the cells nbgrader metadata marks as graded (``grade: true``)."""
    out = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and meta.get("grade_id"):
            out[meta["grade_id"]] = cell
    return out


def grade(submission, source, *, output=None, timeout: int = 600) -> list[dict]:
    """Grade a student's notebook with the checks of the instructor version, hidden ones included.

    Every graded cell of ``submission`` (nbgrader metadata ``grade: true``) is replaced by
    the cell with the same ``grade_id`` in ``source``, the instructor notebook, so
    that the hidden checks run and edited checks count for nothing. The notebook then
    runs top to bottom (errors allowed, in the submission's folder); a graded cell
    earns its points when it runs without an error.

    Needs ``nbclient`` (installed with Jupyter).

    Parameters
    ----------
    submission, source : path
        The student's notebook and the instructor notebook it was generated from.
    output : path, optional
        Where to write the executed notebook (for feedback).
    timeout : int
        Seconds allowed per cell.

    Returns
    -------
    list of dict
        One row per graded cell, in notebook order: ``grade_id``, ``points``,
        ``max_points`` and ``message`` (the first line of the error, or "").
    """
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError as err:  # pragma: no cover - Jupyter brings both
        raise InvalidArgumentError("grading runs notebooks with nbclient: pip install nbclient nbformat") from err
    submission = Path(submission)
    sub, key = read_notebook(submission), read_notebook(source)
    wanted = _grade_cells(key)
    if not wanted:
        raise InvalidArgumentError(f"{str(source)!r} has no graded cells (nbgrader metadata 'grade': true)")
    cells, found = [], set()
    for cell in sub["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in wanted:
            cell = copy.deepcopy(wanted[gid])
            found.add(gid)
        cells.append(cell)
    sub = dict(sub, cells=cells)
    nb = nbformat.reads(json.dumps(sub), as_version=4)  # joins multi-line sources as nbformat does
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(submission.parent.resolve())}})
    client.execute()
    rows = []
    by_id = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    for gid, cell in wanted.items():
        points = float(cell["metadata"]["nbgrader"].get("points", 0))
        if gid not in found:
            rows.append({"grade_id": gid, "points": 0.0, "max_points": points,
                         "message": "this graded cell is missing from the submission"})
            continue
        errors = [o for o in by_id[gid].get("outputs", []) if o.get("output_type") == "error"]
        message = ""
        if errors:
            first = (str(errors[0].get("evalue") or "").splitlines() or [""])[0]
            message = f"{errors[0].get('ename')}: {first}".strip()
        rows.append({"grade_id": gid, "points": 0.0 if errors else points, "max_points": points, "message": message})
    if output is not None:
        nbformat.write(nb, str(output))
    return rows
