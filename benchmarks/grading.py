"""Benchmark: grading classes of mixed ps4 submissions with ``nbgrader autograde``, our local pool, and Dask.

Each class (24, 96 and 384 submissions by default) cycles through the kinds a real
class hands in: model answers, typical bugs (ben's of ``autograder/samples.py``),
untouched stubs, a notebook whose first code cell raises, and one that loops
forever (stopped by the cell time limit, 10 s for every grader). Peers, on the same
files in the same run:

* **nbgrader** — the usual course cycle in a scratch copy of the course:
  ``nbgrader autograde ps4_flow_graph`` over ``submitted/<student>/`` (one
  Jupyter kernel per notebook, one notebook after the other, as nbgrader does);
  on classes up to ``--nbgrader-up-to`` (96) only, as it takes minutes;
* **local pool** — ``autograder.grader.grade_class`` with its default engine
  (one warm worker per core; each submission in its own walled process);
* **dask** — the same call on a Dask ``LocalCluster`` of one single-threaded worker
  per core (``grade --engine dask``); starting the cluster is set-up, not timed.

Printed per class and peer: wall-clock seconds, seconds per submission per core, peak
resident memory of the whole process tree, and the ratios the targets are about:
per-submission cost flat from the smallest class to the largest (within 15 %), peak memory
independent of class size, Dask within 1.2× of the local pool, and our throughput at least
10× nbgrader's. Both our engines must give every submission the same score.

    python benchmarks/grading.py [--sizes 24 96 384] [--engines local dask] [--nbgrader-up-to 96]
"""

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import REPO_ROOT, OtherLoad, load_line

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as `python -m autograder` sets it

ASSIGNMENT = "ps4_flow_graph"
CELL_SECONDS = 10.0
KINDS = ("model", "bug", "model", "untouched", "model", "raises", "bug", "loops")


def notebooks():
    """``{kind: notebook}`` of the kinds a class is made of."""
    import nbformat

    from autograder.course import model_answer, untouched
    from autograder.samples import buggy

    def with_first_cell(source):
        notebook = model_answer(ASSIGNMENT)
        notebook.cells.insert(0, nbformat.v4.new_code_cell(source))
        return notebook

    return {"model": model_answer(ASSIGNMENT), "bug": buggy(ASSIGNMENT), "untouched": untouched(ASSIGNMENT),
            "raises": with_first_cell("raise RuntimeError('not finished')"),
            "loops": with_first_cell("while True:\n    pass")}


def make_class(directory, count):
    """``directory/submitted/sNNN/ps4_flow_graph/ps4_flow_graph.ipynb``, the kinds in turn; returns the folder
    and each student's kind."""
    import nbformat

    kinds, by_kind = {}, notebooks()
    for i in range(count):
        student, kinds[f"s{i:03d}"] = f"s{i:03d}", KINDS[i % len(KINDS)]
        path = Path(directory) / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(by_kind[kinds[student]], path)
    return Path(directory) / "submitted", kinds


class PeakMemory:
    """``with PeakMemory() as peak: ...`` then ``peak.megabytes``: the largest resident memory of this
    process and all its descendants (pool workers, Dask workers, student processes, kernels), sampled."""

    def __enter__(self):
        import psutil  # installed with distributed

        self.megabytes, self._done, self._me = 0.0, threading.Event(), psutil.Process()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        import psutil

        while not self._done.wait(0.1):
            total = 0
            for process in [self._me, *self._me.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    continue
            self.megabytes = max(self.megabytes, total / 2**20)

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        return False


def time_nbgrader(course):
    """Seconds for ``nbgrader autograde`` of the whole class."""
    from autograder.nbgrader_route import nbgrader, scratch_course

    scratch_course(course)
    nbgrader(["generate_assignment", ASSIGNMENT, "--force"], cwd=course)  # set-up, not timed
    start = time.perf_counter()
    with PeakMemory() as peak:
        nbgrader(["autograde", ASSIGNMENT, "--create", "--force", f"--ExecutePreprocessor.timeout={CELL_SECONDS:g}"],
                 cwd=course)
    return time.perf_counter() - start, peak.megabytes, None


def time_ours(submitted, engine):
    from autograder.grader import grade_class
    from autograder.sandbox import Limits

    start = time.perf_counter()
    with PeakMemory() as peak:
        report = grade_class(ASSIGNMENT, [submitted], engine=engine,
                             limits=Limits(target_seconds=CELL_SECONDS, cell_seconds=CELL_SECONDS))
    return time.perf_counter() - start, peak.megabytes, {e["student"]: e["score"] for e in report["submissions"]}


def main(argv=None):
    from autograder.executors import DaskEngine, LocalPool
    from autograder.points import max_score

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[24, 96, 384])
    parser.add_argument("--engines", nargs="+", choices=("local", "dask"), default=["local", "dask"])
    parser.add_argument("--nbgrader-up-to", type=int, default=96, help="run nbgrader on classes this large or "
                                                                        "smaller (0: never)")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    print(f"grading benchmark: classes of {args.sizes} mixed {ASSIGNMENT} submissions ({', '.join(KINDS)}); "
          f"Python {sys.version.split()[0]}; {load_line()}")
    engines = {"local pool": LocalPool(cores)} if "local" in args.engines else {}
    if "dask" in args.engines:
        engines["dask"] = DaskEngine(cores).start()  # the cluster's start is set-up, not timed
    cost, seconds, memory, agree = {}, {}, {}, True
    try:
        for size in args.sizes:
            with tempfile.TemporaryDirectory(prefix="nbbackprop-grading-bench-") as scratch, OtherLoad() as meter:
                course = Path(scratch) / "course"
                submitted, kinds = make_class(course, size)
                scores = {}
                for name, engine in engines.items():
                    seconds[name, size], memory[name, size], scores[name] = time_ours(submitted, engine)
                if args.nbgrader_up_to and size <= args.nbgrader_up_to:
                    seconds["nbgrader", size], memory["nbgrader", size], _ = time_nbgrader(course)
            full = {s for s, kind in kinds.items() if kind == "model"}
            agree &= len({tuple(sorted(s.items())) for s in scores.values()}) <= 1 and all(
                len(s) == size and all(s[student] == max_score(ASSIGNMENT) for student in full)
                for s in scores.values())
            print(f"\n  class of {size}: {meter.line()}")
            print(f"  {'grader':<12} {'seconds':>8} {'notebooks/s':>12} {'s / submission / core':>22} "
                  f"{'peak MB':>8}")
            for name in ("nbgrader", *engines):
                if (name, size) in seconds:
                    # nbgrader runs one notebook at a time: its cost is per submission on one core
                    per = seconds[name, size] * (1 if name == "nbgrader" else cores) / size
                    cost[name, size] = per
                    print(f"  {name:<12} {seconds[name, size]:8.2f} {size / seconds[name, size]:12.2f} {per:22.3f} "
                          f"{memory[name, size]:8.0f}")
    finally:
        for engine in engines.values():
            engine.close()
    print()
    print(f"{'PASS' if agree else 'MISS'}  our engines give every submission the same score, model answers full marks")
    smallest, largest = min(args.sizes), max(args.sizes)
    for name in engines:
        if smallest != largest:
            drift = cost[name, largest] / cost[name, smallest]
            print(f"{'PASS' if drift <= 1.15 else 'MISS'}  {name}: per-submission cost flat from {smallest} to "
                  f"{largest} (≤ 1.15×): {drift:.2f}×")
            growth = memory[name, largest] / memory[name, smallest]
            print(f"{'PASS' if growth <= 1.15 else 'MISS'}  {name}: peak memory of the process tree independent of "
                  f"class size (≤ 1.15× from {smallest} to {largest}): {growth:.2f}×")
    if "local pool" in engines and "dask" in engines:
        for size in args.sizes:
            ratio = seconds["dask", size] / seconds["local pool", size]
            print(f"{'PASS' if ratio <= 1.2 else 'MISS'}  dask within 1.2× of the local pool, class of {size}: "
                  f"{ratio:.2f}×")
    for size in args.sizes:
        for name in engines:
            if ("nbgrader", size) in seconds:
                ratio = seconds["nbgrader", size] / seconds[name, size]
                print(f"{'PASS' if ratio >= 10 else 'MISS'}  {name} ≥ 10× nbgrader's throughput, class of {size}: "
                      f"{ratio:.1f}×")
    print(f"({load_line()})")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    sys.exit(main())
