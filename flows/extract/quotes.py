"""Quotes: quoted text in the content paragraphs, with its speaker.

Rules (data in ``lexicons/speech.yaml``):

- quote marks: curly “…” and straight "…"; a quote that opens and never closes runs to the end of
  the paragraph (``closed`` false); a new opening mark while one is open ends the open quote there;
- embedded social-media posts: a paragraph followed by an attribution line ("— Name (@handle) date")
  is a post by Name (``is_social_post``);
- transcripts: a paragraph that opens with an ALL-CAPS label and a colon ("MAJ GEN PAT DOE: All
  right, ...") is a direct quote by the label without its titles ("Pat Doe"); an anonymous label
  ("SENIOR ADMINISTRATION OFFICIAL", "MODERATOR", "Q") stays the label, never a person. A label
  without a title ("JOHN DOE:") counts only in a document with another label (a dateline "BAGHDAD:"
  is no speaker). In a transcript (it opens with a turn, or has two), a paragraph without a label
  continues the turn before it (a label alone on its line opens the turn of the next paragraphs);
- speaker, after the closing mark: ``,” said X``, ``,” X said``, ``,” read a joint statement``, with a
  description before the name (``,” security expert Jane Roe told``, ``,” Doe’s brother Ali``) and an
  apposition after it (``, a member of the delegation, told``); ``,” a statement quoted X as saying``;
  ``,” according to X`` (last, and no antecedent of a later pronoun); ``X was quoted as saying``; a
  quote that ends its sentence (a full stop inside or right after the closing mark) followed by a
  capitalised word looks before itself first, and a long next sentence, or one that introduces
  another quote, is no attribution (“… done.” Roe said. is one);
- else before the opening mark in the same sentence: ``X told ... that “``, ``X, spokesperson for
  ..., stated that “``, ``X, a marine ecologist, who said “``, ``X of <body> said “``, ``According to
  X, ... “``, ``X thanked them, saying “``, ``X received them and stressed that “``;
- a document with an author is the author's speech (``read a statement from President X``, ``said a
  readout from the Press Secretary X``), and so is a later "the statement" in the same document;
- a pronoun (``it added``, ``As he noted``) carries the previous speaker of the same document: "he"
  and "she" a named speaker that is no known organization, and only when no other known person is
  named in between; "it" and "they" a document or a known organization;
- an unattributed direct quote that opens its sentence continues the previous quote's speaker when
  nothing but that quote's attribution stands between them (``“…,” Doe said. “Our cooperation …”``),
  in the same paragraph or at the start of the next; a quote attributed to someone unnamed (``,”
  said a protester``) is no one's and ends the turn;
- a quote of one to three words that is a name or a label (capitalised throughout, or after
  "so-called", "dubbed", ...) is a partial quote without a speaker;
- ``speaker_label`` is the name without its title ("Mathew Miller"; "Mayor of London X" -> X; a lone
  title is no name) or the speaking document ("joint statement"); ``speaker_entity_id`` resolves the label against ``entities`` (persons and
  organizations; normalised exact match, then a conservative rapidfuzz match), else null.

Plain regular expressions do the work: quote marks and attribution frames are character patterns, a
spaCy Matcher over tokens would add nothing but tokenisation cost.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd

from flows.common import frames
from flows.common.lexicons import lexicon
from flows.common.text import stable_id
from flows.extract.spans import alternation, content_rows, sentence_spans
from schemas import frame_of_rows, row_type

OPEN, STRAIGHT = "\u201c", '"'
_MARKS = re.compile('[\u201c\u201d"]')
_WORDS = re.compile(r"\w+", re.UNICODE)
_LEAD_VERB = re.compile(r"\b(?:that|said|says|told|added|stated|wrote)$")
_ENDS_SENTENCE = re.compile(r"[.!?\u2026][\])]*$")  # the quoted text ends a sentence ("... the region." / "...[.]")
_STOP_AFTER = re.compile(r"\s*[.!?\u2026]+(?:\s|$)")  # a full stop right after a closing mark
_OPENING = re.compile(r"[\s,.!?\u2026]*(\S)")
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s|$)")
_CAPITALISED = re.compile(r"(?<![\w'\u2019\-])[A-Z][\w'\u2019\-]+")
# An ALL-CAPS label and a colon at the start of a paragraph, then mojibake ("Â") or no-break spaces
# that a mis-decoded page left after the colon.
_TURN = re.compile("\\s*(?P<label>[A-Z][A-Z .,'\u2019\\-]{0,60}?)\\s*:[\\s\u00a0\u00c2\ufeff\u200b]*(?=\\S|$)")


ATTRIBUTION_WORDS = 12  # a sentence after a finished quote that is longer says more than who spoke


@dataclass(frozen=True)
class _Rules:
    after_verb_first: re.Pattern
    unnamed_after: re.Pattern  # a speech verb right after the quote, its speaker unnamed
    after_subject_first: re.Pattern
    after_source: re.Pattern
    before_subject_verb: re.Pattern
    appositive_name: re.Pattern
    according_to: re.Pattern
    quoted_as: re.Pattern
    quoted_passive: re.Pattern
    participle_lead: re.Pattern
    coordinated_verb: re.Pattern
    sentence_subject: re.Pattern
    naming_lead: re.Pattern
    any_verb: re.Pattern  # a speech verb anywhere: before_subject_verb cannot match without one
    any_source_preposition: re.Pattern  # likewise for according_to
    any_quoting: re.Pattern  # likewise for quoted_as
    social: re.Pattern
    link_tail: re.Pattern
    doc_source: re.Pattern
    no_speaker: frozenset
    titles: frozenset
    suffixes: frozenset
    not_name_words: frozenset
    calendar_words: frozenset
    turn_titles: frozenset  # personal titles and ranks: a label with one is a speaker's
    label_words: frozenset  # every word a label's speaker is stripped of
    turn_anonymous: frozenset
    not_turn_labels: frozenset
    scare_max_words: int


@functools.cache
def _rules() -> _Rules:
    lex = lexicon("speech")
    verbs = alternation(lex["speech_verbs"])  # lower case only: "the United States" is no speech verb
    adverbs = f"(?i:{alternation(lex['verb_adverbs'])})"
    docs = f"(?i:{alternation(lex['document_sources'])})"
    authors = f"(?i:{alternation(lex['document_authors'])})"
    pronouns = f"(?i:{alternation(lex['carry_pronouns'])})"
    particles = "|".join(re.escape(p) for p in lex["name_particles"])
    # A capitalised name or title phrase: capitalised tokens, initials, name particles (al-Abbasi,
    # bin), and "of"/"the"/"for" between capitalised tokens ("Secretary of Defense").
    cap = r"(?:[A-Z][\w'’.\-]*|(?:%s)-[A-Z][\w'’\-]*)" % particles
    link = r"(?:of|the|for|and|(?:%s))" % particles
    name = rf"{cap}(?:\s+(?:{link}\s+)*{cap})*"
    det = r"(?i:(?:the|a|an|its|their)\s+)?"
    # a speaking document, and the person or body it is from ("a statement from President X")
    doc = rf"(?P<doc>{det}(?:[\w\-]+\s+)?{docs})(?:\s+{authors}\s+(?P<author>{det}{name}))?"
    speaker = rf"{doc}|(?P<pron>{pronouns})|(?P<name>{name})"
    # lower-case words or possessives that describe the person named next ("security expert",
    # "Doe’s brother", "the"), never a preposition or a verb ("officials in Baghdad said")
    not_desc = alternation(lex["not_descriptive"])
    desc_word = rf"(?:(?!{not_desc})[a-z][\w\-]*|[A-Z][\w\-]*['’]s)"
    # ... and a body with a title before the person ("UCL astronomer", "Pentagon press secretary")
    described = (rf"{doc}|(?P<pron>{pronouns})"
                 rf"|(?:{name}\s+(?:{desc_word}\s+){{1,4}}|(?:{desc_word}\s+){{1,4}})?(?P<name>{name})")
    # ", a member of the Iraqi delegation," / ", 56," / ", who heads the talks,": it holds a lower-case
    # word or a number, and no quote mark
    appos = r",\s+(?!(?:and|or|but)\b)(?=[^,“”\"\n;]{0,120}?(?<![\w\-])[a-z0-9])[^,“”\"\n;]{1,120}?,"
    verb_tail = rf"\s+(?:(?:has|had|have)\s+)?(?:{adverbs}\s+)?(?P<verb>{verbs})"
    # before the quote the verb may be a relative clause's ("X, a marine ecologist, who said “",
    # "a statement which read “"), and the person may be "of" a body ("Jane Roe of victims' group
    # Justice Now said")
    relative_tail = rf"\s+(?:(?:who|which|that)\s+)?(?:(?:has|had|have)\s+)?(?:{adverbs}\s+)?(?P<verb>{verbs})"
    of_body = r"(?:\s+of\s+(?:the\s+)?(?:[a-z][\w\-']*\s+){0,3}%s(?:\s+%s)*)?" % (cap, cap)
    speaker_of = rf"{doc}|(?P<pron>{pronouns})|(?P<name>{name}{of_body})"
    sources = f"(?i:{alternation(lex['source_prepositions'])})"
    quoting = f"(?i:{alternation(lex['quoting_verbs'])})"
    quoting_as = f"(?i:{alternation(lex['quoting_as'])})"
    return _Rules(
        # ,” read a joint statement / ,” said US Defense Secretary Lloyd Austin on Tuesday
        after_verb_first=re.compile(rf"^[\s,.!?;:—–-]*(?:{adverbs}\s+)?(?P<verb>{verbs})\s+(?:{described})"),
        # ,” said a protester / ,” one official told reporters: attributed, to no one named
        unnamed_after=re.compile(rf"^[\s,—–-]*(?:(?:{adverbs}\s+)?{verbs}\b|(?:[\w’'\-]+\s+){{1,6}}?{verbs}\b)"),
        # ,” the joint statement read / ,” it added / ,” security expert Jane Roe, 56, told
        after_subject_first=re.compile(rf"^[\s,.!?;:—–-]*(?:{described})(?:{appos})?{verb_tail}"),
        # ,” according to X / ,” according to a statement from X (in the quote's sentence: lower case)
        after_source=re.compile(rf"^[\s,—–-]*{alternation(lex['source_prepositions'])}\s+(?:{speaker})"),
        # X told ... that “ / X, spokesperson for ..., stated that “ / The joint statement added that ... “
        before_subject_verb=re.compile(rf"(?:{speaker_of})(?:{appos})?{relative_tail}"),
        # a name in apposition, closed by a comma: "Doe's mother, Jane Roe, said", "one of the
        # authors, biologist Jane Roe, told" (not "..., which includes the Quds Force, declared")
        appositive_name=re.compile(rf",\s+(?:{desc_word}\s+){{0,4}}(?P<name>{name}),{verb_tail}"),
        according_to=re.compile(rf"{sources}\s+(?:{speaker})"),
        # a statement quoted X as saying
        quoted_as=re.compile(rf"{quoting}\s+(?P<name>{name})\s+{quoting_as}"),
        # X was quoted (by the agency) as saying
        quoted_passive=re.compile(
            rf"(?P<name>{name})\s+(?:was|were|is|has\s+been)\s+{quoting}\s+(?:by\s+[^“”\".]{{1,60}}?\s+)?{quoting_as}"),
        # ..., saying “ / ... and adding that “
        participle_lead=re.compile(
            rf"(?:,|\band)\s+(?:{adverbs}\s+)?(?i:{alternation(lex['speech_participles'])})(?:\s+that)?[\s:,]*$"),
        # X received the delegation and stressed that “: the verb's subject is the sentence's
        coordinated_verb=re.compile(rf"\band\s+(?:{adverbs}\s+)?{verbs}"),
        # the sentence's subject: "Al-Hadi thanked ..." (after an opening phrase: "On Monday, ..."),
        # a name without "The" ("The German government announced ..." names no one)
        sentence_subject=re.compile(rf"(?:[^,“”\"]{{1,40}},\s+)?(?!(?:The|A|An)\s)(?:{speaker})(?:{appos})?\s+[a-z]"),
        naming_lead=re.compile(rf"(?i:{alternation(lex['naming_words'])})(?:\s+(?:an?|the))?\s*$"),
        any_verb=re.compile(verbs),
        any_source_preposition=re.compile(sources),
        any_quoting=re.compile(quoting),
        social=re.compile(lex["social_attribution"]),
        link_tail=re.compile(lex["social_link_tail"]),
        doc_source=re.compile(docs, re.IGNORECASE),
        no_speaker=frozenset(p.lower() for p in lex["no_speaker"]),
        titles=frozenset(lex["title_words"]),
        suffixes=frozenset(s.rstrip(".").lower() for s in lex["name_suffixes"]),
        not_name_words=frozenset(w.lower() for w in lex["not_name_words"]),
        calendar_words=frozenset(lex["calendar_words"]),
        turn_titles=frozenset(t.rstrip(".").lower() for t in lex["turn_titles"]),
        label_words=frozenset(t.rstrip(".").lower() for t in [*lex["title_words"], *lex["turn_titles"], "of", "the"]),
        turn_anonymous=frozenset(w.lower() for w in lex["turn_anonymous"]),
        not_turn_labels=frozenset(w.lower() for w in lex["not_turn_labels"]),
        scare_max_words=int(lex["scare_max_words"]),
    )


# --- quote spans ----------------------------------------------------------------------------------

def quote_spans(text: str) -> list[tuple[int, int, int, int, bool]]:
    """(mark_start, text_start, text_end, mark_end, closed) of each quote in a paragraph.

    ``text_start``/``text_end`` delimit the quoted text without its marks and outer whitespace;
    ``mark_end`` is just past the closing mark (the paragraph end for an unclosed quote).
    """
    spans = []
    open_at = None
    for m in _MARKS.finditer(text):
        ch, pos = m.group(), m.start()
        if open_at is None:
            if ch in (OPEN, STRAIGHT):
                open_at = pos
            continue  # a stray closing mark
        if ch == OPEN:  # a new quote opens while one is open: the open one never closed
            spans.append(_span(text, open_at, pos, pos, closed=False))
            open_at = pos
            continue
        spans.append(_span(text, open_at, pos, pos + 1, closed=True))
        open_at = None
    if open_at is not None:
        spans.append(_span(text, open_at, len(text), len(text), closed=False))
    return [s for s in spans if s is not None]


def _span(text, open_at, close_at, mark_end, closed):
    start, end = open_at + 1, close_at
    while start < end and text[start].isspace():
        start += 1
    while end > start and (text[end - 1].isspace() or (closed and text[end - 1] == ",")):
        end -= 1
    if not any(c.isalpha() for c in text[start:end]):
        return None
    return open_at, start, end, mark_end, closed


# --- speakers -------------------------------------------------------------------------------------

class Attribution(NamedTuple):
    """Who a quote's own paragraph says spoke it.

    ``kind``: name (a person or body), doc (a speaking document), the_doc (a document named with
    "the": it may be one whose author the document gave before), pron (a pronoun, settled against the
    previous quotes), unnamed (",” said a protester": attributed, to no one named), turn /
    turn_weak / turn_anon (a transcript label: with a title, without one, anonymous); ``where``: after or before the quote, source (``,” according to X``), or turn; ``doc``: for a named author, the
    document it spoke through (``a statement from X`` -> "statement"); ``at``: where the speaker
    phrase stands in the paragraph."""

    kind: str
    label: str
    where: str
    doc: str | None = None
    at: int = 0


def _speaker_from(m: re.Match | None, where: str, offset: int) -> Attribution | None:
    """The speaker of a matched attribution frame (``offset``: where the matched text starts in the
    paragraph)."""
    if m is None:
        return None
    r = _rules()
    if m.group("doc"):
        noun = r.doc_source.search(m.group("doc")).group().lower()
        author = m.group("author")
        # "a statement from X" is X's; "a statement released by X's office" is the office's
        if author and not author.endswith(("'s", "\u2019s")):
            label = name_label(author)
            if label and label.lower() not in r.no_speaker:
                return Attribution("name", label, where, noun, offset + m.start("author"))
        definite = m.group("doc").lower().startswith("the ")
        return Attribution("the_doc" if definite else "doc", noun, where, None, offset + m.start("doc"))
    if m.group("pron"):
        return Attribution("pron", m.group("pron").lower(), where, None, offset + m.start("pron"))
    label = name_label(m.group("name"))
    if label and label.lower() not in r.no_speaker:
        return Attribution("name", label, where, None, offset + m.start("name"))
    return None


def name_label(phrase: str) -> str | None:
    """The person's name in a title phrase ("State Department Spokesperson Mathew Miller" -> "Mathew
    Miller"); the phrase itself when it is all title words ("the State Department" -> "State
    Department"); None for a bare function word."""
    r = _rules()
    tokens = phrase.replace("\u2019s", "").split()
    if tokens and tokens[-1].endswith(".") and len(tokens[-1]) > 3 and tokens[-1] not in r.titles \
            and tokens[-1].rstrip(".").lower() not in r.suffixes:
        tokens[-1] = tokens[-1].rstrip(".")  # the sentence's full stop, not an abbreviation
    while tokens and (tokens[0].lower() in ("the", "a", "an", "of", "and", "for")
                      or tokens[0].rstrip(",").lower() in r.not_name_words):
        tokens = tokens[1:]
    while tokens and tokens[-1].lower() in ("the", "of", "and", "for"):
        tokens = tokens[:-1]
    if not tokens:
        return None
    # "Ryan Cloutier of the Harvard Center", "Professor Eugene Volokh of UCLA": the person before "of"
    if "of" in tokens:
        left = _person_tail(tokens[:tokens.index("of")])
        if len(left) >= 2 and not any(t.isupper() and len(t) > 1 for t in left):
            return " ".join(left)
    name = _person_tail(tokens)
    if not name:  # titles only: a body ("State Department"), but a lone title is no one ("the President")
        return " ".join(tokens) if len(tokens) > 1 else None
    if len(name) == 1 and name[0].rstrip(".").lower() in r.suffixes:  # "Smith Jr." / a lone "MP"
        return " ".join(tokens) if len(tokens) > 1 else None
    if len(name) >= 3 and len(tokens) > len(name) and tokens[-len(name) - 1].lower() in ("of", "for"):
        name = name[1:]  # "Mayor of London Sadiq Khan", "Representative for Iran Brian Hook": the office's place
    return " ".join(name)


def _person_tail(tokens: list[str]) -> list[str]:
    """The trailing tokens after the last title word or connector."""
    r = _rules()
    name: list[str] = []
    for tok in reversed(tokens):
        if tok in r.titles or tok.lower() in ("of", "the", "and", "for"):
            break
        name.insert(0, tok)
    return name


def _attribute(text: str, sent_start: int, mark_start: int, mark_end: int) -> Attribution | None:
    """The speaker named around a quote: after it first, before it in its sentence next, a source
    after it last. A quote that ended its sentence, followed by a capitalised word, is its own
    sentence's first: what follows opens a new sentence ("“… the region.” Al-Hadi highlighted ...")."""
    r = _rules()
    after = text[mark_end:mark_end + 200]
    if _finished(text, mark_end) and _opening(after).isupper():
        found = _before(text, sent_start, mark_start) or _after(text, mark_end, after)
    else:
        found = _after(text, mark_end, after) or _before(text, sent_start, mark_start)
    # the source after the quote, last: "X said it marked “…,” according to a readout" is X's
    found = found or _speaker_from(r.after_source.match(after), "source", mark_end)
    if found is None and not _finished(text, mark_end) and r.unnamed_after.match(after):
        return Attribution("unnamed", "", "after", None, mark_end)  # ,” said a protester: no one named
    return found


def _after(text: str, mark_end: int, after: str) -> Attribution | None:
    """,” said X / ,” X, a member of ..., told / ,” a statement quoted X as saying."""
    r = _rules()
    for pat in (r.after_verb_first, r.after_subject_first):
        m = pat.match(after)
        if m and not _next_sentence(text, mark_end, after, m):
            found = _speaker_from(m, "after", mark_end)
            if found:
                return found
    # the patterns below are only run where their fixed words occur (a name pattern tried at every
    # position of a long sentence is slow)
    if r.any_quoting.search(after):
        end = _SENTENCE_END.search(after)
        end = end.end() if end else len(after)
        m = r.quoted_as.search(after, 0, end) or r.quoted_passive.search(after, 0, end)
        if m:  # ,” a Department of Defense statement quoted X as saying / ,” X was quoted as saying
            return _named(m.group("name"), "after", mark_end + m.start("name"))
    return None


def _before(text: str, sent_start: int, mark_start: int) -> Attribution | None:
    """X told ... that “ / According to X, “ / X thanked them, saying “ / X, spokesperson for ...,
    stated that “ / X received them and stressed that “ (the last in the sentence before the quote)."""
    r = _rules()
    before = text[sent_start:mark_start]
    if r.any_quoting.search(before):
        m = max((m for m in (_last(r.quoted_as, before), _last(r.quoted_passive, before)) if m),
                key=lambda m: m.end(), default=None)
        if m:
            return _named(m.group("name"), "before", sent_start + m.start("name"))
    if r.any_source_preposition.search(before):
        found = _speaker_from(_last(r.according_to, before), "before", sent_start)
        if found:
            return found
    if r.participle_lead.search(before):  # X thanked them, saying “
        found = _speaker_from(r.sentence_subject.match(before), "before", sent_start)
        if found:
            return found
    if r.any_verb.search(before):
        m = _last(r.before_subject_verb, before)
        if "," in before:
            m2 = _last(r.appositive_name, before)
            if m2 is not None and (m is None or m2.end() > m.end()):
                return _named(m2.group("name"), "before", sent_start + m2.start("name"))
        if m is None and r.coordinated_verb.search(before):  # X received them and stressed that “
            m = r.sentence_subject.match(before)
        return _speaker_from(m, "before", sent_start)
    return None


def _opening(after: str) -> str:
    """The first letter after a quote's closing mark (past spaces, commas and a full stop), or ""."""
    m = _OPENING.match(after)
    return m.group(1) if m else ""


def _finished(text: str, mark_end: int) -> bool:
    """The quote ends a sentence: its text does ("... the region.”", "...[.]”") or a full stop follows the
    closing mark ("... the region”.")."""
    return bool(_ENDS_SENTENCE.search(text, max(0, mark_end - 6), mark_end - 1)
                or _STOP_AFTER.match(text, mark_end))


def _next_sentence(text: str, mark_end: int, after: str, m: re.Match) -> bool:
    """True when the words after a quote that ended its sentence open a sentence of their own: one
    that introduces another quote (“… the region.” X highlighted “…”) or goes on past a short attribution
    (“… done.” Critics expressed their anger at the delay on Monday in a long statement ...): no
    attribution of this one. “… done.” Roe said. still is one, and so is “Why?” asked Roe."""
    if not _finished(text, mark_end) or _opening(after).islower():
        return False
    end = _SENTENCE_END.search(after, m.end())
    end = end.start() if end else len(after)
    return bool(_MARKS.search(after, m.end(), end)) or len(_WORDS.findall(after, 0, end)) > ATTRIBUTION_WORDS


def _last(pattern: re.Pattern, text: str) -> re.Match | None:
    m = None
    for m in pattern.finditer(text):
        pass
    return m


def _named(phrase: str, where: str, at: int) -> Attribution | None:
    label = name_label(phrase)
    return Attribution("name", label, where, None, at) if label and label.lower() not in _rules().no_speaker else None


# --- transcripts ----------------------------------------------------------------------------------

def turn_of(text: str) -> tuple[Attribution, int] | None:
    """(speaker, offset where the speech starts) of a transcript turn ("MAJ GEN PAT DOE: All
    right" -> Pat Doe); None when the paragraph opens with no speaker's label."""
    m = _TURN.match(text)
    if m is None:
        return None
    r = _rules()
    raw = m.group("label").strip(" ,.-")
    if raw.lower() in r.not_turn_labels:
        return None
    who = raw.split(",")[0].split()  # "WOLF BLITZER, CNN ANCHOR": the name before the comma
    if not who or len(who) > 8:
        return None
    folded = [t.strip(".").lower() for t in who]
    last_title = max((i for i, f in enumerate(folded) if f in r.label_words), default=-1)
    tail = who[last_title + 1:]
    rest = folded[last_title + 1:]
    # "MODERATOR", "SENIOR ADMINISTRATION OFFICIAL", "Q"; a middle initial ("JOHN Q. DOE") is no "Q"
    if not tail or any(f in r.turn_anonymous and (len(f) > 1 or len(rest) == 1) for f in rest):
        return Attribution("turn_anon", _title_case(" ".join(who)), "turn"), m.end()
    personal = any(f in r.turn_titles for f in folded[:last_title + 1])
    return Attribution("turn" if personal else "turn_weak", _title_case(" ".join(tail)), "turn"), m.end()


def _title_case(label: str) -> str:
    """"PAT DOE" -> "Pat Doe", "AL-HADI" -> "Al-Hadi"."""
    return re.sub(r"[A-Za-z]+", lambda w: w.group().capitalize(), label)


# --- what one paragraph says ------------------------------------------------------------------------

class Found(NamedTuple):
    """A quote as its paragraph alone gives it (:func:`quotes_in`)."""

    start: int  # the quoted text, without its marks
    end: int
    closed: bool
    attribution: Attribution | None
    quote_type: str
    mark_start: int  # the quote with its marks
    mark_end: int
    opens_sentence: bool  # nothing of its sentence stands before it


def quotes_in(text: str) -> tuple:
    """The quotes of one paragraph, as its text alone gives them (:class:`Found` each): a
    transcript turn first, then each quoted passage with the speaker named around it. The
    per-document batches find them (``flows.extract.scans.scan_paragraphs``); :func:`extract_quotes`
    settles what needs the other paragraphs (a pronoun's speaker, a continued quote, a transcript's
    unlabelled paragraphs, a social post's author, the speaker's entity)."""
    found = []
    turn = turn_of(text) if ":" in text[:80] else None
    if turn:  # (a label alone on its line gives an empty turn: the speech is in the next paragraphs)
        attribution, start = turn
        end = max(start, len(text.rstrip()))
        found.append(Found(start, end, True, attribution, "direct", start, end, True))
    if OPEN not in text and STRAIGHT not in text:
        return tuple(found)
    sentences = sentence_spans(text)
    for mark_start, start, end, mark_end, closed in quote_spans(text):
        sent_start = next((s for s, e in reversed(sentences) if s <= mark_start), 0)
        lead = text[sent_start:mark_start].strip()
        if _is_name_or_label(text, lead, start, end, mark_end, closed):
            found.append(Found(start, end, closed, None, "partial", mark_start, mark_end, not lead))
            continue
        found.append(Found(start, end, closed, _attribute(text, sent_start, mark_start, mark_end),
                           _quote_type(text, sent_start, mark_start, start, end), mark_start, mark_end, not lead))
    return tuple(found)


def _is_name_or_label(text: str, lead: str, start: int, end: int, mark_end: int, closed: bool) -> bool:
    """A scare quote: one to three words, not a spoken sentence of their own (“No,” / “Never!”), that
    are capitalised throughout (the “Golden Triangle”) or follow a naming word (the so-called “…”)."""
    r = _rules()
    words = _WORDS.findall(text[start:end])
    if len(words) > r.scare_max_words:
        return False
    inside = text[start:mark_end - 1 if closed else mark_end].rstrip()
    if inside.endswith((",", ".", "!", "?", "\u2026")):
        return False
    return all(w[0].isupper() for w in words) or bool(r.naming_lead.search(lead))
# --- entity resolution ----------------------------------------------------------------------------

def _norm(name: str) -> str:
    """Comparison key of a name: no diacritics, case, dots, "al-" particles, initials, suffixes."""
    r = _rules()
    s = unicodedata.normalize("NFKD", name)
    s = "".join(c for c in s if not unicodedata.combining(c)).casefold().replace("\u2019", "'")
    s = re.sub(r"\b(?:al|el)[-\s]", "", s)
    words = [w for w in re.split(r"[\s.\-']+", s) if w]
    words = [w for w in words if len(w) > 1 and w not in r.suffixes]
    return " ".join(words)


class EntityIndex:
    """Speaker labels -> entity ids (persons and organizations only).

    A label resolves when its normalised form equals the normalised canonical name or an alias of
    exactly one entity; otherwise, for a label of two words or more, when exactly one entity has a
    name close to it: a person with the same last name and a first name at rapidfuzz ratio >= 80
    ("Thabit"/"Thabet", "Mathew"/"Matthew", not "John"/"Joan"), an organization at token-sort ratio
    >= 92. Anything ambiguous stays null: two people must never merge.
    """

    def __init__(self, entities: pd.DataFrame | None):
        self.keys: dict[str, set[str]] = {}
        self.type_of: dict[str, str] = {}
        self.surnames: dict[str, set[str]] = {}  # a person's last name (normalised) -> its entity ids
        if entities is None or entities.empty:
            return
        ents = entities[entities["entity_type"].isin(["person", "organization"])]
        for row in ents.itertuples(index=False):
            self.type_of[row.entity_id] = row.entity_type
            aliases = row.aliases if hasattr(row.aliases, "__iter__") and not isinstance(row.aliases, str) else []
            names = [row.canonical_name, *aliases]
            for n in names:
                if isinstance(n, str) and n.strip():
                    key = _norm(n)
                    self.keys.setdefault(key, set()).add(row.entity_id)
                    if row.entity_type == "person" and key:
                        self.surnames.setdefault(key.split()[-1], set()).add(row.entity_id)
        self._names = list(self.keys)
        self._cache: dict[str, str | None] = {}

    def resolve(self, label: str | None) -> str | None:
        if not label or not self.keys:
            return None
        if label not in self._cache:
            self._cache[label] = self._resolve(label)
        return self._cache[label]

    def _resolve(self, label: str) -> str | None:
        from rapidfuzz import fuzz

        key = _norm(label)
        ids = self.keys.get(key)
        if ids:
            return next(iter(ids)) if len(ids) == 1 else None
        words = key.split()
        if len(words) < 2:  # one word (a surname) is too little to go fuzzy on
            return None
        found: set[str] = set()
        for name in self._names:
            other = name.split()
            for eid in self.keys[name]:
                if self.type_of[eid] == "person":
                    if len(other) >= 2 and other[-1] == words[-1] and fuzz.ratio(other[0], words[0]) >= 80:
                        found.add(eid)
                elif fuzz.token_sort_ratio(name, key) >= 92:
                    found.add(eid)
        return next(iter(found)) if len(found) == 1 else None

    def names_another_person(self, text: str, label: str) -> bool:
        """True when ``text`` names a known person other than ``label``'s (a pronoun after it could
        be either's)."""
        if not self.surnames:
            return False
        own = set(_norm(label).split())
        own_id = self.resolve(label)
        calendar = _rules().calendar_words
        for m in _CAPITALISED.finditer(text):
            if m.group() in calendar:  # "in May": a month, not Theresa May
                continue
            word = _norm(m.group())
            if word not in own and self.surnames.get(word, set()) - {own_id}:
                return True
        return False

    def is_organization(self, label: str | None) -> bool:
        eid = self.resolve(label)
        return eid is not None and self.type_of[eid] == "organization"

    def may_be_person(self, label: str) -> bool:
        """False when ``label`` is known to be no person (it resolves to an organization): "he" or
        "she" cannot be it."""
        eid = self.resolve(label)
        return eid is None or self.type_of[eid] == "person"


# --- the table ------------------------------------------------------------------------------------

@dataclass
class _Reading:
    """What the quotes so far in one document say about the next ones. A place in the document is
    (index in ``rows``, offset in that paragraph's text)."""

    rows: list = field(default_factory=list)  # the document's content paragraphs read so far (row numbers)
    previous: str | None = None  # the last speaker (a pronoun's), and its kind (name or doc)
    previous_kind: str | None = None
    person_from: tuple | None = None  # where the text after the last named speaker's attribution starts
    last: tuple | None = None  # (label, kind, sentence ends allowed) of the last quote with a speaker
    last_from: tuple | None = None  # where the text after that quote starts
    authors: dict = field(default_factory=dict)  # a document noun ("statement") -> its author's label
    turn: Attribution | None = None  # a transcript's current turn


def extract_quotes(paragraphs: pd.DataFrame, documents: pd.DataFrame,
                   entities: pd.DataFrame | EntityIndex | None = None, found: dict | None = None) -> pd.DataFrame:
    """One row per quote in the content paragraphs (``quotes`` table).

    ``entities``: the entities table, or its :class:`EntityIndex` (made once for several calls: it
    keeps the labels it has resolved). ``found``: :func:`quotes_in` of every content paragraph that
    holds a quote, by para_id, as the batches' scans give it (a paragraph missing from it holds
    none); by default read here."""
    r = _rules()
    index = entities if isinstance(entities, EntityIndex) else EntityIndex(entities)
    # the content paragraphs' positions in reading order, and their keys; a text is read from the
    # paragraphs table only where a quote, a post or a transcript is (a copy of every content
    # paragraph's text would raise the extract stage's peak)
    at = content_rows(paragraphs, documents["doc_id"] if "doc_id" in documents else None)
    keys = paragraphs[["doc_id", "para_id"]].iloc[at]
    texts = frames.TextColumn(paragraphs["text"])
    if found is None:
        found = {pid: q for pid, row in frames.iter_rows(keys["para_id"], pd.Series(at))
                 if (q := quotes_in(texts[row]))}
    transcripts = _transcripts(keys, found)
    has_at = frames.contains(paragraphs["text"], "@")  # a post's attribution line names a handle
    rows = []
    doc = _Reading()
    last_doc = None
    for doc_id, para_id, row, nxt in _with_next(keys["doc_id"], keys["para_id"], pd.Series(at)):
        if doc_id != last_doc:
            doc, last_doc = _Reading(), doc_id
        doc.rows.append(row)
        here = len(doc.rows) - 1
        post = r.social.match(texts[nxt]) if nxt is not None and has_at[nxt] else None
        quoted = found.get(para_id, ())
        if quoted and doc_id not in transcripts:  # a label without a title is no speaker outside a transcript
            quoted = tuple(q for q in quoted if q.attribution is None or q.attribution.kind != "turn_weak")
        continues_turn = doc.turn is not None and transcripts.get(doc_id) and not (
            quoted and quoted[0].attribution and quoted[0].attribution.where == "turn")
        text = texts[row] if post or quoted or continues_turn else None  # read where used
        if post:
            body = r.link_tail.sub("", text)
            start = len(body) - len(body.lstrip())
            end = len(body.rstrip())
            label = name_label(post.group("author"))
            if end > start and label:
                doc.previous, doc.previous_kind = label, "name"
                doc.person_from = doc.last_from = (here, len(text))
                doc.last = (label, "name", 0)
                rows.append(_row(doc_id, para_id, text, start, end, label, index, "direct",
                                 closed=not body.rstrip().endswith(("…", "...")), social=True))
                continue
        if continues_turn:  # an unlabelled paragraph of a transcript continues the turn before it
            start, end = len(text) - len(text.lstrip()), len(text.rstrip())
            if end > start:
                rows.append(_turn_row(doc_id, para_id, text, start, end, doc.turn, index))
        for q in quoted:
            a = q.attribution
            if a is not None and a.where == "turn":
                doc.turn = a
                if q.end > q.start:
                    rows.append(_turn_row(doc_id, para_id, text, q.start, q.end, a, index))
                continue
            label, kind = _speaker(doc, q, index, texts, text)
            if label:
                _said(doc, label, kind, a.where if a else "continued", text, here, q)
            elif a is not None or q.quote_type == "direct":
                doc.last = None  # a quote by someone else, or by no one the text names
            rows.append(_row(doc_id, para_id, text, q.start, q.end, label, index, q.quote_type, closed=q.closed,
                             social=False))
    rows.sort(key=lambda r: (r.doc_id, r.para_id, r.char_start))  # (stable, as pandas' sort by columns)
    return frame_of_rows("quotes", rows)


def _speaker(doc: _Reading, q: Found, index: EntityIndex, texts, text: str) -> tuple[str | None, str | None]:
    """(label, kind) of a quote's speaker, settling pronouns, "the statement" and continued quotes
    against what the document said before."""
    a = q.attribution
    if a is None:
        return _continued(doc, q, texts, text)
    if a.kind == "unnamed":
        return None, None
    if a.kind == "pron":  # "he"/"she" carry a named person, "it"/"they" a document or an organization
        if a.label in ("it", "they"):
            if doc.previous_kind == "doc" or index.is_organization(doc.previous):
                return doc.previous, doc.previous_kind
            return None, None
        # the text up to the pronoun ("he told Jane Roe that “": Roe comes after it)
        upto = min(q.mark_start, a.at)
        if doc.previous_kind != "name" or not index.may_be_person(doc.previous) or (
                doc.person_from is not None and index.names_another_person(
                    _text_since(doc, doc.person_from, texts, text, upto), doc.previous)):
            return None, None
        return doc.previous, "name"
    if a.kind == "the_doc" and a.label in doc.authors:  # "the statement": the one the document said was X's
        return doc.authors[a.label], "name"
    if a.kind == "name" and a.doc:
        doc.authors[a.doc] = a.label
    return a.label, ("doc" if a.kind in ("doc", "the_doc") else "name")


def _continued(doc: _Reading, q: Found, texts, text: str) -> tuple[str | None, str | None]:
    """The speaker an unattributed quote continues: the last quote's, when this one is a direct
    quote that opens its sentence and nothing but that quote's attribution stands between them."""
    if doc.last is None or q.quote_type != "direct" or not q.opens_sentence:
        return None, None
    label, kind, allowed = doc.last
    between = _text_since(doc, doc.last_from, texts, text, q.mark_start)
    return (label, kind) if len(_SENTENCE_END.findall(between)) <= allowed else (None, None)


def _said(doc: _Reading, label: str, kind: str, where: str, text: str, here: int, q: Found) -> None:
    """Record a quote's speaker as the one later pronouns and continued quotes refer to (not a
    source named after the quote: "…,” according to NBC. “…,” she said" is not NBC's)."""
    if where == "source":
        doc.last = None
        return
    doc.previous, doc.previous_kind = label, kind
    # an attribution after the quote is one sentence that the next quote of the same speaker follows
    doc.last = (label, kind, 1 if where == "after" else 0)
    doc.last_from = (here, q.mark_end)
    if kind == "name":  # a pronoun later looks for other persons after this attribution's sentence
        end = _SENTENCE_END.search(text, q.mark_end) if where == "after" else None
        doc.person_from = (here, end.end() if end else q.mark_end)


def _text_since(doc: _Reading, since: tuple, texts, text: str, upto: int) -> str:
    """The document's text from a place (:class:`_Reading`) to offset ``upto`` of the current
    paragraph, paragraphs joined by new lines."""
    first, offset = since
    here = len(doc.rows) - 1
    if first == here:
        return text[offset:upto]
    parts = [texts[doc.rows[first]][offset:]]
    parts += [texts[doc.rows[i]] for i in range(first + 1, here)]
    parts.append(text[:upto])
    return "\n".join(parts)


def _transcripts(keys: pd.DataFrame, found: dict) -> dict:
    """doc_id -> True for the documents that are transcripts: one that opens with a labelled turn
    or holds two, counting a label without a title ("JOHN DOE:") only beside another label."""
    labelled = {pid: qs[0].attribution for pid, qs in found.items()
                if qs and qs[0].attribution is not None and qs[0].attribution.where == "turn"}
    if not labelled:
        return {}
    out = {}
    sub = keys[frames.isin(keys["doc_id"], keys.loc[frames.isin(keys["para_id"], list(labelled)), "doc_id"])]
    by_doc: dict[str, list] = {}
    for doc_id, para_id in frames.iter_rows(sub["doc_id"], sub["para_id"]):
        by_doc.setdefault(doc_id, []).append(labelled.get(para_id))
    for doc_id, turns in by_doc.items():
        strong = [t for t in turns if t is not None and t.kind != "turn_weak"]
        labels = {t.label for t in turns if t is not None}
        accepted = [t for t in turns if t is not None and (t.kind != "turn_weak" or strong or len(labels) >= 2)]
        first = turns[0]
        if len(accepted) >= 2 or (first is not None and first in accepted):
            out[doc_id] = True
    return out


LONG_QUOTE_WORDS = 12  # a quoted passage this long is the speaker's own sentence, wherever it stands


def _quote_type(text: str, sent_start: int, mark_start: int, start: int, end: int) -> str:
    """direct: a quoted sentence or clause (it starts its sentence, or follows a colon, a comma,
    "that" or a speech verb, and has four words or more; or it is a passage of 12 words or more);
    partial: a few words quoted inside the reporter's sentence."""
    n_words = len(_WORDS.findall(text[start:end]))
    if n_words >= LONG_QUOTE_WORDS:
        return "direct"
    lead = text[sent_start:mark_start].rstrip()
    if n_words >= 4 and (not lead or lead.endswith((":", ",")) or _LEAD_VERB.search(lead)):
        return "direct"
    return "partial"


def _with_next(doc_ids, para_ids, values):
    """(doc_id, para_id, value, the next paragraph's value if in the same document, else None) for
    each paragraph in turn, reading the columns lazily, a block at a time."""
    it = frames.iter_rows(doc_ids, para_ids, values)
    cur = next(it, None)
    while cur is not None:
        nxt = next(it, None)
        yield (*cur, nxt[2] if nxt is not None and nxt[0] == cur[0] else None)
        cur = nxt


def _turn_row(doc_id, para_id, text, start, end, turn: Attribution, index) -> tuple:
    """A transcript turn's quote: an anonymous label is kept but resolves to no entity."""
    row = _row(doc_id, para_id, text, start, end, turn.label, index if turn.kind != "turn_anon" else None,
               "direct", closed=True, social=False)
    return row


def _row(doc_id, para_id, text, start, end, label, index, quote_type, *, closed, social) -> tuple:
    """One quote: a row of the ``quotes`` table (:func:`schemas.row_type`)."""
    return row_type("quotes")(
        quote_id=stable_id("q", para_id, start, end), doc_id=doc_id, event_id=None,  # (extract.with_event)
        para_id=para_id, text=text[start:end],
        speaker_entity_id=index.resolve(label) if index is not None else None, speaker_label=label,
        char_start=start, char_end=end, quote_type=quote_type, closed=closed, is_social_post=social)
