"""Options of ``python -m flows build`` for operating the pipeline, and its progress display.

    --runner local|dask      where the per-document stages run (default: local, a pool of processes)
    --workers N              processes of the local pool or of the Dask LocalCluster (default: one
                             per CPU core; --dask-workers is the same option)
    --dask-address ADDR      an existing Dask scheduler (tcp://HOST:8786); without it --runner dask
                             starts a LocalCluster of --workers processes
    --batch-size N           files per batch of the per-document stages (mean; content-defined)
    --cache-dir DIR          where cached per-document results are kept (default: under PREFECT_HOME)
    --refresh-cache          recompute every batch
    --no-progress            no progress bars (the summary is still printed)
    --summary-json PATH      also write the build summary as JSON (used by benchmarks/e2e.py)
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

from flows.orchestrate import progress
from flows.orchestrate.batches import DEFAULT_BATCH_SIZE


def add_build_options(parser) -> None:
    parser.add_argument("--runner", choices=["local", "dask"], default="local",
                        help="task runner of the per-document stages (default: local, a pool of processes)")
    parser.add_argument("--dask-address", default=None,
                        help="address of an existing Dask scheduler, e.g. tcp://HOST:8786 (implies --runner dask)")
    parser.add_argument("--workers", "--dask-workers", dest="workers", type=int, default=None,
                        help="processes of the local pool or the Dask LocalCluster (default: one per CPU core)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                        help=f"mean files per batch (default: {DEFAULT_BATCH_SIZE})")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="folder of cached per-document results (default: Prefect's storage under PREFECT_HOME)")
    parser.add_argument("--refresh-cache", action="store_true", help="recompute every batch")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--summary-json", type=Path, default=None, help="write the build summary as JSON here")


FLOW_DEFAULTS = {"runner": "local", "dask_address": None, "workers": None, "batch_size": DEFAULT_BATCH_SIZE,
                 "cache_dir": None, "refresh_cache": False}


def flow_options(args) -> dict:
    """Flow parameters given on the command line (those left at the flow's defaults are not passed)."""
    runner = "dask" if args.dask_address else args.runner
    given = {
        "runner": runner,
        "dask_address": args.dask_address,
        "workers": args.workers,
        "batch_size": args.batch_size,
        "cache_dir": str(args.cache_dir.resolve()) if args.cache_dir else None,
        "refresh_cache": args.refresh_cache,
    }
    return {k: v for k, v in given.items() if v != FLOW_DEFAULTS[k]}


class RichReporter(progress.Reporter):
    """Progress bars for the stages of a build (rich), then the summary table."""

    def __init__(self, show_bars: bool = True):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True)
        self.show_bars = show_bars
        self.bars = Progress(SpinnerColumn(), TextColumn("{task.description:<12}"), BarColumn(),
                             MofNCompleteColumn(), TextColumn("{task.fields[unit]}"), TimeElapsedColumn(),
                             console=self.console, transient=False, disable=not show_bars)
        self.tasks: dict[str, int] = {}
        self.result: progress.BuildSummary | None = None

    def __enter__(self):
        self.bars.start()
        return self

    def __exit__(self, *exc):
        self.bars.stop()

    def stage_start(self, stage, total=None, unit="docs"):
        self.tasks[stage] = self.bars.add_task(stage, total=total, unit=unit if total else "")

    def advance(self, stage, n=1):
        if stage in self.tasks:
            self.bars.advance(self.tasks[stage], n)

    def stage_end(self, stage, seconds, counts):
        task_id = self.tasks.get(stage)
        if task_id is not None:
            total = next(t.total for t in self.bars.tasks if t.id == task_id) or 1
            self.bars.update(task_id, total=total, completed=total)

    def summary(self, summary):
        self.result = summary


@contextlib.contextmanager
def progress_display(args):
    """Progress bars on stderr while the flow runs; the summary on stdout at the end."""
    show = not args.no_progress and sys.stderr.isatty()
    rep = RichReporter(show_bars=show)
    previous = progress.set_reporter(rep)
    try:
        with rep:
            yield rep
    finally:
        progress.set_reporter(previous)
        if rep.result is not None:
            print_summary(rep.result, rep.console if show else None)
            if args.summary_json:
                Path(args.summary_json).write_text(json.dumps(rep.result.as_dict(), indent=2), encoding="utf-8")


def print_summary(summary: progress.BuildSummary, console=None) -> None:  # noqa: ARG001
    from rich.console import Console
    from rich.table import Table

    table = Table(title="build summary", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for k, v in summary.lines():
        table.add_row(k, v)
    Console().print(table)
