"""People, organizations and places: find their mentions, resolve aliases, build ``entities`` + ``mentions``.

Two steps:

1. :func:`scan` runs the shared spaCy pipeline (:mod:`flows.extract.nlp`) over the content paragraphs and
   keeps, per paragraph, its sentences, lexicon entities, people and definite descriptions
   ("the defense minister"). A capitalised name sequence is a person only with evidence in its
   context (:func:`_person_context`): a title, rank or lower-case person noun before it
   ("spokesperson X"), an apposition with an office ("X, Assistant Secretary of Defense"; "the US
   Ambassador to Iraq, X"), a given name first (``lexicons/given_names.yaml`` and the nicknames
   package), a possessive outlet ("Rudaw's X"), a speech verb it is the subject of, a social-media
   handle, a name particle with a given name ("Mohammed al-X"), or a transcript's speaker label
   ("MAJ. GEN. X Y:"). A name followed by a place noun ("al-X camp") is a place. Lexicons never
   list people.
2. :func:`resolve` groups the mentions into entities. People: written names are compared after
   normalisation (case, diacritics, apostrophes, al-/Al-, honorifics, initials, suffixes, compound
   given names): the same surname, written alike or as a transliteration of it (doubled or dropped
   letters, vowels, a lost final -i), and the same given name (a transliteration, a near-identical
   spelling or a short form: Pat / Patrick); middle names may be missing on one side but may not
   differ. A name without its first given name ("Muhammad al-X" for "Thabet Muhammad al-X") merges
   only when both are written with the same office. Surname-only mentions ("al-Abbasi", "Austin")
   and descriptions ("the defense minister") are attached only when exactly one person fits, first
   in the same document, then (surnames only) in the whole corpus; a bare "al-X" or "X said" that
   fits nobody is dropped (it may be a place or an organization).
   Organizations and places resolve through the lexicon (acronyms and variants share one id).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd
from rapidfuzz import fuzz

from flows.common.text import stable_id
from flows.extract.nlp import Lexicons, get_nlp, get_sentencizer, load_lexicons

GIVEN_NAME_MIN_RATIO = 80
SPEECH_VERBS = {"said", "says", "told", "tells", "added", "stated", "wrote", "announced", "noted", "tweeted", "explained",
                "stressed", "confirmed", "emphasized", "emphasised", "warned", "insisted", "pointed", "highlighted",
                "remarked", "recalled", "declared", "argued", "replied"}
LISTENER_VERBS = {"told", "tells"}  # "told X": X is who was told
_NAME_THEN_SPEECH_VERB = re.compile(r"\b([A-Z][a-z]*(?:[A-Z][a-z]+)?)\s+(?:" + "|".join(sorted(SPEECH_VERBS)) + r")\b")
# capitalised words that open sentences and are never a part of a person's name
NOT_NAME = {
    "The", "In", "On", "At", "During", "After", "Before", "While", "But", "And", "A", "An", "As", "For",
    "From", "Both", "This", "That", "These", "Those", "Today", "Yesterday", "Tomorrow", "It", "He", "She",
    "They", "We", "I", "Our", "His", "Her", "Their", "According", "Since", "When", "Meanwhile", "However",
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    "Mr", "Mrs", "Ms", "Dr", "Photo", "Video", "Read", "More", "Also", "With", "Of", "To", "By", "If",
    "Minister", "Secretary", "President", "General", "Commander", "Director", "Chairman", "Spokesperson",
}
NAME_FIELDS = ("first", "middles", "last")
CAPTION_WORDS = {"Image", "Photo", "Picture", "Video", "File", "Credit", "Caption"}


@dataclass(slots=True)
class Person:
    start: int
    end: int
    text: str
    title: str | None = None
    countries: Counter = field(default_factory=Counter)
    cue: str = ""


@dataclass(slots=True)
class Description:
    start: int
    end: int
    text: str
    title: str
    country: str | None


@dataclass(slots=True)
class Para:
    doc_id: str
    para_id: str
    text_: str | None      # the text (see ``text``), or None when ``source`` holds it
    sents_: array | None   # the sentences' spans, flat (start, end, start, end, ...): see ``sents``
    ents: tuple            # ((start, end, label, canonical, country), ...)
    persons: tuple         # (Person, ...)
    descriptions: tuple    # (Description, ...)
    series: tuple          # ((start, end, series_name, text), ...)
    countries: frozenset | None = None  # countries the text names (flows.extract.events.countries_said), if known
    source: object = None  # a flows.common.frames.TextColumn holding the text at position ``row``
    row: int = -1

    @property
    def text(self) -> str:
        """The paragraph's text: its own, or read from ``source`` each time (the extract stage's
        records, one per content paragraph, share the paragraphs table's text column instead of a
        copy each)."""
        text = self.text_
        return text if text is not None or self.source is None else self.source[self.row]

    @text.setter
    def text(self, value: str | None) -> None:
        self.text_ = value

    def found_something(self) -> bool:
        """Whether the scan found anything here (entities, names, descriptions, series)."""
        return bool(self.ents or self.persons or self.descriptions or self.series)

    @property
    def sents(self) -> list[tuple[int, int]]:
        """Sentence spans [(start, end)] from the pipeline's sentencizer. Only the events stage needs
        them: the scan sets them for the paragraphs where it found something (those the events
        stage reads), the others compute them here on first use. Kept flat in an ``array`` (8 bytes
        a sentence instead of a tuple and two ints: the scans hold the sentences of every paragraph
        with a finding)."""
        if self.sents_ is None:
            text = self.text
            self.sents_ = _sentences(get_sentencizer()(text), text)
        flat = self.sents_
        return list(zip(flat[0::2], flat[1::2]))


# --- step 1: scan ---------------------------------------------------------------------------------

def _ent_at(doc, i):
    if i < 0 or i >= len(doc) or not doc[i].ent_type:
        return None
    return _ent_index(doc).get(i)


def _ent_index(doc) -> dict:
    index = doc.user_data.get("ent_index")
    if index is None:
        index = {}
        for ent in doc.ents:  # Doc.ents builds new Span objects on every access: once per doc
            for k in range(ent.start, ent.end):
                index[k] = ent
        doc.user_data["ent_index"] = index
        doc.user_data["ents"] = sorted(set(index.values()), key=lambda e: e.start)
    return index


def _country_before(doc, i, lex: Lexicons) -> str | None:
    """Country said by a demonym, country or national organization ending at token i."""
    ent = _ent_at(doc, i)
    if ent is None:
        return None
    if ent.label_ in ("NORP", "GPE", "LOC"):
        return lex.country_of(ent.label_, ent.ent_id_)
    if ent.label_ == "ORG":
        return lex.country_of("ORG", ent.ent_id_)
    return None


def _person_context(doc, span, lex: Lexicons) -> Person | None:
    """The person a name candidate is, with title and country votes, or None without evidence.

    Evidence, strongest first: a title or rank before it ("Defense Minister X", "Lt. Gen. X"), also
    across an apposition ("the US Ambassador to Iraq, X", "the head of <organization>, X"); a title
    after it ("X, Assistant Secretary of Defense"); a person noun before it in lower case
    ("spokesperson X", "security expert X", "his brother X"); a given name first ("Abbas Elwan");
    an outlet's possessive ("Rudaw's X"); a speech verb whose subject it is ("X said", "X, told",
    "said X"; not "told X": the one told may be an outlet); a social-media handle after it; a name
    particle with a given name ("Mohammed al-X"), or alone ("al-X": kept only if it resolves to a
    person named in full, see :func:`resolve`). A name followed by a place noun ("al-X camp") is none.
    """
    if any(t.text in lex.not_name_words for t in span) or _place_noun_after(doc, span.end, lex):
        return None
    p = Person(span.start_char, span.end_char, span.text)
    # a particle written as in a name: lower case ("bin Laden") or hyphenated ("al-Assad", "Al-Quaety");
    # not "El Paso", "Al Jazeera"
    has_particle = any(t.lower_ in lex.particles and (t.is_lower or (t.i + 1 < len(doc) and doc[t.i + 1].text == "-"))
                       for t in span)
    # left: honorifics/ranks, then a title (or an apposition ending in one), then a country
    i = span.start - 1
    rank = None
    while i >= 0 and doc[i].ent_type_ in ("HONORIFIC", "RANK"):
        ent = _ent_at(doc, i)
        if ent.label_ == "RANK":
            rank = ent.ent_id_
        i = ent.start - 1
    if i >= 0 and doc[i].text == "," and (rank or i == span.start - 1):
        found = _title_before_comma(doc, i, lex)
        if found is not None:
            title, j, country = found
            if country:
                p.countries[country] += 2
            if title is None:  # "the head of <organization>, X": a person, no office
                p.cue = "apposition"
            else:
                i = j
    ent = _ent_at(doc, i)
    noun = doc[i] if i >= 0 and doc[i].is_lower and doc[i].lower_ in lex.person_nouns else None
    if ent is not None and ent.label_ == "TITLE":
        p.title, p.cue = ent.ent_id_, "title"
        _vote_title_country(p, doc, ent.ent_id_, ent.start, lex)
    elif noun is not None:
        p.title, p.cue = lex.person_nouns[noun.lower_] or rank, "person_noun"
        _vote_title_country(p, doc, p.title, noun.i, lex)
    elif rank:
        p.title, p.cue = rank, "rank"
    # right apposition: "X, Assistant Secretary of Defense" / "X, the Iraqi defense minister"
    if not p.title:
        found = _title_after_comma(doc, span.end, lex)
        if found is not None:
            title, country = found
            p.title, p.cue = title, "apposition"
            if country:
                p.countries[country] += 2
            default = lex.titles.get(title, {}).get("country") if title else None
            if default:
                p.countries[default] += 1
    if p.cue:
        return p
    before = doc[span.start - 1] if span.start else None
    after = doc[span.end] if span.end < len(doc) else None
    if before is not None and before.text in ("'s", "\u2019s") and span.start >= 2 and doc[span.start - 2].ent_type_ == "ORG":
        org = _ent_at(doc, span.start - 2)
        c = lex.country_of("ORG", org.ent_id_)
        if c:
            p.countries[c] += 1
        if lex.orgs.get(org.ent_id_, {}).get("outlet"):
            p.title = lex.outlet_person_title
        p.cue = "possessive"
        return p
    given = lex.is_given_name(span[0].text) and span[0].lower_ not in lex.particles
    if given and 2 <= len(span) <= 4:
        p.cue = "given_name"
        return p
    bare_surname = len(span) <= 3 and span[0].lower_ in lex.particles  # "al-X", "bin X"
    if _speaks(doc, span, lex):
        p.cue = "surname_speech" if bare_surname else "speech_verb"
        return p
    if after is not None and after.text == "(" and span.end + 1 < len(doc) and doc[span.end + 1].text.startswith("@"):
        p.cue = "handle"
        return p
    if has_particle and (given or span[0].lower_ in lex.particles or _nasab(span, lex)):
        # "Mohammed al-X", "Qaboos bin Said", "Abu Mahdi al-X" are names; "al-X" alone only if it
        # resolves to a person named in full; "Ain al-Asad" is a place
        p.cue = "particle_surname" if bare_surname else "particle"
        return p
    return None


NASAB = frozenset({"bin", "ibn", "bint"})  # "son/daughter of" inside an Arabic name


def _nasab(span, lex: Lexicons) -> bool:
    """"X bin Y": a lower-case "son of" between two names."""
    return any(t.lower_ in NASAB and t.is_lower and 0 < t.i - span.start < len(span) - 1 for t in span)


def _vote_title_country(p: Person, doc, title: str | None, title_start: int, lex: Lexicons) -> None:
    """A title's default country, and a demonym/country/organization written before it."""
    default = lex.titles.get(title, {}).get("country") if title else None
    if default:
        p.countries[default] += 1
    c = _country_before(doc, title_start - 1, lex)
    if c:
        p.countries[c] += 2


APPOSITION_LINKS = frozenset({"of", "for", "to", "the", "and", "in", "on", "at", "&"})
MAX_APPOSITION_TOKENS = 12


def _title_before_comma(doc, comma: int, lex: Lexicons):
    """(title or None, token index of the title's last token, country) when the phrase before the
    comma at ``comma`` is an office: a title with its complement ("the US Ambassador to Iraq,",
    "Deputy Assistant Secretary of Defense for Middle East Policy,") or a person noun with one ("the
    head of the KRG Department of Media and Information,"); None otherwise."""
    j = comma - 1
    country = None
    steps = 0
    while j >= 0 and steps < MAX_APPOSITION_TOKENS:
        tok = doc[j]
        ent = _ent_at(doc, j)
        if ent is not None and ent.label_ == "TITLE":
            return ent.ent_id_, ent.end - 1, country
        if tok.is_lower and tok.lower_ in lex.person_nouns and steps:
            # a bare noun right before the comma ("..., officials, X") is a list, not an office
            return lex.person_nouns[tok.lower_], j, country
        if ent is not None:
            # "the Minister of Iraq," says the office's country; "the Ambassador to Iraq," does not
            if ent.label_ == "GPE" and country is None and ent.start and doc[ent.start - 1].lower_ == "of":
                country = ent.ent_id_
            j = ent.start - 1
        elif tok.lower_ in APPOSITION_LINKS or (tok.is_alpha and tok.is_title) or tok.is_digit:
            j -= 1
        else:
            return None
        steps += 1
    return None


APPOSITION_MODIFIERS = frozenset({"former", "acting", "deputy", "senior", "top", "assistant", "then", "current",
                                  "interim", "chief", "principal", "special", "new", "outgoing", "incoming"})


def _title_after_comma(doc, k: int, lex: Lexicons):
    """(title or None, country) when "<name>, <office>" follows: "X, Assistant Secretary of Defense",
    "X, the Iraqi defense minister", "X, Deputy Commander of Joint Operations", "X, a spokesman for
    ..."; None otherwise."""
    if k >= len(doc) or doc[k].text != ",":
        return None
    k += 1
    if k < len(doc) and doc[k].lower_ in ("the", "a", "an"):
        k += 1
    country = None
    for _ in range(4):
        if k >= len(doc):
            return None
        ent = _ent_at(doc, k)
        if ent is not None and ent.label_ in ("NORP", "GPE"):
            country, k = lex.country_of(ent.label_, ent.ent_id_), ent.end
        elif ent is not None and ent.label_ == "TITLE":
            return ent.ent_id_, country
        elif doc[k].is_lower and doc[k].lower_ in lex.person_nouns:
            return lex.person_nouns[doc[k].lower_], country
        elif doc[k].lower_ in APPOSITION_MODIFIERS:
            k += 1
        else:
            return None
    return None


def _place_noun_after(doc, end: int, lex: Lexicons) -> bool:
    """A place noun within the two tokens after a name ("al-Jada 5 camp", "Al-Harir air base")."""
    return any(end + n < len(doc) and doc[end + n].lower_ in lex.place_nouns for n in (0, 1))


def _speaks(doc, span, lex: Lexicons) -> bool:
    """The name is the subject of a speech verb ("X said", "X, told", "said X"); "told X" does not count
    (the one told may be an outlet: "told Reuters")."""
    k = span.end
    if k + 1 < len(doc) and doc[k].text == "," and span.start and doc[span.start - 1].text == ",":
        k += 1  # "the head of ..., X, told": the name set off by commas
    if k < len(doc) and doc[k].lower_ in SPEECH_VERBS:
        return True
    before = doc[span.start - 1] if span.start else None
    return before is not None and before.lower_ in SPEECH_VERBS and before.lower_ not in LISTENER_VERBS


def _with_hyphenated_given_name(doc, span, lex: Lexicons):
    """The candidate with the first half of a hyphenated given name before it ("Abdul-" of
    "Abdul-Wahhab Al-Saadi", "Jean-" of "Jean-Pierre Dupont"): the name matcher starts after a hyphen."""
    s = span.start
    while s >= 2 and doc[s - 1].text == "-" and not doc[s - 1].whitespace_ and not doc[s - 2].whitespace_ \
            and doc[s - 2].is_alpha and doc[s - 2].is_title and not doc[s - 2].ent_type_ \
            and doc[s - 2].lower_ not in lex.particles:
        s -= 2
    return doc[s:span.end] if s != span.start else span


# a transcript's speaker label: a line that opens with capital letters and a colon ("MAJ. GEN. PAT
# RYDER:", "SECRETARY OF DEFENSE JOHN Q. DOE:")
_LABEL = re.compile(r"^\s*(?P<label>[A-Z][A-Z.'\u2019\- ]{1,80}?)\s*:")


def _transcript_speaker(doc, text: str, lex: Lexicons) -> list[Person]:
    """The person a transcript's speaker label names, without the office or rank before the name
    ("SECRETARY MAJOR GENERAL PAT RYDER:" -> "PAT RYDER", title General). A label with no name in it
    ("MODERATOR:", "SENIOR ADMINISTRATION OFFICIAL:", "Q:") names nobody."""
    m = _LABEL.match(text)
    if m is None:
        return []
    words = [(w.start() + m.start("label"), w.group()) for w in re.finditer(r"[A-Z][A-Z'\u2019\-]*\.?", m["label"])]
    office = 0
    while office < len(words) and _title_word(words[office][1], lex):
        office += 1
    name = words[office:]
    if len(name) == 1 and office and name[0][1].rstrip(".").title() not in lex.not_name_words:
        # "SECRETARY AUSTIN:": a surname after an office, like "Secretary Austin" in prose
        start = name[0][0]
        end = start + len(name[0][1].rstrip("."))
        return [Person(start, end, text[start:end], title=_title_of_words(" ".join(w for _, w in words[:office]), lex),
                       cue="title_surname")]
    if len(name) < 2 or not (office or lex.is_given_name(name[0][1])) \
            or any(w.rstrip(".").title() in lex.not_name_words for _, w in name):
        return []
    start, end = name[0][0], name[-1][0] + len(name[-1][1].rstrip("."))
    title = _title_of_words(" ".join(w for _, w in words[:office]), lex)
    return [Person(start, end, text[start:end], title=title, cue="transcript_label")]


def _title_word(word: str, lex: Lexicons) -> bool:
    return word.rstrip(".").lower() in lex.title_words


def _title_of_words(words: str, lex: Lexicons) -> str | None:
    """The canonical title or rank that ends a run of title words ("SECRETARY OF DEFENSE" ->
    Secretary of Defense; "MAJ. GEN." -> General)."""
    folded = " " + " ".join(w.rstrip(".") for w in words.lower().split())
    best = None
    for variant, canonical, _ in lex.title_variants:
        v = " " + " ".join(w.rstrip(".") for w in variant.lower().split())
        if folded.endswith(v) and (best is None or len(v) > best[0]):
            best = (len(v), canonical)
    return best[1] if best else None


def _surnames_speaking(doc, text: str, persons: list[Person], lex: Lexicons) -> list[Person]:
    """A single capitalised word right before a speech verb ("...,” Austin said"): a surname, kept only
    if it resolves to a person named in full (see :func:`resolve`)."""
    out = []
    for m in _NAME_THEN_SPEECH_VERB.finditer(text):
        word = m.group(1)
        s = m.start(1)
        if word in NOT_NAME or word in lex.not_name_words or _title_word(word, lex) \
                or any(p.start <= s < p.end for p in persons):
            continue
        span = doc.char_span(s, s + len(word))
        if span is None or len(span) != 1 or span[0].ent_type_:
            continue
        tok = span[0]
        if tok.i and doc[tok.i - 1].is_title and not doc[tok.i - 1].is_sent_start:
            continue  # part of a longer capitalised sequence
        out.append(Person(s, s + len(word), word, cue="surname_speech"))
    return out


def _trim(doc, span):
    """Drop leading capitalised function words ("The", "In January"); a name keeps two tokens or a
    hyphenated particle ("al-Abbasi")."""
    s, e = span.start, span.end
    while s < e and (doc[s].text in NOT_NAME):
        s += 1
    while e > s and doc[e - 1].text in CAPTION_WORDS:  # "Elizabeth Warren Image" under a picture
        e -= 1
    if e - s >= 2:
        return doc[s:e]
    return None


def _sentences(doc, text: str) -> array:
    """Sentence character spans from the sentencizer's token flags (without building Span objects),
    flat: ``array("I", [start, end, start, end, ...])``."""
    if not len(doc):
        return array("I")
    from spacy.attrs import IDX, SENT_START

    arr = doc.to_array([SENT_START, IDX])
    starts = arr[arr[:, 0] == 1, 1].tolist() or [0]
    if starts[0] != 0:
        starts.insert(0, 0)
    ends = starts[1:] + [len(text)]
    flat = array("I")
    for a, b in zip(starts, ends):
        flat.append(a)
        flat.append(len(text[a:b].rstrip()) + a)
    return flat


def _scan_doc(doc, lex: Lexicons, doc_id: str, para_id: str, text: str | None = None) -> Para:
    if text is None:
        text = doc.text  # Doc.text joins every token: pass the text in when it is known
    _ent_index(doc)
    all_ents = doc.user_data["ents"]
    ents = [(e.start_char, e.end_char, e.label_, e.ent_id_, lex.country_of(e.label_, e.ent_id_))
            for e in all_ents if e.label_ in ("ORG", "GPE", "LOC")]
    # national organizations take the country of a demonym right before them
    for n, (s, e, label, canonical, country) in enumerate(ents):
        if label == "ORG" and lex.orgs.get(canonical, {}).get("national"):
            span = doc.char_span(s, e)
            if span is not None:
                ents[n] = (s, e, label, canonical, _country_before(doc, span.start - 1, lex))
    series_spans = list(doc.spans.get("series", []))
    taken = [(e.start, e.end) for e in doc.spans.get("series", [])]
    persons = _transcript_speaker(doc, text, lex)
    for cand in doc.spans.get("names", []):
        if any(s < cand.end and cand.start < e for s, e in taken):
            continue
        span = _trim(doc, _with_hyphenated_given_name(doc, cand, lex))
        if span is None or any(p.start <= span.start_char < p.end for p in persons):
            continue
        p = _person_context(doc, span, lex)
        if p is not None:
            persons.append(p)
    persons += _surnames_speaking(doc, text, persons, lex)
    covered = [(p.start, p.end) for p in persons]
    # a single capitalised word right after a title: "Secretary Austin", "Minister Fuad"
    descriptions = []
    for ent in all_ents:
        if ent.label_ != "TITLE":
            continue
        nxt = ent.end
        while nxt < len(doc) and doc[nxt].ent_type_ == "HONORIFIC":
            nxt += 1
        if nxt < len(doc) and doc[nxt].is_title and doc[nxt].is_alpha and not doc[nxt].ent_type_ \
                and doc[nxt].text not in NOT_NAME \
                and not any(s <= doc[nxt].idx < e for s, e in covered):
            tok = doc[nxt]
            if nxt + 1 >= len(doc) or not (doc[nxt + 1].is_title and doc[nxt + 1].is_alpha):
                span = doc[nxt:nxt + 1]
                p = _person_context(doc, span, lex)
                if p is not None:
                    p.cue = "title_surname"
                    persons.append(p)
                    covered.append((tok.idx, tok.idx + len(tok)))
            continue
        # "the defense minister" not followed by a name or "of": a description of someone
        prev = doc[ent.start - 1] if ent.start else None
        country = None
        if prev is not None and prev.ent_type_ in ("NORP", "GPE"):
            country = _country_before(doc, ent.start - 1, lex)
            prev = doc[_ent_at(doc, ent.start - 1).start - 1] if _ent_at(doc, ent.start - 1).start else None
        follows = doc[ent.end] if ent.end < len(doc) else None
        if prev is not None and prev.lower_ == "the" and (follows is None or follows.lower_ != "of") \
                and not (follows is not None and follows.text == "," and ent.end + 1 < len(doc)
                         and any(s == doc[ent.end + 1].idx for s, _ in covered)):
            start = prev.idx
            descriptions.append(Description(start, ent.end_char, text[start:ent.end_char], ent.ent_id_, country))
    series = [(s.start_char, s.end_char, s.label_, s.text) for s in series_spans]
    sents = _sentences(doc, text) if doc.has_annotation("SENT_START") else None
    # the cached entity index holds Spans of this Doc: drop it, or Doc and Spans form a reference
    # cycle that only the cyclic GC (paused during extraction) could free
    doc.user_data.pop("ent_index", None)
    doc.user_data.pop("ents", None)
    # tuples: nothing changes a scan's findings, and most of them are empty (``()`` is one shared
    # object, also once unpickled, where each empty list is an object of its own)
    return Para(doc_id, para_id, text, sents, tuple(ents), tuple(persons), tuple(descriptions), tuple(series))


def scan(paragraphs: pd.DataFrame, batch_size: int = 256) -> list[Para]:
    """Run the pipeline over the content paragraphs (status == content), in document order."""
    nlp = get_nlp()
    lex = load_lexicons()
    content = paragraphs[paragraphs["status"] == "content"]
    if "position" in content.columns:
        content = content.sort_values(["doc_id", "position"])
    texts = content["text"].tolist()
    keys = list(zip(content["doc_id"], content["para_id"], texts))
    # a paragraph's scan reads its text and nothing else, so each distinct text is scanned once (a
    # repeated paragraph, a copy in another article of the batch); a repeat gets a Para of its own
    # that shares the first's findings (nothing changes them after the scan)
    distinct = list(dict.fromkeys(texts))
    sentencizer = nlp.get_pipe("sentencizer")
    scanned: dict[str, Para] = {}
    # the pipeline runs without its sentencizer (the shared pipeline itself is not modified); the
    # sentences of a paragraph where the scan found something are set here, on the same tokens (the
    # events stage reads the sentences of paragraphs with mentions, which would otherwise be
    # tokenised a second time); the other paragraphs get theirs on demand (Para.sents)
    for text, doc in zip(distinct, nlp.pipe(distinct, batch_size=batch_size, disable=["sentencizer"])):
        para = _scan_doc(doc, lex, None, None, text)
        if para.found_something():
            para.sents_ = _sentences(sentencizer(doc), text)
        scanned[text] = para
    return [dataclasses.replace(scanned[text], doc_id=doc_id, para_id=para_id) for doc_id, para_id, text in keys]


# --- step 2: resolve ------------------------------------------------------------------------------

_APOS = re.compile(r"[\u2019'`\u02bc]")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _APOS.sub("", text).casefold()


def name_parts(name: str, lex: Lexicons | None = None) -> dict:
    """Normalised parts of a person's name: first, middles (tuple), last (particle kept, joined by '-')."""
    return dict(_name_parts(name))


# Arabic given names written in two words that are one name ("Abdul Amir" = "Abdul-Amir" = "Abdulamir")
COMPOUND_PREFIXES = frozenset({"abdul", "abdel", "abdal", "abd"})


@functools.lru_cache(maxsize=100_000)
def _name_parts(name: str) -> tuple:
    lex = load_lexicons()
    particles = set(lex.particles)
    honorifics = {_fold(h).rstrip(".") for h in lex.honorifics}
    suffixes = {_fold(s).rstrip(".") for s in lex.suffixes}
    # a nickname in quotes is not one of the names ('John "Jack" Doe')
    raw = re.split(r"[\s\u00a0]+", re.sub(r"[\"\u201c\u201d\u2018]\w+[\"\u201c\u201d\u2019']", " ", _fold(name)).replace("-", " - "))
    tokens = []
    i = 0
    while i < len(raw):
        t = raw[i].strip(".,")
        if not t:
            i += 1
            continue
        if t in particles and i + 1 < len(raw):
            j = i + 1
            if raw[j] == "-":
                j += 1
            if j < len(raw):
                tokens.append(f"{t}-{raw[j].strip('.,')}")
                i = j + 1
                continue
        if t == "-" and tokens and i + 1 < len(raw) and raw[i + 1] not in particles:
            # a hyphenated given name or surname is one name ("Abdul-Wahhab" ~ "Abdulwahab")
            tokens[-1] += raw[i + 1].strip(".,")
            i += 2
            continue
        if tokens and tokens[-1] in COMPOUND_PREFIXES and t not in particles and i + 1 < len(raw):
            tokens[-1] += t  # "Abdul Wahhab" ~ "Abdulwahab" (not the last word: "Ali Abdul" keeps it)
            i += 1
            continue
        if t != "-":
            tokens.append(t)
        i += 1
    tokens = [t for t in tokens if t not in honorifics and t not in suffixes and len(t.rstrip(".")) > 1]
    if not tokens:
        return (("first", None), ("middles", ()), ("last", None))
    if len(tokens) == 1:
        return (("first", None), ("middles", ()), ("last", tokens[0]))
    return (("first", tokens[0]), ("middles", tuple(tokens[1:-1])), ("last", tokens[-1]))


@functools.lru_cache(maxsize=100_000)  # resolution compares each surname many times
def surname_key(last: str | None) -> str | None:
    """Surname compared without its particle, doubled letters collapsed ("al-Abbasi" ~ "Abbasi")."""
    if not last:
        return None
    bare = last.split("-", 1)[1] if "-" in last and last.split("-", 1)[0] in load_lexicons().particles else last
    return re.sub(r"(.)\1+", r"\1", bare)


@functools.lru_cache(maxsize=100_000)
def _skeleton(word: str) -> str:
    """A romanised name's consonants (first letter kept, vowels and w/y dropped, doubles collapsed):
    the transliterations of one name share it ("Mohammedawi" / "Muhammadawi", "Romanowski" /
    "Romanoski"); it only groups candidates, the names are then compared letter by letter."""
    word = re.sub(r"(.)\1+", r"\1", word)
    return word[:1] + re.sub(r"[aeiouwy\-']", "", word[1:])


def surname_block(last: str | None) -> str | None:
    key = surname_key(last)
    return _skeleton(key) if key else None


SURNAME_MIN_RATIO = 80


def same_surname(a: str | None, b: str | None) -> bool:
    """One surname, written alike or transliterated otherwise ("al-Abbasi" / "Al Abassi",
    "Al-Mohammedawi" / "Al-Muhammadawi"); "Hakim" and "Hakimi" are two."""
    ka, kb = surname_key(a), surname_key(b)
    if not ka or not kb:
        return False
    return ka == kb or (_skeleton(ka) == _skeleton(kb) and fuzz.ratio(ka, kb) >= SURNAME_MIN_RATIO)


def same_given_name(a: str, b: str) -> bool:
    """One given name: the same letters (doubles collapsed), a near-identical spelling with the same
    initial ("Thabet" / "Thabit"), a transliteration with the same consonants ("Mohammed" /
    "Muhammad"), or a short form of the other ("Pat" / "Patrick", "Bill" / "William")."""
    from flows.extract.nlp import given_name_key

    ka, kb = given_name_key(a.strip(".")), given_name_key(b.strip("."))
    if ka == kb:
        return True
    if not ka or not kb:
        return False
    if len(ka) == 1 or len(kb) == 1:  # an initial
        return ka[0] == kb[0]
    if ka[0] == kb[0] and (fuzz.ratio(ka, kb) >= GIVEN_NAME_MIN_RATIO
                           or (_skeleton(ka) == _skeleton(kb) and fuzz.ratio(ka, kb) >= GIVEN_NAME_TRANSLIT_RATIO)):
        return True
    return kb in load_lexicons().short_forms.get(ka, ())


GIVEN_NAME_TRANSLIT_RATIO = 60


def same_person(a: dict, b: dict) -> bool:
    """Conservative: same surname, the same given name, compatible middle names (one side may have
    none; initials match the names they begin)."""
    if not a["first"] or not b["first"] or not same_surname(a["last"], b["last"]):
        return False
    if not same_given_name(a["first"], b["first"]):
        return False
    ma, mb = a["middles"], b["middles"]
    if ma and mb:
        return len(ma) == len(mb) and all(same_given_name(x, y) for x, y in zip(ma, mb))
    return True


def given_name_dropped(a: dict, b: dict) -> bool:
    """The shorter name is the longer one without its first given name ("Muhammad al-Abbasi" and
    "Thabet Muhammad al-Abbasi"): news often names a person by a second name. Not evidence enough on
    its own (see :func:`resolve`: the two must also share an office)."""
    if not a["first"] or not b["first"] or not same_surname(a["last"], b["last"]):
        return False
    short, long_ = (a, b) if len(a["middles"]) < len(b["middles"]) else (b, a)
    rest = list(long_["middles"])
    names = [short["first"], *short["middles"]]
    return len(names) == len(rest) and all(same_given_name(x, y) for x, y in zip(names, rest))


# cues too weak to make a person of their own: such a mention is kept only when it resolves to a
# person named in full ("al-X" alone may be a place; "X said" may be an organization)
WEAK_CUES = frozenset({"particle_surname", "surname_speech"})


def _person_clusters(full: list) -> dict[int, list[int]]:
    """Group the full-name mentions ``full`` [(para, Person, name parts)] into people: cluster root ->
    indexes into ``full``. Distinct normalised names are compared within a surname's transliteration
    group: they merge when :func:`same_person` says so, or when one drops the other's first given
    name (:func:`given_name_dropped`) and both are written with the same office."""
    forms = sorted({(p["first"], p["middles"], p["last"]) for _, _, p in full}, key=str)
    form_index = {f: k for k, f in enumerate(forms)}
    offices = defaultdict(set)  # form -> the offices written with it (not ranks)
    lex = load_lexicons()
    for _, person, p in full:
        if person.title and not lex.titles.get(person.title, {}).get("rank"):
            offices[form_index[(p["first"], p["middles"], p["last"])]].add(person.title)
    uf = _UnionFind(len(forms))
    by_block = defaultdict(list)
    for k, (first, middles, last) in enumerate(forms):
        by_block[surname_block(last)].append(k)
    for idx in by_block.values():
        for a in range(len(idx)):
            for b in range(a + 1, len(idx)):
                fa, fb = dict(zip(NAME_FIELDS, forms[idx[a]])), dict(zip(NAME_FIELDS, forms[idx[b]]))
                if same_person(fa, fb) or (offices[idx[a]] & offices[idx[b]] and given_name_dropped(fa, fb)):
                    uf.union(idx[a], idx[b])
    clusters = defaultdict(list)
    for i, (_, _, p) in enumerate(full):
        clusters[uf.find(form_index[(p["first"], p["middles"], p["last"])])].append(i)
    return clusters


class _UnionFind:
    def __init__(self, n):
        self.parent = list(range(n))

    def find(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class Resolution:
    """What :func:`resolve` found: the two tables and lookups for the events stage."""

    entities: pd.DataFrame
    mentions: pd.DataFrame
    info: dict      # entity_id -> {"type", "name", "country", "title"}

    @classmethod
    def of_tables(cls, entities: pd.DataFrame, mentions: pd.DataFrame) -> Resolution:
        """The resolution whose tables these are (as :func:`resolve` makes them, or read back from their
        files): ``info`` is derived from the entities."""
        def value(v):
            return None if pd.isna(v) else v

        info = {eid: {"type": t, "name": n, "country": value(c), "title": value(ti)}
                for eid, t, n, c, ti in zip(entities["entity_id"], entities["entity_type"],
                                            entities["canonical_name"], entities["country"], entities["title"])}
        return cls(entities, mentions, info)


class _Found(NamedTuple):
    """A mention :func:`resolve` found, with the key of the entity it names (a tuple, not a dict:
    there is one per mention found)."""

    key: tuple
    doc_id: str
    para_id: str
    char_start: int
    char_end: int
    text: str
    kind: str


def _in_word(c: str) -> bool:
    """A character that continues a word or a hyphenated name (regex ``[\\w-]``)."""
    return c.isalnum() or c in "_-"


def standing_alone(text: str, forms: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, form) of the occurrences of ``forms`` in ``text`` that stand alone (not inside a
    word or a hyphenated name), left to right, not overlapping, the longest first where several
    start together: what ``finditer`` of their alternation gives, without compiling a pattern for
    each document's surnames (tens of thousands of patterns on a large corpus)."""
    found = []
    for form in forms:
        start = text.find(form)
        while start >= 0:
            end = start + len(form)
            if (start == 0 or not _in_word(text[start - 1])) and (end == len(text) or not _in_word(text[end])):
                found.append((start, -len(form), form))
            start = text.find(form, start + 1)
    out, taken = [], 0
    for start, negative_length, form in sorted(found):
        if start >= taken:
            taken = start - negative_length
            out.append((start, taken, form))
    return out


_SEVERAL = object()  # a surname that more than one person of a document has


def resolve(paras: list[Para]) -> Resolution:
    lex = load_lexicons()
    rows: list[_Found] = []
    # organizations and places ---------------------------------------------------------------
    national_by_doc = defaultdict(set)
    for para in paras:
        for s, e, label, canonical, country in para.ents:
            if label == "ORG" and lex.orgs.get(canonical, {}).get("national") and country:
                national_by_doc[para.doc_id].add((canonical, country))
    national_all = defaultdict(set)
    for pairs in national_by_doc.values():
        for canonical, country in pairs:
            national_all[canonical].add(country)
    for para in paras:
        text = para.text if para.ents else ""  # (read once: it may be decoded on each read, see Para.text)
        for s, e, label, canonical, country in para.ents:
            if label == "ORG":
                if lex.orgs.get(canonical, {}).get("national") and not country:
                    here = {c for n, c in national_by_doc[para.doc_id] if n == canonical}
                    pool = here or national_all.get(canonical, set())
                    country = next(iter(pool)) if len(pool) == 1 else None
                key = ("organization", canonical, country if lex.orgs.get(canonical, {}).get("national") else None)
            else:
                key = ("location", canonical, None)
            rows.append(_Found(key, para.doc_id, para.para_id, s, e, text[s:e], "lexicon"))
    # people ---------------------------------------------------------------------------------
    full, short = [], []
    parts_of: dict[str, dict] = {}  # name -> its parts: one dict a distinct name, not one a mention
    for para in paras:
        for p in para.persons:
            parts = parts_of.get(p.text)
            if parts is None:
                parts = parts_of[p.text] = name_parts(p.text, lex)
            if parts["last"] is None:
                continue
            (full if parts["first"] and p.cue not in WEAK_CUES else short).append((para, p, parts))
    clusters = _person_clusters(full)
    person_of = {}  # cluster root -> key
    cluster_docs = defaultdict(set)
    root_of = {}
    for root, members in clusters.items():
        forms = Counter()
        docs_of_form = defaultdict(set)
        for i in members:
            root_of[i] = root
            para, p, _ = full[i]
            form = re.sub(r"\s+", " ", p.text).strip()
            forms[form] += 1
            docs_of_form[form].add(para.doc_id)
            cluster_docs[root].add(para.doc_id)
        # the form most documents write (a transcript's capitals only when nothing else names them)
        canonical = sorted(forms, key=lambda f: (f.isupper(), -len(docs_of_form[f]), -forms[f], -len(f), f))[0]
        person_of[root] = ("person", canonical.title() if canonical.isupper() else canonical, root)
    surname_roots = defaultdict(set)
    last_of_root = {}
    for root, members in clusters.items():
        last_of_root[root] = full[members[0]][2]["last"]
        surname_roots[surname_block(last_of_root[root])].add(root)
    people = []  # (para, Person, key)
    for i, (para, p, _) in enumerate(full):
        people.append((para, p, person_of[root_of[i]]))
    doc_roots = defaultdict(set)
    for root, docs in cluster_docs.items():
        for d in docs:
            doc_roots[d].add(root)
    orphan_short = defaultdict(list)
    for para, p, parts in short:
        cands = {r for r in surname_roots.get(surname_block(parts["last"]), set())
                 if same_surname(last_of_root[r], parts["last"])}
        here = cands & doc_roots[para.doc_id]
        pick = here if here else cands
        if len(pick) == 1:
            people.append((para, p, person_of[next(iter(pick))]))
        elif not cands and p.cue not in WEAK_CUES:
            orphan_short[surname_key(parts["last"])].append((para, p))
    for sk, items in orphan_short.items():  # only a surname is ever written: one entity per surname
        form = Counter(re.sub(r"\s+", " ", p.text) for _, p in items).most_common(1)[0][0]
        key = ("person", form.title() if form.isupper() else form, f"surname:{sk}")
        for para, p in items:
            people.append((para, p, key))
    # surnames written alone later in a document ("Austin met with ...")
    surname_forms = defaultdict(dict)  # doc -> surname text -> the key it names, or _SEVERAL
    for para, p, key in people:
        parts = parts_of[p.text]
        last_word = re.split(r"\s+", p.text.strip())[-1]
        if parts["first"] and last_word[:1].isupper() and len(last_word) > 2 and last_word not in lex.suffixes:
            named = surname_forms[para.doc_id]
            known = named.setdefault(last_word, key)
            if known is not _SEVERAL and known != key:
                named[last_word] = _SEVERAL
    surnames = {}  # doc -> its surnames that name one person each
    for doc_id, by_form in surname_forms.items():
        forms = [f for f, named_key in by_form.items() if named_key is not _SEVERAL]
        if forms:
            surnames[doc_id] = forms
    spans_by_para = defaultdict(list)  # what a surname standing alone must not overlap (where one may)
    for para, p, key in people:
        if para.doc_id in surnames:
            spans_by_para[para.para_id].append((p.start, p.end))
    for para in paras:
        if para.doc_id in surnames:
            for s, e, *_ in para.ents:
                spans_by_para[para.para_id].append((s, e))
    for para in paras:
        forms = surnames.get(para.doc_id)
        text = para.text if forms else ""  # (read once: it may be decoded on each read, see Para.text)
        for s, e, form in standing_alone(text, forms) if forms else ():
            if any(a < e and s < b for a, b in spans_by_para[para.para_id]) or re.match(r"\s[A-Z]", text[e:e + 2]):
                continue
            people.append((para, Person(s, e, form, cue="surname_in_document"), surname_forms[para.doc_id][form]))
            spans_by_para[para.para_id].append((s, e))
    # titles and countries per person ----------------------------------------------------------
    titles = defaultdict(Counter)
    ranks = defaultdict(Counter)
    countries = defaultdict(Counter)
    for para, p, key in people:
        if p.title:
            (ranks if lex.titles.get(p.title, {}).get("rank") else titles)[key][p.title] += 1
        countries[key].update(p.countries)
    person_title = {}
    for para, p, key in people:
        pick = titles[key] or ranks[key]
        # a specific office beats a generic one ("Minister of Defense" over "Minister")
        if pick:
            best = sorted(pick, key=lambda t: (-pick[t], -len(t), t))
            specific = [t for t in best if not any(t != o and t in o for o in best)]
            person_title[key] = (specific or best)[0]
        else:
            person_title[key] = None
    # descriptions: "the defense minister" when exactly one person in the document has that title
    doc_people = defaultdict(set)
    for para, p, key in people:
        doc_people[para.doc_id].add(key)
    for para in paras:
        for d in para.descriptions:
            fits = [k for k in doc_people[para.doc_id]
                    if d.title in titles[k] and (d.country is None or (countries[k] and countries[k].most_common(1)[0][0] == d.country))]
            if len(fits) == 1:
                people.append((para, Person(d.start, d.end, d.text, title=d.title, cue="description"), fits[0]))
    # the working sets go before the rows are made into tables, so the two are never held together
    del full, short, parts_of, spans_by_para, surname_forms, doc_people, titles, ranks, clusters, root_of
    # each paragraph's text read once, in reading order (the people are found in several passes
    # over the paragraphs, and a record may read its text from a file, a part at a time)
    found_in = defaultdict(list)
    for i, (para, _, _) in enumerate(people):
        found_in[id(para)].append(i)
    spans: list = [None] * len(people)
    for para in paras:
        if (found := found_in.get(id(para))) is not None:
            text = para.text
            for i in found:
                spans[i] = text[people[i][1].start:people[i][1].end]
    del found_in
    for (para, p, key), span in zip(people, spans):
        rows.append(_Found(key, para.doc_id, para.para_id, p.start, p.end, span, p.cue or "name"))
    del people, spans
    return _tables(rows, lex, person_title, countries)


def _tables(rows: list, lex: Lexicons, person_title: dict, countries: dict) -> Resolution:
    """The entities and mentions tables of the mentions found (``rows``: emptied on the way)."""
    if not rows:
        from schemas import empty_frame

        return Resolution.of_tables(empty_frame("entities"), empty_frame("mentions"))
    groups: dict = defaultdict(list)
    for r in rows:
        groups[r.key].append(r)
    ents = []
    id_of = {}
    id_keys = {key: _entity_id_key(key) for key in groups}
    taken = Counter(id_keys.values())
    for key, grp in groups.items():
        etype, canonical, extra = key
        if etype == "person":
            country = countries[key].most_common(1)[0][0] if countries[key] else None
            title = person_title.get(key)
            name = canonical
        elif etype == "organization":
            country = extra or lex.orgs.get(canonical, {}).get("country")
            title = None
            name = f"{canonical} ({extra})" if extra else canonical
        else:
            country = canonical if canonical in lex.countries else lex.places.get(canonical, {}).get("country")
            title = None
            name = canonical
        # a person's id rests on first name + surname, so that it survives a change of the name's
        # written form; two people that resolution keeps apart (other middle names) but that share
        # them are told apart by their full names
        eid = stable_id("e", *id_keys[key]) if taken[id_keys[key]] == 1 else stable_id("e", *id_keys[key], name)
        id_of[key] = eid
        aliases = sorted({" ".join(r.text.split()) for r in grp if r.kind != "description"} - {name})
        ents.append({"entity_id": eid, "entity_type": etype, "canonical_name": name, "aliases": aliases,
                     "country": country, "title": title, "n_mentions": len(grp),
                     "n_documents": len({r.doc_id for r in grp})})
    del groups, grp  # (they hold every row too: each row below goes as its mention is made)
    from schemas import conform, frame_of_rows, row_type

    seen = set()
    # the mentions as rows of the table (tuples: one dict a row would take several times the memory)
    mention = row_type("mentions")
    out = []
    for i, r in enumerate(rows):
        rows[i] = None
        mid = stable_id("m", r.para_id, r.char_start, r.char_end)
        if mid in seen:
            continue
        seen.add(mid)
        out.append(mention(mention_id=mid, entity_id=id_of[r.key], doc_id=r.doc_id, para_id=r.para_id,
                           char_start=r.char_start, char_end=r.char_end, text=r.text, mention_type=r.kind))
    rows.clear()
    del seen, r

    entities = conform("entities", pd.DataFrame(ents).sort_values("entity_id"))
    out.sort(key=lambda m: (m.doc_id, m.para_id, m.char_start))  # (stable, as pandas' sort by columns)
    return Resolution.of_tables(entities, frame_of_rows("mentions", out))


def _entity_id_key(key: tuple) -> tuple[str, str]:
    etype, canonical, extra = key
    if etype == "person":
        return etype, _person_id_key(canonical)
    return etype, (f"{canonical} ({extra})" if etype == "organization" and extra else canonical)


def _person_id_key(name: str) -> str:
    parts = name_parts(name)
    return f"{parts['first'] or ''}|{surname_key(parts['last'])}"


def build_entities(paragraphs: pd.DataFrame) -> tuple[list[Para], Resolution]:
    """Scan the content paragraphs and resolve their entities (``entities``, ``mentions`` tables)."""
    paras = scan(paragraphs)
    return paras, resolve(paras)


def entity_for_name(name: str, entities: pd.DataFrame) -> str | None:
    """entity_id of the one entity a written name refers to, or None (for other stages, e.g. quote speakers).

    Exact canonical name or alias first (case-insensitive), then, for people, the same conservative
    rule as :func:`resolve` (same surname, near-identical given name); a surname alone matches only
    when exactly one person has it.
    """
    key = " ".join(name.split()).casefold()
    if not key or entities.empty:
        return None
    exact = [eid for eid, canon, aliases in zip(entities["entity_id"], entities["canonical_name"], entities["aliases"])
             if canon.casefold() == key or any(a.casefold() == key for a in aliases)]
    if len(set(exact)) == 1:
        return exact[0]
    people = entities[entities["entity_type"] == "person"]
    parts = name_parts(name)
    if parts["last"] is None:
        return None
    if parts["first"] is None:
        hits = [eid for eid, canon in zip(people["entity_id"], people["canonical_name"])
                if surname_key(name_parts(canon)["last"]) == surname_key(parts["last"])]
    else:
        hits = [eid for eid, canon in zip(people["entity_id"], people["canonical_name"])
                if same_person(parts, name_parts(canon))]
    return hits[0] if len(hits) == 1 else None
