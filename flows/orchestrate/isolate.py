"""A stage in a process of its own: the one place the build starts child processes for its stages.

A child is a spawned process (nothing of the parent's memory is shared or copied) that runs the
functions it is given one after another; what a stage allocates there goes back to the system when
the child ends, and a stage started early (validation importing GX) overlaps the parent's work.
Arguments and results travel pickled: give a child paths, not tables. Each result comes back with
the child's peak resident memory so far.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool


class Child:
    """``with Child() as child: child.submit(fn, *args).result()`` -> ``(fn(*args), peak_rss_mb)``."""

    def __init__(self):
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        self._pid = self._pool.submit(os.getpid)  # the process starts now

    def kill(self) -> None:
        """End the child at once (what it was running fails with ``RuntimeError`` in :func:`result_of`)."""
        os.kill(self._pid.result(), signal.SIGKILL)

    def submit(self, fn, *args) -> Future:
        try:
            return self._pool.submit(_measured, fn, *args)
        except BrokenProcessPool as e:  # the child is gone: the future says so when asked
            failed: Future = Future()
            failed.set_exception(e)
            return failed

    def finish(self) -> None:
        """Let the child end once it has run what it was given."""
        self._pool.shutdown(wait=False)

    def close(self, wait: bool = False) -> None:
        """Let the child end (``wait``: return once it has ended, its memory back to the system)."""
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def run(fn, *args):
    """``fn(*args)`` in a child of its own: ``(result, peak_rss_mb)``."""
    with Child() as child:
        return result_of(child.submit(fn, *args), fn.__name__)


def result_of(future: Future, what: str):
    try:
        return future.result()
    except BrokenProcessPool as e:
        raise RuntimeError(f"the process running {what} ended abruptly (killed, or out of memory?)") from e


def _measured(fn, *args):
    from flows.orchestrate import memory

    result = fn(*args)
    return result, memory.peak_rss_mb()
