"""Quotes: quoted text in the content paragraphs, with its speaker.

Rules (data in ``lexicons/speech.yaml``):

- quote marks: curly “…” and straight "…"; a quote that opens and never closes runs to the end of
  the paragraph (``closed`` false); a new opening mark while one is open ends the open quote there;
- embedded social-media posts: a paragraph followed by an attribution line ("— Name (@handle) date")
  is a post by Name (``is_social_post``);
- speaker: after the closing mark (``,” said X``, ``,” X said``, ``,” read a joint statement``), else
  before the opening mark in the same sentence (``X told ... that “``, ``According to X, ... “``);
  a pronoun (``it added``) carries the previous speaker of the same document;
- ``speaker_label`` is the name without its title ("Mathew Miller") or the speaking document
  ("joint statement"); ``speaker_entity_id`` resolves the label against ``entities`` (persons and
  organizations; normalised exact match, then a conservative rapidfuzz match), else null.

Plain regular expressions do the work: quote marks and attribution frames are character patterns, a
spaCy Matcher over tokens would add nothing but tokenisation cost.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from flows import frames
from flows.spans import alternation, content_rows, lexicon, sentence_spans
from flows.text import stable_id
from schemas import frame_of_rows, row_type

OPEN, STRAIGHT = "\u201c", '"'
_MARKS = re.compile('[\u201c\u201d"]')
_WORDS = re.compile(r"\w+", re.UNICODE)
_LEAD_VERB = re.compile(r"\b(?:that|said|says|told|added|stated|wrote)$")


@dataclass(frozen=True)
class _Rules:
    after_verb_first: re.Pattern
    after_subject_first: re.Pattern
    before_subject_verb: re.Pattern
    according_to: re.Pattern
    any_verb: re.Pattern  # a speech verb anywhere: before_subject_verb cannot match without one
    any_source_preposition: re.Pattern  # likewise for according_to
    social: re.Pattern
    link_tail: re.Pattern
    doc_source: re.Pattern
    no_speaker: frozenset
    titles: frozenset
    suffixes: frozenset


@functools.cache
def _rules() -> _Rules:
    lex = lexicon("speech")
    verbs = alternation(lex["speech_verbs"])  # lower case only: "the United States" is no speech verb
    adverbs = f"(?i:{alternation(lex['verb_adverbs'])})"
    docs = f"(?i:{alternation(lex['document_sources'])})"
    pronouns = f"(?i:{alternation(lex['carry_pronouns'])})"
    particles = "|".join(re.escape(p) for p in lex["name_particles"])
    # A capitalised name or title phrase: capitalised tokens, initials, name particles (al-Abbasi,
    # bin), and "of"/"the"/"for" between capitalised tokens ("Secretary of Defense").
    cap = r"(?:[A-Z][\w'’.\-]*|(?:%s)-[A-Z][\w'’\-]*)" % particles
    link = r"(?:of|the|for|and|(?:%s))" % particles
    name = rf"{cap}(?:\s+(?:{link}\s+)*{cap})*"
    det = r"(?i:(?:the|a|an|its|their)\s+)?"
    speaker = rf"(?P<doc>{det}(?:[\w\-]+\s+)?{docs})|(?P<pron>{pronouns})|(?P<name>{name})"
    return _Rules(
        # ,” read a joint statement / ,” said US Defense Secretary Lloyd Austin on Tuesday
        after_verb_first=re.compile(rf"^[\s,.!?;:—–-]*(?:{adverbs}\s+)?(?P<verb>{verbs})\s+(?:{speaker})"),
        # ,” the joint statement read / ,” it added / ,” Austin said
        after_subject_first=re.compile(
            rf"^[\s,.!?;:—–-]*(?:{speaker})\s+(?:(?:has|had|have)\s+)?(?:{adverbs}\s+)?(?P<verb>{verbs})"),
        # X told ... that “ / The joint statement added that ... “
        before_subject_verb=re.compile(
            rf"(?:{speaker})\s+(?:(?:has|had|have)\s+)?(?:{adverbs}\s+)?(?P<verb>{verbs})"),
        according_to=re.compile(rf"(?i:{alternation(lex['source_prepositions'])})\s+(?:{speaker})"),
        any_verb=re.compile(verbs),
        any_source_preposition=re.compile(rf"(?i:{alternation(lex['source_prepositions'])})"),
        social=re.compile(lex["social_attribution"]),
        link_tail=re.compile(lex["social_link_tail"]),
        doc_source=re.compile(docs, re.IGNORECASE),
        no_speaker=frozenset(p.lower() for p in lex["no_speaker"]),
        titles=frozenset(lex["title_words"]),
        suffixes=frozenset(s.rstrip(".").lower() for s in lex["name_suffixes"]),
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

def _speaker_from(m: re.Match) -> tuple[str, str] | None:
    """(kind, label) of a matched speaker group: kind is doc, pron or name."""
    if m is None:
        return None
    if m.group("doc"):
        src = _rules().doc_source.search(m.group("doc"))
        return "doc", src.group().lower()
    if m.group("pron"):
        return "pron", m.group("pron").lower()
    label = name_label(m.group("name"))
    return ("name", label) if label and label.lower() not in _rules().no_speaker else None


def name_label(phrase: str) -> str | None:
    """The person's name in a title phrase ("State Department Spokesperson Mathew Miller" -> "Mathew
    Miller"); the phrase itself when it is all title words ("the State Department" -> "State
    Department"); None for a bare function word."""
    r = _rules()
    tokens = phrase.replace("\u2019s", "").split()
    if tokens and tokens[-1].endswith(".") and len(tokens[-1]) > 3 and tokens[-1] not in r.titles \
            and tokens[-1].rstrip(".").lower() not in r.suffixes:
        tokens[-1] = tokens[-1].rstrip(".")  # the sentence's full stop, not an abbreviation
    while tokens and tokens[0].lower() in ("the", "a", "an", "of", "and", "for"):
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
    if not name:
        return " ".join(tokens)
    if len(name) == 1 and len(tokens) > 1 and name[0].rstrip(".").lower() in r.suffixes:
        return " ".join(tokens)
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


def _attribute(text: str, sent_start: int, mark_start: int, mark_end: int) -> tuple[str, str] | None:
    r = _rules()
    after = text[mark_end:mark_end + 160]
    for pat in (r.after_verb_first, r.after_subject_first):
        found = _speaker_from(pat.match(after))
        if found:
            return found
    before = text[sent_start:mark_start]
    # the last match before the quote; the patterns are only run where their fixed words occur (a
    # name pattern tried at every position of a long sentence was most of the quotes' time)
    m = None
    if r.any_source_preposition.search(before):
        for m in r.according_to.finditer(before):
            pass
    if m is not None:
        found = _speaker_from(m)
        if found:
            return found
    last = None
    if r.any_verb.search(before):
        for last in r.before_subject_verb.finditer(before):
            pass
    return _speaker_from(last)


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
        if entities is None or entities.empty:
            return
        ents = entities[entities["entity_type"].isin(["person", "organization"])]
        for row in ents.itertuples(index=False):
            self.type_of[row.entity_id] = row.entity_type
            aliases = row.aliases if hasattr(row.aliases, "__iter__") and not isinstance(row.aliases, str) else []
            names = [row.canonical_name, *aliases]
            for n in names:
                if isinstance(n, str) and n.strip():
                    self.keys.setdefault(_norm(n), set()).add(row.entity_id)
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


# --- the table ------------------------------------------------------------------------------------

def quotes_in(text: str) -> tuple:
    """The quotes of one paragraph, as its text alone gives them: ``(start, end, closed, attribution,
    quote_type)`` for each quoted passage (``attribution``: the ``(kind, label)`` of the speaker named
    around it, or None). The per-document batches find them (``flows.extract.scan_paragraphs``);
    :func:`extract_quotes` settles what needs the other paragraphs (a pronoun's speaker, a social
    post's author, the speaker's entity)."""
    if OPEN not in text and STRAIGHT not in text:
        return ()
    sentences = sentence_spans(text)
    found = []
    for mark_start, start, end, mark_end, closed in quote_spans(text):
        sent_start = next((s for s, e in reversed(sentences) if s <= mark_start), 0)
        found.append((start, end, closed, _attribute(text, sent_start, mark_start, mark_end),
                      _quote_type(text, sent_start, mark_start, start, end)))
    return tuple(found)


def extract_quotes(paragraphs: pd.DataFrame, documents: pd.DataFrame,
                   entities: pd.DataFrame | None = None, found: dict | None = None) -> pd.DataFrame:
    """One row per quote in the content paragraphs (``quotes`` table).

    ``found``: :func:`quotes_in` of every content paragraph that holds a quote, by para_id, as the
    batches' scans give it (a paragraph missing from it holds none); by default read here."""
    r = _rules()
    index = EntityIndex(entities)
    # the content paragraphs' positions in reading order, and their keys; a text is read from the
    # paragraphs table only where a quote or a post is (a copy of every content paragraph's text
    # was the extract stage's peak at 100k articles)
    at = content_rows(paragraphs, documents["doc_id"] if "doc_id" in documents else None)
    keys = paragraphs[["doc_id", "para_id"]].iloc[at]
    texts = frames.TextColumn(paragraphs["text"])
    has_at = frames.contains(paragraphs["text"], "@")  # a post's attribution line names a handle
    rows = []
    previous: str | None = None  # the last speaker in the current document
    previous_kind: str | None = None  # its kind: name or doc
    last_doc = None
    for doc_id, para_id, row, nxt in _with_next(keys["doc_id"], keys["para_id"], pd.Series(at)):
        if doc_id != last_doc:
            previous = previous_kind = None
            last_doc = doc_id
        post = r.social.match(texts[nxt]) if nxt is not None and has_at[nxt] else None
        text = texts[row] if post or found is None or para_id in found else None  # read where used
        if post:
            body = r.link_tail.sub("", text)
            start = len(body) - len(body.lstrip())
            end = len(body.rstrip())
            label = name_label(post.group("author"))
            if end > start and label:
                previous, previous_kind = label, "name"
                rows.append(_row(doc_id, para_id, text, start, end, label, index, "direct",
                                 closed=not body.rstrip().endswith(("…", "...")), social=True))
                continue
        quoted = quotes_in(text) if found is None else found.get(para_id, ())
        for start, end, closed, attribution, quote_type in quoted:
            label = None
            if attribution:
                kind, label = attribution
                if kind == "pron":  # "he"/"she" carry a named speaker only, "it"/"they" any
                    label = previous if previous_kind == "name" or label in ("it", "they") else None
                    kind = previous_kind
                if label:
                    previous, previous_kind = label, kind
            rows.append(_row(doc_id, para_id, text, start, end, label, index, quote_type, closed=closed,
                             social=False))
    rows.sort(key=lambda r: (r.doc_id, r.para_id, r.char_start))  # (stable, as pandas' sort by columns)
    return frame_of_rows("quotes", rows)


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


def _row(doc_id, para_id, text, start, end, label, index, quote_type, *, closed, social) -> tuple:
    """One quote: a row of the ``quotes`` table (:func:`schemas.row_type`)."""
    return row_type("quotes")(
        quote_id=stable_id("q", para_id, start, end), doc_id=doc_id, para_id=para_id, text=text[start:end],
        speaker_entity_id=index.resolve(label), speaker_label=label, char_start=start, char_end=end,
        quote_type=quote_type, closed=closed, is_social_post=social)
