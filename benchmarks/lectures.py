"""How long each lecture takes to run from a fresh kernel, against the course's budget.

Budget (issue: self-study lectures): each lecture under 20 s, all six under 60 s on the
2-core machine. Each notebook is executed with nbclient as a reader's "Run All" would,
best of ``--repeat`` runs, kernel start-up included.

    python benchmarks/lectures.py [--repeat 2]
"""

import argparse
import sys
import time

import nbformat
from _common import REPO_ROOT, load_line
from nbclient import NotebookClient

EACH, ALL = 20.0, 60.0


def run(path):
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO_ROOT)}}).execute()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    lectures = sorted((REPO_ROOT / "lectures").glob("L0*.ipynb"))
    print(f"lecture run times, best of {args.repeat}; {load_line()}\n")
    times = {path.stem: min(run(path) for _ in range(args.repeat)) for path in lectures}
    for name, seconds in times.items():
        print(f"  {name:<26} {seconds:6.1f} s   {'PASS' if seconds < EACH else 'MISS'} (< {EACH:g} s)")
    total = sum(times.values())
    ok = total < ALL and all(s < EACH for s in times.values())
    print(f"\n  {'all six':<26} {total:6.1f} s   {'PASS' if total < ALL else 'MISS'} (< {ALL:g} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
