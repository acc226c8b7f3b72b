"""The ``check`` command: a student grades their own notebook before handing it in.

The instructor's route exactly — the notebook runs in a walled process, is probed on the visible
and the hidden inputs and judged here — and the instructor's report lines: a part that fails only a
hidden test says so, with its diagnosis and likely cause, never its inputs. The notebook is only read.
"""

import textwrap
from pathlib import Path

from .course import ASSIGNMENTS
from .grader import grade_notebook
from .notebook import Unreadable, read_notebook
from .report import feedback_html
from .sandbox import Limits


def add_arguments(check):
    check.add_argument("notebook", metavar="NOTEBOOK", help="your .ipynb (only read, never changed)")
    check.add_argument("--assignment", choices=ASSIGNMENTS,
                       help="which problem set it is (default: from the file name, else from its graded names)")
    check.add_argument("--html", metavar="FILE", help="also write the feedback page the instructor's run would")
    check.add_argument("--timeout", type=float, default=20.0, help="seconds per graded name (default 20)")


def which_assignment(path, notebook):
    """The assignment of ``notebook``: named by its file (``ps3_backprop.ipynb``, ``ps3_backprop-2.ipynb``),
    else the one whose graded names it defines or whose grade_ids it carries most; None if none."""
    for assignment in ASSIGNMENTS:
        if Path(path).stem.startswith(assignment):
            return assignment
    return notebook.likely_assignment()


def render(entry, assignment):
    """The terminal's view: the score, then one line per part; a failed part's message (wrapped) and, when
    the student's code raised, their own frames under it."""
    lines = [f"{assignment}: {entry['score']:g} / {entry['max_score']:g}"]
    for line in entry["tests"]:
        mark = "✓" if line["diagnosis"] == "ok" else "✗"
        lines.append(f"{mark} {line['id']:<34} {line['points']:>4g} / {line['max_points']:<4g} {line['diagnosis']}")
        if line["diagnosis"] != "ok":
            lines += textwrap.wrap(line["message"], 100, initial_indent="    ", subsequent_indent="    ")
            for cell, number, function, text in line.get("trace", []):
                lines.append(f"      {cell}, line {number}, in {function}" + (f":  {text}" if text else ""))
    lines += [f"note: {note}" for note in entry["notes"]]
    return "\n".join(lines)


def check_command(args, parser):
    path = Path(args.notebook)
    if not path.is_file():
        parser.error(f"expected a notebook file, got {path} (no such file)")
    if args.timeout <= 0:
        parser.error(f"expected --timeout > 0, got {args.timeout}")
    try:
        notebook = read_notebook(path.read_bytes())
    except Unreadable as error:
        print(f"{path} cannot be graded: {error.reason}")
        return 1
    assignment = args.assignment or which_assignment(path, notebook)
    if assignment is None:
        parser.error(f"{path} defines none of the graded names of {list(ASSIGNMENTS)}: pass --assignment")
    entry = grade_notebook(assignment, path.stem, path, notebook, Limits(target_seconds=args.timeout))
    print(render(entry, assignment))
    if args.html:
        Path(args.html).write_text(feedback_html(assignment, entry), encoding="utf-8")
        print(f"wrote {args.html}")
    return 0 if entry["error"] is None else 1
