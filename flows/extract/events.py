"""Events, participants and the article -> event decision.

Nothing here knows an article's facts: series names, event nouns, edition words and participation
cues are data (``lexicons/events.yaml``, ``lexicons/roles.yaml``); editions, dates, places and people
are read from the text.

1. **Editions of a subject series** (``subject: true`` in the lexicon) and which one each article
   reports: :mod:`flows.extract.editions` (publication dates, series mentions, editions, the decision and its
   evidence, recorded in ``documents.event_evidence``). A document that neither mentions a subject
   series nor gets linked is not relevant.
2. **Reference date** of a document: its published date, else the dates of the event it reports.
   Relative dates ("on Tuesday", "in April this year", "last summer", "the following day") are resolved
   against it (:mod:`flows.extract.dates`), or left null.
3. **Referenced events** (in relevant documents only): other series with a date in the same sentence
   ("the July 2021 US-Iraq Strategic Dialogue", "the first meeting of the ... Higher Military
   Commission" + "In January"), named agreements with a date ("the 2008 ... Strategic Framework
   Agreement"), and visits ("<person> visited <place> in <date>", "the visit of <person> to <place> in
   <date>"). No date, no event.
4. **Participants**: role cues of ``lexicons/roles.yaml`` in sentences of documents linked to an
   edition ("a delegation headed by X", "X led the Iraqi delegation", "the two sides, led by X and
   Y", "the delegation includes X"); one row per (event, entity) with its strongest role.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict

import pandas as pd

from flows.common import frames
from flows.common.text import stable_id
from flows.extract import editions
from flows.extract.dates import DateSpan, dates_in
from flows.extract.editions import _sentence
from flows.extract.entities import Para, Resolution
from flows.extract.nlp import Lexicons, load_lexicons

ROLE_RANK = {"head_of_delegation": 0, "delegation_member": 1, "organizer": 2, "chair": 3, "visitor": 4, "met_with": 5}
# --- helpers --------------------------------------------------------------------------------------

def _meeting_ordinal_rx(lex: Lexicons) -> re.Pattern:
    words = editions.ordinal_words(lex)
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


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


# --- participants ---------------------------------------------------------------------------------

def _participant_cues(lex: Lexicons):
    r = lex.roles
    c = lambda key: [re.compile(p, re.IGNORECASE) for p in r.get(key, [])]  # noqa: E731
    return (c("head_after"), c("heads_after"), c("head_before"), c("member_after"), c("met_after"),
            c("organizer_before"))


def doc_participants(paras: list[Para], mentions_by_para: dict, res: Resolution, lex: Lexicons,
                     subject_spans: dict, skip_sentences: set) -> list[dict]:
    """Participation of entities in the event a document reports, from the role cues of its sentences."""
    head_after, heads_after, head_before, member_after, met_after, organizer_before = _participant_cues(lex)
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
            for rx in heads_after:
                for m in rx.finditer(sent):
                    for x in _listed(text, ss + m.end(), [x for x in people_orgs if res.info[x[2]]["type"] == "person"]):
                        add(para, x, "head_of_delegation", None)
                        heads.add(x[2])
            for rx in head_before:
                for m in rx.finditer(sent):
                    b = ss + m.start()
                    prev = [x for x in people_orgs if b - 40 <= x[1] <= b]
                    if not prev and text[max(ss, b - 2):b].startswith(","):
                        # "X embarked on a visit ..., leading a delegation": the sentence's subject
                        prev = [x for x in people_orgs if x[1] <= b and res.info[x[2]]["type"] == "person"][:1]
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


def _listed(text: str, start: int, people: list, reach: int = 60) -> list:
    """The people named one after the other from ``start``: the first within ``reach`` characters,
    then each one joined to the previous by "and" or a comma with only titles between ("led by
    Defense Secretary X and Iraqi Defense Minister Y")."""
    out = []
    for x in people:
        if x[0] < start:
            continue
        if not out:
            if x[0] - start > reach:
                break
            out.append(x)
            continue
        between = text[out[-1][1]:x[0]]
        if len(between) > 80 or not re.match(r"^\s*(?:,\s*)?(?:and\s+)?[^.;,]*$", between) \
                or not re.search(r"\band\b|,", between):
            break
        out.append(x)
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


def _names_every_subject_country(paras: list[Para], lex: Lexicons) -> bool:
    """Whether the paragraphs ``paras`` (one document's) name every subject country between them."""
    if not lex.subject_countries:
        return False
    said = set().union(*(p.countries if p.countries is not None else countries_said(p.text, lex) for p in paras))
    return set(lex.subject_countries) <= said


def linkable(paras: list[Para], lex: Lexicons | None = None) -> list[str]:
    """The ids of the documents :func:`build_events` can link to an event (those naming a subject
    series or every subject country), in order: it reads no other document's records, so a caller
    can let the rest go first."""
    lex = lex or load_lexicons()
    by_doc: dict[str, list[Para]] = defaultdict(list)
    for p in paras:
        by_doc[p.doc_id].append(p)
    return [doc_id for doc_id, ps in by_doc.items()
            if any(lex.series.get(series, {}).get("subject") for p in ps for _, _, series, _ in p.series)
            or _names_every_subject_country(ps, lex)]


def build_events(paras: list[Para], res: Resolution, documents: pd.DataFrame,
                 paragraphs: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``events``, ``participants`` and the documents with event_id/relevant/evidence/dates filled.
    Only the records of the :func:`linkable` documents are read: ``paras`` may be those alone."""
    lex = load_lexicons()
    by_doc: dict[str, list[Para]] = defaultdict(list)
    for p in paras:
        by_doc[p.doc_id].append(p)
    mentions_by_para = defaultdict(list)
    m = res.mentions
    m = m[frames.isin(m["para_id"], [p.para_id for p in paras])]  # the only paragraphs looked up
    for pid, s, e, eid in frames.iter_rows(m["para_id"], m["char_start"], m["char_end"], m["entity_id"]):
        mentions_by_para[pid].append((int(s), int(e), eid))
    for v in mentions_by_para.values():
        v.sort()
    docs = documents.copy()
    published = editions.publication_dates(docs, paragraphs)

    # 1. subject-series mentions, the editions they name, and the articles that say which one
    mentions = editions.series_mentions(paras, lex, published.date)
    series_of_doc: dict[str, str] = {}
    for sm in mentions:
        series_of_doc.setdefault(sm.doc_id, sm.series)
    rounds = editions.rounds(paras, lex, set(series_of_doc), published.date)
    found = editions.build_editions(mentions, rounds, series_of_doc)
    decision = editions.decide_stated(mentions, found, rounds, published)

    # 2. articles that do not say which edition: linked by evidence, strongest first
    subject_spans = defaultdict(list)
    for sm in mentions:
        subject_spans[sm.para.para_id].append(sm.start)
    candidates = []
    for doc_id, ps in by_doc.items():
        if doc_id in decision.event_of:
            continue
        if doc_id in decision.names_series or _names_every_subject_country(ps, lex):
            candidates.append(doc_id)
    hosts = frozenset(c for ed in found.values() for loc in ed.locations
                      for c in [loc if loc in lex.countries else lex.places.get(loc, {}).get("country")] if c)
    anchors = {d: a for d in candidates if (a := editions.meeting_anchor(by_doc[d], lex, hosts))}
    parts_by_doc = {doc_id: doc_participants(by_doc[doc_id], mentions_by_para, res, lex, subject_spans, set())
                    for doc_id in set(decision.event_of) | set(candidates)}
    names = {eid: info["name"] for eid, info in res.info.items()}
    shared = editions.SharedParagraphs(candidates, by_doc)  # kept between the passes of link_by_text
    linked = -1
    while linked != len(decision.event_of):  # a link can be the evidence of the next
        linked = len(decision.event_of)
        editions.link_by_date(candidates, decision, found, published, anchors)
        editions.link_by_people(candidates, decision, parts_by_doc, names)
        editions.link_by_text(candidates, decision, by_doc, shared)
    del shared
    editions.link_by_similarity(candidates, decision, by_doc, published, anchors)

    # 3. reference dates and every date of the relevant documents
    final = {ed.key: _finalise(ed) for ed in found.values()}
    doc_event = decision.event_of
    relevant = set(doc_event) | decision.names_series
    reference, ref_is_event = {}, {}
    for doc_id in relevant:
        ed = doc_event.get(doc_id)
        if published.date.get(doc_id):
            reference[doc_id], ref_is_event[doc_id] = published.date[doc_id], False
        elif ed is not None and final[ed.key]["end_date"]:
            reference[doc_id], ref_is_event[doc_id] = final[ed.key]["end_date"], True
        else:
            reference[doc_id], ref_is_event[doc_id] = None, False
    dates_by_para = {}
    for doc_id in relevant:
        for p in by_doc[doc_id]:
            dates_by_para[p.para_id] = dates_in(p.text, reference[doc_id], ref_is_event[doc_id])

    # 4. referenced events
    ref_rows, ref_sentences = [], set()
    for doc_id in sorted(relevant):
        found_refs, sents = referenced_events(by_doc[doc_id], dates_by_para, mentions_by_para, res, lex)
        ref_rows.extend(found_refs)
        ref_sentences |= sents
    ref_events = _merge_referenced(ref_rows)

    # 5. participants of the reported editions (sentences about another event excluded)
    participants = []
    for doc_id, ed in doc_event.items():
        eid = final[ed.key]["event_id"]
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
    participants_df = _participants_table(participants, res, dict(zip(docs["doc_id"], docs["outlet"]))
                                          if "outlet" in docs else {})

    docs["event_id"] = docs["doc_id"].map(lambda d: final[doc_event[d].key]["event_id"] if d in doc_event else None)
    docs["relevant"] = docs["doc_id"].isin(relevant)
    docs["event_evidence"] = docs["doc_id"].map(lambda d: decision.evidence.get(d) or (
        "mentions the series but states no edition, dates or shared evidence" if d in decision.names_series else None))
    docs["published_date"] = docs["doc_id"].map(lambda d: _iso(published.date.get(d)))
    docs["reference_date"] = docs["doc_id"].map(lambda d: _iso(reference.get(d)))
    return events_df, participants_df, docs


def _finalise(ed: editions.Edition) -> dict:
    rng = ed.span or (None, None)
    loc = ed.locations.most_common(1)[0][0] if ed.locations else None
    src = ed.date_src.get(rng) if rng[0] else None
    key_part = ed.edition if ed.edition is not None else f"date:{ed.key[2]}"
    year = f" {rng[0].year}" if rng[0] else ""
    return {
        "event_id": _event_id("series", ed.series, key_part),
        "name": f"{ed.series}{year}" if rng[0] or ed.edition is None else f"{ed.series}, edition {ed.edition}",
        "event_type": load_lexicons().series[ed.series].get("event_type", "meeting"),
        "series": ed.series, "edition": ed.edition, "start_date": rng[0], "end_date": rng[1],
        "date_precision": "day" if rng[0] else None,
        "date_evidence": f"stated: \u201c{src[0]}\u201d" if src else None,
        "location": loc, "n_documents": len(ed.reporting),
        "n_referring": len(ed.reporting | ed.referring),
        "source_doc_id": src[1] if src else None, "source_para_id": src[2] if src else None,
    }


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


def _participants_table(rows: list[dict], res: Resolution, outlet_of: dict) -> pd.DataFrame:
    """One row per (event, entity) with its strongest role; ``n_documents`` and ``n_outlets``: the
    documents, and their distinct outlets (``outlet_of``: doc_id -> outlet), that give it that role."""
    from schemas import conform, empty_frame

    if not rows:
        return empty_frame("participants")
    df = pd.DataFrame(rows)
    df["rank"] = df["role"].map(ROLE_RANK)
    df = df.sort_values(["event_id", "entity_id", "rank", "doc_id", "para_id", "char_start"])
    best_role = df.groupby(["event_id", "entity_id"])["rank"].transform("min")
    support = df[df["rank"] == best_role]
    n_docs = support.groupby(["event_id", "entity_id"])["doc_id"].nunique()
    n_outlets = support.assign(outlet=support["doc_id"].map(outlet_of)).groupby(["event_id", "entity_id"])["outlet"].nunique()
    # a side stated in the text beats the entity's country
    first = support.drop_duplicates(["event_id", "entity_id"]).copy()
    stated = support.dropna(subset=["side"]).groupby(["event_id", "entity_id"])["side"].agg(
        lambda s: s.value_counts().index[0])
    first["side"] = [stated.get((e, i), s) for e, i, s in zip(first["event_id"], first["entity_id"], first["side"])]
    first["n_documents"] = [int(n_docs[(e, i)]) for e, i in zip(first["event_id"], first["entity_id"])]
    first["n_outlets"] = [int(n_outlets[(e, i)]) for e, i in zip(first["event_id"], first["entity_id"])]
    first["title"] = first["entity_id"].map(lambda i: res.info[i]["title"])
    first["participant_id"] = [stable_id("r", e, i) for e, i in zip(first["event_id"], first["entity_id"])]
    return conform("participants", first.drop(columns=["rank"]).sort_values(["event_id", "role", "entity_id"]))
