"""The per-paragraph part of the extract stage, and its findings as tables.

``scan_paragraphs(paragraphs) -> Scans`` reads each content paragraph's text and nothing else: the
spaCy rule pipeline's entities, names, titles and series (:func:`flows.extract.entities.scan`), the
figures of :mod:`flows.extract.facts`, the quoted passages with the speaker their sentence names
(:func:`flows.extract.quotes.quotes_in`) and the countries the text names. The flow runs it per
batch of documents, right after cleaning, and files its tables in the build's workspace as Parquet
(``flows.orchestrate.workspace``); the cross-document steps of :func:`flows.extract.extract.build_records`
read them back. A build after adding one article scans only that article.

A :class:`Scans` is seven tables, one row per scanned paragraph or per finding, keyed by
``para_id`` (a finding's offsets are characters of its paragraph's text; no text is held but the
findings' own). :func:`paras_of` turns the findings back into the records entity resolution and the
events stage read (:class:`flows.extract.entities.Para`), :func:`quotes_of` into the quotes'.
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_ID = pa.string()
_SPAN = [pa.field("start", pa.int32()), pa.field("end", pa.int32())]

SCHEMAS = {  # the scans' tables (``facts`` is the ``facts`` table of schemas/, before extract filters it)
    # every scanned content paragraph: the countries it names (null: none) and, where the scan found
    # something, its sentences' spans, flat (start, end, start, end, ...)
    "paragraphs": pa.schema([pa.field("para_id", _ID), pa.field("countries", pa.list_(pa.string())),
                             pa.field("sentences", pa.list_(pa.uint32()))]),
    # places and organizations of the lexicons: label ORG, GPE or LOC; canonical name; country (of a
    # national organization, from the demonym before it)
    "entities": pa.schema([pa.field("para_id", _ID), *_SPAN, pa.field("label", pa.string()),
                           pa.field("canonical", pa.string()), pa.field("country", pa.string())]),
    # names of people, with the title and countries their context gives and the cue that marked them;
    # ``countries``: each country as often as the context names it, in the order first named
    "persons": pa.schema([pa.field("para_id", _ID), *_SPAN, pa.field("text", pa.string()),
                          pa.field("title", pa.string()), pa.field("countries", pa.list_(pa.string())),
                          pa.field("cue", pa.string())]),
    # "the defense minister": a title said of someone not named there
    "descriptions": pa.schema([pa.field("para_id", _ID), *_SPAN, pa.field("text", pa.string()),
                               pa.field("title", pa.string()), pa.field("country", pa.string())]),
    # names of a series of meetings (the lexicons' series)
    "series": pa.schema([pa.field("para_id", _ID), *_SPAN, pa.field("series", pa.string()),
                         pa.field("text", pa.string())]),
    # quoted passages (flows.extract.quotes.Found), with the speaker their paragraph names if any
    "quotes": pa.schema([pa.field("para_id", _ID), *_SPAN, pa.field("closed", pa.bool_()),
                         pa.field("quote_type", pa.string()), pa.field("mark_start", pa.int32()),
                         pa.field("mark_end", pa.int32()), pa.field("opens_sentence", pa.bool_()),
                         pa.field("speaker_kind", pa.string()), pa.field("speaker_label", pa.string()),
                         pa.field("speaker_where", pa.string()), pa.field("speaker_doc", pa.string()),
                         pa.field("speaker_at", pa.int32())]),
}
TABLES = (*SCHEMAS, "facts")
ROWS_AT_ONCE = 65_536  # rows turned into Python values at a time


@dataclass
class Scans:
    """The scans of some content paragraphs: a table each of :data:`TABLES` (Arrow tables, and
    ``facts`` a frame of the ``facts`` table's rows, not yet filtered)."""

    paragraphs: pa.Table
    entities: pa.Table
    persons: pa.Table
    descriptions: pa.Table
    series: pa.Table
    quotes: pa.Table
    facts: pd.DataFrame

    @classmethod
    def empty(cls) -> Scans:
        from schemas import empty_frame

        return cls(**{name: schema.empty_table() for name, schema in SCHEMAS.items()}, facts=empty_frame("facts"))

    def tables(self) -> dict:
        return {name: getattr(self, name) for name in TABLES}

    def keep_only_quotes(self) -> None:
        """Empty every table but ``quotes``: the one read once :func:`paras_of` has made the records and
        the facts are filtered (the stage's callers hold this Scans until the stage ends)."""
        empty = Scans.empty()
        for name in TABLES:
            if name != "quotes":
                setattr(self, name, getattr(empty, name))

    @property
    def scanned(self) -> pa.Array:
        """The para_ids of every scanned paragraph."""
        return self.paragraphs.column("para_id").combine_chunks().cast(pa.large_string())


def scan_paragraphs(paragraphs: pd.DataFrame) -> Scans:
    """Scan every content paragraph of ``paragraphs`` (one batch, or the whole corpus)."""
    from flows.extract.entities import scan
    from flows.extract.events import countries_said
    from flows.extract.facts import extract_facts
    from flows.extract.quotes import quotes_in

    rows = {name: [] for name in SCHEMAS}
    read: dict[str, tuple] = {}  # text -> the countries it names and its quotes (a repeat is read once)
    for p in scan(paragraphs):
        pid = p.para_id
        said, quoted = read.get(p.text) or read.setdefault(p.text, (countries_said(p.text), quotes_in(p.text)))
        found = p.found_something()
        rows["paragraphs"].append((pid, sorted(said) or None, list(p.sents_) if found else None))
        rows["entities"] += [(pid, *ent) for ent in p.ents]
        rows["persons"] += [(pid, x.start, x.end, x.text, x.title, list(x.countries.elements()), x.cue)
                            for x in p.persons]
        rows["descriptions"] += [(pid, d.start, d.end, d.text, d.title, d.country) for d in p.descriptions]
        rows["series"] += [(pid, *s) for s in p.series]
        rows["quotes"] += [(pid, q.start, q.end, q.closed, q.quote_type, q.mark_start, q.mark_end, q.opens_sentence,
                            *(q.attribution or (None,) * 5)) for q in quoted]
    return Scans(**{name: _table(rows[name], schema) for name, schema in SCHEMAS.items()},
                 facts=extract_facts(paragraphs, pd.DataFrame()))


def _table(rows: list[tuple], schema: pa.Schema) -> pa.Table:
    columns = list(zip(*rows)) if rows else [()] * len(schema)
    return pa.Table.from_arrays([pa.array(c, f.type) for c, f in zip(columns, schema)], schema=schema)


def combine_scans(parts: list[Scans]) -> Scans:
    """One Scans of the batches' (each paragraph belongs to one batch)."""
    if not parts:
        return Scans.empty()
    facts = [p.facts for p in parts if len(p.facts)]
    return Scans(**{name: pa.concat_tables([getattr(p, name) for p in parts]) for name in SCHEMAS},
                 facts=pd.concat(facts, ignore_index=True) if facts else parts[0].facts)


def subset_scans(scans: Scans, para_ids) -> Scans:
    """The part of ``scans`` about the paragraphs ``para_ids``: what a batch reuses of the documents
    an earlier batch scanned (``flows.orchestrate.workspace.earlier_documents``)."""
    from flows.common import frames

    keep = pa.array(list(para_ids), pa.large_string())
    return Scans(**{name: t.filter(pc.is_in(t.column("para_id"), value_set=keep))
                    for name, t in scans.tables().items() if name in SCHEMAS},
                 facts=scans.facts[frames.isin(scans.facts["para_id"], keep)])


def _grouped(table: pa.Table, make) -> dict:
    """para_id -> the tuple of ``make(row)`` over the table's rows of that paragraph, in row order."""
    out: dict[str, list] = {}
    for batch in table.to_batches(max_chunksize=ROWS_AT_ONCE):
        for row in zip(*(column.to_pylist() for column in batch.columns)):
            out.setdefault(row[0], []).append(make(row))
    return {pid: tuple(found) for pid, found in out.items()}


def paras_of(scans: Scans) -> tuple[dict, dict]:
    """The records of the scanned paragraphs: para_id -> :class:`flows.extract.entities.Para` for those
    where the scan found something (entities, names, descriptions, series; without doc_id and text,
    which the paragraphs table gives), and para_id -> the countries each scanned paragraph names."""
    from flows.extract.entities import Description, Para, Person

    # the labels, names and titles recur: one string object each, and one empty Counter for the names
    # whose context gives no country (nothing changes a scan's findings)
    words: dict = {}
    w = words.setdefault
    none = Counter()
    ents = _grouped(scans.entities, lambda r: (r[1], r[2], w(r[3], r[3]), w(r[4], r[4]), r[5] and w(r[5], r[5])))
    persons = _grouped(scans.persons, lambda r: Person(r[1], r[2], w(r[3], r[3]), r[4] and w(r[4], r[4]),
                                                       Counter(r[5]) if r[5] else none, w(r[6], r[6])))
    descriptions = _grouped(scans.descriptions, lambda r: Description(r[1], r[2], r[3], w(r[4], r[4]),
                                                                      r[5] and w(r[5], r[5])))
    series = _grouped(scans.series, lambda r: (r[1], r[2], w(r[3], r[3]), r[4]))
    p = scans.paragraphs
    shared: dict = {}  # one frozenset per distinct set of countries
    named = p.filter(pc.is_valid(p.column("countries")))
    countries = {pid: shared.setdefault(tuple(said), frozenset(said)) for batch in named.to_batches(ROWS_AT_ONCE)
                 for pid, said in zip(batch.column("para_id").to_pylist(), batch.column("countries").to_pylist())}
    paras = {}
    for batch in p.filter(pc.is_valid(p.column("sentences"))).to_batches(ROWS_AT_ONCE):
        sentences = batch.column("sentences")
        at, values = sentences.offsets.to_numpy(), sentences.values.to_numpy()
        for i, pid in enumerate(batch.column("para_id").to_pylist()):
            flat = array("I")
            flat.frombytes(values[at[i]:at[i + 1]].tobytes())  # no Python int a bound
            paras[pid] = Para(None, pid, None, flat, ents.get(pid, ()), persons.get(pid, ()),
                              descriptions.get(pid, ()), series.get(pid, ()))
    return paras, countries


def quotes_of(quotes: pa.Table) -> dict:
    """para_id -> :func:`flows.extract.quotes.quotes_in` of its text, for the paragraphs holding a
    quote (``quotes``: the scans' table)."""
    from flows.extract.quotes import Attribution, Found

    def found(r):
        speaker = Attribution(*r[8:13]) if r[8] is not None else None
        return Found(r[1], r[2], r[3], speaker, r[4], r[5], r[6], r[7])

    return _grouped(quotes, found)
