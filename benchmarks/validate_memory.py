"""Where validation's memory goes (issue 32): resident memory by suite of the validation process.

    python -m benchmarks.validate_memory TABLES_DIR

``TABLES_DIR``: a folder holding every table's ``<table>.parquet`` (a release folder, or the tables
of an ``extract_memory.py`` build with its ``inputs/paragraphs.parquet`` beside them). A fresh
process with the build's environment validates them as the flow's validation process does (the
files read a suite's columns at a time, freed memory handed back between suites) while a thread
samples its resident memory (every 5 ms). Printed per suite: seconds, peak resident MB while its
frame is made and checked, resident MB at its end; then whether the tables passed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def _measure(tables_dir: str, queue) -> None:
    from benchmarks.step_memory import StepSampler
    from flows.common.parquet_tables import ParquetTables
    from flows.orchestrate import memory
    from flows.validate import gx_runtime, parts, validate

    gx_runtime.load_gx()
    memory.freeze_imports()  # as the validation process does before its first suite
    sampler = StepSampler()
    suite_frame = validate.suite_frame

    def labelled(source, name, *args):
        sampler.close(name)
        return suite_frame(source, name, *args)

    validate.suite_frame = labelled
    load_part, whole_table_results = parts.PartFrames.load, parts.whole_table_results

    def labelled_part(frames, k):
        sampler.close(f"part {k + 1} of {len(frames.plan.bounds)} ({len(frames.plan.suites)} suites)")
        return load_part(frames, k)

    def labelled_whole(context, source, name, *args):
        sampler.close(f"{name}: its whole-table checks, its parts merged")
        return whole_table_results(context, source, name, *args)

    parts.PartFrames.load, parts.whole_table_results = labelled_part, labelled_whole
    base = sampler.rss()
    with sampler, tempfile.TemporaryDirectory() as work:
        t0 = time.perf_counter()
        tables = ParquetTables(Path(tables_dir))
        report = validate.validate(tables, Path(work), between_suites=memory.release_memory)
        total = time.perf_counter() - t0
        tables.close()
    queue.put({"rows": sampler.rows, "base": base, "total_s": total, "passed": report.passed})


def main(argv: list[str] | None = None) -> None:
    from benchmarks.step_memory import in_fresh_process, print_steps
    from flows.orchestrate import settings

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tables_dir", type=Path, help="folder of the tables' Parquet files")
    args = ap.parse_args(argv)
    settings.configure()  # the build's environment (Arrow's allocator among it): the fresh process inherits it
    r = in_fresh_process(_measure, str(args.tables_dir))
    print(f"\n== {args.tables_dir}: validation {r['total_s']:.1f} s; resident with GX loaded "
          f"{r['base'] / 2**20:.0f} MB; passed: {r['passed']}")
    print_steps(r["rows"])


if __name__ == "__main__":
    main()
