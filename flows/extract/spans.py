"""Helpers shared by the record extractors (quotes, facts, statements): regular
expressions built from word lists, sentence spans and the content paragraphs they read."""

from __future__ import annotations

import re

import pandas as pd


def alternation(phrases, *, words: bool = True) -> str:
    """A regex alternation of the phrases, longest first, spaces matching any whitespace.
    With ``words`` the phrases must stand as whole words."""
    parts = sorted({str(p) for p in phrases}, key=len, reverse=True)
    body = "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in parts)
    if not words:
        return f"(?:{body})"
    return rf"(?<![\w\-])(?:{body})(?![\w\-])"


# A sentence ends at . ! ? (and any closing quote/bracket after it) followed by whitespace and an
# upper-case letter, digit or opening quote, unless the period ends an abbreviation or an initial.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9])")
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Lt|Col|Maj|Capt|Sgt|Adm|Gov|Sen|Rep|St|Jr|Sr|No|Vol|Fig|Inc|Ltd|Co|Corp"
    r"|vs|etc|Jan|Feb|Mar|Apr|Aug|Sept?|Oct|Nov|Dec|approx)"
    r"|\b[A-Z]|\b(?:[A-Za-z]\.)+[A-Za-z])$"
)


_ABBREV_TAIL = 16  # characters before a period that the abbreviation test reads


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``; offsets into ``text``, whitespace trimmed."""
    spans = []
    start = 0
    for m in _END.finditer(text):
        # the abbreviation test reads the end of the sentence so far only: a match ending there
        # that starts earlier is a run of initials ("U.S.A"), whose last three characters match too
        if m.group().startswith(".") and _ABBREV.search(text[max(start, m.start() - _ABBREV_TAIL):m.start()]):
            continue
        end = m.end()
        seg = text[start:end].rstrip()
        if seg.strip():
            spans.append((start + (len(seg) - len(seg.lstrip())), start + len(seg)))
        start = end
    seg = text[start:]
    if seg.strip():
        lead = len(seg) - len(seg.lstrip())
        spans.append((start + lead, start + len(seg.rstrip())))
    return spans


def content_rows(paragraphs: pd.DataFrame, doc_ids=None):
    """Positions in ``paragraphs`` of its content paragraphs (of the documents ``doc_ids`` only, if
    given), in reading order (doc_id, then position)."""
    import numpy as np

    from flows.common import frames

    keep = (paragraphs["status"] == "content").to_numpy(dtype=bool, na_value=False, copy=True)
    if doc_ids is not None:
        keep &= frames.isin(paragraphs["doc_id"], doc_ids if isinstance(doc_ids, pd.Series) else list(doc_ids))
    rows = np.flatnonzero(keep)
    if "position" not in paragraphs.columns:
        return rows
    keys = paragraphs[["doc_id", "position"]].iloc[rows]
    keys.index = rows
    return keys.sort_values(["doc_id", "position"], kind="stable").index.to_numpy()


def content_paragraphs(paragraphs: pd.DataFrame, columns=None, doc_ids=None) -> pd.DataFrame:
    """Content paragraphs in reading order, with a ``cluster_id`` for each.

    ``columns``: only these columns (and ``cluster_id``); ``doc_ids``: only the paragraphs of these
    documents. The rows are taken once, in their order (:func:`content_rows`: the paragraphs' text
    is not copied for a filter and again for a sort)."""
    wanted = None if columns is None else {*columns, "para_id", "cluster_id"}
    p = paragraphs[[c for c in paragraphs.columns if wanted is None or c in wanted]].iloc[
        content_rows(paragraphs, doc_ids)]  # a new frame (taking rows copies them): changing it leaves paragraphs as is
    # Until the cleaning stage provides near-duplicate clusters, each paragraph is its own cluster.
    p["cluster_id"] = p["cluster_id"].fillna(p["para_id"]) if "cluster_id" in p else p["para_id"]
    return p
