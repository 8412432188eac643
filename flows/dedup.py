"""Dedup: mark paragraphs that repeat an earlier paragraph of the same document.

A repeat keeps its row (status ``duplicate``, reason ``exact_repeat``) and points at its first
occurrence in ``duplicate_of``. Only content paragraphs are compared; titles and boilerplate keep
their status.
"""

from __future__ import annotations

import pandas as pd

from flows.text import normalize


def mark_exact_repeats(paragraphs: pd.DataFrame) -> pd.DataFrame:
    out = paragraphs.copy()
    content = out["status"] == "content"
    keys = out.loc[content, "text"].map(normalize)
    frame = pd.DataFrame({"doc_id": out.loc[content, "doc_id"], "key": keys, "para_id": out.loc[content, "para_id"]})
    first = frame.groupby(["doc_id", "key"], sort=False)["para_id"].transform("first")
    repeat = first != frame["para_id"]
    idx = frame.index[repeat]
    out.loc[idx, "status"] = "duplicate"
    out.loc[idx, "reason"] = "exact_repeat"
    out.loc[idx, "duplicate_of"] = first[repeat]
    return out
