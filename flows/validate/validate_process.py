"""Validation in a process of its own, beside publishing.

Publishing writes the release's Parquet files first; this process then validates the tables read
back from those files (:func:`flows.validate.validate.validate`; each suite's columns are read as it runs:
:mod:`flows.common.parquet_tables`) while the flow's process writes the CSV files, the fingerprint, the
diff and the rest of the release. Validation (GX) and publishing (pandas, pyarrow) each keep one
core busy, at the same time, instead of one after the other; and what is validated is exactly what
the release holds. Nothing is committed before the report says the build passed
(:func:`flows.publish.publish.publish`). GX's memory (it copies the frames it checks) goes back to the
system when the process ends.

The two processes talk in lines of JSON. The child (``python -m flows.validate.validate_process``) imports
GX, then reads one request, ``{"tables_dir": ..., "workdir": ..., "schemas": ..., "gx_dir": ...}``,
from stdin (the folders of the table definitions and of the GX project are the parent's: the same
suites run as would in the parent's process); it answers
``{"loaded": ...}`` once it has opened the tables' files (the parent may move them from then on), then
``{"report": ..., "docs_dir": ..., "seconds": ..., "peak_rss_mb": ...}``, or ``{"error": ...}``
with the traceback. Everything else it prints goes to stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from flows.common import paths


class ValidationFailed(RuntimeError):
    """Blocking expectations failed (``report`` says which)."""

    def __init__(self, report):
        super().__init__(f"{len(report.blocking)} blocking expectation(s) failed")
        self.report = report


class Validation:
    """A validation process: started (its imports overlap the parent's work), given the folder of
    the tables' Parquet files once they are written (:meth:`submit`), then waited for
    (:meth:`loaded`, :meth:`report`, :meth:`passed_report_files`). Use it as a context manager: the process is killed on leaving
    it if it has not finished."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(paths.ROOT), env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen([sys.executable, "-m", "flows.validate.validate_process"], cwd=str(paths.ROOT),
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.seconds: float | None = None  # validation's own time, in its process
        self.peak_rss_mb: float | None = None
        self._loaded = False
        self._report = None

    def submit(self, tables_dir: Path) -> None:
        """Validate the ``<table>.parquet`` files of ``tables_dir``."""
        import schemas

        request = {"tables_dir": str(tables_dir), "workdir": str(self.workdir), "gx_dir": str(paths.GX_DIR),
                   "schemas": {"TABLES_DIR": str(schemas.TABLES_DIR), "VIEWS_DIR": str(schemas.VIEWS_DIR)}}
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except OSError:  # the process is gone: waiting for its answer says so
            pass

    def _answer(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            raise RuntimeError(f"the validation process ended without a report (exit code {code}; its "
                               f"messages are on stderr)")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"validation failed to run:\n{answer['error']}")
        return answer

    def loaded(self) -> None:
        """Wait until the process has opened the tables' files (they may then be moved)."""
        if not self._loaded:
            self._answer()
            self._loaded = True

    def report(self):
        """Wait for the :class:`flows.validate.validate.Report` (also written to ``workdir/validation.json``)."""
        if self._report is None:
            from flows.validate.validate import Report

            self.loaded()
            answer = self._answer()
            self.seconds, self.peak_rss_mb = answer["seconds"], answer["peak_rss_mb"]
            self._report = Report.from_json(answer["report"], answer["docs_dir"])
            self.proc.wait()
        return self._report

    def passed_report_files(self) -> tuple[Path | None, Path]:
        """Wait for the report; when no blocking expectation failed, its Data Docs folder and its
        ``validation.json`` (what a release copies in), else raise :class:`ValidationFailed`."""
        report = self.report()
        if not report.passed:
            raise ValidationFailed(report)
        return (Path(report.docs_dir) if report.docs_dir else None), self.workdir / "validation.json"

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main() -> int:
    import traceback

    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")  # the protocol's channel
    os.dup2(2, 1)  # anything printed goes to stderr
    sys.stdout = sys.stderr

    def say(**answer):
        answers.write(json.dumps(answer, default=str) + "\n")
        answers.flush()

    try:
        from flows.orchestrate import memory
        from flows.validate import gx_runtime, validate

        gx_runtime.load_gx()  # while the parent writes the Parquet files
        memory.freeze_imports()  # GX's objects: each suite's garbage collection then skips them
        line = sys.stdin.readline()
        if not line:
            return 0  # the parent went away before asking
        request = json.loads(line)
        import schemas

        for name, folder in request["schemas"].items():
            setattr(schemas, name, Path(folder))
        paths.GX_DIR = Path(request["gx_dir"])
        t0 = time.perf_counter()
        from flows.common.parquet_tables import ParquetTables

        tables = ParquetTables(Path(request["tables_dir"]))  # the files are open: they may move now
        say(loaded=True)
        report = validate.validate(tables, Path(request["workdir"]))
        tables.close()
        say(report=report.to_json(), docs_dir=report.docs_dir, seconds=time.perf_counter() - t0,
            peak_rss_mb=memory.peak_rss_mb())
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises
        say(error=traceback.format_exc())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
