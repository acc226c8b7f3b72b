"""Grade submissions out of process: one report entry per submission, whatever it holds.

:func:`grade_submission` is the unit of work — read a notebook, run it walled
in (:mod:`autograder.sandbox`), judge the results here with the checks and
the points of ``solutions/`` — and :func:`grade_batch` fans it out over a
pool of warm workers. The same function can run under any other engine
(see ``autograder/README.md``).
"""

import datetime
import subprocess
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path

from nbbackprop.checks import TARGETS, suite_for
from nbbackprop.checks.verdict import OK, Raised, Verdict, failed

from . import executors, sandbox
from .intake import UNGRADED, collect
from .notebook import Unreadable, read_notebook
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
    """The code cells to run, as ``[(position, source)]``; raises :class:`~autograder.notebook.Unreadable`."""
    with open(path, "rb") as handle:
        return read_notebook(handle.read()).cells


def _judge(assignment, results, failures, notebook=None):
    """Report lines for every graded part, from the probe results (judged here, in the grader)."""
    lines = []
    for target in TARGETS[assignment]:
        tests = [t for t in tests_of(assignment) if t.target == target]
        outcome = results.get(target)
        if isinstance(outcome, Raised):
            found = dict.fromkeys((t.part for t in tests), Verdict(outcome.code, outcome.message))
        elif outcome is None or outcome.get("visible", {}).get("__missing__"):
            found = dict.fromkeys((t.part for t in tests), _missing(target, failures, notebook))
        else:
            found = _verdicts(suite_for(target), outcome)
        for test in tests:
            verdict = found.get(test.part, failed("mismatch", "not checked", "")).of(
                target, test.part, found.get(test.part, OK).hidden)
            lines.append(verdict.report_line(test.points, verdict.hidden_message() if verdict.hidden else None))
    return lines


def _verdicts(suite, outcome):
    """The visible verdict of each part, replaced by the hidden one where only that fails."""
    try:
        found = {}
        for hidden in (False, True):
            for verdict in suite.verdicts(outcome["hidden" if hidden else "visible"], hidden):
                if verdict.part not in found or (found[verdict.part].passed and not verdict.passed):
                    found[verdict.part] = verdict
        return found
    except Exception as error:  # results shaped like nothing the judge knows: not the grader's crash
        return dict.fromkeys(suite.parts, failed("exception", f"the results of {suite.target} could not be judged: "
                                                              f"{type(error).__name__}: {error}", ""))


def _missing(target, failures, notebook=None):
    """The verdict of a graded name the notebook does not define, said of the cell where it belongs (the
    one with grade_id ``target``): it raised, or it defines other names; else where it was looked for."""
    home = (notebook.graded_cell if notebook is not None else {}).get(target)
    if home is not None:
        where = f"{target} is not defined: code cell {home} (grade_id {target}), where it belongs,"
        if home in failures:
            code, text = failures[home]
            return Verdict(code, f"{where} raised {text}.", cause="" if code == "not-implemented" else
                           "fix that cell's error first: every definition after the failing line is lost.")
        others = notebook.names_in(home)
        if others:
            return Verdict("exception", f"{where} defines {', '.join(others)} instead.",
                           cause=f"the checks look for the name the exercise gives: rename it to {target}.")
    for index, (code, text) in sorted(failures.items()):
        if code == "not-implemented":
            return Verdict("not-implemented", f"{target} is not defined; code cell {index} raised {text}")
    if failures:
        index, (code, text) = sorted(failures.items())[0]
        return Verdict("exception", f"{target} is not defined: its cell is missing or failed (code cell {index}: "
                                    f"{text})")
    return Verdict("exception", f"{target} is not defined: no code cell defines it (expected a cell with "
                                f"'def {target}' or 'class {target}', grade_id {target})")


def grade_namespace(assignment, namespace, targets=None, limits=None):
    """Report lines for objects already defined (``{name: object}``), through the same route as a
    notebook: probed in a process of their own, judged here. For tests and catalogues of bugs."""
    targets = list(targets or TARGETS[assignment])
    results, failures, _ = sandbox.run_submission([], targets, limits or sandbox.Limits(), namespace)
    return [line for line in _judge(assignment, results, failures) if line["target"] in targets]


def now():
    """The time of day in the report's form, ``2026-12-03T09:00:00Z``."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def course_commit(root):
    """The course's git commit (``+dirty`` when files it tracks have changed), or None outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _entry(assignment, student, path, error=None, notes=()):
    return {"student": student, "path": str(path), "score": 0.0, "max_score": max_score(assignment),
            "error": error, "graded_at": now(), "tests": [], "notes": list(notes)}


def grade_notebook(assignment, student, path, notebook, limits=None, notes=()):
    """One report entry (the contract's JSON shape) for a :class:`~autograder.notebook.Notebook`."""
    limits = limits or sandbox.Limits()
    entry = _entry(assignment, student, path, notes=[*notes, *notebook.notes, *notebook.notes_for(assignment)])
    results, failures, run_notes = sandbox.run_submission(notebook.cells, TARGETS[assignment], limits)
    entry["notes"] += run_notes + [f"code cell {index} raised {text}" for index, (code, text)
                                   in sorted(failures.items()) if code != "not-implemented"]
    entry["tests"] = _judge(assignment, results, failures, notebook)
    if events := [e for r in results.values() if isinstance(r, dict) for e in r.get("run_events", [])]:
        entry["run_events"] = events  # what the cells did at run time: screened, then dropped, by grade_class
    entry["score"] = sum(line["points"] for line in entry["tests"])
    entry["graded_at"] = now()
    return entry


def grade_submission(assignment, path, limits=None):
    """One report entry for the notebook file at ``path``, the student named after the path."""
    try:
        with open(path, "rb") as handle:
            notebook = read_notebook(handle.read())
    except (OSError, Unreadable) as error:
        return _failed_entry(assignment, path, str(error))
    return grade_notebook(assignment, student_name(path), path, notebook, limits)


def _grade_one(assignment, submission, limits):
    """The pool's unit of work: one :class:`~autograder.intake.Submission`."""
    if submission.wrong_assignment:
        found = sorted(set(submission.notebook.defined) & set(TARGETS[submission.wrong_assignment]))
        return _entry(assignment, submission.student, submission.source.display, "wrong-assignment",
                      [*submission.notes, f"this notebook looks like {submission.wrong_assignment}, not "
                       f"{assignment}: it defines {', '.join(found) or 'its graded cells'} and none of "
                       f"{', '.join(TARGETS[assignment])}; hand in the {assignment} notebook"])
    return grade_notebook(assignment, submission.student, submission.source.display, submission.notebook,
                          limits, submission.notes)


def _grade_all(assignment, submissions, jobs, limits, progress, engine=None, results=None):
    """Entries for every submission, in the order given, each exactly once; a worker that dies costs a re-run,
    not a line. ``engine`` (:mod:`autograder.executors`, default the local pool of ``jobs``) runs them;
    ``results`` (:class:`autograder.results.Results`) receives each entry as it comes and supplies those
    it already holds (``--resume``), which are not graded again."""
    engine = engine or executors.LocalPool(jobs)
    entries = results.reuse(submissions) if results else {}
    for entry in entries.values():
        if progress:
            progress(entry)

    def finish(index, entry):
        entries[index] = entry
        if results:
            results.add(index, entry)
        if progress:
            progress(entry)

    pending = [i for i in range(len(submissions)) if i not in entries]
    while pending:
        with engine.executor(len(pending)) as executor:
            lost = _grade_round(executor, engine, assignment, submissions, pending, limits, finish)
        if lost and len(lost) == len(pending):  # no progress at all: report them rather than loop
            for index in lost:
                finish(index, _failed_entry(assignment, submissions[index].source.display, "the grading worker died",
                                            submissions[index].student))
            lost = []
        pending = lost
    return [entries[i] for i in range(len(submissions))]


def _grade_round(executor, engine, assignment, submissions, indices, limits, finish):
    """Grade ``indices`` on ``executor``, a few per slot in flight at a time (memory stays flat with the
    class); returns those lost with their worker, in order."""
    todo, running, lost = iter(indices), {}, []
    window = 4 * engine.slots(len(indices))

    def submit_more():
        for index in todo:
            try:
                running[executor.submit(executors.alone, _grade_one, assignment, submissions[index], limits)] = index
            except engine.lost:  # the executor broke: this one and the rest wait for the next round
                lost.extend([index, *todo])
            if len(running) >= window:
                return

    submit_more()
    while running:
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in sorted(done, key=running.get):
            index = running.pop(future)
            try:
                entry = future.result()
            except engine.lost:  # a worker died under us: the finished ones are kept, this one goes round again
                lost.append(index)
                continue
            except Exception as error:  # the grader's own failure on this one: report it, go on
                entry = _failed_entry(assignment, submissions[index].source.display,
                                      f"the grader failed: {type(error).__name__}: {error}",
                                      submissions[index].student)
            finish(index, entry)
        submit_more()
    return sorted(lost)


def grade_class(assignment, paths, roster=None, layout=None, jobs=None, limits=None, progress=None,
                course_root=None, on_intake=None, engine=None, results=None):
    """The report (the contract's JSON) of grading every submission found under ``paths``.

    ``on_intake(intake)`` is called once the files are sorted out, before grading starts. ``engine`` and
    ``results`` choose where submissions are graded and where entries stream (:func:`_grade_all`).
    """
    from .course import ROOT

    root = course_root or ROOT
    intake = collect(paths, assignment, roster, layout, root)
    if on_intake:
        on_intake(intake)
    entries = _grade_all(assignment, intake.submissions, jobs, limits or sandbox.Limits(), progress, engine, results)
    for entry, submission in zip(entries, intake.submissions):
        entry["layout"] = submission.layout
        if submission.lms:
            entry["lms"] = submission.lms
    _screen(assignment, entries, intake)
    return {"assignment": assignment, "course_commit": course_commit(root), "graded_at": now(),
            "submissions": entries,
            "skipped": [{"path": s["path"], "reason": s["reason"], "kind": s["kind"]} for s in intake.skipped],
            "missing": intake.missing, "warnings": intake.warnings}


def ungraded(report):
    """The submissions and files of ``report`` that hold a student's work that could not be graded."""
    return ([e for e in report["submissions"] if e["error"]]
            + [s for s in report.get("skipped", []) if s.get("kind") in UNGRADED])


def grade_batch(assignment, paths, jobs=None, limits=None, progress=None):
    """The submission entries of :func:`grade_class` alone (for scripts that want only the scores)."""
    return grade_class(assignment, paths, jobs=jobs, limits=limits, progress=progress)["submissions"]


def _failed_entry(assignment, path, why, student=None):
    """The entry of a submission that could not be graded at all: one explanation, no per-part repeats."""
    return _entry(assignment, student or student_name(path), path, "exception", [why])


def _screen(assignment, entries, intake):
    """Each entry's ``similarity`` rows (:mod:`autograder.similarity`): its graded cells against the reference
    and against every other submission; a screening that fails is a warning of the report, never the batch's end."""
    from .similarity import screen

    notebooks = {e["student"]: s.notebook for e, s in zip(entries, intake.submissions)
                 if s.notebook is not None and not s.wrong_assignment}
    events = {e["student"]: e.pop("run_events", []) for e in entries}
    try:
        rows = screen(assignment, notebooks, events)
    except Exception as error:  # the screening's own failure: the grades stand without it
        rows = {}
        intake.warnings.append(f"similarity screening failed: {type(error).__name__}: {error}")
    for entry in entries:
        entry["similarity"] = rows.get(entry["student"], [])
