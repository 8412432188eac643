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
}


def configure() -> None:
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
