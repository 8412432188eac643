"""Which files a piece of code opens: ``with opened() as paths: ...`` records the path of every
``open`` (built-in ``open``, ``os.open``, ``io.open``) of this process, through an audit hook
(``sys.addaudithook``; a hook cannot be removed, so one is installed once and switched on and off)."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

_recording: list[str] | None = None
_installed = False


def _hook(event: str, args: tuple) -> None:
    if _recording is not None and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        _recording.append(os.path.abspath(os.fsdecode(args[0])))


@contextlib.contextmanager
def opened():
    global _recording, _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
    _recording = paths = []
    try:
        yield paths
    finally:
        _recording = None


def reaching(paths: list[str], folder: Path) -> list[str]:
    """The paths of ``paths`` that are, or lead through links to, something in ``folder``."""
    root = os.path.realpath(folder)
    return [p for p in paths if os.path.realpath(p) == root or os.path.realpath(p).startswith(root + os.sep)]
