"""Similarity screening: which graded cells look copied, from another student or from the reference library.

For every graded target of an assignment, the code of the student's cell (the
one whose nbgrader ``grade_id`` is the target, else the one defining it) is
compared with the reference library's source of that target (``nbbackprop``,
read with :mod:`inspect`) and with the same cell of every other submission.

The comparison is on an **AST-normalised** token stream, not on the text:
docstrings, comments, blank lines and imports are gone; every name the cell
binds (variables, arguments, its own functions and classes) becomes ``V`` and
every attribute of ``self`` becomes ``A``, while the numpy calls and the
constants stay; the methods of a class and the functions of a cell are put in
a canonical order, so reordering them changes nothing. The stream is cut into
k-grams of :data:`K` tokens; the released starter code of the same cell
(``exercises/<a>/<a>.ipynb``: stubs, docstrings, given helpers such as
``Sequential.__init__``) is boilerplate, its definitions and its k-grams removed.
The score of a pair is the share of the smaller side's k-grams found in the
other side (of the student's k-grams found in the reference's); a pair is
flagged at :data:`THRESHOLD` when both sides have at least :data:`MIN_GRAMS`
k-grams (a three-line function looks like any other three-line function).
``tests/test_similarity.py`` calibrates both numbers, and
``benchmarks/similarity.py`` compares this with copydetect's winnowing
(autograder/README.md, "Integrity", gives the figures and the reasons).

A cell that *rebuilds* the reference at run time instead (``exec`` of
``inspect.getsource``, ``types.FunctionType`` from a reference ``__code__``,
reading the library's files) is found by :func:`rebuilt_reference` (an AST scan)
and by the events the student's process records while its cells run
(:func:`run_time_reasons`); either gives a reference row of score 1.0, flagged,
with the reason.
"""

import ast
import functools
import importlib
import inspect
import io
import re
from pathlib import Path

from nbbackprop.checks import TARGETS, suite_for

from .notebook import Unreadable, read_notebook

K = 12  # tokens per k-gram: about one small expression (``x @ self.W + self.b`` is 11)
THRESHOLD = 0.7  # flagged from this score up (calibrated in tests/test_similarity.py)
MIN_GRAMS = 32  # both sides need this many k-grams to be judged at all (a textbook 4-line Tanh has 30)
SHOWN = 0.5  # unflagged rows below this score, or of code too short to judge, are left out of the report
UNFLAGGED = 3  # and of the rest, each student keeps the highest few per target (every flagged one stays)
EXCERPT = 4000  # characters of each side's code kept with a flagged row, for a side-by-side view

LIBRARY = Path(importlib.import_module("nbbackprop").__file__).resolve().parent


# ---------------------------------------------------------------- normalised token streams


def _bound_names(tree):
    """Every name the code binds: assignment and loop targets, arguments, its functions and classes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _body(statements):
    """Statements without docstrings and imports, definitions after the rest in a canonical order."""
    kept = [s for s in statements if not isinstance(s, (ast.Import, ast.ImportFrom))
            and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str))]
    definitions = [s for s in kept if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    return [s for s in kept if s not in definitions], definitions


class _Tokens:
    """The normalised token stream of a tree, built by one walk."""

    def __init__(self, bound):
        self.bound = bound

    def statements(self, statements, selves=()):
        """Tokens of a body: a list of units, each a list of tokens (one per definition, one for the rest)."""
        rest, definitions = _body(statements)
        units = [self.node(s, selves) for s in rest]
        plain = [token for unit in units for token in unit]
        defined = sorted((self.definition(d, selves) for d in definitions), key=" ".join)
        return ([plain] if plain else []) + defined

    def definition(self, node, selves):
        if isinstance(node, ast.ClassDef):
            head = ["class", *(t for base in node.bases for t in self.node(base, selves)), ":"]
            return head + [t for unit in self.statements(node.body, selves) for t in unit] + ["end"]
        arguments = node.args.posonlyargs + node.args.args
        inner = {arguments[0].arg} if arguments and arguments[0].arg == "self" else set(selves)
        head = ["def", *(self.node(node.args, inner)), ":"]
        return head + [t for unit in self.statements(node.body, inner) for t in unit] + ["end"]

    def node(self, node, selves):
        if isinstance(node, ast.Name):
            return ["V" if node.id in self.bound else node.id]
        if isinstance(node, ast.Attribute):
            owner = isinstance(node.value, ast.Name) and node.value.id in selves
            return [*self.node(node.value, selves), ".", "A" if owner else node.attr]
        if isinstance(node, ast.Constant):
            return ["S" if isinstance(node.value, (str, bytes)) else repr(node.value)]
        if isinstance(node, ast.arg):
            return ["V"]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return self.definition(node, selves)
        if isinstance(node, (ast.expr_context, ast.Pass)):
            return []
        tokens = [type(node).__name__]
        for name, value in ast.iter_fields(node):
            if name in ("type_comment", "lineno", "col_offset"):
                continue
            if name == "body" and isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                tokens += [t for unit in self.statements(value, selves) for t in unit]
            elif isinstance(value, list):
                for item in value:
                    tokens += self.node(item, selves) if isinstance(item, ast.AST) else [str(item)]
            elif isinstance(value, ast.AST):
                tokens += self.node(value, selves)
            elif name == "arg" or name == "attr":  # keyword names (axis=0) stay
                tokens.append(str(value))
        return tokens


_WORD = re.compile(r"[A-Za-z_]\w*|\d+\.?\d*|\S")


def units_of(source):
    """The normalised token stream of ``source`` as units (one per top-level definition, one for
    the rest); code that does not parse falls back to its words, names as ``V``."""
    try:
        tree = ast.parse(source)
        return _Tokens(_bound_names(tree)).statements(tree.body)
    except (SyntaxError, ValueError, RecursionError):
        text = re.sub(r"#.*", "", source)
        return [["V" if w[0].isalpha() or w[0] == "_" else w for w in _WORD.findall(text)]]


def grams(units, k=None):
    """The set of k-gram hashes (k = :data:`K` tokens) of a stream's units (hashes stable within one process)."""
    k, found = k or K, set()
    for unit in units:
        found.update(hash(tuple(unit[i:i + k])) for i in range(max(1, len(unit) - k + 1)))
    return found


class Code:
    """One side of a comparison: the source, its k-grams with the boilerplate's taken out."""

    def __init__(self, source, boilerplate=None):
        self.source = source
        units = units_of(source)
        if boilerplate is not None:
            given = {tuple(unit) for unit in boilerplate.units}
            units = [unit for unit in units if tuple(unit) not in given]
        self.units = units
        self.grams = grams(units) - (boilerplate.grams if boilerplate is not None else set())


def score(code, other):
    """The share of the smaller side's k-grams that the other side has too (0 when either is empty)."""
    smaller = min(len(code.grams), len(other.grams))
    return len(code.grams & other.grams) / smaller if smaller else 0.0


def contained(code, reference):
    """The share of ``code``'s k-grams found in ``reference`` (how much of it the reference explains)."""
    return len(code.grams & reference.grams) / len(code.grams) if code.grams else 0.0


def judged(*codes):
    """Whether every side is long enough to be judged."""
    return all(len(code.grams) >= MIN_GRAMS for code in codes)


# ---------------------------------------------------------------- what is compared


def cell_of(notebook, target):
    """The position of the cell holding ``target``: its grade_id cell, else the last cell defining it, or None."""
    sources = dict(notebook.cells)
    position = notebook.graded_cell.get(target)
    if position in sources:
        return position
    positions = [p for p in notebook.defined.get(target, []) if p in sources]
    return positions[-1] if positions else None


def cell_source(notebook, target):
    """The source of the cell holding ``target`` (:func:`cell_of`), or None."""
    position = cell_of(notebook, target)
    return None if position is None else dict(notebook.cells)[position]


@functools.cache
def starter(assignment):
    """grade_id → the released starter code of each graded cell (``exercises/``), or {} without it."""
    from .course import EXERCISES, notebook_path

    try:
        notebook = read_notebook(notebook_path(EXERCISES, assignment).read_bytes())
    except (OSError, Unreadable):
        return {}
    return {target: Code(source) for target in TARGETS[assignment]
            if (source := cell_source(notebook, target)) is not None}


@functools.cache
def reference_source(target):
    """The library's source of ``target`` with its library base classes, or None (``buggy_modules``)."""
    reference = getattr(suite_for(target), "reference", None)
    if reference is None:
        return None
    module = importlib.import_module(reference.__module__)
    found = vars(module).get(target, reference)
    parts = []
    for item in (found.__mro__[::-1] if inspect.isclass(found) else [found]):
        if item.__module__.startswith("nbbackprop"):
            try:
                parts.append(inspect.getsource(item))
            except (OSError, TypeError):
                continue
    return "\n\n".join(parts) or None


@functools.cache
def reference_code(target):
    source = reference_source(target)
    return None if source is None else Code(source)


# ---------------------------------------------------------------- a reference rebuilt at run time

_SOURCE_CALLS = {"getsource", "getsourcelines", "getsourcefile", "getfile", "findsource", "getlines"}
_CODE_MAKERS = {"FunctionType", "CodeType", "LambdaType", "MethodType"}
_CODE_ATTRIBUTES = {"__code__", "func_code", "co_code", "__globals__", "__file__", "__wrapped__"}


def rebuilt_reference(source):
    """Why ``source`` (a graded cell) rebuilds the reference at run time instead of writing it, as
    short reasons (empty when it does not): reading sources with :mod:`inspect` or :mod:`linecache`,
    code objects taken or built (``__code__``, ``types.FunctionType``/``CodeType``, :mod:`marshal`),
    the library's files opened or named."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return []
    reasons = []
    for node in ast.walk(tree):
        word = (node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name)
                else node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None)
        if isinstance(node, ast.alias):
            word = node.name.rpartition(".")[2]
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            for module in modules:
                if module.split(".")[0] in ("inspect", "linecache", "marshal", "dis"):
                    reasons.append(f"imports {module}")
        if not isinstance(word, str):
            continue
        if word in _SOURCE_CALLS:
            reasons.append(f"reads source code with {word}")
        elif word in _CODE_MAKERS:
            reasons.append(f"builds a function or code object with {word}")
        elif word in _CODE_ATTRIBUTES:
            reasons.append(f"takes {word} of an object")
        elif isinstance(node, ast.Constant) and ("nbbackprop/" in word or word.endswith(".py")):
            reasons.append(f"names the file {word[:60]!r}")
    return list(dict.fromkeys(reasons))


def run_time_reasons(events, reference=None):
    """Reasons from what the student's process recorded while the target's cell ran (``[kind, detail, cell]``
    sent by :mod:`autograder.sandbox.child`): a library file opened outside an import, a code object
    built from the library's, or code compiled at run time whose text matches ``reference`` (the target's
    reference, a :class:`Code`)."""
    reasons = []
    for kind, detail, *_ in events:
        if kind == "open":
            reasons.append(f"opened the library's file {detail} while its cells ran")
        elif kind == "code":
            reasons.append(f"built a code object from the library's file {detail}")
        elif kind == "compile" and reference is not None:
            compiled = Code(detail)
            share = contained(compiled, reference)
            if judged(compiled) and share >= THRESHOLD:
                reasons.append(f"compiled code at run time that matches the reference ({share:.2f})")
    return list(dict.fromkeys(reasons))


# ---------------------------------------------------------------- the screening


def _row(other, target, value, flagged, **extra):
    return {"with": other, "target": target, "score": round(float(value), 3), "flagged": bool(flagged), **extra}


def _excerpts(mine, theirs):
    return {"code": mine[:EXCERPT], "other_code": theirs[:EXCERPT]}


def screen(assignment, notebooks, events=None):
    """``{student: [similarity rows]}`` for ``notebooks`` (``{student: Notebook}``) of ``assignment``.

    ``events`` maps a student to what their process recorded while the cells ran (optional). Each row is
    ``{"with": "reference" | <student>, "target", "score", "flagged"}``, plus ``reason`` for a rebuilt
    reference and both sides' code (``code``, ``other_code``) when flagged; rows below :data:`SHOWN` that
    are not flagged, or whose code is too short to judge, are left out, and of the unflagged rest only the
    :data:`UNFLAGGED` highest per target are kept. A flagged pair appears in both students' lists.
    """
    events = events or {}
    rows = {student: [] for student in notebooks}
    boilerplate = starter(assignment)
    for target in TARGETS[assignment]:
        reference = reference_code(target)
        codes, cells = {}, {}
        for student, notebook in notebooks.items():
            cells[student] = cell_of(notebook, target)
            if cells[student] is not None:
                codes[student] = Code(dict(notebook.cells)[cells[student]], boilerplate.get(target))
        for student, code in codes.items():
            here = [event for event in events.get(student, ()) if event[2:] == [cells[student]]]
            reasons = rebuilt_reference(code.source) + run_time_reasons(here, reference)
            if reasons:
                rows[student].append(_row("reference", target, 1.0, True, reason="; ".join(reasons),
                                          **_excerpts(code.source, reference_source(target) or "")))
            elif reference is not None and code.grams:
                value = contained(code, reference)
                flagged = value >= THRESHOLD and judged(code, reference)
                if flagged or (value >= SHOWN and judged(code, reference)):
                    extra = _excerpts(code.source, reference.source) if flagged else {}
                    rows[student].append(_row("reference", target, value, flagged, **extra))
        students = sorted(codes)
        for i, student in enumerate(students):
            for other in students[i + 1:]:
                value = score(codes[student], codes[other])
                long_enough = judged(codes[student], codes[other])
                flagged = value >= THRESHOLD and long_enough
                if not flagged and (value < SHOWN or not long_enough):
                    continue
                for me, them in ((student, other), (other, student)):
                    extra = _excerpts(codes[me].source, codes[them].source) if flagged else {}
                    rows[me].append(_row(them, target, value, flagged, **extra))
    return {student: _highest(found) for student, found in rows.items()}


def _highest(rows):
    """Every flagged row, and the :data:`UNFLAGGED` highest others of each target, in the order found."""
    keep, seen = set(), {}
    for row in sorted(rows, key=lambda r: -r["score"]):
        if not row["flagged"]:
            seen[row["target"]] = seen.get(row["target"], 0) + 1
            if seen[row["target"]] > UNFLAGGED:
                continue
        keep.add(id(row))
    return [row for row in rows if id(row) in keep]


def copydetect_score(code, other, boilerplate=None, noise=25, guarantee=30):
    """copydetect's score of a pair (the larger of its two overlap shares) on the raw sources, for the
    benchmark's comparison; ``boilerplate`` is starter source whose fingerprints are discarded."""
    from copydetect import CodeFingerprint, compare_files

    window = guarantee - noise + 1

    def fingerprint(source, given=None):
        return CodeFingerprint("cell.py", noise, window, given, fp=io.StringIO(source))

    given = list(fingerprint(boilerplate).hashes) if boilerplate else None
    _, shares, _ = compare_files(fingerprint(code, given), fingerprint(other, given))
    return float(max(shares))


def zero_flagged(report):
    """``--on-similarity zero``: the points of every flagged target set to 0, the entry's notes saying so
    (without naming whom it matched: the notes reach the student's feedback page)."""
    for entry in report["submissions"]:
        targets = sorted({row["target"] for row in entry.get("similarity", []) if row["flagged"]})
        if not targets:
            continue
        lost = sum(line["points"] for line in entry["tests"] if line["target"] in targets)
        for line in entry["tests"]:
            if line["target"] in targets:
                line["points"] = 0.0
        entry["score"] = sum(line["points"] for line in entry["tests"])
        entry["notes"].append(f"{', '.join(targets)} scored 0 ({lost:g} points withheld): the course's similarity "
                              "screening flagged this code and the instructor grades flagged code as zero; "
                              "ask your instructor")
