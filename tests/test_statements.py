"""Statements: what the parties agreed, affirmed, committed to, per event and topic."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SEED_001, SEED_002, SEED_004
from records_fixtures import documents_frame, paragraphs_frame, wikinews_dir

import schemas
from flows.extract import extract
from flows.extract.statements import extract_statements, topic_ids

SEED_000 = "000_ca143bf73221bda8.txt"
SEED_003 = "003_089ddac6a1f07b1a.txt"
# The tests know which dialogue each seed reports (the pipeline decides that elsewhere, from the text).
EVENT_OF = {SEED_000: "e2024", SEED_002: "e2024", SEED_001: "e2023", SEED_003: "e2023", SEED_004: "e2023"}


@pytest.fixture(scope="module")
def seed_statements(seed_tables):
    docs = seed_tables["documents"].copy()
    docs["event_id"] = docs["source_file"].map(EVENT_OF)
    docs["relevant"] = True
    return extract_statements(seed_tables["paragraphs"], docs)


def _topics(statements, event):
    return set(statements.loc[statements["event_id"] == event, "topic"])


def test_statements_per_event_and_topic(seed_statements):
    first = _topics(seed_statements, "e2023")
    assert {"repatriation", "foreign_military_sales_financing", "advisory_role", "protection_of_personnel",
            "higher_military_commission", "training_and_education", "exercises",
            "future_dialogues"} <= first
    second = _topics(seed_statements, "e2024")
    assert {"repatriation", "foreign_military_sales_financing", "advisory_role", "protection_of_personnel",
            "memorandum_of_understanding", "training_and_education", "exercises", "new_phase"} <= second
    # the memorandum of understanding was decided at the second dialogue only
    assert "memorandum_of_understanding" not in first


def test_statement_rows_carry_party_verb_and_provenance(seed_tables, seed_statements):
    paras = seed_tables["paragraphs"].set_index("para_id")
    for s in seed_statements.itertuples():
        assert paras.loc[s.para_id, "text"][s.char_start:s.char_end] == s.text
        assert paras.loc[s.para_id, "doc_id"] == s.doc_id and paras.loc[s.para_id, "status"] == "content"
        assert s.n_sources >= 1
    mou = seed_statements[seed_statements["topic"] == "memorandum_of_understanding"].iloc[0]
    assert (mou.verb, mou.verb_class, mou.party) == ("decided", "agreement", "The two sides")
    hmc = seed_statements[(seed_statements["topic"] == "higher_military_commission")
                          & (seed_statements["verb"] == "agreed")].iloc[0]
    assert "delegations" in hmc.party and "higher military commission" in hmc.text
    assert seed_statements["statement_id"].is_unique


def test_background_sentences_are_not_statements(seed_statements):
    # reporting about others ("Kurdish and American officials have repeatedly called on countries")
    # and the writer's passive comments ("was underscored during a crucial meeting") are not statements
    assert not seed_statements["text"].str.contains("called on countries|was underscored|formally established",
                                                    regex=True).any()


def test_no_event_no_statements(seed_tables):
    docs = seed_tables["documents"]
    assert extract_statements(seed_tables["paragraphs"], docs.drop(columns=["event_id"])).empty  # no event column
    none = docs.assign(event_id=pd.array([None] * len(docs), dtype="str"))
    assert extract_statements(seed_tables["paragraphs"], none).empty
    irrelevant = docs.assign(event_id="e1", relevant=False)
    assert extract_statements(seed_tables["paragraphs"], irrelevant).empty


def test_same_statement_in_a_paragraph_cluster_is_one_row_with_its_sources():
    text = "The two delegations agreed to form a higher military commission."
    paras = paragraphs_frame([("d1", text), ("d2", text)], cluster_ids=["c1", "c1"])
    docs = documents_frame(["d1", "d2"], ["e1", "e1"])
    s = extract_statements(paras, docs)
    assert s.set_index("doc_id")["n_sources"].to_dict() == {"d1": 2}
    assert set(s["topic"]) == {"higher_military_commission"}
    # a different event never shares a row
    docs2 = documents_frame(["d1", "d2"], ["e1", "e2"])
    assert len(extract_statements(paras, docs2)) == 2


def test_the_same_sentence_in_two_outlets_own_paragraphs_is_one_statement():
    """A joint statement's line quoted by two outlets, each in a paragraph of its own (no shared
    cluster), is one statement carried by two documents and two outlets; another sentence is another."""
    line = "The two delegations agreed to form a higher military commission."
    paras = paragraphs_frame([("d1", "In Washington on Tuesday, " + line[0].lower() + line[1:]),
                              ("d2", line + " The talks will continue."),
                              ("d3", "The two delegations agreed to hold training exercises next spring.")],
                             cluster_ids=["c1", "c2", "c3"])
    docs = documents_frame(["d1", "d2", "d3"], ["e1", "e1", "e1"])
    docs["outlet"] = ["Outlet A", "Outlet B", "Outlet A"]
    s = extract_statements(paras, docs)
    hmc = s[s["topic"] == "higher_military_commission"]
    assert len(hmc) == 1 and (hmc["n_sources"].item(), hmc["n_outlets"].item()) == (2, 2)
    exercises = s[s["topic"] == "exercises"]
    assert len(exercises) == 1 and (exercises["n_sources"].item(), exercises["n_outlets"].item()) == (1, 1)


def test_topic_vocabulary_is_the_schema_enum():
    assert list(schemas.table("statements").field("topic").enum) == topic_ids()


def test_unrelated_news_gives_no_statements():
    corpus = wikinews_dir()
    if corpus is None:
        pytest.skip("the wikinews corpus (shared/corpus/wikinews) is not available; set WIKINEWS_DIR")
    from flows.clean import clean
    from flows.dedup import dedup
    from flows.ingest import ingest

    sources, _ = ingest.ingest(corpus)
    paragraphs, info = clean.clean(sources)
    paragraphs = dedup.mark_exact_repeats(paragraphs)
    docs = extract.build_documents(sources, paragraphs, info)
    docs["event_id"] = pd.array([None] * len(docs), dtype="str")  # off-subject: no event
    assert len(docs) > 200
    assert extract_statements(paragraphs, docs).empty


def test_empty_inputs_give_empty_tables_with_their_schema():
    paragraphs, documents = schemas.empty_frame("paragraphs"), schemas.empty_frame("documents")
    out = extract.build_records(schemas.empty_frame("documents"), documents, paragraphs)
    for name in ("quotes", "facts", "statements", "entities", "mentions", "events", "participants"):
        assert out[name].empty and list(out[name].columns) == schemas.table(name).columns
