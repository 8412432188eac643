"""Property-based tests (hypothesis) of clean + dedup on generated articles."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.clean import clean
from flows.dedup import dedup

SENTENCES = [
    "The ministers met in the capital on Monday to discuss the security agreement and its future.",
    "Officials said the talks would continue next month after the two delegations return home.",
    "Heavy rain flooded several streets in the old city overnight, the municipality said on Sunday.",
    "ERBIL, Kurdistan Region - The regional government announced new salaries for public employees.",
    "the committee is expected to publish its findings",
    "Yes.",
]
DEBRIS = ["Post a comment", "Required", "A+ A-", "3 hours ago", "The Latest", "Comments", "Rudaw", "Share"]
STATUSES = {"content", "title", "duplicate", "boilerplate"}

line = st.one_of(st.sampled_from(SENTENCES), st.sampled_from(DEBRIS),
                 st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60))
separator = st.sampled_from(["\n", "\n\n", "\r\n", "\n \n", "\n\u00a0\n", "\n\n\n"])


@st.composite
def article(draw):
    lines = draw(st.lists(line, min_size=1, max_size=12))
    if draw(st.booleans()):  # a body printed twice
        lines = lines + lines
    seps = draw(st.lists(separator, min_size=len(lines), max_size=len(lines)))
    return "".join(l + s for l, s in zip(lines, seps))


def build(texts: list[str]) -> pd.DataFrame:
    sources = pd.DataFrame({"doc_id": [f"d{i:016x}" for i in range(len(texts))], "text": texts,
                            "outlet": ["Example"] * len(texts)})
    paragraphs, _ = clean.clean(sources)
    return dedup.dedup(paragraphs)


PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(st.lists(article(), min_size=1, max_size=3))
def test_statuses_partition_the_paragraphs_and_reasons_match(texts):
    p = build(texts)
    assert set(p["status"]) <= STATUSES
    assert p["para_id"].is_unique
    counts = p["status"].value_counts()
    assert counts.sum() == len(p)
    assert p.loc[p["status"].isin(["boilerplate", "duplicate"]), "reason"].notna().all()
    assert p.loc[p["status"] == "content", "reason"].isna().all()
    dup = p["status"] == "duplicate"
    assert p.loc[dup, "duplicate_of"].isin(p.loc[p["status"] == "content", "para_id"]).all()
    assert p.loc[p["status"].isin(["content", "duplicate"]), "cluster_id"].notna().all()


@PROPS
@given(st.lists(article(), min_size=1, max_size=3))
def test_every_paragraph_is_found_at_its_offsets_and_nothing_is_lost(texts):
    p = build(texts)
    by_doc = {f"d{i:016x}": t for i, t in enumerate(texts)}
    for row in p.itertuples():
        raw = by_doc[row.doc_id]
        assert raw[row.char_start:row.char_end] == row.text
        assert row.char_start <= row.body_start < row.char_end
    for doc_id, raw in by_doc.items():
        rows = p[p["doc_id"] == doc_id].sort_values("position")
        # paragraphs are in order, do not overlap, and cover every non-blank character
        covered = set()
        last_end = -1
        for row in rows.itertuples():
            assert row.char_start >= last_end
            last_end = row.char_end
            covered.update(range(row.char_start, row.char_end))
        assert all(i in covered for i, ch in enumerate(raw) if not ch.isspace())


@PROPS
@given(st.lists(article(), min_size=1, max_size=3))
def test_running_twice_gives_identical_output(texts):
    a = build(texts)
    b = build(texts)
    pd.testing.assert_frame_equal(a, b)
