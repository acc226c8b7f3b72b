"""Timing and reporting helpers shared by the benchmarks (not part of the library).

Importing this module also puts the repository root on ``sys.path``, so a
benchmark runs from a plain checkout (``python benchmarks/train_mlp.py``)
without ``pip install -e .``.
"""

import gc
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

__all__ = ["OtherLoad", "Row", "best_of", "load_line", "print_table", "target_line", "timed"]


def timed(fn):
    """Run ``fn()`` once with the garbage collector off (as ``timeit`` does): ``(seconds, result)``."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
    finally:
        if was_enabled:
            gc.enable()
    return seconds, result


def best_of(runs, repeat):
    """Call every ``runs[name]()`` ``repeat`` times, interleaved, and keep the fastest call of each.

    Each run times itself (with :func:`timed`, around the work alone, not its
    set-up) and returns ``(seconds, payload)``. Interleaving (a, b, c, a, b,
    c, ...) spreads a change of machine load over every peer instead of
    charging it to one. Returns ``{name: (best seconds, payload of that run)}``.
    """
    best = {}
    for _ in range(repeat):
        for name, run in runs.items():
            seconds, payload = run()
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, payload)
    return best


def load_line():
    """The 1, 5 and 15 minute load averages, and the CPU count, as one line."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:  # not available on every platform
        return "load average: unavailable"
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} CPUs"


def _busy_cpu_seconds():
    """CPU seconds all processes have spent busy since boot (Linux ``/proc/stat``), or None."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class OtherLoad:
    """How much CPU *other* processes took while we measured: the load average counts our own threads.

    ``with OtherLoad() as meter: ...`` then ``meter.line()``: the busy CPU time
    of the whole machine minus that of this process and its descendants (pool
    and Dask workers, the processes they grade in, nbgrader and its kernels),
    over the wall time of the block, as a fraction of all CPUs (0 % on an idle
    machine).
    """

    def __enter__(self):
        self.fraction = None
        self._wall, self._own, self._busy = time.perf_counter(), _own_cpu_seconds(), _busy_cpu_seconds()
        return self

    def __exit__(self, *exc):
        busy = _busy_cpu_seconds()
        if busy is not None and self._busy is not None:
            wall = time.perf_counter() - self._wall
            others = (busy - self._busy) - (_own_cpu_seconds() - self._own)
            self.fraction = max(0.0, others) / (wall * os.cpu_count())
        return False

    def line(self):
        if self.fraction is None:
            return "CPU use of other processes: unavailable"
        warning = "  <- busy machine: timings unreliable" if self.fraction > 0.1 else ""
        return f"other processes used {100 * self.fraction:.0f} % of the CPUs meanwhile{warning}"


def _own_cpu_seconds():
    """CPU seconds of this process and its descendants: the finished ones (``os.times``'s children, each
    carrying its own reaped descendants) and the running ones, with what they reaped."""
    times = os.times()
    total = times.user + times.system + times.children_user + times.children_system
    try:
        import psutil
    except ImportError:  # then running descendants count as others
        return total
    for child in psutil.Process().children(recursive=True):
        try:
            cpu = child.cpu_times()
        except psutil.Error:  # gone meanwhile: counted by its parent, once reaped
            continue
        total += cpu.user + cpu.system + cpu.children_user + cpu.children_system
    return total


@dataclass
class Row:
    """One line of a results table; ``seconds`` is None for a peer that did not run."""

    peer: str
    seconds: float | None
    accuracy: float | None = None
    note: str = ""


def print_table(title, rows, reference):
    """Print ``rows`` with each time as a multiple of ``reference`` seconds (the library's)."""
    print(title)
    header = ("peer", "seconds", "× library", "test acc", "note")
    lines = [header]
    for row in rows:
        if row.seconds is None:
            lines.append((row.peer, "-", "-", "-", row.note))
            continue
        ratio = f"{row.seconds / reference:.2f}" if reference else "-"
        accuracy = "-" if row.accuracy is None else f"{100 * row.accuracy:.1f} %"
        lines.append((row.peer, f"{row.seconds:.3f}", ratio, accuracy, row.note))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        cells = [line[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(line[1:4], widths[1:4])]
        print("  " + "  ".join([*cells, line[4]]).rstrip())
    print()


def target_line(passed, text):
    """``PASS``/``MISS``/``SKIP`` (``passed`` None) followed by the target and what was measured."""
    verdict = "SKIP" if passed is None else ("PASS" if passed else "MISS")
    line = f"{verdict}  {text}"
    print(line)
    return verdict, text
