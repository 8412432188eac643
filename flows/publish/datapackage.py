"""The release's Frictionless descriptor (``datapackage.json``): one resource per data file (CSV and
Parquet of every table, the raw manifest), each with its Table Schema, bytes and sha256."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import schemas
from flows.publish.releases import DATASET_NAME, DATASET_TITLE, LICENSES, PARQUET_MEDIATYPE, sha256_file


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

    def column(name: str):  # (not a dict a row: a large build has a row per raw file)
        return manifest[name] if name in manifest else [None] * len(manifest)

    for file, url, outlet, sha256 in zip(manifest["file"], column("url"), column("outlet"), column("sha256")):
        src = {"title": file}
        if isinstance(url, str) and url.strip():
            src["path"] = url
        if isinstance(outlet, str) and outlet.strip():
            src["description"] = f"{outlet}; sha256 {sha256}"
        elif isinstance(sha256, str):
            src["description"] = f"sha256 {sha256}"
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
