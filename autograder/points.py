"""What is graded and for how many points — read from ``solutions/``, never from a submission.

Every test cell of a source notebook is one line such as
``check_linear(Linear, "grad_W")`` (plus its hidden twin); its nbgrader points
are that part's points. Visible and hidden checks of a part share them: the
part scores only if both pass.
"""

import ast
from dataclasses import dataclass, field
from functools import cache

import nbformat

from nbbackprop.checks import TARGETS

from .cells import is_test, nbgrader_meta
from .course import EXERCISES, SOLUTIONS, notebook_path


@dataclass(frozen=True)
class Test:
    """One graded part: ``id`` is ``"<target>.<part>"``, e.g. ``"Linear.grad_W"``; ``grade_id`` is the
    nbgrader ``grade_id`` of its test cell (where nbgrader keeps its score), e.g. ``"test_Linear_grad_W"``."""

    target: str
    part: str
    points: float
    grade_id: str = field(default="", compare=False)

    @property
    def id(self):
        return f"{self.target}.{self.part}"


def _checks_in(source):
    """(target name, part) of every ``check_x(Target, "part")`` call in a test cell."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("check_")
                and len(node.args) >= 2 and isinstance(node.args[0], ast.Name)
                and isinstance(node.args[1], ast.Constant)):
            found.append((node.args[0].id, node.args[1].value))
    return found


@cache
def tests_of(assignment):
    """The graded parts of ``assignment`` in notebook order: tuple of :class:`Test`."""
    if assignment not in TARGETS:
        raise ValueError(f"tests_of expected an assignment in {sorted(TARGETS)}, got {assignment!r}")
    path = notebook_path(SOLUTIONS, assignment)
    if not path.is_file():  # a student bundle: the released notebook keeps every test cell and its points
        path = notebook_path(EXERCISES, assignment)
    source = nbformat.read(path, as_version=4)
    tests = []
    for cell in source.cells:
        if not is_test(cell):
            continue
        meta = nbgrader_meta(cell)
        checks = set(_checks_in(cell.source))
        if len(checks) != 1:
            raise ValueError(f"solutions/{assignment}: test cell {meta.get('grade_id')} should check exactly one "
                             f"part, found {sorted(checks)}")
        target, part = checks.pop()
        if target not in TARGETS[assignment]:
            raise ValueError(f"solutions/{assignment}: test cell {meta.get('grade_id')} checks {target}, "
                             f"which is not a graded name of {assignment}")
        tests.append(Test(target, part, float(meta["points"]), meta.get("grade_id", "")))
    return tuple(tests)


def max_score(assignment):
    return sum(test.points for test in tests_of(assignment))
