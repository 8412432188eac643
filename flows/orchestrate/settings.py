"""Environment for running Prefect offline on its embedded default (temporary local API + SQLite),
and for the build's processes.

Must run before ``import prefect`` and ``import pyarrow`` (both read it once, when imported); the
child processes inherit it. Values already set in the environment win.
"""

import os

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "GX_ANALYTICS_ENABLED": "false",
    "TQDM_DISABLE": "1",
    # Arrow's buffers on the C heap, whose freed pages go back to the system (and which
    # memory.release_memory trims); pyarrow's default allocator, mimalloc, keeps them in the process
    "ARROW_DEFAULT_MEMORY_POOL": "system",
    # buffers of 1 MiB or more in mappings of their own, which go back to the system when freed: glibc
    # otherwise raises this threshold (to 32 MiB) as big buffers are freed, and later ones stay in its
    # heap, holes under the next step's allocations
    "MALLOC_MMAP_THRESHOLD_": str(2**20),
}


def configure() -> None:
    """Set the defaults in the environment (for this process's imports and for child processes), and
    glibc's threshold in this process, which read the variable when it started."""
    from flows.orchestrate import memory

    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    memory.set_mmap_threshold(int(os.environ["MALLOC_MMAP_THRESHOLD_"]))
