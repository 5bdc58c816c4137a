"""What the numbers were measured on: CPU, cores, library versions, thread settings, load.

Every benchmark prints :func:`machine_line` in its header and stores :func:`machine_info` in its JSON, because an
update kernel's GB/s is a fact about one machine, not about the code.
"""

import argparse
import os
import platform
import time

# THREAD_VARIABLES: the environment variables that fix how many threads each runtime starts. They must be set
# *before* the library is imported (OpenBLAS and MKL size their pools at load time), which is why thread counts that
# involve BLAS run in a fresh child process (:func:`thread_env`).
from tinyreg.experiments.parallel import THREAD_VARIABLES


def cpu_model() -> str:
    """The first ``model name`` line of /proc/cpuinfo (Linux), else what :mod:`platform` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cores() -> int:
    """CPUs this process may run on (respects taskset/cgroup affinity, unlike os.cpu_count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def thread_counts(text: str) -> list[int]:
    """The ``--threads`` argument: comma-separated counts, each between 1 and :func:`cores`; sorted, no repeats.

    An ``argparse`` ``type=``, so a bad value is a usage error naming the value and the rule, not a traceback.
    """
    try:
        counts = {int(part) for part in text.split(",")}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers such as 1,{cores()}, "
                                         f"got {text!r}") from None
    if any(not 1 <= n <= cores() for n in counts):
        raise argparse.ArgumentTypeError(f"each count must be between 1 and {cores()} (the CPUs this process may "
                                         f"run on), got {text!r}")
    return sorted(counts)


def _version(module_name: str) -> str | None:
    try:
        module = __import__(module_name)
    except ImportError:
        return None
    return module.__version__


def load_average() -> float | None:
    """The 1-minute load average: other processes competing for the cores while we measure."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _busy_seconds() -> float | None:
    """CPU seconds all cores have spent busy since boot (/proc/stat: everything but idle and iowait)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    """CPU seconds used by this process and the children it has waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class Interference:
    """How much CPU *other* processes used while a benchmark ran, as a share of the whole machine.

    The load average cannot tell: it counts the benchmark's own threads too. This is the busy time of all cores
    (/proc/stat) minus this process's own (and its children's) CPU time, over wall time × cores. Near 0 means the
    numbers were measured alone; a few percent or more means other work competed for the cores and memory bus.
    """

    def __init__(self):
        self.busy, self.own, self.wall = _busy_seconds(), _own_seconds(), time.perf_counter()

    def fraction(self) -> float | None:
        busy = _busy_seconds()
        if busy is None or self.busy is None:
            return None
        others = (busy - self.busy) - (_own_seconds() - self.own)
        return round(max(0.0, others) / ((time.perf_counter() - self.wall) * cores()), 4)


def machine_info() -> dict:
    """Plain data for the JSON: CPU, cores, versions, the thread variables as set, the load at the start."""
    return {
        "cpu": cpu_model(),
        "cores": cores(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "numba": _version("numba"),
        "torch": _version("torch"),
        "thread_env": {name: os.environ.get(name) for name in THREAD_VARIABLES},
        "load_average_1min": load_average(),
    }


def record_end_of_run(info: dict, interference: Interference) -> str:
    """Add the end-of-run load and the other processes' CPU share to ``info``; return a line saying both."""
    info["load_average_1min_end"] = load_average()
    info["other_processes_cpu"] = interference.fraction()
    share = "unknown" if info["other_processes_cpu"] is None else f"{100 * info['other_processes_cpu']:.1f} %"
    return (f"CPU used by other processes during the run: {share} of the machine; 1-minute load average "
            f"{info['load_average_1min']} at the start, {info['load_average_1min_end']} at the end")


def machine_line(info: dict) -> str:
    """One line a person can quote: ``AMD EPYC, 2 cores | numpy 2.4.6 | numba 0.68.1 | torch 2.13.0+cpu``."""
    torch = info["torch"] or "not installed"
    return (f"{info['cpu']}, {info['cores']} cores | Python {info['python']} | numpy {info['numpy']} | "
            f"numba {info['numba']} | torch {torch} | load average {info['load_average_1min']}")


def thread_env(threads: int) -> dict:
    """A copy of this process's environment with every runtime limited to ``threads`` threads."""
    env = dict(os.environ)
    env.update({name: str(threads) for name in THREAD_VARIABLES})
    return env


def set_threads(threads: int) -> None:
    """Limit Numba's parallel kernels and torch's intra-op pool to ``threads`` (both can change at run time).

    ``numba.set_num_threads`` starts Numba's thread pool, which fixes the threading layer for the life of the
    process; so first select the layer tinyreg's parallel kernels select on their first call (workqueue, unless
    NUMBA_THREADING_LAYER says otherwise), or every parallel kernel here would run on a layer tinyreg never uses.
    """
    import numba

    from tinyreg.optim import kernels

    kernels._select_threading_layer()
    numba.set_num_threads(threads)
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(threads)
