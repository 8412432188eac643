"""Publish: write a validated build as an immutable, versioned release.

Layout of the output folder::

    output/
      1.0.0/                 one folder per release, never rewritten (read-only files)
        <table>.parquet      Parquet (zstd), schema + column descriptions from schemas/ as metadata
        <table>.csv          UTF-8, RFC 4180, header row, lists "|"-joined, formula-like cells neutralised
        datapackage.json     Frictionless data package: one resource per file, Table Schema, bytes, sha256
        README.md            data dictionary (every table and column: description, type, example value)
        dictionary.html      the same dictionary as a web page
        us-iraq-jscd.db      every table in one SQLite database (keys, full-text search), for datasette
        metadata.json        its datasette metadata: titles, descriptions, licence, source
        CHANGES.md           what changed against the previous release (changes.json: the same, in full)
        changes.html         CHANGES.md as a web page
        preview/<table>.html a table's first rows and column descriptions
        CITATION.cff         how to cite the release (Citation File Format)
        <dataset>-<version>.zip   every data file in one download (flows.publish.bundle)
        validation/          the Great Expectations Data Docs of the run (index.html) + validation.json
        raw_manifest.csv     every raw input file with its sha256 and what became of it
        release.json         version, creation time, content fingerprint, row counts, schema signature
      latest -> 1.0.0        symlink to the newest valid release (moved by an atomic rename)
      catalog.json           every release: date, row counts, validation status, download links
      index.html             the landing page: the dataset, coverage, citation, downloads, every release
      CITATION.cff           how to cite the latest release
      _failed/<run>/         reports of runs whose validation failed (nothing else is published)
      .lock                  held (flock) by the build that is publishing

Versions follow SemVer as Frictionless suggests; the part to bump comes from the diff against the
previous release (:mod:`flows.publish.changes`). A build whose tables are identical to the newest release's
publishes nothing.

Atomicity: everything is written into a hidden staging folder, made read-only, fsynced and renamed
into place in one ``rename``; ``latest`` is a fresh symlink renamed over the old one. A process killed
at any moment leaves either no new release or a complete one, and ``latest`` on a complete release.
The next run removes stale staging folders (it holds the lock, so no other build is writing them);
a next run that has nothing to rebuild (:func:`unchanged_build`) still does that, points ``latest`` at
the newest release and rewrites a stale catalog (:func:`repair`), so a build killed between renaming
its release into place and moving ``latest`` leaves nothing stale behind for long.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import schemas
from flows.common.parquet_tables import ParquetTables, row_count, sort_table, write_parquet, write_tables
from flows.publish import release_pages, sqlite_db
from flows.publish.csv_files import frame_csv_bytes, write_csv
from flows.publish.datapackage import datapackage, raw_manifest_snapshot
from flows.publish.releases import (
    FAILED,
    LATEST,
    STAGING_PREFIX,
    PublishLocked,
    _fsync_path,
    _fsync_tree,
    _make_writable,
    _now,
    check_new_version,
    checkpoint,
    latest_release,
    make_read_only,
    next_version,
    point_latest,
    publish_lock,
    releases,
    remove_stale,
    schema_signature,
)

# --- the release -------------------------------------------------------------------------------------

@dataclass
class Release:
    version: str | None
    path: Path | None
    report_path: Path | None
    published: bool
    message: str
    changes: dict | None = field(default=None, repr=False)  # flows.publish.changes.summary: counts per table


def _validation_summary(validation_json: Path | None) -> dict | None:
    if not validation_json or not Path(validation_json).exists():
        return None
    report = json.loads(Path(validation_json).read_text(encoding="utf-8"))
    failures = report.get("failures", [])
    return {"passed": bool(report.get("passed")),
            "blocking": sum(1 for f in failures if f.get("blocking")),
            "warnings": sum(1 for f in failures if not f.get("blocking"))}


def write_release(tables: dict[str, pd.DataFrame], target: Path, version: str, fingerprint_: str,
                  docs_dir: Path | None, validation_json: Path | None, raw_files: pd.DataFrame,
                  changes_summary: dict | None = None, csv_files: dict[str, Path] | None = None,
                  build_key: str | None = None, parquet_files: dict[str, Path] | None = None,
                  validated=None, database=None) -> None:
    """Write every file of a release into ``target`` (a staging folder; the diff's files,
    :func:`flows.publish.changes.write`, may be there already: ``changes_summary`` is their summary,
    for ``release.json``). ``csv_files``,
    ``parquet_files``: the tables' files when already written (for the fingerprint, for validation):
    moved into ``target``. ``validated``: called once the data files and their descriptions are
    written, before the report is copied in; it waits for a validation running beside publishing and
    returns its ``(docs_dir, validation_json)``, or raises when a blocking expectation failed.
    ``database``: called once the rest of the data files are written; it waits for the SQLite
    database made beside publishing from the same Parquet files
    (:func:`flows.publish.sqlite_db.build_database`) and returns its path (the file is moved in);
    without it the database is made here."""
    from flows.publish import dictionary

    target.mkdir(parents=True, exist_ok=True)
    created = _now()
    counts = {}
    for name in schemas.tables():
        df = None if parquet_files and csv_files else sort_table(name, tables[name])  # written sorted
        if parquet_files:  # linked, not moved: validation may still be reading them
            _link_or_copy(parquet_files[name], target / f"{name}.parquet")
        else:
            write_parquet(name, df, target / f"{name}.parquet")
        if csv_files:
            shutil.move(csv_files[name], target / f"{name}.csv")
        else:
            write_csv(name, df, target / f"{name}.csv")
        counts[name] = row_count(tables, name)
        del df
    checkpoint("tables_written")
    if database is None:
        _database(target, lambda: sqlite_db.build_database(target, target / sqlite_db.DATABASE_FILE), validated)
    sqlite_db.write_metadata(target, version, created)
    snapshot = raw_manifest_snapshot(raw_files)
    (target / "raw_manifest.csv").write_bytes(frame_csv_bytes(snapshot))
    described = dictionary.entries(tables)  # (files: a column's row groups until an example shows)
    report = docs_dir is not None or validated is not None  # the pages link to the report it will hold
    (target / "README.md").write_text(dictionary.markdown(tables, version, created, described), encoding="utf-8")
    (target / "dictionary.html").write_text(dictionary.html(tables, version, created, described, report),
                                            encoding="utf-8")
    release_pages.write(target, version, created, report)  # previews, changes page, citation, zip
    if database is not None:  # made beside publishing: waited for as late as the release allows
        _database(target, database, validated)
    package = datapackage(version, created, target, snapshot)
    package["resources"].append(sqlite_db.resource(target))
    with open(target / "datapackage.json", "w", encoding="utf-8") as out:  # written as encoded: a source a raw file
        json.dump(package, out, indent=2)
    if validated is not None:
        docs_dir, validation_json = validated()
    if docs_dir:
        shutil.copytree(docs_dir, target / "validation")
    if validation_json:
        (target / "validation").mkdir(exist_ok=True)
        shutil.copy2(validation_json, target / "validation" / "validation.json")
    (target / "release.json").write_text(json.dumps({
        "version": version, "created": created, "fingerprint": fingerprint_, "build_key": build_key,
        "row_counts": counts,
        "schema": schema_signature(),
        "primary_keys": {name: list(t.primary_key) for name, t in schemas.tables().items()},
        "validation": _validation_summary(validation_json),
        "changes": changes_summary,
    }, indent=1), encoding="utf-8")
    checkpoint("release_written")


def _database(target: Path, made, validated) -> None:
    """The release's SQLite database: ``made()`` makes it, or waits for it and returns its path."""
    try:  # made while validation runs beside publishing: it may yet refuse these tables
        path = Path(made())
    except sqlite3.IntegrityError:  # a repeated key or a missing value: validation names the rows
        if validated is not None:
            validated()  # raises when validation failed: that is the failure to report
        raise
    if path != target / sqlite_db.DATABASE_FILE:
        shutil.move(path, target / sqlite_db.DATABASE_FILE)


def publish(tables: dict[str, pd.DataFrame], output_dir: Path, docs_dir: Path | None,
            validation_json: Path | None, raw_files: pd.DataFrame, version: str | None = None,
            lock_timeout: float | None = None, build_key: str | None = None, validation=None,
            database=None) -> Release:
    """Publish ``tables`` as a new release in ``output_dir`` (or nothing, when they are unchanged).

    ``tables``: the frames of every table, or a :class:`flows.common.parquet_tables.ParquetTables` (their
    Parquet files, written in row order by the flow's extract stage): the files are then moved into
    the release, and every other file is made from them one table at a time, so that the tables are
    not all held in memory while publishing.

    ``version`` overrides the automatic SemVer choice; it must be newer than every release. Raises
    :class:`PublishLocked` when another build is publishing into the same folder. ``build_key``
    (``flows.orchestrate.batches.build_key``) is recorded in ``release.json``.

    ``validation``: a started :class:`flows.orchestrate.validation.Validation`, instead of a report given
    by ``docs_dir`` and ``validation_json``. The Parquet files are then written first and validated
    in that process while the rest of the release is written; nothing is committed (no release, no
    ``latest`` move) unless it passed: else :class:`flows.orchestrate.validation.ValidationFailed` is raised.

    ``database``: the SQLite database made beside publishing (see :func:`write_release`).
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    files = tables if isinstance(tables, ParquetTables) else None  # written already, in row order
    if files is None:
        tables = {name: sort_table(name, tables[name]) for name in schemas.tables()}
    with publish_lock(output_dir, lock_timeout):
        checkpoint("locked")
        remove_stale(output_dir)
        # the CSV files are written once, streamed, hashed on the way: the build's fingerprint is the
        # sha256 of every table's name and CSV bytes (sorted rows), in schema order. A staging-prefixed
        # folder, so that a killed build's leftovers are removed as stale
        csv_dir = output_dir / f"{STAGING_PREFIX}csv-{uuid.uuid4().hex[:8]}"
        try:
            csv_dir.mkdir()
            parquet_files = validated = None
            if files is None and validation is not None:  # validation reads the release's own files
                files = tables = ParquetTables(write_tables(tables, csv_dir))
            if files is not None:  # moved into the release, not written again
                parquet_files = {name: files.path(name) for name in schemas.tables()}
            if validation is not None:
                validation.submit(files.folder)
                validated = validation.passed_report_files
            h = hashlib.sha256()
            csv_files = {}
            for name in schemas.tables():
                h.update(name.encode())
                csv_files[name] = csv_dir / f"{name}.csv"
                write_csv(name, files.path(name) if files is not None else tables[name], csv_files[name], h)
            fp = h.hexdigest()
            return _publish_locked(output_dir, tables, fp, csv_files, docs_dir, validation_json, raw_files,
                                   version, build_key, parquet_files, validated, database)
        finally:
            shutil.rmtree(csv_dir, ignore_errors=True)


def _publish_locked(output_dir: Path, tables: dict, fp: str, csv_files: dict, docs_dir, validation_json,
                    raw_files, version, build_key, parquet_files=None, validated=None,
                    database=None) -> Release:
    """The part of :func:`publish` done under the lock, once the CSV files and fingerprint are made."""
    from flows.publish import catalog
    from flows.publish import changes as changes_mod

    previous = latest_release(output_dir)
    if previous is not None and previous["fingerprint"] == fp and version is None:
        if validated is not None:
            validated()  # an unchanged release is only confirmed by a build that passed
        point_latest(output_dir, previous["version"])
        catalog.write(output_dir)
        return Release(previous["version"], output_dir / previous["version"],
                       output_dir / previous["version"] / "validation" / "index.html", False,
                       f"unchanged: tables identical to release {previous['version']}; nothing published")
    diff = changes_mod.diff(output_dir / previous["version"] if previous else None, tables)
    version = version or next_version(previous, changes_mod.bump(diff))
    check_new_version(output_dir, version, previous)
    final = output_dir / version
    staging = output_dir / f"{STAGING_PREFIX}{version}-{uuid.uuid4().hex[:8]}"
    try:
        checkpoint("version_chosen")
        staging.mkdir(parents=True)
        summary = changes_mod.write(staging, diff, version)
        del diff  # a first release's diff lists every key of every table: not held while the rest is written
        write_release(tables, staging, version, fp, docs_dir, validation_json, raw_files, summary, csv_files,
                      build_key, parquet_files, validated, database)
        make_read_only(staging)
        _fsync_tree(staging)
        checkpoint("before_rename")
        os.rename(staging, final)
        _fsync_path(output_dir)
    except BaseException:
        if staging.exists():
            _make_writable(staging)
            shutil.rmtree(staging, ignore_errors=True)
        raise
    checkpoint("renamed")
    point_latest(output_dir, version)
    checkpoint("latest_moved")
    catalog.write(output_dir)
    # the counts only: the diff lists every added key, and Prefect walks a task's and a flow's return
    # value item by item; the keys are in the release's changes.json
    return Release(version, final, final / "validation" / "index.html", True, f"published release {version}",
                   changes=summary)


def repair(output_dir: Path, lock_timeout: float | None = 0) -> list[str] | None:
    """Finish what a build killed between the steps of publishing left undone: remove stale staging
    folders and temporary files, point ``latest`` at the newest release (every release folder is
    complete: it was renamed into place whole) and rewrite the catalog if it is stale. Returns what
    was done, or None when another build holds the lock (it leaves all of this right itself)."""
    from flows.publish import catalog

    output_dir = Path(output_dir)
    try:
        with publish_lock(output_dir, lock_timeout):
            done = [f"removed {name}" for name in remove_stale(output_dir)]
            versions = releases(output_dir)
            link = output_dir / LATEST
            if versions and (not link.is_symlink() or os.readlink(link) != versions[-1]):
                point_latest(output_dir, versions[-1])
                done.append(f"latest -> {versions[-1]}")
            before = _read_or_none(output_dir / catalog.CATALOG_JSON)
            catalog.write(output_dir)
            if _read_or_none(output_dir / catalog.CATALOG_JSON) != before:
                done.append("catalog rewritten")
            return done
    except PublishLocked:
        return None


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def unchanged_build(output_dir: Path, build_key: str) -> Release | None:
    """The latest release, as a :class:`Release` that publishes nothing, when it was built from exactly
    ``build_key`` (same raw files, code and rules: a new build would make the same tables); else None.
    Before saying so it repairs the output folder (:func:`repair`: a build killed after renaming its
    release into place and before moving ``latest`` or writing the catalog left them stale)."""
    previous = latest_release(Path(output_dir))
    if previous is None or previous.get("build_key") != build_key:
        return None
    done = repair(Path(output_dir))
    folder = Path(output_dir) / previous["version"]
    return Release(previous["version"], folder, folder / "validation" / "index.html", False,
                   f"unchanged: raw files, code and rules identical to those of release {previous['version']}; "
                   f"nothing rebuilt, nothing published" + (f" (repaired: {', '.join(done)})" if done else ""))


def keep_failed_report(output_dir: Path, run_name: str, docs_dir: Path | None, validation_json: Path | None) -> Path:
    """Keep the report of a run whose validation failed under ``output/_failed/<run>/``."""
    target = Path(output_dir) / FAILED / run_name
    target.mkdir(parents=True, exist_ok=True)
    if docs_dir:
        shutil.copytree(docs_dir, target / "validation", dirs_exist_ok=True)
    if validation_json:
        (target / "validation").mkdir(exist_ok=True)
        shutil.copy2(validation_json, target / "validation" / "validation.json")
    return target


def _link_or_copy(source: Path, target: Path) -> None:
    """``target`` as a hard link to ``source`` (a copy when they are on different file systems)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
