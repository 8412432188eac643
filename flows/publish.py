"""Publish: write a validated build as an immutable, versioned release.

Layout of the output folder::

    output/
      1.0.0/                 one folder per release, never rewritten
        <table>.parquet      Parquet (zstd), schema + column descriptions from schemas/ as metadata
        <table>.csv          UTF-8, header row, lists "|"-joined
        datapackage.json     Frictionless data package: resources with Table Schema, bytes, sha256
        validation/          the Great Expectations Data Docs of the run (index.html) + validation.json
        raw_manifest.csv     every raw input file with its sha256
        release.json         version, creation time, content fingerprint, row counts
      latest -> 1.0.0        symlink to the newest valid release
      _failed/<run>/         reports of runs whose validation failed (nothing else is published)

Versions follow SemVer as Frictionless suggests: major = a breaking schema change (a column removed,
renamed or retyped, a table removed), minor = additions (new tables, columns or rows), patch = data
corrections only. The first release is 1.0.0. A build whose tables are identical to the newest
release's publishes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

import schemas

LATEST = "latest"
FAILED = "_failed"
STAGING_PREFIX = ".staging-"
DATASET_NAME = "us-iraq-jscd"
DATASET_TITLE = "U.S.-Iraq Joint Security Cooperation Dialogues in the news"


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
            values = [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in col]
        columns[f.name] = pa.array(values, type=schema.field(f.name).type)
    return pa.Table.from_pydict(columns, schema=schema)


def csv_bytes(name: str, df: pd.DataFrame) -> bytes:
    """The table as RFC 4180 CSV: UTF-8, header from schemas/, lists "|"-joined, nulls empty."""
    out = df.copy()
    for f in schemas.table(name).fields:
        if f.type == "list":
            out[f.name] = out[f.name].map(lambda v: schemas.LIST_SEPARATOR.join(v))
        elif f.type == "boolean":
            out[f.name] = out[f.name].map(lambda v: "" if pd.isna(v) else ("true" if v else "false"))
    buf = io.StringIO()
    out.to_csv(buf, index=False, header=schemas.csv_header(name), lineterminator="\r\n")
    return buf.getvalue().encode("utf-8")


def sort_table(name: str, df: pd.DataFrame) -> pd.DataFrame:
    keys = schemas.table(name).row_order
    return df.sort_values(keys, kind="stable").reset_index(drop=True) if len(df) else df


def fingerprint(tables: dict[str, pd.DataFrame]) -> str:
    """Content hash of a build: the CSV bytes of every table, in schema order."""
    h = hashlib.sha256()
    for name in schemas.tables():
        h.update(name.encode())
        h.update(csv_bytes(name, sort_table(name, tables[name])))
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- versions -------------------------------------------------------------------------------------

def parse_version(v: str) -> tuple[int, int, int]:
    major, minor, patch = (int(x) for x in v.split("."))
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


def latest_release(output_dir: Path) -> dict | None:
    versions = releases(output_dir)
    if not versions:
        return None
    return json.loads((Path(output_dir) / versions[-1] / "release.json").read_text(encoding="utf-8"))


def schema_signature() -> dict[str, dict[str, str]]:
    return {name: {f.name: f.type for f in t.fields} for name, t in schemas.tables().items()}


def bump(previous: dict | None, tables: dict[str, pd.DataFrame]) -> str:
    """Which SemVer part changes from the previous release to this build: major, minor or patch."""
    if previous is None:
        return "major"
    old, new = previous["schema"], schema_signature()
    for table, cols in old.items():
        if table not in new:
            return "major"
        for col, typ in cols.items():
            if new[table].get(col) != typ:
                return "major"
    if any(t not in old for t in new) or any(c not in old[t] for t in new for c in new[t]):
        return "minor"
    for name, df in tables.items():
        old_keys = set(map(tuple, previous.get("keys", {}).get(name, [])))
        pk = list(schemas.table(name).primary_key)
        new_keys = set(map(tuple, df[pk].astype(str).itertuples(index=False, name=None)))
        if new_keys - old_keys:
            return "minor"
    return "patch"


def next_version(previous: dict | None, part: str) -> str:
    if previous is None:
        return "1.0.0"
    major, minor, patch = parse_version(previous["version"])
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


# --- the release ----------------------------------------------------------------------------------

@dataclass
class Release:
    version: str | None
    path: Path | None
    report_path: Path | None
    published: bool
    message: str


def datapackage(version: str, created: str, release_dir: Path, manifest: pd.DataFrame) -> dict:
    resources = []
    for name, t in schemas.tables().items():
        csv_path = release_dir / f"{name}.csv"
        pq_path = release_dir / f"{name}.parquet"
        resources.append({
            "name": name,
            "title": t.title,
            "description": t.description,
            "path": csv_path.name,
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "header": True},
            "bytes": csv_path.stat().st_size,
            "hash": "sha256:" + sha256_file(csv_path),
            "schema": schemas.table_schema(name),
            "parquet": {"path": pq_path.name, "bytes": pq_path.stat().st_size,
                        "hash": "sha256:" + sha256_file(pq_path)},
        })
    sources = [
        {k: v for k, v in {"title": r["file"], "path": r.get("url") or None,
                           "sha256": r.get("sha256")}.items() if v}
        for r in manifest.to_dict("records")
    ]
    return {
        "profile": "tabular-data-package",
        "name": DATASET_NAME,
        "title": DATASET_TITLE,
        "version": version,
        "created": created,
        "licenses": [{"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0",
                      "path": "https://creativecommons.org/licenses/by/4.0/"}],
        "sources": sources,
        "resources": resources,
    }


def raw_manifest_snapshot(raw_files: pd.DataFrame) -> pd.DataFrame:
    return raw_files.sort_values("file").reset_index(drop=True)


def write_release(tables: dict[str, pd.DataFrame], target: Path, version: str, fingerprint_: str,
                  docs_dir: Path | None, validation_json: Path | None, raw_files: pd.DataFrame) -> None:
    """Write every file of a release into ``target`` (a staging folder)."""
    import pyarrow.parquet as pq

    target.mkdir(parents=True)
    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    counts, keys = {}, {}
    for name in schemas.tables():
        df = sort_table(name, tables[name])
        pq.write_table(to_arrow(name, df), target / f"{name}.parquet", compression="zstd")
        (target / f"{name}.csv").write_bytes(csv_bytes(name, df))
        counts[name] = len(df)
        pk = list(schemas.table(name).primary_key)
        keys[name] = [list(k) for k in df[pk].astype(str).itertuples(index=False, name=None)]
    snapshot = raw_manifest_snapshot(raw_files)
    snapshot.to_csv(target / "raw_manifest.csv", index=False, lineterminator="\r\n")
    if docs_dir:
        shutil.copytree(docs_dir, target / "validation")
    if validation_json:
        (target / "validation").mkdir(exist_ok=True)
        shutil.copy2(validation_json, target / "validation" / "validation.json")
    (target / "datapackage.json").write_text(
        json.dumps(datapackage(version, created, target, snapshot), indent=2), encoding="utf-8")
    (target / "release.json").write_text(json.dumps({
        "version": version, "created": created, "fingerprint": fingerprint_, "row_counts": counts,
        "schema": schema_signature(), "keys": keys,
    }, indent=1), encoding="utf-8")


def point_latest(output_dir: Path, version: str) -> None:
    """Move ``output/latest`` to ``version`` with an atomic rename of a fresh symlink."""
    tmp = Path(output_dir) / f".latest-{uuid.uuid4().hex}"
    os.symlink(version, tmp, target_is_directory=True)
    os.replace(tmp, Path(output_dir) / LATEST)


def make_read_only(path: Path) -> None:
    for p in sorted(path.rglob("*"), reverse=True):
        if p.is_file():
            p.chmod(0o444)
    for p in [*sorted((d for d in path.rglob("*") if d.is_dir()), reverse=True), path]:
        p.chmod(0o555)


def publish(tables: dict[str, pd.DataFrame], output_dir: Path, docs_dir: Path | None,
            validation_json: Path | None, raw_files: pd.DataFrame, version: str | None = None) -> Release:
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    tables = {name: sort_table(name, tables[name]) for name in schemas.tables()}
    previous = latest_release(output_dir)
    fp = fingerprint(tables)
    if previous is not None and previous["fingerprint"] == fp and version is None:
        point_latest(output_dir, previous["version"])
        return Release(previous["version"], output_dir / previous["version"],
                       output_dir / previous["version"] / "validation" / "index.html", False,
                       f"unchanged: tables identical to release {previous['version']}; nothing published")
    version = version or next_version(previous, bump(previous, tables))
    parse_version(version)
    final = output_dir / version
    if final.exists():
        raise FileExistsError(f"release {version} already exists in {output_dir}; releases are immutable")
    staging = output_dir / f"{STAGING_PREFIX}{version}-{uuid.uuid4().hex[:8]}"
    try:
        write_release(tables, staging, version, fp, docs_dir, validation_json, raw_files)
        make_read_only(staging)
        os.rename(staging, final)
    except BaseException:
        if staging.exists():
            for p in [staging, *staging.rglob("*")]:
                p.chmod(0o755 if p.is_dir() else 0o644)
            shutil.rmtree(staging, ignore_errors=True)
        raise
    point_latest(output_dir, version)
    return Release(version, final, final / "validation" / "index.html", True, f"published release {version}")


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
