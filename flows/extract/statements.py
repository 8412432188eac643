"""Statements: what the parties of an event agreed, affirmed, committed to or discussed, by topic.

A statement is a sentence of a content paragraph of a document linked to an event
(``documents.event_id``) in which a party (delegations, sides, a government, "they", "X and Y") is the
subject of a statement verb ("reaffirmed", "decided", "committed to", "discussed", ...), or in which
such a verb is passive ("was also discussed"). Its topics come from a small documented vocabulary
(``lexicons/statements.yaml``), matched by a spaCy ``Matcher`` on ``spacy.blank("en")`` tokens of the
candidate sentences only (one row per topic; general topics only when no specific one matched;
"other" when none).

Documents with no event (null ``event_id``, or no ``event_id`` column yet) give no statements: a
statement is always the statement of an event's parties. The same statement reported by several
documents is one row: candidates are grouped by (event, topic, paragraph cluster, rank of the topic
within the paragraph), and groups of one event and topic whose sentences are near-identical are one
(the same joint-statement line in two outlets' own paragraphs); the earliest occurrence is the row's
provenance, ``n_sources`` counts the distinct documents in the group and ``n_outlets`` their distinct
outlets (paragraph clusters: ``paragraphs.cluster_id``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import pandas as pd

from flows.common import frames
from flows.common.lexicons import lexicon
from flows.common.text import stable_id
from flows.extract.spans import alternation, content_paragraphs, sentence_spans
from schemas import conform

OTHER = "other"
# A passive statement verb counts only for these classes ("was discussed", "was agreed", "is planned"):
# a passive affirmation ("was underscored by") reports the writer's view, not the parties'.
PASSIVE_CLASSES = frozenset({"discussion", "agreement", "intention"})


@dataclass(frozen=True)
class _Rules:
    verb: re.Pattern
    verb_class: dict
    party: re.Pattern
    passive: re.Pattern
    nlp: object
    matcher: object
    specific: tuple
    general: tuple
    requires: dict


def _token_pattern(phrase: str, tokenizer) -> list[dict]:
    """Matcher pattern of a cue phrase: its words as spaCy tokenises them, lower-cased; a word ending
    in * matches any token starting with the stem."""
    pattern: list[dict] = []
    for word in phrase.lower().split():
        if word.endswith("*"):
            pattern.append({"LOWER": {"REGEX": "^" + re.escape(word[:-1])}})
        else:
            pattern.extend({"LOWER": t.text} for t in tokenizer(word))
    return pattern


@functools.cache
def _rules() -> _Rules:
    import spacy
    from spacy.matcher import Matcher

    lex = lexicon("statements")
    verb_class = {}
    for cls, verbs in lex["verbs"].items():
        for v in verbs:
            verb_class[" ".join(v.lower().split())] = cls
    mods = alternation(lex["verb_modifiers"])
    verb = re.compile(rf"(?P<mods>(?:(?i:{mods})\s+)*)(?P<verb>(?i:{alternation(verb_class)}))")
    party = re.compile(rf"(?i:{alternation(lex['party_nouns'] + lex['party_pronouns'])})"
                       r"|[A-Z][\w.\-]*(?:\s+[A-Z][\w.\-]*)*\s+and\s+(?:the\s+)?[A-Z][\w.\-]*")
    passive = re.compile(r"(?i:\b(?:was|were|been|be|is|are)\s+(?:\w+ly\s+|also\s+|further\s+)?)$")
    nlp = spacy.blank("en")
    matcher = Matcher(nlp.vocab)
    specific, general, requires = [], [], {}
    for topic in lex["topics"]:
        tid = topic["id"]
        (general if topic.get("general") else specific).append(tid)
        matcher.add(tid, [_token_pattern(c, nlp.tokenizer) for c in topic["cues"]])
        if topic.get("requires"):
            requires[tid] = f"{tid}#requires"
            matcher.add(requires[tid], [_token_pattern(c, nlp.tokenizer) for c in topic["requires"]])
    return _Rules(verb, verb_class, party, passive, nlp, matcher, tuple(specific), tuple(general), requires)


def topic_ids() -> list[str]:
    """The topic vocabulary, in lexicon order, plus "other"."""
    r = _rules()
    return [*r.specific, *r.general, OTHER]


def _find_statement(sentence: str) -> tuple[str, str, str | None] | None:
    """(verb, verb_class, party) of the first statement verb of the sentence whose subject is a party."""
    r = _rules()
    for m in r.verb.finditer(sentence):
        before = sentence[:m.start()]
        # the subject clause: from the last clause break before the verb
        cut = max(before.rfind(c) for c in (",", ";", ":", "\u201c", '"', "\u2014", "("))
        subject = before[cut + 1:].strip() if cut >= 0 else before.strip()
        if not subject and cut >= 0:  # "..., and decided" / "“...,” read": look one clause further back
            subject = before[:cut].strip()[-80:]
        verb_text = " ".join(m.group("verb").lower().split())
        cls = r.verb_class[verb_text]
        if r.party.search(subject):
            return verb_text, cls, _party_label(subject)
        if cls in PASSIVE_CLASSES and r.passive.search(before):
            return verb_text, cls, None
    return None


_CLAUSE_LEAD = re.compile(r"^.*(?:\s[-\u2013]\s|\b(?i:that|where|when|which|while|but|then)\s+)")


def _party_label(subject: str) -> str:
    """The party as written: the subject clause without a dateline or a leading clause word."""
    s = " ".join(subject.strip(" \u201c\u201d\"'").split())
    for _ in range(3):
        m = _CLAUSE_LEAD.match(s)
        if not m or not _rules().party.search(s[m.end():]):
            break
        s = s[m.end():]
    return s[:120]


def _topics(doc) -> list[str]:
    r = _rules()
    labels = {r.nlp.vocab.strings[mid] for mid, _, _ in r.matcher(doc)}
    hits = [t for t in r.specific if t in labels and (t not in r.requires or r.requires[t] in labels)]
    if not hits:
        hits = [t for t in r.general if t in labels and (t not in r.requires or r.requires[t] in labels)]
    return hits or [OTHER]


def extract_statements(paragraphs: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """One row per (event, topic, statement) found in the content paragraphs (``statements`` table)."""
    if "event_id" not in documents or documents.empty:
        from schemas import empty_frame

        return empty_frame("statements")
    docs = documents[documents["event_id"].notna()]
    if "relevant" in docs:
        docs = docs[docs["relevant"].fillna(True).astype(bool)]
    event_of = dict(zip(docs["doc_id"], docs["event_id"]))
    paras = content_paragraphs(paragraphs, ("doc_id", "para_id", "cluster_id", "position", "text"), event_of)
    r = _rules()
    candidates = []  # (sentence text, info)
    for doc_id, para_id, cluster_id, position, text in frames.iter_rows(
            paras["doc_id"], paras["para_id"], paras["cluster_id"], paras["position"], paras["text"]):
        if not r.verb.search(text):
            continue
        for s, e in sentence_spans(text):
            found = _find_statement(text[s:e])
            if found:
                verb, cls, party = found
                candidates.append((text[s:e], dict(event_id=event_of[doc_id], doc_id=doc_id, para_id=para_id,
                                                   cluster_id=cluster_id, position=int(position), char_start=s,
                                                   char_end=e, text=text[s:e], verb=verb, verb_class=cls,
                                                   party=party)))
    rows = []
    for doc, (_, info) in zip(r.nlp.pipe(c[0] for c in candidates), candidates):
        for topic in _topics(doc):
            rows.append({**info, "topic": topic})
    if not rows:
        from schemas import empty_frame

        return empty_frame("statements")
    df = pd.DataFrame(rows).sort_values(["event_id", "doc_id", "position", "char_start"], kind="stable")
    # rank of this topic's statement within its paragraph: aligns copies of a paragraph across documents
    df["rank"] = df.groupby(["para_id", "topic"]).cumcount()
    df["group"] = _same_statement_groups(df)
    df["outlet"] = df["doc_id"].map(dict(zip(documents["doc_id"], documents.get("outlet", pd.Series(dtype=object)))))
    df["n_sources"] = df.groupby("group")["doc_id"].transform("nunique")
    df["n_outlets"] = df.groupby("group")["outlet"].transform("nunique")
    out = df.drop_duplicates("group", keep="first").copy()
    out["statement_id"] = [stable_id("s", e, t, p, s) for e, t, p, s in
                           zip(out["event_id"], out["topic"], out["para_id"], out["char_start"])]
    out = out.drop(columns=["cluster_id", "position", "rank", "group", "outlet"])
    return conform("statements", out.sort_values(["event_id", "topic", "doc_id", "para_id", "char_start"]))


SAME_STATEMENT_MIN_RATIO = 90  # rapidfuzz token-set ratio of two normalised sentences that say the same (one may add a dateline or clause)


def _same_statement_groups(df: pd.DataFrame) -> list[int]:
    """A group number per candidate row: rows of one event and topic that state the same thing. Copies
    of one paragraph (the same near-duplicate cluster, the same rank of the topic in it) are one
    statement; so are near-identical sentences in paragraphs that differ otherwise (a joint
    statement's line quoted in two outlets' own paragraphs)."""
    from rapidfuzz import fuzz

    from flows.common.text import normalize

    keys = list(zip(df["event_id"], df["topic"], df["cluster_id"], df["rank"]))
    first_of = {}
    parent = list(range(len(keys)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, k in enumerate(keys):
        j = first_of.setdefault(k, i)
        parent[i] = find(j)
    representatives: dict[tuple, list[tuple[int, str]]] = {}
    for i, (event, topic, text) in enumerate(zip(df["event_id"], df["topic"], df["text"])):
        if find(i) != i:
            continue
        norm = normalize(text)
        seen = representatives.setdefault((event, topic), [])
        match = next((j for j, other in seen if fuzz.token_set_ratio(norm, other) >= SAME_STATEMENT_MIN_RATIO), None)
        if match is None:
            seen.append((i, norm))
        else:
            parent[i] = find(match)
    return [find(i) for i in range(len(keys))]
