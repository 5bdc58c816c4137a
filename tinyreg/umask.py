"""The process's umask: the permission bits a new file or folder does not get (``open()`` gives ``0o666 & ~umask``)."""

import os


def current_umask() -> int:
    """The umask, read without changing it. POSIX can only read it by setting it, so set 0 and put it straight back
    (not thread-safe: another thread creating a file in between would get mode 0o666)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask
