"""Tests of the graded assignments: the student-version generator, the committed notebooks, and grading."""

import copy
import json
import subprocess
import sys
import zlib
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from nasviz import assignments
from nasviz.errors import InvalidArgumentError

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks" / "assignments"
STUDENT = FOLDER / "student"
INSTRUCTOR = sorted(FOLDER.glob("A*.ipynb"))


def _id(source) -> str:
    return f"c{zlib.crc32(''.join(source).encode()):08x}"


def code(source, **metadata):
    return {"cell_type": "code", "id": _id(source), "execution_count": 7, "metadata": dict(metadata), "outputs": [
        {"output_type": "stream", "name": "stdout", "text": ["old output\n"]}], "source": source}


def markdown(source, **metadata):
    return {"cell_type": "markdown", "id": _id(source), "metadata": dict(metadata), "source": source}


def notebook(*cells):
    return {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                               "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def text(cell) -> str:
    return "".join(cell["source"])


# -- the generator ------------------------------------------------------------------------------------
def test_solutions_become_stubs_named_after_their_function():
    nb = notebook(code([
        "class Walker(Base):\n",
        "    def ask(self):\n",
        "        x = 1\n",
        "        if x:\n",
        "            ### BEGIN SOLUTION\n",
        "            return 2\n",
        "            ### END SOLUTION\n",
        "        return x\n",
        "\n",
        "def helper():\n",
        "    # BEGIN SOLUTION\n",
        "    pass\n",
        "    # END SOLUTION\n",
        "### BEGIN SOLUTION\n",
        "answer = 42\n",
        "### END SOLUTION",
    ], nbgrader={"solution": True, "grade_id": "x"}))
    cell = assignments.make_student(nb)["cells"][0]
    assert text(cell) == (
        "class Walker(Base):\n"
        "    def ask(self):\n"
        "        x = 1\n"
        "        if x:\n"
        "            # YOUR CODE HERE\n"
        '            raise NotImplementedError("not solved yet: implement Walker.ask()")\n'
        "        return x\n"
        "\n"
        "def helper():\n"
        "    # YOUR CODE HERE\n"
        '    raise NotImplementedError("not solved yet: implement helper()")\n'
        "# YOUR CODE HERE\n"
        'raise NotImplementedError("not solved yet: write your code in this cell")'
    )
    assert cell["metadata"] == {"nbgrader": {"solution": True, "grade_id": "x"}}
    assert cell["outputs"] == [] and cell["execution_count"] is None


def test_hidden_tests_instructor_cells_and_markdown_answers():
    nb = notebook(
        markdown(["# Title\n", "Some **text**."]),
        markdown(["Only for instructors."], tags=["instructor-only"]),
        markdown(["Your answer:\n", "### BEGIN SOLUTION\n", "It is 42.\n", "### END SOLUTION"]),
        code(["check(f)\n", "### BEGIN HIDDEN TESTS\n", "check(f, more=True)\n", "### END HIDDEN TESTS\n", "\n"]),
    )
    before = copy.deepcopy(nb)
    student = assignments.make_student(nb)
    assert nb == before  # the instructor notebook is left alone
    cells = student["cells"]
    assert len(cells) == 3 and cells[0] == nb["cells"][0]
    assert text(cells[1]) == "Your answer:\nYOUR ANSWER HERE"
    assert text(cells[2]) == "check(f)"
    assert assignments.make_student(student) == student  # nothing left to remove


@pytest.mark.parametrize("source, problem", [
    (["### BEGIN SOLUTION\n", "x = 1\n"], "cell 1: the SOLUTION region opened on line 1 is never closed"),
    (["x = 1\n", "### END SOLUTION\n"], "cell 1: 'END SOLUTION' on line 2 closes a region that is not open"),
    (["### BEGIN SOLUTION\n", "### BEGIN HIDDEN TESTS\n"], "opens a region inside the SOLUTION region"),
    (["### BEGIN HIDDEN TESTS\n", "### END SOLUTION\n"], "(the HIDDEN TESTS region opened on line 1 is)"),
])
def test_unbalanced_markers_name_the_cell_and_line(source, problem):
    with pytest.raises(InvalidArgumentError) as info:
        assignments.make_student(notebook(code(source)))
    assert problem in str(info.value)


def test_the_command_line(tmp_path, capsys):
    src = tmp_path / "A9-demo.ipynb"
    assignments.write_notebook(notebook(code(["def f():\n", "    ### BEGIN SOLUTION\n", "    return 1\n",
                                              "    ### END SOLUTION\n"])), src)
    out = tmp_path / "student"
    assert assignments.main(["make-student", str(src), "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out / src.name}\n"
    written = json.loads((out / src.name).read_text())
    assert "NotImplementedError" in text(written["cells"][0]) and "return 1" not in text(written["cells"][0])
    assert assignments.main(["make-student", str(tmp_path / "missing.ipynb"), "-o", str(out)]) == 1
    assert "no notebook at" in capsys.readouterr().err
    assert assignments.main(["make-student", str(src), "-o", str(tmp_path)]) == 1
    assert "holds the instructor notebook itself" in capsys.readouterr().err


def test_python_dash_m_runs_the_generator(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "nasviz.assignments", "make-student", str(INSTRUCTOR[0]), "-o",
                           str(tmp_path)], check=False, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / INSTRUCTOR[0].name).read_bytes() == (STUDENT / INSTRUCTOR[0].name).read_bytes()


# -- the committed notebooks ---------------------------------------------------------------------------
def test_there_are_three_assignments_and_their_student_versions():
    assert [p.name for p in INSTRUCTOR] == ["A1-mutation-operator.ipynb", "A2-search-strategy.ipynb",
                                           "A3-zero-cost-proxy.ipynb"]
    assert sorted(p.name for p in STUDENT.glob("*.ipynb")) == [p.name for p in INSTRUCTOR]


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.stem)
def test_student_versions_are_up_to_date(path, tmp_path):
    written = assignments.make_student_file(path, tmp_path)
    assert written.read_bytes() == (STUDENT / path.name).read_bytes(), (
        f"{STUDENT / path.name} is stale: python -m nasviz.assignments make-student {path.relative_to(ROOT)} "
        f"-o {STUDENT.relative_to(ROOT)}/")


def _split_regions(source: str) -> tuple[list[str], list[str]]:
    """(stripped lines inside SOLUTION or HIDDEN TESTS regions, stripped lines outside them)."""
    inside, outside, depth = [], [], False
    for line in source.splitlines():
        word = line.strip()
        if word.startswith("#") and ("BEGIN SOLUTION" in word or "BEGIN HIDDEN TESTS" in word):
            depth = True
        elif word.startswith("#") and ("END SOLUTION" in word or "END HIDDEN TESTS" in word):
            depth = False
        elif word:
            (inside if depth else outside).append(word)
    return inside, outside


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.stem)
def test_instructor_notebooks_are_well_formed(path):
    nb = json.loads(path.read_text())
    grade_ids, points = [], 0
    for cell in nb["cells"]:
        src, meta = text(cell), cell["metadata"].get("nbgrader")
        if "BEGIN SOLUTION" in src:
            assert meta and meta["solution"] and not meta["grade"] and meta["schema_version"] == 3, src[:80]
            grade_ids.append(meta["grade_id"])
        if meta and meta.get("grade"):
            assert meta["locked"] and meta["points"] > 0 and "grading.check_" in src
            grade_ids.append(meta["grade_id"])
            points += meta["points"]
        if cell["cell_type"] == "code":  # executed, without errors (nbval compares the outputs)
            assert cell["execution_count"] is not None
            assert not [o for o in cell["outputs"] if o["output_type"] == "error"]
    assert len(grade_ids) == len(set(grade_ids)) and points == 8
    assert nb["cells"][0]["metadata"].get("tags") == ["instructor-only"]
    headings = [text(c) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert any("## Summary" in h for h in headings) and any("## Exercises" in h for h in headings)


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.stem)
def test_student_versions_hold_no_solution_and_keep_everything_else(path):
    teacher = json.loads(path.read_text())
    student = json.loads((STUDENT / path.name).read_text())
    kept = [c for c in teacher["cells"] if "instructor-only" not in c["metadata"].get("tags", [])]
    assert len(student["cells"]) == len(kept)
    for t, s in zip(kept, student["cells"]):
        assert t["cell_type"] == s["cell_type"] and t["metadata"] == s["metadata"]
        ts, ss = text(t), text(s)
        if t["cell_type"] == "markdown":
            assert ts == ss
            continue
        assert s["outputs"] == [] and s["execution_count"] is None
        assert "SOLUTION" not in ss and "HIDDEN" not in ss
        removed, outside = _split_regions(ts)
        student_lines = {line.strip() for line in ss.splitlines()}
        for line in set(removed) - set(outside):
            assert line not in student_lines, (path.name, line)
        if "BEGIN SOLUTION" in ts:
            assert 'raise NotImplementedError("not solved yet: implement ' in ss


def test_student_versions_run_and_report_unsolved_parts_cleanly():
    for path in sorted(STUDENT.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(STUDENT)}}).execute()
        graded = 0
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            errors = [o for o in cell.outputs if o.output_type == "error"]
            if cell.metadata.get("nbgrader", {}).get("grade"):
                graded += 1
                assert [e.ename for e in errors] == ["NotSolvedError"], (path.name, cell.source[:60], errors)
                (line,) = errors[0].traceback  # one line, no traceback wall
                assert ": not solved yet: implement " in line and "then run this check again" in line
            else:
                assert [e.ename for e in errors] in ([], ["NotImplementedError"]), (path.name, cell.source[:60])
                if errors:
                    assert errors[0].evalue.startswith("not solved yet: implement ")
        assert graded == 2 or (graded == 3 and path.name.startswith("A1"))


# -- grading without nbgrader --------------------------------------------------------------------------
def test_grade_runs_the_instructor_checks_on_a_submission(tmp_path):
    source = notebook(
        code(["def double(x):\n", "    ### BEGIN SOLUTION\n", "    return 2 * x\n", "    ### END SOLUTION\n"],
             nbgrader={"grade": False, "solution": True, "grade_id": "double", "locked": False}),
        code(["assert double(2) == 4\n", "### BEGIN HIDDEN TESTS\n", "assert double(-3) == -6\n",
              "### END HIDDEN TESTS\n"], nbgrader={"grade": True, "solution": False, "grade_id": "check-double",
                                                   "locked": True, "points": 3}),
        code(["assert True\n"], nbgrader={"grade": True, "grade_id": "check-free", "points": 1}),
    )
    src = assignments.write_notebook(source, tmp_path / "A0.ipynb")
    student = assignments.make_student(source)
    cheat = copy.deepcopy(student)  # passes the visible check only, and edits the check cell
    cheat["cells"][0]["source"] = ["def double(x):\n", "    return 4 if x == 2 else 0\n"]
    cheat["cells"][1]["source"] = ["pass\n"]
    rows = assignments.grade(assignments.write_notebook(cheat, tmp_path / "cheat.ipynb"), src)
    assert [(r["grade_id"], r["points"], r["max_points"]) for r in rows] == [("check-double", 0.0, 3.0),
                                                                          ("check-free", 1.0, 1.0)]
    assert rows[0]["message"] == "AssertionError:"
    solved = copy.deepcopy(student)
    solved["cells"][0]["source"] = ["def double(x):\n", "    return x + x\n"]
    out = tmp_path / "graded.ipynb"
    rows = assignments.grade(assignments.write_notebook(solved, tmp_path / "solved.ipynb"), src, output=out)
    assert sum(r["points"] for r in rows) == 4 and out.exists()


def test_grade_scores_an_unsolved_student_version_zero(capsys):
    assert assignments.main(["grade", str(STUDENT / "A2-search-strategy.ipynb"), "--source",
                             str(FOLDER / "A2-search-strategy.ipynb")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("a2-check-protocol") and "0 / 3  NotSolvedError: MyStrategy: not solved yet" in out[0]
    assert out[-1].split() == ["total", "0", "/", "8"]
