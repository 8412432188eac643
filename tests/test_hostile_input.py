"""Hostile and odd raw folders (issue 31): no crash, nothing read outside the raw folder, every entry
accounted for with a reason, nothing silent. Plain stage functions (ingest, the batches of the flow,
``flows.build``); the flow itself runs on the same inputs in ``test_ingest_flow.py``."""

from __future__ import annotations

from test_bad_input import ENGLISH

from flows import ingest


# --- 1. one input must not stop the whole run -----------------------------------------------------

def test_a_line_of_a_million_characters_is_a_document(raw_copy):
    """spaCy refuses texts over nlp.max_length (1,000,000 characters: E088) unless told otherwise."""
    from flows.build import build

    line = (ENGLISH.strip() + " ") * (1_000_001 // len(ENGLISH) + 1)
    (raw_copy / "one line.txt").write_text("A long line\n\n" + line[:1_000_001] + "\n", encoding="utf-8")
    assert (raw_copy / "one line.txt").stat().st_size < ingest.load_config().max_bytes
    sources, tables, _ = build(raw_copy)
    docs = tables["documents"]
    assert "one line.txt" in set(docs["source_file"])
    doc_id = docs.loc[docs["source_file"] == "one line.txt", "doc_id"].item()
    paras = tables["paragraphs"][tables["paragraphs"]["doc_id"] == doc_id]
    assert paras["text"].str.len().max() == 1_000_001
    assert tables["rejections"].empty
