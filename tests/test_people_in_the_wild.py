"""People in the forms real coverage writes them (issue 30): the cues that make a capitalised name a
person, what is not a person, and when two written names are one person. Made-up sentences in the
style of wire copy, regional outlets, transcripts and machine translations."""

from __future__ import annotations

import pandas as pd
import pytest

from flows.extract.entities import build_entities, given_name_dropped, name_parts, same_person


def _frame(*texts: str, doc_id: str = "dx") -> pd.DataFrame:
    return pd.DataFrame({"para_id": [f"p{doc_id}{i}" for i in range(len(texts))], "doc_id": doc_id,
                         "position": range(len(texts)), "text": list(texts), "status": "content"})


def _people(*texts: str) -> dict[str, str | None]:
    """canonical name -> title of every person found in one document."""
    _, res = build_entities(_frame(*texts))
    e = res.entities[res.entities["entity_type"] == "person"]
    return dict(zip(e["canonical_name"], e["title"]))


@pytest.mark.parametrize("text,name", [
    ("The US ambassador to Iraq, Jane Roewicz, attended the meeting.", "Jane Roewicz"),
    ("He received Deputy Assistant Secretary of Defense for Middle East Policy, Daniel K. Okafor, on Monday.",
     "Daniel K. Okafor"),
    ("The head of the regional Department of Media and Information, Zoran Velatti, told reporters the salaries were paid.",
     "Zoran Velatti"),
    ("State Department spokesperson Mathis Kervell told a briefing the talks went on.", "Mathis Kervell"),
    ("White House envoy Brent McTavish met the premier in Baghdad.", "Brent McTavish"),
    ("Security expert Sarmad Al-Quraishi said the visit was significant.", "Sarmad Al-Quraishi"),
    ("The delegation included Lieutenant General Abdul-Wahhab Al-Tamimi and several officers.",
     "Abdul-Wahhab Al-Tamimi"),
    ("Hikma Jabbouri found the body the next day.", "Hikma Jabbouri"),
    ("Farmers say Abbas Kazemi lost everything to the drought.", "Abbas Kazemi"),
    ("Officials praised Qaboos bin Tarek for the talks.", "Qaboos bin Tarek"),
    ('General John "Jack" Doehring said the forces were ready.', 'John "Jack" Doehring'),
    ("Brig Gen Yahya Rasoulov, the spokesman, said so.", "Yahya Rasoulov"),
    ("Officials met Qassim Muhammad Jalal al-Arajiyy on Monday.", "Qassim Muhammad Jalal al-Arajiyy"),
])
def test_a_name_is_a_person_by_its_context(text, name):
    assert name in _people(text)


def test_a_transcript_label_names_its_speaker_without_the_office():
    people = _people("SECRETARY OF DEFENSE JOHN Q. DOEMAN: Good afternoon, everyone.",
                     "MAJ. GEN. JANE ROEWICZ: Thank you, sir.",
                     "SENIOR ADMINISTRATION OFFICIAL: Hi, everybody.", "MODERATOR: Next question.",
                     "AMBASSADOR KOVALENKO: We agree.")
    assert people == {"John Q. Doeman": "Secretary of Defense", "Jane Roewicz": "General", "Kovalenko": "Ambassador"}


@pytest.mark.parametrize("text", [
    "Iraq moved many of the returnees to al-Hadra 5 camp in Nineveh.",
    "Rockets hit the Al-Zuhur air base on Monday.",
    "Fighters were seen near Jurf al-Barid and in the subdistrict of al-Marjaniyah.",
    "The expert told Asharq Al-Wasat that the visit mattered.",
    "A statement by the Security Media Cell stated that the delegation left.",
    "The Chief of Defense Staff said the army was ready.",
    "An enhanced Honor Cordon was held at the Pentagon.",
])
def test_places_outlets_offices_and_organizations_are_not_people(text):
    assert _people(text) == {}


def test_a_bare_surname_is_kept_only_when_it_resolves_to_someone_named_in_full():
    _, res = build_entities(pd.concat([
        _frame("Defense Secretary Lloyd Austwick met the delegation.", doc_id="da"),
        _frame("\u201cWe will continue,\u201d Austwick said. \u201cIt matters,\u201d Reuters said.",
               "Al-Fadhli said nothing.", doc_id="db")], ignore_index=True))
    people = res.entities[res.entities["entity_type"] == "person"]
    assert list(people["canonical_name"]) == ["Lloyd Austwick"]
    m = res.mentions[(res.mentions["doc_id"] == "db") & res.mentions["entity_id"].isin(people["entity_id"])]
    assert list(m["text"]) == ["Austwick"]  # "Reuters" is an organization; "Al-Fadhli" named nobody known


@pytest.mark.parametrize("a,b,same", [
    ("Qais Al-Mohammedawi", "Qais Al-Muhammadawi", True),      # transliterations of one surname
    ("Alina Romanowski", "Alina Romanoski", True),
    ("Abdulwahab Al-Saadi", "Abdul-Wahhab Al-Saadi", True),      # one compound given name
    ("Abdul Amir Yarallah", "Abdul-Amir Yarallah", True),
    ("Pat Ryder", "Patrick Ryder", True),                      # a short form of the given name
    ('John "Jack" Doehring', "John Doehring", True),           # a nickname in quotes
    ("Mohammed al-Hakim", "Muhammad al-Hakim", True),
    ("Ali al-Hakim", "Ali al-Hakimi", True),                   # a lost final -i
    ("Ali al-Hakim", "Ali al-Hashimi", False),                 # two surnames
    ("Hassan al-Tamimi", "Hussein al-Tamimi", False),          # two given names
    ("John Smith", "Joan Smith", False),
])
def test_one_person_across_spellings_and_not_across_people(a, b, same):
    assert same_person(name_parts(a), name_parts(b)) is same


def test_a_dropped_first_name_merges_only_with_the_same_office():
    assert given_name_dropped(name_parts("Muhammad al-Abbadi"), name_parts("Thabet Mohammed al-Abbadi"))
    assert not given_name_dropped(name_parts("Ali al-Abbadi"), name_parts("Thabet Mohammed al-Abbadi"))
    same_office = _people("Defense Minister Thabet Mohammed al-Abbadi arrived in Washington.",
                          "Defense Minister Muhammad al-Abbadi met his counterpart.")
    assert list(same_office) == ["Thabet Mohammed al-Abbadi"]
    other_office = _people("Defense Minister Thabet Mohammed al-Abbadi arrived in Washington.",
                           "Oil Minister Muhammad al-Abbadi stayed in Baghdad.")
    assert sorted(other_office) == ["Muhammad al-Abbadi", "Thabet Mohammed al-Abbadi"]


def test_a_name_before_a_place_noun_is_the_place_even_when_a_person_has_it():
    _, res = build_entities(_frame("Interior Minister Ali al-Hadra visited Nineveh on Monday.",
                                   "Returnees were moved to al-Hadra camp, the minister said."))
    people = res.entities.loc[res.entities["entity_type"] == "person", "entity_id"]
    m = res.mentions[res.mentions["entity_id"].isin(people)]
    assert list(m["text"]) == ["Ali al-Hadra"]
