"""A Gradescope autograder for one assignment: the zip to upload, and what runs inside it.

Gradescope's contract (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
the zip holds ``setup.sh`` and ``run_autograder`` at its root and is unpacked into
``/autograder/source``; ``setup.sh`` runs once, as root, when the image is built;
``run_autograder`` runs for every submission with the student's upload in
``/autograder/submission`` and must write ``/autograder/results/results.json``.

    python -m autograder.gradescope build ps4_flow_graph -o ps4_gradescope.zip
    python -m autograder.gradescope run ps4_flow_graph --root /autograder   # what run_autograder does

:func:`build_bundle` writes the zip, :func:`run` grades one upload with
:func:`autograder.grader.grade_submission` and writes ``results.json``, and
:func:`results_json` turns one report entry into Gradescope's results.

Visibility. A part that passes, or fails its *visible* test, is ``visible``: the student sees
the same message as in their own notebook. A part that passes its visible test but fails a
*hidden* one (the entry's ``"hidden": true``) is ``after_published`` by default: Gradescope shows
it only once the instructor publishes the grades from "Review Grades", which is when nbgrader
courses return hidden-test feedback. ``hidden`` would be wrong (the spec keeps it for tests that
carry no points) and ``after_due_date`` would show it before anyone has reviewed it. While a
test is held back Gradescope hides the student's total score too; pass
``hidden_visibility="visible"`` to show everything at once.
"""

import argparse
import json
import os
import sys
import time
import traceback
import zipfile
from pathlib import Path

from . import secret
from .course import ASSIGNMENTS, ROOT

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
ROOT_VARIABLE = "NBBACKPROP_GRADESCOPE_ROOT"  # overrides /autograder in both scripts (for tests)
PYTHON_VARIABLE = "NBBACKPROP_PYTHON"  # overrides the Python that run_autograder uses
VENV = "/opt/nbbackprop-venv"  # where setup.sh installs the course on Gradescope's image

# what the bundle holds besides the two scripts: these files of the course root, these trees
# (minus caches), and solutions/<assignment>/ and exercises/<assignment>/ of one assignment
_FILES = ("README.md", "pyproject.toml", "requirements.txt", "nbgrader_config.py", "solutions/header.ipynb")
_TREES = ("nbbackprop", "autograder")
_REQUIRED = ("pyproject.toml", "requirements.txt", "nbbackprop/__init__.py", "autograder/grader.py")
_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache", ".hypothesis", ".git"}
_SKIP_SUFFIXES = (".pyc", ".pyo", ".zip", ".egg-info")
_SKIP_TREES = ("autograder/samples",)  # model answers of every assignment: not for this bundle
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same course gives the same bytes


# ---- results.json ------------------------------------------------------------------------------


def _md(text):
    """``text`` as literal Markdown: the characters Markdown would act on escaped, lines kept."""
    escaped = "".join("\\" + char if char in "\\`*_[]<>#|" else char for char in str(text))
    return "  \n".join(escaped.splitlines())


def _points(value):
    return float(f"{float(value):.6g}")


def results_json(entry, hidden_visibility="after_published", assignment=None):
    """Gradescope's ``results.json`` (as a dict) for one report entry of :mod:`autograder.grader`.

    One test per graded part: ``name`` is the part's id (``"Linear.grad_W"``), ``tags`` its
    diagnosis code, ``output`` the grader's message in Markdown. ``score`` is the entry's score,
    which is the sum of the tests' scores.
    """
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"results_json expected hidden_visibility in {list(VISIBILITIES)}, "
                         f"got {hidden_visibility!r}")
    if not isinstance(entry, dict) or not isinstance(entry.get("tests"), list):
        raise ValueError("results_json expected a report entry: a dict with 'score', 'max_score', 'error', "
                         f"'notes' and a list of 'tests', got {type(entry).__name__}"
                         + (f" with keys {sorted(entry)}" if isinstance(entry, dict) else ""))
    tests = []
    for line in entry["tests"]:
        passed = line.get("diagnosis") == "ok"
        held_back = bool(line.get("hidden", False)) and not passed
        if passed:
            output = "Passed."
        else:
            output = f"**{_md(line['id'])}** failed (`{line['diagnosis']}`): {_md(line.get('message', ''))}"
        tests.append({"name": line["id"], "score": _points(line["points"]),
                      "max_score": _points(line["max_points"]), "status": "passed" if passed else "failed",
                      "output": output, "output_format": "md", "tags": [line["diagnosis"]],
                      "visibility": hidden_visibility if held_back else "visible"})
    score, max_score = _points(entry["score"]), _points(entry["max_score"])
    what = f"**{_md(assignment)}**: " if assignment else ""
    if entry.get("error"):
        summary = (f"{what}this submission could not be graded (error `{entry['error']}`); "
                   f"score {score:g} / {max_score:g}.")
    else:
        failed = [t for t in tests if t["status"] == "failed"]
        shown = [t for t in failed if t["visibility"] == "visible"]
        summary = f"{what}{score:g} / {max_score:g} points. "
        if not failed:
            summary += f"All {len(tests)} graded parts pass."
        else:
            summary += f"{len(tests) - len(failed)} of {len(tests)} graded parts pass"
            if shown:
                summary += "; to fix: " + ", ".join(f"{_md(t['name'])} (`{t['tags'][0]}`)" for t in shown)
            if len(shown) < len(failed):
                summary += f"; {len(failed) - len(shown)} more fail hidden tests (shown when grades are published)"
            summary += "."
    notes = [str(note) for note in entry.get("notes") or []]
    if notes:
        summary += "\n\nNotes:\n\n" + "\n".join(f"- {_md(note)}" for note in notes[:10])
        if len(notes) > 10:
            summary += f"\n- … and {len(notes) - 10} more"
    return {"score": score, "output": summary, "output_format": "md", "stdout_visibility": "hidden",
            "tests": tests, "extra_data": {"error": entry.get("error"), "max_score": max_score}}


# ---- one submission, as run_autograder grades it ---------------------------------------------


def find_submission(folder, assignment):
    """``(notebook or None, every file of the upload)``: ``<assignment>.ipynb`` if there is one
    (the shallowest), else the first ``.ipynb`` in sorted order; checkpoints and macOS debris
    are not the student's work."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    files = [p for p in files if not ({".ipynb_checkpoints", "__MACOSX"} & set(p.relative_to(folder).parts))]
    notebooks = [p for p in files if p.suffix.lower() == ".ipynb" and not p.name.startswith(".")]
    named = [p for p in notebooks if p.name == f"{assignment}.ipynb"]
    pick = min(named, key=lambda p: (len(p.parts), str(p))) if named else (notebooks[0] if notebooks else None)
    return pick, files


def _not_graded(assignment, why):
    """Results with score 0 for an upload that holds nothing to grade; every part listed at 0."""
    from .points import max_score, tests_of

    tests = [{"name": t.id, "score": 0.0, "max_score": _points(t.points), "status": "failed",
              "output": f"Not graded: {why}", "output_format": "md", "tags": [], "visibility": "visible"}
             for t in tests_of(assignment)]
    return {"score": 0.0, "output": f"**{_md(assignment)}**: score 0 / {max_score(assignment):g}. {why}",
            "output_format": "md", "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"error": "no-notebook", "max_score": _points(max_score(assignment))}}


def _write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    partial.replace(path)


def run(assignment, root="/autograder", hidden_visibility="after_published"):
    """Grade the upload in ``root/submission`` and write ``root/results/results.json``; returns the
    results. The upload is only read. Whatever goes wrong, a results.json is written."""
    from . import course, sandbox
    from .grader import grade_submission

    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r}; expected one of {list(ASSIGNMENTS)}")
    root = Path(root)
    started = time.monotonic()
    print(f"course root: {course.ROOT}")
    print(f"nbbackprop from: {Path(sys.modules['nbbackprop'].__file__).parent}")
    notebook, files = find_submission(root / "submission", assignment)
    try:
        if notebook is None:
            came = ", ".join(f"`{_md(p.relative_to(root / 'submission'))}`" for p in files[:20]) or "no file at all"
            results = _not_graded(assignment, f"Expected a Jupyter notebook, `{assignment}.ipynb`; the upload "
                                              f"holds {came}. Upload the notebook itself, not a PDF, HTML or .py "
                                              "export.")
        else:
            sandbox.become_subreaper()
            entry = grade_submission(assignment, str(notebook))
            results = results_json(entry, hidden_visibility, assignment)
            rel = notebook.relative_to(root / "submission")
            others = [p for p in files if p.suffix.lower() == ".ipynb" and p != notebook]
            results["output"] += f"\n\nGraded `{_md(rel)}`." + (
                " Also uploaded, not graded: " + ", ".join(f"`{_md(p.relative_to(root / 'submission'))}`"
                                                            for p in others) + "." if others else "")
            results["extra_data"]["notebook"] = str(rel)
    except Exception:  # the grader's own failure: the student gets a word, the instructor the trace
        traceback.print_exc(file=sys.stdout)
        results = _not_graded(assignment, "The autograder itself failed on this submission; your instructor can "
                                          "see why. This is not a judgement of your work.")
        results["extra_data"]["error"] = "grader-failure"
    results["execution_time"] = round(time.monotonic() - started, 3)
    results["extra_data"].update(assignment=assignment, course_root=str(course.ROOT))
    _write_json(root / "results" / "results.json", results)
    print(f"{assignment}: score {results['score']:g}; wrote {root / 'results' / 'results.json'}")
    return results


# ---- the bundle ------------------------------------------------------------------------------


def _setup_sh(assignment):
    return f"""#!/usr/bin/env bash
# Generated by autograder/gradescope.py (python -m autograder.gradescope build {assignment}); do not edit.
# Gradescope runs this once, as root, when it builds the autograder image: it installs the course
# into a virtual environment of a Python >= 3.11 (the pinned numpy needs it).
set -euo pipefail
SOURCE="${{{ROOT_VARIABLE}:-/autograder}}/source"
VENV="${{NBBACKPROP_VENV:-{VENV}}}"
export DEBIAN_FRONTEND=noninteractive

find_python() {{
    local candidate
    for candidate in python3 python3.13 python3.12 python3.11; do
        if command -v "$candidate" >/dev/null 2>&1 \\
                && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}}

if ! PYTHON=$(find_python); then
    echo "setup.sh: no Python >= 3.11 on the image; installing python3.11 with apt"
    apt-get update
    if ! apt-get install -y python3.11 python3.11-venv; then
        apt-get install -y software-properties-common
        add-apt-repository -y ppa:deadsnakes/ppa
        apt-get update
        apt-get install -y python3.11 python3.11-venv
    fi
    PYTHON=python3.11
fi
echo "setup.sh: using $PYTHON ($("$PYTHON" -c 'import sys; print(sys.version.split()[0])'))"
if ! "$PYTHON" -m venv "$VENV"; then
    apt-get update
    apt-get install -y "$PYTHON-venv"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --upgrade pip
"$VENV/bin/python" -m pip install -r "$SOURCE/requirements.txt"
"$VENV/bin/python" -m pip install --no-deps "$SOURCE"
cd "$SOURCE"
PYTHONPATH="$SOURCE" "$VENV/bin/python" -c 'import nbbackprop, autograder.grader; print("setup.sh: the course imports")'
"""


# what run_autograder writes when Python could not even start the grader
_FALLBACK = json.dumps({"score": 0.0, "output": "The autograder could not start, so this submission was not graded. "
                        "This is not a judgement of your work: your instructor can see why.",
                        "output_format": "md", "stdout_visibility": "hidden", "tests": [],
                        "extra_data": {"error": "grader-failure"}})


def _run_autograder(assignment, hidden_visibility):
    return f"""#!/usr/bin/env bash
# Generated by autograder/gradescope.py (python -m autograder.gradescope build {assignment}); do not edit.
# Gradescope runs this for every submission: it grades the notebook in /autograder/submission with
# the course's own grader and writes /autograder/results/results.json.
set -u
ROOT="${{{ROOT_VARIABLE}:-/autograder}}"
SOURCE="$ROOT/source"
PYTHON="${{{PYTHON_VARIABLE}:-}}"
if [ -z "$PYTHON" ]; then
    if [ -x "{VENV}/bin/python" ]; then PYTHON="{VENV}/bin/python"; else PYTHON=python3; fi
fi
mkdir -p "$ROOT/results"
cd "$SOURCE" || exit 1
# the course in this bundle comes first, whatever else is installed, and is the course graded
# against: autograder.course.ROOT is $SOURCE
export PYTHONPATH="$SOURCE${{PYTHONPATH:+:$PYTHONPATH}}" NBBACKPROP_COURSE="$SOURCE"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MPLBACKEND=Agg
"$PYTHON" -m autograder.gradescope run {assignment} --root "$ROOT" --hidden-visibility {hidden_visibility}
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    cat > "$ROOT/results/results.json" <<'EOF'
{_FALLBACK}
EOF
fi
exit $status
"""


def _skipped(rel):
    parts = rel.split("/")
    return (bool(_SKIP_DIRS & set(parts)) or any(p.endswith(_SKIP_SUFFIXES) for p in parts)
            or parts[-1] == ".DS_Store" or any(rel == t or rel.startswith(t + "/") for t in _SKIP_TREES))


def bundle_files(assignment, course=None):
    """``{path in the zip: file on disk}`` of the course sources a bundle holds (scripts aside)."""
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r}; expected one of {list(ASSIGNMENTS)}")
    course = Path(course) if course is not None else ROOT
    if not course.is_dir():
        raise ValueError(f"the course folder {str(course)!r} does not exist; expected the course root "
                         f"(the folder holding pyproject.toml, nbbackprop/, autograder/, solutions/)")
    needed = [*_REQUIRED, f"solutions/{assignment}/{assignment}.ipynb"]
    missing = [rel for rel in needed if not (course / rel).is_file()]
    if missing:
        raise ValueError(f"{course} is not a complete nbbackprop course: expected {needed}, missing {missing}")
    found = {rel: course / rel for rel in _FILES if (course / rel).is_file()}
    for tree in (*_TREES, f"solutions/{assignment}", f"exercises/{assignment}"):
        for path in sorted((course / tree).rglob("*")):
            rel = path.relative_to(course).as_posix()
            if path.is_file() and not path.is_symlink() and not _skipped(rel):
                found[rel] = path
    return dict(sorted(found.items()))


def _add(archive, name, data, mode):
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.create_system = 3  # Unix: unzip restores the permission bits
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def build_bundle(assignment, output, course=None, hidden_visibility="after_published"):
    """Write Gradescope's autograder zip for ``assignment`` to ``output``; returns its path.

    The zip holds, at its root, ``setup.sh`` and ``run_autograder`` (both executable) and the
    course sources the grader reads: ``nbbackprop/``, ``autograder/`` (without the sample
    submissions), ``solutions/<assignment>/`` and ``exercises/<assignment>/`` — no other
    assignment's solutions, no tests, caches or ``.git`` — plus ``pyproject.toml``,
    ``requirements.txt``, ``nbgrader_config.py`` and the README — and, when the instructor set a
    course secret (:mod:`autograder.secret`), that secret as ``.nbbackprop_secret``, so Gradescope's
    grader draws the same unpredictable hidden inputs as ours. The same course gives the same bytes.
    """
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"build_bundle expected hidden_visibility in {list(VISIBILITIES)}, got {hidden_visibility!r}")
    output = Path(output)
    if output.suffix.lower() != ".zip":
        raise ValueError(f"build_bundle expected an output file name ending in .zip, got {str(output)!r}")
    if output.is_dir():
        raise ValueError(f"build_bundle expected an output file, got the folder {str(output)!r}")
    files = bundle_files(assignment, course)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        _add(archive, "setup.sh", _setup_sh(assignment), 0o755)
        _add(archive, "run_autograder", _run_autograder(assignment, hidden_visibility), 0o755)
        for rel, path in files.items():
            _add(archive, rel, path.read_bytes(), 0o644)
        key = secret.course_secret(course)  # the zip goes to Gradescope's servers, never to a student
        if key is not None:
            _add(archive, secret.FILE_NAME, key + b"\n", 0o600)
    partial.replace(output)
    return output


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write the Gradescope autograder zip of one assignment")
    build.add_argument("assignment", choices=ASSIGNMENTS)
    build.add_argument("-o", "--output", required=True, metavar="BUNDLE.zip")
    build.add_argument("--course", metavar="DIR", help="the course root (default: this package's)")
    grade = commands.add_parser("run", help="grade ROOT/submission, write ROOT/results/results.json")
    grade.add_argument("assignment", choices=ASSIGNMENTS)
    grade.add_argument("--root", default=os.environ.get(ROOT_VARIABLE, "/autograder"),
                       help=f"Gradescope's /autograder (default: ${ROOT_VARIABLE} or /autograder)")
    for sub in (build, grade):
        sub.add_argument("--hidden-visibility", choices=VISIBILITIES, default="after_published",
                         help="when a part that fails only hidden tests is shown (default after_published)")
    args = parser.parse_args(argv)
    if args.command == "build":
        try:
            path = build_bundle(args.assignment, args.output, args.course, args.hidden_visibility)
        except ValueError as error:
            parser.error(str(error))
        print(f"wrote {path}: upload it on Gradescope's Configure Autograder page")
        return 0
    run(args.assignment, args.root, args.hidden_visibility)
    return 0


if __name__ == "__main__":
    sys.exit(main())
