"""Extract: turn cleaned paragraphs into the published record tables.

For now: ``documents`` (one row per distinct article, with its counts) and ``paragraphs``.
"""

from __future__ import annotations

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
    return conform("documents", docs.sort_values("doc_id"))


def build_rejections(rejections: pd.DataFrame) -> pd.DataFrame:
    return conform("rejections", rejections.sort_values("file"))
