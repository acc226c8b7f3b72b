"""``python -m autograder``: release the exercises, grade submissions, run the demo.

    python -m autograder release [ASSIGNMENT ...]   regenerate exercises/ from solutions/
    python -m autograder samples                    rewrite the sample submissions from solutions/
    python -m autograder demo                       release, then grade the bundled samples
"""

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
    make = commands.add_parser("release", help="regenerate exercises/ from solutions/ with nbgrader")
    make.add_argument("assignments", nargs="*", default=list(ASSIGNMENTS), metavar="ASSIGNMENT")
    commands.add_parser("samples", help="rewrite autograder/samples/ from solutions/ and exercises/")
    commands.add_parser("demo", help="release, then grade the bundled sample submissions and print the table")
    args = parser.parse_args(argv)
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
    return demo.main()


if __name__ == "__main__":
    sys.exit(main())
