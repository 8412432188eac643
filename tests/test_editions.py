"""Which edition each article reports (issue 30): the forms real coverage uses to name, date and
allude to an edition, and the evidence that links articles that do not name it. Every corpus here is
made up, in the style of wire copy, regional outlets and machine translations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from flows.extract.editions import date_in_file_name

SERIES = "U.S.-Iraq Joint Security Cooperation Dialogue"

# Two editions, each stated by one article: the reference points of the corpora below.
FIRST = ("first_2031-03-11_statement.txt",
         "The U.S. Department of Defense and the Iraqi Ministry of Defense held the first U.S.-Iraq Joint "
         "Security Cooperation Dialogue in Washington, D.C. from March 10-11, 2031.\n\n"
         "An Iraqi delegation headed by Defense Minister Karim Haddadi met U.S. officials at the Pentagon. "
         "The delegation included Lieutenant General Sabah Tamimi and Lieutenant General Nawaf Jubouri.\n")
SECOND = ("second_2032-02-17_statement.txt",
          "The second US-Iraq Joint Security Cooperation Dialogue was held in Washington. This took place "
          "on February 16-17, 2032, at the Pentagon.\n\n"
          "Defense Minister Karim Haddadi met with Secretary of Defense John Carverton during the talks.\n")


def build(tmp_path: Path, *files: tuple[str, str]) -> dict:
    from flows.clean import clean
    from flows.dedup import dedup
    from flows.extract import extract
    from flows.ingest import ingest

    raw = tmp_path / "raw"
    raw.mkdir()
    for name, text in files:
        (raw / name).write_text(text, encoding="utf-8")
    sources, rejections = ingest.ingest(raw)
    paragraphs, info = clean.clean(sources)
    paragraphs = dedup.dedup(paragraphs)
    return extract.build_tables(sources, paragraphs, info, rejections)


def event_of(tables: dict, file: str) -> tuple[dict | None, str | None]:
    """(the event row the document reports, its evidence) of the document from ``file``."""
    docs = tables["documents"].set_index("source_file")
    eid = docs.loc[file, "event_id"]
    if not isinstance(eid, str):
        return None, docs.loc[file, "event_evidence"] if isinstance(docs.loc[file, "event_evidence"], str) else None
    return {"event_id": eid, **tables["events"].set_index("event_id").loc[eid].to_dict()}, docs.loc[file, "event_evidence"]


def test_editions_are_dated_from_the_sentence_after_their_name(tmp_path):
    t = build(tmp_path, FIRST, SECOND)
    ev = t["events"][t["events"]["series"] == SERIES].set_index("edition")
    assert (ev.loc[1, "start_date"], ev.loc[1, "end_date"]) == ("2031-03-10", "2031-03-11")
    assert (ev.loc[2, "start_date"], ev.loc[2, "end_date"]) == ("2032-02-16", "2032-02-17")
    assert ev.loc[2, "location"] == "Washington"


@pytest.mark.parametrize("text,edition,how", [
    ("Officials reviewed the 2032 U.S.-Iraq Joint Security Cooperation Dialogue (JSCD) on security ties.", 2, "states the year"),
    ("The Joint Security Cooperation Dialogue marked the second round of such discussions. The first round "
     "was held in March 2031.", 2, "states the round"),
    ("Iraq and the US held the second U.S.-Iraq Security Cooperation Dialogue on Monday and Tuesday.", 2, "states the edition"),
    ("The inaugural Joint Security Co-operation Dialogue brought the two defense ministries together.", 1, "states the edition"),
])
def test_an_article_saying_which_edition_reports_it(tmp_path, text, edition, how):
    t = build(tmp_path, FIRST, SECOND, ("article.txt", text + "\n"))
    ev, evidence = event_of(t, "article.txt")
    assert ev is not None and ev["edition"] == edition and evidence.startswith(how)


def test_an_edition_named_long_before_publication_is_background(tmp_path):
    """A story on other talks, published months after the first edition, names it as background:
    relevant, but it does not report it."""
    t = build(tmp_path, FIRST, SECOND, ("other_2031-09-20_commission.txt",
              "Iraq and the United States began commission talks on Thursday, a process the two sides agreed "
              "to during the U.S.-Iraq Joint Security Cooperation Dialogue on March 10-11, 2031.\n"))
    ev, evidence = event_of(t, "other_2031-09-20_commission.txt")
    assert ev is None
    docs = t["documents"].set_index("source_file")
    assert bool(docs.loc["other_2031-09-20_commission.txt", "relevant"])


def test_an_article_published_during_an_edition_reporting_a_meeting_there_reports_it(tmp_path):
    report = ("wire_2032-02-17_talks.txt", "An Iraqi military delegation arrived in Washington on Monday for "
              "talks with U.S. officials on the future of the coalition.\n")
    later = ("wire_2032-03-20_talks.txt", "A senior Iraqi military delegation arrived in Washington on Monday "
             "for talks with U.S. officials on the future of the coalition.\n")
    elsewhere = ("local_2032-02-17_baghdad.txt", "An Iraqi delegation met U.S. diplomats in Baghdad on Monday to "
                 "discuss the budget.\n")
    t = build(tmp_path, FIRST, SECOND, report, later, elsewhere)
    ev, evidence = event_of(t, report[0])
    assert ev["edition"] == 2 and evidence.startswith("date: published 2032-02-17 (file name)")
    assert event_of(t, later[0])[0] is None          # a month after: not that edition
    assert event_of(t, elsewhere[0])[0] is None      # a meeting in Baghdad, not in the host country


def test_a_site_header_clock_is_not_a_publication_date(tmp_path):
    """"Wed. Feb 18th, 2032" is when the page was shown; with no other date the article stays
    undated (the file name has none either)."""
    t = build(tmp_path, FIRST, SECOND, ("page.txt", "Wed. Feb 18th, 2032\n\nAn Iraqi military delegation "
              "arrived in Washington on Monday for talks with U.S. officials.\n"))
    docs = t["documents"].set_index("source_file")
    assert pd.isna(docs.loc["page.txt", "published_date"])
    paragraphs = t["paragraphs"]
    clock = paragraphs[paragraphs["text"] == "Wed. Feb 18th, 2032"]
    assert list(clock["reason"]) == ["page_clock"]


def test_delegation_members_of_one_edition_link_an_undated_article(tmp_path):
    reprint = ("reprint.txt", "Iraqi Defense Minister Karim Haddadi embarked on a visit to the US on Monday, leading a "
               "military delegation.\n\nThe delegation includes Lieutenant General Sabah Tamimi and Lieutenant "
               "General Nawaf Jubouri, as well as several advisors.\n")
    t = build(tmp_path, FIRST, SECOND, reprint)
    ev, evidence = event_of(t, "reprint.txt")
    # Haddadi takes part in both editions: only the members tell them apart
    assert ev["edition"] == 1 and evidence.startswith("delegation:") and "Haddadi" not in evidence
    p = t["participants"]
    heads = p[(p["event_id"] == ev["event_id"]) & (p["role"] == "head_of_delegation")]
    names = t["entities"].set_index("entity_id").loc[heads["entity_id"], "canonical_name"]
    assert "Karim Haddadi" in set(names)


def test_two_heads_of_delegation_in_one_sentence_each_with_their_side(tmp_path):
    t = build(tmp_path, FIRST, ("heads.txt", "The second U.S.-Iraq Joint Security Cooperation Dialogue ended on "
              "Tuesday. The two sides, led by U.S. Secretary of Defense John Carverton and Iraqi Defense "
              "Minister Karim Haddadi, agreed to meet again.\n"))
    p = t["participants"].merge(t["entities"][["entity_id", "canonical_name"]], on="entity_id")
    heads = p[p["role"] == "head_of_delegation"]
    assert set(zip(heads["canonical_name"], heads["side"])) >= {("John Carverton", "United States"),
                                                                 ("Karim Haddadi", "Iraq")}


def test_file_names_give_a_date_only_when_they_hold_exactly_one():
    assert date_in_file_name("24_tass_2024-07-24_talks.txt") == dt.date(2024, 7, 24)
    assert date_in_file_name("dir/2024-07-24.txt") == dt.date(2024, 7, 24)
    assert date_in_file_name("a_2024-07-24_2024-07-25.txt") is None
    assert date_in_file_name("undated_talks.txt") is None
    assert date_in_file_name("bad_2024-13-45.txt") is None


def test_a_page_shown_before_an_edition_began_cannot_report_it():
    from flows.extract.editions import WINDOW_AFTER, WINDOW_BEFORE, Edition

    ed = Edition(SERIES, 2, (SERIES, 2))
    ed.dates[(dt.date(2032, 2, 16), dt.date(2032, 2, 17))] = 1
    assert not ed.allows(None, dt.date(2032, 1, 1))          # the page's clock says it was shown before
    assert ed.allows(None, dt.date(2032, 9, 19))
    assert ed.allows(dt.date(2032, 2, 17) + dt.timedelta(days=WINDOW_AFTER), None)
    assert not ed.allows(dt.date(2032, 2, 17) + dt.timedelta(days=WINDOW_AFTER + 1), None)
    assert not ed.allows(dt.date(2032, 2, 16) - dt.timedelta(days=WINDOW_BEFORE + 1), None)


def test_every_edition_is_reported_or_referred_to_by_an_article(tmp_path):
    """An edition known only from "the first round" of an article naming the series still counts that
    article among those referring to it (events.n_referring is at least 1)."""
    t = build(tmp_path, SECOND, ("rounds.txt", "The Joint Security Cooperation Dialogue builds on the first round "
              "of talks. Officials said the second round went well.\n"))
    ev = t["events"][t["events"]["series"] == SERIES].set_index("edition")
    assert set(ev.index) == {1, 2}
    assert (ev["n_referring"] >= 1).all()


def test_coverage_too_thin_to_compare_links_nothing(tmp_path):
    """An undated article that names no edition is linked by its words only when every edition it could
    report has enough articles linked by other evidence to compare it with: one article each is not."""
    undated = ("undated.txt", "Iraqi Defense Minister Karim Haddadi met with U.S. Secretary of Defense John "
               "Carverton during the talks in Washington.\n")
    t = build(tmp_path, FIRST, SECOND, undated)
    assert event_of(t, "undated.txt")[0] is None
