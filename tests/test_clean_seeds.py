"""Cleaning and exact-repeat marking on the real seeds."""

from __future__ import annotations

from conftest import SEED_001, SEED_002, SEED_004, doc_paragraphs

from flows.clean import clean
from flows.common.text import normalize


def test_every_paragraph_of_001_repeated_body_points_at_its_first_occurrence(seed_tables):
    paras = doc_paragraphs(seed_tables, SEED_001)
    dups = paras[paras["status"] == "duplicate"]
    assert len(dups) == 14
    by_id = paras.set_index("para_id")
    for row in dups.itertuples():
        first = by_id.loc[row.duplicate_of]
        assert first["status"] == "content"
        assert normalize(first["text"]) == normalize(row.text)
        assert first["position"] < row.position
        # the first occurrence is the earliest paragraph with that text
        same = paras[paras["text"].map(normalize) == normalize(row.text)]
        assert same["position"].min() == first["position"]
    # every first occurrence is content, and the embedded social-media post is content
    assert (paras.loc[~paras["para_id"].isin(dups["para_id"]) & (paras["position"] > 0), "status"] == "content").all()
    assert paras["text"].str.contains("pic.twitter.com").any()
    post = paras[paras["text"].str.contains("pic.twitter.com")]
    assert (post["status"] == "content").all()


def test_comment_forms_widgets_timestamps_and_sidebar_are_boilerplate(seed_tables):
    p = seed_tables["paragraphs"]
    debris = ["Post a Comment", "No comments:", "Please enter your comment!", "Please enter your name here",
              "A+ A-", "3 hours ago", "Required", "Post a comment", "The Latest", "Comments",
              "Harris to seek party's nomination after Biden\u2019s endorsement"]
    for text in debris:
        rows = p[p["text"] == text]
        assert len(rows), text
        assert (rows["status"] == "boilerplate").all(), text
        assert rows["reason"].notna().all(), text


def test_sidebar_after_the_latest_is_not_article_text(seed_tables):
    paras = doc_paragraphs(seed_tables, SEED_002)
    start = paras.loc[paras["text"] == "The Latest", "position"].item()
    after = paras[paras["position"] >= start]
    assert (after["reason"] == "sidebar").all()
    assert after["text"].str.contains("Harris").any()


def test_titles_and_their_repeats(seed_tables):
    paras = doc_paragraphs(seed_tables, SEED_004)
    titles = paras[paras["status"] == "title"]
    assert len(titles) == 3
    assert titles["text"].nunique() == 1
    first = titles.iloc[0]
    assert first["position"] == 0 and first["duplicate_of"] is None or first["duplicate_of"] != first["duplicate_of"]
    assert (titles.iloc[1:]["duplicate_of"] == first["para_id"]).all()


def test_a_first_line_that_is_a_sentence_is_content_not_a_title(seed_tables):
    docs = seed_tables["documents"]
    row = docs[docs["source_file"] == "000_ca143bf73221bda8.txt"].iloc[0]
    assert row["title"] is None or row["title"] != row["title"]
    paras = doc_paragraphs(seed_tables, "000_ca143bf73221bda8.txt")
    assert paras.iloc[0]["status"] == "content"


def test_paragraph_text_is_found_at_its_offsets(seed_tables):
    texts = dict(zip(seed_tables["sources"]["doc_id"], seed_tables["sources"]["text"]))
    for row in seed_tables["paragraphs"].itertuples():
        assert texts[row.doc_id][row.char_start:row.char_end] == row.text


def test_no_content_line_of_a_seed_is_lost(seed_tables):
    """Every non-blank line of every raw file is a paragraph row."""
    for rec in seed_tables["sources"].itertuples():
        lines = [ln.strip() for ln in rec.text.splitlines() if ln.strip()]
        paras = seed_tables["paragraphs"]
        assert paras.loc[paras["doc_id"] == rec.doc_id, "text"].tolist() == lines


def test_ids_are_deterministic():
    from conftest import RAW

    from flows.ingest import ingest

    a, _ = ingest.ingest(RAW)
    b, _ = ingest.ingest(RAW)
    pa, _ = clean.clean(a)
    pb, _ = clean.clean(b)
    assert pa["para_id"].tolist() == pb["para_id"].tolist()
    assert a["doc_id"].tolist() == b["doc_id"].tolist()


def test_dateline_and_outlet_byline(seed_tables):
    docs = seed_tables["documents"].set_index("source_file")
    assert docs.loc[SEED_001, "dateline"] == "ERBIL, Kurdistan Region"
    assert docs.loc[SEED_002, "outlet"] == "Rudaw"
    p = seed_tables["paragraphs"]
    assert (p.loc[p["text"] == "Rudaw", "reason"] == "byline").all()
