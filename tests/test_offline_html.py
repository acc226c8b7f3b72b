"""Every HTML page we write works offline (issue 12): a lecture built by ``lectures/build.py`` and a
feedback page made by the exporter and template of ``nbgrader generate_feedback`` (as the course's
nbgrader_config.py sets them), opened in headless Chromium with every request but the page's own file
cut off, ask for nothing else, show their formulas typeset as MathML and no raw LaTeX."""

import importlib.util
import re

import pytest

from autograder.course import ROOT, untouched

LECTURE = "L01_neurons"  # the quickest lecture to execute, with maths, figures and a widget
ASSIGNMENT = "ps2_logistic"  # the problem set with the most maths in its Markdown

# the visible text of every Markdown cell (lab template, nbgrader's feedback template), code and maths removed
MARKDOWN_TEXT = """() => Array.from(document.querySelectorAll('.jp-RenderedMarkdown, .text_cell_render')).map(cell => {
    const copy = cell.cloneNode(true);
    copy.querySelectorAll('code, pre, math').forEach(element => element.remove());
    return copy.textContent;
}).join('\\n')"""
# how Chromium lays out the maths: the display of each <math>, and whether each fraction is stacked
MATHS_LAYOUT = """() => ({
    displays: Array.from(document.querySelectorAll('math'), math => getComputedStyle(math).display),
    texts: Array.from(document.querySelectorAll('math'), math => math.textContent),
    stacked: Array.from(document.querySelectorAll('mfrac'), fraction => {
        const [over, under] = Array.from(fraction.children, part => part.getBoundingClientRect());
        return over.bottom <= under.top + 1;
    }),
})"""


@pytest.fixture(scope="module")
def lecture_page(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("lectures_build", ROOT / "lectures" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    out = tmp_path_factory.mktemp("lectures")
    build.build([ROOT / "lectures" / f"{LECTURE}.ipynb"], out)
    return out / f"{LECTURE}.html"


@pytest.fixture(scope="module")
def feedback_page(tmp_path_factory):
    """What ``nbgrader generate_feedback`` writes for an untouched submission, without a gradebook: the
    course's configuration builds the exporter as GenerateFeedback does, and the cells carry the scores
    and a grader's comment (with maths) as nbgrader's GetGrades leaves them."""
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import GetGrades
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    converter = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config)
    exporter = converter.exporter_class(parent=converter, config=converter.config)
    for preprocessor in converter.preprocessors:
        if preprocessor is not GetGrades:  # it reads the gradebook; its results are set below
            exporter.register_preprocessor(preprocessor)
    notebook = untouched(ASSIGNMENT)
    for cell in notebook.cells:
        nbgrader = cell.metadata.get("nbgrader", {})
        if nbgrader.get("grade") or nbgrader.get("task"):
            nbgrader.update(score=0.0, points=nbgrader.get("points", 0.0))
        if nbgrader.get("solution") or nbgrader.get("task"):
            nbgrader["comment"] = "Compare your $\\frac{\\partial L}{\\partial w}$ with $(a - y)\\,x$."
    resources = {"nbgrader": {"notebook": ASSIGNMENT, "score": 0.0, "max_score": 21.0, "late_penalty": 0.0}}
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    page = tmp_path_factory.mktemp("feedback") / f"{ASSIGNMENT}.html"
    page.write_text(body)
    return page


def open_offline(browser, page_path):
    """Open ``page_path`` in a fresh page where every request but the file's own is aborted; returns
    the page and the list of requests it made (the file's own excluded)."""
    own = page_path.as_uri()
    requests = []
    page = browser.new_page()
    page.on("request", lambda request: request.url != own and requests.append(request.url))
    page.route("**/*", lambda route: route.continue_() if route.request.url == own else route.abort())
    page.goto(own, wait_until="load")
    page.wait_for_timeout(500)  # a script that fetches on DOMContentLoaded or a timer has had its turn
    return page, requests


@pytest.mark.parametrize("which", ["lecture_page", "feedback_page"])
def test_a_page_shows_its_maths_typeset_and_asks_for_nothing_beyond_itself(which, request, browser):
    page_path = request.getfixturevalue(which)
    source = page_path.read_text()
    assert not re.findall(r"<script[^>]*\bsrc=", source), "no script is loaded from anywhere"
    page, requests = open_offline(browser, page_path)
    try:
        assert [url for url in requests if not url.startswith("data:")] == [], (
            f"{page_path.name} asked for more than itself (one file that works offline)")
        text = page.evaluate(MARKDOWN_TEXT)
        assert len(text) > 1000, "the Markdown cells were found"
        raw = re.findall(r"\$[^$\n]+\$|\\[A-Za-z]+", text)
        assert raw == [], f"raw LaTeX left in the text of {page_path.name}: {raw[:10]}"
        layout = page.evaluate(MATHS_LAYOUT)
        assert len(layout["displays"]) > 20, f"{page_path.name} has {len(layout['displays'])} formulas"
        assert set(layout["displays"]) <= {"math", "inline math", "block math"}, (
            f"Chromium lays out <math> as MathML: {set(layout['displays'])}")
        unread = [math for math in layout["texts"] if re.search(r"\\[A-Za-z]", math)]
        unread += page.locator("code.tex-source").all_inner_texts()
        assert unread == [], f"commands latex2mathml could not read, left as text: {unread[:10]}"
        assert layout["stacked"] and all(layout["stacked"]), "every fraction is typeset, numerator over denominator"
    finally:
        page.close()


def test_maths_as_mathml_spaced_as_tex_and_a_formula_latex2mathml_cannot_read_shown_as_its_source():
    from autograder.offline_html import mathml

    assert mathml("x^2", "inline").startswith("<math") and 'display="inline"' in mathml("x^2", "inline")
    assert 'display="block"' in mathml("\\frac{a}{b}", "block")
    # a thin space after a function name, as in TeX ("log p", not "logp"), none before a delimiter
    assert "<mi>log</mi><mspace" in mathml("\\log p(x)", "inline")
    assert "<msup><mi>sin</mi><mn>2</mn></msup><mspace" in mathml("\\sin^2 x", "inline")
    assert "mspace" not in mathml("\\log(x) + \\tanh", "inline")
    assert mathml("x^{", "inline") == '<code class="tex-source">x^{</code>'


def test_a_lectures_sliders_become_a_line_saying_where_they_are(lecture_page):
    """A widget cannot work in a static page: where L01's interact would be an empty box, the page says that the
    sliders are in Jupyter — and carries no widget state or widget view."""
    text = lecture_page.read_text()
    assert text.count('class="widget-note"') == 1
    assert "widget-view+json" not in text and "interactive(children" not in text
