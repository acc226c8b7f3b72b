"""The student's process, from the fork to its exit: run the cells, reset, probe, send.

It walls itself in (:mod:`.confine`), runs every code cell in order under a
per-cell alarm (an error in one does not stop the rest), resets the interpreter
and imports the checks fresh (:mod:`.reset`), then probes each graded name on the
visible and the hidden inputs under the one delegation watch, and sends every
result back to the grader as a frame (:mod:`.frames`).
"""

import contextlib
import importlib
import linecache
import os
import re
import signal
import sys
import time

from .. import secret
from ..notebook import cell_label
from . import frames, reset
from .confine import wall_in

_MISSING = object()


def _without_magics(source):
    """IPython line magics and shell escapes (``%matplotlib``, ``!pip``) become comments."""
    return re.sub(r"^(\s*)([%!])", r"\1# \2", source, flags=re.M)


class _CellTimeout(BaseException):
    pass


def _recorder(limit=200, text_chars=20000):
    """An audit hook that, while ``state["on"]``, records what rebuilding the reference at run time does:
    ``["open", path]`` of a library ``.py`` file read outside an import, a warning, a traceback or ``help``;
    ``["compile", source]`` of a definition compiled outside an import (the grader compares it with the
    reference; namedtuples' and dataclasses' generated methods are compiled too, and match nothing);
    ``["code", path]`` of a code object built from a library file's; each event ends with ``state["cell"]``.
    Returns ``(hook, state)``; the events are in ``state["events"]``. Anything going wrong in the hook
    is swallowed: it only watches."""
    library = os.path.dirname(os.path.abspath(sys.modules["nbbackprop"].__file__)) + os.sep
    state = {"on": False, "events": [], "cell": None}

    def outside(*modules):
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_code.co_filename
            if name.startswith("<frozen importlib") or (modules and name.endswith(modules)):
                return False
            frame = frame.f_back
        return True

    def library_file(path):
        path = os.path.abspath(os.fsdecode(path)) if isinstance(path, (str, bytes)) else ""
        return path[len(library) - len("nbbackprop/"):] if path.startswith(library) else None

    def hook(event, args):
        if not state["on"] or event not in ("open", "compile", "code.__new__") or len(state["events"]) >= limit:
            return
        state["on"] = False  # what the hook does itself is not watched
        try:
            if event == "open" and (path := library_file(args[0])) and path.endswith(".py") \
                    and outside("warnings.py", "traceback.py", "pydoc.py"):
                state["events"].append(["open", path, state["cell"]])
            elif event == "compile" and outside():
                source = args[0]
                text = source.decode("utf-8", "replace") if isinstance(source, bytes) else \
                    source if isinstance(source, str) else __import__("ast").unparse(source)
                if len(text) >= 80 and ("def " in text or "class " in text):
                    state["events"].append(["compile", text[:text_chars], state["cell"]])
            elif event == "code.__new__" and (path := library_file(args[1])):
                state["events"].append(["code", path, state["cell"]])
        except Exception:  # a watcher must never break the code it watches
            pass
        finally:
            state["on"] = True

    return hook, state


def _run_cells(fd, cells, skip, cell_seconds, namespace=None):
    """Execute the cells in one namespace; return it and what each failed cell raised."""
    import matplotlib.pyplot as plt

    namespace = {"__name__": "__main__", "display": lambda *args, **kwargs: None, **(namespace or {})}
    failures = {}

    def expire(signum, frame):
        raise _CellTimeout()

    signal.signal(signal.SIGALRM, expire)
    hook, watch = _recorder()
    sys.addaudithook(hook)  # for the rest of this process, recording only while a cell runs
    for index, source in cells:
        if index in skip:
            continue
        frames.send(fd, "cell", index)
        signal.setitimer(signal.ITIMER_REAL, cell_seconds)
        try:
            name, code = f"<{cell_label(index, source)}>", _without_magics(source)  # what a traceback names
            linecache.cache[name] = (len(code), None, code.splitlines(True), name)  # so a traceback quotes it
            compiled = compile(code, name, "exec")
            watch["on"], watch["cell"] = True, index
            exec(compiled, namespace)
        except _CellTimeout:
            failures[index] = ["timeout", f"code cell {index} ran past {cell_seconds:g} s"]
        except BaseException as error:  # SystemExit, KeyboardInterrupt, anything: the next cell still runs
            code = "not-implemented" if isinstance(error, NotImplementedError) else "exception"
            failures[index] = [code, f"{type(error).__name__}: {str(error)[:200]}"]
        finally:
            watch["on"] = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            with contextlib.suppress(Exception):
                plt.close("all")
    namespace["__run_events__"] = watch["events"]  # taken out by student_main before any probe
    return namespace, failures


def _probe(suite, engine, candidate):
    """The plain results of ``candidate`` on the visible and the hidden inputs, with any call into
    the reference listed under ``engine.DELEGATION``.

    The watched code objects are the fresh suite's (``suite.watched()``: its ``reference`` and its
    ``references``, ps5's helpers), taken once per target; they equal, by value, the code objects
    the notebook could have captured before the reset (``from nbbackprop.gradcheck import …``)."""
    payload, codes = {}, suite.watched()
    for hidden in (False, True):
        if candidate is _MISSING:
            results = {"__missing__": True}
        else:
            seen = set()
            with engine.watch_calls(codes, seen):
                results = engine.plain(suite.probe(candidate, hidden))
            if seen:
                results[engine.DELEGATION] = sorted(set(results.get(engine.DELEGATION, [])) | seen)
        payload["hidden" if hidden else "visible"] = results
    return payload


def _hidden_key(reader, target, seconds):
    """The key of ``target``'s hidden inputs, which the grader writes once the name is announced."""
    header, _ = frames.parse(reader.read(time.monotonic() + seconds))
    if header[:2] != ["key", target]:
        raise ValueError(f"expected the key of {target} from the grader, got {header[:2]}")
    return None if header[2] is None else bytes.fromhex(header[2])


def student_main(fd, cells, targets, skip, scratch, limits, namespace=None, keys_fd=None):
    """The student's process: never returns. With ``keys_fd`` (the grader holds a course secret,
    :mod:`autograder.secret`) each graded name's hidden inputs are drawn from the key read there
    when it is probed, after every cell has run; before the first cell, nothing secret is left."""
    status = 0
    try:
        secret.scrub()
        wall_in(scratch, limits)
        saved = reset.snapshot()
        namespace, failures = _run_cells(fd, cells, skip, limits.cell_seconds, namespace)
        events = [[str(kind), str(detail), int(cell)] for kind, detail, cell in namespace.pop("__run_events__", [])]
        frames.send(fd, "cells", failures)
        checks, engine = reset.fresh_checks(saved)
        keys = None if keys_fd is None else frames.Reader(keys_fd)
        for target in targets:
            frames.send(fd, "probe", target)
            if keys is not None:  # the fresh checks' probes: only this name's key, only now
                key = _hidden_key(keys, target, limits.target_seconds)
                importlib.import_module("nbbackprop.checks.probes").use_hidden_keys({target: key} if key else None)
            payload = _probe(checks.suite_for(target), engine, namespace.get(target, _MISSING))
            if events:  # what the cells did, for the similarity screening: with the first result sent
                payload["run_events"], events = events, []
            frames.send(fd, "result", target, payload=payload)
        frames.send(fd, "done")
    except BaseException:  # nothing may escape the fork: say what happened, if the pipe still works
        status = 1
        with contextlib.suppress(BaseException):
            import traceback

            frames.send(fd, "crash", traceback.format_exc()[-2000:])
    finally:
        os._exit(status)
