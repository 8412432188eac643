"""Working folders that a killed process does not leave behind for ever.

``WorkDir(prefix, dir)`` is a temporary folder like ``tempfile.TemporaryDirectory`` (removed by
``cleanup()``, on leaving its ``with`` block, or when the object is collected), which its process
keeps marked as in use: it holds a lock (``flock``) on a file inside it for as long as it lives. A
process killed with SIGKILL removes nothing, but the kernel releases its lock, so the next
``WorkDir`` of the same prefix removes the folders whose lock nobody holds (``sweep``). Folders
still in use, of another user, or without the lock file (made by other code) are left alone.
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
import stat
import tempfile
import weakref
from pathlib import Path

LOCK = ".in-use"


def sweep(prefix: str, dir: str | Path | None = None) -> list[Path]:
    """Remove the folders ``<dir>/<prefix>*`` (default: the system's temporary folder) that a
    :class:`WorkDir` left behind: whose lock file is there and held by no process."""
    base = Path(dir) if dir is not None else Path(tempfile.gettempdir())
    removed = []
    for path in base.glob(glob.escape(prefix) + "*"):
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
            continue
        try:
            fd = os.open(path / LOCK, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:  # no lock file: not a WorkDir (or one being made: it is locked before it is named)
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process is alive
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        finally:
            os.close(fd)
    return removed


def _remove(name: str, fd: int) -> None:
    shutil.rmtree(name, ignore_errors=True)  # still locked: no sweep removes it under our feet
    os.close(fd)


class WorkDir:
    """A temporary folder ``name`` marked as in use by this process (see the module docstring);
    the stale folders of killed processes with the same ``prefix`` are swept first."""

    def __init__(self, prefix: str, dir: str | Path | None = None):
        sweep(prefix, dir)
        self.name = tempfile.mkdtemp(prefix=prefix, dir=dir)
        # locked under another name, then renamed: a sweep never finds the lock file unlocked
        pending = Path(self.name) / f"{LOCK}.pending"
        fd = os.open(pending, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(pending, Path(self.name) / LOCK)
        self._finalizer = weakref.finalize(self, _remove, self.name, fd)

    def cleanup(self) -> None:
        self._finalizer()

    def __enter__(self) -> str:
        return self.name

    def __exit__(self, *exc) -> None:
        self.cleanup()
