"""The assignments through nbgrader: generate_assignment, autograde and generate_feedback on A1.

Three submissions of A1: the instructor's solutions typed into the released notebook
(full points), the released notebook as handed out (no points), and one whose
``reaches_output`` calls the forbidden ``space.is_connected`` (part 1's points lost,
parts 2 and 3 kept: its mutation and space are right).
"""

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")

from nasviz.course.nbgrader import make_course  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
A1 = ROOT / "notebooks" / "assignments" / "A1-mutation-operator.ipynb"
NAME = A1.name


def nbgrader(course, *args):
    """Run an nbgrader command in the course folder; its output on failure."""
    env = dict(os.environ)
    # nbgrader runs alembic (its database migrations) as a program: it must be on PATH
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def cells(nb):
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"] if "nbgrader" in c["metadata"]}


def solved(release, source):
    """The released notebook with each solution cell replaced by the instructor's, markers dropped."""
    nb = copy.deepcopy(release)
    answers = cells(source)
    for grade_id, cell in cells(nb).items():
        if cell["metadata"]["nbgrader"].get("solution"):
            text = "".join(answers[grade_id]["source"])
            cell["source"] = "".join(line for line in text.splitlines(True) if "### " not in line)
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    make_course([A1], course)
    nbgrader(course, "generate_assignment", "A1")
    release = json.loads((course / "release" / "A1" / NAME).read_text())
    source = json.loads((course / "source" / "A1" / NAME).read_text())
    gamed = solved(release, source)
    cell = cells(gamed)["a1-reaches-output"]
    cell["source"] = "def reaches_output(arch):\n    return nv.CellSpace(nodes=arch.nodes).is_connected(arch)\n"
    for student, nb in {"solved": solved(release, source), "unsolved": release, "gamed": gamed}.items():
        folder = course / "submitted" / student / "A1"
        folder.mkdir(parents=True)
        (folder / NAME).write_text(json.dumps(nb))
    nbgrader(course, "autograde", "A1", "--create")
    nbgrader(course, "generate_feedback", "A1")
    return course


def test_release_is_the_student_version(course):
    """nbgrader's release has no solutions, no hidden tests and no instructor banner; the visible checks stay."""
    text = (course / "release" / "A1" / NAME).read_text()
    for gone in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "every_cell", "reached = {0}", "Instructor version"):
        assert gone not in text
    for kept in ("grading.check_reaches_output(reaches_output)", "raise NotImplementedError()"):
        assert kept in text


def scores(course):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {student: {g.name: g.score for nb in gb.find_submission("A1", student).notebooks for g in nb.grades}
                for student in ("solved", "unsolved", "gamed")}


def test_autograde_scores(course):
    got = scores(course)
    assert got["solved"] == {"a1-check-reaches-output": 2, "a1-check-connected-mutate": 4,
                             "a1-check-connected-space": 2}
    assert got["unsolved"] == dict.fromkeys(got["solved"], 0)
    assert got["gamed"] == {"a1-check-reaches-output": 0, "a1-check-connected-mutate": 4,
                            "a1-check-connected-space": 2}


def test_hidden_tests_ran_when_graded(course):
    """autograde puts the hidden checks back: the graded notebook runs them (they are absent from the release)."""
    graded = json.loads((course / "autograded" / "solved" / "A1" / NAME).read_text())
    assert "every_cell = grading.check_reaches_output" in "".join(cells(graded)["a1-check-reaches-output"]["source"])


def test_feedback_says_the_score_and_why(course):
    solved_html = (course / "feedback" / "solved" / "A1" / NAME.replace(".ipynb", ".html")).read_text()
    gamed_html = (course / "feedback" / "gamed" / "A1" / NAME.replace(".ipynb", ".html")).read_text()
    assert re.search(r"Score: 8(\.0)? / 8(\.0)?", solved_html)
    assert re.search(r"Score: 6(\.0)? / 8(\.0)?", gamed_html)
    assert "is_connected" in gamed_html  # the check names the forbidden call
