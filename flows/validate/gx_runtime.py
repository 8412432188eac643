"""The one place that touches a Great Expectations context.

GX 1.x is not thread-safe: every call goes through ``LOCK``, and a context is never passed into a
Prefect task (tasks pass paths). This module holds that state so that Prefect can pickle task
functions by value without dragging a lock along.

:func:`load_gx` is the only way the project imports GX: it also imports :mod:`flows.validate.gx_expectations`,
so the project's custom expectations are registered before any suite is built or loaded (GX silently
drops expectations of an unknown type from a suite it loads).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

LOCK = threading.RLock()


def load_gx():
    """Import GX with the project's custom expectations registered; returns the ``great_expectations`` module."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.execution_engine import pandas_execution_engine

    import flows.validate.gx_expectations  # noqa: F401  (registers the custom expectations)

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    # GX fingerprints every dataframe it loads as a batch (md5 over ``hash_pandas_object`` of every
    # column, the paragraphs' text included) when the frame is under HASH_THRESHOLD bytes; the
    # fingerprint is only a batch marker in the results, which nothing here reads. 0 turns it off.
    pandas_execution_engine.HASH_THRESHOLD = 0
    return gx


def file_context(project_root: Path):
    gx = load_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    with LOCK:
        context = gx.get_context(mode="file", project_root_dir=str(project_root))
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        return context


def forget_batches(context) -> None:
    """Drop the frames GX keeps of the batches it validated. Each data source's execution engine
    holds every batch's data (its ``BatchManager`` cache, keyed by batch id) for as long as the
    context lives: validating the suites one after another would hold every table and view at
    once. GX 1.x has no public call for this; the cache is the batch manager's ``batch_data_cache``
    dict."""
    with LOCK:
        for source in context.data_sources.all().values():
            engine = getattr(source, "_execution_engine", None)  # None until a batch was loaded
            manager = getattr(engine, "batch_manager", None)
            if manager is None:
                continue
            manager.batch_data_cache.clear()
            manager.reset_batch_cache()
