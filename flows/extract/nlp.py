"""The shared spaCy rule pipeline of the extract stage (no statistical model).

``get_nlp()`` returns one cached ``spacy.blank("en")`` pipeline:

- ``sentencizer`` (the bulk scan in :mod:`flows.extract.entities` disables it, then runs it on the tokens of
  the paragraphs where it found something; the other paragraphs get theirs on demand, from
  ``get_sentencizer()``: the same tokenizer and sentencizer without the rule components);
- ``lexicon_entities``: an entity ruler of phrase patterns (``PhraseMatcher``) built from the
  lexicons (``lexicons/*.yaml``): organizations (ORG, with acronyms and variants), countries (GPE)
  and places (LOC), demonyms (NORP), titles and offices (TITLE), military ranks (RANK) and
  honorifics (HONORIFIC); each entity's ``ent_id_`` is the canonical name;
- ``person_candidates``: a ``Matcher`` of capitalised name sequences (with initials, suffixes and
  particles such as al-) outside the ruler's entities, stored in ``doc.spans["names"]``; which of them
  are people is decided from their context in :mod:`flows.extract.entities`;
- ``series_matcher``: two ``PhraseMatcher`` objects (series names on lower case, acronyms exact), stored in
  ``doc.spans["series"]`` (kept apart from the entities: a series name may contain an organization).

Multi-token variants match case-insensitively; single tokens and acronyms case-sensitively (so "US"
is a country and "us" is not, "General" is a rank and "general" is not).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Span
from spacy.util import filter_spans

from flows.common.lexicons import read_yaml
from flows.common.paths import LEXICONS_DIR


@dataclass(frozen=True)
class Lexicons:
    """Everything the extract stage reads from ``lexicons/``."""

    titles: dict          # canonical title -> {"country": str|None, "rank": bool}
    title_variants: list   # (variant, canonical, is_rank)
    honorifics: tuple
    suffixes: tuple
    particles: tuple
    orgs: dict             # canonical -> {"country", "national", "acronyms", "variants"}
    countries: dict        # canonical -> {"variants", "demonyms"}
    places: dict           # canonical -> {"country", "variants", "demonyms"}
    demonyms: dict         # demonym -> country (case-sensitive)
    series: dict           # canonical -> spec
    event_nouns: dict      # event_type -> [nouns]
    visit_words: tuple
    meeting_words: tuple
    ordinals: dict
    subject_countries: tuple
    roles: dict = field(default_factory=dict)
    meeting_cues: tuple = ()   # words of a sentence reporting a meeting ("talks", "delegation", "met")
    future_cues: tuple = ()    # words that put it in the future ("will", "is expected to")
    outlet_person_title: str | None = None
    not_name_words: frozenset = frozenset()
    given_names: frozenset = frozenset()  # given-name keys (:func:`given_name_key`)
    short_forms: dict = field(default_factory=dict)  # given-name key -> keys of its long/short forms
    person_nouns: dict = field(default_factory=dict)  # lower-case noun before a name -> title or None
    place_nouns: frozenset = frozenset()
    title_words: frozenset = frozenset()  # every word of a title, rank or honorific (lower case, no ".")

    def is_given_name(self, word: str) -> bool:
        return given_name_key(word) in self.given_names

    def country_of(self, label: str, canonical: str) -> str | None:
        if label == "GPE":
            return canonical
        if label == "LOC":
            return self.places.get(canonical, {}).get("country")
        if label == "NORP":
            return canonical
        if label == "ORG":
            return self.orgs.get(canonical, {}).get("country")
        return None


@functools.lru_cache(maxsize=65536)
def given_name_key(word: str) -> str:
    """How given names are compared: lower case, doubled letters collapsed ("Abdulwahhab" ~ "Abdulwahab")."""
    import re

    return re.sub(r"(.)\1+", r"\1", word.lower())


def _given_names(lexicons_dir: Path, particles: tuple) -> tuple[frozenset, dict]:
    """The given names of ``given_names.yaml`` and the English ones of the nicknames package (names
    and short forms of three letters or more, but for the English words the lexicon lists), and each
    English name's other forms (Pat ~ Patrick)."""
    import csv
    import importlib.resources

    lists = dict(read_yaml(lexicons_dir / "given_names.yaml") or {})
    not_names = {given_name_key(n) for n in lists.pop("not_given_names", [])}
    names = {given_name_key(n) for group in lists.values() for n in group}
    forms: dict[str, set] = {}
    with importlib.resources.files("nicknames").joinpath("names.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            a, b = given_name_key(row["name1"]), given_name_key(row["name2"])
            forms.setdefault(a, set()).add(b)
            forms.setdefault(b, set()).add(a)
    skip = {p.lower() for p in particles}
    names |= {n for n in forms if len(n) >= 3 and n not in skip and n not in not_names}
    return frozenset(names), {k: frozenset(v) for k, v in forms.items()}


@functools.cache
def load_lexicons(lexicons_dir: Path = LEXICONS_DIR) -> Lexicons:
    t = read_yaml(lexicons_dir / "titles.yaml")
    titles, variants = {}, []
    for kind in ("offices", "ranks"):
        for spec in t.get(kind, []):
            titles[spec["name"]] = {"country": spec.get("country"), "rank": kind == "ranks"}
            for v in [spec["name"], *spec.get("variants", [])]:
                variants.append((v, spec["name"], kind == "ranks"))
    orgs = {}
    for spec in read_yaml(lexicons_dir / "organizations.yaml"):
        orgs[spec["name"]] = {
            "country": spec.get("country"),
            "national": bool(spec.get("national")),
            "outlet": bool(spec.get("outlet")),
            "acronyms": list(spec.get("acronyms") or []),
            "variants": list(spec.get("variants") or []),
        }
    p = read_yaml(lexicons_dir / "places.yaml")
    countries = {c["name"]: c for c in p["countries"]}
    places = {c["name"]: c for c in p["places"]}
    demonyms = {}
    for c in p["countries"]:
        for d in c.get("demonyms") or []:
            demonyms[d] = c["name"]
    for c in p["places"]:
        for d in c.get("demonyms") or []:
            demonyms[d] = c.get("country")
    e = read_yaml(lexicons_dir / "events.yaml")
    roles = read_yaml(lexicons_dir / "roles.yaml")
    given, short_forms = _given_names(lexicons_dir, tuple(t.get("name_particles", [])))
    return Lexicons(
        titles=titles,
        title_variants=variants,
        honorifics=tuple(t.get("honorifics", [])),
        suffixes=tuple(t.get("name_suffixes", [])),
        particles=tuple(t.get("name_particles", [])),
        orgs=orgs,
        countries=countries,
        places=places,
        demonyms=demonyms,
        series={s["name"]: s for s in e["series"]},
        event_nouns=e.get("event_nouns", {}),
        visit_words=tuple(e.get("visit_words", [])),
        meeting_words=tuple(e.get("meeting_words", [])),
        meeting_cues=tuple(e.get("meeting_cues", [])),
        future_cues=tuple(e.get("future_cues", [])),
        ordinals={str(k).lower(): int(v) for k, v in e.get("ordinals", {}).items()},
        subject_countries=tuple(e.get("subject_countries", [])),
        roles=roles,
        outlet_person_title=t.get("outlet_person_title"),
        not_name_words=frozenset(t.get("not_name_words", [])),
        given_names=given,
        short_forms=short_forms,
        person_nouns=dict(t.get("person_nouns") or {}),
        place_nouns=frozenset(p.get("place_nouns", [])),
        title_words=frozenset({w.rstrip(".").lower() for v, _, _ in variants for w in v.split()}
                              | {h.rstrip(".").lower() for h in t.get("honorifics", [])}),
    )


def ruler_patterns(lex: Lexicons, tokenizer) -> tuple[list[dict], list[dict]]:
    """Phrase patterns of every lexicon entry (label, pattern, id = canonical name), in two sets:
    multi-token variants matched on lower case, single tokens and acronyms matched exactly."""
    folded: list[dict] = []
    exact: list[dict] = []
    seen: set = set()

    def add(label: str, text: str, canonical: str, force_case: bool = False) -> None:
        case = force_case or len(tokenizer(text)) == 1
        pattern = text  # tokenised as written (lower-casing first can change the tokens: "D.C.", "Mr.")
        key = (label, pattern if case else pattern.lower(), case)
        if key in seen:
            return
        seen.add(key)
        (exact if case else folded).append({"label": label, "pattern": pattern, "id": canonical})

    for name, spec in lex.orgs.items():
        for v in [name, *spec["variants"]]:
            add("ORG", v, name)
        for a in spec["acronyms"]:
            add("ORG", a, name, force_case=True)
    for name, spec in lex.countries.items():
        for v in [name, *spec.get("variants", [])]:
            add("GPE", v, name, force_case=v.isupper() or "." in v)
    for name, spec in lex.places.items():
        for v in [name, *spec.get("variants", [])]:
            add("LOC", v, name)
    gpe = {p["pattern"] for p in exact if p["label"] == "GPE"}
    for d, country in lex.demonyms.items():
        if country and d not in gpe:
            add("NORP", d, country, force_case=True)
    for variant, canonical, is_rank in lex.title_variants:
        add("RANK" if is_rank else "TITLE", variant, canonical)
        if len(tokenizer(variant)) > 1:
            continue
        add("RANK" if is_rank else "TITLE", variant.capitalize(), canonical)
    for h in lex.honorifics:
        add("HONORIFIC", h, h, force_case=True)
    return folded, exact


# a capitalised word, with an inner capital as in "McGurk", "MacDonald", "DeSantis"
NAME_WORD = re.compile(r"^[A-Z][a-z]*(?:[A-Z][a-z]+)?$")


def is_name_word(text: str) -> bool:
    return len(text) > 1 and NAME_WORD.match(text) is not None


MIDDLE_TOKEN = {"IS_TITLE": True, "IS_PUNCT": False, "ENT_TYPE": "", "OP": "?"}  # a middle name or initial
HYPHEN = {"ORTH": "-"}


def name_flags(lex: Lexicons, vocab) -> dict[str, int]:
    """The lexeme flags the name patterns test, added to ``vocab``: the Matcher tests a flag in C,
    where an ``IN`` set of words costs it a Python call per token."""
    particles = set(lex.particles)
    suffixes = set(lex.suffixes)
    getters = {
        "name": is_name_word,
        "particle": lambda text: text.lower() in particles,  # spaCy's LOWER is str.lower()
        "suffix": lambda text: text in suffixes,
        "apostrophe": lambda text: text in ("\u2019", "'"),
        "open_quote": lambda text: text in ('"', "\u201c", "'", "\u2018"),    # a nickname in quotes
        "close_quote": lambda text: text in ('"', "\u201d", "'", "\u2019"),
    }
    return {name: vocab.add_flag(getter) for name, getter in getters.items()}


def name_patterns(flags: dict[str, int]) -> list[list[dict]]:
    """Token patterns of capitalised person-name sequences (candidates, not yet people), over the
    lexeme flags of :func:`name_flags`."""
    NAME_TOKEN = {flags["name"]: True, "ENT_TYPE": ""}  # noqa: N806 (token patterns, like the ones above)
    particle = {flags["particle"]: True, "ENT_TYPE": ""}
    suffix = {flags["suffix"]: True, "OP": "?"}
    apostrophe = {flags["apostrophe"]: True, "OP": "?"}
    open_quote, close_quote = {flags["open_quote"]: True}, {flags["close_quote"]: True}
    # at most two middle tokens, written out as optional tokens (much faster in the Matcher than "*")
    return [
        [NAME_TOKEN, MIDDLE_TOKEN, MIDDLE_TOKEN, NAME_TOKEN, suffix],        # Lloyd J. Austin III
        [NAME_TOKEN, MIDDLE_TOKEN, MIDDLE_TOKEN, apostrophe, particle, HYPHEN, NAME_TOKEN],  # Mohammed Shia' al-Sudani
        [NAME_TOKEN, open_quote, NAME_TOKEN, close_quote, NAME_TOKEN],       # John "Jack" Doe
        [particle, HYPHEN, NAME_TOKEN],                                      # al-Abbasi
        [NAME_TOKEN, particle, NAME_TOKEN],                                  # Hamza bin Laden
        [NAME_TOKEN, MIDDLE_TOKEN, NAME_TOKEN, HYPHEN, NAME_TOKEN],          # Hayan Abdul-Ghani
    ]


@Language.factory("lexicon_entities", default_config={"lexicons_dir": str(LEXICONS_DIR)})
def _lexicon_entities(nlp: Language, name: str, lexicons_dir: str):
    """The lexicons as ``doc.ents``: an entity ruler over phrase patterns.

    One ``PhraseMatcher`` pass on lower case; matches of case-sensitive patterns (single words,
    acronyms) written in another case are dropped ("US" is a country, "us" is not; "General" is a
    rank, "general" is not); then the longest match wins (earliest on ties), as in spaCy's
    ``EntityRuler``. Each entity's ``ent_id_`` is the canonical name. (spaCy's ``EntityRuler`` does
    the same but re-counts all its patterns on every call, which made it the slowest component.)
    """
    folded, exact = ruler_patterns(load_lexicons(Path(lexicons_dir)), nlp.tokenizer)
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    meta: dict[int, tuple[str, str]] = {}
    allowed: dict[int, set] = {}
    groups: dict[str, list] = {}
    for p in folded + exact:
        key = f"{p['label']}\x1f{p['id']}"
        groups.setdefault(key, []).append(nlp.make_doc(p["pattern"]))
    for key, docs in groups.items():
        matcher.add(key, docs)
        label, canonical = key.split("\x1f")
        meta[nlp.vocab.strings[key]] = (label, canonical)
    for p in exact:
        allowed.setdefault(nlp.vocab.strings[f"{p['label']}\x1f{p['id']}"], set()).add(p["pattern"])
    lowered = {k: {f.lower() for f in v} for k, v in allowed.items()}

    def component(doc):
        found = []
        for match_id, start, end in matcher(doc):
            forms = allowed.get(match_id)
            if forms is not None:
                text = doc[start:end].text
                if text not in forms and text.lower() in lowered[match_id]:
                    continue
            found.append((end - start, -start, match_id, start, end))
        found.sort(reverse=True)
        taken = set()
        ents = []
        for _, _, match_id, start, end in found:
            if any(i in taken for i in range(start, end)):
                continue
            taken.update(range(start, end))
            label, canonical = meta[match_id]
            ents.append(Span(doc, start, end, label=label, span_id=canonical))
        doc.ents = sorted(ents, key=lambda e: e.start)
        return doc

    return component


@Language.factory("person_candidates", default_config={"lexicons_dir": str(LEXICONS_DIR)})
def _person_candidates(nlp: Language, name: str, lexicons_dir: str):
    lex = load_lexicons(Path(lexicons_dir))
    matcher = Matcher(nlp.vocab, validate=False)  # (validation knows no lexeme flags)
    matcher.add("NAME", name_patterns(name_flags(lex, nlp.vocab)), greedy="LONGEST")

    def component(doc):
        spans = [Span(doc, s, e, label="NAME") for _, s, e in matcher(doc)]
        doc.spans["names"] = filter_spans(spans)
        return doc

    return component


@Language.factory("series_matcher", default_config={"lexicons_dir": str(LEXICONS_DIR)})
def _series_matcher(nlp: Language, name: str, lexicons_dir: str):
    lex = load_lexicons(Path(lexicons_dir))
    phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
    acronyms = PhraseMatcher(nlp.vocab, attr="ORTH")
    for series, spec in lex.series.items():
        phrases.add(series, [nlp.make_doc(v) for v in [series, *spec.get("variants", [])]])
        if spec.get("acronyms"):
            acronyms.add(series, [nlp.make_doc(a) for a in spec["acronyms"]])

    def component(doc):
        spans = [Span(doc, s, e, label=m) for m, s, e in [*phrases(doc), *acronyms(doc)]]
        doc.spans["series"] = filter_spans(spans)
        return doc

    return component


def build_sentencizer() -> Language:
    """The tokenizer and the sentencizer: the start of the full pipeline, whose rule components
    leave sentences as they are."""
    nlp = spacy.blank("en")
    nlp.max_length = 10**8  # E088's 1M limit is for parser/NER memory; rules only here, and a paragraph may be a 5 MB file
    nlp.add_pipe("sentencizer")
    return nlp


def build_nlp(lexicons_dir: Path = LEXICONS_DIR) -> Language:
    nlp = build_sentencizer()
    nlp.add_pipe("lexicon_entities", config={"lexicons_dir": str(lexicons_dir)})
    nlp.add_pipe("person_candidates", config={"lexicons_dir": str(lexicons_dir)})
    nlp.add_pipe("series_matcher", config={"lexicons_dir": str(lexicons_dir)})
    return nlp


@functools.cache
def get_nlp(lexicons_dir: Path = LEXICONS_DIR) -> Language:
    """The cached pipeline (building it takes a while, so every caller shares one)."""
    return build_nlp(lexicons_dir)


@functools.cache
def get_sentencizer() -> Language:
    """A paragraph's sentences without building the rule components (a quarter of the time): the
    same spans the full pipeline gives."""
    return build_sentencizer()
