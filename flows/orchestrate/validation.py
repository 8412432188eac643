"""Validation in a process of its own, beside publishing.

Publishing writes the release's Parquet files first; a child process (:mod:`flows.orchestrate.isolate`)
then validates the tables read back from those files (:func:`flows.validate.validate.validate`; each
suite's columns are read as it runs) while the flow's process writes the CSV files, the fingerprint,
the diff and the rest of the release. Validation (GX) and publishing (pandas, pyarrow) each keep one
core busy, at the same time; what is validated is exactly what the release holds; nothing is committed
before the report says the build passed (:func:`flows.publish.publish.publish`). The child starts
with the build; :meth:`Validation.preload` has it import GX while the build goes on (for a build
whose extract runs in a process of its own, the flow does not: GX, idle, would sit beside extract's
peak; it is imported when validation starts, which publishing outlasts). GX's memory goes back to
the system when the child ends. The child is given the parent's folders of table definitions and of
the GX project, so the same suites run as would in the parent's process.
"""

from __future__ import annotations

import time
from pathlib import Path

from flows.common import paths
from flows.orchestrate import isolate


class ValidationFailed(RuntimeError):
    """Blocking expectations failed (``report`` says which)."""

    def __init__(self, report):
        super().__init__(f"{len(report.blocking)} blocking expectation(s) failed")
        self.report = report


class Validation:
    """A started validation process, given the folder of the tables' Parquet files once they are
    written (:meth:`submit`), then waited for (:meth:`report`, :meth:`passed_report_files`). Use it as
    a context manager: the process goes when the block ends."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.child = isolate.Child()
        self.seconds: float | None = None  # validation's own time, in its process
        self.peak_rss_mb: float | None = None
        self._future = None
        self._report = None

    def preload(self) -> None:
        """Import GX in the child now, so that validation does not wait for it once submitted."""
        self.child.submit(_load_gx)

    def submit(self, tables_dir: Path) -> None:
        """Validate the ``<table>.parquet`` files of ``tables_dir``."""
        import schemas

        self._future = self.child.submit(_validate, str(tables_dir), str(self.workdir), str(paths.GX_DIR),
                                         str(schemas.TABLES_DIR), str(schemas.VIEWS_DIR))

    def report(self):
        """Wait for the :class:`flows.validate.validate.Report` (also written to ``workdir/validation.json``)."""
        if self._report is None:
            from flows.validate.validate import Report

            try:
                (answer, seconds), self.peak_rss_mb = isolate.result_of(self._future, "validation")
            except RuntimeError as e:
                raise RuntimeError(f"the validation process ended without a report: {e}") from e
            self.seconds = seconds
            self._report = Report.from_json(answer["report"], answer["docs_dir"])
        return self._report

    def passed_report_files(self) -> tuple[Path | None, Path]:
        """Wait for the report; when no blocking expectation failed, its Data Docs folder and its
        ``validation.json`` (what a release copies in), else raise :class:`ValidationFailed`."""
        report = self.report()
        if not report.passed:
            raise ValidationFailed(report)
        return (Path(report.docs_dir) if report.docs_dir else None), self.workdir / "validation.json"

    def close(self) -> None:
        self.child.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _load_gx() -> None:
    from flows.orchestrate import memory
    from flows.validate import gx_runtime

    gx_runtime.load_gx()
    memory.freeze_imports()  # GX's objects: each suite's garbage collection then skips them


def _validate(tables_dir: str, workdir: str, gx_dir: str, tables_defs: str, views_defs: str):
    import schemas
    from flows.common.parquet_tables import ParquetTables
    from flows.orchestrate import memory
    from flows.validate import validate

    schemas.TABLES_DIR, schemas.VIEWS_DIR, paths.GX_DIR = Path(tables_defs), Path(views_defs), Path(gx_dir)
    t0 = time.perf_counter()
    _load_gx()  # when not preloaded: GX frozen before the tables come, as after a preload
    tables = ParquetTables(Path(tables_dir))
    try:
        # what the last suite, the reading and the conversions freed goes back to the system
        report = validate.validate(tables, Path(workdir), between_suites=memory.release_memory)
    finally:
        tables.close()
    return {"report": report.to_json(), "docs_dir": report.docs_dir}, time.perf_counter() - t0
