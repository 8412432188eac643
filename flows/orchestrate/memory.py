"""Memory of the build's processes, in one place: what a process holds (resident set), handing freed
memory back to the system between stages, and the garbage collector paused or kept off imported
objects. The stages themselves never call these: the orchestration does, around them."""

from __future__ import annotations

import contextlib
import functools


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB: Linux's VmHWM, else ``ru_maxrss`` (KiB on
    Linux). VmHWM first: ``ru_maxrss`` carries over from the parent across fork and exec, so a child
    started by a large process (the validation process) would report the parent's size."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Resident memory of this process now, in MB (Linux: /proc/self/statm; else the peak)."""
    import os

    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return peak_rss_mb()


def release_memory() -> None:
    """Hand memory freed by a finished stage back to the system: a full garbage collection, the
    C heap trimmed (glibc ``malloc_trim``) and Arrow's pool released. The stages allocate through
    three allocators (Python's, the C heap, Arrow's), which do not reuse each other's free memory:
    what one stage freed would otherwise stay resident under the next stage's allocations."""
    import gc

    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except Exception:  # noqa: BLE001 - best effort
        pass
    trim = getattr(_libc(), "malloc_trim", None)  # glibc's only
    if trim is not None:
        trim(0)


def set_mmap_threshold(n_bytes: int) -> None:
    """Allocate buffers of ``n_bytes`` or more in mappings of their own in this process (glibc's
    ``M_MMAP_THRESHOLD``; child processes take it from ``MALLOC_MMAP_THRESHOLD_``)."""
    mallopt = getattr(_libc(), "mallopt", None)  # glibc's only
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, n_bytes)


_M_MMAP_THRESHOLD = -3  # glibc's malloc.h


@functools.cache
def _libc():
    """The C library, loaded once; None if it cannot be. glibc's is loaded by name first:
    ``ctypes.util.find_library`` runs ``ldconfig`` in a child process, a fork of this one, which a
    process of gigabytes would pay for (and a sampler would count twice) at every call."""
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        pass
    try:
        return ctypes.CDLL(ctypes.util.find_library("c"))
    except OSError:
        return None


@contextlib.contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector while a stage allocates its many small, acyclic
    records (paragraph scans, mentions): its full passes over a growing heap would take a large
    share of the stage's time. Reference counting still frees memory; the collector resumes after."""
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def freeze_imports() -> None:
    """Leave the objects alive now (the imported modules, their classes and constants) out of every
    later garbage collection: collect once, then ``gc.freeze()`` them. Call it in a process's entry
    point once its long-lived imports are done, not in a library function (it would freeze the
    caller's objects too). A full collection walks every object the collector tracks, a large
    import such as GX's included, and :func:`release_memory` runs one before every validation suite."""
    import gc

    gc.collect()
    gc.freeze()
