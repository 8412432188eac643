"""Which edition of a subject series each article reports: the article -> event decision.

Nothing here knows an article's facts: series names, edition words, meeting cues and the windows
below are general rules (``lexicons/events.yaml``); editions, dates and places are read from the
articles, and every decision keeps its evidence (``documents.event_evidence``).

1. **Publication dates** (:func:`publication_dates`): the manifest's, else a date line among the
   first paragraphs ("July 24, 2024"), else an ISO date in the file name (scrapers name files by
   date). A site header's clock ("Thu. Sep 19th, 2024", boilerplate reason ``page_clock``) is not a
   publication date; it only bounds one from above.
2. **Series mentions** (:func:`series_mentions`): each mention of a subject series with what its
   sentence says of it: an edition word before it ("the second ...", "the inaugural ..."), a year
   before it ("the 2024 ..."), day dates in its sentence or in the next one when that sentence goes
   on about it ("This took place on July 22-23, 2024"; relative ones such as "held Monday and
   Tuesday" resolved against the publication date), a coarser date ("in August", "last summer").
   "The second round of talks" in an article naming the series states an edition too (:func:`rounds`).
3. **Editions** (:func:`build_editions`): one event per (series, edition); dated mentions without an
   edition join the edition whose coarser dates contain them ("In August ... the inaugural ..." and
   "... on August 7-8, 2023"), else form an event of their own, keyed by date.
4. **The decision** (:func:`decide`): an article reports the latest edition it names that its
   publication date allows (an edition ``WINDOW_BEFORE`` days ahead to ``WINDOW_AFTER`` days after);
   an edition named only outside that window is background. An article naming the series without
   saying which edition, or naming both subject countries, is linked by evidence, in rounds until
   nothing changes: published within exactly one edition's window while reporting a meeting in the
   host country ("date"); people heading or in a delegation in exactly one edition ("delegation");
   paragraphs shared with an edition's articles ("shared text"); and last, for an undated article
   that names the series or reports such a meeting, words clearly closer to one edition's coverage
   than to any other's ("similar coverage").
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import pandas as pd

from flows.common import frames
from flows.extract.dates import DateSpan, dates_in
from flows.extract.entities import Para
from flows.extract.nlp import Lexicons

WINDOW_BEFORE = 10  # days: a preview may report an edition this long before it starts
WINDOW_AFTER = 7    # days: coverage published this long after an edition's last day still reports it
SIMILARITY_MIN = 0.10   # cosine of an article with an edition's coverage, at least
SIMILARITY_MARGIN = 1.75  # and this many times its cosine with any other edition's
# an article that does not name the series (only reports a meeting) needs a clearer margin: talks
# on other matters in the same capital share much of the vocabulary
SIMILARITY_MARGIN_UNNAMED = 2.5
MIN_COVERAGE = 3  # articles an edition needs linked by other evidence before its coverage is compared
MIN_SHARED_PEOPLE = 2   # delegation members shared with one edition's articles (a head counts alone)


# --- 1. publication dates -------------------------------------------------------------------------

_PUBLISHED = re.compile(
    r"^(?:(?:published|posted|updated|date)\s*(?:on)?\s*:?\s*)?(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s+)?"
    r"(?P<date>.+?\b(?:19|20)\d{2})(?:\s*[-,|]?\s*\d{1,2}:\d{2}.*)?$",
    re.IGNORECASE)
_FILE_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})-(\d{2})-(\d{2})(?!\d)")
MAX_DATE_LINE = 60  # characters: a longer paragraph is not a line giving the publication date
HEAD_LINES = 6  # a document's first paragraphs, where a line giving its date is looked for
PAGE_CLOCK = "page_clock"  # the boilerplate reason of a site header's clock (lexicons/boilerplate.yaml)


def _date_line(text: str) -> dt.date | None:
    """The one day a short line gives, when the line is only a date ("Friday, January 4, 2019",
    "Published: 24 July 2024 10:03")."""
    from flows.extract.dates import find_dates, resolve_dates

    m = _PUBLISHED.match(text.strip())
    if not m:
        return None
    found = [d for d in find_dates(text) if d.kind == "day"]
    if len(found) != 1:
        return None
    spans = [d for d in resolve_dates(text, found) if d.resolved]
    if len(spans) == 1 and len(m["date"]) <= len(spans[0].text) + 2:
        return spans[0].first
    return None


def published_in_text(paragraphs: pd.DataFrame, first_n: int = HEAD_LINES) -> dict:
    """doc_id -> date for documents whose first paragraphs include a line that is only a date
    ("July 24, 2024", "Friday, January 4, 2019", "Published: 24 July 2024 10:03"); a site header's
    clock is not one (see :func:`page_dates`)."""
    out: dict = {}
    for doc_id, text in _short_head_lines(paragraphs, first_n, clock=False):
        if doc_id not in out:
            day = _date_line(text)
            if day is not None:
                out[doc_id] = day
    return out


def page_dates(paragraphs: pd.DataFrame, first_n: int = HEAD_LINES) -> dict:
    """doc_id -> the date of a site header's clock among the first paragraphs: the page was shown
    that day, so the article was published then or before."""
    out: dict = {}
    for doc_id, text in _short_head_lines(paragraphs, first_n, clock=True):
        days = [d.first for d in dates_in(text) if d.precision == "day" and d.resolved]
        if days:
            out[doc_id] = min(days[0], out.get(doc_id, days[0]))
    return out


def _short_head_lines(paragraphs: pd.DataFrame, first_n: int, clock: bool):
    short = (paragraphs["text"].str.len() <= MAX_DATE_LINE).to_numpy(dtype=bool, na_value=False)
    if "position" in paragraphs.columns:
        short = short & (paragraphs["position"] < first_n).to_numpy(dtype=bool, na_value=False)
    if "reason" in paragraphs.columns:
        is_clock = (paragraphs["reason"] == PAGE_CLOCK).to_numpy(dtype=bool, na_value=False)
        short = short & (is_clock if clock else ~is_clock)
    elif clock:
        return
    head = paragraphs.loc[short, ["doc_id", "text"]]  # (only these rows' text is copied)
    yield from frames.iter_rows(head["doc_id"], head["text"])


def date_in_file_name(name: str | None) -> dt.date | None:
    """The one ISO date (yyyy-mm-dd) in a file's name, if it holds exactly one valid date."""
    if not isinstance(name, str):
        return None
    found = _FILE_DATE.findall(PurePosixPath(name).name)
    if len(found) != 1:
        return None
    try:
        return dt.date(*map(int, found[0]))
    except ValueError:
        return None


@dataclass
class Published:
    """When each document was published (``date``), where that was read (``source``: manifest,
    date line or file name), and the page clock's date (``page``: an upper bound)."""

    date: dict = field(default_factory=dict)
    source: dict = field(default_factory=dict)
    page: dict = field(default_factory=dict)


def publication_dates(documents: pd.DataFrame, paragraphs: pd.DataFrame | None) -> Published:
    out = Published()
    for doc_id, value in zip(documents["doc_id"], documents["published_date"]):
        if isinstance(value, str) and value:
            out.date[doc_id], out.source[doc_id] = dt.date.fromisoformat(value[:10]), "manifest"
    if paragraphs is not None:
        for doc_id, value in published_in_text(paragraphs).items():
            if doc_id not in out.date:
                out.date[doc_id], out.source[doc_id] = value, "date line"
        out.page = page_dates(paragraphs)
    if "source_file" in documents:
        for doc_id, name in zip(documents["doc_id"], documents["source_file"]):
            day = date_in_file_name(name)
            if doc_id not in out.date and day is not None and (doc_id not in out.page or day <= out.page[doc_id]):
                out.date[doc_id], out.source[doc_id] = day, "file name"
    return out


# --- 2. series mentions ---------------------------------------------------------------------------

@dataclass
class SeriesMention:
    doc_id: str
    para: Para
    start: int
    end: int
    series: str
    edition: int | None
    sent: tuple
    cue_start: int = 0
    year: int | None = None                     # "the 2024 <series>"
    dates: list = field(default_factory=list)   # day-precision DateSpans said of it
    dates_para_id: str | None = None            # the paragraph they are in, when not this one
    period: DateSpan | None = None              # a coarser date said of it ("in August", "last summer")
    location: str | None = None


def _sentence(para: Para, pos: int) -> tuple[int, int]:
    for s, e in para.sents:
        if s <= pos < e:
            return s, e
    return 0, len(para.text)


def _next_sentence(para: Para, end: int) -> tuple[int, int] | None:
    return next(((s, e) for s, e in para.sents if s >= end), None)


def ordinal_words(lex: Lexicons) -> str:
    return "|".join(sorted(map(re.escape, lex.ordinals), key=len, reverse=True))


def _ordinal_rx(lex: Lexicons) -> re.Pattern:
    return re.compile(rf"\b(?i:(?P<ord>{ordinal_words(lex)}))\b(?P<between>(?:\s+[A-Z][\w.'\u2019\-]*)*)\s*\(?\s*$")


_YEAR_BEFORE = re.compile(r"\b(?P<year>(?:19|20)\d{2})\s+(?:[A-Z][\w.'\u2019\-]*\s+)*$")
# a sentence that goes on about the event just named: "This took place ...", "The talks were held ..."
_CONTINUES = re.compile(r"^(?:This|It|They|The\s+(?:dialogue|talks|meeting|meetings|event|summit|discussions|round))\b"
                        r"|\b(?:took\s+place|was\s+held|were\s+held|is\s+being\s+held)\b")


def _closest(spans: list[DateSpan], s: int, e: int, others: list[tuple[int, int]]) -> DateSpan | None:
    """The span nearest to the mention [s, e) that is not nearer to another mention of the sentence."""
    def gap(d, a, b):
        return a - d.end if d.end <= a else d.start - b if d.start >= b else 0
    mine = [d for d in spans if all(gap(d, s, e) <= gap(d, a, b) for a, b in others)]
    return min(mine, key=lambda d: gap(d, s, e), default=None)


def series_mentions(paras: list[Para], lex: Lexicons, reference: dict | None = None) -> list[SeriesMention]:
    """Mentions of subject series with the edition, year, dates and place their sentence gives
    (relative dates resolved against ``reference``: doc_id -> publication date)."""
    ord_rx = _ordinal_rx(lex)
    reference = reference or {}
    out = []
    following = {a.para_id: b for a, b in zip(paras, paras[1:]) if a.doc_id == b.doc_id}
    for para in paras:
        subject = [(s, e, series) for s, e, series, _ in para.series if lex.series.get(series, {}).get("subject")]
        for s, e, series in subject:
            text = para.text
            ss, se = _sentence(para, s)
            m = ord_rx.search(text[ss:s])
            edition = lex.ordinals[m["ord"].lower()] if m else None
            y = _YEAR_BEFORE.search(text[ss:s])
            sm = SeriesMention(para.doc_id, para, s, e, series, edition, (ss, se), ss + m.start() if m else s,
                               year=int(y["year"]) if y else None)
            # other mentions of the sentence, but for an acronym right after this one ("... (JSCD)")
            others = [(a, b) for a, b, _ in subject if (a, b) != (s, e) and ss <= a < se
                      and not (0 <= a - e <= 2 or 0 <= s - b <= 2)]
            spans = _dates_of(text, ss, se, reference.get(para.doc_id))
            days = [d for d in spans if d.precision == "day" and d.resolved]
            nxt = _next_sentence(para, se)
            place_in = (e, min(se, e + PLACE_AFTER))
            if not days and nxt and not others and _CONTINUES.search(text[nxt[0]:nxt[1]]):
                spans = _dates_of(text, *nxt, reference.get(para.doc_id))
                days = [d for d in spans if d.precision == "day" and d.resolved]
                place_in = nxt
            after = following.get(para.para_id)
            if not days and len(text) <= SHORT_LINE and after is not None and len(after.text) <= SHORT_LINE:
                # a name on a line of its own, its dates on the next ("July 22-23, 2024 | Washington")
                days = [d for d in dates_in(after.text, reference.get(para.doc_id)) if d.precision == "day" and d.resolved]
                if days:
                    sm.dates, sm.dates_para_id = days[:1], after.para_id
            near = _closest(days, s, e, others) if sm.dates_para_id is None else sm.dates[0]
            sm.dates = [near] if near is not None else []
            sm.period = _closest([d for d in spans if d.resolved and d.precision != "day"], s, e, others)
            sm.location = _place_in(para, e, min(se, e + PLACE_AFTER)) or _place_in(para, *place_in)
            out.append(sm)
    # an acronym in parentheses right after the long form is the same mention: keep the first
    dedup, last = [], None
    for sm in out:
        if last and last.para is sm.para and 0 <= sm.start - last.end <= 2 and sm.series == last.series:
            last.edition = last.edition or sm.edition
            last.dates = last.dates or sm.dates
            last.period = last.period or sm.period
            last.location = last.location or sm.location
            continue
        dedup.append(sm)
        last = sm
    return dedup


PLACE_AFTER = 40  # characters after a series name where "in <place>" says where it was held
SHORT_LINE = 120  # characters: a paragraph this short is a line (a name, a date line), not prose


def _place_in(para: Para, s: int, e: int) -> str | None:
    """The first place written "in <place>" between s and e ("... Dialogue in Washington")."""
    for a, b, label, canonical, _c in para.ents:
        if s <= a < e and label in ("LOC", "GPE") and para.text[max(s, a - 3):a] == "in ":
            return canonical
    return None


def _dates_of(text: str, s: int, e: int, reference: dt.date | None) -> list[DateSpan]:
    spans = dates_in(text[s:e], reference)
    for d in spans:
        d.start, d.end = d.start + s, d.end + s
    return spans


@dataclass
class Round:
    """"The second round of talks", "the inaugural meeting" in an article that names the series: an
    edition, and the coarser date its sentence gives ("The first round was held in August 2023").
    ``before``: said as what came before ("after the inaugural meeting", "building on the first
    round"), so not what the article reports."""

    doc_id: str
    para: Para
    start: int
    end: int
    edition: int
    period: DateSpan | None
    before: bool = False


ROUND_NOUNS = "round|meeting|session|edition|iteration|installment"
# "builds on the first round": what came before ("after the second round" is ambiguous: a
# statement issued after the talks ended)
_PREVIOUS = re.compile(r"\b(?:since|builds?\s+on|building\s+on|built\s+on|succeeds|succeeding)\s+(?:the|its|their)\s*$",
                       re.IGNORECASE)


def rounds(paras: list[Para], lex: Lexicons, docs: set, reference: dict) -> list[Round]:
    """The editions said as "<ordinal> <round noun>" in the documents ``docs`` (those naming the
    series); "the first meeting of <another body>" is that body's."""
    rx = re.compile(rf"\b(?i:(?P<ord>{ordinal_words(lex)}))\s+(?i:{ROUND_NOUNS})\b(?P<of>\s+of\s+(?:the\s+)?[A-Z])?")
    out = []
    for para in paras:
        if para.doc_id not in docs:
            continue
        for m in rx.finditer(para.text):
            if m["of"]:
                continue
            ss, se = _sentence(para, m.start())
            spans = [d for d in _dates_of(para.text, ss, se, reference.get(para.doc_id)) if d.resolved]
            out.append(Round(para.doc_id, para, m.start("ord"), m.end(), lex.ordinals[m["ord"].lower()],
                             _closest(spans, m.start(), m.end(), []),
                             before=bool(_PREVIOUS.search(para.text[ss:m.start()]))))
    return out


# --- 3. editions ----------------------------------------------------------------------------------

@dataclass
class Edition:
    """One event of a subject series: an edition, or (no edition known) a dated meeting."""

    series: str
    edition: int | None
    key: tuple
    dates: Counter = field(default_factory=Counter)   # (first, last) -> mentions stating it
    date_src: dict = field(default_factory=dict)      # (first, last) -> (text, doc_id, para_id)
    periods: list = field(default_factory=list)       # coarser DateSpans said of it
    years: set = field(default_factory=set)
    locations: Counter = field(default_factory=Counter)
    reporting: set = field(default_factory=set)
    referring: set = field(default_factory=set)

    @property
    def span(self) -> tuple[dt.date, dt.date] | None:
        return self.dates.most_common(1)[0][0] if self.dates else None

    def state_dates(self, d: DateSpan, doc_id: str, para_id: str) -> None:
        rng = (d.first, d.last)
        self.dates[rng] += 1
        self.date_src.setdefault(rng, (d.text, doc_id, para_id))

    def fits(self, day: dt.date) -> bool:
        """Every coarser date said of this edition contains ``day`` (and at least one was said)."""
        said = [(p.first, p.last) for p in self.periods] + [(dt.date(y, 1, 1), dt.date(y, 12, 31)) for y in self.years]
        return bool(said) and all(a <= day <= b for a, b in said)

    def allows(self, published: dt.date | None, page: dt.date | None) -> bool:
        """Whether an article published then (or shown on ``page``) can report this edition."""
        span = self.span
        if span is None:
            return True
        if page is not None and span[0] > page + dt.timedelta(days=WINDOW_BEFORE):
            return False
        if published is None:
            return True
        return span[0] - dt.timedelta(days=WINDOW_BEFORE) <= published <= span[1] + dt.timedelta(days=WINDOW_AFTER)

    def order(self) -> tuple:
        span = self.span
        return (self.edition or 0, span[0] if span else dt.date.min)


def build_editions(mentions: list[SeriesMention], found_rounds: list[Round], series_of_doc: dict) -> dict[tuple, Edition]:
    editions: dict[tuple, Edition] = {}

    def edition(series: str, number: int) -> Edition:
        key = (series, number)
        return editions.setdefault(key, Edition(series, number, key))

    for sm in mentions:
        if sm.edition is None:
            continue
        ed = edition(sm.series, sm.edition)
        for d in sm.dates:
            ed.state_dates(d, sm.doc_id, sm.dates_para_id or sm.para.para_id)
        if sm.period is not None:
            ed.periods.append(sm.period)
        if sm.year:
            ed.years.add(sm.year)
    for r in found_rounds:
        ed = edition(series_of_doc[r.doc_id], r.edition)
        if r.period is not None:
            ed.periods.append(r.period)
    # dated mentions without an edition: the edition whose coarser dates contain them, or their own
    dated = defaultdict(list)
    for sm in mentions:
        if sm.edition is None and sm.dates:
            dated[(sm.series, sm.dates[0].first, sm.dates[0].last)].append(sm)
    for (series, first, last), sms in sorted(dated.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        same = [ed for ed in editions.values() if ed.series == series and (first, last) in ed.dates]
        fit = [ed for ed in editions.values() if ed.series == series and not ed.dates and ed.fits(first)]
        if same:
            ed = same[0]
        elif len(fit) == 1:
            ed = fit[0]
        else:
            key = (series, "date", first.isoformat())
            ed = editions.setdefault(key, Edition(series, None, key))
        for sm in sms:
            ed.state_dates(sm.dates[0], sm.doc_id, sm.dates_para_id or sm.para.para_id)
    return editions


def edition_named(sm: SeriesMention, editions: dict, round_of_doc: dict) -> tuple[Edition | None, str]:
    """The edition a mention names, and how it says so (for the evidence)."""
    if sm.edition is not None:
        return editions.get((sm.series, sm.edition)), "edition"
    if sm.dates:
        rng = (sm.dates[0].first, sm.dates[0].last)
        hit = [ed for ed in editions.values() if ed.series == sm.series and rng in ed.dates]
        if hit:
            return hit[0], "dates"
    if sm.year:
        hit = [ed for ed in editions.values() if ed.series == sm.series
               and ((ed.span and ed.span[0].year == sm.year) or (not ed.span and sm.year in ed.years))]
        if len(hit) == 1:
            return hit[0], "year"
    r = round_of_doc.get(sm.doc_id)
    if r is not None and (sm.series, r.edition) in editions:
        return editions[(sm.series, r.edition)], "round"
    return None, ""


# --- 4. the decision ------------------------------------------------------------------------------

@dataclass
class Decision:
    """The outcome: the edition each linked document reports, why, and what else it refers to."""

    event_of: dict = field(default_factory=dict)     # doc_id -> Edition
    evidence: dict = field(default_factory=dict)     # doc_id -> str
    stated: dict = field(default_factory=dict)       # doc_id -> the SeriesMention it was linked by
    names_series: set = field(default_factory=set)   # documents mentioning a subject series


def _quoted(text: str) -> str:
    return "\u201c" + " ".join(text.split()) + "\u201d"


def decide_stated(mentions: list[SeriesMention], editions: dict, found_rounds: list[Round],
                  published: Published) -> Decision:
    """Link each document to the latest edition it names that its dates allow (the others it names
    are background: ``referring``)."""
    out = Decision()
    round_of_doc = {}
    for r in found_rounds:  # the highest round an article names is the one it reports
        if not r.before and (r.doc_id not in round_of_doc or r.edition > round_of_doc[r.doc_id].edition):
            round_of_doc[r.doc_id] = r
    for r in found_rounds:  # "after the inaugural meeting": the article reports the next one
        if r.before and r.doc_id not in round_of_doc:
            round_of_doc[r.doc_id] = Round(r.doc_id, r.para, r.start, r.end, r.edition + 1, None)
    by_doc = defaultdict(list)
    for sm in mentions:
        by_doc[sm.doc_id].append(sm)
        out.names_series.add(sm.doc_id)
    for doc_id, sms in by_doc.items():
        named = []
        for sm in sms:
            ed, how = edition_named(sm, editions, round_of_doc)
            if ed is not None:
                named.append((ed, sm, how))
        ok = [x for x in named if x[0].allows(published.date.get(doc_id), published.page.get(doc_id))]
        for ed, _, _ in named:
            ed.referring.add(doc_id)
        if not ok:
            continue
        ed, sm, how = max(ok, key=lambda x: x[0].order())
        out.event_of[doc_id], out.stated[doc_id] = ed, sm
        ed.reporting.add(doc_id)
        if how == "round":
            r = round_of_doc[doc_id]
            out.evidence[doc_id] = (f"states the previous round: {_quoted(r.para.text[r.start:r.end])}"
                                    if r.period is None and r.edition > 1 and any(
                                        x.before and x.doc_id == doc_id for x in found_rounds)
                                    else f"states the round: {_quoted(r.para.text[r.start:r.end])}")
        elif how == "dates":
            out.evidence[doc_id] = f"states the dates: {_quoted(sm.dates[0].text)}"
        else:
            cue = sm.para.text[sm.cue_start:sm.end] if how == "edition" else f"{sm.year} {sm.para.text[sm.start:sm.end]}"
            out.evidence[doc_id] = f"states the {how}: {_quoted(cue)}" + (
                f"; dates {_quoted(sm.dates[0].text)}" if sm.dates else "")
        if sm.location:
            ed.locations[sm.location] += 1
    series_of_doc = {}
    for sm in mentions:
        series_of_doc.setdefault(sm.doc_id, sm.series)
    for r in found_rounds:  # "the first round was held in ...": the article names that edition too
        ed = editions.get((series_of_doc.get(r.doc_id), r.edition))
        if ed is not None:
            ed.referring.add(r.doc_id)
    for ed in editions.values():
        ed.referring -= ed.reporting
    return out


# --- implicit links -------------------------------------------------------------------------------

def meeting_anchor(paras: list[Para], lex: Lexicons, host_countries: frozenset) -> str | None:
    """The first sentence of a document reporting a meeting held in a host country: a meeting cue
    ("talks", "delegation", "met", "convened", ...) and "in/at/to <place>" naming a place, country or
    organization of that country (and of no other) in one sentence, not in the future tense ("will
    visit"). None if there is none."""
    cue, future = _meeting_rx(lex)
    for para in paras:
        if not para.ents:
            continue
        text = para.text
        for ss, se in para.sents:
            # where it happened: "in Washington", "at the Pentagon", "a visit to the US"
            where = [(a, country or (canonical if label == "GPE" else None)) for a, b, label, canonical, country in para.ents
                     if ss <= a < se and _AT_PLACE.search(text[max(ss, a - 12):a])]
            if not where or any(c not in host_countries for _, c in where if c):
                continue
            sent = text[ss:se]
            m = cue.search(sent)
            if m and not future.search(sent[max(0, m.start() - 40):m.start()]):
                return sent
    return None


_AT_PLACE = re.compile(r"\b(?:in|at|to)\s+(?:the\s+)?$")
_MEETING_RX: dict = {}


def _meeting_rx(lex: Lexicons) -> tuple[re.Pattern, re.Pattern]:
    if id(lex) not in _MEETING_RX:
        words = "|".join(sorted(map(re.escape, lex.meeting_cues), key=len, reverse=True))
        future = "|".join(sorted(map(re.escape, lex.future_cues), key=len, reverse=True))
        _MEETING_RX[id(lex)] = (re.compile(rf"\b(?:{words})\b", re.IGNORECASE),
                                re.compile(rf"\b(?:{future})\b[^.;]*$", re.IGNORECASE))
    return _MEETING_RX[id(lex)]


def link_by_date(candidates: list, decision: Decision, editions: dict, published: Published,
                 anchors: dict) -> None:
    """A document published within exactly one dated edition's window that names the series or
    reports a meeting in the host country reports that edition."""
    dated = [ed for ed in editions.values() if ed.span]
    for doc_id in candidates:
        day = published.date.get(doc_id)
        if doc_id in decision.event_of or day is None:
            continue
        near = [ed for ed in dated if ed.allows(day, None)]
        anchor = anchors.get(doc_id)
        if len(near) != 1 or (anchor is None and doc_id not in decision.names_series):
            continue
        ed = near[0]
        _link(decision, doc_id, ed, f"date: published {day.isoformat()} ({published.source.get(doc_id)}), "
                                    f"within the window of the edition of {ed.span[0].isoformat()}"
              + (f"; reports {_quoted(anchor[:160])}" if anchor else "; names the series"))


def link_by_people(candidates: list, decision: Decision, parts_by_doc: dict, names: dict) -> None:
    """A document whose delegation heads or members take part (in any role) in exactly one edition,
    as the articles linked to it say, reports that edition: one such head, or ``MIN_SHARED_PEOPLE``
    such people. A minister who heads every edition's delegation tells editions apart by none."""
    roles = {"head_of_delegation", "delegation_member"}
    editions_of = defaultdict(set)  # entity -> ids of the editions it takes part in
    by_id = {}
    for doc_id, ed in decision.event_of.items():
        by_id[id(ed)] = ed
        for r in parts_by_doc.get(doc_id, []):
            editions_of[r["entity_id"]].add(id(ed))
    for doc_id in candidates:
        if doc_id in decision.event_of:
            continue
        mine = {(r["entity_id"], r["role"]) for r in parts_by_doc.get(doc_id, []) if r["role"] in roles}
        only = defaultdict(set)  # edition -> (entity, role) of this document found in it alone
        for eid, role in mine:
            if len(editions_of.get(eid, ())) == 1:
                only[next(iter(editions_of[eid]))].add((eid, role))
        fits = [k for k, people in only.items()
                if any(role == "head_of_delegation" for _, role in people) or len({e for e, _ in people}) >= MIN_SHARED_PEOPLE]
        if len(fits) == 1:
            people = sorted({names[e] for e, _ in only[fits[0]]})
            _link(decision, doc_id, by_id[fits[0]],
                  f"delegation heads: {', '.join(people)} take part in a delegation at this edition only"
                  if any(role == "head_of_delegation" for _, role in only[fits[0]]) else
                  f"delegation: {', '.join(people)} take part in a delegation at this edition only")


def _link(decision: Decision, doc_id: str, ed: Edition, evidence: str) -> None:
    decision.event_of[doc_id] = ed
    decision.evidence[doc_id] = evidence
    ed.reporting.add(doc_id)
    ed.referring.discard(doc_id)


_WORD = re.compile(r"[a-z][a-z\-]{3,}")
_STOP = frozenset("""that this with from have were been their they which will would about after also into than
then there these those over such other more most some only both each very what when where while your
said says including through between within against under during""".split())


def content_words(text: str) -> frozenset:
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP)


PAIR_BLOCK = 5_000_000  # probe-target pairs a block of probes may score (at most ~150 MB, ~30 bytes a pair)


class WordSets:
    """Word sets as one sparse 0/1 matrix (row i: set i; 4 bytes a word of a set, not a Python set
    each), made once and compared with several lists of target sets (:meth:`similar`)."""

    def __init__(self, sets):
        import array

        import numpy as np
        from scipy import sparse

        self.vocab: dict[str, int] = {}
        cols, indptr = array.array("i"), array.array("q", [0])
        for words in sets:
            cols.extend(self.vocab.setdefault(w, len(self.vocab)) for w in words)
            indptr.append(len(cols))
        offsets = np.frombuffer(indptr, dtype=np.int64)
        self.sizes = np.diff(offsets).astype(np.float64)
        self.matrix = sparse.csr_matrix((np.ones(len(cols), dtype=np.int32), np.frombuffer(cols, dtype=np.int32),
                                         offsets), shape=(len(offsets) - 1, len(self.vocab)))

    def similar(self, rows, targets: list[frozenset], threshold: float):
        """Yield, for each row of ``rows`` (indexes, in order), the indexes of the ``targets`` whose
        Jaccard similarity with its set is >= ``threshold`` (> 0).

        A sparse join (scipy): the targets are a word-by-target 0/1 matrix; each block of rows (of
        about ``PAIR_BLOCK`` / len(targets) rows) is multiplied by it, which gives every row-target
        pair sharing a word with the number of words shared, and a pair qualifies when
        ``shared / (|row's set| + |target| - shared)`` (Jaccard similarity) reaches the threshold.
        Exact: a pair sharing no word has similarity 0."""
        import numpy as np
        from scipy import sparse

        rows = np.asarray(rows, dtype=np.int64)
        word_of, target_of = [], []
        for j, t in enumerate(targets):
            for w in t:
                if w in self.vocab:  # (a word no row holds is shared with none)
                    word_of.append(self.vocab[w])
                    target_of.append(j)
        sizes = np.fromiter((len(t) for t in targets), dtype=np.float64, count=len(targets))
        by_word = sparse.csr_matrix((np.ones(len(word_of), dtype=np.int32), (word_of, target_of)),
                                    shape=(len(self.vocab), len(targets)))
        per_block = max(1, PAIR_BLOCK // max(1, len(targets)))
        for start in range(0, len(rows), per_block):
            block = rows[start:start + per_block]
            shared = (self.matrix[block] @ by_word).tocsr()
            probe = np.repeat(np.arange(len(block)), np.diff(shared.indptr))
            o = shared.data.astype(np.float64)
            ok = o / (self.sizes[block][probe] + sizes[shared.indices] - o) >= threshold
            hits: list[set[int]] = [set() for _ in block]
            for i, j in zip(probe[ok].tolist(), shared.indices[ok].tolist()):
                hits[i].add(j)
            del shared, probe, o, ok
            yield from hits


MIN_SHARED_PARAGRAPHS = 2
SHARED_PARAGRAPH_MIN_JACCARD = 0.4
_SHARED_WORD = re.compile(r"[a-z]{4,}")


def _shared_words(text: str) -> frozenset:
    return frozenset(w for w in _SHARED_WORD.findall(text.lower()) if w not in _STOP)


class SharedParagraphs:
    """Which paragraphs of the candidates share most of their content words (``_shared_words``)
    with a paragraph of an article linked so far, kept between the linking passes of the events
    stage: the candidates' words are one :class:`WordSets`, made once, and each pass compares them
    only with the paragraphs of the articles linked since the last pass (a pair's similarity does
    not change, so each pair is compared once)."""

    def __init__(self, docs: list, by_doc: dict):
        self.span: dict[str, tuple[int, int]] = {}  # doc -> its rows
        self.sets = WordSets(self._read(docs, by_doc))
        self.target_of: dict[frozenset, int] = {}  # a linked article's paragraph's words -> target
        self.docs_of: list[set] = []               # target -> the linked articles with that paragraph
        self.compared: set = set()                 # the linked articles whose paragraphs are targets
        self.hits: dict[int, set[int]] = {}        # row -> the targets it matches (rows matching some)

    def _read(self, docs, by_doc):
        at = 0
        for d in docs:
            paragraphs = by_doc.get(d, [])
            self.span[d] = (at, at + len(paragraphs))
            at += len(paragraphs)
            yield from (_shared_words(p.text) for p in paragraphs)

    def rows(self, docs: list):
        """The rows of the paragraphs of ``docs``, in order."""
        import numpy as np

        return np.concatenate([np.arange(*self.span[d]) for d in docs] or [np.empty(0, dtype=np.int64)])

    def compare(self, linked, todo: list, by_doc: dict) -> None:
        """Add the paragraphs of the ``linked`` articles not compared yet as targets, and compare the
        rows of ``todo`` (each compared with every earlier target already) with the new ones."""
        first = len(self.target_of)
        for other in linked:
            if other in self.compared:
                continue
            self.compared.add(other)
            for p in by_doc.get(other, []):
                j = self.target_of.setdefault(_shared_words(p.text), len(self.target_of))
                if j == len(self.docs_of):
                    self.docs_of.append(set())
                self.docs_of[j].add(other)
        new = list(self.target_of)[first:]
        if not new:
            return
        rows = self.rows(todo)
        for row, hit in zip(rows.tolist(), self.sets.similar(rows, new, SHARED_PARAGRAPH_MIN_JACCARD)):
            if hit:
                self.hits.setdefault(row, set()).update(first + j for j in hit)

    def shared_with(self, doc_id: str) -> Counter:
        """Linked article -> the paragraphs of ``doc_id`` that match one of its paragraphs."""
        shared = Counter()
        for row in range(*self.span[doc_id]):
            hit = self.hits.get(row)
            if hit:
                shared.update(set().union(*(self.docs_of[j] for j in hit)))
        return shared


def link_by_text(candidates: list, decision: Decision, by_doc: dict, shared: SharedParagraphs | None = None) -> None:
    """Link each still-unlinked candidate to the edition of the linked articles with which it shares
    the most paragraphs (each sharing most of its content words with one of theirs: the same joint
    statement, re-worded): >= ``MIN_SHARED_PARAGRAPHS``, and strictly more than with any other
    edition's article. ``shared``: what the earlier passes compared (made for the candidates)."""
    todo = [d for d in candidates if d not in decision.event_of]
    if not decision.event_of or not todo:
        return
    shared = SharedParagraphs(todo, by_doc) if shared is None else shared
    shared.compare(list(decision.event_of), todo, by_doc)
    event_of = dict(decision.event_of)
    by_id = {id(ed): ed for ed in event_of.values()}
    for doc_id in todo:
        scores = Counter()
        for other, n in shared.shared_with(doc_id).items():
            key = id(event_of[other])
            scores[key] = max(scores[key], n)
        ranked = scores.most_common(2)
        if ranked and ranked[0][1] >= MIN_SHARED_PARAGRAPHS and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
            _link(decision, doc_id, by_id[ranked[0][0]],
                  f"shared text: {ranked[0][1]} paragraphs share most content words with an article "
                  f"reporting this edition (next best: {ranked[1][1] if len(ranked) > 1 else 0})")


def link_by_similarity(candidates: list, decision: Decision, by_doc: dict, published: Published,
                       anchors: dict) -> None:
    """An article that names the series or reports a meeting in the host country, with no date that
    settles it, reports the edition whose coverage its words are clearly closest to: cosine (tf-idf
    over the documents involved) with the mean of the edition's articles at least
    ``SIMILARITY_MIN`` and ``SIMILARITY_MARGIN`` times that of any other edition
    (``SIMILARITY_MARGIN_UNNAMED`` for an article that does not name the series), every edition
    compared having at least ``MIN_COVERAGE`` articles linked by other evidence."""
    todo = [d for d in candidates if d not in decision.event_of
            and (d in decision.names_series or d in anchors)]
    groups = defaultdict(list)
    for doc_id, ed in decision.event_of.items():
        groups[id(ed)].append(doc_id)
    if not todo or len(groups) < 1:
        return
    # term weights over every article in play (linked or candidate), so that a weight does not
    # depend on which of them are still to decide; word counts kept only for the articles compared
    compared = {*todo, *decision.event_of}
    words, df, n = {}, Counter(), 0
    for d in {*candidates, *decision.event_of}:
        counts = Counter(w for p in by_doc.get(d, []) for w in _WORD.findall(p.text.lower()) if w not in _STOP)
        df.update(counts.keys())
        n += 1
        if d in compared:
            words[d] = counts

    def vector(counts: Counter) -> dict:
        v = {w: (1 + math.log(k)) * math.log(n / df[w]) for w, k in counts.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {w: x / norm for w, x in v.items()}

    vectors = {d: vector(c) for d, c in words.items()}
    centroids = {}
    for key, docs in groups.items():
        mean = Counter()
        for d in docs:
            for w, x in vectors[d].items():
                mean[w] += x / len(docs)
        norm = math.sqrt(sum(x * x for x in mean.values())) or 1.0
        centroids[key] = {w: x / norm for w, x in mean.items()}
    by_id = {id(ed): ed for ed in decision.event_of.values()}
    for doc_id in todo:
        v = vectors[doc_id]
        allowed = [k for k in centroids if by_id[k].allows(published.date.get(doc_id), published.page.get(doc_id))]
        if any(len(groups[k]) < MIN_COVERAGE for k in allowed):
            continue  # too little coverage of an edition to tell which one is closer
        scores = sorted(((sum(x * centroids[k].get(w, 0.0) for w, x in v.items()), k) for k in allowed), reverse=True)
        if not scores or scores[0][0] < SIMILARITY_MIN:
            continue
        runner_up = scores[1][0] if len(scores) > 1 else 0.0
        margin = SIMILARITY_MARGIN if doc_id in decision.names_series else SIMILARITY_MARGIN_UNNAMED
        if scores[0][0] >= margin * runner_up:
            ed = by_id[scores[0][1]]
            why = "names the series" if doc_id in decision.names_series else f"reports {_quoted(anchors[doc_id][:160])}"
            _link(decision, doc_id, ed, f"similar coverage: {why}; cosine {scores[0][0]:.2f} with this edition's "
                                        f"articles (next best {runner_up:.2f})")
