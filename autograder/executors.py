"""Where submissions are graded: the local process pool, or Dask — one ``concurrent.futures`` executor either way.

:func:`autograder.grader._grade_all` hands each :class:`~autograder.intake.Submission` to the
executor an *engine* opens and reads the report entries back; nothing about judging depends on which:

* :class:`LocalPool` — a ``ProcessPoolExecutor`` of warm workers forked from the grader (the default);
* :class:`DaskEngine` — ``dask.distributed``'s executor (``Client.get_executor``), on a
  ``LocalCluster`` of this machine (``--engine dask``) or on a running cluster (``--scheduler ADDRESS``).

Workers prepare themselves the same way on both (:func:`prepare_worker`: subreaper, matplotlib
warm on Agg, one BLAS thread; on Dask through the :class:`PrepareWorker` plugin), and each submission
still runs walled in a process of its own forked below the worker (:mod:`autograder.sandbox`). A
submission travels whole: its notebook's code cells, already read by the intake, pickled with it,
so no worker reads a file and no shared file system is needed. A worker that is lost (killed, out
of memory) loses only the submissions it held: Dask reschedules them elsewhere, and what an engine
reports lost (:attr:`Engine.lost`) the grader runs again.
"""

import concurrent.futures
import contextlib
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

ENGINES = ("local", "dask")
RETRIES = 2  # Dask re-runs a task that raised this many times before its error is reported
_ALONE = threading.Lock()
# Dask's debugging logs (the scheduler's transition log and events, each worker's state-machine and
# stimulus logs, profiles, the computations it remembers) fill up to their caps as a batch goes on, so
# until 1,000 tasks the memory they hold grows with the class; a few entries are all a batch ever needs.
LEAN_LOGS = {"distributed.admin.low-level-log-length": 50, "distributed.admin.log-length": 100,
             "distributed.diagnostics.computations.max-history": 2}


def prepare_worker(started_afresh=False):
    """What a grading worker does once: adopt the orphans of student processes (so they can be reaped),
    load matplotlib on Agg (each student process is forked with it warm). A worker ``started_afresh``
    (Dask's, not forked from the grader) also keeps to one BLAS thread, imports the grader (as a forked
    worker inherits it) and blanks the course secret in its own ``/proc`` environment, as the grader did
    in its own (:func:`autograder.secret.hide_from_proc`)."""
    from . import sandbox

    sandbox.become_subreaper()
    if started_afresh:
        from .secret import hide_from_proc

        hide_from_proc()
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, "1")
        with contextlib.suppress(ImportError):  # BLAS already loaded: limit it in place, where it can be
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)
        from . import grader  # noqa: F401  (warm: the checks, nbformat and numpy, as a forked worker has them)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # warm


def alone(function, *args):
    """``function(*args)`` with no other submission running in this process: reaping a submission kills
    the processes this one started since, so a worker with several threads grades one at a time."""
    with _ALONE:
        return function(*args)


class Engine:
    """Opens the executor the grader submits to; ``lost`` are the errors that mean the worker went away."""

    lost = ()

    def slots(self, pending):
        """How many submissions grade at once."""
        raise NotImplementedError

    def executor(self, pending):
        """A context manager yielding a ``concurrent.futures.Executor`` for ``pending`` submissions."""
        raise NotImplementedError

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LocalPool(Engine):
    """Warm worker processes forked from this one, ``jobs`` of them (default: the cores)."""

    lost = (BrokenProcessPool,)

    def __init__(self, jobs=None):
        self.jobs = jobs

    def slots(self, pending):
        return max(1, min(self.jobs or os.cpu_count() or 1, pending or 1))

    def executor(self, pending):
        return ProcessPoolExecutor(self.slots(pending), mp_context=get_context("fork"), initializer=prepare_worker)


class DaskEngine(Engine):
    """Dask: a ``LocalCluster`` of ``jobs`` single-threaded worker processes, or the cluster at ``scheduler``
    (whose workers run the same course at the same commit, ``pip install -e .``, and ideally
    ``--nthreads 1``: a worker grades one submission at a time whatever its threads)."""

    def __init__(self, jobs=None, scheduler=None):
        import logging

        import dask
        from distributed import Client, LocalCluster
        from distributed.comm.core import CommClosedError
        from distributed.scheduler import KilledWorker

        self.lost = (KilledWorker, CommClosedError, concurrent.futures.CancelledError)
        self.cluster = self._client = None
        dask.config.set(LEAN_LOGS)  # before the cluster starts: the scheduler here, the nannies pass it to workers
        if scheduler:  # reached now, so that a wrong address fails before any grading
            self._start(Client(scheduler))
        else:  # started when first needed: a resumed batch with nothing left to grade starts no cluster
            self._local = lambda: Client(LocalCluster(
                n_workers=jobs or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.ERROR))

    def _start(self, client):
        self._client, self.cluster = client, client.cluster
        client.register_plugin(PrepareWorker())

    def start(self):
        """Start the ``LocalCluster`` of ``--engine dask`` now, if it is not running (a benchmark keeps this
        set-up out of its timings); returns the engine."""
        if self._client is None:
            self._start(self._local())
        return self

    @property
    def client(self):
        """The ``distributed.Client``; the first use starts the ``LocalCluster`` of ``--engine dask``."""
        return self.start()._client

    @property
    def started(self):
        return self._client is not None

    def slots(self, pending):
        return max(1, sum(self.client.nthreads().values()))

    def executor(self, pending):
        return self.client.get_executor(retries=RETRIES, pure=False)

    def worker_pids(self):
        """``{worker address: pid}`` of the worker processes (for tests that kill one)."""
        return self.client.run(os.getpid)

    def close(self):
        if self._client is None:
            return
        self._client.close()
        if self.cluster is not None:
            self.cluster.close()


def _plugin_base():
    try:
        from distributed import WorkerPlugin
    except ImportError:  # Dask not installed: the local pool needs none of this
        return object
    return WorkerPlugin


class PrepareWorker(_plugin_base()):
    """A Dask worker plugin: each worker (restarted ones too) prepares itself like a local pool worker."""

    name = "nbbackprop-prepare-worker"

    def setup(self, worker):
        prepare_worker(started_afresh=True)


def engine(name="local", jobs=None, scheduler=None):
    """The engine ``grade --engine NAME [--scheduler ADDRESS]`` asks for (a scheduler means Dask)."""
    if name not in ENGINES:
        raise ValueError(f"expected an engine in {ENGINES}, got {name!r}")
    if scheduler or name == "dask":
        return DaskEngine(jobs, scheduler)
    return LocalPool(jobs)
