"""The one place that touches a Great Expectations context.

GX 1.x is not thread-safe: every call goes through ``LOCK``, and a context is never passed into a
Prefect task (tasks pass paths). This module holds that state so that Prefect can pickle task
functions by value without dragging a lock along.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

LOCK = threading.RLock()


def file_context(project_root: Path):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    with LOCK:
        context = gx.get_context(mode="file", project_root_dir=str(project_root))
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        return context
