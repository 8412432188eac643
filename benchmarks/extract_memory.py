"""Where the extract stage's memory goes (issue 32): resident memory by step of a large build's
extract process.

    python -m benchmarks.extract_memory --corpus DIR --work WORK

``DIR`` is a raw folder (e.g. one written by ``python -m benchmarks.corpus``). Once per ``WORK``:
``python -m flows build --cache-dir WORK/cache`` makes the per-document batches' files, then a child
process gathers them and runs the steps between the batches and extract as the flow does
(templates, rejections, dedup with the batches' band keys), writing extract's inputs to
``WORK/inputs``. A fresh child process then does what the flow's extract process does
(:mod:`flows.orchestrate.extract_process`: read the scans, read the tables, ``build_tables``, write
the tables) while a thread samples its resident memory (every 5 ms). The functions in ``STEPS`` are
wrapped to label the samples; the code between them is labelled "after <previous step>". Printed per
step: seconds, peak resident MB during it, resident MB at its end.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

STEPS = (  # (module, function): the stage's parts, in the order they run
    ("flows.orchestrate.workspace", "read_scans"),
    ("flows.orchestrate.workspace", "read_frame"),
    ("flows.extract.extract", "build_documents"),
    ("flows.extract.extract", "_selected"),
    ("flows.extract.entities", "resolve"),
    ("flows.extract.events", "build_events"),
    ("flows.extract.quotes", "extract_quotes"),
    ("flows.extract.statements", "extract_statements"),
    ("flows.views.views", "build_views"),
    ("flows.orchestrate.extract_process", "write_built"),
)


def _prepare(corpus: str, work: str, queue) -> None:
    """Extract's inputs as the flow makes them, from the workspace's batches."""
    from benchmarks.workspace_inputs import accounted
    from flows.dedup import dedup
    from flows.orchestrate import workspace

    work_dir = Path(work)
    done, tables = accounted(Path(corpus), work_dir)
    known = workspace.read_band_keys([b.path("band_keys") for b in done])
    tables["paragraphs"] = dedup.dedup(tables["paragraphs"], known_keys=known, keys_handed_over=True)
    out = work_dir / "inputs"
    for name, df in tables.items():
        workspace.write_frame(df, out / f"{name}.parquet")
    (out / "scans.txt").write_text("\n".join(str(b.path("scans")) for b in done))
    queue.put(None)


def _measure(work: str, queue) -> None:
    from benchmarks.step_memory import StepSampler
    from benchmarks.workspace_inputs import TABLES
    from flows.orchestrate import extract_process

    sampler = StepSampler()
    for module_name, name in STEPS:
        sampler.wrap(importlib.import_module(module_name), name)
    inputs_dir = Path(work) / "inputs"
    scans = (inputs_dir / "scans.txt").read_text().split("\n")
    inputs = {name: str(inputs_dir / f"{name}.parquet") for name in TABLES}
    base = sampler.rss()
    with sampler:
        t0 = time.perf_counter()
        extract_process._read_scans(scans)  # as the flow's Extraction: the scans first, then the stage
        built = extract_process._extract_read(inputs, Path(work) / "tables", ("paragraphs",))
        total = time.perf_counter() - t0
    queue.put({"rows": sampler.rows, "base": base, "total_s": total, "counts": built.rows})


def main(argv: list[str] | None = None) -> None:
    from benchmarks.step_memory import print_steps
    from benchmarks.workspace_inputs import measured

    args, r = measured(__doc__, "inputs/scans.txt", _prepare, _measure, argv)
    mb, base = 1024 * 1024, r["base"]
    print(f"\n== {args.corpus}: extract {r['total_s']:.1f} s; resident before it {base / mb:.0f} MB; "
          + ", ".join(f"{k} {v:,}" for k, v in r["counts"].items() if k in ("paragraphs", "mentions", "quotes")))
    print_steps(r["rows"])


if __name__ == "__main__":
    main()
