"""The real Wikinews corpus (unrelated news, no debris): cleaning must not throw article text away."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from rapidfuzz import fuzz

from flows.clean import clean
from flows.common.text import normalize
from flows.dedup import dedup

ROOT = Path(__file__).resolve().parent.parent


def _wikinews() -> Path | None:
    from flows.common.paths import shared_corpus

    return shared_corpus("wikinews")


@pytest.fixture(scope="module")
def wikinews():
    path = _wikinews()
    if path is None or not any(path.glob("*.txt")):
        pytest.skip("the Wikinews corpus (../shared/corpus/wikinews) is not present")
    files = sorted(path.glob("*.txt"))
    sources = pd.DataFrame({"doc_id": [f"d{i:016x}" for i in range(len(files))],
                            "text": [f.read_text(encoding="utf-8") for f in files],
                            "outlet": ["Wikinews"] * len(files)})
    paragraphs, info = clean.clean(sources)
    return sources, dedup.dedup(paragraphs), info


def test_no_wikinews_paragraph_is_boilerplate(wikinews):
    _, p, _ = wikinews
    assert (p["status"] != "boilerplate").all(), p.loc[p["status"] == "boilerplate", ["reason", "text"]]


def test_every_wikinews_article_starts_with_its_title(wikinews):
    _, p, _ = wikinews
    first = p[p["position"] == 0]
    assert (first["status"] == "title").all()
    assert (p.loc[p["position"] > 0, "status"] != "title").all()


def test_wikinews_duplicates_are_only_long_near_verbatim_repeats(wikinews):
    """Real articles repeat near-identical short paragraphs with other facts (interview questions, captions,
    predictions with other numbers): those stay content. The only duplicates allowed are long paragraphs
    printed again nearly verbatim in the same article (and there must be almost none)."""
    _, p, _ = wikinews
    dups = p[p["status"] == "duplicate"]
    assert len(dups) <= 0.001 * len(p)
    by_id = p.set_index("para_id")
    for row in dups.itertuples():
        first = by_id.loc[row.duplicate_of]
        assert first["doc_id"] == row.doc_id
        assert min(row.n_words, first["n_words"]) >= 25
        assert fuzz.ratio(normalize(row.text), normalize(first["text"])) >= 85


def test_wikinews_text_is_found_at_its_offsets(wikinews):
    sources, p, _ = wikinews
    texts = dict(zip(sources["doc_id"], sources["text"]))
    assert all(texts[r.doc_id][r.char_start:r.char_end] == r.text for r in p.itertuples())
