"""Where the extract stage's memory goes (issue 32): resident memory by step of a large build's
two extract processes.

    python -m benchmarks.extract_memory --corpus DIR --work WORK

``DIR`` is a raw folder (e.g. one written by ``python -m benchmarks.corpus``). Once per ``WORK``:
``python -m flows build --cache-dir WORK/cache`` makes the per-document batches' files, then a child
process gathers them and runs the steps between the batches and extract as the flow does
(templates, rejections, dedup with the batches' band keys), writing extract's inputs to
``WORK/inputs``. Then two fresh child processes, one after the other, do what the flow's extract
processes do (:mod:`flows.orchestrate.extract_process`): the first reads the scans and resolves the
entities, the second reads the scans, the tables and the entities again and makes and writes the
rest; a thread samples each one's resident memory (every 5 ms). The functions in ``STEPS`` are
wrapped to label the samples; the code between them is labelled "after <previous step>". Printed per
process and step: seconds, peak resident MB during it, resident MB at its end.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

STEPS = (  # (module, function): the stage's parts, in the order they run
    ("flows.orchestrate.workspace", "read_scans"),
    ("flows.orchestrate.workspace", "read_frame"),
    ("flows.extract.extract", "build_documents"),
    ("flows.extract.extract", "records_of"),
    ("flows.extract.entities", "resolve"),
    ("flows.extract.events", "linkable"),
    ("flows.extract.events", "build_events"),
    ("flows.extract.quotes", "extract_quotes"),
    ("flows.extract.statements", "extract_statements"),
    ("flows.orchestrate.extract_process", "paragraph_summary"),
    ("flows.orchestrate.extract_process", "write_built"),
    ("flows.views.views", "build_views"),
)


def _prepare(corpus: str, work: str, queue) -> None:
    """Extract's inputs as the flow makes them, from the workspace's batches."""
    from benchmarks.workspace_inputs import accounted
    from flows.common import parquet_tables
    from flows.dedup import dedup
    from flows.orchestrate import workspace

    work_dir = Path(work)
    done, tables = accounted(Path(corpus), work_dir)
    known = workspace.read_band_keys([b.path("band_keys") for b in done])
    tables["paragraphs"] = dedup.dedup(tables["paragraphs"], known_keys=known, keys_handed_over=True)
    out = work_dir / "inputs"
    for name, df in tables.items():
        workspace.write_frame(df, out / f"{name}.parquet")
    # the release's paragraphs table, as the flow's dedup writes it (extract's first step reads it)
    parquet_tables.write_sorted("paragraphs", out / "paragraphs.parquet", work_dir / "tables", work_dir / "tmp")
    (out / "scans.txt").write_text("\n".join(str(b.path("scans")) for b in done))
    queue.put(None)


def _measure(work: str, part: str, resolved: dict | None, queue) -> None:
    """One of the two extract processes (``part``: "resolution" or "records"), sampled."""
    from benchmarks.step_memory import StepSampler
    from benchmarks.workspace_inputs import TABLES
    from flows.orchestrate import extract_process

    sampler = StepSampler()
    for module_name, name in STEPS:
        sampler.wrap(importlib.import_module(module_name), name)
    inputs_dir = Path(work) / "inputs"
    scans = (inputs_dir / "scans.txt").read_text().split("\n")
    inputs = {name: str(inputs_dir / f"{name}.parquet") for name in TABLES}
    tables = str(Path(work) / "tables")
    base = sampler.rss()
    with sampler:
        t0 = time.perf_counter()
        if part == "resolution":
            result = extract_process._resolve_read(scans, tables)
        else:
            result = extract_process._records_read(inputs, scans, tables, ("paragraphs",), resolved)
        total = time.perf_counter() - t0
    queue.put({"rows": sampler.rows, "base": base, "total_s": total, "result": result})


def _resolution(work: str, queue) -> None:
    _measure(work, "resolution", None, queue)


def main(argv: list[str] | None = None) -> None:
    from benchmarks.step_memory import in_fresh_process, print_steps
    from benchmarks.workspace_inputs import measured

    args, first = measured(__doc__, "inputs/scans.txt", _prepare, _resolution, argv)
    second = in_fresh_process(_measure, str(args.work), "records", first["result"])
    mb = 1024 * 1024
    counts = second["result"].rows
    print(f"\n== {args.corpus}: extract {first['total_s'] + second['total_s']:.1f} s; "
          + ", ".join(f"{k} {v:,}" for k, v in counts.items() if k in ("paragraphs", "mentions", "quotes")))
    for name, r in (("entity resolution", first), ("the rest", second)):
        print(f"\n-- {name}'s process: {r['total_s']:.1f} s; resident before it {r['base'] / mb:.0f} MB")
        print_steps(r["rows"])


if __name__ == "__main__":
    main()
