"""The Prefect flow ``build-dataset``: raw/ -> validated, versioned release in output/.

Each task is a thin wrapper over a plain function of a stage module; the flow wires them together.
Validation failure ends the flow run Failed (nothing published, ``latest`` untouched) and keeps the
report under ``output/_failed/<run>/``.
"""

from __future__ import annotations

import contextlib
import functools
import time
from pathlib import Path

from flows.orchestrate import settings

settings.configure()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact, create_table_artifact  # noqa: E402
from prefect.states import Completed  # noqa: E402
from prefect.utilities.annotations import quote  # noqa: E402
from prefect.cache_policies import INPUTS, NO_CACHE, TASK_SOURCE  # noqa: E402

from flows.common import parquet_tables, workdirs
from flows.common.paths import OUTPUT_DIR, RAW_DIR  # noqa: E402
from flows.dedup import dedup
from flows.extract import extract
from flows.ingest import ingest
from flows.orchestrate import batches, build, database, extract_process, memory, progress, workspace
from flows.orchestrate.extract_process import BuiltTables  # noqa: E402
from flows.publish import publish
from flows.orchestrate.validation import Validation, ValidationFailed as ChecksFailed  # noqa: E402


class ValidationFailed(RuntimeError):
    """Blocking expectations failed; nothing was published."""


def _log(stage: str, started: float, **counts) -> None:
    detail = ", ".join(f"{k}={v}" for k, v in counts.items())
    get_run_logger().info("[%s] done in %.2fs: %s", stage, time.perf_counter() - started, detail)


def fingerprint(raw_dir: str, batch_size: int):
    """Every raw entry's content key, the manifest's rows and the plan of batches. A step of the flow,
    not a task: Prefect keeps a task's return value until the flow run ends, and this one holds a row
    per raw file, which the flow lets go once the documents stage has run."""
    t0 = time.perf_counter()
    files, manifest = batches.fingerprint(Path(raw_dir))
    plan = batches.plan(files, batch_size)
    _log("fingerprint", t0, files=len(files), batches=len(plan))
    return files, manifest, plan


# Per-document stages: one task run per batch of files, cached by content (see flows/orchestrate/batches.py):
# the key is the batch's workspace key (its files, manifest rows, code and rules) and the task's source
# (``earlier`` only says where some of its documents can be copied from: the result is the same).
@task(name="documents", cache_policy=(INPUTS - "raw_dir" - "earlier") + TASK_SOURCE, persist_result=True, retries=1)
def documents_task(raw_dir: str, workspace_dir: str, key: str, files: list, manifest: dict, versions: list,
                   earlier: dict | None = None) -> workspace.Batch:
    """Ingest, clean, scan and sketch one batch of raw files into the workspace (but the documents
    ``earlier`` batches made of the same files: copied); returns where."""
    root = Path(workspace_dir)
    made = batches.process(Path(raw_dir), files, manifest, workspace.earlier_documents(root, earlier or {}))
    return workspace.write_batch(root, key, made, {"files": files, "manifest": manifest, "versions": versions})


@task(name="gather", cache_policy=NO_CACHE)
def gather_task(done: list[workspace.Batch], run_dir: str) -> dict[str, str]:
    """The batches' tables, one file each, in document order (DuckDB)."""
    return {name: str(path) for name, path in workspace.gather(done, Path(run_dir)).items()}


@task(name="templates and accounting", cache_policy=NO_CACHE)
def post_clean_task(raw_dir: str, gathered: dict[str, str], run_dir: str):
    """The outlets' template lines, learned over the whole corpus, become boilerplate; documents left
    without content by cleaning go to rejections; the accounting must hold.
    ``gathered``: the paths of sources, paragraphs, info, rejections; returns the paths of the
    tables after it and of the raw inventory (every input and what became of it), and the counts."""
    t0 = time.perf_counter()
    f = {name: workspace.read_frame(Path(path)) for name, path in gathered.items()}
    sources, paragraphs, info, rejections, templates = build.post_clean(
        f.pop("sources"), f.pop("paragraphs"), f.pop("info"), f.pop("rejections"))
    ingest.check_accounting(Path(raw_dir), sources, rejections)
    inventory = ingest.raw_inventory(sources, rejections, Path(raw_dir))
    for r in rejections.to_dict("records"):
        get_run_logger().warning("rejected %s: %s (%s)", r["file"], r["reason"], r["detail"])
    warned = inventory[inventory["warnings"].notna()]
    for name, warnings in zip(warned["file"], warned["warnings"]):  # kept, with what was refused or replaced
        get_run_logger().warning("warning %s: %s", name, warnings)
    reasons = rejections["reason"].value_counts().to_dict()
    _log("accounting", t0, template_lines=templates, inputs=len(inventory), documents=len(sources), rejected=len(rejections),
         not_in_manifest=int((~inventory["in_manifest"]).sum()), with_warnings=len(warned),
         **{str(k): int(v) for k, v in reasons.items()})
    create_markdown_artifact(key="ingest-summary", markdown=ingest.summary_markdown(rejections, inventory),
                             description="Raw inputs: documents, rejections with reasons, files not in the manifest")
    counts = {"documents": len(sources), "quarantined": len(rejections)}
    out = Path(run_dir) / "accounting"
    written = {name: str(workspace.write_frame(df, out / f"{name}.parquet")) for name, df in
               (("sources", sources), ("paragraphs", paragraphs), ("info", info), ("rejections", rejections))}
    return written, str(workspace.write_frame(inventory, out / "inventory.parquet")), counts


# the release's tables that dedup writes itself (final once it has run); extract writes the others
WRITTEN_BY_DEDUP = ("paragraphs",)


@task(name="dedup", cache_policy=NO_CACHE)
def dedup_task(paragraphs: str, band_keys: list[str], run_dir: str, tables_dir: str) -> str:
    """Dedup over the paragraphs' file, with the batches' band keys (no corpus-wide sketching), the
    text read from the file only where compared. The deduplicated paragraphs are the release's
    paragraphs table: written to ``tables_dir`` now (the database can start on it while extract
    runs); returns the path of their frame for extract."""
    t0 = time.perf_counter()
    source = Path(paragraphs)
    known = workspace.read_band_keys([Path(p) for p in band_keys])
    columns = [c for c in workspace.frame_columns(source) if c != "text"]
    out = dedup.dedup(workspace.read_frame(source, columns=columns), known_keys=known, keys_handed_over=True,
                      text=parquet_tables.FileColumn(source, "text"))
    del known
    frame = workspace.write_frame_with(out, Path(run_dir) / "dedup" / "paragraphs.parquet", source, ["text"])
    _log("dedup", t0, duplicates=int((out["status"] == "duplicate").sum()), clusters=int(out["cluster_id"].nunique()))
    del out
    (name,) = WRITTEN_BY_DEDUP
    parquet_tables.write_sorted(name, frame, Path(tables_dir), Path(run_dir) / "duckdb-tmp")
    return str(frame)


@task(name="extract", cache_policy=NO_CACHE)
def extract_task(inputs: dict[str, str], scans: list[str], folder: str,
                 extraction: extract_process.Extraction | None = None, once_resolved=None) -> BuiltTables:
    """``inputs``: the paths of sources, paragraphs, info, rejections; ``scans``: the batches' scan
    files. Builds every table and writes it (but the paragraphs, which dedup wrote) to
    ``folder/<table>.parquet`` (the release's files, in row
    order: from here on the tables are read from their files, one at a time: validation, CSV, diff,
    dictionary); for a large corpus in ``extraction``'s processes
    (:mod:`flows.orchestrate.extract_process`). ``once_resolved``: called once the entities are resolved."""
    t0 = time.perf_counter()
    if extraction is not None:
        built = extraction.run(inputs, Path(folder), WRITTEN_BY_DEDUP, once_resolved)
    else:
        built = extract_process.extract_and_write(inputs, scans, Path(folder), own_process=False,
                                                  written=WRITTEN_BY_DEDUP, once_resolved=once_resolved)
    _log("extract", t0, own_process=extraction is not None, **built.rows)
    return built


def pq_rows(path: str) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


@task(name="validate and publish", cache_policy=NO_CACHE)
def publish_task(built: BuiltTables, output_dir: str, validation, inventory: str,
                 version: str | None, build_key: str | None = None, db: database.Database | None = None):
    """Validate and publish at once: the tables' Parquet files (written by the extract stage) are
    validated by ``validation`` (a started ``flows.orchestrate.validation.Validation``: a process of its
    own) while the rest of the release is written from them; for a large corpus the SQLite database
    is made from them in a third process, ``db`` (:mod:`flows.orchestrate.database`). The
    release is committed only if no blocking expectation failed (else ``ValidationFailed``, with the
    report). ``inventory``: the raw inventory's file (from accounting). Returns the release;
    ``validation`` holds the report, and validation's own seconds and peak RSS (MB)."""
    t0 = time.perf_counter()
    tables = parquet_tables.ParquetTables(Path(built.folder))
    release = publish.publish(tables, Path(output_dir), None, None, workspace.read_frame(Path(inventory)),
                              version=version, build_key=build_key, validation=validation,
                              database=db.built if db else None)
    report = validation.report()
    _log("validate", t0, passed=report.passed, blocking=len(report.blocking), warnings=len(report.warnings),
         seconds=round(validation.seconds, 2), process_peak_rss_mb=round(validation.peak_rss_mb))
    if db is not None and db.peak_rss_mb is not None:
        _log("database", t0, own_process=True, process_peak_rss_mb=round(db.peak_rss_mb))
    changed = {t: f"+{c['added']}/-{c['removed']}/~{c['changed']}"
               for t, c in (release.changes or {}).get("tables", {}).items()}
    _log("publish", t0, version=release.version, published=release.published, **changed)
    return release


def default_workers() -> int:
    """Worker processes of the per-document stages by default: one per CPU core."""
    import os

    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def task_runner(runner: str = "local", dask_address: str | None = None, workers: int | None = None,
                n_batches: int = 2):
    """The task runner of the per-document stages.

    ``local``: Prefect's ``ProcessPoolTaskRunner`` with ``workers`` processes (default: one per core):
    the stages are CPU-bound Python, so threads would run one at a time under the GIL. With a single
    batch, or ``workers=1``, no process is started (a thread of this process runs the batch: a worker
    process would first have to import the pipeline). ``dask``: prefect-dask's ``DaskTaskRunner``, on a
    LocalCluster of ``workers`` processes or the existing cluster at ``dask_address``.
    """
    workers = workers or default_workers()
    if runner == "local":
        if workers > 1 and n_batches > 1:
            from prefect.task_runners import ProcessPoolTaskRunner

            return ProcessPoolTaskRunner(max_workers=min(workers, n_batches))
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=1)
    if runner == "dask":
        from prefect_dask import DaskTaskRunner

        if dask_address:  # its workers need this package installed and PREFECT_API_URL set
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None,
                                              "env": _worker_env()})
    raise ValueError(f"unknown runner {runner!r}: use 'local' or 'dask'")


def per_document_stages(runner, inputs: list[dict], cache_dir: str | None = None, refresh_cache: bool = False):
    """Per-document stages (ingest, clean, scan, sketch) over batches on ``runner`` (an entered task
    runner); ``inputs``: the documents task's parameters per batch (:func:`batch_inputs`).

    Returns the batches (:class:`flows.orchestrate.workspace.Batch`, in plan order), the seconds of each
    stage summed over the batches computed in this run (not those reused), and the batches reused.
    A batch whose cached result names files the workspace no longer holds is made again.
    """
    rep = progress.reporter()
    documents_t = _documents_task(cache_dir, refresh_cache)
    n_files = sum(len(p["files"]) for p in inputs)
    t0 = time.perf_counter()
    rep.stage_start("documents", total=n_files, unit="files")
    # the largest batches first, so that the workers run out of work together (content-defined
    # batches differ in size up to fourfold); the results keep the plan's order
    order = sorted(range(len(inputs)), key=lambda i: -len(inputs[i]["files"]))
    futures = {i: runner.submit(documents_t, _quoted(inputs[i], runner)) for i in order}
    done: list = [None] * len(inputs)
    reused = [False] * len(inputs)
    for i, fut in futures.items():
        batch = fut.result()
        reused[i] = _was_cached(fut)
        if not batch.complete():  # the cache outlived the workspace's files
            batch, reused[i] = _documents_task(cache_dir, True)(**inputs[i]), False
        done[i] = batch
        rep.advance("documents", len(inputs[i]["files"]))
    rep.stage_end("documents", time.perf_counter() - t0, {})
    seconds = {stage: sum(b.seconds.get(stage, 0.0) for b, hit in zip(done, reused) if not hit)
               for stage in ("ingest", "clean", "scan", "sketch")}
    cached = {"documents": sum(reused)}
    copied = sum(b.reused for b, hit in zip(done, reused) if not hit)
    get_run_logger().info("[documents] %d batches, %d reused from cache; computed (%d documents copied from "
                          "earlier batches): ingest %.2fs, clean %.2fs, scan %.2fs, sketch %.2fs", len(inputs),
                          cached["documents"], copied, seconds["ingest"], seconds["clean"], seconds["scan"],
                          seconds["sketch"])
    return done, seconds, cached


def _quoted(params: dict, runner) -> dict:
    """The documents task's parameters with its file lists and manifest rows in Prefect's ``quote``:
    they hold no futures, and Prefect would otherwise walk their thousands of entries looking for
    some, twice a task. The task gets them unwrapped, and its cache key is computed from them as
    before. Not on Dask, which rebuilds the tuples it carries (a ``quote`` is one) into plain ones."""
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

    if not isinstance(runner, (ProcessPoolTaskRunner, ThreadPoolTaskRunner)):
        return params
    return {name: quote(value) if name in ("files", "manifest", "earlier") else value
            for name, value in params.items()}


def _documents_task(cache_dir: str | None, refresh_cache: bool):
    opts = {"refresh_cache": refresh_cache} | ({"result_storage": Path(cache_dir)} if cache_dir else {})
    return documents_task.with_options(**opts)


def workspace_dir(cache_dir: str | None) -> Path:
    """The per-document batches' files: beside the task cache (``cache_dir``, default PREFECT_HOME),
    so that clearing one clears both."""
    if cache_dir:
        return Path(cache_dir) / "workspace"
    from prefect.settings import get_current_settings

    return Path(get_current_settings().home) / "workspace"


def batch_inputs(raw_dir: str, plan: list, manifest: dict, workspace_root: Path,
                 reuse_documents: bool = True) -> list[dict]:
    """The parameters of the documents task for each batch of ``plan`` (a plan without files has one
    empty batch: the manifest's rows, if any, are still accounted for, as missing files); a batch
    the workspace does not hold is told which of its documents earlier batches made (unless not
    ``reuse_documents``)."""
    versions = [batches.code_version(), batches.lexicon_version()]
    made = None
    out = []
    for i, b in enumerate(plan or [[]]):
        rows = batches.batch_manifest(b, manifest, first=i == 0)
        key = workspace.batch_key(b, rows, *versions)
        earlier = None
        if reuse_documents and not workspace.holds(workspace_root, key):
            made = workspace.documents_made(workspace_root, versions) if made is None else made
            earlier = workspace.reusable(made, b, rows) or None
        out.append({"raw_dir": raw_dir, "workspace_dir": str(workspace_root), "files": b, "manifest": rows,
                    "key": key, "versions": versions, "earlier": earlier})
    return out


def _was_cached(fut) -> bool:
    try:
        return fut.state.name == "Cached"
    except Exception:  # state not retrievable (e.g. an external cluster without API access)
        return False


@contextlib.contextmanager
def _workers_report_here(runner: str):
    """Worker processes of the local pool report to this run's API, also when it is the temporary
    embedded server (otherwise every worker process would start a temporary server of its own):
    the pool passes the current settings to its processes."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if runner != "local" or PREFECT_API_URL.value():
        yield
        return
    with temporary_settings(updates={PREFECT_API_URL: _worker_env()["PREFECT_API_URL"]}):
        yield


def _worker_env() -> dict:
    """Environment of LocalCluster workers: the API of this run, also when it is the embedded default
    (otherwise every worker process would start a temporary server of its own)."""
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return {"PREFECT_API_URL": str(client.api_url).rstrip("/")}


@flow(name="build-dataset", log_prints=True)
def build_dataset(raw_dir: str = str(RAW_DIR), output_dir: str = str(OUTPUT_DIR), version: str | None = None,
                  runner: str = "local", dask_address: str | None = None, workers: int | None = None,
                  batch_size: int = batches.DEFAULT_BATCH_SIZE, cache_dir: str | None = None,
                  refresh_cache: bool = False):
    """Build the dataset from ``raw_dir`` and publish a release into ``output_dir``.

    ``runner``: ``local`` (a pool of ``workers`` processes, default one per core) or ``dask`` (a
    LocalCluster of ``workers`` processes, or the existing cluster at ``dask_address``) for the
    per-document stages, which run on batches of about ``batch_size`` files and are cached by content
    in ``cache_dir`` (default: Prefect's local result storage under PREFECT_HOME); ``refresh_cache``
    recomputes them. When the raw files,
    the code and the rules are those the latest release was built from, nothing is rebuilt (unless
    ``version`` or ``refresh_cache`` is given).
    """
    logger = get_run_logger()
    rep = progress.reporter()
    summary = progress.BuildSummary(runner=runner, started_at=time.time())
    flow_t0 = time.perf_counter()

    def stage(name, fn, *args, counts=None):
        t0 = time.perf_counter()
        summary.starts[name] = t0 - flow_t0
        rep.stage_start(name)
        out = fn(*args)
        summary.seconds[name] = time.perf_counter() - t0
        summary.peak_rss_mb[name] = round(memory.peak_rss_mb())
        memory.release_memory()
        summary.rss_mb[name] = round(memory.rss_mb())
        rep.stage_end(name, summary.seconds[name], counts(out) if counts else {})
        return out

    files, manifest, plan = stage("fingerprint", fingerprint, raw_dir, batch_size)
    build_key = batches.build_key(files, manifest)
    unchanged = None if (version or refresh_cache) else publish.unchanged_build(Path(output_dir), build_key)
    if unchanged is not None:  # same raw files, code and rules as the latest release: nothing to rebuild
        summary.seconds["flow (total)"] = time.perf_counter() - flow_t0
        summary.files_in, summary.batches, summary.skipped = len(files), len(plan), True
        summary.version, summary.published = unchanged.version, False
        _summary_artifact(summary)
        rep.summary(summary)
        logger.info("%s (report: %s)", unchanged.message, unchanged.report_path)
        return Completed(message=unchanged.message, data=unchanged)  # the run's state says what happened
    # the build's folder (validation's results and Data Docs, the cross-document stages' files); the
    # validation process starts now and waits for the Parquet files of publish (folders of builds
    # killed before they could remove them are removed first: flows/common/workdirs.py)
    with workdirs.WorkDir("build-dataset-") as workdir, \
            Validation(Path(workdir)) as validation, contextlib.ExitStack() as later:
        t0 = time.perf_counter()
        workers = workers or default_workers()
        root = workspace_dir(cache_dir)
        inputs = batch_inputs(raw_dir, plan, manifest, root, reuse_documents=not refresh_cache)  # per batch
        if runner == "local":  # processes only for the batches to compute (not for those in the workspace)
            todo = len(inputs) if refresh_cache else sum(
                not workspace.holds(root, p["key"]) for p in inputs)
            summary.workers = min(workers, todo) if todo > 1 else 1
        else:
            todo = len(inputs)
            summary.workers = None if dask_address else workers
        with _workers_report_here(runner), task_runner(runner, dask_address, workers, todo) as tr:
            if runner == "dask":  # start the workers and import the pipeline there: orchestration startup
                tr.client.wait_for_workers(1)
                tr.client.run(warm_up)
            startup = time.perf_counter() - t0
            done, seconds, cached = per_document_stages(tr, inputs, cache_dir, refresh_cache)
        summary.seconds["runner startup"] = startup
        summary.seconds.update(seconds)
        summary.seconds["documents (total)"] = time.perf_counter() - t0 - startup
        summary.starts["runner startup"] = t0 - flow_t0
        summary.starts["documents (total)"] = t0 + startup - flow_t0
        summary.peak_rss_mb["documents"] = round(memory.peak_rss_mb())
        summary.rss_mb["documents"] = round(memory.rss_mb())
        summary.batches, summary.batches_cached = len(plan), cached
        _log("documents", t0, files=len(files), batches=len(plan), **{f"cached_{k}": v for k, v in cached.items()})
        n_files, batch_keys = len(files), [p["key"] for p in inputs]
        del files, manifest, plan, inputs  # a row per raw file: not held beside extract and validation
        gathered = stage("gather", gather_task, done, workdir)
        scans, tables_dir = [str(b.path("scans")) for b in done], Path(workdir) / "tables"
        n_paragraphs = pq_rows(gathered["paragraphs"])
        # a large build's database is made in a process of its own, a table at a time as their files
        # are written (the paragraphs by dedup, while extract runs; the rest during publishing)
        db = later.enter_context(database.Database(tables_dir, Path(workdir))) if database.apart(n_paragraphs) else None
        own_process = extract_process.in_own_process(n_paragraphs)
        if not own_process:  # GX's imports overlap the build; beside a large extract's peak they would add to it
            validation.preload()
        accounted, inventory, counts = stage("accounting", post_clean_task, raw_dir, gathered, workdir)
        summary.files_in, summary.documents, summary.quarantined = (
            n_files, counts["documents"], counts["quarantined"])
        paragraphs = stage("dedup", dedup_task, accounted["paragraphs"],
                           [str(b.path("band_keys")) for b in done], workdir, str(tables_dir))
        # the database's process adds the paragraphs beside extract's later steps (beside entity
        # resolution's records it would add to the tree's peak), then ends
        add_paragraphs = None if db is None else functools.partial(db.add, list(WRITTEN_BY_DEDUP), rest_later=True)
        # a large corpus's extract processes start once dedup is done: beside its peak, theirs would add to it
        with (extract_process.Extraction(scans) if own_process else contextlib.nullcontext()) as extraction:
            built = stage("extract", extract_task, {**accounted, "paragraphs": paragraphs}, scans,
                          str(tables_dir), extraction, add_paragraphs)
        # the stage's time in two: writing the tables, and the rest (extract; and the start of its
        # process, if it had one)
        summary.seconds["write tables"] = built.seconds["write tables"]
        summary.seconds["extract"] -= built.seconds["write tables"]
        if built.peak_rss_mb is not None:
            summary.peak_rss_mb["extract (its process)"] = round(built.peak_rss_mb)
        summary.paragraphs, summary.rows, summary.words = built.paragraphs, built.rows, built.words
        try:
            release = stage(
                "publish", publish_task, built, output_dir, validation, inventory, version, build_key, db)
        except ChecksFailed as failed:
            from prefect.runtime import flow_run

            report = failed.report
            run_name = f"{time.strftime('%Y%m%dT%H%M%S')}-{flow_run.get_name() or 'run'}"
            kept = publish.keep_failed_report(Path(output_dir), run_name,
                                              Path(report.docs_dir) if report.docs_dir else None,
                                              Path(workdir) / "validation.json")
            _artifact(report, kept / "validation" / "index.html", "FAILED: nothing published")
            raise ValidationFailed(
                f"validation failed: {len(report.blocking)} blocking expectation(s) failed; nothing published, "
                f"latest unchanged. Report: {kept / 'validation' / 'index.html'}\n" + report.summary_text()) from None
        workspace.prune(root, keep=batch_keys)
        report = validation.report()
        summary.seconds["validate"] = validation.seconds  # in its own process, during publish
        summary.peak_rss_mb["validate (its process)"] = round(validation.peak_rss_mb)
        _artifact(report, release.report_path, release.message)
        summary.seconds["flow (total)"] = time.perf_counter() - flow_t0
        summary.version, summary.published = release.version, release.published
        _summary_artifact(summary)
        for item, value in summary.lines():
            logger.info("summary: %s: %s", item, value)
        rep.summary(summary)
        logger.info("%s: %s (report: %s)", release.message, release.path, release.report_path)
        return Completed(message=release.message, data=release)  # the run's state says what happened


def _summary_artifact(summary: progress.BuildSummary) -> None:
    """The build summary as a table artifact (``build-summary``): what, and how much."""
    create_table_artifact(key="build-summary", table=[{"item": k, "value": v} for k, v in summary.lines()],
                          description="Counts and time per stage of this build")


def warm_up() -> bool:
    """Run once on each Dask worker before the batches: importing this module there imports the
    pipeline (counted as startup, not as the first batch's time)."""
    return True


def _artifact(report, link: Path | None, headline: str) -> None:
    create_markdown_artifact(
        key="validation-summary",
        markdown=f"## Validation: {headline}\n\n" + report.summary_markdown(str(link) if link else None),
        description="Great Expectations result per table for this build",
    )
