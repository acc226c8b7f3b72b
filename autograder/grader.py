"""Grade submissions out of process: one report entry per submission, whatever it holds.

:func:`grade_submission` is the unit of work — read a notebook, run it walled
in (:mod:`autograder.sandbox`), judge the results here with the checks and
the points of ``solutions/`` — and :func:`grade_batch` fans it out over a
pool of warm workers. The same function can run under any other engine
(see ``autograder/README.md``).
"""

import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from functools import cache
from multiprocessing import get_context
from pathlib import Path

from nbbackprop.checks import TARGETS, suite_for
from nbbackprop.checks.core import CODES, Raised, reference_code

from . import sandbox
from .points import max_score, tests_of


def student_name(path):
    """``alice`` for ``.../submitted/alice/ps4/ps4.ipynb``, else the file's stem."""
    parts = Path(path).parts
    if "submitted" in parts[:-1]:
        index = len(parts) - 1 - parts[::-1].index("submitted")
        if index + 1 < len(parts) - 1:
            return parts[index + 1]
    return Path(path).stem


def read_cells(path):
    """The code cells to run, as ``[(index, source)]``; test cells are left out (the grader judges)."""
    with open(path, "rb") as handle:
        raw = handle.read(50 * 2**20 + 1)
    if len(raw) > 50 * 2**20:
        raise ValueError("the notebook is larger than 50 MB")
    try:
        notebook = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not a notebook: the file is not JSON ({error.__class__.__name__}: {error})") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise ValueError("not a notebook: no list of cells")
    code = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell.get("metadata"), dict) else {}
        if isinstance(meta, dict) and meta.get("grade") and not meta.get("solution"):
            continue  # a test cell: the grader's own checks replace it
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if isinstance(source, str) and source.strip():
            code.append((index, source))
    return code


@cache
def _reference_codes(assignment):
    codes = {}
    for target in TARGETS[assignment]:
        reference = getattr(suite_for(target), "reference", None)
        codes[target] = reference_code(getattr(reference, "__func__", reference)) if reference is not None else set()
    return codes


def _judge(assignment, results, failures):
    """Report lines for every graded part, from the probe results (judged here, in the grader)."""
    lines = []
    for target in TARGETS[assignment]:
        tests = [t for t in tests_of(assignment) if t.target == target]
        outcome = results.get(target)
        verdicts = {}
        if isinstance(outcome, Raised):
            verdicts = {t.part: (outcome.code, f"[{t.part}] {outcome.message}") for t in tests}
        elif outcome is None or outcome.get("visible", {}).get("__missing__"):
            why = _missing_reason(target, failures)
            verdicts = {t.part: (why[0], f"[{t.part}] {why[1]}") for t in tests}
        else:
            suite = suite_for(target)
            try:
                seen = {}
                for hidden in (False, True):
                    for v in suite.verdicts(outcome["hidden" if hidden else "visible"], hidden):
                        part = v.id.split(".", 1)[1]
                        if part not in seen or (seen[part][0] == "ok" and v.diagnosis != "ok"):
                            seen[part] = (v.diagnosis, _hidden_only(v) if hidden else v.message)
                verdicts = seen
            except Exception as error:  # results shaped like nothing the judge knows: not the grader's crash
                verdicts = {t.part: ("exception", f"[{t.part}] the results of {target} could not be judged: "
                                                  f"{type(error).__name__}: {error}") for t in tests}
        for test in tests:
            diagnosis, message = verdicts.get(test.part, ("mismatch", f"[{test.part}] not checked"))
            lines.append({"id": test.id, "target": target,
                          "points": test.points if diagnosis == "ok" else 0.0, "max_points": test.points,
                          "diagnosis": diagnosis, "message": "" if diagnosis == "ok" else message})
    return lines


def _hidden_only(verdict):
    """The message of a part that passes its visible test but fails a hidden one: the code and the
    likely cause, without the hidden inputs or values."""
    part = verdict.id.split(".", 1)[1]
    cause = verdict.message.split("Likely cause:", 1)[1].strip() if "Likely cause:" in verdict.message else ""
    return (f"[{part}] {verdict.target} passes the visible test of {part} but fails a hidden one "
            f"({CODES.get(verdict.diagnosis, verdict.diagnosis)})." + (f" Likely cause: {cause}" if cause else ""))


def _missing_reason(target, failures):
    for index, (code, text) in sorted(failures.items()):
        if code == "not-implemented":
            return "not-implemented", f"{target} is not defined; cell {index} raised {text}"
    if failures:
        index, (code, text) = sorted(failures.items())[0]
        return "exception", f"{target} is not defined: its cell is missing or failed (cell {index}: {text})"
    return "exception", f"{target} is not defined: the cell that defines it is missing"


def grade_namespace(assignment, namespace, targets=None, limits=None):
    """Report lines for objects already defined (``{name: object}``), through the same route as a
    notebook: probed in a process of their own, judged here. For tests and catalogues of bugs."""
    targets = list(targets or TARGETS[assignment])
    results, failures, _ = sandbox.run_submission([], targets, limits or sandbox.Limits(),
                                                  _reference_codes(assignment), namespace)
    return [line for line in _judge(assignment, results, failures) if line["target"] in targets]


def grade_submission(assignment, path, limits=None):
    """One report entry (the contract's JSON shape) for the notebook at ``path``."""
    limits = limits or sandbox.Limits()
    entry = {"student": student_name(path), "path": str(path), "score": 0.0, "max_score": max_score(assignment),
             "error": None, "tests": [], "notes": []}
    try:
        cells = read_cells(path)
    except (OSError, ValueError) as error:
        return _failed_entry(assignment, path, str(error))
    results, failures, notes = sandbox.run_submission(cells, TARGETS[assignment], limits,
                                                      _reference_codes(assignment))
    entry["notes"] = notes + [f"cell {index} raised {text}" for index, (code, text) in sorted(failures.items())
                              if code != "not-implemented"]
    entry["tests"] = _judge(assignment, results, failures)
    entry["score"] = sum(line["points"] for line in entry["tests"])
    return entry


def find_notebooks(paths, assignment):
    """Every notebook named by ``paths``: files as given, folders searched for ``<assignment>.ipynb``
    (or any ``.ipynb``) below them; sorted, without duplicates."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            matches = sorted(path.glob(f"**/{assignment}.ipynb")) or sorted(path.glob("**/*.ipynb"))
            found.extend(p for p in matches if ".ipynb_checkpoints" not in p.parts)
        else:
            found.append(path)
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=lambda p: (student_name(p), str(p)))


def _worker_init():
    sandbox.become_subreaper()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # warm: each student process is forked with it loaded


def grade_batch(assignment, paths, jobs=None, limits=None, progress=None):
    """Grade every notebook; the report entries in a stable order (by student, then path)."""
    notebooks = find_notebooks(paths, assignment)
    limits = limits or sandbox.Limits()
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(notebooks) or 1))
    entries = {}
    pending = list(notebooks)
    while pending:
        with ProcessPoolExecutor(jobs, mp_context=get_context("fork"), initializer=_worker_init) as pool:
            futures = {pool.submit(grade_submission, assignment, str(p), limits): p for p in pending}
            try:
                for future in as_completed(futures):
                    path = futures[future]
                    try:
                        entries[path] = future.result()
                    except BrokenProcessPool:
                        raise
                    except Exception as error:  # the grader's own failure on this one: report it, go on
                        entries[path] = _failed_entry(assignment, path, f"{type(error).__name__}: {error}")
                    if progress:
                        progress(entries[path])
            except BrokenProcessPool:
                pass  # a worker died under us: the finished ones are kept, the rest go round again
        lost = [p for p in pending if p not in entries]
        if lost and len(lost) == len(pending):  # no progress at all: report them rather than loop
            for path in lost:
                entries[path] = _failed_entry(assignment, path, "the grading worker died")
                if progress:
                    progress(entries[path])
            lost = []
        pending = lost
    return [entries[p] for p in notebooks]


def _failed_entry(assignment, path, why):
    return {"student": student_name(path), "path": str(path), "score": 0.0, "max_score": max_score(assignment),
            "error": "exception", "notes": [why],
            "tests": [{"id": t.id, "target": t.target, "points": 0.0, "max_points": t.points,
                       "diagnosis": "exception", "message": f"[{t.part}] {why}"} for t in tests_of(assignment)]}
