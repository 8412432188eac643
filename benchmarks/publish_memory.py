"""Where the flow's publishing memory goes (issue 32): resident memory by step of ``publish.publish``
as the flow runs it beside validation.

    python -m benchmarks.publish_memory RELEASE_DIR

``RELEASE_DIR`` is a published release (e.g. ``WORK/output/latest`` of ``extract_memory.py``'s build).
Its tables' Parquet files and SQLite database are copied into a temporary folder next to it, then a
fresh process with the flow's imports publishes them as the flow does (the tables as Parquet files,
the database made beside it: here the copy), with the release's raw manifest as the inventory and no
validation report, while a thread samples its resident memory (every 5 ms). The functions in
``STEPS`` are wrapped to label the samples; the code between them is labelled "after <previous
step>". Printed per step: seconds, peak resident MB during it, resident MB at its end.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

STEPS = (  # (module, function, label): the parts of publishing, in the order they run
    ("flows.publish.publish", "write_csv", "CSV (DuckDB)"),
    ("flows.publish.changes", "diff", "diff"),
    ("flows.publish.changes", "write", "changes files"),
    ("flows.publish.publish", "raw_manifest_snapshot", "raw manifest"),
    ("flows.publish.dictionary", "entries", "dictionary"),
    ("flows.publish.release_pages", "write", "pages, zip"),
    ("flows.publish.publish", "datapackage", "datapackage"),
)


def _measure(release: str, work: str, queue) -> None:
    import pandas as pd

    import flows.pipeline  # noqa: F401 - the flow process's imports
    from benchmarks.step_memory import StepSampler
    from flows.common.parquet_tables import ParquetTables
    from flows.publish import publish, sqlite_db

    sampler = StepSampler()
    for module_name, name, label in STEPS:
        sampler.wrap(importlib.import_module(module_name), name, label)
    inventory = pd.read_csv(Path(release) / "raw_manifest.csv")
    db = Path(work) / sqlite_db.DATABASE_FILE
    base = sampler.rss()
    with sampler:
        t0 = time.perf_counter()
        publish.publish(ParquetTables(Path(work) / "tables"), Path(work) / "output", None, None, inventory,
                        database=lambda: db)
        total = time.perf_counter() - t0
    queue.put({"rows": sampler.rows, "base": base, "total_s": total})


def main(argv: list[str] | None = None) -> None:
    import schemas
    from benchmarks.step_memory import in_fresh_process, print_steps
    from flows.publish import sqlite_db

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit(__doc__)
    release = Path(args[0]).resolve()
    with tempfile.TemporaryDirectory(prefix="publish-memory-", dir=release.parent) as work:
        (Path(work) / "tables").mkdir()
        for name in schemas.tables():
            shutil.copy(release / f"{name}.parquet", Path(work) / "tables" / f"{name}.parquet")
        shutil.copy(release / sqlite_db.DATABASE_FILE, Path(work) / sqlite_db.DATABASE_FILE)
        r = in_fresh_process(_measure, str(release), work)
    print(f"\n== {release}: publishing {r['total_s']:.1f} s; resident before it {r['base'] / 2**20:.0f} MB")
    print_steps(r["rows"])


if __name__ == "__main__":
    main()
