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

import argparse
import importlib
import multiprocessing as mp
import subprocess
import sys
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
TABLES = ("sources", "paragraphs", "info", "rejections")


def _build(corpus: Path, work: Path) -> None:
    """The batches' files, by the flow itself."""
    subprocess.run([sys.executable, "-m", "flows", "build", "--raw", str(corpus), "--output", str(work / "output"),
                    "--cache-dir", str(work / "cache"), "--no-progress"], check=True)


def _prepare(corpus: str, work: str) -> None:
    """Extract's inputs as the flow makes them, from the workspace's batches."""
    from flows import pipeline
    from flows.clean import clean
    from flows.dedup import dedup
    from flows.ingest import ingest
    from flows.orchestrate import batches, workspace

    work_dir = Path(work)
    files, manifest = batches.fingerprint(Path(corpus))
    plan = batches.plan(files, batches.DEFAULT_BATCH_SIZE)
    root = pipeline.workspace_dir(str(work_dir / "cache"))
    done = [workspace.existing_batch(root, p["key"]) for p in pipeline.batch_inputs(corpus, plan, manifest, root)]
    if any(b is None for b in done):
        raise SystemExit(f"the workspace {root} does not hold every batch of {corpus}: remove {work_dir} and rerun")
    f = {name: workspace.read_frame(path) for name, path in workspace.gather(done, work_dir / "run").items()}
    paragraphs = clean.mark_templates(f.pop("paragraphs"), f["sources"], f["info"])
    sources, paragraphs, info, rejections = ingest.reject_all_boilerplate(
        f.pop("sources"), paragraphs, f.pop("info"), f.pop("rejections"))
    known = workspace.read_band_keys([b.path("band_keys") for b in done])
    paragraphs = dedup.dedup(paragraphs, known_keys=known, keys_handed_over=True)
    out = work_dir / "inputs"
    for name, df in (("sources", sources), ("paragraphs", paragraphs), ("info", info), ("rejections", rejections)):
        workspace.write_frame(df, out / f"{name}.parquet")
    (out / "scans.txt").write_text("\n".join(str(b.path("scans")) for b in done))


def _measure(work: str, queue) -> None:
    from benchmarks.step_memory import StepSampler
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
    from benchmarks.step_memory import by_step

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True, help="folder for the build's batches and extract's inputs")
    args = ap.parse_args(argv)
    ctx = mp.get_context("spawn")
    mb = 1024 * 1024
    if not (args.work / "inputs" / "scans.txt").exists():
        _build(args.corpus, args.work)
        p = ctx.Process(target=_prepare, args=(str(args.corpus), str(args.work)))
        p.start()
        p.join()
        if p.exitcode:
            raise SystemExit(p.exitcode)
    q = ctx.Queue()
    p = ctx.Process(target=_measure, args=(str(args.work), q))
    p.start()
    r = q.get()
    p.join()
    base = r["base"]
    print(f"\n== {args.corpus}: extract {r['total_s']:.1f} s; resident before it {base / mb:.0f} MB; "
          + ", ".join(f"{k} {v:,}" for k, v in r["counts"].items() if k in ("paragraphs", "mentions", "quotes")))
    print("step".ljust(28) + "s".rjust(8) + "peak MB".rjust(10) + "end MB".rjust(10))
    for name, row in by_step(r["rows"]).items():
        if row["s"] < 0.01 and row["peak"] == row["end"]:
            continue
        print(name.ljust(28) + f"{row['s']:8.2f}{row['peak'] / mb:10.0f}{row['end'] / mb:10.0f}")
    print(f"peak resident {max(row['peak'] for row in r['rows']) / mb:.0f} MB")


if __name__ == "__main__":
    main()
