"""Reading a submitted notebook: what the grader runs, and what it can tell about the file on the way.

:func:`read_notebook` turns the bytes of a submission into a :class:`Notebook`
(the code cells to run, the names the notebook defines, notes for the
student), or raises :class:`Unreadable` with the reason a teaching assistant
would give. nbformat does the reading, so an nbformat v3 notebook is upgraded
rather than refused; outputs are never kept (a notebook bloated by plots is
graded like its code), and the size limits apply to the code alone.
"""

import ast
import json
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field

import nbformat

from nbbackprop.checks import TARGETS

from .cells import grade_id, is_test

MAX_FILE_BYTES = 512 * 2**20  # a file larger than this is not read at all
MAX_CODE_BYTES = 4 * 2**20  # code (outputs left out) larger than this is not graded
_DEFINITION = re.compile(r"^(?:def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*=(?!=)", re.M)


class Unreadable(ValueError):
    """The file cannot be graded as a notebook: ``kind`` is one of ``empty``, ``too-large``,
    ``not-a-notebook``; ``reason`` says why in a few words."""

    def __init__(self, kind, reason):
        super().__init__(reason)
        self.kind, self.reason = kind, reason


@dataclass
class Notebook:
    """What the grader needs of a submitted notebook.

    ``cells`` are the code cells to run as ``[(position, source)]``, where
    ``position`` counts code cells from 1 as the student sees them (test cells
    are left out: the grader's own checks replace them); ``defined`` maps each
    top-level name to the positions of the cells that define it; ``graded_cell`` maps each nbgrader
    grade_id to the position of its cell (the last, if repeated).
    """

    cells: list
    defined: dict
    grade_ids: list
    notes: list = field(default_factory=list)
    graded_cell: dict = field(default_factory=dict)

    def names_in(self, position):
        """The top-level names the code cell at ``position`` defines."""
        return sorted(name for name, positions in self.defined.items() if position in positions)

    def notes_for(self, assignment):
        """Notes on how the graded names of ``assignment`` were found, where the metadata did not say."""
        notes = []
        for name in TARGETS[assignment]:
            if name in self.defined and name not in self.grade_ids:
                where = ", ".join(f"code cell {p}" for p in self.defined[name])
                notes.append(f"{name} is defined in {where}, which has no nbgrader grade_id {name} (a cell pasted "
                             "from elsewhere?): it was found by its name and graded as usual")
        return notes

    def likely_assignment(self, excluding=None):
        """The assignment (other than ``excluding``) whose graded names this notebook defines or whose grade_ids
        it carries most; None if none."""
        names = set(self.defined) | set(self.grade_ids)
        overlap = {other: len(names & set(targets)) for other, targets in TARGETS.items() if other != excluding}
        best = max(overlap, key=overlap.get)
        return best if overlap[best] else None

    def looks_like(self, assignment):
        """The assignment this notebook's graded names belong to when they are not ``assignment``'s, else None."""
        if (set(self.defined) | set(self.grade_ids)) & set(TARGETS[assignment]):
            return None
        return self.likely_assignment(excluding=assignment)


def cell_label(position, source):
    """How a student finds a code cell: ``code cell 9 (Sigmoid, squash)``, its position and what it defines."""
    names = sorted(set(definitions(source)))[:3]
    return f"code cell {position}" + (f" ({', '.join(names)})" if names else "")


def definitions(source):
    """Top-level names a cell defines (functions, classes, assignments); by regex if it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return [a or b for a, b in _DEFINITION.findall(source)]
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.extend(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _parse(data):
    if not data.strip():
        raise Unreadable("empty", "an empty file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable("not-a-notebook", "not a notebook: the file is not text (a binary file renamed .ipynb?)") \
            from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        where = "truncated" if error.pos >= len(text.rstrip()) - 1 else f"broken at line {error.lineno}"
        raise Unreadable("not-a-notebook", f"not a notebook: the JSON is {where} ({error.msg})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
        raise Unreadable("not-a-notebook", "not a notebook: JSON without a list of cells")
    try:
        with warnings.catch_warnings(record=True) as seen:  # missing or repeated cell ids: mended, noted
            warnings.simplefilter("always")
            notebook = nbformat.reads(text, as_version=4, capture_validation_error={})
    except Exception as error:  # nbformat's own complaint about a malformed notebook
        raise Unreadable("not-a-notebook", f"not a notebook: {type(error).__name__}: {error}") from None
    repeated = [w for w in seen if w.category.__name__ == "DuplicateCellId"]
    notes = [f"{len(repeated)} cell id(s) appear twice (a duplicated cell); each copy was given an id of its own"] \
        if repeated else []
    return notebook, raw.get("nbformat"), notes


def read_notebook(data):
    """The :class:`Notebook` in ``data`` (bytes of an ``.ipynb``); raises :class:`Unreadable`."""
    if len(data) > MAX_FILE_BYTES:
        raise Unreadable("too-large", f"too large: {len(data) / 2**20:.0f} MB "
                                      f"(the limit is {MAX_FILE_BYTES // 2**20} MB)")
    notebook, version, notes = _parse(data)
    if version != 4:
        notes.insert(0, f"an nbformat v{version} notebook, upgraded to v4 to be graded")
    cells, defined, grade_ids, graded_cell, position, size = [], {}, [], {}, 0, 0
    for cell in notebook.cells:
        if cell.get("cell_type") != "code":
            continue
        position += 1
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if name := grade_id(cell):
            grade_ids.append(str(name))
            graded_cell[str(name)] = position
        if is_test(cell) or not source.strip():
            continue
        size += len(source)
        cells.append((position, source))
        for name in definitions(source):
            defined.setdefault(name, []).append(position)
    if size > MAX_CODE_BYTES:
        raise Unreadable("too-large", f"too large: {size / 2**20:.1f} MB of code "
                                      f"(the limit is {MAX_CODE_BYTES // 2**20} MB)")
    if not position:
        notes.append("the notebook has no code cells")
    twice = sorted(name for name, count in Counter(grade_ids).items() if count > 1)
    if twice:
        notes.append(f"more than one cell has the grade_id {', '.join(twice)}: the last definition run is graded")
    return Notebook(cells, defined, grade_ids, notes, graded_cell)
