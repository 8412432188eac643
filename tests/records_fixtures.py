"""Small frames shared by the quotes/facts/statements tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from flows.common.text import stable_id


def paragraphs_frame(rows: list[tuple[str, str]], cluster_ids: list[str] | None = None) -> pd.DataFrame:
    """Content paragraphs from (doc_id, text) pairs, positions in order within each document."""
    out, pos = [], {}
    for doc_id, text in rows:
        p = pos.get(doc_id, 0)
        pos[doc_id] = p + 1
        out.append({"para_id": stable_id("p", doc_id, p), "doc_id": doc_id, "position": p, "text": text,
                    "status": "content"})
    df = pd.DataFrame(out)
    if cluster_ids is not None:
        df["cluster_id"] = cluster_ids
    return df


def documents_frame(doc_ids, event_ids=None) -> pd.DataFrame:
    df = pd.DataFrame({"doc_id": list(dict.fromkeys(doc_ids))})
    if event_ids is not None:
        df["event_id"] = pd.array(event_ids, dtype="str")
    return df


def wikinews_dir() -> Path | None:
    from flows.common.paths import shared_corpus

    return shared_corpus("wikinews")
