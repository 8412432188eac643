"""Unseen articles (issue 4): editions, dates and people come from the text, never from the code."""

from __future__ import annotations

import pytest

THIRD = """Iraq and US hold third security dialogue in Baghdad

BAGHDAD - The third U.S.-Iraq Joint Security Cooperation Dialogue was held in Baghdad on March 3-4, 2026, the two governments said.

An Iraqi delegation headed by Defense Minister Karim Hassan al-Jubouri and a U.S. delegation led by Under Secretary of Defense Maria Lopez discussed training and the future of the coalition.

Al-Jubouri met with U.S. Ambassador John Carter the following day, a statement said.
"""

UNRELATED = """Oil prices rise after OPEC meeting

Oil prices rose on Tuesday after producers agreed to extend output cuts, traders in the United States and Iraq said.

Iraqi Oil Minister Hayan Abdul-Ghani said the agreement would support the market.
"""


@pytest.fixture(scope="module")
def unseen(tmp_path_factory):
    from flows.clean import clean
    from flows.dedup import dedup
    from flows.extract import extract
    from flows.ingest import ingest

    raw = tmp_path_factory.mktemp("raw")
    (raw / "third.txt").write_text(THIRD, encoding="utf-8")
    (raw / "oil.txt").write_text(UNRELATED, encoding="utf-8")
    sources, _ = ingest.ingest(raw)
    paragraphs, info = clean.clean(sources)
    paragraphs = dedup.mark_exact_repeats(paragraphs)
    documents = extract.build_documents(sources, paragraphs, info)
    tables = extract.build_records(sources, documents, paragraphs)
    docs = tables["documents"].set_index("source_file")
    return tables, docs


def test_a_new_edition_is_discovered_with_its_dates_place_and_heads(unseen):
    tables, docs = unseen
    ev = tables["events"]
    third = ev[ev["edition"] == 3]
    assert len(third) == 1
    third = third.iloc[0]
    assert (third["start_date"], third["end_date"], third["location"]) == ("2026-03-03", "2026-03-04", "Baghdad")
    assert docs.loc["third.txt", "event_id"] == third["event_id"] and bool(docs.loc["third.txt", "relevant"])
    assert docs.loc["third.txt", "reference_date"] == "2026-03-04"
    names = tables["entities"].set_index("entity_id")
    p = tables["participants"]
    heads = {(names.loc[i, "canonical_name"], s) for i, s in zip(p.loc[p["role"] == "head_of_delegation", "entity_id"],
                                                                 p.loc[p["role"] == "head_of_delegation", "side"])}
    assert heads == {("Karim Hassan al-Jubouri", "Iraq"), ("Maria Lopez", "United States")}
    carter = names[names["canonical_name"] == "John Carter"].iloc[0]
    assert (carter["title"], carter["country"]) == ("Ambassador", "United States")
    jub = names[names["canonical_name"] == "Karim Hassan al-Jubouri"].iloc[0]
    assert "Al-Jubouri" in jub["aliases"] and jub["title"] == "Minister of Defense"


def test_an_article_about_something_else_gets_no_event_and_is_not_relevant(unseen):
    tables, docs = unseen
    assert not bool(docs.loc["oil.txt", "relevant"])
    assert docs.loc["oil.txt", "event_id"] is None or str(docs.loc["oil.txt", "event_id"]) in ("nan", "<NA>", "None")
    assert not tables["participants"]["doc_id"].isin([docs.loc["oil.txt", "doc_id"]]).any()
    # its people are still entities
    assert "Hayan Abdul-Ghani" in set(tables["entities"]["canonical_name"])
