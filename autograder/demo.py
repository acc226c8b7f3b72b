"""The main job: build the student release, grade the bundled samples, print the grade table."""

import time

from .course import ASSIGNMENTS
from .grader import grade_batch
from .nbgrader_route import release
from .samples import sample_submissions


def grade_table(scores):
    """``scores[assignment][student] = (score, max)`` as a text table, one row per student."""
    students = sorted({student for by_student in scores.values() for student in by_student})
    assignments = [a for a in ASSIGNMENTS if a in scores]
    width = max(len(a) for a in assignments)
    lines = ["student  " + "  ".join(f"{a:>{width}}" for a in assignments)]
    for student in students:
        cells = []
        for assignment in assignments:
            score = scores[assignment].get(student)
            cells.append(f"{'—' if score is None else f'{score[0]:g} / {score[1]:g}':>{width}}")
        lines.append(f"{student:<8} " + "  ".join(cells))
    return "\n".join(lines)


def main(route="autograder"):
    """Release, then grade every sample with our grader (or with nbgrader, ``route="nbgrader"``)."""
    start = time.perf_counter()
    release()
    print(f"released {len(ASSIGNMENTS)} assignments to exercises/ in {time.perf_counter() - start:.1f} s")
    scores = {}
    for assignment, submissions in sample_submissions().items():
        began = time.perf_counter()
        if route == "nbgrader":
            from .nbgrader_route import autograde

            scores[assignment] = autograde(assignment, submissions)
        else:
            entries = grade_batch(assignment, list(submissions.values()))
            scores[assignment] = {e["student"]: (e["score"], e["max_score"]) for e in entries}
            # (the samples are files named by nbgrader's layout, so every one is a submission)
        print(f"graded {len(submissions)} samples of {assignment} with {route} in "
              f"{time.perf_counter() - began:.1f} s")
    print()
    print(grade_table(scores))
    return 0
