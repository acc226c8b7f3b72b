"""Run a submission's code in a process of its own and bring back plain results.

The student's process (forked from a warm worker, so numpy, matplotlib and the
library are already loaded) is walled in as far as the platform allows:

* its own session and process group, standard streams on ``/dev/null``;
* on Linux as root: fresh PID, network and mount namespaces — it sees no other
  process (so it cannot signal the grader, and every process it starts dies
  with it), has no network, and finds the whole file system read-only but for
  a small tmpfs scratch folder — and then no capabilities at all;
* limits on memory, processes and file size; its own scratch folder.

It runs every code cell in order (an error in one does not stop the rest),
then, with the checks re-imported fresh from disk so that nothing the
notebook patched is used, probes each graded name and sends the results
back as strict JSON (:mod:`autograder.wire`). The grader side watches the
clock: a cell or a probe that runs past its limit — a C-level loop no signal
can stop — has its process killed, and the submission is run again without
the offending cell, so one hostile line costs only what it touches.
"""

import contextlib
import ctypes
import json
import os
import re
import resource
import select
import shutil
import signal
import struct
import sys
import tempfile
import time

from nbbackprop.checks.core import Raised

from . import wire

CLONE_NEWNET = 0x40000000
PR_SET_CHILD_SUBREAPER = 36


class Limits:
    """Per-submission limits: seconds per probe of a graded name, per cell, bytes of memory."""

    def __init__(self, target_seconds=20.0, cell_seconds=60.0, memory_bytes=3 * 2**30, processes=64,
                 file_bytes=64 * 2**20):
        self.target_seconds = float(target_seconds)
        self.cell_seconds = float(cell_seconds)
        self.memory_bytes = int(memory_bytes)
        self.processes = int(processes)
        self.file_bytes = int(file_bytes)


# ---- the student's side ------------------------------------------------------------------------


def _send(fd, kind, *fields, payload=b""):
    """One message: a JSON header ``[kind, *fields]``, a newline, an optional payload; length-prefixed."""
    body = json.dumps([kind, *fields]).encode() + b"\n" + payload
    data = struct.pack("!I", len(body)) + body
    while data:
        data = data[os.write(fd, data):]


_CLONE_NEWNS, _CLONE_NEWPID = 0x00020000, 0x20000000
_MS_RDONLY, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
_PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS = 24, 38


def _isolate(scratch):
    """Linux, as root: new mount, network and PID namespaces; the whole file system read-only but
    for a small tmpfs at ``scratch``. Returns True when it worked (then the caller must fork once
    more: the next child is process 1 of a PID namespace that sees nothing of the grader)."""
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWNS | CLONE_NEWNET | _CLONE_NEWPID) != 0:
        return False
    steps = [(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None),
             (b"/", b"/", None, _MS_BIND | _MS_REC, None),
             (None, b"/", None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY, None),
             (b"tmpfs", scratch.encode(), b"tmpfs", 0, b"size=256m,mode=1777")]
    return all(libc.mount(*step) == 0 for step in steps)


def _drop_privileges():
    """No capability left (so no remounting, no network setup), and no way to gain one back."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in range(64):
        libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0)
    libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    libc.capset(header, (ctypes.c_uint32 * 6)())


def _wall_in(scratch, limits):
    """Everything that confines the process, done before any student code runs. In the namespaced
    case this forks: the returning process is the new namespace's first process."""
    os.setsid()
    if _isolate(scratch):
        child = os.fork()
        if child:  # the namespace's keeper: waits, then leaves with the same status
            _, status = os.waitpid(child, 0)
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
        _drop_privileges()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    for name, value in ((resource.RLIMIT_AS, limits.memory_bytes), (resource.RLIMIT_FSIZE, limits.file_bytes),
                        (resource.RLIMIT_CORE, 0), (resource.RLIMIT_NPROC, limits.processes)):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(name, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails in Python instead of killing us
    os.chdir(scratch)
    os.environ.update(HOME=scratch, TMPDIR=scratch, MPLBACKEND="Agg", MPLCONFIGDIR=scratch)


def _without_magics(source):
    """IPython line magics and shell escapes (``%matplotlib``, ``!pip``) become comments."""
    return re.sub(r"^(\s*)([%!])", r"\1# \2", source, flags=re.M)


class _CellTimeout(BaseException):
    pass


def _run_cells(fd, cells, skip, cell_seconds, namespace=None):
    """Execute the cells in one namespace; return it and what each failed cell raised."""
    import matplotlib.pyplot as plt

    namespace = {"__name__": "__main__", "display": lambda *args, **kwargs: None, **(namespace or {})}
    failures = {}

    def expire(signum, frame):
        raise _CellTimeout()

    signal.signal(signal.SIGALRM, expire)
    for index, source in cells:
        if index in skip:
            continue
        _send(fd, "cell", index)
        signal.setitimer(signal.ITIMER_REAL, cell_seconds)
        try:
            exec(compile(_without_magics(source), f"<cell {index}>", "exec"), namespace)
        except _CellTimeout:
            failures[index] = ["timeout", f"code cell {index} ran past {cell_seconds:g} s"]
        except BaseException as error:  # SystemExit, KeyboardInterrupt, anything: the next cell still runs
            code = "not-implemented" if isinstance(error, NotImplementedError) else "exception"
            failures[index] = [code, f"{type(error).__name__}: {str(error)[:200]}"]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            with contextlib.suppress(Exception):
                plt.close("all")
    return namespace, failures


def _snapshot():
    """What the checks rely on, as it was before the notebook ran: the import machinery, the profiler
    hooks of ``sys``, and the namespaces of ``builtins`` and of numpy's modules."""
    modules = {name: dict(vars(module)) for name, module in list(sys.modules.items())
               if module is not None and (name == "builtins" or name == "numpy" or name.startswith("numpy."))}
    hooks = {name: getattr(sys, name) for name in ("setprofile", "getprofile", "settrace", "gettrace")}
    return list(sys.meta_path), list(sys.path_hooks), list(sys.path), modules, hooks


def _fresh_checks(snapshot):
    """Undo what the notebook may have patched — the import machinery, ``sys``'s hooks, builtins,
    numpy — drop every nbbackprop module and import the checks again from disk, which the student's
    process cannot write. (Objects the notebook created stay; only the checks' tools are reset.)"""
    import importlib

    meta_path, path_hooks, path, modules, hooks = snapshot
    sys.meta_path[:], sys.path_hooks[:], sys.path[:] = meta_path, path_hooks, path
    sys.path_importer_cache.clear()
    for name, attribute in hooks.items():
        setattr(sys, name, attribute)
    sys.setprofile(None)
    for name, saved in modules.items():
        module = sys.modules.get(name)
        if module is not None:  # every name the checks could use is put back; names added are harmless
            module.__dict__.update(saved)
    for name in [name for name in sys.modules if name == "nbbackprop" or name.startswith("nbbackprop.")]:
        del sys.modules[name]
    return importlib.import_module("nbbackprop.checks"), importlib.import_module("nbbackprop.checks.core")


def student_main(fd, cells, targets, skip, scratch, limits, reference_codes, namespace=None):
    """The student's process: never returns.

    ``reference_codes`` maps each target to the code objects of its reference implementation as
    loaded before the notebook ran; a probe that reaches one of them is delegation.
    """
    status = 0
    try:
        _wall_in(scratch, limits)
        snapshot = _snapshot()
        namespace, failures = _run_cells(fd, cells, skip, limits.cell_seconds, namespace)
        _send(fd, "cells", failures)
        checks, core = _fresh_checks(snapshot)
        for target in targets:
            _send(fd, "probe", target)
            suite = checks.suite_for(target)
            candidate = namespace.get(target, _MISSING)
            payload = {}
            for hidden in (False, True):
                if candidate is _MISSING:
                    results = {"__missing__": True}
                else:
                    seen = set()  # calls into the reference as it was imported before the notebook ran
                    with core.watch_calls(reference_codes.get(target, set()), seen):
                        results = core.plain(suite.probe(candidate, hidden))
                    if seen:
                        results[core.DELEGATION] = sorted(set(results.get(core.DELEGATION, [])) | seen)
                payload["hidden" if hidden else "visible"] = results
            _send(fd, "result", target, payload=wire.encode(payload))
        _send(fd, "done")
    except BaseException:  # nothing may escape the fork: say what happened, if the pipe still works
        status = 1
        with contextlib.suppress(BaseException):
            import traceback

            _send(fd, "crash", traceback.format_exc()[-2000:])
    finally:
        os._exit(status)


_MISSING = object()


# ---- the grader's side ---------------------------------------------------------------------------


def become_subreaper():
    """Orphans of student processes are re-parented here, so they can be found and killed."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def kill_descendants():
    """SIGKILL every process below this one (direct children and the orphans it adopted)."""
    me = os.getpid()
    for _ in range(5):
        children = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                children.append(int(entry))
        if not children:
            return
        for pid in children:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, 0)


class _Reader:
    """Length-prefixed messages from the student's pipe, each with a deadline."""

    def __init__(self, fd):
        self.fd, self.buffer = fd, b""

    def read(self, deadline):
        while True:
            if len(self.buffer) >= 4:
                (size,) = struct.unpack("!I", self.buffer[:4])
                if size > wire.MAX_MESSAGE:
                    raise ValueError(f"a message of {size} bytes from the student's process")
                if len(self.buffer) >= 4 + size:
                    body, self.buffer = self.buffer[4:4 + size], self.buffer[4 + size:]
                    return body
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                raise TimeoutError
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                raise EOFError
            self.buffer += chunk


def run_submission(cells, targets, limits, reference_codes, namespace=None):
    """Run a submission until every target has results; returns ``(results, cell_failures, notes)``.

    ``cells`` is a list of ``(index, source)``; ``namespace`` (objects the student's process
    inherits through the fork, for tests) is where the cells start. ``results[target]`` is the decoded
    ``{"visible": ..., "hidden": ...}`` or a :class:`Raised` when probing it killed
    or hung the process.
    """
    results, failures, notes, skip = {}, {}, [], set()
    remaining = list(targets)
    for _attempt in range(len(targets) + len(cells) + 2):
        if not remaining:
            break
        outcome = _one_run(cells, remaining, skip, limits, reference_codes, namespace)
        failures.update(outcome["failures"])
        results.update(outcome["results"])
        notes.extend(f"the checks failed inside the notebook's process: {text.strip().splitlines()[-1]}"
                     for text in outcome.get("crashes", []))
        remaining = [t for t in remaining if t not in results]
        if outcome["stopped_in_cell"] is not None:
            index, why = outcome["stopped_in_cell"]
            skip.add(index)
            failures[index] = why
            notes.append(f"{why[1]}; the notebook was run again without it")
        elif outcome["stopped_in_target"] is not None:
            target, why = outcome["stopped_in_target"]
            results[target] = why
            remaining = [t for t in remaining if t != target]
        elif remaining and not outcome["results"]:
            break
    for target in remaining:
        results[target] = Raised("exception", "the notebook's process ended before this name could be checked")
    return results, failures, notes


def _one_run(cells, targets, skip, limits, reference_codes, namespace):
    scratch = tempfile.mkdtemp(prefix="nbbackprop-run-")
    os.chmod(scratch, 0o777)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the student's process
        os.close(read_fd)
        student_main(write_fd, cells, targets, skip, scratch, limits, reference_codes, namespace)
    os.close(write_fd)
    outcome = {"results": {}, "failures": {}, "stopped_in_cell": None, "stopped_in_target": None}
    reader, stage, current = _Reader(read_fd), "start", None
    deadline = time.monotonic() + limits.cell_seconds
    try:
        while True:
            try:
                body = reader.read(deadline)
            except (TimeoutError, EOFError, ValueError) as error:
                why = ("timeout", "ran past its time limit") if isinstance(error, TimeoutError) else \
                    ("exception", "the process died" if isinstance(error, EOFError) else str(error))
                code, text = why
                if stage == "cell":
                    outcome["stopped_in_cell"] = (current, [code, f"code cell {current} {text}"])
                elif stage == "probe":
                    outcome["stopped_in_target"] = (current, Raised(code, f"checking {current} {text}"))
                elif stage == "start":
                    outcome["stopped_in_cell"] = (-1, [code, f"the notebook's process {text} before any cell"])
                break
            head, _, rest = body.partition(b"\n")
            message = json.loads(head)
            kind = message[0]
            if kind == "cell":
                stage, current = "cell", int(message[1])
                deadline = time.monotonic() + limits.cell_seconds + 1.0
            elif kind == "cells":
                outcome["failures"] = {int(k): v for k, v in message[1].items()}
            elif kind == "probe":
                stage, current = "probe", str(message[1])
                deadline = time.monotonic() + limits.target_seconds
            elif kind == "result":
                target = str(message[1])
                try:
                    outcome["results"][target] = wire.decode(rest)
                except ValueError as error:
                    outcome["results"][target] = Raised("exception", f"unreadable results: {error}")
                stage = "between"
            elif kind == "crash":
                outcome.setdefault("crashes", []).append(str(message[1]))
            elif kind == "done":
                break
    finally:
        os.close(read_fd)
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError, OSError):
            outcome["status"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        kill_descendants()
        shutil.rmtree(scratch, ignore_errors=True)
    return outcome
