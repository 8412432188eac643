"""Events, participants and the article -> event decision.

Nothing here knows an article's facts: series names, event nouns, edition words and participation
cues are data (``lexicons/events.yaml``, ``lexicons/roles.yaml``); editions, dates, places and people
are read from the text.

1. **Editions of a subject series** (``subject: true`` in the lexicon). In each document the first
   mention of such a series is what the article reports. Its edition comes from an edition word right
   before the name ("the second ...", "the inaugural ...", "the first ... (JSCD)"), its dates from an
   absolute date in the same sentence ("on July 22 and 23, 2024"), its place from "in <place>" there.
   Later mentions with an edition word ("the inaugural ... last summer") are references to another
   edition. One event per (series, edition); dates and place are the most attested values.
2. **Documents that do not say which edition** are linked by evidence, in this order: the person
   heading a delegation heads one in exactly one known edition ("delegation heads"); or at least
   ``MIN_SHARED_PARAGRAPHS`` of its paragraphs share most of their content words with paragraphs of
   articles already linked to exactly one edition (the same joint statement, re-worded: "shared
   text"). The evidence is recorded in ``documents.event_evidence``. A document that neither mentions
   a subject series nor gets linked is not relevant.
3. **Reference date** of a document: its published date, else the dates of the event it reports.
   Relative dates ("on Tuesday", "in April this year", "last summer", "the following day") are resolved
   against it (:mod:`flows.dates`), or left null.
4. **Referenced events** (in relevant documents only): other series with a date in the same sentence
   ("the July 2021 US-Iraq Strategic Dialogue", "the first meeting of the ... Higher Military
   Commission" + "In January"), named agreements with a date ("the 2008 ... Strategic Framework
   Agreement"), and visits ("<person> visited <place> in <date>", "the visit of <person> to <place> in
   <date>"). No date, no event.
5. **Participants**: role cues of ``lexicons/roles.yaml`` in sentences of documents linked to an edition;
   one row per (event, entity) with its strongest role.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pandas as pd

from flows import frames
from flows.dates import DateSpan, dates_in
from flows.entities import Para, Resolution
from flows.nlp import Lexicons, load_lexicons
from flows.text import stable_id

MIN_SHARED_PARAGRAPHS = 2
SHARED_PARAGRAPH_MIN_JACCARD = 0.4
ROLE_RANK = {"head_of_delegation": 0, "delegation_member": 1, "organizer": 2, "chair": 3, "visitor": 4, "met_with": 5}
_WORD = re.compile(r"[a-z]{4,}")
_STOP = frozenset("""that this with from have were been their they which will would about after also into than
then there these those over such other more most some only both each very what when where while your
said says including through between within against under during""".split())


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
    dates: list = field(default_factory=list)   # absolute day-precision DateSpans in the sentence
    location: str | None = None


# --- helpers --------------------------------------------------------------------------------------

def _sentence(para: Para, pos: int) -> tuple[int, int]:
    for s, e in para.sents:
        if s <= pos < e:
            return s, e
    return 0, len(para.text)


def _ordinal_rx(lex: Lexicons) -> re.Pattern:
    words = "|".join(sorted(map(re.escape, lex.ordinals), key=len, reverse=True))
    return re.compile(rf"\b(?i:(?P<ord>{words}))\b(?P<between>(?:\s+[A-Z][\w.'\u2019\-]*)*)\s*\(?\s*$")


def _meeting_ordinal_rx(lex: Lexicons) -> re.Pattern:
    words = "|".join(sorted(map(re.escape, lex.ordinals), key=len, reverse=True))
    meet = "|".join(map(re.escape, lex.meeting_words))
    return re.compile(rf"\b(?i:(?P<ord>{words}))\s+(?:{meet})\s+of\s+(?:the\s+)?$")


_COUNTRY_WORDS: dict = {}


def _country_words(lex: Lexicons) -> tuple[re.Pattern, dict]:
    """A regex of every country name and demonym, and word -> country (built once per lexicon)."""
    if id(lex) in _COUNTRY_WORDS:
        return _COUNTRY_WORDS[id(lex)]
    words = {}
    for name, spec in lex.countries.items():
        for v in [name, *spec.get("variants", [])]:
            words[v] = name
    for d, c in lex.demonyms.items():
        if c:
            words[d] = c
    rx = re.compile(r"(?<![\w.])(" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + r")(?![\w-])")
    _COUNTRY_WORDS[id(lex)] = (rx, words)
    return rx, words


def _content_words(text: str) -> frozenset:
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP)


def _jaccard(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


# --- 1. series mentions ---------------------------------------------------------------------------

def series_mentions(paras: list[Para], lex: Lexicons) -> list[SeriesMention]:
    """Mentions of subject series with edition, absolute dates and place from their sentence."""
    ord_rx = _ordinal_rx(lex)
    out = []
    for para in paras:
        for s, e, series, _ in para.series:
            if not lex.series.get(series, {}).get("subject"):
                continue
            ss, se = _sentence(para, s)
            m = ord_rx.search(para.text[ss:s])
            edition = lex.ordinals[m["ord"].lower()] if m else None
            sm = SeriesMention(para.doc_id, para, s, e, series, edition, (ss, se), ss + m.start() if m else s)
            sent_text = para.text[ss:se]
            sm.dates = [d for d in dates_in(sent_text) if d.precision == "day" and d.method == "absolute"]
            for d in sm.dates:
                d.start, d.end = d.start + ss, d.end + ss
            for a, b, label, canonical, _c in para.ents:
                if e <= a < se and label in ("LOC", "GPE") and para.text[max(ss, a - 3):a] == "in ":
                    sm.location = canonical
                    break
            out.append(sm)
    # an acronym in parentheses right after the long form is the same mention: keep the first
    dedup, last = [], None
    for sm in out:
        if last and last.para is sm.para and 0 <= sm.start - last.end <= 2 and sm.series == last.series:
            last.edition = last.edition or sm.edition
            continue
        dedup.append(sm)
        last = sm
    return dedup


# --- participants ---------------------------------------------------------------------------------

def _participant_cues(lex: Lexicons):
    r = lex.roles
    c = lambda key: [re.compile(p, re.IGNORECASE) for p in r.get(key, [])]  # noqa: E731
    return c("head_after"), c("head_before"), c("member_after"), c("met_after"), c("organizer_before")


def doc_participants(paras: list[Para], mentions_by_para: dict, res: Resolution, lex: Lexicons,
                     subject_spans: dict, skip_sentences: set) -> list[dict]:
    """Participation of entities in the event a document reports, from the role cues of its sentences."""
    head_after, head_before, member_after, met_after, organizer_before = _participant_cues(lex)
    crx, cwords = _country_words(lex)
    out = []

    def side_of(text: str, deleg_start: int, deleg_end: int) -> str | None:
        after = re.match(r"\s*from\s+(?:the\s+)?", text[deleg_end:])
        if after:
            m = crx.match(text, deleg_end + after.end())
            if m:
                return cwords[m.group(1)]
        before = list(crx.finditer(text[max(0, deleg_start - 40):deleg_start]))
        return cwords[before[-1].group(1)] if before else None

    def add(para, ment, role, side):
        s, e, eid = ment
        etype = res.info[eid]["type"]
        if etype == "location":
            return
        out.append({"entity_id": eid, "role": role, "side": side or res.info[eid]["country"],
                    "doc_id": para.doc_id, "para_id": para.para_id, "char_start": s, "char_end": e})

    for para in paras:
        ments = mentions_by_para.get(para.para_id, [])
        if not ments:
            continue
        text = para.text
        for ss, se in para.sents:
            if (para.para_id, ss) in skip_sentences:
                continue
            inside = [m for m in ments if ss <= m[0] < se]
            people_orgs = [m for m in inside if res.info[m[2]]["type"] != "location"]
            if not people_orgs:
                continue
            sent = text[ss:se]
            heads = set()
            for rx in head_after:
                for m in rx.finditer(sent):
                    a = ss + m.end()
                    nxt = [x for x in people_orgs if a <= x[0] <= a + 60]
                    if nxt:
                        deleg = ss + m.start()
                        add(para, nxt[0], "head_of_delegation", side_of(text, deleg, deleg + len("delegation")))
                        heads.add(nxt[0][2])
            for rx in head_before:
                for m in rx.finditer(sent):
                    b = ss + m.start()
                    prev = [x for x in people_orgs if b - 40 <= x[1] <= b]
                    if prev:
                        d_end = ss + m.end()
                        add(para, prev[-1], "head_of_delegation", side_of(text, d_end - len("delegation"), d_end))
                        heads.add(prev[-1][2])
            for rx in member_after:
                for m in rx.finditer(sent):
                    a = ss + m.end()
                    deleg = text.rfind("delegation", ss, a)
                    side = side_of(text, deleg, deleg + len("delegation")) if deleg >= 0 else None
                    for x in people_orgs:
                        if x[0] >= a and x[2] not in heads:
                            add(para, x, "delegation_member", side)
            for rx in met_after:
                for m in rx.finditer(sent):
                    a, b = ss + m.end(), ss + m.start()
                    for x in people_orgs:
                        if x[0] >= a and x[2] not in heads:
                            add(para, x, "met_with", None)
                    prev = [x for x in people_orgs if b - 80 <= x[1] <= b and res.info[x[2]]["type"] == "person"]
                    if prev:
                        add(para, prev[-1], "met_with", None)
            for rx in organizer_before:
                for m in rx.finditer(sent):
                    a = ss + m.end()
                    if not any(abs(s0 - a) <= 40 and s0 >= ss + m.start() for s0 in subject_spans.get(para.para_id, [])):
                        continue
                    for x in people_orgs:
                        if x[1] <= ss + m.start() and res.info[x[2]]["type"] == "organization":
                            add(para, x, "organizer", None)
    return out


# --- referenced events ----------------------------------------------------------------------------

def _agreement_rx(lex: Lexicons) -> re.Pattern:
    nouns = "|".join(sorted(map(re.escape, lex.event_nouns.get("agreement", [])), key=len, reverse=True))
    return re.compile(rf"(?:(?P<year>(?:19|20)\d{{2}})\s+)?(?P<name>(?:[A-Z][\w.'\u2019\-]*\s+){{1,7}}(?:{nouns}))\b")


def countries_said(text: str, lex: Lexicons | None = None) -> frozenset:
    """The countries a text names, by country name, variant or demonym."""
    crx, cwords = _country_words(lex or load_lexicons())
    return frozenset(cwords[x.group(1)] for x in crx.finditer(text))


def _name_key(name: str, crx: re.Pattern) -> str:
    words = [w for w in name.split() if w.lower() != "the"]
    words = [w for w in words if not (("-" in w) and all(crx.fullmatch(p) for p in w.split("-") if p))]
    return " ".join(w.lower() for w in words)


def _nearest(dates: list[DateSpan], s: int, e: int, max_gap: int = 80) -> DateSpan | None:
    best, gap = None, max_gap + 1
    for d in dates:
        if not d.resolved:
            continue
        g = s - d.end if d.end <= s else d.start - e if d.start >= e else 0
        if 0 <= g < gap:
            best, gap = d, g
    return best


def referenced_events(paras: list[Para], dates_by_para: dict, mentions_by_para: dict, res: Resolution,
                      lex: Lexicons) -> tuple[list[dict], set]:
    """Dated events a document refers to; also the sentences they were found in."""
    crx, _ = _country_words(lex)
    agree_rx = _agreement_rx(lex)
    meet_rx = _meeting_ordinal_rx(lex)
    visit_rx = re.compile(r"\b(?:(?P<visited>visited|toured)\s+(?:both\s+)?|(?P<visit>visit|trip)\s+(?:of|by)\s+(?P<who>.{3,80}?)\s+to\s+)",
                          re.IGNORECASE)
    found, sentences = [], set()
    for para in paras:
        dates = dates_by_para.get(para.para_id, [])
        ments = mentions_by_para.get(para.para_id, [])
        prev_end = None
        for s, e, series, text in para.series:
            after_long_form = prev_end is not None and para.text[prev_end:s].strip() == "("
            prev_end = e
            if lex.series.get(series, {}).get("subject") or after_long_form:
                continue
            ss, se = _sentence(para, s)
            m = meet_rx.search(para.text[ss:s])
            # a date right next to the name, or anywhere in the sentence of "the first meeting of <name>"
            d = _nearest([x for x in dates if ss <= x.start < se], s, e, max_gap=se - ss if m else 40)
            if d is None:
                continue
            edition = lex.ordinals[m["ord"].lower()] if m else None
            spec = lex.series[series]
            name = f"Meeting of the {series}" if m else series
            who = None
            chair = re.search(r"\b(?:presided\s+over|chaired)\s+(?:the\s+)?", para.text[ss:s])
            if chair:
                prev = [x for x in ments if ss <= x[0] and x[1] <= ss + chair.start()
                        and res.info[x[2]]["type"] == "person"]
                who = (prev[-1][2], para, prev[-1][0], "chair") if prev else None
            found.append({"key": ("series", series, edition if edition else _iso(d.first)), "name": name,
                          "event_type": spec.get("event_type", "meeting"), "series": series, "edition": edition,
                          "date": d, "location": None, "para": para, "start": s, "end": e, "who": who})
            sentences.add((para.para_id, ss))
        for m in agree_rx.finditer(para.text):
            s, e = m.start("name"), m.end("name")
            if any(a < e and s < b for a, b, *_ in para.series):
                continue
            if m["year"]:
                d = next((x for x in dates if x.start == m.start("year")), None)
            else:
                d = _nearest(dates, s, e, max_gap=60)
            if d is None:
                continue
            name = re.sub(r"^The\s+", "", m["name"])
            found.append({"key": ("agreement", _name_key(name, crx)), "name": name, "event_type": "agreement",
                          "series": None, "edition": None, "date": d, "location": None, "para": para,
                          "start": s, "end": e, "who": None})
            sentences.add((para.para_id, _sentence(para, s)[0]))
        for m in visit_rx.finditer(para.text):
            ss, se = _sentence(para, m.start())
            after = [x for x in dates if x.start >= m.end() and x.end <= se and x.resolved]
            if not after:
                continue
            d = after[0]
            places = [(a, canonical) for a, b, label, canonical, _c in para.ents
                      if label in ("LOC", "GPE") and m.end() <= a < d.start]
            if not places:
                continue
            who_id = None
            if m["visited"]:
                prev = [x for x in ments if ss <= x[0] and x[1] <= m.start() and res.info[x[2]]["type"] == "person"]
                if not prev:
                    continue
                who_id = prev[-1][2]
                who = res.info[who_id]["name"]
            else:
                inner = [x for x in ments if m.start("who") <= x[0] < m.end("who") and res.info[x[2]]["type"] == "person"]
                who_id = inner[0][2] if inner else None
                who = res.info[who_id]["name"] if who_id else re.sub(r"^the\s+", "", m["who"].strip(" ,"))
            where = " and ".join(dict.fromkeys(c for _, c in places))
            found.append({"key": ("visit", who.lower(), where.lower(), _iso(d.first)), "name": f"Visit of {who} to {where}",
                          "event_type": "visit", "series": None, "edition": None, "date": d,
                          "location": places[0][1], "para": para, "start": m.start(), "end": d.end,
                          "who": (who_id, para, m.start(), "visitor")})
            sentences.add((para.para_id, ss))
    return found, sentences


# --- the stage ------------------------------------------------------------------------------------

def _event_id(*parts) -> str:
    return stable_id("v", *parts)


def build_events(paras: list[Para], res: Resolution, documents: pd.DataFrame,
                 paragraphs: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``events``, ``participants`` and the documents with event_id/relevant/evidence/dates filled."""
    lex = load_lexicons()
    by_doc: dict[str, list[Para]] = defaultdict(list)
    for p in paras:
        by_doc[p.doc_id].append(p)
    mentions_by_para = defaultdict(list)
    m = res.mentions
    for pid, s, e, eid in frames.iter_rows(m["para_id"], m["char_start"], m["char_end"], m["entity_id"]):
        mentions_by_para[pid].append((int(s), int(e), eid))
    for v in mentions_by_para.values():
        v.sort()
    docs = documents.copy()
    published = {d: (dt.date.fromisoformat(str(v)[:10]) if isinstance(v, str) and v else None)
                 for d, v in zip(docs["doc_id"], docs["published_date"])}
    if paragraphs is not None:
        for doc_id, value in published_in_text(paragraphs).items():
            if published.get(doc_id) is None:
                published[doc_id] = value

    # 1. subject-series mentions and the editions they state
    mentions = series_mentions(paras, lex)
    own: dict[str, SeriesMention] = {}
    refs: dict[str, list[SeriesMention]] = defaultdict(list)
    for sm in mentions:
        if sm.doc_id not in own:
            own[sm.doc_id] = sm
        else:
            refs[sm.doc_id].append(sm)
    events: dict[tuple, dict] = {}

    def event(series: str, edition: int | None, first: dt.date | None = None) -> dict:
        key = (series, edition) if edition is not None else (series, "date", _iso(first))
        if key not in events:
            events[key] = {"key": key, "series": series, "edition": edition, "dates": Counter(), "date_src": {},
                           "locations": Counter(), "reporting": set(), "referring": set(), "evidence": None}
        return events[key]

    doc_event: dict[str, dict] = {}
    evidence: dict[str, str] = {}
    for doc_id, sm in own.items():
        rng = (sm.dates[0].first, sm.dates[-1].last) if sm.dates else None
        if sm.edition is None and rng:
            match = [ev for ev in events.values() if ev["series"] == sm.series and rng in ev["dates"]]
            ev = match[0] if len(match) == 1 else None
            if ev is None:
                continue  # decided after every stated edition is known (below)
        elif sm.edition is None:
            continue
        else:
            ev = event(sm.series, sm.edition)
        _report(ev, doc_id, sm, rng)
        doc_event[doc_id] = ev
        cue = sm.para.text[sm.cue_start:sm.end]
        evidence[doc_id] = f"states the edition: \u201c{cue.strip()}\u201d" + (
            f"; dates \u201c{sm.dates[0].text}\u201d" if sm.dates else "")
    for doc_id, sm in own.items():
        if doc_id in doc_event or not sm.dates:
            continue
        rng = (sm.dates[0].first, sm.dates[-1].last)
        match = [ev for ev in events.values() if ev["series"] == sm.series and rng in ev["dates"]]
        ev = match[0] if len(match) == 1 else event(sm.series, None, rng[0])
        _report(ev, doc_id, sm, rng)
        doc_event[doc_id] = ev
        evidence[doc_id] = f"states the dates: \u201c{sm.dates[0].text}\u201d"
    for doc_id, lst in refs.items():
        for sm in lst:
            if sm.edition is not None:
                ev = event(sm.series, sm.edition)
                if doc_event.get(doc_id) is not ev:
                    ev["referring"].add(doc_id)

    # 2. documents that do not say which edition
    subject_spans = defaultdict(list)
    for sm in mentions:
        subject_spans[sm.para.para_id].append(sm.start)
    candidates = []
    for doc_id, ps in by_doc.items():
        if doc_id in doc_event:
            continue
        if doc_id in own:
            candidates.append(doc_id)
            continue
        said = set().union(*(p.countries if p.countries is not None else countries_said(p.text, lex) for p in ps))
        if lex.subject_countries and set(lex.subject_countries) <= said:
            candidates.append(doc_id)
    parts_by_doc = {}
    for doc_id in set(doc_event) | set(candidates):
        parts_by_doc[doc_id] = doc_participants(by_doc[doc_id], mentions_by_para, res, lex, subject_spans, set())
    _link_by_heads(candidates, doc_event, evidence, parts_by_doc, res)
    _link_by_text(candidates, doc_event, evidence, by_doc)
    for doc_id in candidates:
        if doc_id in doc_event:
            ev = doc_event[doc_id]
            ev["reporting"].add(doc_id)
            if doc_id in own:
                _report(ev, doc_id, own[doc_id], None)

    # 3. reference dates and every date of the relevant documents
    final = {}
    for ev in events.values():
        final[ev["key"]] = _finalise(ev)
    relevant = set(doc_event) | set(own)
    reference, ref_is_event = {}, {}
    for doc_id in relevant:
        ev = doc_event.get(doc_id)
        if published.get(doc_id):
            reference[doc_id], ref_is_event[doc_id] = published[doc_id], False
        elif ev is not None and final[ev["key"]]["end_date"]:
            reference[doc_id], ref_is_event[doc_id] = final[ev["key"]]["end_date"], True
        else:
            reference[doc_id], ref_is_event[doc_id] = None, False
    dates_by_para = {}
    for doc_id in relevant:
        for p in by_doc[doc_id]:
            dates_by_para[p.para_id] = dates_in(p.text, reference[doc_id], ref_is_event[doc_id])

    # 4. referenced events
    ref_rows, ref_sentences = [], set()
    for doc_id in sorted(relevant):
        found, sents = referenced_events(by_doc[doc_id], dates_by_para, mentions_by_para, res, lex)
        ref_rows.extend(found)
        ref_sentences |= sents
    ref_events = _merge_referenced(ref_rows)

    # 5. participants of the reported editions (sentences about another event excluded)
    participants = []
    for doc_id, ev in doc_event.items():
        eid = final[ev["key"]]["event_id"]
        for row in doc_participants(by_doc[doc_id], mentions_by_para, res, lex, subject_spans, ref_sentences):
            participants.append({**row, "event_id": eid})
    for rev in ref_events:
        for who_id, para, pos, role in rev.pop("visitors"):
            if who_id:
                x = min((x for x in mentions_by_para[para.para_id] if x[2] == who_id), key=lambda x: abs(x[0] - pos))
                participants.append({"entity_id": who_id, "role": role, "side": res.info[who_id]["country"],
                                     "doc_id": para.doc_id, "para_id": para.para_id, "char_start": x[0],
                                     "char_end": x[1], "event_id": rev["event_id"]})
    events_df = _events_table(final, ref_events)
    participants_df = _participants_table(participants, res)

    docs["event_id"] = docs["doc_id"].map(lambda d: final[doc_event[d]["key"]]["event_id"] if d in doc_event else None)
    docs["relevant"] = docs["doc_id"].isin(relevant)
    docs["event_evidence"] = docs["doc_id"].map(lambda d: evidence.get(d) or (
        "mentions the series but states no edition, dates or shared evidence" if d in own else None))
    docs["published_date"] = docs["doc_id"].map(lambda d: _iso(published.get(d)))
    docs["reference_date"] = docs["doc_id"].map(lambda d: _iso(reference.get(d)))
    return events_df, participants_df, docs


def _report(ev: dict, doc_id: str, sm: SeriesMention, rng) -> None:
    ev["reporting"].add(doc_id)
    if rng:
        ev["dates"][rng] += 1
        ev["date_src"].setdefault(rng, (sm.dates[0].text, doc_id, sm.para.para_id))
    if sm.location:
        ev["locations"][sm.location] += 1


def _finalise(ev: dict) -> dict:
    rng = ev["dates"].most_common(1)[0][0] if ev["dates"] else (None, None)
    loc = ev["locations"].most_common(1)[0][0] if ev["locations"] else None
    src = ev["date_src"].get(rng) if rng[0] else None
    edition = ev["edition"]
    key_part = edition if edition is not None else f"date:{ev['key'][2]}"
    year = f" {rng[0].year}" if rng[0] else ""
    return {
        "event_id": _event_id("series", ev["series"], key_part),
        "name": f"{ev['series']}{year}" if rng[0] or edition is None else f"{ev['series']}, edition {edition}",
        "event_type": load_lexicons().series[ev["series"]].get("event_type", "meeting"),
        "series": ev["series"], "edition": edition, "start_date": rng[0], "end_date": rng[1],
        "date_precision": "day" if rng[0] else None,
        "date_evidence": f"stated: \u201c{src[0]}\u201d" if src else None,
        "location": loc, "n_documents": len(ev["reporting"]),
        "n_referring": len(ev["reporting"] | ev["referring"]),
        "source_doc_id": src[1] if src else None, "source_para_id": src[2] if src else None,
    }


def _link_by_heads(candidates, doc_event, evidence, parts_by_doc, res) -> None:
    heads_of = defaultdict(set)  # entity -> events (ids) it heads a delegation at
    for doc_id, ev in doc_event.items():
        for r in parts_by_doc.get(doc_id, []):
            if r["role"] == "head_of_delegation":
                heads_of[r["entity_id"]].add(id(ev))
    ev_by_id = {id(ev): ev for ev in doc_event.values()}
    for doc_id in candidates:
        if doc_id in doc_event:
            continue
        heads = {r["entity_id"] for r in parts_by_doc.get(doc_id, []) if r["role"] == "head_of_delegation"}
        unique = {next(iter(heads_of[h])) for h in heads if len(heads_of.get(h, ())) == 1}
        if len(unique) == 1:
            ev = ev_by_id[unique.pop()]
            doc_event[doc_id] = ev
            names = sorted(res.info[h]["name"] for h in heads if len(heads_of.get(h, ())) == 1)
            evidence[doc_id] = (f"delegation heads: {', '.join(names)} heads a delegation in "
                                f"this edition only")


PAIR_BLOCK = 5_000_000  # probe-target pairs a block of probes may score (at most ~150 MB, ~30 bytes a pair)


def iter_similar_sets(probes, targets: list[frozenset], threshold: float):
    """Yield, for each probe of the iterable ``probes`` in turn, the indexes of the targets whose
    Jaccard similarity with it is >= ``threshold`` (> 0).

    A sparse join (scipy): the targets are a word-by-target 0/1 matrix; each block of probes (a
    probe-by-word matrix, of about ``PAIR_BLOCK`` / len(targets) probes) is multiplied by it, which
    gives every probe-target pair sharing a word with the number of words shared, and a pair
    qualifies when ``shared / (|probe| + |target| - shared)`` (the division :func:`_jaccard` does)
    reaches the threshold. Exact: a pair sharing no word has similarity 0. Probes are read a block
    at a time, never all held (at 100k articles they are most of a corpus' word sets). (A prefix-
    filtered join in Python, compared pair by pair, took 27 s at 100k articles; this takes 4.)
    """
    import itertools

    import numpy as np
    from scipy import sparse

    vocab: dict[str, int] = {}
    rows, cols = [], []
    for j, t in enumerate(targets):
        for w in t:
            rows.append(j)
            cols.append(vocab.setdefault(w, len(vocab)))
    sizes = np.fromiter((len(t) for t in targets), dtype=np.float64, count=len(targets))
    by_word = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (cols, rows)),
                                shape=(len(vocab), len(targets)))
    del rows, cols
    per_block = max(1, PAIR_BLOCK // max(1, len(targets)))
    remaining = iter(probes)
    while block := list(itertools.islice(remaining, per_block)):
        words: list[int] = []
        indptr = np.zeros(len(block) + 1, dtype=np.int64)
        for i, s in enumerate(block):
            words.extend(vocab[w] for w in s if w in vocab)
            indptr[i + 1] = len(words)
        probe_words = sparse.csr_matrix((np.ones(len(words), dtype=np.int32), np.asarray(words, dtype=np.int64),
                                         indptr), shape=(len(block), len(vocab)))
        shared = (probe_words @ by_word).tocsr()
        probe = np.repeat(np.arange(len(block)), np.diff(shared.indptr))
        n = np.fromiter((len(s) for s in block), dtype=np.float64, count=len(block))
        o = shared.data.astype(np.float64)
        ok = o / (n[probe] + sizes[shared.indices] - o) >= threshold
        hits: list[set[int]] = [set() for _ in block]
        for i, j in zip(probe[ok].tolist(), shared.indices[ok].tolist()):
            hits[i].add(j)
        del shared, probe, o, ok
        yield from hits


def _link_by_text(candidates, doc_event, evidence, by_doc) -> None:
    """Link each still-unlinked candidate to the edition of the linked (non-candidate) articles with
    which it shares the most paragraphs (>= MIN_SHARED_PARAGRAPHS, and strictly more than with any
    other edition's article)."""
    others = [d for d in doc_event if d not in candidates]
    todo = [d for d in candidates if d not in doc_event]
    if not others or not todo:
        return
    target_of: dict[frozenset, int] = {}
    docs_of: list[set] = []
    for other in others:
        for p in by_doc.get(other, []):
            j = target_of.setdefault(_content_words(p.text), len(target_of))
            if j == len(docs_of):
                docs_of.append(set())
            docs_of[j].add(other)
    # the candidates' paragraphs, one at a time and in order: their word sets are never all held
    probes = (_content_words(p.text) for d in todo for p in by_doc.get(d, []))
    matches = iter_similar_sets(probes, list(target_of), SHARED_PARAGRAPH_MIN_JACCARD)
    event_of = {other: doc_event[other] for other in others}
    for doc_id in todo:
        shared = Counter()  # other article -> paragraphs of doc_id that match one of its paragraphs
        for _ in by_doc.get(doc_id, []):
            hit = next(matches)
            shared.update(set().union(*(docs_of[j] for j in hit)) if hit else ())
        scores = Counter()
        for other, n in shared.items():
            key = id(event_of[other])
            scores[key] = max(scores[key], n)
        ranked = scores.most_common(2)
        if ranked and ranked[0][1] >= MIN_SHARED_PARAGRAPHS and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
            ev = next(e for e in doc_event.values() if id(e) == ranked[0][0])
            doc_event[doc_id] = ev
            evidence[doc_id] = (f"shared text: {ranked[0][1]} paragraphs share most content words with an article "
                                f"stating this edition (next best: {ranked[1][1] if len(ranked) > 1 else 0})")


def _merge_referenced(rows: list[dict]) -> list[dict]:
    groups = defaultdict(list)
    for r in rows:
        groups[r["key"]].append(r)
    out = []
    for key, grp in groups.items():
        # one date per event: the most attested period (by documents), then the earliest stated
        votes = Counter()
        for r in grp:
            votes[(r["date"].first, r["date"].last, r["date"].precision)] += 1
        (first, last, precision), _ = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0][0]))[0]
        src = next(r for r in grp if (r["date"].first, r["date"].last) == (first, last))
        ev_key = "|".join(str(k) for k in key)
        out.append({
            "event_id": _event_id("ref", ev_key), "name": src["name"], "event_type": src["event_type"],
            "series": src["series"], "edition": src["edition"], "start_date": first, "end_date": last,
            "date_precision": precision,
            "date_evidence": f"{'stated' if src['date'].method == 'absolute' else 'resolved against the reference date'}: "
                             f"\u201c{src['date'].text}\u201d",
            "location": src["location"], "n_documents": 0,
            "n_referring": len({r["para"].doc_id for r in grp}),
            "source_doc_id": src["para"].doc_id, "source_para_id": src["para"].para_id,
            "visitors": [r["who"] for r in grp if r["who"]][:1],
        })
    return out


def _events_table(final: dict, ref_events: list[dict]) -> pd.DataFrame:
    from schemas import conform, empty_frame

    rows = list(final.values()) + ref_events
    if not rows:
        return empty_frame("events")
    df = pd.DataFrame(rows)
    for c in ("start_date", "end_date"):
        df[c] = df[c].map(_iso)
    return conform("events", df.drop_duplicates("event_id").sort_values("event_id"))


def _participants_table(rows: list[dict], res: Resolution) -> pd.DataFrame:
    from schemas import conform, empty_frame

    if not rows:
        return empty_frame("participants")
    df = pd.DataFrame(rows)
    df["rank"] = df["role"].map(ROLE_RANK)
    df = df.sort_values(["event_id", "entity_id", "rank", "doc_id", "para_id", "char_start"])
    best_role = df.groupby(["event_id", "entity_id"])["rank"].transform("min")
    support = df[df["rank"] == best_role]
    n_docs = support.groupby(["event_id", "entity_id"])["doc_id"].nunique()
    # a side stated in the text beats the entity's country
    first = support.drop_duplicates(["event_id", "entity_id"]).copy()
    stated = support.dropna(subset=["side"]).groupby(["event_id", "entity_id"])["side"].agg(
        lambda s: s.value_counts().index[0])
    first["side"] = [stated.get((e, i), s) for e, i, s in zip(first["event_id"], first["entity_id"], first["side"])]
    first["n_documents"] = [int(n_docs[(e, i)]) for e, i in zip(first["event_id"], first["entity_id"])]
    first["title"] = first["entity_id"].map(lambda i: res.info[i]["title"])
    first["participant_id"] = [stable_id("r", e, i) for e, i in zip(first["event_id"], first["entity_id"])]
    return conform("participants", first.drop(columns=["rank"]).sort_values(["event_id", "role", "entity_id"]))


_PUBLISHED = re.compile(
    r"^(?:(?:published|posted|updated|date)\s*(?:on)?\s*:?\s*)?(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s+)?"
    r"(?P<date>.+?\b(?:19|20)\d{2})(?:\s*[-,|]?\s*\d{1,2}:\d{2}.*)?$",
    re.IGNORECASE)


MAX_DATE_LINE = 60  # characters: a longer paragraph is not a line giving the publication date


def published_in_text(paragraphs: pd.DataFrame, first_n: int = 6) -> dict:
    """doc_id -> date for documents whose first paragraphs include a line that is only a date
    ("July 24, 2024", "Friday, January 4, 2019", "Published: 24 July 2024 10:03")."""
    from flows.dates import find_dates, resolve_dates

    out = {}
    short = (paragraphs["text"].str.len() <= MAX_DATE_LINE).to_numpy(dtype=bool, na_value=False)
    if "position" in paragraphs.columns:
        short = short & (paragraphs["position"] < first_n).to_numpy(dtype=bool, na_value=False)
    head = paragraphs.loc[short, ["doc_id", "text"]]  # (only these rows' text is copied)
    for doc_id, text in frames.iter_rows(head["doc_id"], head["text"]):
        if doc_id in out:
            continue
        m = _PUBLISHED.match(text.strip())
        if not m:
            continue
        found = [d for d in find_dates(text) if d.kind == "day"]
        if len(found) != 1:
            continue
        spans = [d for d in resolve_dates(text, found) if d.resolved]
        if len(spans) == 1 and len(m["date"]) <= len(spans[0].text) + 2:
            out[doc_id] = spans[0].first
    return out
