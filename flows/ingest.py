"""Ingest: read every file of the raw folder, decode it, fingerprint it.

``ingest(raw_dir)`` returns two tables: ``sources`` (one row per distinct content, with the decoded
text, for the later stages) and ``rejections`` (files that cannot become a document, with a reason).
Every file in the folder ends up in exactly one of them (its name is in ``source_files`` or in
``rejections.file``).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from pathlib import Path

import pandas as pd

from flows.paths import MANIFEST_NAME

MAX_BYTES = 5_000_000
MANIFEST_COLUMNS = ["file", "sha256", "outlet", "url", "retrieved_date", "published_date", "license"]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def doc_id_for(sha256: str) -> str:
    return "d" + sha256[:16]


def decode(data: bytes) -> tuple[str, str]:
    """Decode raw bytes; return (text, encoding). Raises UnicodeDecodeError if no encoding fits."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    return data.decode("cp1252"), "cp1252"


def read_manifest(raw_dir: Path) -> pd.DataFrame:
    """The raw manifest (``sources.csv``): one row per file with what is known about it."""
    path = Path(raw_dir) / MANIFEST_NAME
    if not path.exists():
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in MANIFEST_COLUMNS})
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    df = pd.DataFrame(rows, columns=MANIFEST_COLUMNS).astype("str")
    return df.replace({"": None})


def check(data: bytes, max_bytes: int = MAX_BYTES) -> tuple[str, str] | None:
    """Return (reason, detail) when the bytes cannot become a document, else None."""
    if len(data) > max_bytes:
        return "too_large", f"{len(data)} bytes > limit {max_bytes}"
    if not data.strip():
        return "empty", "file is empty or whitespace only"
    if b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "binary", "contains NUL bytes"
    return None


def list_raw_files(raw_dir: Path) -> list[Path]:
    """Article files of the raw folder: every regular file but the manifest and dotfiles."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"raw folder {raw_dir} does not exist")
    return sorted(
        p for p in raw_dir.iterdir()
        if p.is_file() and p.name != MANIFEST_NAME and not p.name.startswith(".")
    )


def ingest(raw_dir: Path, max_bytes: int = MAX_BYTES) -> tuple[pd.DataFrame, pd.DataFrame]:
    manifest = read_manifest(raw_dir).set_index("file", drop=False)
    by_hash: dict[str, dict] = {}
    rejections = []
    for path in list_raw_files(raw_dir):
        data = path.read_bytes()
        digest = sha256_bytes(data)
        problem = check(data, max_bytes)
        text = encoding = None
        if problem is None:
            try:
                text, encoding = decode(data)
            except UnicodeDecodeError as exc:
                problem = ("undecodable", str(exc))
        if problem is not None:
            rejections.append({"file": path.name, "sha256": digest, "n_bytes": len(data),
                               "reason": problem[0], "detail": problem[1]})
            continue
        if digest in by_hash:
            by_hash[digest]["source_files"].append(path.name)
            continue
        meta = manifest.loc[path.name].to_dict() if path.name in manifest.index else {}
        by_hash[digest] = {
            "doc_id": doc_id_for(digest),
            "source_file": path.name,
            "source_files": [path.name],
            "sha256": digest,
            "n_bytes": len(data),
            "encoding": encoding,
            "text": text,
            "n_chars": len(text),
            **{k: meta.get(k) for k in ("outlet", "url", "retrieved_date", "published_date", "license")},
        }
    sources = pd.DataFrame(list(by_hash.values()))
    rejections_df = pd.DataFrame(rejections, columns=["file", "sha256", "n_bytes", "reason", "detail"])
    return sources, rejections_df


def raw_inventory(sources: pd.DataFrame, rejections: pd.DataFrame, raw_dir: Path) -> pd.DataFrame:
    """Every raw file with its sha256 and what became of it (a document, or a rejection)."""
    manifest = read_manifest(raw_dir).set_index("file")
    rows = []
    for rec in sources.to_dict("records"):
        for name in rec["source_files"]:
            rows.append({"file": name, "sha256": rec["sha256"], "n_bytes": rec["n_bytes"],
                         "outcome": "document", "doc_id": rec["doc_id"]})
    for rec in rejections.to_dict("records"):
        rows.append({"file": rec["file"], "sha256": rec["sha256"], "n_bytes": rec["n_bytes"],
                     "outcome": "rejected:" + rec["reason"], "doc_id": None})
    df = pd.DataFrame(rows, columns=["file", "sha256", "n_bytes", "outcome", "doc_id"])
    for col in ("outlet", "url", "retrieved_date", "published_date", "license"):
        df[col] = df["file"].map(manifest[col]) if len(manifest) else None
    return df.sort_values("file").reset_index(drop=True)
