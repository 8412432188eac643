"""Progress of a build: stage events for a listener (the CLI's progress bar) and the final summary.

The flow calls ``reporter()`` from its own body only (never inside a task body: tasks are pickled
by value for Dask workers and served deployments). Outside the CLI the reporter does nothing; the
same counts and timings always go to the Prefect logs and to the ``build-summary`` artifact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


class Reporter:
    """Does nothing; the CLI installs a subclass that draws progress bars."""

    def stage_start(self, stage: str, total: int | None = None, unit: str = "docs") -> None:
        pass

    def advance(self, stage: str, n: int = 1) -> None:
        pass

    def stage_end(self, stage: str, seconds: float, counts: dict) -> None:
        pass

    def summary(self, summary: "BuildSummary") -> None:
        pass


_reporter: Reporter = Reporter()


def reporter() -> Reporter:
    return _reporter


def set_reporter(r: Reporter | None) -> Reporter:
    """Install ``r`` (None: the silent default); returns the previous one."""
    global _reporter
    previous, _reporter = _reporter, (r or Reporter())
    return previous


@dataclass
class BuildSummary:
    files_in: int = 0
    documents: int = 0
    quarantined: int = 0
    paragraphs: dict = field(default_factory=dict)  # status -> count, plus "total"
    rows: dict = field(default_factory=dict)  # table -> rows
    # stage -> wall seconds; ingest, clean, scan and sketch (dedup's band keys) run inside the per-batch
    # "documents" task: their seconds are summed over the batches computed in this run (cached ones cost
    # none; on Dask they overlap);
    # "validate" runs in a process of its own during "publish" (flows.orchestrate.validation): its seconds
    # are inside publish's, and its peak RSS is "validate (its process)" in peak_rss_mb
    seconds: dict = field(default_factory=dict)
    starts: dict = field(default_factory=dict)  # stage -> seconds after the flow body started when it began
    peak_rss_mb: dict = field(default_factory=dict)  # stage -> peak RSS of the flow's process so far (MB)
    rss_mb: dict = field(default_factory=dict)  # stage -> RSS of the flow's process after it, memory released (MB)
    batches: int = 0
    batches_cached: dict = field(default_factory=dict)  # {"documents": batches reused from cache}
    runner: str = "local"
    workers: int | None = None  # processes the per-document stages ran on (None: an external cluster)
    words: int = 0
    version: str | None = None
    published: bool = False
    started_at: float = 0.0  # epoch seconds when the flow body started (orchestration startup ends there)
    skipped: bool = False  # inputs identical to the latest release's: nothing was rebuilt

    @staticmethod
    def paragraph_counts(paragraphs: pd.DataFrame) -> dict:
        counts = {k: int(v) for k, v in paragraphs["status"].value_counts().items()} if len(paragraphs) else {}
        return {"total": int(len(paragraphs)), **counts}

    def as_dict(self) -> dict:
        return {
            "files_in": self.files_in, "documents": self.documents, "quarantined": self.quarantined,
            "paragraphs": self.paragraphs, "rows": self.rows, "seconds": self.seconds,
            "starts": self.starts, "peak_rss_mb": self.peak_rss_mb, "rss_mb": self.rss_mb, "batches": self.batches,
            "batches_cached": self.batches_cached, "runner": self.runner, "workers": self.workers, "words": self.words,
            "version": self.version, "published": self.published, "started_at": self.started_at,
            "skipped": self.skipped,
        }

    def lines(self) -> list[tuple[str, str]]:
        p = self.paragraphs
        kept = p.get("content", 0) + p.get("title", 0)
        cached = ", ".join(f"{k} {v}/{self.batches}" for k, v in self.batches_cached.items())
        out = [
            ("raw files in", f"{self.files_in}"),
            ("documents", f"{self.documents}"),
            ("quarantined (rejections)", f"{self.quarantined}"),
            ("paragraphs", f"{p.get('total', 0)}: kept {kept} (content {p.get('content', 0)}, title "
                           f"{p.get('title', 0)}), duplicate {p.get('duplicate', 0)}, boilerplate "
                           f"{p.get('boilerplate', 0)}"),
            ("rows per table", ", ".join(f"{k} {v}" for k, v in self.rows.items())),
            ("batches (reused from cache)", f"{self.batches} ({cached or 'none'}), runner {self.runner}"
                                            + (f", {self.workers} worker(s)" if self.workers else "")),
            ("time per stage", ", ".join(f"{k} {v:.2f}s" for k, v in self.seconds.items())),
            ("release", f"{self.version} ({'published' if self.published else 'nothing new published'}"
                        f"{'; inputs, code and rules unchanged since this release: nothing rebuilt' if self.skipped else ''})"),
        ]
        return out

    def markdown(self) -> str:
        rows = "\n".join(f"| {k} | {v} |" for k, v in self.lines())
        return "## Build summary\n\n| | |\n|---|---|\n" + rows + "\n"
