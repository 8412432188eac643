"""flows.orchestrate.memory and the allocator settings of flows.orchestrate.settings: the garbage collector
kept off imported objects, Arrow's pool and glibc's mapping threshold in the build's processes."""

from __future__ import annotations

import ctypes
import gc
import platform
import weakref

import pytest

from flows.orchestrate import memory


class _Node:
    pass


def test_freeze_imports_collects_garbage_first_and_keeps_what_is_alive_out_of_later_collections():
    garbage, kept = _Node(), _Node()
    garbage.self = garbage  # a cycle: only a collection frees it
    kept.self = kept
    gone = weakref.ref(garbage)
    del garbage
    was_frozen = gc.get_freeze_count()
    try:
        memory.freeze_imports()
        assert gone() is None, "garbage must be collected before the freeze, not frozen with the rest"
        assert gc.get_freeze_count() > was_frozen
        assert not any(o is kept for o in gc.get_objects()), "what was alive is left out of collections"
        later = _Node()
        later.self = later
        later_ref = weakref.ref(later)
        del later
        gc.collect()
        assert later_ref() is None, "objects made after the freeze are still collected"
    finally:
        gc.unfreeze()


def test_the_build_and_its_child_processes_keep_arrow_buffers_on_the_c_heap():
    """``python -m flows`` sets Arrow's allocator before anything imports pyarrow, and the stages'
    child processes inherit it: with pyarrow's default (mimalloc) the freed buffers of one step stay
    resident under the next."""
    import os

    probe = (
        "from flows import cli\n"
        "try:\n"
        "    cli.main(['build', '--help'])\n"  # parses its options (their modules import pyarrow), then exits
        "except SystemExit:\n"
        "    pass\n"
        "import pyarrow as pa\n"
        "from flows.orchestrate import isolate\n"
        "from tests.test_memory import arrow_backend\n"
        "print(pa.default_memory_pool().backend_name, isolate.run(arrow_backend)[0])\n"
    )
    out = _probe(probe, {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"})
    assert out[-2:] == ["system", "system"]


def _probe(code: str, env: dict) -> list[str]:
    """The words ``code`` prints, run by a fresh Python from the repository's root with ``env``."""
    import os
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return out.stdout.split()


def arrow_backend() -> str:
    import pyarrow as pa

    return pa.default_memory_pool().backend_name


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator setting")
def test_the_build_and_its_child_processes_map_big_buffers_on_their_own():
    """After ``settings.configure`` (which ``python -m flows`` runs first), a buffer of 2 MiB gets a
    mapping of its own, which goes back to the system when freed, in the process and in its children;
    glibc's default raises its threshold once a big buffer is freed and puts later ones in its heap."""
    import os

    probe = (
        "from tests.test_memory import own_mapping_mb\n"
        "before = own_mapping_mb()\n"
        "from flows.orchestrate import settings\n"
        "settings.configure()\n"
        "from flows.orchestrate import isolate\n"
        "print(before, own_mapping_mb(), isolate.run(own_mapping_mb)[0])\n"
    )
    # glibc's defaults: any of its malloc settings turns the rising threshold off (Dask's nanny, which
    # a test before this one may have imported, sets MALLOC_TRIM_THRESHOLD_ in the environment)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    assert list(map(float, _probe(probe, env)[-3:])) == [0, 2, 2]


class _MallInfo2(ctypes.Structure):  # glibc's struct mallinfo2
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                      "fsmblks", "uordblks", "fordblks", "keepcost")]


def own_mapping_mb() -> float:
    """MiB of mappings of their own that a buffer of 2 MiB adds, once one of 16 MiB was freed."""
    mallinfo2 = memory._libc().mallinfo2
    mallinfo2.restype = _MallInfo2
    big = bytearray(16 * 2**20)
    del big
    before = mallinfo2().hblkhd
    buffer = bytearray(2 * 2**20)
    mapped = (mallinfo2().hblkhd - before) / 2**20
    del buffer
    return round(mapped)


def test_handing_memory_back_starts_no_process(monkeypatch):
    """release_memory runs between stages in processes of gigabytes: finding the C library must not
    fork one (``ctypes.util.find_library`` runs ``ldconfig`` in a child process)."""
    import subprocess
    import sys

    if not sys.platform.startswith("linux"):
        return  # glibc's malloc_trim is what it loads

    def started(*args, **kwargs):
        raise AssertionError(f"release_memory started a process: {args}")

    memory._libc.cache_clear()
    monkeypatch.setattr(subprocess, "Popen", started)
    memory.release_memory()
    memory.release_memory()
    assert memory._libc() is not None and hasattr(memory._libc(), "malloc_trim")
