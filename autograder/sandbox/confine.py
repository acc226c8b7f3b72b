"""The wall: what confines the student's process, and what cleans up after it.

In the student's process, before any of its code runs (:func:`wall_in`): its own
session, standard streams on ``/dev/null``, limits on memory, processes and file
size, its own scratch folder; and on Linux as root, fresh PID, network and mount
namespaces with the whole file system read-only but for a tmpfs scratch folder,
then no capability at all. In the grader's worker: :func:`become_subreaper` and
:func:`kill_descendants`, so nothing the student's process started outlives it.
"""

import contextlib
import ctypes
import os
import resource
import signal
import sys

CLONE_NEWNET = 0x40000000
PR_SET_CHILD_SUBREAPER = 36

_CLONE_NEWNS, _CLONE_NEWPID = 0x00020000, 0x20000000
_MS_RDONLY, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
_PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS = 24, 38


class Limits:
    """Per-submission limits: seconds per probe of a graded name, per cell, bytes of memory."""

    def __init__(self, target_seconds=20.0, cell_seconds=60.0, memory_bytes=3 * 2**30, processes=64,
                 file_bytes=64 * 2**20):
        self.target_seconds = float(target_seconds)
        self.cell_seconds = float(cell_seconds)
        self.memory_bytes = int(memory_bytes)
        self.processes = int(processes)
        self.file_bytes = int(file_bytes)


def _isolate(scratch):
    """Linux, as root: new mount, network and PID namespaces; the whole file system read-only but
    for a small tmpfs at ``scratch``, and the course's answers out of sight
    (:func:`_out_of_sight`). Returns True when it worked (then the caller must fork once
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
    if not all(libc.mount(*step) == 0 for step in steps):
        return False
    for path in _out_of_sight():  # an empty, read-only folder (or /dev/null) over each: not even readable
        if path.is_dir():
            libc.mount(b"tmpfs", bytes(path), b"tmpfs", _MS_RDONLY, b"size=4k,mode=0555")
        else:
            libc.mount(b"/dev/null", bytes(path), None, _MS_BIND, None)
    return True


def _out_of_sight():
    """What a submission must not read though the file system is otherwise readable: the course's
    solutions and model-answer samples, the secret, other students' reports and the gradebook."""
    from ..course import ROOT
    from ..secret import FILE_NAME

    names = ("solutions", "autograder/samples", "graded", "submitted", "autograded", "feedback", FILE_NAME,
             "gradebook.db")
    return [ROOT / name for name in names if (ROOT / name).exists()]


def _drop_privileges():
    """No capability left (so no remounting, no network setup), and no way to gain one back."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in range(64):
        libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0)
    libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    libc.capset(header, (ctypes.c_uint32 * 6)())


def wall_in(scratch, limits):
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


def become_subreaper():
    """Orphans of student processes are re-parented here, so they can be found and killed."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def kill(pid):
    """SIGKILL ``pid``'s process group and ``pid`` itself, whichever still exists."""
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def children():
    """The pids whose parent is this process."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            found.append(int(entry))
    return found


def kill_descendants(keep=()):
    """SIGKILL every process below this one (direct children and the orphans it adopted), except the
    children in ``keep`` — those the caller had before the student's process existed (a kernel, a
    browser driver): only what the submission started is reaped."""
    keep = set(keep)
    for _ in range(5):
        doomed = [pid for pid in children() if pid not in keep]
        if not doomed:
            return
        for pid in doomed:
            kill(pid)
        for pid in doomed:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, 0)
