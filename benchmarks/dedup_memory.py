"""Where the dedup stage's memory goes (issue 7): resident memory by step of ``flows.dedup.dedup.dedup``.

    python -m benchmarks.dedup_memory --corpus DIR [--corpus DIR2 ...]

``DIR`` is a raw folder (e.g. one written by ``python -m benchmarks.corpus``). A child process runs
ingest -> clean once and caches the paragraphs table in ``DIR/.paragraphs.parquet``; a fresh child
process then reads that table and runs ``dedup`` alone while a thread samples its resident memory
(psutil, every 5 ms). The functions of ``flows.dedup.dedup`` in ``STEPS`` (those it has) are wrapped to label
the samples; the code between them is labelled "after <previous step>" (a step called many times, such
as ``confirm`` on each block of candidate pairs, is summed). Printed per step: seconds, peak resident MB
during the step and resident MB at its last end, both also relative to the resident memory before
``dedup`` started (the table and the imports).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from pathlib import Path

STEPS = ("_content", "_exact_repeats", "_mark", "mark_exact_repeats", "near_pairs", "candidate_pairs", "band_keys", "confirm", "_components",
         "_near_repeats", "conform")


def _prepare(corpus: str) -> None:
    from flows.clean import clean
    from flows.ingest import ingest

    sources, _ = ingest.ingest(Path(corpus))
    paragraphs, _ = clean.clean(sources)
    paragraphs.to_parquet(Path(corpus) / ".paragraphs.parquet")


def _measure(corpus: str, queue) -> None:
    import pandas as pd

    from benchmarks.step_memory import StepSampler
    from flows.dedup import dedup as mod

    paragraphs = pd.read_parquet(Path(corpus) / ".paragraphs.parquet")
    mod._stopwords()  # imported before the baseline: the import is not dedup's memory
    sampler = StepSampler()
    for name in STEPS:
        if hasattr(mod, name):
            sampler.wrap(mod, name)
    base = sampler.rss()
    with sampler:
        t0 = time.perf_counter()
        out = mod.dedup(paragraphs)
        total = time.perf_counter() - t0
    queue.put({"paragraphs": len(paragraphs), "content": int((paragraphs["status"] == "content").sum()),
               "clusters": int(out["cluster_id"].nunique()), "base": base, "rows": sampler.rows, "total_s": total})


def main(argv: list[str] | None = None) -> None:
    from benchmarks.step_memory import by_step

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, action="append", required=True)
    args = ap.parse_args(argv)
    ctx = mp.get_context("spawn")
    mb = 1024 * 1024
    for corpus in args.corpus:
        if not (corpus / ".paragraphs.parquet").exists():
            p = ctx.Process(target=_prepare, args=(str(corpus),))
            p.start()
            p.join()
        q = ctx.Queue()
        p = ctx.Process(target=_measure, args=(str(corpus), q))
        p.start()
        r = q.get()
        p.join()
        base = r["base"]
        print(f"\n== {corpus.name}: {r['paragraphs']:,} paragraphs ({r['content']:,} content), "
              f"{r['clusters']:,} clusters; dedup {r['total_s']:.1f} s; resident before dedup {base / mb:.0f} MB ==")
        print("step".ljust(28) + "s".rjust(8) + "peak MB".rjust(10) + "end MB".rjust(10)
              + "peak +MB".rjust(10) + "end +MB".rjust(10))
        for name, row in by_step(r["rows"]).items():
            if row["s"] < 0.01 and row["peak"] == row["end"]:
                continue
            print(name.ljust(28) + f"{row['s']:8.2f}{row['peak'] / mb:10.0f}{row['end'] / mb:10.0f}"
                  f"{(row['peak'] - base) / mb:10.0f}{(row['end'] - base) / mb:10.0f}")
        peak = max(row["peak"] for row in r["rows"])
        print(f"peak resident {peak / mb:.0f} MB (+{(peak - base) / mb:.0f} MB over the table and imports)")


if __name__ == "__main__":
    main()
