"""``python -m autograder``: release the exercises, grade submissions, run the demo.

    python -m autograder grade ASSIGNMENT PATH... [--json FILE] [--csv FILE] [--feedback DIR]
                                                  [--jobs N] [--timeout S]
    python -m autograder release [ASSIGNMENT ...]   regenerate exercises/ from solutions/
    python -m autograder samples                    rewrite the sample submissions from solutions/
    python -m autograder demo                       release, then grade the bundled samples
"""

import os

# one BLAS thread per process: the grader runs one student process per core already
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import sys

from . import demo
from .course import ASSIGNMENTS, ROOT
from .nbgrader_route import release
from .samples import write_samples


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade notebooks out of process and report")
    grade.add_argument("assignment", choices=ASSIGNMENTS)
    grade.add_argument("paths", nargs="+", metavar="PATH",
                       help="a notebook, or a folder of submitted/<student>/<assignment>/*.ipynb")
    grade.add_argument("--json", metavar="FILE", help="write the JSON report here")
    grade.add_argument("--csv", metavar="FILE", help="write one row of scores per student here")
    grade.add_argument("--feedback", metavar="DIR", help="write DIR/<student>/<assignment>.html")
    grade.add_argument("--jobs", type=int, default=None, help="parallel submissions (default: the cores)")
    grade.add_argument("--timeout", type=float, default=20.0, help="seconds per graded name (default 20)")
    make = commands.add_parser("release", help="regenerate exercises/ from solutions/ with nbgrader")
    make.add_argument("assignments", nargs="*", default=list(ASSIGNMENTS), metavar="ASSIGNMENT")
    commands.add_parser("samples", help="rewrite autograder/samples/ from solutions/ and exercises/")
    demo_command = commands.add_parser("demo", help="release, then grade the bundled samples and print the table")
    demo_command.add_argument("--nbgrader", action="store_true", help="grade with nbgrader autograde instead")
    args = parser.parse_args(argv)
    if args.command == "grade":
        from .cli_grade import grade_command

        return grade_command(args, parser)
    if args.command == "release":
        unknown = sorted(set(args.assignments) - set(ASSIGNMENTS))
        if unknown:
            parser.error(f"unknown assignment(s) {unknown}; expected some of {list(ASSIGNMENTS)}")
        release(args.assignments)
        print(f"released {', '.join(args.assignments)} to exercises/")
        return 0
    if args.command == "samples":
        for path in write_samples():
            print(path.relative_to(ROOT))
        return 0
    return demo.main("nbgrader" if args.nbgrader else "autograder")


if __name__ == "__main__":
    sys.exit(main())
