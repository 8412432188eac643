"""Facts: figures with their unit and counted subject; years, dates, ordinals and ids are not facts."""

from __future__ import annotations

import pytest
from conftest import SEED_001, SEED_002
from records_fixtures import documents_frame, paragraphs_frame

from flows.extract.facts import extract_facts, words_value


@pytest.fixture(scope="module")
def seed_facts(seed_tables):
    return extract_facts(seed_tables["paragraphs"], seed_tables["documents"])


def _doc(seed_tables, facts, source_file):
    docs = seed_tables["documents"]
    return facts[facts["doc_id"] == docs.loc[docs["source_file"] == source_file, "doc_id"].item()]


def _facts(*texts):
    paras = paragraphs_frame([("d1", t) for t in texts])
    return extract_facts(paras, documents_frame(["d1"]))


def test_troops_in_iraq(seed_tables, seed_facts):
    f = _doc(seed_tables, seed_facts, SEED_001)
    troops = f[f["unit"] == "troops"]
    assert len(troops) == 1
    t = troops.iloc[0]
    assert (t.value, t.subject, t.qualifier, t.text) == (2500, "US troops in Iraq", "approximate",
                                                         "about 2,500 US troops in Iraq")
    f2 = _doc(seed_tables, seed_facts, SEED_002)
    soldiers = f2[f2["unit"] == "soldiers"].iloc[0]
    assert soldiers.value == 2500 and "Iraq" in soldiers.subject


def test_people_in_al_hol_camp(seed_tables, seed_facts):
    f = _doc(seed_tables, seed_facts, SEED_001)
    camp = f[f["value"] == 50000].iloc[0]
    assert camp.unit == "people" and camp.qualifier == "at_least"
    assert "ISIS-linked people" in camp.subject and "Al-Hol camp" in camp.subject


def test_coalition_members_digits_and_number_words(seed_tables, seed_facts):
    f = _doc(seed_tables, seed_facts, SEED_001).set_index("unit")
    assert f.loc["nations", "value"] == 79 and "coalition" in f.loc["nations", "subject"]
    assert f.loc["organizations", "value"] == 5
    assert f.loc["organizations", "subject"].startswith("international organizations")
    assert "coalition" in f.loc["organizations", "subject"]


def test_no_years_dates_ordinals_durations_or_definite_counts(seed_facts):
    assert not seed_facts["value"].isin([2008, 2009, 2014, 2021, 2023, 2024]).any()
    assert not seed_facts["unit"].isin(["months", "years", "anniversary", "sides", "delegations", "year"]).any()
    assert not seed_facts["text"].str.contains("10th|July|August|two-day", regex=True).any()


def test_offsets_and_provenance(seed_tables, seed_facts):
    paras = seed_tables["paragraphs"].set_index("para_id")
    for f in seed_facts.itertuples():
        assert paras.loc[f.para_id, "text"][f.char_start:f.char_end] == f.text
        assert paras.loc[f.para_id, "status"] == "content" and paras.loc[f.para_id, "doc_id"] == f.doc_id


@pytest.mark.parametrize("text, value, unit, subject, qualifier", [
    ("Officials said 1.5 million people fled the city.", 1_500_000, "people", "people", "exact"),
    ("More than twenty-five soldiers from France were wounded.", 25, "soldiers", "soldiers from France", "at_least"),
    ("The fund holds $3 billion in reserves.", 3e9, "USD", None, "exact"),
    ("Turnout was 45 percent of voters.", 45, "percent", None, "exact"),
    ("Hundreds of thousands of refugees crossed.", 100_000, "refugees", "refugees", "vague"),
    ("The council has 15 members of parliament.", 15, "members", "members of parliament", "exact"),
    # number-hyphen compounds that count: the compound's noun is the unit
    ("Washington leads a more than 60-member coalition against the group.", 60, "members",
     "members of the coalition", "at_least"),
    ("The panel released a 120-page report on Monday.", 120, "pages", "pages of the report", "exact"),
    ("A 3,000-strong force crossed the border.", 3000, "force", "force", "exact"),
    # rates keep their denominator in the unit
    ("The field pumps 450,000 barrels per day.", 450_000, "barrels per day", "barrels", "exact"),
    ("Exports fell to about 90,000 barrels of crude a day.", 90_000, "barrels per day", "barrels of crude",
     "approximate"),
    # "dozen" multiplies the number before it
    ("Police questioned more than two dozen witnesses.", 24, "witnesses", "witnesses", "at_least"),
    ("He hired a dozen guards.", 12, "guards", "guards", "exact"),
    # modifiers joined by a conjunction share one counted head
    ("The base was hit by about 40 rocket or drone attacks this year.", 40, "attacks",
     "rocket or drone attacks", "approximate"),
    # a count ends at its last plural noun ("dead" is no counted noun)
    ("The blast left at least 12 people dead.", 12, "people", "people", "at_least"),
    # a possessive name before the number owns the count, it is no identifier
    ("The region\u2019s exports reached the Kurdistan Region\u2019s 400,000 barrels.", 400_000, "barrels",
     "barrels", "exact"),
    # irregular plurals
    ("Two gunmen opened fire.", 2, "gunmen", "gunmen", "exact"),
])
def test_figures(text, value, unit, subject, qualifier):
    f = _facts(text)
    assert len(f) == 1, f[["text", "unit"]]
    row = f.iloc[0]
    assert (row.value, row.unit, row.qualifier) == (value, unit, qualifier)
    assert (row.subject if isinstance(row.subject, str) else None) == subject


@pytest.mark.parametrize("text", [
    "Under Resolution 2379 the council acted.",
    "Two F-16 jets landed on 8 August at 6 am.",
    "The 1973 building was damaged during the two-day storm.",
    "It was the 10th meeting in 2019, the second this year.",
    "The two sides met again after three weeks.",
    "One of the officials arrived; 39 are confirmed dead.",
    # names that hold a number, page counters, numbers that modify a singular noun
    "Detainees were moved to Camp 5 last year.",
    "Families were moved to al-Nour 3 camp in the north.",
    "Inspectors toured the al-Nour 4 facilities.",
    "Monday 3 June | Politics Number of readings: 214  Basra / Agency / The ministers met.",
    "Number of readings: 214 Comments: 3",
    "They drove home on a two lane road.",
    "The 10-year-old boy and a two-thirds majority.",
    "It is the 17 U.S. Code section.",
])
def test_not_facts(text):
    f = _facts(text)
    assert f.empty, f[["text", "value", "unit"]]


def test_a_count_that_leaves_out_its_noun_counts_the_figure_before_it():
    f = _facts("The US keeps about 2,500 troops in Iraq and roughly 900 in neighbouring Syria.",
               "It has 300 advisers in Baghdad, 40 in Erbil and 12 at the border.",
               "Some 2,500 troops stayed. In 2019 about 900 in Syria left.")
    got = [(r.value, r.unit, r.subject, r.qualifier) for r in f.itertuples()]
    assert (900, "troops", "troops in neighbouring Syria", "approximate") in got
    assert (40, "advisers", "advisers in Erbil", "exact") in got and (12, "advisers", "advisers at the border",
                                                                        "exact") not in got  # "the border": no place name
    assert len([g for g in got if g[0] == 900]) == 1  # another sentence's figure is not reused


def test_number_words():
    assert words_value("twenty-five") == 25
    assert words_value("two hundred thousand") == 200_000
    assert words_value("five") == 5
    assert words_value("banana") is None


def test_any_text_gives_facts_whose_offsets_hold():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    alphabet = st.sampled_from(list("ab C.,-$%()") + [" 2,500", " 12", "1.5", " five", " twenty", "-one",
                                                      " million", " hundreds of", " thousands of",
                                                      " troops", " in Iraq", " about", " the", " May"])

    @settings(max_examples=100, deadline=None)
    @given(st.lists(alphabet, max_size=30).map("".join))
    def check(text):
        paras = paragraphs_frame([("d1", text)])
        for f in extract_facts(paras, documents_frame(["d1"])).itertuples():
            assert 0 <= f.char_start < f.char_end <= len(text)
            assert text[f.char_start:f.char_end] == f.text
            assert f.value >= 0 and f.unit

    check()
