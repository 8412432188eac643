"""Publish: write a validated build as an immutable, versioned release.

Layout of the output folder::

    output/
      1.0.0/                 one folder per release, never rewritten (read-only files)
        <table>.parquet      Parquet (zstd), schema + column descriptions from schemas/ as metadata
        <table>.csv          UTF-8, RFC 4180, header row, lists "|"-joined, formula-like cells neutralised
        datapackage.json     Frictionless data package: one resource per file, Table Schema, bytes, sha256
        README.md            data dictionary (every table and column: description, type, example value)
        dictionary.html      the same dictionary as a web page
        CHANGES.md           what changed against the previous release (changes.json: the same, in full)
        validation/          the Great Expectations Data Docs of the run (index.html) + validation.json
        raw_manifest.csv     every raw input file with its sha256 and what became of it
        release.json         version, creation time, content fingerprint, row counts, schema signature
      latest -> 1.0.0        symlink to the newest valid release (moved by an atomic rename)
      catalog.json           every release: date, row counts, validation status, download links
      index.html             the same catalog as a web page
      _failed/<run>/         reports of runs whose validation failed (nothing else is published)
      .lock                  held (flock) by the build that is publishing

Versions follow SemVer as Frictionless suggests; the part to bump comes from the diff against the
previous release (:mod:`flows.changes`). A build whose tables are identical to the newest release's
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

import contextlib
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import schemas
from flows.parquet_tables import ParquetTables, row_count, write_tables

LATEST = "latest"
FAILED = "_failed"
LOCK_NAME = ".lock"
STAGING_PREFIX = ".staging-"
TMP_PREFIX = ".tmp-"
DATASET_NAME = "us-iraq-jscd"
DATASET_TITLE = "U.S.-Iraq Joint Security Cooperation Dialogues in the news"
LICENSES = [{"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0",
             "path": "https://creativecommons.org/licenses/by/4.0/"}]
PARQUET_MEDIATYPE = "application/vnd.apache.parquet"

# Seconds a build waits for another build's publish lock before giving up (0: do not wait).
LOCK_TIMEOUT_ENV = "FLOWS_PUBLISH_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 0.0
# Fault-injection points for tests (see :func:`checkpoint`).
PAUSE_AT_ENV = "FLOWS_PUBLISH_PAUSE_AT"
PAUSE_FILE_ENV = "FLOWS_PUBLISH_PAUSE_FILE"

# A CSV cell a spreadsheet would run as a formula starts with one of these (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISER = "'"


class PublishLocked(RuntimeError):
    """Another build holds the output folder's publish lock."""


# --- writing tables -------------------------------------------------------------------------------

def to_arrow(name: str, df: pd.DataFrame):
    import pyarrow as pa

    schema = schemas.arrow_schema(name)
    t = schemas.table(name)
    columns = {}
    for f in t.fields:
        col = df[f.name]
        if f.type == "date":
            values = [None if v is None or pd.isna(v) else dt.date.fromisoformat(v) for v in col]
        elif f.type == "list":
            values = [list(v) for v in col]
        else:
            try:  # pandas extension arrays (str, Int64, Float64, boolean) convert in one call
                columns[f.name] = pa.array(col, type=schema.field(f.name).type, from_pandas=True)
                continue
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
                values = [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in col]
        columns[f.name] = pa.array(values, type=schema.field(f.name).type)
    return pa.Table.from_pydict(columns, schema=schema)


PARQUET_ROW_GROUP = 100_000  # rows converted to Arrow and written at a time: one row group each


def write_parquet(name: str, df: pd.DataFrame, path: Path, rows: int | None = None, order=None) -> None:
    """Write the table as Parquet (zstd, the schema of :func:`schemas.arrow_schema` with its column
    descriptions), ``rows`` rows at a time (default :data:`PARQUET_ROW_GROUP`), one row group each:
    the table is never held twice (at 1.4 M paragraphs a whole-table Arrow copy was ~0.5 GB).
    ``order``: the rows' positions in the order to write them (:func:`row_order`), taken a row group
    at a time instead of a sorted copy of the whole table; None: as they are."""
    import pyarrow.parquet as pq

    rows = rows or PARQUET_ROW_GROUP
    with pq.ParquetWriter(path, schemas.arrow_schema(name), compression="zstd") as writer:
        for start in range(0, max(len(df), 1), rows):
            part = df.iloc[start:start + rows] if order is None else df.iloc[order[start:start + rows]]
            writer.write_table(to_arrow(name, part))


def neutralise(value):
    """A text cell that a spreadsheet would run as a formula, made inert by a leading apostrophe.

    ``=SUM(A1)`` becomes ``'=SUM(A1)``; anything else is returned unchanged. Parquet keeps the
    original value: only the CSV files carry the apostrophe.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return NEUTRALISER + value
    return value


def _neutralise_column(col: pd.Series) -> pd.Series:
    """:func:`neutralise` over a column, vectorised (only text cells can start with a formula sign)."""
    text = col.map(lambda v: v if isinstance(v, str) else None).astype("str") if col.dtype == object else col
    if not isinstance(text.dtype, pd.StringDtype):
        return col
    formula = text.str.startswith(FORMULA_PREFIXES).fillna(False).astype(bool)
    return col.where(~formula, NEUTRALISER + text) if formula.any() else col


def csv_bytes(name: str, df: pd.DataFrame, header: bool = True) -> bytes:
    """The table as RFC 4180 CSV: UTF-8, header from schemas/, lists "|"-joined, nulls empty,
    formula-like cells of text columns (string and list) neutralised. ``header=False``: the rows only
    (a later part of a table written in parts, see :func:`write_csv`)."""
    out = df.copy()
    for f in schemas.table(name).fields:
        if f.type == "list":
            out[f.name] = out[f.name].map(lambda v: neutralise(schemas.LIST_SEPARATOR.join(v)))
        elif f.type == "boolean":
            out[f.name] = out[f.name].map(lambda v: "" if pd.isna(v) else ("true" if v else "false"))
        elif f.type == "string":
            out[f.name] = _neutralise_column(out[f.name])
    buf = io.StringIO()
    out.to_csv(buf, index=False, header=schemas.csv_header(name) if header else False, lineterminator="\r\n")
    return buf.getvalue().encode("utf-8")


CSV_PART_ROWS = 50_000  # rows turned into CSV text at a time (bounds the memory of writing a table)


def write_csv(name: str, df, path: Path, digest=None, part_rows: int = CSV_PART_ROWS) -> None:
    """Write the table's CSV (the bytes of :func:`csv_bytes`) to ``path`` ``part_rows`` rows at a
    time, feeding the same bytes to ``digest`` (a hashlib object) if given: a large table is never
    held as one CSV string (at 1.4 M paragraphs that string and its encoding were ~1.5 GB). ``df``:
    the table, or its parts in order (``flows.parquet_tables.ParquetTables.parts``: the table is then
    never held whole)."""
    frames = [df] if isinstance(df, pd.DataFrame) else df
    header = True
    with open(path, "wb") as fh:
        for frame in frames:
            for start in range(0, len(frame), part_rows):
                data = csv_bytes(name, frame.iloc[start:start + part_rows], header=header)
                header = False
                fh.write(data)
                if digest is not None:
                    digest.update(data)
        if header:  # no row: the header alone
            data = csv_bytes(name, schemas.empty_frame(name))
            fh.write(data)
            if digest is not None:
                digest.update(data)


def frame_csv_bytes(df: pd.DataFrame) -> bytes:
    """A frame without a schema (the raw manifest) as CSV, text cells neutralised."""
    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\r\n")
    return buf.getvalue().encode("utf-8")


def row_order(name: str, df: pd.DataFrame):
    """The positions of the table's rows in its published row order (``schemas/``' ``row_order``), or
    None when the rows are already in it."""
    import numpy as np

    keys = schemas.table(name).row_order
    if not len(df):
        return None
    order = df[keys].reset_index(drop=True).sort_values(keys, kind="stable").index.to_numpy()
    return None if (order == np.arange(len(df))).all() else order


def sort_table(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """The table in its published row order (the table itself, not a copy, when already in it)."""
    order = row_order(name, df)
    if order is None and isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1:
        return df
    return df.reset_index(drop=True) if order is None else df.iloc[order].reset_index(drop=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- versions -------------------------------------------------------------------------------------

def parse_version(v: str) -> tuple[int, int, int]:
    parts = str(v).split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{v!r} is not a version MAJOR.MINOR.PATCH")
    major, minor, patch = (int(x) for x in parts)
    return major, minor, patch


def releases(output_dir: Path) -> list[str]:
    """Published versions in the output folder, oldest first."""
    out = []
    for p in Path(output_dir).glob("*"):
        if p.is_dir() and not p.is_symlink() and (p / "release.json").exists():
            try:
                parse_version(p.name)
            except ValueError:
                continue
            out.append(p.name)
    return sorted(out, key=parse_version)


def read_release(output_dir: Path, version: str) -> dict:
    return json.loads((Path(output_dir) / version / "release.json").read_text(encoding="utf-8"))


def latest_release(output_dir: Path) -> dict | None:
    versions = releases(output_dir)
    return read_release(output_dir, versions[-1]) if versions else None


def schema_signature() -> dict[str, dict[str, str]]:
    return {name: {f.name: f.type for f in t.fields} for name, t in schemas.tables().items()}


def next_version(previous: dict | None, part: str) -> str:
    if previous is None:
        return "1.0.0"
    major, minor, patch = parse_version(previous["version"])
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def check_new_version(output_dir: Path, version: str, previous: dict | None) -> None:
    """Refuse a version that exists already or is not newer than the newest release."""
    parse_version(version)
    if (Path(output_dir) / version).exists():
        raise FileExistsError(f"release {version} already exists in {output_dir}; releases are immutable")
    if previous is not None and parse_version(version) <= parse_version(previous["version"]):
        raise ValueError(f"version {version} is not newer than the newest release {previous['version']}")


# --- the lock, fault points, stale files ----------------------------------------------------------

@contextlib.contextmanager
def publish_lock(output_dir: Path, timeout: float | None = None):
    """Hold ``output/.lock`` (``flock``, released by the kernel when the process dies).

    Waits up to ``timeout`` seconds (default: env ``FLOWS_PUBLISH_LOCK_TIMEOUT``, else 0) for another
    build to finish publishing, then raises :class:`PublishLocked` naming the holder.
    """
    if timeout is None:
        timeout = float(os.environ.get(LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT))
    path = Path(output_dir) / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
                    raise PublishLocked(
                        f"another build is publishing into {output_dir} (lock {path.name} held by {holder}); "
                        f"waited {timeout:g} s. Nothing was published by this build: run it again when the "
                        f"other one has finished (or set {LOCK_TIMEOUT_ENV} to wait longer).") from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {_now()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # an idle lock file is empty (a killed holder leaves its name: harmless)
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def checkpoint(point: str) -> None:
    """A named point inside publishing where tests can stop the process.

    When env ``FLOWS_PUBLISH_PAUSE_AT`` names this point, the process writes the point's name into the
    file named by ``FLOWS_PUBLISH_PAUSE_FILE`` and waits there until that file is removed (or 600 s
    pass). A test can SIGKILL it while it waits, or remove the file to let it go on.
    """
    if os.environ.get(PAUSE_AT_ENV) != point:
        return
    marker = Path(os.environ[PAUSE_FILE_ENV])
    marker.write_text(f"{point} {os.getpid()}\n", encoding="utf-8")
    deadline = time.monotonic() + 600
    while marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _make_writable(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        if not p.is_symlink():
            p.chmod(0o755 if p.is_dir() else 0o644)


def remove_stale(output_dir: Path) -> list[str]:
    """Remove what a killed build left behind (staging folders, temporary links and files).

    Only call this while holding the publish lock: then no other build is writing them.
    """
    removed = []
    for p in Path(output_dir).iterdir():
        if p.name.startswith(STAGING_PREFIX) and p.is_dir() and not p.is_symlink():
            _make_writable(p)
            shutil.rmtree(p)
        elif p.name.startswith(TMP_PREFIX) and (p.is_symlink() or p.is_file()):
            p.unlink()
        else:
            continue
        removed.append(p.name)
    return removed


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for p in sorted(path.rglob("*"), reverse=True):
        if not p.is_symlink():
            _fsync_path(p)
    _fsync_path(path)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` in one rename (readers see the old or the new file, never half)."""
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}-{uuid.uuid4().hex[:8]}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def point_latest(output_dir: Path, version: str) -> None:
    """Move ``output/latest`` to ``version`` with an atomic rename of a fresh symlink."""
    tmp = Path(output_dir) / f"{TMP_PREFIX}latest-{uuid.uuid4().hex[:8]}"
    os.symlink(version, tmp, target_is_directory=True)
    os.replace(tmp, Path(output_dir) / LATEST)
    _fsync_path(Path(output_dir))


# --- the release ----------------------------------------------------------------------------------

@dataclass
class Release:
    version: str | None
    path: Path | None
    report_path: Path | None
    published: bool
    message: str
    changes: dict | None = field(default=None, repr=False)  # flows.changes.summary: counts per table


def _file_facts(path: Path) -> dict:
    return {"bytes": path.stat().st_size, "hash": "sha256:" + sha256_file(path)}


def manifest_schema(manifest: pd.DataFrame) -> dict:
    """Table Schema of raw_manifest.csv (its columns come from ingest, not from schemas/)."""
    fields = []
    for col in manifest.columns:
        if pd.api.types.is_bool_dtype(manifest[col]):
            fields.append({"name": col, "type": "boolean", "trueValues": ["True"], "falseValues": ["False"]})
        elif pd.api.types.is_integer_dtype(manifest[col]):
            fields.append({"name": col, "type": "integer"})
        else:
            fields.append({"name": col, "type": "string"})
    return {"fields": fields, "primaryKey": ["file"] if "file" in manifest.columns else [], "missingValues": [""]}


def _parquet_schema(csv_schema: dict) -> dict:
    fields = [f if f["type"] != "list" else
              {k: v for k, v in f.items() if k not in ("delimiter", "itemType", "example")} | {"type": "array"}
              for f in csv_schema["fields"]]
    out = {**csv_schema, "fields": fields}
    if "foreignKeys" in csv_schema:
        out["foreignKeys"] = [{**fk, "reference": {**fk["reference"], "resource": (
            fk["reference"]["resource"] + "-parquet" if fk["reference"]["resource"] else "")}}
            for fk in csv_schema["foreignKeys"]]
    return out


def datapackage(version: str, created: str, release_dir: Path, manifest: pd.DataFrame) -> dict:
    """The Frictionless descriptor: one resource per data file (CSV and Parquet of every table, the
    raw manifest), each with its Table Schema, bytes and sha256. Foreign keys point at CSV resources."""
    resources = []
    csv_dialect = {"delimiter": ",", "lineTerminator": "\r\n", "header": True}
    for name, t in schemas.tables().items():
        schema = schemas.table_schema(name)
        resources.append({
            "name": name, "title": t.title, "description": t.description,
            "path": f"{name}.csv", "type": "table", "profile": "tabular-data-resource",
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8", "dialect": csv_dialect,
            **_file_facts(release_dir / f"{name}.csv"), "schema": schema,
        })
        # Parquet: a plain file resource. Frictionless reads Parquet tables through pandas, which
        # neither reports bytes nor checks sha256 and turns lists into arrays its "array" type refuses;
        # as a "file" resource its bytes and sha256 are verified. Its schema documents the same columns
        # (list columns as arrays) and keys, with foreign keys pointing at the Parquet resources.
        resources.append({
            "name": f"{name}-parquet", "title": f"{t.title} (Parquet)",
            "description": (f"The same rows and columns as resource {name!r} ({name}.csv), as Parquet with "
                            "zstd compression, list columns as lists of strings and column descriptions "
                            "as field metadata."),
            "path": f"{name}.parquet", "type": "file", "profile": "data-resource",
            "format": "parquet", "mediatype": PARQUET_MEDIATYPE,
            **_file_facts(release_dir / f"{name}.parquet"), "schema": _parquet_schema(schema),
        })
    resources.append({
        "name": "raw-manifest", "title": "Raw manifest",
        "description": "Every raw input file of this build: its sha256, size and what became of it.",
        "path": "raw_manifest.csv", "type": "table", "profile": "tabular-data-resource",
        "format": "csv", "mediatype": "text/csv", "encoding": "utf-8", "dialect": csv_dialect,
        **_file_facts(release_dir / "raw_manifest.csv"), "schema": manifest_schema(manifest),
    })
    sources = []
    for r in manifest.to_dict("records"):
        src = {"title": r["file"]}
        if isinstance(r.get("url"), str) and r["url"].strip():
            src["path"] = r["url"]
        if isinstance(r.get("outlet"), str) and r["outlet"].strip():
            src["description"] = f"{r['outlet']}; sha256 {r.get('sha256')}"
        elif isinstance(r.get("sha256"), str):
            src["description"] = f"sha256 {r['sha256']}"
        sources.append(src)
    return {
        "profile": "data-package",  # not "tabular-": the Parquet resources are files
        "name": DATASET_NAME,
        "title": DATASET_TITLE,
        "version": version,
        "created": created,
        "licenses": LICENSES,
        "sources": sources,
        "resources": resources,
    }


def raw_manifest_snapshot(raw_files: pd.DataFrame) -> pd.DataFrame:
    return raw_files.sort_values("file").reset_index(drop=True)


def _validation_summary(validation_json: Path | None) -> dict | None:
    if not validation_json or not Path(validation_json).exists():
        return None
    report = json.loads(Path(validation_json).read_text(encoding="utf-8"))
    failures = report.get("failures", [])
    return {"passed": bool(report.get("passed")),
            "blocking": sum(1 for f in failures if f.get("blocking")),
            "warnings": sum(1 for f in failures if not f.get("blocking"))}


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def write_release(tables: dict[str, pd.DataFrame], target: Path, version: str, fingerprint_: str,
                  docs_dir: Path | None, validation_json: Path | None, raw_files: pd.DataFrame,
                  changes: dict | None = None, csv_files: dict[str, Path] | None = None,
                  build_key: str | None = None, parquet_files: dict[str, Path] | None = None,
                  validated=None) -> None:
    """Write every file of a release into ``target`` (a staging folder). ``csv_files``,
    ``parquet_files``: the tables' files when already written (for the fingerprint, for validation):
    moved into ``target``. ``validated``: called once the data files and their descriptions are
    written, before the report is copied in; it waits for a validation running beside publishing and
    returns its ``(docs_dir, validation_json)``, or raises when a blocking expectation failed."""
    from flows import changes as changes_mod
    from flows import dictionary

    target.mkdir(parents=True)
    created = _now()
    counts = {}
    for name in schemas.tables():
        df = None if parquet_files and csv_files else sort_table(name, tables[name])  # written sorted
        if parquet_files:  # (another folder may be on another file system: shutil.move copies then)
            shutil.move(parquet_files[name], target / f"{name}.parquet")
        else:
            write_parquet(name, df, target / f"{name}.parquet")
        if csv_files:
            shutil.move(csv_files[name], target / f"{name}.csv")
        else:
            write_csv(name, df, target / f"{name}.csv")
        counts[name] = row_count(tables, name)
        del df
    checkpoint("tables_written")
    snapshot = raw_manifest_snapshot(raw_files)
    (target / "raw_manifest.csv").write_bytes(frame_csv_bytes(snapshot))
    described = dictionary.entries(tables)  # (files: a column's row groups until an example shows)
    (target / "README.md").write_text(dictionary.markdown(tables, version, created, described), encoding="utf-8")
    (target / "dictionary.html").write_text(dictionary.html(tables, version, created, described), encoding="utf-8")
    if changes is not None:
        with (target / "changes.json").open("w", encoding="utf-8") as fh:  # streamed: a first release's
            json.dump(changes, fh, indent=1)  # lists every key (~65 MB of JSON at 100k articles)
        (target / "CHANGES.md").write_text(changes_mod.markdown(changes, version), encoding="utf-8")
    (target / "datapackage.json").write_text(
        json.dumps(datapackage(version, created, target, snapshot), indent=2), encoding="utf-8")
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
        "changes": changes_mod.summary(changes) if changes is not None else None,
    }, indent=1), encoding="utf-8")
    checkpoint("release_written")


def make_read_only(path: Path) -> None:
    for p in sorted(path.rglob("*"), reverse=True):
        if p.is_file():
            p.chmod(0o444)
    for p in [*sorted((d for d in path.rglob("*") if d.is_dir()), reverse=True), path]:
        p.chmod(0o555)


def publish(tables: dict[str, pd.DataFrame], output_dir: Path, docs_dir: Path | None,
            validation_json: Path | None, raw_files: pd.DataFrame, version: str | None = None,
            lock_timeout: float | None = None, build_key: str | None = None, validation=None) -> Release:
    """Publish ``tables`` as a new release in ``output_dir`` (or nothing, when they are unchanged).

    ``tables``: the frames of every table, or a :class:`flows.parquet_tables.ParquetTables` (their
    Parquet files, written in row order by the flow's extract stage): the files are then moved into
    the release, and every other file is made from them one table at a time, so that the tables are
    not all held in memory while publishing.

    ``version`` overrides the automatic SemVer choice; it must be newer than every release. Raises
    :class:`PublishLocked` when another build is publishing into the same folder. ``build_key``
    (``flows.batches.build_key``) is recorded in ``release.json``.

    ``validation``: a started :class:`flows.validate_process.Validation`, instead of a report given
    by ``docs_dir`` and ``validation_json``. The Parquet files are then written first and validated
    in that process while the rest of the release is written; nothing is committed (no release, no
    ``latest`` move) unless it passed: else :class:`flows.validate_process.ValidationFailed` is raised.
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
                # (from its file, when they are files: one row group at a time)
                write_csv(name, files.parts(name) if files is not None else tables[name], csv_files[name], h)
            fp = h.hexdigest()
            if validation is not None:
                validation.loaded()  # it has read the Parquet files: they may move into the release
            return _publish_locked(output_dir, tables, fp, csv_files, docs_dir, validation_json, raw_files,
                                   version, build_key, parquet_files, validated)
        finally:
            shutil.rmtree(csv_dir, ignore_errors=True)


def _publish_locked(output_dir: Path, tables: dict, fp: str, csv_files: dict, docs_dir, validation_json,
                    raw_files, version, build_key, parquet_files=None, validated=None) -> Release:
    """The part of :func:`publish` done under the lock, once the CSV files and fingerprint are made."""
    from flows import catalog
    from flows import changes as changes_mod

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
        write_release(tables, staging, version, fp, docs_dir, validation_json, raw_files, diff, csv_files,
                      build_key, parquet_files, validated)
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
    # the counts only: the diff lists every added key (millions at 100k articles), and Prefect walks a
    # task's and a flow's return value (~6 s per 2 M keys); the keys are in the release's changes.json
    return Release(version, final, final / "validation" / "index.html", True, f"published release {version}",
                   changes=changes_mod.summary(diff))


def repair(output_dir: Path, lock_timeout: float | None = 0) -> list[str] | None:
    """Finish what a build killed between the steps of publishing left undone: remove stale staging
    folders and temporary files, point ``latest`` at the newest release (every release folder is
    complete: it was renamed into place whole) and rewrite the catalog if it is stale. Returns what
    was done, or None when another build holds the lock (it leaves all of this right itself)."""
    from flows import catalog

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
