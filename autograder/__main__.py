"""``autograder`` (or ``python -m autograder``): release the exercises, grade a class, export the grades.

    autograder grade ASSIGNMENT PATH... [--roster FILE] [--layout L] [--out DIR] [--json FILE] [--csv FILE]
                                        [--feedback DIR] [--jobs N] [--timeout S] [--replace | --resume]
                                        [--engine local|dask] [--scheduler ADDRESS] [--on-similarity zero|flag]
    autograder gradebook [--out DIR] [--roster FILE] --format csv|canvas|moodle -o FILE
    autograder gradescope ASSIGNMENT -o BUNDLE.zip   a Gradescope autograder zip (setup.sh, run_autograder)
    autograder nbgrader-gradebook ASSIGNMENT         our grades into nbgrader's gradebook (the formgrader)
    autograder check NOTEBOOK [--html FILE]          a student grades their own notebook, hidden inputs withheld
    autograder bundle -o STUDENT.zip                 what students receive: exercises, lectures, library, data
    autograder release [ASSIGNMENT ...]              regenerate exercises/ from solutions/
    autograder samples                               rewrite the sample submissions from solutions/
    autograder demo                                  release, then grade the bundled samples

Every command works from any folder inside the course, or from anywhere with --course DIR.
Exit status: 0 when everything asked for was done (every submission graded), 1 when some
submissions could not be graded (they are in the report), 2 on a usage error.
"""

import os

# one BLAS thread per process: the grader runs one student process per core already
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import sys
from pathlib import Path


def _course_first(argv):
    """Honour ``--course DIR`` before anything reads the course (the modules find it when imported)."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--course")
    known, _ = early.parse_known_args(argv)
    if known.course:
        os.environ["NBBACKPROP_COURSE"] = str(Path(known.course).resolve())


def _parser():
    from .course import ASSIGNMENTS

    course = argparse.ArgumentParser(add_help=False)
    course.add_argument("--course", metavar="DIR", help="the course directory (default: the one holding the "
                                                        "working directory)")
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__, parents=[course],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", parents=[course], help="grade a class out of process and report")
    grade.add_argument("assignment", choices=ASSIGNMENTS)
    from .cli_grade import add_arguments

    add_arguments(grade)
    book = commands.add_parser("gradebook", parents=[course], help="every student × every assignment, "
                                                                   "as CSV or for an LMS import")
    book.add_argument("--out", metavar="DIR", help="where 'grade' wrote its reports (default: graded/ in the course)")
    book.add_argument("--roster", metavar="FILE", help="the class list: adds LMS ids, names, emails and "
                                                       "students who handed in nothing")
    book.add_argument("--format", required=True, choices=("csv", "canvas", "moodle"))
    book.add_argument("--canvas-id", action="append", default=[], metavar="ASSIGNMENT=ID",
                      help="the Canvas assignment id of an assignment (repeat); without it Canvas creates one")
    book.add_argument("-o", "--output", required=True, metavar="FILE")
    scope = commands.add_parser("gradescope", parents=[course], help="a Gradescope autograder bundle")
    scope.add_argument("assignment", choices=ASSIGNMENTS)
    scope.add_argument("-o", "--output", required=True, metavar="BUNDLE.zip")
    scope.add_argument("--hidden-visibility", default="after_published",
                       choices=("after_published", "after_due_date", "visible", "hidden"),
                       help="when students see parts that fail only a hidden test (default: after_published)")
    into = commands.add_parser("nbgrader-gradebook", parents=[course],
                               help="write this grader's grades into nbgrader's gradebook (the formgrader shows them)")
    into.add_argument("assignment", choices=ASSIGNMENTS)
    into.add_argument("--out", metavar="DIR", help="where 'grade' wrote its reports (default: graded/ in the course)")
    into.add_argument("--db", metavar="URL", help="the gradebook (default: the course's gradebook.db)")
    own = commands.add_parser("check", parents=[course], help="grade your own notebook before you hand it in "
                                                              "(the instructor's checks; hidden inputs withheld)")
    from .cli_check import add_arguments as check_arguments

    check_arguments(own)
    hand_out = commands.add_parser("bundle", parents=[course], help="the student bundle: exercises, lectures, "
                                   "the library and its data; no solutions, hidden tests or secret")
    hand_out.add_argument("-o", "--output", required=True, metavar="STUDENT.zip")
    make = commands.add_parser("release", parents=[course], help="regenerate exercises/ from solutions/ with nbgrader")
    make.add_argument("assignments", nargs="*", default=list(ASSIGNMENTS), metavar="ASSIGNMENT")
    commands.add_parser("samples", parents=[course], help="rewrite autograder/samples/ from solutions/ and exercises/")
    demo_command = commands.add_parser("demo", parents=[course],
                                       help="release, then grade the bundled samples and print the table")
    demo_command.add_argument("--nbgrader", action="store_true", help="grade with nbgrader autograde instead")
    for command in commands.choices.values():
        command.set_defaults(command_parser=command)  # usage errors come from the subcommand's own parser
    return parser


def main(argv=None):
    _course_first(sys.argv[1:] if argv is None else argv)
    from .secret import hide_from_proc

    hide_from_proc()  # a course secret in our environment: not readable in /proc by the submissions we run
    args = _parser().parse_args(argv)
    parser = args.command_parser
    from .course import ASSIGNMENTS, locate_course

    try:
        root = locate_course()
    except ValueError as error:
        parser.error(str(error))
    if args.command == "grade":
        from .cli_grade import grade_command

        return grade_command(args, parser, root)
    if args.command == "gradebook":
        return _gradebook(args, parser, root)
    if args.command == "check":
        from .cli_check import check_command

        return check_command(args, parser)
    if args.command == "gradescope":
        from .gradescope import build_bundle

        try:
            bundle = build_bundle(args.assignment, args.output, course=root, hidden_visibility=args.hidden_visibility)
        except ValueError as error:
            parser.error(str(error))
        print(f"wrote {bundle}")
        return 0
    if args.command == "bundle":
        from .bundle import build_bundle

        try:
            print(f"wrote {build_bundle(args.output, course=root)}")
        except ValueError as error:
            parser.error(str(error))
        return 0
    if args.command == "nbgrader-gradebook":
        from .nbgrader_gradebook import write_report

        path = Path(args.out or Path(root) / "graded") / args.assignment / "report.json"
        if not path.is_file():
            parser.error(f"expected {path} from 'autograder grade {args.assignment}', found none")
        try:
            written = write_report(path, args.db, course=root)
        except (OSError, ValueError) as error:
            parser.error(str(error))
        print(f"wrote {len(written)} students' grades of {args.assignment} into {args.db or 'the course gradebook'}")
        return 0
    if args.command == "release":
        from .nbgrader_route import release

        unknown = sorted(set(args.assignments) - set(ASSIGNMENTS))
        if unknown:
            parser.error(f"unknown assignment(s) {unknown}; expected some of {list(ASSIGNMENTS)}")
        release(args.assignments, root=root)
        print(f"released {', '.join(args.assignments)} to exercises/")
        return 0
    if args.command == "samples":
        from .samples import write_samples

        for path in write_samples():
            print(path.relative_to(root))
        return 0
    from . import demo

    return demo.main("nbgrader" if args.nbgrader else "autograder")


def _gradebook(args, parser, root):
    from . import gradebook
    from .course import ASSIGNMENTS
    from .roster import read_roster

    ids = {}
    for pair in args.canvas_id:
        name, _, value = pair.partition("=")
        if name not in ASSIGNMENTS or not value:
            parser.error(f"--canvas-id expected ASSIGNMENT=ID with ASSIGNMENT in {list(ASSIGNMENTS)}, got {pair!r}")
        ids[name] = value
    try:
        roster = read_roster(args.roster) if args.roster else None
        book = gradebook.course_grades(args.out or Path(root) / "graded", roster)
    except (OSError, ValueError) as error:
        parser.error(str(error))
    gradebook.write(args.output, book, args.format, ids)
    print(f"wrote {args.output}: {len(book.students)} students × {len(book.assignments)} assignments "
          f"({', '.join(book.assignments)}) for {args.format}")
    for student in gradebook.unidentified(book, args.format):
        print(f"warning: {student} has no id {args.format} can match (add it to the roster)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
