"""Similarity screening: our AST-normalised k-grams next to copydetect's winnowing and difflib, side by side.

Two measurements (autograder/README.md, "Integrity", quotes them):

* **calibration**: each candidate scores the cases of ``tests/test_similarity.py`` — 31 pairs of
  independently written correct solutions (Linear, Sigmoid, sigmoid, backward, Tanh; against each other
  and against the reference) and 11 disguised copies (renamed, reordered, commented, the reference pasted).
  A candidate is better the wider the gap between the highest independent score and the lowest copy
  score; printed with the false positives and misses at the candidate's threshold.
* **time**: screening a class of 100 ps4_flow_graph submissions (every graded target, every pair of
  students and each against the reference), per candidate, best of ``--repeat``.

    python benchmarks/similarity.py            # about 1 minute on 2 idle cores
    python benchmarks/similarity.py --quick    # 30 submissions, one repeat: a smoke test

copydetect (``pip install copydetect``) is a peer: when it is not installed its rows say so.
"""

import argparse
import difflib
import itertools
import json
import logging
import sys

from _common import REPO_ROOT, OtherLoad, Row, best_of, load_line, print_table, target_line, timed

sys.path.insert(0, str(REPO_ROOT / "tests"))

from test_similarity import ASSIGNMENT, COPIES, INDEPENDENT, copy_pairs, independent_pairs

from autograder import similarity
from autograder.course import solution_sources
from autograder.notebook import read_notebook
from nbbackprop.checks import TARGETS

DIFFLIB_THRESHOLD = 0.8
COPYDETECT_THRESHOLD = 0.6  # between its highest independent and lowest copy scores below


def _starter(target):
    return similarity.starter(ASSIGNMENT[target]).get(target)


def ours(target, source, other):
    mine = similarity.Code(source, _starter(target))
    if other is None:
        return similarity.contained(mine, similarity.reference_code(target))
    return similarity.score(mine, similarity.Code(other, _starter(target)))


def with_difflib(target, source, other):
    """difflib's ratio of the two normalised token streams (the same normalisation as ours)."""
    given = _starter(target)
    left = [t for unit in similarity.Code(source, given).units for t in unit]
    right_source = similarity.reference_source(target) if other is None else other
    right = [t for unit in similarity.Code(right_source, given).units for t in unit]
    return difflib.SequenceMatcher(None, left, right, autojunk=False).ratio()


def with_copydetect(target, source, other):
    given = _starter(target)
    right = similarity.reference_source(target) if other is None else other
    return similarity.copydetect_score(source, right, given.source if given else None)


def copydetect_available():
    try:
        import copydetect  # noqa: F401
    except ImportError:
        return False
    logging.disable(logging.WARNING)  # it warns about every file it cannot tokenize
    return True


def judged(target, source, other):
    """Whether both sides are long enough to be judged (the same rule, ours, for every candidate)."""
    right = similarity.reference_code(target) if other is None else similarity.Code(other, _starter(target))
    return similarity.judged(similarity.Code(source, _starter(target)), right)


def calibration(candidates):
    short = [f"{t} {n}" for t, n, a, b in independent_pairs() if not judged(t, a, b)]
    print(f"calibration: tests/test_similarity.py, {len(independent_pairs())} independent pairs, {len(COPIES)} "
          f"disguised copies; too short to judge (< {similarity.MIN_GRAMS} k-grams, never flagged, left out "
          f"below for every candidate): {', '.join(short) or 'none'}\n")
    lines = [("candidate", "highest independent", "lowest copy", "gap", "threshold", "false +", "missed")]
    results = {}
    for name, (score, threshold) in candidates.items():
        independent = [(score(t, a, b), f"{t} {n}") for t, n, a, b in independent_pairs() if judged(t, a, b)]
        copies = [(score(t, a, b), f"{t} {n}") for t, n, a, b in copy_pairs()]
        high, low = max(independent), min(copies)
        false = sum(v >= threshold for v, _ in independent)
        missed = sum(v < threshold for v, _ in copies)
        results[name] = (high[0], low[0], false, missed)
        lines.append((name, f"{high[0]:.2f} ({high[1]})", f"{low[0]:.2f} ({low[1]})", f"{low[0] - high[0]:+.2f}",
                      f"{threshold:.2f}", f"{false} / {len(independent) + len(short)}", f"{missed} / {len(copies)}"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for line in lines:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    print()
    return results


def a_class(size):
    """``size`` ps4 submissions: the calibration's Linear and Sigmoid versions in turn, the model answer
    for the other cells (the screening's cost does not depend on what the code says, only how much)."""
    answers = solution_sources("ps4_flow_graph")
    linear = [*INDEPENDENT["Linear"].values(), *(c[2] for c in COPIES if c[0] == "Linear")]
    sigmoid = [*INDEPENDENT["Sigmoid"].values(), *(c[2] for c in COPIES if c[0] == "Sigmoid")]
    tanh = list(INDEPENDENT["Tanh"].values())
    notebooks = {}
    for i in range(size):
        cells = dict(answers, Linear=linear[i % len(linear)], Sigmoid=sigmoid[i % len(sigmoid)], Tanh=tanh[i % 2])
        notebooks[f"student{i:03d}"] = read_notebook(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "code", "id": f"c{n}", "metadata": {"nbgrader": {"grade_id": t, "solution": True}},
                       "source": s, "outputs": [], "execution_count": None}
                      for n, (t, s) in enumerate(cells.items())]}).encode())
    return notebooks


def screen_ours(notebooks):
    return timed(lambda: similarity.screen("ps4_flow_graph", notebooks))


def screen_pairwise(notebooks, fingerprint, compare):
    """The same screening done with another candidate: one fingerprint per cell, every pair compared."""
    def run():
        flagged = 0
        for target in TARGETS["ps4_flow_graph"]:
            given = similarity.starter("ps4_flow_graph").get(target)
            cells = [fingerprint(similarity.cell_source(nb, target), given) for nb in notebooks.values()]
            reference = similarity.reference_source(target)
            reference = fingerprint(reference, given) if reference else None
            flagged += sum(compare(a, b) for a, b in itertools.combinations(cells, 2))
            flagged += sum(compare(a, reference) for a in cells) if reference else 0
        return flagged
    return timed(run)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 submissions, one repeat")
    parser.add_argument("--size", type=int, default=100, help="submissions in the timed class (default 100)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size, repeat = (30, 1) if args.quick else (args.size, args.repeat)
    have_copydetect = copydetect_available()
    print(f"similarity screening benchmark; {load_line()}\n")

    candidates = {"ours (AST k-grams)": (ours, similarity.THRESHOLD),
                  "difflib (AST stream)": (with_difflib, DIFFLIB_THRESHOLD)}
    if have_copydetect:
        candidates["copydetect (winnowing)"] = (with_copydetect, COPYDETECT_THRESHOLD)
    found = calibration(candidates)

    notebooks = a_class(size)
    runs = {"ours (AST k-grams)": lambda: screen_ours(notebooks),
            "difflib (AST stream)": lambda: screen_pairwise(
                notebooks, lambda s, g: [t for u in similarity.Code(s, g).units for t in u],
                lambda a, b: difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= DIFFLIB_THRESHOLD)}
    if have_copydetect:
        import io

        from copydetect import CodeFingerprint, compare_files

        def fingerprint(source, given):
            boilerplate = list(CodeFingerprint("s.py", 25, 6, fp=io.StringIO(given.source)).hashes) if given else None
            return CodeFingerprint("cell.py", 25, 6, boilerplate, fp=io.StringIO(source))

        runs["copydetect (winnowing)"] = lambda: screen_pairwise(
            notebooks, fingerprint, lambda a, b: max(compare_files(a, b)[1]) >= COPYDETECT_THRESHOLD)
    with OtherLoad() as meter:
        best = best_of(runs, repeat)
    pairs = size * (size - 1) // 2 * len(TARGETS["ps4_flow_graph"])
    mine = best["ours (AST k-grams)"][0]
    rows = [Row(name, seconds, note=f"{1000 * seconds / size:.1f} ms per submission, {1e6 * seconds / pairs:.0f} µs "
                                    "per pair") for name, (seconds, _) in best.items()]
    if not have_copydetect:
        rows.append(Row("copydetect (winnowing)", None, note="peer unavailable: pip install copydetect"))
    print_table(f"time: screening {size} ps4_flow_graph submissions ({pairs} pairs of cells and "
                f"{size * len(TARGETS['ps4_flow_graph'])} against the reference), best of {repeat}", rows, mine)
    print(meter.line())
    high, low, false, missed = found["ours (AST k-grams)"]
    target_line(false == 0 and missed == 0, f"calibration: no independent pair flagged, every copy flagged "
                                            f"(threshold {similarity.THRESHOLD}; gap {high:.2f} .. {low:.2f})")
    target_line(mine < 10 if size == 100 else None, f"screening 100 submissions < 10 s: {mine:.2f} s"
                if size == 100 else f"screening 100 submissions < 10 s: not measured ({size} submissions)")


if __name__ == "__main__":
    main()
