"""Benchmark: grading a class of ps4 submissions with ``nbgrader autograde`` and with our grader.

The same N model-answer notebooks of ps4_flow_graph (24 by default) are graded
side by side in one run:

* **nbgrader** — the usual course cycle in a scratch copy of the course:
  ``nbgrader autograde ps4_flow_graph`` over ``submitted/<student>/`` (one
  Jupyter kernel per notebook, one notebook after the other, as nbgrader does);
* **autograder** — ``autograder.grader.grade_batch`` with its default pool
  (one warm worker per core; each submission in its own walled process).

Both must give every submission full marks; the script prints each one's
wall-clock time, submissions per second, and the throughput ratio (target:
our grader at least 10× nbgrader's throughput on the 2-core machine).

    python benchmarks/grading.py [--submissions N]
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO_ROOT, load_line

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as `python -m autograder` sets it

ASSIGNMENT = "ps4_flow_graph"


def make_class(directory, count):
    """``directory/submitted/sNN/ps4_flow_graph/ps4_flow_graph.ipynb``: the model answer, ``count`` times."""
    import nbformat

    from autograder.course import model_answer

    notebook = model_answer(ASSIGNMENT)
    for i in range(count):
        path = Path(directory) / "submitted" / f"s{i:02d}" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, path)
    return Path(directory) / "submitted"


def time_nbgrader(course, count):
    """Seconds for ``nbgrader autograde`` of the whole class, and the scores it exported."""
    from autograder.nbgrader_route import nbgrader, scratch_course

    scratch_course(course)
    nbgrader(["generate_assignment", ASSIGNMENT, "--force"], cwd=course)  # set-up, not timed
    start = time.perf_counter()
    nbgrader(["autograde", ASSIGNMENT, "--create", "--force"], cwd=course)
    seconds = time.perf_counter() - start
    nbgrader(["export", "--to", str(course / "grades.csv")], cwd=course)
    import csv

    with open(course / "grades.csv") as handle:
        scores = [(float(r["score"]), float(r["max_score"])) for r in csv.DictReader(handle)]
    return seconds, scores


def time_autograder(submitted):
    from autograder.grader import grade_batch

    start = time.perf_counter()
    entries = grade_batch(ASSIGNMENT, [submitted])
    seconds = time.perf_counter() - start
    return seconds, [(e["score"], e["max_score"]) for e in entries]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=24)
    args = parser.parse_args(argv)
    print(f"grading benchmark: {args.submissions} model answers of {ASSIGNMENT}; Python "
          f"{sys.version.split()[0]}; {load_line()}")
    with tempfile.TemporaryDirectory(prefix="nbbackprop-grading-bench-") as scratch:
        course = Path(scratch) / "course"
        course.mkdir()
        submitted = make_class(course, args.submissions)
        ours, our_scores = time_autograder(submitted)
        theirs, their_scores = time_nbgrader(course, args.submissions)
        shutil.rmtree(course / "autograded", ignore_errors=True)
    full = [s == m and m > 0 for s, m in our_scores], [s == m and m > 0 for s, m in their_scores]
    rows = [("nbgrader autograde", theirs, their_scores), ("autograder (ours)", ours, our_scores)]
    print(f"\n  {'grader':<20} {'seconds':>8} {'notebooks/s':>12} {'full marks':>11}")
    for name, seconds, scores in rows:
        print(f"  {name:<20} {seconds:8.2f} {len(scores) / seconds:12.2f} "
              f"{sum(s == m for s, m in scores):>5} / {len(scores):<4}")
    ratio = theirs / ours
    print(f"\nthroughput ratio (ours / nbgrader) = {ratio:.1f}×   ({load_line()})")
    ok = all(full[0]) and all(full[1]) and len(our_scores) == len(their_scores) == args.submissions
    verdict = "PASS" if ratio >= 10 and ok else "MISS"
    print(f"{verdict}  ≥ 10× nbgrader's throughput, both at full marks: {ratio:.1f}×, "
          f"full marks {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    sys.exit(main())
