"""Quotes: marks, unclosed quotes, partial quotes, social posts, speakers and their entities."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SEED_001, SEED_002, doc_paragraphs
from records_fixtures import documents_frame, paragraphs_frame

from flows.extract.quotes import extract_quotes, name_label, quote_spans

SEED_000 = "000_ca143bf73221bda8.txt"


@pytest.fixture(scope="module")
def seed_quotes(seed_tables):
    return extract_quotes(seed_tables["paragraphs"], seed_tables["documents"])


def _doc_quotes(seed_tables, quotes, source_file):
    docs = seed_tables["documents"]
    doc_id = docs.loc[docs["source_file"] == source_file, "doc_id"].item()
    return quotes[quotes["doc_id"] == doc_id]


def _one(quotes, fragment):
    hit = quotes[quotes["text"].str.contains(fragment, regex=False)]
    assert len(hit) == 1, (fragment, hit[["text", "speaker_label"]])
    return hit.iloc[0]


def test_offsets_point_at_the_quoted_text_without_marks(seed_tables, seed_quotes):
    paras = seed_tables["paragraphs"].set_index("para_id")["text"]
    assert len(seed_quotes) >= 10
    for q in seed_quotes.itertuples():
        assert paras[q.para_id][q.char_start:q.char_end] == q.text
        assert q.text[0] not in "\u201c\u201d\"" and q.text[-1] not in "\u201c\u201d\""


def test_only_content_paragraphs_are_read(seed_tables, seed_quotes):
    status = seed_tables["paragraphs"].set_index("para_id")["status"]
    assert (seed_quotes["para_id"].map(status) == "content").all()
    # 001 repeats its body: the repeated joint-statement quote is not counted twice
    q001 = _doc_quotes(seed_tables, seed_quotes, SEED_001)
    assert q001["text"].str.startswith("The U.S. and Iraqi delegations reaffirmed").sum() == 1


def test_joint_statement_quotes_and_it_added(seed_tables, seed_quotes):
    q001 = _doc_quotes(seed_tables, seed_quotes, SEED_001)
    q = _one(q001, "reaffirmed their commitment to developing Iraq's security")
    assert (q.speaker_label, q.quote_type, q.closed) == ("joint statement", "direct", True)
    q002 = _doc_quotes(seed_tables, seed_quotes, SEED_002)
    assert _one(q002, "reached an understanding on the concept").speaker_label == "joint statement"  # read the joint statement
    assert _one(q002, "The Iraqi representatives reaffirmed").speaker_label == "joint statement"  # the joint statement read
    assert _one(q002, "Foreign Military Sales and Foreign Military Financing").speaker_label == "joint statement"  # it added
    assert _one(q002, "A detailed joint statement on the future").speaker_label == "joint statement"  # it noted


def test_named_speakers_said_and_told(seed_tables, seed_quotes):
    q002 = _doc_quotes(seed_tables, seed_quotes, SEED_002)
    austin = _one(q002, "Our bond is especially important")
    assert austin.speaker_label == "Lloyd Austin" and austin.quote_type == "direct"
    miller = _one(q002, "the question about the United States military presence")
    assert miller.speaker_label == "Mathew Miller" and miller.quote_type == "direct"
    assert miller.text.endswith("ongoing discussion with them.")


def test_embedded_social_post_is_a_quote_by_its_author(seed_tables, seed_quotes):
    q001 = _doc_quotes(seed_tables, seed_quotes, SEED_001)
    post = q001[q001["is_social_post"]]
    assert len(post) == 1
    post = post.iloc[0]
    assert post.text.startswith("Today I welcomed Iraqi Defense Minister")
    assert "pic.twitter.com" not in post.text
    assert "Austin" in post.speaker_label and "Secretary" not in post.speaker_label
    assert not post.closed  # the post is cut off with an ellipsis
    # the attribution line itself is not a quote
    assert not q001["text"].str.contains("@SecDef").any()


def test_partial_and_unclosed_quotes(seed_tables, seed_quotes):
    q001 = _doc_quotes(seed_tables, seed_quotes, SEED_001)
    partial = _one(q001, "urgent need to repatriate")
    assert partial.text == "urgent need to repatriate" and partial.quote_type == "partial" and partial.closed
    assert _one(q001, "successful completion").speaker_label == "joint statement"  # "The joint statement added that"
    q000 = _doc_quotes(seed_tables, seed_quotes, SEED_000)
    unclosed = _one(q000, "a set of bilateral security issues")
    para = doc_paragraphs(seed_tables, SEED_000).set_index("para_id").loc[unclosed.para_id, "text"]
    assert not unclosed.closed and unclosed.char_end == len(para.rstrip())
    assert unclosed.speaker_label == "joint statement"  # "According to the joint statement, ..."
    assert unclosed.quote_type == "direct"  # a long quoted passage, though it continues the sentence


def test_quote_marks_straight_curly_and_never_closed():
    text = 'He said "one two" and \u201cthree four\u201d then \u201cfive six'
    spans = [(text[s:e], closed) for _, s, e, _, closed in quote_spans(text)]
    assert spans == [("one two", True), ("three four", True), ("five six", False)]
    text = "\u201cfirst never closes \u201csecond does\u201d"
    assert [(text[s:e], c) for _, s, e, _, c in quote_spans(text)] == [("first never closes", False),
                                                                          ("second does", True)]
    assert quote_spans('a stray \u201d mark and "" empty') == []


def test_name_label_strips_titles_keeps_names():
    assert name_label("State Department Spokesperson Mathew Miller") == "Mathew Miller"
    assert name_label("US Department of Defense Secretary Lloyd Austin") == "Lloyd Austin"
    assert name_label("Iraqi Prime Minister Mohammed Shia al-Sudani") == "Mohammed Shia al-Sudani"
    assert name_label("the State Department") == "State Department"


def _entities():
    return pd.DataFrame({
        "entity_id": ["n_austin", "n_smith", "o_dod", "l_iraq"],
        "entity_type": ["person", "person", "organization", "location"],
        "canonical_name": ["Lloyd Austin", "Lloyd Smith", "Department of Defense", "Iraq"],
        "aliases": [["Lloyd J. Austin III", "Austin"], [], ["Pentagon", "DoD"], []],
        "country": ["United States", "United States", "United States", "Iraq"],
        "title": ["Secretary of Defense", None, None, None],
    })


def test_speaker_resolves_to_entities_conservatively():
    paras = paragraphs_frame([
        ("d1", '"We will stay," said Defense Secretary Lloyd J. Austin III on Monday.'),
        ("d1", '"It is over," Lloyd Austin told reporters.'),
        ("d1", '"Not me," said Lloyd Smithers.'),
        ("d1", '"Thanks," the joint statement read.'),
        ("d1", '"Here," said Iraq.'),
    ])
    q = extract_quotes(paras, documents_frame(["d1"]), _entities()).set_index("text")
    assert q.loc["We will stay", "speaker_entity_id"] == "n_austin"
    assert q.loc["It is over", "speaker_entity_id"] == "n_austin"
    assert pd.isna(q.loc["Not me", "speaker_entity_id"])  # a different person never merges
    assert pd.isna(q.loc["Thanks", "speaker_entity_id"])  # a document is no entity
    assert pd.isna(q.loc["Here", "speaker_entity_id"])  # a location is not a speaker entity
    # without entities nothing resolves, labels stay
    bare = extract_quotes(paras, documents_frame(["d1"]))
    assert bare["speaker_entity_id"].isna().all() and bare["speaker_label"].notna().sum() == 5


def test_pronoun_carries_previous_speaker_only_within_the_document():
    paras = paragraphs_frame([
        ("d1", '"First," said Jane Roe.'),
        ("d1", '"Second," she added.'),
        ("d2", '"Third," it added.'),
    ])
    q = extract_quotes(paras, documents_frame(["d1", "d2"])).set_index("text")
    assert q.loc["Second", "speaker_label"] == "Jane Roe"
    assert pd.isna(q.loc["Third", "speaker_label"])


def test_ids_are_deterministic(seed_tables, seed_quotes):
    again = extract_quotes(seed_tables["paragraphs"], seed_tables["documents"])
    assert again["quote_id"].tolist() == seed_quotes["quote_id"].tolist()
    assert seed_quotes["quote_id"].is_unique


def test_fuzzy_speaker_match_never_merges_two_people():
    ents = pd.DataFrame({
        "entity_id": ["n_thabet", "n_john"],
        "entity_type": ["person", "person"],
        "canonical_name": ["Thabet Muhammad al-Abbasi", "John Smith"],
        "aliases": [["Thabet al-Abbasi"], []],
        "country": ["Iraq", None],
        "title": [None, None],
    })
    paras = paragraphs_frame([
        ("d1", '"Yes," said Defense Minister Thabit al-Abbasi.'),
        ("d1", '"No," said Joan Smith.'),
    ])
    q = extract_quotes(paras, documents_frame(["d1"]), ents).set_index("text")
    assert q.loc["Yes", "speaker_entity_id"] == "n_thabet"
    assert pd.isna(q.loc["No", "speaker_entity_id"])


def test_any_text_gives_quotes_whose_offsets_hold():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    alphabet = st.sampled_from(list('ab Cd.,:;"\u201c\u201d\u2019@—-\n') + ["said", " told ", "It added", "Jane Roe"])

    @settings(max_examples=100, deadline=None)
    @given(st.lists(alphabet, max_size=40).map("".join))
    def check(text):
        paras = paragraphs_frame([("d1", text), ("d1", "\u2014 Jane Roe (@jroe) May 1, 2020")])
        for q in extract_quotes(paras, documents_frame(["d1"])).itertuples():
            source = paras.set_index("para_id").loc[q.para_id, "text"]
            assert 0 <= q.char_start < q.char_end <= len(source)
            assert source[q.char_start:q.char_end] == q.text

    check()


def test_entities_read_back_from_parquet_resolve_too(tmp_path):
    ents = _entities()
    ents.to_parquet(tmp_path / "e.parquet")
    back = pd.read_parquet(tmp_path / "e.parquet")  # aliases come back as numpy arrays
    back.loc[3, "aliases"] = None
    paras = paragraphs_frame([("d1", '"We will stay," said Lloyd J. Austin III.')])
    q = extract_quotes(paras, documents_frame(["d1"]), back)
    assert q["speaker_entity_id"].tolist() == ["n_austin"]


def test_sentence_spans_read_only_the_end_of_a_sentence_for_abbreviations():
    """``sentence_spans`` tests for an abbreviation on the last characters before a period only; it
    splits every text as testing the whole sentence so far does (hypothesis: initials, runs of
    initials longer than the window, abbreviations, quotes)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from flows.extract import spans

    def by_whole_head(text):
        out, start = [], 0
        for m in spans._END.finditer(text):
            if m.group().startswith(".") and spans._ABBREV.search(text[start:m.start()]):
                continue
            seg = text[start:m.end()].rstrip()
            if seg.strip():
                out.append((start + (len(seg) - len(seg.lstrip())), start + len(seg)))
            start = m.end()
        seg = text[start:]
        if seg.strip():
            out.append((start + len(seg) - len(seg.lstrip()), start + len(seg.rstrip())))
        return out

    pieces = st.sampled_from(["U.", "S.", "A", "Mr.", "Gen.", "approx.", "said.", " ", "  ", "The ", "It ",
                              "\u201cYes.\u201d ", "x", "9", "! ", "? ", "...", "Jan. 5", "e.g.", "J. R. R."])
    long_initials = st.integers(1, 20).map(lambda n: "A." * n + "B. Next")

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.one_of(pieces, long_initials), max_size=30).map("".join))
    def check(text):
        assert spans.sentence_spans(text) == by_whole_head(text)

    check()


def test_quotes_the_batches_found_give_the_same_table(seed_tables, monkeypatch):
    """The per-document batches find each paragraph's quotes (flows.extract.scans.scan_paragraphs); the
    quotes table built from them is the one read here from the paragraphs."""
    from flows.extract import extract, quotes
    from flows.extract.scans import quotes_of, scan_paragraphs

    paragraphs, documents, entities = seed_tables["paragraphs"], seed_tables["documents"], seed_tables["entities"]
    expected = extract_quotes(paragraphs, documents, entities)
    found = quotes_of(scan_paragraphs(paragraphs).quotes)
    assert len(found) >= 10 and expected.loc[~expected["is_social_post"], "para_id"].isin(list(found)).all()
    read = []
    monkeypatch.setattr(quotes, "quotes_in", lambda text: read.append(text) or ())
    pd.testing.assert_frame_equal(extract_quotes(paragraphs, documents, entities, found=found), expected)
    assert read == []  # nothing read again
    # the build's own table: the same quotes, each with its document's event (extract.with_event)
    pd.testing.assert_frame_equal(seed_tables["quotes"], extract.with_event(expected, documents, "quotes"))
