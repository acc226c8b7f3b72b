"""The class report (issue 13): a small class with planted misconceptions, graded once, and every figure
of class.json checked against counts made by hand; the page opened offline in Chromium.

The ps4 class (scores out of 36; Linear is worth 8: init 1, fprop 1, grad_x 2, grad_W 2, grad_b 1, state 1):

    alice, bob  grad_W = grad_y.T @ x (transposed)    → 34   Linear.grad_W: transpose
    carol       grad_W = x.T @ grad_y / N             → 34   Linear.grad_W: scale-batch
    dave        the released stubs, untouched         →  0   every part not-implemented
    erin        the model answer                      → 36
    frank       Linear's cell raises NameError        → 28   six Linear parts: exception
                (on a name that carries his own: the example message must not)

and a ps1 class (out of 25) for the course view: alice, erin, gina the model answer, bob the stubs.
"""

import json
import re
import subprocess

import nbformat
import pytest

from autograder.cells import grade_id
from autograder.class_report import (
    ANONYMOUS,
    _identifiers,
    anonymise,
    class_figures,
    summary_lines,
    write_course_report,
)
from autograder.course import model_answer, untouched
from autograder.grader import grade_class
from autograder.report import write_all

PS1, PS4 = "ps1_neurons", "ps4_flow_graph"
CLASS = ("alice", "bob", "carol", "dave", "erin", "frank", "gina")
GRAD_W = "self.grad_W = self.x.T @ grad_y"
TRANSPOSED = (GRAD_W, "self.grad_W = grad_y.T @ self.x")
SCALE_BATCH = (GRAD_W, "self.grad_W = self.x.T @ grad_y / len(grad_y)")
INIT = "    def __init__(self, n_in, n_out, rng):"
RAISES = (INIT, "    scale = frank_helper()\n\n" + INIT)
LINEAR_PARTS = ["Linear.init", "Linear.fprop", "Linear.grad_x", "Linear.grad_W", "Linear.grad_b", "Linear.state"]


def edited(assignment, target, old, new):
    notebook = model_answer(assignment)
    cell = next(c for c in notebook.cells if grade_id(c) == target)
    assert old in cell.source
    cell.source = cell.source.replace(old, new)
    return notebook


def handed_in(folder, notebooks):
    folder.mkdir()
    for student, notebook in notebooks.items():
        nbformat.write(notebook, folder / f"{student}.ipynb")
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Both classes graded (the slow part, once) and written as ``grade`` writes them: (out dir, reports)."""
    root = tmp_path_factory.mktemp("class")
    ps4 = handed_in(root / "ps4", {"alice": edited(PS4, "Linear", *TRANSPOSED),
                                   "bob": edited(PS4, "Linear", *TRANSPOSED),
                                   "carol": edited(PS4, "Linear", *SCALE_BATCH), "dave": untouched(PS4),
                                   "erin": model_answer(PS4), "frank": edited(PS4, "Linear", *RAISES)})
    ps1 = handed_in(root / "ps1", {"alice": model_answer(PS1), "bob": untouched(PS1), "erin": model_answer(PS1),
                                   "gina": model_answer(PS1)})
    out = root / "graded"
    reports = {}
    for assignment, folder in ((PS4, ps4), (PS1, ps1)):
        reports[assignment] = grade_class(assignment, [str(folder)], jobs=2)
        write_all(out / assignment, reports[assignment])
    write_course_report(out)
    return out, reports


@pytest.fixture(scope="module")
def figures(graded):
    out, reports = graded
    written = json.loads((out / PS4 / "class.json").read_text())
    assert written == json.loads(json.dumps(class_figures(reports[PS4])))
    return written


@pytest.fixture(scope="module")
def course(graded):
    return json.loads((graded[0] / "class.json").read_text())


def part(figures, part_id):
    return next(p for p in figures["parts"] if p["id"] == part_id)


def counts(found):
    """[(diagnosis, count, share)] in the report's rank order."""
    return [(d["diagnosis"], d["count"], pytest.approx(d["share"])) for d in found["diagnoses"]]


def test_the_score_distribution_median_and_full_marks(figures):
    assert figures["assignment"] == PS4 and figures["submissions"] == 6 and figures["missing"] == 0
    scores = figures["scores"]
    assert scores["max_score"] == 36
    assert scores["median"] == 34  # 0 28 34 | 34 34 36
    assert scores["mean"] == pytest.approx((0 + 28 + 34 + 34 + 34 + 36) / 6)
    assert scores["full_marks"] == {"count": 1, "share": pytest.approx(1 / 6)}  # erin
    bins = scores["histogram"]
    assert [(b["from"], b["to"]) for b in bins] == [(pytest.approx(3.6 * i), pytest.approx(3.6 * (i + 1)))
                                                    for i in range(10)]
    # dave's 0 in [0, 3.6); frank's 28 in [25.2, 28.8); three 34s and erin's 36 in the last, [32.4, 36]
    assert [b["count"] for b in bins] == [1, 0, 0, 0, 0, 0, 0, 1, 0, 4]
    assert figures["figures"] == ["scores", "parts"]


def test_every_part_has_its_pass_rate_and_diagnoses_ranked_by_students(figures):
    assert [p["id"] for p in figures["parts"]][:6] == LINEAR_PARTS and len(figures["parts"]) == 27
    for found in figures["parts"]:
        assert found["graded"] == 6
        assert sum(d["count"] for d in found["diagnoses"]) + found["passed"] == 6
    grad_w = part(figures, "Linear.grad_W")
    assert (grad_w["passed"], grad_w["pass_rate"], grad_w["max_points"]) == (1, pytest.approx(1 / 6), 2)  # erin
    # ranked by students, ties by name: alice+bob, then frank, dave, carol with one each
    assert counts(grad_w) == [("transpose", 2, 2 / 6), ("exception", 1, 1 / 6), ("not-implemented", 1, 1 / 6),
                              ("scale-batch", 1, 1 / 6)]
    for part_id in set(LINEAR_PARTS) - {"Linear.grad_W"}:  # everyone but dave and frank passes
        found = part(figures, part_id)
        assert (found["passed"], found["pass_rate"]) == (4, pytest.approx(4 / 6)), part_id
        assert counts(found) == [("exception", 1, 1 / 6), ("not-implemented", 1, 1 / 6)], part_id
    for found in figures["parts"][6:]:  # the other six names: only dave's stubs fail
        assert (found["passed"], found["pass_rate"]) == (5, pytest.approx(5 / 6)), found["id"]
        assert counts(found) == [("not-implemented", 1, 1 / 6)], found["id"]


def test_misconceptions_leave_out_what_never_ran(figures):
    assert [(m["part"], m["diagnosis"], m["count"], m["share"]) for m in figures["misconceptions"]] == [
        ("Linear.grad_W", "transpose", 2, pytest.approx(2 / 6)),
        ("Linear.grad_W", "scale-batch", 1, pytest.approx(1 / 6))]


def test_each_diagnosis_has_one_example_message_naming_no_student(figures):
    examples = {(p["id"], d["diagnosis"]): d["example"] for p in figures["parts"] for d in p["diagnoses"]}
    assert len(examples) == 4 + 5 * 2 + 21  # grad_W's four, two for the other Linear parts, one else
    for (part_id, diagnosis), text in examples.items():
        assert text.startswith(f"[{part_id.split('.')[1]}] "), (part_id, text)
        named = [name for name in CLASS if re.search(name, text, re.I)]
        assert named == [], f"{part_id} {diagnosis}: {text}"
    assert "grad_y.T @ x" in examples["Linear.grad_W", "transpose"]
    assert "off by exactly the batch size" in examples["Linear.grad_W", "scale-batch"]
    crashed = examples["Linear.init", "exception"]
    assert f"NameError: name '{ANONYMOUS}_helper' is not defined" in crashed  # frank_helper, his name struck out
    assert "not implemented yet" in examples["Sigmoid.bprop", "not-implemented"]


def test_the_students_who_need_help_first(figures):
    assert figures["need_help"] == [
        {"student": "dave", "score": 0, "max_score": 36, "crashed": 0, "nothing_implemented": True, "error": None,
         "reasons": ["nothing implemented"]},
        {"student": "frank", "score": 28, "max_score": 36, "crashed": 6, "nothing_implemented": False,
         "error": None, "reasons": ["6 parts raised or timed out"]}]
    assert figures["ungraded"] == []


def test_the_course_view_across_assignments(course):
    assert [a["assignment"] for a in course["assignments"]] == [PS1, PS4]  # the course's order, not grading's
    ps1, ps4 = course["assignments"]
    assert (ps1["submissions"], ps1["median"], ps1["max_score"]) == (4, 25, 25)  # 0 25 | 25 25
    assert ps1["full_marks"] == {"count": 3, "share": 0.75} and ps1["top_misconception"] is None
    assert (ps4["submissions"], ps4["median"], ps4["max_score"]) == (6, 34, 36)
    assert (ps4["top_misconception"]["part"], ps4["top_misconception"]["diagnosis"]) == ("Linear.grad_W",
                                                                                         "transpose")
    assert course["students"] == list(CLASS)
    assert {t["student"]: t["scores"] for t in course["trajectories"]} == {
        "alice": [1, pytest.approx(34 / 36)], "bob": [0, pytest.approx(34 / 36)],
        "carol": [None, pytest.approx(34 / 36)], "dave": [None, 0], "erin": [1, 1],
        "frank": [None, pytest.approx(28 / 36)], "gina": [1, None]}
    assert course["median_share"] == [1, pytest.approx(34 / 36)]  # of 0 1 1 1; of 0 28 34 34 34 36 (/36)
    columns = [(c["assignment"], c["id"]) for c in course["columns"]]
    ps1_parts = [c for c in columns if c[0] == PS1]
    assert columns[:len(ps1_parts)] == ps1_parts and len(columns) == len(ps1_parts) + 27
    cell = {(student, column): value for student, row in zip(course["students"], course["heat_map"])
            for column, value in zip(columns, row)}
    for column in columns:
        assert cell["erin", column] == 1  # the model answer twice
        assert cell["gina", column] == (1 if column[0] == PS1 else None)  # handed in ps1 only
        assert cell["dave", column] == (None if column[0] == PS1 else 0)  # ps4's stubs only
        assert cell["bob", column] == (0 if column[0] == PS1 else 0 if column[1] == "Linear.grad_W" else 1)
        assert cell["frank", column] == (None if column[0] == PS1 else 0 if column[1] in LINEAR_PARTS else 1)
    assert course["figures"] == ["heat_map", "trajectories"]


def test_flagged_pairs_are_listed_once_each_with_both_sides_code(figures):
    # every notebook here is a copy of one model answer: the screening is right to flag them; the stub (dave)
    # has only starter code, which is boilerplate, and is in no pair
    flagged = figures["flagged"]
    pairs = [(f["target"], f["student"], f["with"]) for f in flagged]
    assert len(pairs) == len(set(pairs)) and not [p for p in pairs if (p[0], p[2], p[1]) in pairs]
    assert ("Linear", "alice", "bob") in pairs and flagged[0]["score"] == 1.0
    assert not [f for f in flagged if "dave" in (f["student"], f["with"])]
    linear = next(f for f in flagged if f["target"] == "Linear" and {f["student"], f["with"]} == {"alice", "bob"})
    assert "grad_y.T @ self.x" in linear["code"] and linear["code"] == linear["other_code"]
    assert [f["score"] for f in flagged] == sorted((f["score"] for f in flagged), reverse=True)


def test_the_terminal_summary(graded):
    lines = summary_lines(graded[1][PS4], folder="graded/ps4_flow_graph")
    assert lines == [
        "class report: 6 submissions, median 34 / 36, 17 % at full marks — graded/ps4_flow_graph/class.html",
        "top misconceptions:",
        "  Linear.grad_W: 33 % transpose (2), 17 % scale-batch (1)",
        "need help first: dave (0 / 36: nothing implemented); frank (28 / 36: 6 parts raised or timed out)"]
    assert summary_lines(graded[1][PS1])[1] == "top misconceptions: none shared by the class"


def test_a_submission_that_could_not_be_graded_is_said_so(figures, graded):
    report = dict(graded[1][PS4])
    broken = dict(report["submissions"][0], student="zoe", path="zoe.ipynb", score=0.0, error="timeout",
                  tests=[], notes=["the notebook ran past its time limit"])
    found = class_figures(dict(report, submissions=[*report["submissions"], broken]))
    assert found["ungraded"] == [{"student": "zoe", "error": "timeout", "why": "the notebook ran past its time limit"}]
    assert found["need_help"][0]["student"] == "dave" and found["need_help"][1]["student"] == "zoe"
    assert found["need_help"][1]["reasons"] == ["could not be graded (timeout)"]
    assert found["scores"]["histogram"][0]["count"] == 2 and part(found, "Linear.grad_W")["graded"] == 6
    assert summary_lines(dict(report, submissions=[broken]))[-1] == (
        "could not be graded: zoe (timeout): the notebook ran past its time limit")


def test_an_example_loses_names_ids_mails_and_paths_but_keeps_the_code():
    entry = {"student": "Ana Lima", "path": "in/Ana Lima_501_assignsubmission_file_/ps4.ipynb",
             "lms": {"moodle_id": "50123"}}
    text = ("name 'ana_lima_scale' is not defined (see in/x/ps4.ipynb; mail ana.lima@uni.edu, id 50123); "
            "Linear.bprop sets grad_W = x.T @ grad_y on 7 rows")
    assert anonymise(text, _identifiers(entry)) == (
        f"name '{ANONYMOUS}_{ANONYMOUS}_scale' is not defined (see ‹file›; mail {ANONYMOUS}, id {ANONYMOUS}); "
        "Linear.bprop sets grad_W = x.T @ grad_y on 7 rows")


def test_a_run_with_nothing_graded_still_writes_both_pages(tmp_path):
    nothing = {"assignment": PS1, "submissions": [], "missing": [{"student": "zed", "reason": "no submission"}],
               "skipped": [{"path": "zed.py", "reason": "not a notebook", "kind": "not-a-notebook"}]}
    write_all(tmp_path / PS1, nothing)
    assert write_course_report(tmp_path) == tmp_path / "class.html"
    assert json.loads((tmp_path / "class.json").read_text())["trajectories"] == [{"student": "zed",
                                                                                  "scores": [None]}]
    assert summary_lines(nothing) == ["class report: no submission of ps1_neurons graded yet",
                                      "could not be graded: zed.py (not-a-notebook): not a notebook"]


def test_the_grade_command_prints_the_summary_and_writes_both_pages(tmp_path):
    folder = handed_in(tmp_path / "in", {"alice": edited(PS4, "Linear", *TRANSPOSED), "erin": model_answer(PS4)})
    out = tmp_path / "graded"
    run = subprocess.run(["autograder", "grade", PS4, str(folder), "--out", str(out), "--jobs", "2"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "  Linear.grad_W: 50 % transpose (1)" in run.stdout.splitlines()
    for page in (out / PS4, out):
        assert (page / "class.html").is_file() and json.loads((page / "class.json").read_text())["figures"]


# ---------------------------------------------------------------- the page, in a real browser

NUMBERS = """() => Array.from(document.querySelectorAll('[data-json]'),
                              e => [e.dataset.json, e.dataset.format, e.textContent])"""
FIGURES = """() => Array.from(document.querySelectorAll('figure[data-figure]'), f => {
    const svg = f.querySelector('svg'), box = svg && svg.getBoundingClientRect();
    return [f.dataset.figure, f.querySelectorAll('svg').length, box ? box.width : 0, box ? box.height : 0];
})"""


def value_at(document, path):
    for key in path.split("."):
        document = document[int(key)] if isinstance(document, list) else document[key]
    return document


def shown(value, style):
    if value is None:
        return "—"
    return f"{round(100 * value)} %" if style == "percent" else f"{value:g}"


def offline_page(browser, path, width):
    """The page at ``path`` in a context with the network off and every request but its own aborted."""
    url = path.as_uri()
    context = browser.new_context(viewport={"width": width, "height": 900}, offline=True)
    requested = []
    context.on("request", lambda request: requested.append(request.url))
    context.route("**/*", lambda route: route.continue_() if route.request.url == url else route.abort())
    page = context.new_page()
    page.goto(url)
    page.wait_for_load_state("load")
    return context, page, url, requested


@pytest.mark.parametrize("which", [PS4, "course"])
@pytest.mark.parametrize("width", [390, 1000])  # a phone, a laptop
def test_the_page_opens_offline_with_every_figure_and_the_numbers_of_its_json(browser, graded, which, width):
    folder = graded[0] / PS4 if which == PS4 else graded[0]
    document = json.loads((folder / "class.json").read_text())
    context, page, url, requested = offline_page(browser, folder / "class.html", width)
    try:
        assert [u for u in requested if not u.startswith("data:")] == [url], f"asked for more: {requested}"
        figures = page.evaluate(FIGURES)
        assert [f[0] for f in figures] == document["figures"]
        assert all(count == 1 and w > 100 and h > 50 for _, count, w, h in figures), figures
        assert page.locator("svg").count() == len(document["figures"])
        assert page.locator("img, script, link, iframe, object").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
        numbers = page.evaluate(NUMBERS)
        assert len(numbers) > 20
        for path, style, text in numbers:
            assert text == shown(value_at(document, path), style), path
        if which == PS4:
            section = page.locator("section[data-part='Linear.grad_W']")
            assert "17 % passed (1 of 6)" in section.locator("h3").inner_text()
            transpose = section.locator("li[data-diagnosis='transpose']").inner_text()
            assert "transpose: 33 % (2 students)" in transpose and "grad_y.T @ x" in transpose
            assert page.locator("tr[data-student]").all_inner_texts() == [
                "dave\t0 / 36\tnothing implemented", "frank\t28 / 36\t6 parts raised or timed out"]
            outside_flags = page.evaluate("(() => { const body = document.body.cloneNode(true); "
                                          "body.querySelectorAll('section.flag').forEach(s => s.remove()); "
                                          "return body.innerText; })()")
            assert not re.search(r"alice|bob|carol|erin", outside_flags, re.I)  # names only where they must be
            first = page.locator("section.flag").first
            assert "alice ~ bob" in first.inner_text() and first.locator("pre").count() == 2
        else:
            assert page.locator("tr[data-assignment]").count() == 2
            assert page.locator("tr[data-student='gina']").inner_text().split("\t") == ["gina", "100 %", "—"]
            assert page.locator("a[href='ps4_flow_graph/class.html']").count() == 1
    finally:
        context.close()
