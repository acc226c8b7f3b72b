"""HTML pages that need no network: maths typeset at build time, no script from a CDN.

nbconvert's templates leave the maths of Markdown cells as ``$…$`` for MathJax, loaded from a CDN
with require.js (and jQuery, mermaid and the widgets' renderer). Offline, every formula is raw LaTeX.
:class:`OfflineHTMLExporter` is nbconvert's ``HTMLExporter`` with two changes:

- ``$…$``, ``$$…$$`` and ``\\begin{env}…\\end{env}`` in Markdown become MathML when the page is
  built (latex2mathml), which browsers render natively (MathML Core), so there is no script to run;
- every script that would load from elsewhere is left out: MathJax, require.js, jQuery, mermaid and
  the widgets' renderer. A widget shows nothing without a kernel (each lecture draws a static figure too).

Markdown images are embedded and a phone gets a viewport, so each page is one file that works anywhere.
``lectures/build.py`` writes the lectures with it, and ``nbgrader_config.py`` makes it the exporter of
``nbgrader generate_feedback``, with nbgrader's own feedback template.
"""

import html
from xml.etree.ElementTree import Element, tostring
from xml.sax.saxutils import unescape

import latex2mathml.converter
from jinja2 import DictLoader, pass_context
from latex2mathml.commands import FUNCTIONS
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from traitlets import default

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1.0">'

# Tried before nbconvert's own template files. The macros that write MathJax, mermaid and the widgets'
# loader are shadowed by empty ones (nbgrader's feedback template calls mathjax() outside any block), and
# the page itself is the template's index.html.j2 without its head scripts (require.js, jQuery).
TEMPLATES = {
    "nbbackprop-offline.html.j2": (
        "{%- extends 'index.html.j2' -%}\n"
        "{%- block html_head_js -%}{%- endblock html_head_js -%}\n"
    ),
    "mathjax.html.j2": "{%- macro mathjax(url='') -%}{%- endmacro -%}\n",
    "mermaidjs.html.j2": "{%- macro mermaid_js(url='', elk_url='') -%}{%- endmacro -%}\n",
    "jupyter_widgets.html.j2": (
        "{%- macro jupyter_widgets(widgets_cdn_url, html_manager_semver_range, widget_renderer_url='') -%}"
        "{%- endmacro -%}\n"
    ),
}


FUNCTION_NAMES = {name.lstrip("\\") for name in FUNCTIONS}  # sin, log, tanh, ...: an <mi> from latex2mathml
SCRIPTED = {"msub", "msup", "msubsup", "munder", "mover", "munderover"}  # first child the base


def mathml(tex, display):
    """``tex`` as a MathML ``<math>`` element, ``display`` "inline" or "block"; a formula latex2mathml
    cannot read is shown as its source in a ``<code>``, never dropped."""
    try:
        math = latex2mathml.converter.convert_to_element(tex.strip(), display=display)
    except Exception:  # latex2mathml raises its own errors and plain ones (IndexError, ...) on bad input
        return f'<code class="tex-source">{html.escape(tex)}</code>'
    space_function_names(math)
    return unescape(tostring(math, encoding="unicode"))  # as latex2mathml.converter.convert writes it


def space_function_names(math):
    """Put the thin space TeX puts after a function name (``\\log p``, ``\\sin^2 x``), where latex2mathml
    puts none ("logp"): before whatever follows but an operator or a delimiter (an ``<mo>``)."""
    for parent in list(math.iter()):
        if parent.tag in SCRIPTED:  # its base and scripts: the space goes after the whole
            continue
        children = list(parent)
        for index in reversed(range(len(children) - 1)):
            name = children[index][0] if children[index].tag in SCRIPTED and len(children[index]) else children[index]
            if name.tag == "mi" and name.text in FUNCTION_NAMES and children[index + 1].tag != "mo":
                parent.insert(index + 1, Element("mspace", width="0.1667em"))


class MathMLRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer, with the maths written as MathML instead of left for MathJax."""

    def inline_math(self, body):
        return mathml(body, "inline")

    def block_math(self, body):
        return mathml(body, "block")

    def latex_environment(self, name, body):
        return mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", "block")


class OfflineHTMLExporter(HTMLExporter):
    """nbconvert's ``HTMLExporter`` for pages read offline (see the module's docstring)."""

    @default("extra_loaders")
    def _extra_loaders_default(self):
        return [DictLoader(TEMPLATES)]

    @default("template_file")
    def _template_file_default(self):
        return "nbbackprop-offline.html.j2"

    @default("embed_images")
    def _embed_images_default(self):
        return True

    @pass_context
    def markdown2html(self, context, source):
        """HTMLExporter's Markdown filter (attachments, anchors, embedded images), with MathML maths."""
        cell = context.get("cell", {})
        renderer = MathMLRenderer(
            escape=False,
            attachments=cell.get("attachments", {}),
            embed_images=self.embed_images,
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )
        return MarkdownWithMath(renderer=renderer).render(source)

    def from_notebook_node(self, nb, resources=None, **kw):
        output, resources = super().from_notebook_node(nb, resources, **kw)
        if 'name="viewport"' not in output:  # nbgrader's feedback template has none
            output = output.replace("<head>", f"<head>\n{VIEWPORT}", 1)
        return output, resources
