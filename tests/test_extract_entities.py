"""Entities and mentions (issue 4): people found by pattern, aliases resolved conservatively."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.extract.entities import build_entities, name_parts, same_person
from tests.extract_fixtures import doc_of, seed_records


def _para_frame(*texts: str, doc_id: str = "dtest") -> pd.DataFrame:
    return pd.DataFrame({
        "para_id": [f"p{doc_id}{i}" for i in range(len(texts))], "doc_id": doc_id,
        "position": range(len(texts)), "text": list(texts), "status": "content",
    })


@pytest.fixture(scope="module")
def tables():
    return seed_records()


def _people(tables) -> pd.DataFrame:
    e = tables["entities"]
    return e[e["entity_type"] == "person"].set_index("canonical_name")


def test_people_of_the_seed_bodies_once_each_with_title_and_country(tables):
    people = _people(tables)
    expected = {
        "Thabit al-Abbasi": ("Minister of Defense", "Iraq"),
        "Lloyd Austin": ("Secretary of Defense", "United States"),
        "Celeste Wallander": ("Assistant Secretary of Defense", "United States"),
        "Charles Q Brown": ("Chairman of the Joint Chiefs of Staff", "United States"),
        "Mathew Miller": ("State Department Spokesperson", "United States"),
        "Mohammed Shia\u2019 al-Sudani": ("Prime Minister", "Iraq"),
        "Diyar Kurda": ("Journalist", "Iraq"),
    }
    assert sorted(people.index) == sorted(expected)
    for name, (title, country) in expected.items():
        assert (people.loc[name, "title"], people.loc[name, "country"]) == (title, country), name


def test_spelling_variants_and_partial_names_resolve_to_one_person(tables):
    people = _people(tables)
    assert {"Thabet Muhammad al-Abbasi", "Thabet al-Abbasi", "al-Abbasi"} <= set(people.loc["Thabit al-Abbasi", "aliases"])
    assert "Lloyd J. Austin III" in people.loc["Lloyd Austin", "aliases"]
    m = tables["mentions"]
    abbasi = people.loc["Thabit al-Abbasi"]
    # "the defense minister" in 000 (only one defense minister there) is al-Abbasi
    d000 = doc_of(tables, "000")
    desc = m[(m["doc_id"] == d000) & (m["text"] == "the defense minister")]
    assert len(desc) == 1 and desc["mention_type"].iloc[0] == "description"
    assert tables["entities"].set_index("entity_id").loc[desc["entity_id"].iloc[0], "canonical_name"] == abbasi.name
    # "Austin met with ..." (002): a surname alone after the full name in the same document
    d002 = doc_of(tables, "002")
    austin = m[(m["doc_id"] == d002) & (m["text"] == "Austin")]
    assert len(austin) == 1 and austin["mention_type"].iloc[0] == "surname_in_document"


def test_nobody_from_the_sidebar_and_mentions_point_into_content_paragraphs(tables):
    names = set(tables["entities"]["canonical_name"]) | {a for al in tables["entities"]["aliases"] for a in al}
    assert not any("Harris" in n or "Biden" in n for n in names)
    paras = tables["paragraphs"].set_index("para_id")
    m = tables["mentions"]
    assert (paras.loc[m["para_id"], "status"] == "content").all()
    for pid, s, e, text in zip(m["para_id"], m["char_start"], m["char_end"], m["text"]):
        assert paras.loc[pid, "text"][s:e] == text


def test_acronyms_and_long_forms_are_one_organization(tables):
    orgs = tables["entities"][tables["entities"]["entity_type"] == "organization"].set_index("canonical_name")
    cts = orgs.loc["Counter-Terrorism Service"]
    assert {"CTS", "Counterterrorism Service"} <= set(cts["aliases"]) and cts["country"] == "Iraq"
    assert not any(n in orgs.index for n in ("CTS", "Counterterrorism Service"))
    assert "Ministry of Defense (Iraq)" in orgs.index  # "Iraqi Ministry of Defense" / "Iraqi defense ministry"


def test_new_people_in_an_unseen_article_are_found_by_pattern():
    paras = _para_frame(
        "Jordanian Foreign Minister Ayman Safadi met with U.S. Secretary of State Antony Blinken in Amman.",
        "Safadi said the talks were useful, he told Kurdistan24's Lina Haddad.",
        "The meeting was also attended by Brigadier General Yousef al-Hnaity, the Jordanian army chief.",
    )
    _, res = build_entities(paras)
    people = res.entities[res.entities["entity_type"] == "person"].set_index("canonical_name")
    assert people.loc["Ayman Safadi", "title"] == "Foreign Minister"
    assert people.loc["Ayman Safadi", "country"] == "Jordan"
    assert people.loc["Antony Blinken", "title"] == "Secretary of State"
    assert people.loc["Antony Blinken", "country"] == "United States"
    assert "Yousef al-Hnaity" in people.index
    assert people.loc["Ayman Safadi", "n_mentions"] == 2  # "Safadi said"
    assert "Lina Haddad" in people.index


@pytest.mark.parametrize("a,b,same", [
    ("Lloyd Austin", "Lloyd J. Austin III", True),
    ("Thabit al-Abbasi", "Thabet Muhammad al-Abbasi", True),
    ("Thabit al-Abbasi", "Thabit Al Abbasi", True),
    ("Mohammed Shia\u2019 al-Sudani", "Mohammed Shia al-Sudani", True),
    ("José Ramírez", "Jose Ramirez", True),
    ("Lloyd Austin", "Lloyd Brown", False),          # different surnames never merge
    ("Thabit al-Abbasi", "Thabit al-Obaidi", False),
    ("John Smith", "Jane Smith", False),             # different given names
    ("Ali Hassan Khalil", "Ali Mahmoud Khalil", False),  # conflicting middle names
])
def test_same_person_is_conservative(a, b, same):
    assert same_person(name_parts(a), name_parts(b)) is same


def test_a_surname_shared_by_two_people_is_not_attached_to_either():
    paras = _para_frame(
        "Defense Minister Ali Khalil met Interior Minister Omar Khalil in Baghdad.",
        "Khalil said the meeting went well.",
    )
    _, res = build_entities(paras)
    m = res.mentions
    assert not (m["text"] == "Khalil").any()
    people = res.entities[res.entities["entity_type"] == "person"]
    assert sorted(people["canonical_name"]) == ["Ali Khalil", "Omar Khalil"]


def test_the_minister_is_resolved_only_when_unambiguous():
    paras = _para_frame(
        "Defense Minister Ali Khalil and Defense Minister Omar Haddad met in Amman.",
        "The talks were chaired by the defense minister, officials said.",
    )
    _, res = build_entities(paras)
    assert not (res.mentions["mention_type"] == "description").any()


def test_entity_for_name_finds_the_one_entity_a_label_means(tables):
    from flows.extract.entities import entity_for_name

    ents = tables["entities"]
    by_name = ents.set_index("canonical_name")["entity_id"]
    assert entity_for_name("Lloyd Austin", ents) == by_name["Lloyd Austin"]
    assert entity_for_name("Lloyd J. Austin III", ents) == by_name["Lloyd Austin"]
    assert entity_for_name("Austin", ents) == by_name["Lloyd Austin"]
    assert entity_for_name("CTS", ents) == by_name["Counter-Terrorism Service"]
    assert entity_for_name("joint statement", ents) is None
    assert entity_for_name("Lloyd Brown", ents) is None


def test_people_kept_apart_get_distinct_ids_even_with_the_same_first_name_and_surname():
    """An entity id rests on first name + surname; two people that resolution keeps apart (other middle
    names) but that share both must still get two ids (a 100k-article build found such pairs)."""
    from flows.extract.entities import Para, Person, resolve

    texts = ["Officials said John Adam Smith arrived on Monday.", "Reporters said John Brian Smith left on Friday."]
    paras = []
    for i, text in enumerate(texts):
        name = text.split(" said ")[1].split(" ")[:3]
        start = text.index(name[0])
        end = start + len(" ".join(name))
        paras.append(Para(f"d{i}", f"p{i}", text, None, [], [Person(start, end, text[start:end])], [], []))
    res = resolve(paras)
    people = res.entities[res.entities["entity_type"] == "person"]
    assert sorted(people["canonical_name"]) == ["John Adam Smith", "John Brian Smith"]
    assert people["entity_id"].is_unique
    assert set(res.mentions["entity_id"]) == set(people["entity_id"])


def test_a_repeated_paragraph_is_scanned_once_and_keeps_its_own_ids(monkeypatch):
    from flows.extract import entities
    from flows.extract.entities import scan

    said = "Defense Secretary Lloyd Austin met Iraqi Prime Minister Mohammed Shia al-Sudani in Washington."
    other = "The Pentagon said the talks with Baghdad would continue in September."
    frame = pd.concat([_para_frame(said, other, doc_id="da"), _para_frame(other, said, doc_id="db")],
                      ignore_index=True)
    frame["para_id"] = [f"p{i}" for i in range(len(frame))]
    together = scan(frame)
    alone = [p for i in range(len(frame)) for p in scan(frame.iloc[[i]])]
    assert [(p.doc_id, p.para_id) for p in together] == [("da", "p0"), ("da", "p1"), ("db", "p2"), ("db", "p3")]
    assert together == alone  # the same findings as each paragraph scanned on its own
    assert together[0].persons and together[3].persons == together[0].persons
    assert len({id(p) for p in together}) == 4  # one record per paragraph, not one per text
    texts_scanned = []
    real = entities._scan_doc
    monkeypatch.setattr(entities, "_scan_doc", lambda doc, *a, **k: texts_scanned.append(doc.text) or real(doc, *a, **k))
    assert scan(frame) == together
    assert sorted(texts_scanned) == sorted([said, other])


_SURNAME_TEXT = st.text(alphabet=st.sampled_from(list("ab-_ .'\u00e9Z1\n")), max_size=40)


@given(_SURNAME_TEXT, st.lists(st.text(alphabet=st.sampled_from(list("abZ\u00e9'.")), min_size=1, max_size=4),
                               min_size=1, max_size=4, unique=True))
def test_surnames_standing_alone_are_found_as_their_pattern_finds_them(text, forms):
    import re

    from flows.extract.entities import standing_alone

    ordered = sorted(forms, key=len, reverse=True)
    rx = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, ordered)) + r")(?![\w-])")
    assert standing_alone(text, forms) == [(m.start(), m.end(), m.group()) for m in rx.finditer(text)]


@pytest.mark.parametrize(("text", "names"), [
    ("Defense Secretary Lloyd J. Austin III met them.", ["Lloyd J. Austin III"]),     # initial, suffix
    ("They met Mohammed Shia\u2019 al-Sudani on Monday.", ["Mohammed Shia\u2019 al-Sudani"]),  # apostrophe, particle
    ('General John "Jack" Doehring spoke.', ['John "Jack" Doehring']),                # nickname in quotes
    ("The minister, al-Abbasi, spoke.", ["al-Abbasi"]),                               # particle alone
    ("Officials said Hamza bin Laden was seen.", ["Hamza bin Laden"]),                # particle between
    ("Oil Minister Hayan Abdul-Ghani said so.", ["Hayan Abdul-Ghani"]),               # hyphenated surname
    ("We met us at the U.S. embassy in the III corps area.", []),                     # no capitalised sequence
])
def test_each_person_name_pattern_finds_its_kind_of_name(text, names):
    from flows.extract.nlp import get_nlp

    doc = get_nlp()(text)
    assert [s.text for s in doc.spans["names"]] == names


def test_sentences_made_on_demand_are_those_of_the_full_pipeline():
    """A paragraph the scan kept no sentences for gets them from the tokenizer and sentencizer
    alone (the rule components are not built in the extract stage for that): the same spans the
    scan's full pipeline gives, on every content paragraph of the seeds."""
    import dataclasses

    from flows.extract.entities import scan

    paragraphs = seed_records()["paragraphs"]
    paras = [p for p in scan(paragraphs[paragraphs["status"] == "content"]) if p.sents_ is not None]
    assert len(paras) > 50
    for p in paras:
        on_demand = dataclasses.replace(p, text_=p.text, sents_=None)
        assert on_demand.sents == p.sents, p.text
