"""Extract: turn cleaned paragraphs into the published record tables.

``build_documents`` (one row per distinct article, with its counts) and ``build_records`` (entities,
mentions, events, participants, and the documents with their event, relevance and dates). The
work is done in :mod:`flows.entities`, :mod:`flows.events` and :mod:`flows.dates`; only content
paragraphs (status ``content``) are read.
"""

from __future__ import annotations

import contextlib
import gc

import pandas as pd

from schemas import conform


def build_documents(sources: pd.DataFrame, paragraphs: pd.DataFrame, text_info: pd.DataFrame) -> pd.DataFrame:
    if sources.empty:
        from schemas import empty_frame

        return empty_frame("documents")
    counts = (
        paragraphs.pivot_table(index="doc_id", columns="status", values="para_id", aggfunc="count", fill_value=0)
        .reindex(columns=["content", "title", "duplicate", "boilerplate"], fill_value=0)
    )
    titles = paragraphs[(paragraphs["status"] == "title") & paragraphs["duplicate_of"].isna()].set_index("doc_id")["text"]
    docs = sources.merge(text_info, on="doc_id", how="left")
    docs["outlet"] = docs["outlet"].where(docs["outlet"].notna(), docs["outlet_in_text"])
    docs["title"] = docs["doc_id"].map(titles)
    docs["n_paragraphs"] = docs["doc_id"].map(paragraphs.groupby("doc_id").size()).fillna(0).astype(int)
    for status in ("content", "duplicate", "boilerplate"):
        docs[f"n_{status}"] = docs["doc_id"].map(counts[status]).fillna(0).astype(int)
    docs = docs.drop(columns=["text", "outlet_in_text"])
    for column, default in (("event_id", None), ("relevant", False), ("event_evidence", None), ("reference_date", None)):
        docs[column] = default  # filled by build_records
    return conform("documents", docs.sort_values("doc_id"))


def build_rejections(rejections: pd.DataFrame) -> pd.DataFrame:
    return conform("rejections", rejections.sort_values("file"))


def build_tables(sources: pd.DataFrame, paragraphs: pd.DataFrame, info: pd.DataFrame,
                 rejections: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The extract stage: every table of ``schemas/`` from the cleaned, deduplicated paragraphs."""
    documents = build_documents(sources, paragraphs, info)
    return {
        "paragraphs": paragraphs,
        "rejections": build_rejections(rejections),
        **build_records(sources, documents, paragraphs),
    }


def build_records(sources: pd.DataFrame, documents: pd.DataFrame, paragraphs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The record tables of the content paragraphs, and ``documents`` with event_id/relevant/dates.

    Returns ``{"documents", "entities", "mentions", "events", "participants", "quotes", "facts",
    "statements"}``: entities and events first, then the paragraph records (quotes resolve their
    speakers against the entities; statements take their event from the documents). ``sources`` is
    the ingest table (kept in the signature for stages that need the raw text; unused here).
    """
    from flows.entities import build_entities
    from flows.events import build_events
    from flows.records import build_paragraph_records

    with _gc_paused():
        paras, resolution = build_entities(paragraphs)
        events, participants, docs = build_events(paras, resolution, documents, paragraphs)
        docs = conform("documents", docs)
        records = build_paragraph_records(paragraphs, docs, entities=resolution.entities)
    return {
        "documents": docs,
        "entities": resolution.entities,
        "mentions": resolution.mentions,
        "events": events,
        "participants": participants,
        **records,
    }


@contextlib.contextmanager
def _gc_paused():
    """Pause Python's cyclic garbage collector while the extract stage allocates its many small,
    acyclic records (paragraph scans, mentions): its full passes over a growing heap cost 10-40 % of
    the stage on a large corpus. Reference counting still frees memory; the collector resumes after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
