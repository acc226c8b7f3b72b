"""Build an executed HTML copy of every lecture, for readers who just want to read.

    python lectures/build.py [--out _build/lectures] [NOTEBOOK ...]

Each notebook is executed from scratch in a fresh kernel (the committed files
carry no outputs) and converted with nbconvert; an index page links them all.
Each page is one file that works offline: the maths is MathML written at build
time and no script is loaded from a CDN (autograder/offline_html.py).
Nothing in lectures/ is modified.
"""

import argparse
import html
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.offline_html import VIEWPORT, OfflineHTMLExporter

HERE = Path(__file__).resolve().parent
WIDGET = "application/vnd.jupyter.widget-view+json"
STILL = ('<p class="widget-note"><em>Sliders here in Jupyter: run this notebook to move them (the figure above '
         'shows the values they start at).</em></p>')


def without_widgets(notebook):
    """Widgets (``interact`` sliders) need a live kernel, so a page would show an empty box: each becomes a line
    saying where the sliders are."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if WIDGET in output.get("data", {}):
                output["data"] = {"text/html": STILL}
    notebook.metadata.pop("widgets", None)  # their state, which only a widget script would read
    return notebook


def build(notebooks, out):
    out.mkdir(parents=True, exist_ok=True)
    exporter = OfflineHTMLExporter()
    links = []
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(HERE.parent)}}).execute()
        body, _ = exporter.from_notebook_node(without_widgets(notebook))
        target = out / f"{path.stem}.html"
        target.write_text(body)
        title = next((c.source.splitlines()[0].lstrip("# ") for c in notebook.cells if c.cell_type == "markdown"),
                     path.stem)
        links.append(f'<li><a href="{target.name}">{html.escape(title)}</a></li>')
        print(f"{path.name}: executed and written to {target} in {time.perf_counter() - start:.1f} s")
    (out / "index.html").write_text(f"<!doctype html><meta charset='utf-8'>{VIEWPORT}<title>nbbackprop lectures</title>"
                                    f"<h1>nbbackprop lectures</h1><ol>{''.join(links)}</ol>\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE.parent / "_build" / "lectures")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(HERE.glob("L0*.ipynb"))
    if not notebooks:
        parser.error("found no lecture notebook")
    build(notebooks, args.out)
    print(f"open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
