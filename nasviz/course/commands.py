"""The command line of ``python -m nasviz.assignments``: ``make-student``, ``nbgrader-course`` and ``grade``.

Examples
--------
>>> main(["make-student", "no-such.ipynb", "-o", "/tmp"])  # the error goes to stderr
1
"""

from __future__ import annotations

import argparse
import sys

from ..errors import InvalidArgumentError
from .nbgrader import make_course
from .notebooks import grade, make_student_file


def main(argv=None) -> int:
    """``python -m nasviz.assignments make-student NOTEBOOK... -o FOLDER`` (and ``nbgrader-course``, ``grade``)."""
    parser = argparse.ArgumentParser(
        prog="python -m nasviz.assignments",
        description="Make student versions of assignment notebooks: solutions replaced by "
                    "NotImplementedError, hidden tests and instructor-only cells removed, outputs cleared.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    make = sub.add_parser("make-student", help="write the student version of each notebook into a folder")
    make.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="instructor notebooks (.ipynb)")
    make.add_argument("-o", "--output", required=True, metavar="FOLDER", help="folder for the student versions")
    course = sub.add_parser("nbgrader-course", help="copy the notebooks into an nbgrader course folder as "
                                                    "source/<assignment>/, without the instructor-only cells")
    course.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="instructor notebooks (.ipynb)")
    course.add_argument("--course", required=True, metavar="FOLDER", help="the course folder (created if missing)")
    course.add_argument("--course-id", default="nasviz", help="course id in a new nbgrader_config.py")
    grader = sub.add_parser("grade", help="run a student's notebook with the instructor's checks, hidden ones "
                                          "included, and print the points of each graded cell")
    grader.add_argument("submission", metavar="SUBMISSION", help="the student's notebook")
    grader.add_argument("--source", required=True, metavar="NOTEBOOK", help="the instructor notebook")
    grader.add_argument("-o", "--output", metavar="FILE", help="write the executed notebook here (feedback)")
    grader.add_argument("--timeout", type=int, default=600, metavar="SECONDS", help="per cell (default 600)")
    args = parser.parse_args(argv)
    try:
        if args.command == "make-student":
            for src in args.notebooks:
                path = make_student_file(src, args.output)
                print(f"wrote {path}")
        elif args.command == "nbgrader-course":
            for path in make_course(args.notebooks, args.course, course_id=args.course_id):
                print(f"wrote {path}")
        else:
            rows = grade(args.submission, args.source, output=args.output, timeout=args.timeout)
            width = max(len(r["grade_id"]) for r in rows)
            for r in rows:
                note = f"  {r['message']}" if r["message"] else ""
                print(f"{r['grade_id']:<{width}}  {r['points']:g} / {r['max_points']:g}{note}")
            print(f"{'total':<{width}}  {sum(r['points'] for r in rows):g} / {sum(r['max_points'] for r in rows):g}")
    except InvalidArgumentError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0

