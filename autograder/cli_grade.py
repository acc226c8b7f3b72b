"""The ``grade`` command: a progress bar while it runs, a table when it is done, the files asked for."""

import os
import sys
import time

from . import report
from .grader import find_notebooks, grade_batch
from .sandbox import Limits


def grade_command(args, parser):
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    notebooks = find_notebooks(args.paths, args.assignment)
    if not notebooks:
        parser.error(f"found no notebook under {', '.join(args.paths)}")
    if args.timeout <= 0 or (args.jobs is not None and args.jobs < 1):
        parser.error("expected --timeout > 0 and --jobs >= 1")
    from tqdm import tqdm

    start = time.perf_counter()
    with tqdm(total=len(notebooks), desc=f"grading {args.assignment}", unit="notebook", file=sys.stderr,
              disable=not sys.stderr.isatty()) as bar:
        entries = grade_batch(args.assignment, args.paths, jobs=args.jobs,
                              limits=Limits(target_seconds=args.timeout, cell_seconds=max(60.0, 3 * args.timeout)),
                              progress=lambda entry: bar.update(1))
    seconds = time.perf_counter() - start
    print(report.summary_table(entries))
    print(f"\n{len(entries)} submission(s) of {args.assignment} graded in {seconds:.1f} s")
    if args.json:
        report.write_json(args.json, args.assignment, entries)
    if args.csv:
        report.write_csv(args.csv, args.assignment, entries)
    if args.feedback:
        report.write_feedback(args.feedback, args.assignment, entries)
    return 0
