"""``tr.cuda``: there is no GPU in tinyreg (it runs on the CPU, NumPy underneath), and these functions say so."""

from tinyreg.device import cpu_only_message


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed):
    """Accepted and ignored, as torch does without a GPU (scripts often seed both generators)."""


def manual_seed_all(seed):
    """Accepted and ignored, as torch does without a GPU."""


def current_device():
    raise RuntimeError(cpu_only_message("cuda"))
