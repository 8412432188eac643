"""Facts: figures in the content paragraphs with what they count.

"There are currently about 2,500 US troops in Iraq" -> value 2500, unit "troops", subject "US troops in
Iraq", qualifier "approximate". The rules and word lists are data (``lexicons/quantities.yaml``):

- numbers: digits with thousands separators and decimals ("2,500", "1.5"), a scale word after them
  ("1.5 million", "two dozen" = 24; alone only as "a dozen", "a hundred"), spelled numbers ("five",
  "twenty-five", "two hundred"), vague magnitudes ("hundreds of thousands of", value = the
  magnitude, qualifier "vague");
- not facts: years (four digits, no separator), dates (a month name next to the number), clock times
  and durations (a time unit after the number), ordinals ("10th", "second"), identifiers ("Article 5",
  "F-16", "@user1", "Camp 5", "al-Jada 5": a word with a capital right before, but a possessive
  ("Iraq's 5 million barrels") or a word and a comma ("in Iraq, 900 in Syria")), page counters
  ("Number of readings: 192"), hyphenated compounds ("two-day") but those that count (below), a
  small spelled number after a definite determiner ("the two sides"), and numbers with no counted
  noun after them;
- counted noun: a count above one needs a plural head ("troops", "people", "km"); the phrase ends
  at its last plural noun ("42 people dead" -> "people"), and a number before a singular noun names
  or modifies it ("5 camp", "a two lane road"): no fact;
- unit: the counted noun (head of the noun phrase after the number), with its rate ("barrels per
  day", "a day" -> "per day"); "percent"; a currency code; for a number-hyphen compound of a listed
  noun, that noun in the plural ("an 80-member coalition" -> 80 "members", subject "members of the
  coalition"; "a 5,000-strong force" -> 5000 "force");
- elided counts: a number right after a figure of the same sentence, with only a place after it,
  counts the same thing ("2,500 troops in Iraq and 900 in Syria" -> 900 troops, subject "troops in
  Syria");
- subject: the noun phrase (modifiers, head, "of ..." and "in/from <Place>" continuations, modifiers
  joined by "or"/"and" before one plural head: "rocket or drone attacks"); when
  the sentence says where they are housed ("<camp> ... houses 50,000 people") or what they are members
  of ("consisting of 79 nations ..., the coalition"), that is added ("people in Al-Hol camp").

One compiled regular expression finds the candidates over the whole paragraph; a spaCy Matcher would
first need every paragraph tokenised, for nothing the character patterns cannot see.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd

from flows.common import frames
from flows.common.lexicons import lexicon
from flows.common.text import stable_id
from flows.extract.spans import alternation, content_paragraphs, sentence_spans
from schemas import conform

_TOKEN = re.compile(r"[^\s]+")
_DOTTED = re.compile(r"(?:[A-Z]\.)+$")  # "U.S.", "D.C.": an abbreviation, not a full stop
_EDGE_PUNCT = "\"'“”‘’()[]"
_ARTICLES = frozenset({"a", "an", "the"})


@dataclass(frozen=True)
class _Rules:
    number: re.Pattern
    spelled: re.Pattern
    vague: re.Pattern
    vague_part: re.Pattern
    currency_signs: tuple
    words: dict
    scales: dict
    vague_values: dict
    qualifier: re.Pattern  # any qualifier phrase at the end of the text before a number
    qualifier_of: dict  # lower-cased phrase -> qualifier
    definite: frozenset
    definite_max: int
    excluded: frozenset
    currencies: dict
    percent: re.Pattern
    time_units: frozenset
    months: frozenset
    references: frozenset
    stops: frozenset
    place_preps: frozenset
    of_preps: frozenset
    max_words: int
    container: re.Pattern
    membership: re.Pattern
    group_nouns: re.Pattern
    page_counters: frozenset
    compound_nouns: dict  # singular -> plural
    strength_words: frozenset
    invariant_plurals: frozenset
    plural_endings: tuple
    measure_units: frozenset
    rate_words: frozenset
    rate_denominators: frozenset
    conjunctions: frozenset
    compound: re.Pattern  # "-member", "-strong" right after a number


@functools.cache
def _rules() -> _Rules:
    lex = lexicon("quantities")
    words = {k.lower(): int(v) for k, v in lex["number_words"].items()}
    scales = {k.lower(): int(v) for k, v in lex["scale_words"].items()}
    # Patterns start with a literal or a digit so that the regex engine can skip ahead fast; word
    # boundaries are checked in Python. Spelled numbers and vague magnitudes are searched in the
    # lower-cased text.
    spelled = alternation([*words, *scales], words=False) + r"\b"
    scale = alternation(scales)
    digits = r"(?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    number = rf"{digits}(?P<scale>(?:\s*-?\s*(?i:{scale}))*)"
    spelled_chain = rf"{spelled}(?:(?:\s+|-)(?:and\s+)?{spelled})*"
    vague_map = {k.lower(): int(v) for k, v in lex["vague_magnitudes"].items()}
    vague_alt = alternation(vague_map, words=False)
    vague = rf"(?P<vague>{vague_alt}(?:\s+of\s+{vague_alt})*)\s+of\s+"
    quals = []
    for q, phrases in lex["qualifiers"].items():
        for ph in phrases:
            quals.append((ph.lower(), q))
    quals.sort(key=lambda x: len(x[0]), reverse=True)
    return _Rules(
        number=re.compile(number),
        spelled=re.compile(spelled_chain),
        vague=re.compile(vague),
        vague_part=re.compile(vague_alt),
        currency_signs=tuple(sorted((c for c in lex["currencies"] if not c.isalpha()), key=len, reverse=True)),
        words=words,
        scales=scales,
        vague_values=vague_map,
        qualifier=re.compile(rf"(?i:{alternation([p for p, _ in quals])})\s*$"),
        qualifier_of=dict(quals),
        definite=frozenset(w.lower() for w in lex["definite_determiners"]),
        definite_max=int(lex["definite_max_value"]),
        excluded=frozenset(w.lower() for w in lex["standalone_excluded"]),
        currencies={k.lower(): v for k, v in lex["currencies"].items()},
        percent=re.compile(rf"\s*(?i:{alternation(lex['percent_words'], words=False)})(?![\w])"),
        time_units=frozenset(w.lower().rstrip(".") for w in lex["time_units"]) | frozenset(
            w.lower() for w in lex["time_units"]),
        months=frozenset(w.lower() for w in lex["months"]),
        references=frozenset(lex["reference_words"]),
        stops=frozenset(w.lower() for w in lex["subject_stop_words"]),
        place_preps=frozenset(lex["subject_place_prepositions"]),
        of_preps=frozenset(lex["subject_of_prepositions"]),
        max_words=int(lex["subject_max_words"]),
        container=re.compile(rf"(?i:{alternation(lex['container_cues'])})"),
        membership=re.compile(rf"(?i:{alternation(lex['membership_cues'])})"),
        group_nouns=re.compile(rf"(?i:(?:[\w\-]+\s+)?{alternation(lex['group_nouns'])})"),
        page_counters=frozenset(w.lower() for w in lex["page_counters"]),
        compound_nouns={k.lower(): v.lower() for k, v in lex["compound_count_nouns"].items()},
        strength_words=frozenset(w.lower() for w in lex["strength_words"]),
        invariant_plurals=frozenset(w.lower() for w in lex["invariant_plurals"]),
        plural_endings=tuple(w.lower() for w in lex["plural_endings"]),
        measure_units=frozenset(w.lower() for w in lex["measure_units"]),
        rate_words=frozenset(w.lower() for w in lex["rate_words"]),
        rate_denominators=frozenset(w.lower() for w in lex["rate_denominators"]),
        conjunctions=frozenset(w.lower() for w in lex["noun_conjunctions"]),
        # the compound's noun must be followed by a space: "80-member coalition", not "80-member."
        compound=re.compile(r"-(?P<noun>(?i:%s))(?=\s+[\w])"
                            % alternation([*lex["compound_count_nouns"], *lex["strength_words"]], words=False)),
    )


def words_value(phrase: str) -> float | None:
    """Value of a spelled number ("twenty-five" -> 25, "two hundred thousand" -> 200000)."""
    r = _rules()
    total, current = 0, 0
    seen = False
    for w in re.split(r"[\s\-]+", phrase.lower()):
        if w == "and" or not w:
            continue
        if w in r.words:
            current += r.words[w]
            seen = True
        elif w in r.scales:
            current = max(current, 1) * r.scales[w]
            if r.scales[w] >= 1000:
                total, current = total + current, 0
            seen = True
        else:
            return None
    return float(total + current) if seen else None


_LAST_WORD = re.compile(r"(\S+)\s*$")


def _prev_word(text: str, pos: int) -> str:
    m = _LAST_WORD.search(text, max(0, pos - 40), pos)
    return m.group(1).strip(_EDGE_PUNCT) if m else ""


def _next_words(text: str, pos: int, n: int) -> list[re.Match]:
    out = []
    for m in _TOKEN.finditer(text, pos):
        out.append(m)
        if len(out) >= n:
            break
    return out


class _Phrase(NamedTuple):
    """The counted noun phrase after a number."""

    subject: str | None
    end: int  # offset past the phrase (past its rate, when it has one)
    head: str | None  # its head noun, lower case
    rate: str | None  # the rate's unit ("day" in "barrels per day"), if any


def _subject(text: str, pos: int, sent_end: int, plural: bool = False) -> _Phrase:
    """The noun phrase starting at ``pos``: its words up to a function word, verb, clause or
    punctuation; "in/from <Place>" and "of ..." continue it; "<modifier> or <modifier> <plural>"
    is one phrase ("rocket or drone attacks"); "per day"/"a day" after it makes it a rate.
    ``plural``: the head must be plural (a count above one), the phrase ends at its last plural
    word ("42 people dead" -> "people"), and there is none without one ("5 camp")."""
    r = _rules()
    toks = _next_words(text[:sent_end], pos, r.max_words + 4)
    words: list[tuple[str, int, int]] = []  # (word, start, end)
    in_pp = False
    rate = None
    for i, m in enumerate(toks):
        raw = m.group()
        if raw[0] in "([\u2014\u2013":  # a parenthesis or a dash ends the noun phrase
            break
        word = raw.strip(_EDGE_PUNCT).rstrip(".,;:!?…").strip(_EDGE_PUNCT)
        low = word.lower()
        if not word or not re.fullmatch(r"[\w][\w'’\-.&]*", word) or any(c.isdigit() for c in word) \
                or low in r.words:  # another number starts another figure ("six feet five inches")
            break
        nxt = toks[i + 1].group().strip(_EDGE_PUNCT) if i + 1 < len(toks) else ""
        if words and (found := _rate_at(toks, i)):
            rate = found
            break
        if words and not in_pp and low in r.conjunctions and _coordinated_head(words[-1][0], toks[i + 1:i + 3]):
            pass  # "rocket or drone attacks": the conjunction joins two modifiers of one head
        elif low in r.place_preps and words:
            follower = nxt
            if follower.lower() == "the" and i + 2 < len(toks):
                follower = toks[i + 2].group().strip(_EDGE_PUNCT)
            if not follower[:1].isupper():
                break
            in_pp = True
        elif low in r.of_preps and words:
            in_pp = True
        elif low in r.stops and not (in_pp and low == "the"):
            break
        elif low in ("the", "a", "an") and not in_pp:
            # a determiner cannot follow a noun inside one noun phrase: the word before it is a verb
            if len(words) > 1:
                words.pop()
            break
        elif in_pp and low != "the" and not word[:1].isupper() and words and words[-1][0].lower() in r.place_preps:
            break
        start = m.start() + (len(raw) - len(raw.lstrip(_EDGE_PUNCT)))
        words.append((word, start, start + len(word)))
        if len(words) >= r.max_words or (raw[-1] in ".,;:!?)”\"" and not _DOTTED.search(raw)):
            break
    # a participle after the head starts a clause: "people forming in Washington" -> "people"
    for i in range(1, len(words)):
        w = words[i][0]
        if len(w) > 4 and w.endswith(("ing", "ed")) and "-" not in w and w[:1].islower() \
                and words[i - 1][0].lower() not in r.place_preps | r.of_preps:
            words = words[:i]
            rate = None
            break
    # drop trailing prepositions/articles/conjunctions and trailing verb-like words ("rescuers responded")
    while words and (words[-1][0].lower() in r.stops or words[-1][0].lower() in r.place_preps
                     or words[-1][0].lower() == "the"):
        words.pop()
        rate = None
    if len(words) > 1 and words[-1][0].endswith(("ed", "ing")) and "-" not in words[-1][0] \
            and not words[-1][0][:1].isupper():
        words.pop()
        rate = None
    if not words:
        return _Phrase(None, pos, None, None)
    first_pp = next((i for i, w in enumerate(words) if w[0].lower() in r.place_preps | r.of_preps), len(words))
    if first_pp == 0:
        return _Phrase(None, pos, None, None)
    if plural and not is_plural(words[first_pp - 1][0]):
        last = next((i for i in range(first_pp - 1, -1, -1) if is_plural(words[i][0])), None)
        if last is None:
            return _Phrase(None, pos, None, None)
        words, first_pp, rate = words[:last + 1], last + 1, None
    head = words[first_pp - 1][0].lower()
    if rate:
        return _Phrase(text[words[0][1]:words[-1][2]], rate[1], head, rate[0])
    return _Phrase(text[words[0][1]:words[-1][2]], words[-1][2], head, None)


def _rate_at(toks: list[re.Match], i: int) -> tuple[str, int] | None:
    """(unit, end offset) of a rate starting at token ``i`` ("per day", "a year", "each month")."""
    r = _rules()
    if i + 1 >= len(toks) or toks[i].group().lower() not in r.rate_words:
        return None
    den = toks[i + 1].group()
    word = den.rstrip(".,;:!?…\"'”’)")
    if word.lower() not in r.rate_denominators:
        return None
    return word.lower(), toks[i + 1].start() + len(word)


def _coordinated_head(before: str, following: list[re.Match]) -> bool:
    """True when "<before> or/and <following>" joins modifiers of one plural head within two words
    ("rocket or drone attacks"): ``before`` is no plural itself ("soldiers and civilians" are two
    counts)."""
    if is_plural(before.lower()):
        return False
    for m in following:
        w = m.group()
        if not re.fullmatch(r"[a-z][\w\-]*[.,;:]?", w):
            return False
        if is_plural(w.rstrip(".,;:")):
            return True
    return False


def is_plural(noun: str) -> bool:
    """A counted noun that can follow a number above one: a plural ending ("troops", "Americans"),
    an invariant plural ("people", "personnel", "aircraft") or a unit of measure ("km", "bpd")."""
    r = _rules()
    low = noun.lower().rstrip(".")
    if low in r.invariant_plurals or low in r.measure_units or low.endswith(r.plural_endings):
        return True
    if "." in low:  # an abbreviation ("U.S."), not a plural
        return False
    return low.endswith("s") and not low.endswith(("ss", "'s", "’s", "us")) and len(low) > 2


def _context(text: str, sent: tuple[int, int], num_start: int, subject: str) -> str:
    """Add where the counted things are housed or what they are members of, from the sentence."""
    r = _rules()
    s, e = sent
    before = text[s:num_start]
    if " in " not in f" {subject} " and r.container.search(before[-40:]):
        m = re.match(r"\s*(?:(?i:the)\s+)?((?:[A-Z][\w'’\-]*|[a-z][\w\-]*)(?:\s+[a-z][\w\-]*){0,2})", text[s:e])
        if m:
            np_words = []
            for w in m.group(1).split():
                if w.lower() in r.stops:
                    break
                np_words.append(w)
            if np_words and np_words[0][:1].isupper():
                return f"{subject} in {' '.join(np_words)}"
    if r.membership.search(before):
        g = r.group_nouns.search(text, s, e)
        if g:
            return f"{subject} in the {g.group().strip()}" if not g.group().lower().startswith("the ") \
                else f"{subject} in {g.group().strip()}"
    return subject


def _word_char(c: str) -> bool:
    return c.isalnum() or c in "_-"


def _candidates(text: str) -> list[tuple[int, int, float, str | None, str | None, str | None]]:
    """(start, end, value, qualifier, currency sign, compound noun) of every number that may be a
    fact; ``compound noun`` is the noun of a number-hyphen compound ("80-member"), ``end`` then
    past it."""
    r = _rules()
    found = []
    n = len(text)
    for m in r.number.finditer(text):
        s, e = m.span("digits")
        end = m.end()
        compound = r.compound.match(text, e) if e < n and text[e] == "-" and end == e else None
        if compound:
            end = compound.end()
        elif (e < n and (_word_char(text[e]) or (text[e] in ".," and e + 1 < n and text[e + 1].isdigit()))) \
                or (end < n and _word_char(text[end])):
            continue
        cur = next((c for c in r.currency_signs if text.startswith(c, max(0, s - len(c)), s)), None)
        first = s - len(cur) if cur else s
        if first > 0 and (_word_char(text[first - 1]) or text[first - 1] in "/@#.,$€£"):
            continue
        d = m.group("digits")
        if "," not in d and "." not in d and len(d) == 4 and not m.group("scale") and not cur and not compound:
            nxt = _next_words(text, end, 1)
            nw = nxt[0].group().strip(_EDGE_PUNCT + ".,;:") if nxt else ""
            if not (nw.endswith("s") and nw.islower() and nw not in r.stops):
                continue  # a year
        value = float(d.replace(",", ""))
        for sc in re.findall(r"[A-Za-z]+", m.group("scale") or ""):
            value *= r.scales[sc.lower()]
        found.append((first, end, value, None, cur, compound and compound.group("noun").lower()))
    low = text.lower()
    if len(low) != n:  # lower-casing changed offsets (rare characters): no spelled numbers here
        return found
    taken: list[tuple[int, int]] = []
    vague_hits = r.vague.finditer(low) if any(w in low for w in r.vague_values) else ()
    for m in vague_hits:
        if m.start() and _word_char(low[m.start() - 1]):
            continue
        value = 1.0
        for part in r.vague_part.findall(m.group("vague")):
            value *= r.vague_values[" ".join(part.split())]
        found.append((m.start(), m.end(), value, "vague", None, None))
        taken.append((m.start(), m.end()))
    for m in r.spelled.finditer(low):
        s, e = m.span()
        compound = r.compound.match(low, e) if e < n and low[e] == "-" else None
        if (s and _word_char(low[s - 1])) or (e < n and _word_char(low[e]) and not compound):
            continue
        if any(a <= s < b for a, b in taken):
            continue
        phrase = m.group()
        prev = _prev_word(low, s)
        if phrase in r.excluded or (phrase in r.scales and prev not in ("a", "an")):
            continue  # a scale word counts alone only as "a dozen", "a hundred"
        value = words_value(phrase)
        if value is None:
            continue
        if prev in r.definite and value <= r.definite_max:
            continue
        found.append((s, compound.end() if compound else e, value, None, None,
                      compound and compound.group("noun")))
    return found


def _facts_in(text: str) -> list[dict]:
    r = _rules()
    found = _candidates(text)
    if not found:
        return []
    sentences = sentence_spans(text)
    rows = []
    for start, end, value, qualifier, cur, compound in sorted(found):
        prev = _prev_word(text, start)
        if prev in r.references or prev.lower() in r.months or prev.lower().rstrip(".") in r.months:
            continue
        if prev.lower().rstrip(":") in r.page_counters:
            continue  # "Number of readings: 192": a page's counter
        lead_from = max(0, start - 30)
        qual = r.qualifier.search(text, lead_from, start)
        if any(c.isupper() for c in prev) and prev.lower() not in r.stops | _ARTICLES and not qual \
                and not prev.endswith(("'s", "\u2019s", ",", ";")) and _sentence_start(text, start, sentences) != start \
                and not cur:
            continue  # "Resolution 2379", "Camp 5", "al-Jada 5": a name right before = an identifier
        after = _next_words(text, end, 1)
        nxt = after[0].group().strip(_EDGE_PUNCT + ".,;:") if after else ""
        if nxt.lower() in r.months or nxt.lower().rstrip(".") in r.months or nxt.lower() in r.time_units:
            continue
        if re.match(r"\s*(?:-|–|and|to)\s*\d", text[end:end + 8]) and prev.lower() in r.months:
            continue
        sent = next(((s, e) for s, e in sentences if s <= start < e), (0, len(text)))
        unit = None
        subject = None
        span_end = end
        pct = r.percent.match(text, end) if not compound else None
        cur_word = r.currencies.get(nxt.lower()) if not compound else None
        if pct:
            unit, span_end = "percent", pct.end()
        elif cur:
            unit = r.currencies.get(cur.lower())
        elif cur_word:
            unit, span_end = cur_word, after[0].end()
        if unit is None:
            phrase = _subject(text, end, sent[1], plural=value != 1 and not compound)
            head = phrase.head
            if phrase.subject is None and not compound:
                phrase = _elided(text, (qual.start() if qual else start), end, sent, rows)
                head = phrase.head
            if phrase.subject is None or head is None or head in r.time_units or head.rstrip(".") in r.time_units:
                continue
            span_end = phrase.end
            if compound:
                unit, subject = _compound_count(compound, phrase)
            else:
                unit = f"{head} per {phrase.rate}" if phrase.rate else head
                subject = _context(text, sent, start, phrase.subject)
        if qualifier is None:
            qualifier = "exact"
            if qual and qual.start() >= sent[0]:
                qualifier = r.qualifier_of[" ".join(qual.group().lower().split())]
                start = qual.start()
        rows.append({"value": value, "unit": unit, "subject": subject, "qualifier": qualifier,
                     "char_start": start, "char_end": span_end})
    return rows


_ELISION_GAP = re.compile(r"[\s,;]*(?:and|while|but|with|compared\s+with)?\s*")
_ELIDED_PLACE = re.compile(r"\s+(?P<place>(?:in|at|inside|across)\s+(?:(?:the|neighbouring|neighboring)\s+)?"
                           r"[A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*){0,3})")


def _elided(text: str, start: int, end: int, sent: tuple[int, int], rows: list[dict]) -> _Phrase:
    """The counted noun a coordinated count leaves out: "2,500 troops in Iraq and 900 in Syria" -> 900
    troops in Syria (the previous figure of the sentence, right before it, and a place after it)."""
    last = rows[-1] if rows else None
    if last is None or last["char_end"] < sent[0] or last["subject"] is None \
            or not _ELISION_GAP.fullmatch(text, last["char_end"], start):
        return _Phrase(None, end, None, None)
    place = _ELIDED_PLACE.match(text, end, sent[1])
    if place is None:
        return _Phrase(None, end, None, None)
    return _Phrase(f"{last['unit']} {place.group('place')}", place.end(), last["unit"], None)


def _compound_count(noun: str, phrase: _Phrase) -> tuple[str, str]:
    """(unit, subject) of a number-hyphen compound: "80-member coalition" counts the members of
    the coalition; "5,000-strong force" gives the force's strength."""
    r = _rules()
    if noun in r.strength_words:
        return phrase.head, phrase.subject
    unit = r.compound_nouns[noun]
    return unit, f"{unit} of the {phrase.subject}"


def _sentence_start(text, pos, sentences):
    s = next((s for s, e in sentences if s <= pos < e), 0)
    return s if text[s:pos].strip(_EDGE_PUNCT + " ") == "" else -1


def extract_facts(paragraphs: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """One row per figure with a counted subject in the content paragraphs (``facts`` table)."""
    paras = content_paragraphs(paragraphs, ("doc_id", "para_id", "text"),
                               documents["doc_id"] if "doc_id" in documents else None)
    rows = []
    found: dict[str, list[dict]] = {}  # text -> its figures: a repeated paragraph is read once
    for doc_id, para_id, text in frames.iter_rows(paras["doc_id"], paras["para_id"], paras["text"]):
        if text not in found:
            found[text] = _facts_in(text)
        for f in found[text]:
            rows.append(dict(f, fact_id=stable_id("f", para_id, f["char_start"], f["char_end"]), doc_id=doc_id,
                             para_id=para_id, text=text[f["char_start"]:f["char_end"]]))
    if not rows:
        from schemas import empty_frame

        return empty_frame("facts")
    # event_id: the event of the figure's document, known only once events are decided (extract.with_event)
    return conform("facts", pd.DataFrame(rows).assign(event_id=None).sort_values(["doc_id", "para_id", "char_start"]))
