"""The Prefect flow ``build-dataset``: raw/ -> validated, versioned release in output/.

Each task is a thin wrapper over a plain function of a stage module; the flow wires them together.
Validation failure ends the flow run Failed (nothing published, ``latest`` untouched) and keeps the
report under ``output/_failed/<run>/``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from flows import settings

settings.configure()

import pandas as pd  # noqa: E402
from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from flows import clean, dedup, extract, ingest, publish, records, validate  # noqa: E402
from flows.paths import OUTPUT_DIR, RAW_DIR  # noqa: E402


class ValidationFailed(RuntimeError):
    """Blocking expectations failed; nothing was published."""


def _log(stage: str, started: float, **counts) -> None:
    detail = ", ".join(f"{k}={v}" for k, v in counts.items())
    get_run_logger().info("[%s] done in %.2fs: %s", stage, time.perf_counter() - started, detail)


@task(name="ingest", cache_policy=NO_CACHE)
def ingest_task(raw_dir: str):
    t0 = time.perf_counter()
    sources, rejections = ingest.ingest(Path(raw_dir))
    inventory = ingest.raw_inventory(sources, rejections, Path(raw_dir))
    _log("ingest", t0, files=len(inventory), documents=len(sources), rejected=len(rejections))
    return sources, rejections, inventory


@task(name="clean", cache_policy=NO_CACHE)
def clean_task(sources: pd.DataFrame):
    t0 = time.perf_counter()
    paragraphs, info = clean.clean(sources)
    _log("clean", t0, paragraphs=len(paragraphs),
         boilerplate=int((paragraphs["status"] == "boilerplate").sum()))
    return paragraphs, info


@task(name="dedup", cache_policy=NO_CACHE)
def dedup_task(paragraphs: pd.DataFrame):
    t0 = time.perf_counter()
    out = dedup.mark_exact_repeats(paragraphs)
    _log("dedup", t0, duplicates=int((out["status"] == "duplicate").sum()))
    return out


@task(name="extract", cache_policy=NO_CACHE)
def extract_task(sources: pd.DataFrame, paragraphs: pd.DataFrame, info: pd.DataFrame, rejections: pd.DataFrame):
    t0 = time.perf_counter()
    tables = {
        "documents": extract.build_documents(sources, paragraphs, info),
        "paragraphs": paragraphs,
        "rejections": extract.build_rejections(rejections),
    }
    # issue #4 records (quotes, facts, statements). MERGE: pass the real entities table (entities=None
    # resolves no speaker) and documents with event_id (without it, statements is empty by design).
    tables.update(records.build_paragraph_records(paragraphs, tables["documents"], entities=tables.get("entities")))
    _log("extract", t0, **{name: len(df) for name, df in tables.items()})
    return tables


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(tables: dict, workdir: str):
    t0 = time.perf_counter()
    report = validate.validate(tables, Path(workdir))
    _log("validate", t0, passed=report.passed, blocking=len(report.blocking), warnings=len(report.warnings))
    return report


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(tables: dict, output_dir: str, report, workdir: str, inventory: pd.DataFrame,
                 version: str | None):
    t0 = time.perf_counter()
    release = publish.publish(tables, Path(output_dir), Path(report.docs_dir) if report.docs_dir else None,
                              Path(workdir) / "validation.json", inventory, version=version)
    _log("publish", t0, version=release.version, published=release.published)
    return release


@flow(name="build-dataset", log_prints=True)
def build_dataset(raw_dir: str = str(RAW_DIR), output_dir: str = str(OUTPUT_DIR), version: str | None = None):
    """Build the dataset from ``raw_dir`` and publish a release into ``output_dir``."""
    logger = get_run_logger()
    sources, rejections, inventory = ingest_task(raw_dir)
    paragraphs, info = clean_task(sources)
    paragraphs = dedup_task(paragraphs)
    tables = extract_task(sources, paragraphs, info, rejections)
    with tempfile.TemporaryDirectory(prefix="build-dataset-") as workdir:
        report = validate_task(tables, workdir)
        if not report.passed:
            from prefect.runtime import flow_run

            run_name = f"{time.strftime('%Y%m%dT%H%M%S')}-{flow_run.get_name() or 'run'}"
            kept = publish.keep_failed_report(Path(output_dir), run_name,
                                              Path(report.docs_dir) if report.docs_dir else None,
                                              Path(workdir) / "validation.json")
            _artifact(report, kept / "validation" / "index.html", "FAILED: nothing published")
            raise ValidationFailed(
                f"validation failed: {len(report.blocking)} blocking expectation(s) failed; nothing published, "
                f"latest unchanged. Report: {kept / 'validation' / 'index.html'}\n" + report.summary_markdown())
        release = publish_task(tables, output_dir, report, workdir, inventory, version)
    _artifact(report, release.report_path, release.message)
    logger.info("%s: %s (report: %s)", release.message, release.path, release.report_path)
    return release


def _artifact(report, link: Path | None, headline: str) -> None:
    create_markdown_artifact(
        key="validation-summary",
        markdown=f"## Validation: {headline}\n\n" + report.summary_markdown(str(link) if link else None),
        description="Great Expectations result per table for this build",
    )
