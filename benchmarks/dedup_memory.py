"""Where the flow's dedup memory goes (issues 7, 32): resident memory by step of the flow's dedup task.

    python -m benchmarks.dedup_memory --corpus DIR --work WORK

``DIR`` is a raw folder (e.g. one written by ``python -m benchmarks.corpus``). Once per ``WORK``:
``python -m flows build --cache-dir WORK/cache`` makes the per-document batches' files, then a child
process gathers them and runs templates and rejections as the flow does
(:mod:`benchmarks.workspace_inputs`), writing dedup's input to ``WORK/dedup_input``. A fresh child
process, with the flow's imports, then runs the flow's own dedup task
(``flows.pipeline.dedup_task``: the batches' band keys and the paragraphs read from the workspace,
``dedup``, the paragraphs table written) while a thread samples its resident memory (every 5 ms). The
functions in ``STEPS`` are wrapped to label the samples; the code between them is labelled "after
<previous step>" (a step called many times, such as ``confirm`` on each block of candidate pairs, is
summed). Printed per step: seconds, peak resident MB during it, resident MB at its end.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

STEPS = (  # (module, function): the task's parts, in the order they run. Not near_pairs: dedup tells
    # its own default from another pair finder by identity, so a wrapped one would sketch every text
    ("flows.orchestrate.workspace", "read_band_keys"),
    ("flows.orchestrate.workspace", "read_frame"),
    ("flows.dedup.dedup", "_content"),
    ("flows.dedup.dedup", "_encode_known"),
    ("flows.dedup.dedup", "_exact_repeats"),
    ("flows.dedup.dedup", "_mark"),
    ("flows.dedup.dedup", "_looked_up_keys"),
    ("flows.dedup.dedup", "_shares_a_band"),
    ("flows.dedup.dedup", "_held"),
    ("flows.dedup.dedup", "candidate_pairs"),
    ("flows.dedup.dedup", "confirm"),
    ("flows.dedup.dedup", "_components"),
    ("flows.dedup.dedup", "_near_repeats"),
    ("flows.dedup.dedup", "_conformed"),
    ("flows.orchestrate.workspace", "write_frame_with"),
    ("flows.common.parquet_tables", "write_sorted"),
)


def _prepare(corpus: str, work: str, queue) -> None:
    """Dedup's input as the flow makes it: the paragraphs after templates and rejections, and the
    list of the batches' band-key files."""
    from benchmarks.workspace_inputs import accounted
    from flows.orchestrate import workspace

    done, tables = accounted(Path(corpus), Path(work))
    out = Path(work) / "dedup_input"
    workspace.write_frame(tables["paragraphs"], out / "paragraphs.parquet")
    (out / "band_keys.txt").write_text("\n".join(str(b.path("band_keys")) for b in done))
    queue.put(None)


def _measure(work: str, queue) -> None:
    from prefect.logging import disable_run_logger

    from benchmarks.step_memory import StepSampler
    from flows import pipeline

    sampler = StepSampler()
    for module_name, name in STEPS:
        sampler.wrap(importlib.import_module(module_name), name)
    inputs = Path(work) / "dedup_input"
    band_keys = (inputs / "band_keys.txt").read_text().split("\n")
    base = sampler.rss()
    with sampler, disable_run_logger():
        t0 = time.perf_counter()
        path = pipeline.dedup_task.fn(str(inputs / "paragraphs.parquet"), band_keys, str(Path(work) / "run"),
                                      str(Path(work) / "tables"))
        total = time.perf_counter() - t0
    import pyarrow.parquet as pq

    status = pq.read_table(path, columns=["status"]).column(0).to_pylist()
    queue.put({"rows": sampler.rows, "base": base, "total_s": total, "paragraphs": len(status),
               "content": status.count("content"), "duplicates": status.count("duplicate")})


def main(argv: list[str] | None = None) -> None:
    from benchmarks.step_memory import print_steps
    from benchmarks.workspace_inputs import measured

    args, r = measured(__doc__, "dedup_input/band_keys.txt", _prepare, _measure, argv)
    mb, base = 1024 * 1024, r["base"]
    print(f"\n== {args.corpus}: {r['paragraphs']:,} paragraphs ({r['content']:,} content, {r['duplicates']:,} "
          f"duplicates); the dedup task {r['total_s']:.1f} s; resident before it {base / mb:.0f} MB")
    print_steps(r["rows"])


if __name__ == "__main__":
    main()
