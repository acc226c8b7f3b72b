"""Grading on Dask and resumable batches (issue 14), for real: a LocalCluster of two worker processes.

* the cluster grades a class into the same report, CSV and feedback pages as the local pool, byte for
  byte once the times of day are masked;
* a worker killed in the middle of a batch loses nothing and duplicates nothing;
* an interrupted batch resumes (``grade --resume``, here on the cluster through ``--scheduler``):
  only what ``results.jsonl`` lacks is graded, and a changed notebook is graded again.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys

import nbformat
import pytest

from autograder import report as reports
from autograder.course import ROOT
from autograder.executors import DaskEngine
from autograder.grader import grade_class
from autograder.results import FILE, Results
from autograder.sandbox import Limits

SAMPLES = ROOT / "autograder" / "samples" / "submitted"
STUDENTS = ("ada", "ben", "cleo")
PS1 = "ps1_neurons"
LIMITS = Limits(target_seconds=10, cell_seconds=30)
TIME_OF_DAY = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture(scope="module")
def cluster():
    with DaskEngine(jobs=2) as engine:
        yield engine.start()  # now (it starts on first use): the tests read its workers and address


def written(report, folder):
    """Every file :func:`autograder.report.write_all` makes of ``report``, times of day masked."""
    reports.write_all(folder, report)
    return {str(path.relative_to(folder)): TIME_OF_DAY.sub(b"<time>", path.read_bytes())
            for path in sorted(folder.rglob("*")) if path.is_file()}


def a_class(directory, copies=1, assignment=PS1):
    """``directory/submitted/<student><n>/<assignment>/``: the sample submissions, ``copies`` times over."""
    for n in range(copies):
        for student in STUDENTS:
            shutil.copytree(SAMPLES / student / assignment,
                            directory / "submitted" / f"{student}{n if copies > 1 else ''}" / assignment)
    return directory / "submitted"


@pytest.mark.parametrize("assignment", [PS1, "ps4_flow_graph"])
def test_dask_grades_the_same_report_as_the_local_pool(cluster, assignment, tmp_path):
    local = grade_class(assignment, [SAMPLES], jobs=2, limits=LIMITS)
    on_dask = grade_class(assignment, [SAMPLES], limits=LIMITS, engine=cluster)
    assert [e["student"] for e in on_dask["submissions"]] == list(STUDENTS)
    ours, theirs = written(local, tmp_path / "local"), written(on_dask, tmp_path / "dask")
    assert sorted(ours) == sorted(theirs) and "report.json" in ours and f"feedback/{STUDENTS[0]}.html" in ours
    for name in ours:
        assert ours[name] == theirs[name], name


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(cluster, tmp_path):
    submitted = a_class(tmp_path, copies=3)
    expected = {e["student"]: e["score"] for e in grade_class(PS1, [SAMPLES], jobs=2, limits=LIMITS)["submissions"]}
    before = cluster.worker_pids()
    seen, killed = [], []

    def progress(entry):
        if not seen:  # the batch is under way, the other submissions in flight: kill a worker that holds one
            busy = sorted(address for address, keys in cluster.client.processing().items() if keys)
            killed.append(before[(busy or sorted(before))[0]])
            os.kill(killed[0], signal.SIGKILL)
        seen.append(entry["student"])

    streamed = Results(tmp_path / FILE)
    report = grade_class(PS1, [submitted], limits=LIMITS, engine=cluster, results=streamed, progress=progress)
    students = [f"{s}{n}" for s in STUDENTS for n in range(3)]
    assert [e["student"] for e in report["submissions"]] == students
    assert sorted(seen) == students  # each reported done once
    assert {e["student"]: e["score"] for e in report["submissions"]} == {s: expected[s[:-1]] for s in students}
    assert all(e["error"] is None for e in report["submissions"])
    lines = [json.loads(line) for line in (tmp_path / FILE).read_text().splitlines()]
    assert sorted(line["student"] for line in lines) == students
    cluster.client.wait_for_workers(2, timeout=60)
    after = cluster.worker_pids()
    assert killed[0] not in after.values() and len(after) == 2  # it did die, and the nanny started another


def grade(*args):
    return subprocess.run([sys.executable, "-m", "autograder", "grade", *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)


def test_an_interrupted_batch_resumes_and_a_changed_notebook_is_regraded(cluster, tmp_path):
    submitted, out = a_class(tmp_path), tmp_path / "graded"
    log = out / PS1 / FILE
    first = grade_class(PS1, [submitted / "ada"], limits=LIMITS, results=Results(log))  # stopped after ada
    assert [json.loads(line)["student"] for line in log.read_text().splitlines()] == ["ada"]

    run = grade(PS1, submitted, "--out", out, "--resume", "--scheduler", cluster.cluster.scheduler_address)
    assert run.returncode == 0, run.stderr
    assert "(resumed: 1 entries taken from results.jsonl" in run.stdout
    report = json.loads((out / PS1 / "report.json").read_text())
    entries = {e["student"]: e for e in report["submissions"]}
    assert sorted(entries) == list(STUDENTS)
    assert entries["ada"]["graded_at"] == first["submissions"][0]["graded_at"]  # not graded again
    assert sorted(json.loads(line)["student"] for line in log.read_text().splitlines()) == ["ada", "ben", "cleo"]
    local = {e["student"]: e for e in grade_class(PS1, [submitted], jobs=2, limits=LIMITS)["submissions"]}
    assert {s: (e["score"], e["tests"]) for s, e in entries.items()} == \
        {s: (e["score"], e["tests"]) for s, e in local.items()}

    ben = submitted / "ben" / PS1 / f"{PS1}.ipynb"
    notebook = nbformat.read(ben, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell("I re-read the lecture before handing in."))
    nbformat.write(notebook, ben)
    run = grade(PS1, submitted, "--out", out, "--resume", "--jobs", "2")
    assert run.returncode == 0, run.stderr
    assert "(resumed: 2 entries taken from results.jsonl" in run.stdout
    again = {e["student"]: e for e in json.loads((out / PS1 / "report.json").read_text())["submissions"]}
    assert sorted(again) == list(STUDENTS)
    assert [json.loads(line)["student"] for line in log.read_text().splitlines()][3:] == ["ben"]  # appended
    assert again["ada"] == entries["ada"] and again["cleo"] == entries["cleo"]
    assert again["ben"]["graded_at"] >= entries["ben"]["graded_at"] and again["ben"]["score"] == entries["ben"]["score"]


def test_a_resumed_batch_with_nothing_left_starts_no_cluster(tmp_path):
    """``--engine dask --resume`` when every submission is already in results.jsonl: no LocalCluster starts,
    and the report is the one the results hold."""
    log = tmp_path / FILE
    first = grade_class(PS1, [SAMPLES], jobs=2, limits=LIMITS, results=Results(log))
    with DaskEngine(jobs=2) as idle:
        again = grade_class(PS1, [SAMPLES], limits=LIMITS, engine=idle, results=Results(log, resume=True))
        assert not idle.started and idle.cluster is None
    kept = ("student", "score", "tests", "graded_at")  # as graded the first time, not again
    assert [{k: e[k] for k in kept} for e in again["submissions"]] == \
        [{k: e[k] for k in kept} for e in first["submissions"]]
    with DaskEngine(jobs=1) as used:  # and one with work to do starts it on first use
        assert not used.started
        assert used.slots(3) == 1 and used.started and used.cluster is not None
        assert used.start() is used and used.slots(3) == 1  # started once
