"""Independent training jobs (one per seed) run side by side in worker processes, under one progress bar.

A tinyreg training step spends much of its time in Python (the graph, the optimizer's bookkeeping), which holds the
GIL, so threads would not run two jobs at once; processes do. Each worker runs one job at a time on one core with a
single-threaded BLAS: a second BLAS thread per worker would only compete for the same cores. Workers are *spawned*
(fresh interpreters, not forks), so they read the thread settings of :data:`ONE_THREAD` before NumPy loads.

A job is a deterministic function of its arguments, so its result does not depend on which worker ran it or on how
many workers there are (tests/test_experiments.py compares with a run in this process; that holds bit for bit as long
as this process's BLAS splits no matrix product over threads, which it does not for small ones).
"""

import multiprocessing
import os
import queue as queues
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager

ONE_THREAD = dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"), "1")


def map_jobs(function, jobs: list, workers: int, progress=None) -> list:
    """``[function(*args, progress=...) for args in jobs]``, computed by ``workers`` processes (in this process when
    ``workers`` is 1). ``progress`` is the parent's bar; each job's ``progress.update(n, **stats)`` calls reach it."""
    if workers <= 1:
        return [function(*args, progress=progress) for args in jobs]
    context = multiprocessing.get_context("spawn")
    with _environment(ONE_THREAD), context.Manager() as manager:
        updates = manager.Queue()
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = [pool.submit(_job, function, args, updates) for args in jobs]
            pending = set(futures)
            while pending:
                _, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                _forward(updates, progress)
            _forward(updates, progress)
        return [future.result() for future in futures]  # re-raises a job's exception here


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
                os.environ.pop(name)
            else:
                os.environ[name] = value
