"""Shared helpers of the extract tests: the seeds' record tables, and where the wikinews corpus is."""

from __future__ import annotations

import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def seed_records() -> dict:
    from flows.clean import clean
    from flows.dedup import dedup
    from flows.extract import extract
    from flows.ingest import ingest

    sources, _ = ingest.ingest(ROOT / "raw")
    paragraphs, info = clean.clean(sources)
    paragraphs = dedup.mark_exact_repeats(paragraphs)
    documents = extract.build_documents(sources, paragraphs, info)
    tables = extract.build_records(sources, documents, paragraphs)
    tables["paragraphs"] = paragraphs
    return tables


def corpus_dir(name: str = "wikinews") -> Path | None:
    from flows.common.paths import shared_corpus

    return shared_corpus(name)


def doc_of(tables: dict, prefix: str) -> str:
    """doc_id of the seed whose file name starts with ``prefix`` ("000", "001", ...)."""
    docs = tables["documents"]
    return docs.loc[docs["source_file"].str.startswith(prefix), "doc_id"].iloc[0]
