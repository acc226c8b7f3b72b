"""What nbgrader's metadata says a cell is — the one place that reads it.

The same questions as ``nbgrader.utils.is_grade`` / ``is_solution``, answered the same way, with two
differences that matter here: importing nbgrader costs ~3 s, which every grading run and every
Gradescope container would pay for three dictionary lookups; and a submission's metadata is the
student's (hand-edited or broken), so anything that is not a dict reads as "no nbgrader metadata"
instead of raising.
"""


def nbgrader_meta(cell):
    """The cell's ``metadata.nbgrader`` dict, or ``{}`` when absent or not a dict."""
    metadata = cell.get("metadata", {})
    meta = metadata.get("nbgrader", {}) if isinstance(metadata, dict) else {}
    return meta if isinstance(meta, dict) else {}


def grade_id(cell):
    """The nbgrader ``grade_id`` of a cell, or None."""
    return nbgrader_meta(cell).get("grade_id")


def is_solution(cell):
    return bool(nbgrader_meta(cell).get("solution"))


def is_test(cell):
    """An autograded test cell: graded and not a solution (nbgrader's "autograder tests" cell)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution")
