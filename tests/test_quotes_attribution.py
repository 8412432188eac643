"""Quote speakers in the forms real coverage uses (issue 30): continued turns, pronouns, long titles
and appositions, documents with an author, "quoted X as saying", more speech verbs, scare quotes and
transcript turns. Every sentence is made up."""

from __future__ import annotations

import pandas as pd
import pytest
from records_fixtures import documents_frame, paragraphs_frame

from flows.extract.quotes import extract_quotes, turn_of


def _quotes(*texts, entities=None):
    paras = paragraphs_frame([("d1", t) for t in texts])
    return extract_quotes(paras, documents_frame(["d1"]), entities)


def _speaker(quotes, fragment):
    hit = quotes[quotes["text"].str.contains(fragment, regex=False)]
    assert len(hit) == 1, (fragment, hit[["text", "speaker_label"]])
    label = hit.iloc[0]["speaker_label"]
    return label if isinstance(label, str) else None


def _persons(*names):
    return pd.DataFrame({
        "entity_id": [f"n{i}" for i in range(len(names))],
        "entity_type": ["person"] * len(names),
        "canonical_name": list(names),
        "aliases": [[n.split()[-1]] for n in names],
        "country": [None] * len(names),
        "title": [None] * len(names),
    })


@pytest.mark.parametrize("text, fragment, speaker", [
    # a long title or rank before the name, after the quote
    ("\u201cWe remain committed to the mission,\u201d spokesman Air Force Maj. Gen. Jane Roe told reporters.",
     "We remain committed", "Jane Roe"),
    ("\u201cThis visit matters a great deal right now,\u201d security analyst Karim Haddad told the paper.",
     "This visit matters", "Karim Haddad"),
    # a body and a title before the name
    ("\u201cThe drawdown is on schedule,\u201d said Pentagon press secretary Pat Doe.", "The drawdown is on schedule",
     "Pat Doe"),
    ("\u201cThe shelves are empty every morning,\u201d said Jane Roe per City Radio.", "The shelves are empty",
     "Jane Roe"),
    # an apposition between the name and the verb, before and after the quote
    ("Brig. Gen. John Doe, spokesperson for the Joint Operations Command, stated in a press release that "
     "\u201cthe talks will cover training and equipment.\u201d", "the talks will cover", "John Doe"),
    ("\u201cThe two sides are close to a deal,\u201d Karim al-Hadi, a member of the negotiating team, told the "
     "newspaper.", "The two sides are close", "Karim al-Hadi"),
    ("The victim\u2019s mother, Mary Stone, said on television, \u201cShe never meant to hurt anyone at all.\u201d",
     "She never meant", "Mary Stone"),
    ("The study was led by Jane Roe, a marine ecologist at the institute, who said \u201cthe reefs can recover.\u201d",
     "the reefs can recover", "Jane Roe"),
    ("Karim Haddad of victims' group Justice Now said \u201cthe church must report every case.\u201d",
     "the church must report", "Karim Haddad"),
    ("US Special Representative for Iraq Jane Roe said \u201cthis has nothing to do with security.\u201d",
     "this has nothing to do", "Jane Roe"),
    # a relative and an age before the verb: the speaker is the relative, not the one named first
    ("\u201cThat was his last hope, and the well was dry,\u201d Omar\u2019s brother Ali, 56, told Reuters.",
     "That was his last hope", "Ali"),
    # a document with an author speaks for the author
    ("\u201cWe welcome the agreement reached today,\u201d read a statement from President Omar Haddad.",
     "We welcome the agreement", "Omar Haddad"),
    ("\u201cThe Secretary thanked his counterpart for the visit,\u201d said a readout from the Pentagon Press "
     "Secretary Jane Roe.", "The Secretary thanked", "Jane Roe"),
    ("\u201cOur bond is especially strong this year,\u201d a Department of Defense statement quoted Doe as saying.",
     "Our bond is especially strong", "Doe"),
    ("Haddad was quoted by the state news agency as saying that \u201cthe forces will stay for now.\u201d",
     "the forces will stay", "Haddad"),
    ("\u201cThe forces will leave by next year,\u201d Jane Roe was quoted as saying.", "The forces will leave",
     "Jane Roe"),
    # speech verbs beyond "said"
    ("Al-Hadi highlighted \u201cthe need for more training and better equipment.\u201d", "the need for more",
     "Al-Hadi"),
    ("Roe pointed out that \u201cthere are requests for more aircraft and spare parts.\u201d", "there are requests",
     "Roe"),
    ("Prime Minister Haddad stressed the need for a \u201cfirm stance against escalation in the region.\u201d",
     "firm stance", "Haddad"),
    # a word that opens the sentence is no part of the name; the last speaker before the quote is its
    ("Meanwhile Haddad told reporters that \u201cthe talks will go on next week.\u201d", "the talks will go on",
     "Haddad"),
    ("While Baghdad maintained that the commission would end the mission, Washington described the step as a "
     "\u201ctransition\u201d in its role.", "transition", "Washington"),
    # "according to" after the quote; a verb coordinated with the sentence's first one
    ("\u201cThe timetable is not final yet,\u201d according to Jane Roe, the ministry's spokeswoman.",
     "The timetable is not final", "Jane Roe"),
    ("Haddad received the delegation in Baghdad and stressed that \u201cthe partnership must go on.\u201d",
     "the partnership must go on", "Haddad"),
    ("The minister met the envoy on Sunday, indicating that \u201cthe talks will go on.\u201d",
     "the talks will go on", None),  # "The minister" names no one
    # a participle after the sentence's subject
    ("Haddad thanked the delegation, saying \u201cwe will keep working together on this.\u201d",
     "we will keep working", "Haddad"),
])
def test_speaker_forms(text, fragment, speaker):
    assert _speaker(_quotes(text), fragment) == speaker


@pytest.mark.parametrize("text, fragment", [
    # unnamed sources and officials: no speaker, and no place or person taken for one
    ("\u201cThe talks went well on both sides,\u201d officials in Baghdad said.", "The talks went well"),
    ("\u201cThe deal will hold for a long time,\u201d sources close to Haddad said.", "The deal will hold"),
    ("\u201cWe can confirm an attack on the base today,\u201d a Pentagon spokesperson told reporters.",
     "We can confirm"),
    # the capitalised word in "The German government ... and said" is no speaker
    ("The German government published the findings and said there was \u201cclear proof of the poisoning.\u201d",
     "clear proof"),
])
def test_unnamed_speakers_stay_unnamed(text, fragment):
    assert _speaker(_quotes(text), fragment) is None


def test_a_quote_ending_its_sentence_is_not_attributed_by_the_next_sentence():
    q = _quotes("The meeting addressed the \u201cregional situation and the war.\u201d Haddad highlighted "
                "\u201cthe suffering of civilians in the area.\u201d")
    assert _speaker(q, "regional situation") is None
    assert _speaker(q, "the suffering of civilians") == "Haddad"


def test_a_long_sentence_after_a_finished_quote_is_no_attribution():
    q = _quotes("Roe said the envoy \u201cbroke the rules and misled everyone.\u201d Democrats expressed their "
                "anger at the envoy over his refusal to testify before the committee in the spring.",
                "\u201cWe are done with this.\u201d Haddad said on Monday.",
                "Haddad claimed the country is a \u201cfailed state.\u201d\u00a0 Critics urged voters to stay home.",
                "Roe, a fire service spokesman, said the man suffered \u201csevere burns\u201d. Police press officer "
                "Jane Doe stated he was 25.")
    assert _speaker(q, "broke the rules") == "Roe"
    assert _speaker(q, "We are done") == "Haddad"
    assert _speaker(q, "failed state") == "Haddad"  # the new sentence's "Critics urged" is no attribution
    assert _speaker(q, "severe burns") == "Roe"  # a full stop after the closing mark ends the sentence too


def test_the_statement_later_is_the_authors_too():
    q = _quotes("\u201cWe welcome the agreement reached today,\u201d read a statement from President Omar Haddad.",
                "\u201cThe region fully supports this agreement and its goals,\u201d read the statement.",
                "\u201cThe two countries agreed on a timetable,\u201d read the joint statement.")
    assert _speaker(q, "The region fully supports") == "Omar Haddad"
    assert _speaker(q, "The two countries agreed") == "joint statement"  # another document


def test_an_unattributed_quote_continues_the_speakers_turn():
    q = _quotes("\u201cWe signed it today,\u201d Jane Roe said after the meeting. \u201cOur cooperation will "
                "deepen in the coming years.\u201d",
                "\u201cIt is a good day for both countries,\u201d said John Doe.",
                "\u201cWe will meet again in the autumn to review the progress.\u201d",
                "Karim Haddad disagreed. \u201cNothing in this deal will hold for long.\u201d",
                "Roe said that \u201cthe talks are over for now.\u201d \u201cWe will see what comes next.\u201d")
    assert _speaker(q, "Our cooperation will deepen") == "Jane Roe"  # same paragraph
    assert _speaker(q, "We will meet again") == "John Doe"  # the next paragraph opens with it
    assert _speaker(q, "Nothing in this deal") is None  # another sentence stands between
    assert _speaker(q, "We will see what comes next") == "Roe"  # attributed before: nothing between


def test_pronouns_carry_the_last_named_speaker_only_when_unambiguous():
    texts = ("\u201cThis visit is significant at this time,\u201d security expert Karim Haddad told the paper.",
             "\u201cThere are agreements between the two capitals already,\u201d he added.",
             "He further stated that \u201cthe training will go on next year.\u201d",
             "As he noted, both sides \u201chave the impression that the mission is ending.\u201d",
             "Haddad later met Jane Roe in the capital.",
             "\u201cThe meeting was useful for both of us,\u201d he said.")
    q = _quotes(*texts, entities=_persons("Karim Haddad", "Jane Roe"))
    assert _speaker(q, "There are agreements") == "Karim Haddad"
    assert _speaker(q, "the training will go on") == "Karim Haddad"
    assert _speaker(q, "have the impression") == "Karim Haddad"
    assert _speaker(q, "The meeting was useful") is None  # Roe was named since: he could be either
    alone = _quotes(*texts[:4], texts[5], entities=_persons("Karim Haddad", "Jane Roe"))
    assert _speaker(alone, "The meeting was useful") == "Karim Haddad"


def test_it_and_they_carry_documents_and_organizations_not_persons():
    q = _quotes("\u201cThe talks will resume in the spring,\u201d the joint statement read.",
                "\u201cBoth sides agreed on the timetable,\u201d it added.",
                "\u201cWe are ready to talk at any time,\u201d said Jane Roe.",
                "\u201cThe process will take several more months,\u201d they said.")
    assert _speaker(q, "Both sides agreed") == "joint statement"
    assert _speaker(q, "The process will take") is None


def test_scare_quotes_are_partial_and_unattributed_short_speech_keeps_its_speaker():
    q = _quotes("Haddad said the region, once the \u201cGolden Triangle\u201d, is drying up fast.",
                "Roe told reporters the group, known as \u201cthe resistance\u201d, had claimed the attack.",
                "\u201cNo,\u201d Roe said.",
                "Haddad said the plan was \u201csuccessful\u201d on Monday.")
    for fragment in ("Golden Triangle", "the resistance"):
        row = q[q["text"] == fragment].iloc[0]
        assert row["quote_type"] == "partial" and pd.isna(row["speaker_label"])
    assert _speaker(q, "No") == "Roe"
    assert _speaker(q, "successful") == "Haddad"  # a word of the speaker's, quoted: it keeps the speaker


def test_transcript_turns_are_their_speakers_direct_quotes():
    q = _quotes("MAJ GEN JANE ROE:\u00c2 All right, well good morning, everyone. Thanks for joining us.",
                "So, this month marks ten years of the coalition.",
                "SENIOR ADMINISTRATION OFFICIAL:\u00a0Hi, everybody. Thanks for joining here on a Friday.",
                "There is broad consensus with every member of the coalition.",
                "Q: What about the timeline?",
                "SECRETARY OF DEFENSE JOHN Q. DOE: Thank you all for coming.",
                entities=_persons("Jane Roe", "John Q. Doe"))
    rows = q.set_index("text")
    good_morning = rows.loc["All right, well good morning, everyone. Thanks for joining us."]
    assert (good_morning.speaker_label, good_morning.speaker_entity_id, good_morning.quote_type) == (
        "Jane Roe", "n0", "direct")
    assert rows.loc["So, this month marks ten years of the coalition.", "speaker_label"] == "Jane Roe"
    anonymous = rows.loc["There is broad consensus with every member of the coalition."]
    assert anonymous.speaker_label == "Senior Administration Official" and pd.isna(anonymous.speaker_entity_id)
    assert rows.loc["What about the timeline?", "speaker_label"] == "Q"
    assert rows.loc["Thank you all for coming.", "speaker_label"] == "John Q. Doe"


def test_a_label_alone_on_its_line_opens_the_turn_of_the_next_paragraphs():
    q = _quotes("MS. JANE ROE:", "Good afternoon, everyone.", "We have two announcements today.", "Q:",
                "What about the timeline?")
    assert q.set_index("text")["speaker_label"].to_dict() == {
        "Good afternoon, everyone.": "Jane Roe", "We have two announcements today.": "Jane Roe",
        "What about the timeline?": "Q"}


def test_labels_without_a_title_count_only_beside_another_label():
    dateline = _quotes("BAGHDAD: The ministry said on Monday that the talks would resume.",
                       "Officials gave no date for the next round.")
    assert dateline.empty
    interview = _quotes("JANE ROE: Good morning to all of you.", "JOHN DOE: Thank you for having me.")
    assert sorted(interview["speaker_label"]) == ["Jane Roe", "John Doe"]
    assert turn_of("UPDATE: The story was corrected.") is None  # page furniture


def test_turn_labels():
    assert turn_of("MAJ GEN PAT DOE:\u00c2 All right")[0].label == "Pat Doe"
    assert turn_of("SECRETARY MAJOR GENERAL PAT DOE: All right")[0].label == "Pat Doe"
    assert turn_of("MODERATOR: Next question.")[0].kind == "turn_anon"
    assert turn_of("At 10:30 the meeting began.") is None


def test_the_batches_scans_give_the_same_speakers():
    """The flow finds each paragraph's quotes per batch (flows.extract.scans.scan_paragraphs); continued
    turns, pronouns and transcripts settle the same way from them."""
    from flows.extract.scans import quotes_of, scan_paragraphs

    paras = paragraphs_frame([
        ("d1", "MAJ GEN JANE ROE: All right, good morning."), ("d1", "We have a few things today."),
        ("d2", "\u201cWe signed it today,\u201d said John Doe."), ("d2", "\u201cOur cooperation will deepen.\u201d"),
        ("d2", "\u201cThe talks went very well indeed,\u201d he added."),
    ])
    docs = documents_frame(["d1", "d2"])
    found = quotes_of(scan_paragraphs(paras).quotes)
    from_scans = extract_quotes(paras, docs, found=found)
    pd.testing.assert_frame_equal(from_scans, extract_quotes(paras, docs))
    assert from_scans["speaker_label"].tolist().count("Jane Roe") == 2
    assert from_scans["speaker_label"].tolist().count("John Doe") == 3


def test_a_source_after_the_quote_is_its_speaker_only_when_the_sentence_names_none():
    q = _quotes("Roe said the strike marked \u201ca dangerous escalation in the region,\u201d according to a readout.",
                "Officials agreed to \u201cdeepen their cooperation,\u201d according to a readout from the Foreign Ministry.")
    assert _speaker(q, "a dangerous escalation") == "Roe"
    assert _speaker(q, "deepen their cooperation") == "Foreign Ministry"
    q = _quotes("\u201cThe talks will resume next month,\u201d according to Radio Tigris. "
                "\u201cWe are moving forward with the inquiry,\u201d she announced.")
    assert _speaker(q, "The talks will resume") == "Radio Tigris"
    assert _speaker(q, "We are moving forward") is None  # a source is no antecedent of "she"


def test_a_lone_title_is_no_speaker():
    q = _quotes("\u201cWe know the vote was close,\u201d the President said.",
                "One MP told the broadcaster, \u201cWe know that many people wanted to stay.\u201d")
    assert _speaker(q, "We know the vote") is None
    assert _speaker(q, "We know that many") is None


def test_a_quote_by_someone_unnamed_ends_the_turn():
    q = _quotes("\u201cWe will march again tomorrow,\u201d said student leader Jane Roe.",
                "\u201cShe is only trying to split the movement,\u201d said a protester who gave no name. "
                "\u201cThe situation has gone too far now.\u201d")
    assert _speaker(q, "We will march") == "Jane Roe"
    assert _speaker(q, "She is only trying") is None
    assert _speaker(q, "The situation has gone") is None
