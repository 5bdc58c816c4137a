"""Independent training jobs (one per seed) run side by side in worker processes, under one progress bar.

A tinyreg training step spends much of its time in Python (the graph, the optimizer's bookkeeping), which holds the
GIL, so threads would not run two jobs at once; processes do. Each worker runs one job at a time on one core with a
single-threaded BLAS: a second BLAS thread per worker would only compete for the same cores. Workers are *spawned*
(fresh interpreters, not forks), so they read the thread settings of :data:`ONE_THREAD` before NumPy loads. Spawning
has one consequence for scripts: the job's function and arguments travel by pickling (functions by module and name),
and a script that starts an experiment needs the usual ``if __name__ == "__main__":`` guard.

A job is a deterministic function of its arguments, so its result does not depend on which worker ran it or on how
many workers there are (tests/test_experiments.py compares with a run in this process; that holds bit for bit as long
as this process's BLAS splits no matrix product over threads, which it does not for small ones).

Ctrl-C stops everything: the workers ignore it, and the parent, which receives it, terminates them. A job that
raises stops the others the same way, and its exception is raised in the parent.
"""

import multiprocessing
import os
import queue as queues
import signal
from contextlib import contextmanager

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
ONE_THREAD = dict.fromkeys(THREAD_VARIABLES, "1")


def available_cores() -> int:
    """The cores this process may run on (its affinity mask where the OS has one, which respects container limits)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def map_jobs(function, jobs: list, workers: int, progress=None) -> list:
    """``[function(*args, progress=...) for args in jobs]``, computed by ``workers`` processes (in this process when
    ``workers`` is 1). ``progress`` is the parent's bar; each job's ``progress.update(n, **stats)`` calls reach it."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if workers == 1:
        return [function(*args, progress=progress) for args in jobs]
    context = multiprocessing.get_context("spawn")
    # Leaving the block terminates the workers: after the last job, after a job raised, and on Ctrl-C.
    with _environment(ONE_THREAD), context.Manager() as manager, \
            context.Pool(workers, initializer=_ignore_interrupts) as pool:
        updates = manager.Queue()
        results = [pool.apply_async(_job, (function, args, updates)) for args in jobs]
        pending = list(results)
        while pending:
            pending[0].wait(timeout=0.5)
            _forward(updates, progress)
            for result in [r for r in pending if r.ready()]:
                result.get()  # a job that raised raises here
                pending.remove(result)
        _forward(updates, progress)
        return [result.get() for result in results]


class Relay:
    """A worker's stand-in for the parent's progress bar: updates travel through a queue, bundled ``every`` steps so
    that the queue does not cost a step's worth of time."""

    def __init__(self, updates, every: int = 10):
        self.updates, self.every, self.pending, self.stats = updates, every, 0, {}

    def update(self, n: int = 1, **stats):
        self.pending += n
        self.stats = stats
        if self.pending >= self.every:
            self.flush()

    def flush(self):
        if self.pending:
            self.updates.put((self.pending, self.stats))
            self.pending = 0


def _ignore_interrupts():
    """Workers leave Ctrl-C to the parent, which terminates them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _job(function, args, updates):
    relay = Relay(updates)
    try:
        return function(*args, progress=relay)
    finally:
        relay.flush()


def _forward(updates, progress):
    """Hand every update waiting in the queue to the parent's bar."""
    while True:
        try:
            n, stats = updates.get_nowait()
        except queues.Empty:
            return
        if progress is not None:
            progress.update(n, **stats)


@contextmanager
def _environment(values: dict):
    """Set environment variables for the processes started inside the block; restore them afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
