"""Shared helpers of the extract tests: the seeds' record tables, and where the wikinews corpus is."""

from __future__ import annotations

import functools
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def seed_records() -> dict:
    from flows import clean, dedup, extract, ingest

    sources, _ = ingest.ingest(ROOT / "raw")
    paragraphs, info = clean.clean(sources)
    paragraphs = dedup.mark_exact_repeats(paragraphs)
    documents = extract.build_documents(sources, paragraphs, info)
    tables = extract.build_records(sources, documents, paragraphs)
    tables["paragraphs"] = paragraphs
    return tables


def corpus_dir(name: str = "wikinews") -> Path | None:
    """``$CORPUS_DIR/<name>``, else ``shared/corpus/<name>`` in a folder above the repository."""
    if os.environ.get("CORPUS_DIR"):
        p = Path(os.environ["CORPUS_DIR"]) / name
        return p if p.is_dir() else None
    for parent in ROOT.parents:
        p = parent / "shared" / "corpus" / name
        if p.is_dir():
            return p
    return None


def doc_of(tables: dict, prefix: str) -> str:
    """doc_id of the seed whose file name starts with ``prefix`` ("000", "001", ...)."""
    docs = tables["documents"]
    return docs.loc[docs["source_file"].str.startswith(prefix), "doc_id"].iloc[0]
