"""The ``grade`` command: sort the files out, grade with a progress bar, merge into the assignment's folder."""

import sys
import time
from collections import Counter
from pathlib import Path

from . import report as reports
from . import results
from .executors import ENGINES, engine
from .grader import course_commit, grade_class, ungraded
from .intake import LAYOUTS
from .roster import read_roster
from .sandbox import Limits


def add_arguments(grade):
    grade.add_argument("paths", nargs="+", metavar="PATH",
                       help="notebooks, folders or zip files in any layout of the README (nbgrader's "
                            "submitted/<student>/<assignment>/, a Canvas or Moodle download, a plain folder)")
    grade.add_argument("--roster", metavar="FILE", help="CSV of the class (id, name, email, LMS ids): names "
                                                        "the students and lists those who handed in nothing")
    grade.add_argument("--layout", choices=LAYOUTS, help="read every file in this layout instead of guessing")
    grade.add_argument("--out", metavar="DIR", help="output folder (default: graded/ in the course); the "
                                                    "assignment's report, CSV and feedback go to DIR/<assignment>/")
    grade.add_argument("--replace", action="store_true",
                       help="start the assignment's report afresh instead of merging this run into it")
    grade.add_argument("--json", metavar="FILE", help="also write the JSON report here")
    grade.add_argument("--csv", metavar="FILE", help="also write the CSV of scores here")
    grade.add_argument("--feedback", metavar="DIR", help="also write the feedback pages to DIR/<student>.html")
    grade.add_argument("--jobs", type=int, default=None, help="parallel submissions (default: the cores)")
    grade.add_argument("--timeout", type=float, default=20.0, help="seconds per graded name (default 20)")
    grade.add_argument("--engine", choices=ENGINES,
                       help="local (default): a pool of worker processes; dask: a Dask LocalCluster of --jobs workers")
    grade.add_argument("--scheduler", metavar="ADDRESS", help="grade on the running Dask cluster at ADDRESS "
                                                              "(tcp://host:8786); implies --engine dask")
    grade.add_argument("--resume", action="store_true",
                       help=f"grade only what DIR/<assignment>/{results.FILE} has no line for (missing or changed)")
    grade.add_argument("--on-similarity", choices=("flag", "zero"), default="flag",
                       help="flag (default): list similar code in the report, grades unchanged; zero: flagged "
                            "targets score 0, the entry's notes say so")


def grade_command(args, parser, course_root):
    if args.timeout <= 0 or (args.jobs is not None and args.jobs < 1):
        parser.error(f"expected --timeout > 0 and --jobs >= 1, got --timeout {args.timeout} --jobs {args.jobs}")
    try:
        roster = read_roster(args.roster) if args.roster else None
    except (OSError, ValueError) as error:
        parser.error(str(error))
    if args.scheduler and args.engine == "local":
        parser.error(f"--scheduler {args.scheduler} grades on Dask: drop --engine local")
    if args.resume and args.replace:
        parser.error("--resume keeps the results of an earlier run and --replace starts afresh: give one")
    out = Path(args.out) if args.out else Path(course_root) / "graded"
    folder = out / args.assignment
    try:
        previous = None if args.replace else reports.read_report(folder)
    except ValueError as error:
        parser.error(str(error))
    from tqdm import tqdm

    start = time.perf_counter()
    bar = tqdm(desc=f"grading {args.assignment}", unit="notebook", file=sys.stderr, disable=not sys.stderr.isatty())

    def started(intake):
        bar.reset(total=len(intake.submissions))
        for warning in intake.warnings:
            bar.write(f"warning: {warning}", file=sys.stderr)

    try:
        grader = engine(args.engine or "local", args.jobs, args.scheduler)
    except ImportError as error:
        parser.error(f"--engine dask needs dask and distributed (pip install -r requirements.txt): {error}")
    except OSError as error:
        parser.error(f"could not reach the Dask scheduler {args.scheduler}: {error}")
    streamed = results.Results(folder / results.FILE, args.resume, course_commit(course_root), fresh=args.replace)
    with grader, bar:
        run = grade_class(args.assignment, args.paths, roster=roster, layout=args.layout, jobs=args.jobs,
                          limits=Limits(target_seconds=args.timeout, cell_seconds=max(60.0, 3 * args.timeout)),
                          progress=lambda entry: bar.update(1), course_root=course_root, on_intake=started,
                          engine=grader, results=streamed)
    seconds = time.perf_counter() - start
    if args.on_similarity == "zero":
        from .similarity import zero_flagged

        zero_flagged(run)
    for entry in run["submissions"]:
        entry.setdefault("course_commit", run["course_commit"])  # a resumed entry keeps the commit it was graded at
    merged = reports.merge(previous, run)
    reports.write_all(folder, merged)
    if args.json:
        reports.write_json(args.json, merged)
    if args.csv:
        reports.write_csv(args.csv, merged)
    if args.feedback:
        reports.write_feedback(args.feedback, merged)
    if run["submissions"]:
        print(reports.summary_table(run["submissions"]))
    kinds = Counter(s["kind"] for s in run["skipped"])
    counts = {"graded": len(run["submissions"]), "superseded": kinds["superseded"],
              "skipped": len(run["skipped"]) - kinds["superseded"], "missing": len(run["missing"])}
    print(f"\n{args.assignment} in {seconds:.1f} s: " + reports.closing_summary(run, counts, folder))
    if streamed.reused:
        print(f"(resumed: {streamed.reused} entries taken from {results.FILE}, the rest graded now)")
    if previous is not None and len(merged["submissions"]) > len(run["submissions"]):
        print(f"(merged into the earlier report: {len(merged['submissions'])} students in all)")
    from .class_report import summary_lines, write_course_report

    print("\n".join(["", *summary_lines(merged, folder=reports.relative(folder))]))
    write_course_report(out)
    return 1 if ungraded(run) else 0
