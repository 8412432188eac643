"""Extract: turn cleaned paragraphs into the published record tables.

``build_documents`` (one row per distinct article, with its counts) and ``build_records`` (entities,
mentions, events, participants, quotes, facts, statements, and the documents with their event,
relevance and dates). The work is done in :mod:`flows.extract.entities`, :mod:`flows.extract.events`,
:mod:`flows.extract.dates`, :mod:`flows.extract.quotes`, :mod:`flows.extract.facts` and :mod:`flows.extract.statements`; only content
paragraphs (status ``content``) are read.

The stage has two parts:

- ``scan_paragraphs(paragraphs) -> Scans``: the per-paragraph work, which reads one paragraph's text
  and nothing else (the spaCy rule pipeline's entities, names, titles and series; the figures of
  ``facts``; the quoted passages, each with its type and the speaker its sentence names:
  ``flows.extract.quotes.quotes_in``). It is most of the stage's time, and the flow runs it per batch of documents, right
  after cleaning, cached with that batch (``flows/pipeline.py``): a build after adding one article
  scans only that article's batch. It scans every content paragraph of the batch, before dedup.
- ``build_records(..., scans=...)``: the cross-document work (entity resolution, events,
  participants, quotes' speakers, statements) over the scans of the paragraphs that are still
  content after dedup. Given no scans, it scans those paragraphs itself (same function, same result).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from flows.common import frames
from schemas import conform


def build_documents(sources: pd.DataFrame, paragraphs: pd.DataFrame, text_info: pd.DataFrame) -> pd.DataFrame:
    if sources.empty:
        from schemas import empty_frame

        return empty_frame("documents")
    counts = paragraph_counts(paragraphs)
    titles = paragraphs[(paragraphs["status"] == "title") & paragraphs["duplicate_of"].isna()].set_index("doc_id")["text"]
    docs = sources.merge(text_info, on="doc_id", how="left")
    docs["outlet"] = docs["outlet"].where(docs["outlet"].notna(), docs["outlet_in_text"])
    docs["title"] = docs["doc_id"].map(titles)
    for column in ("n_paragraphs", "n_content", "n_duplicate", "n_boilerplate"):
        docs[column] = docs["doc_id"].map(counts[column]).fillna(0).astype(int)
    docs = docs.drop(columns=["text", "outlet_in_text"], errors="ignore")  # the flow drops text after clean
    for column, default in (("event_id", None), ("relevant", False), ("event_evidence", None), ("reference_date", None)):
        docs[column] = default  # filled by build_records
    return conform("documents", docs.sort_values("doc_id"))


def paragraph_counts(paragraphs: pd.DataFrame) -> pd.DataFrame:
    """Per document (the index): its paragraphs, and those of each status (DuckDB over the frame)."""
    from flows.common import duck

    con = duck.connect()
    try:
        con.register("paragraphs", paragraphs[["doc_id", "status"]])
        return con.execute(
            "SELECT doc_id, count(*) AS n_paragraphs, "
            "count(*) FILTER (WHERE status = 'content') AS n_content, "
            "count(*) FILTER (WHERE status = 'duplicate') AS n_duplicate, "
            "count(*) FILTER (WHERE status = 'boilerplate') AS n_boilerplate "
            "FROM paragraphs GROUP BY doc_id").df().set_index("doc_id")
    finally:
        con.close()


def build_rejections(rejections: pd.DataFrame) -> pd.DataFrame:
    return conform("rejections", rejections.sort_values("file"))


@dataclass
class Scans:
    """Per-paragraph results of the extract stage, kept compact (the flow caches one per batch and
    holds every batch's at once): ``paras`` maps para_id -> :class:`flows.extract.entities.Para` only for
    the paragraphs where the scan found something (entities, names, descriptions, series; most
    paragraphs of a news corpus have none), without their text (the paragraphs table has it);
    ``scanned`` lists every scanned para_id; ``facts`` holds the rows of the ``facts`` table, not yet
    filtered; ``countries``: the countries each paragraph names, for the paragraphs naming one (the
    events stage's test of which documents may report the subject). :func:`_selected` turns them
    back into one full Para per content paragraph."""

    paras: dict = field(default_factory=dict)
    facts: pd.DataFrame | None = None
    scanned: pd.Series | None = None
    countries: dict = field(default_factory=dict)  # para_id -> the countries it names (if any)
    # the quotes of the paragraphs holding one: pickled dicts para_id -> flows.extract.quotes.quotes_in(its
    # text), one a batch, unpacked only when the quotes table is built (after entity resolution and
    # events, whose records set the stage's peak: unpacked before, they would add to it)
    quotes: list = field(default_factory=list)


def scan_paragraphs(paragraphs: pd.DataFrame) -> Scans:
    """Scan every content paragraph of ``paragraphs`` (one batch, or the whole corpus)."""
    from flows.extract.entities import scan
    from flows.extract.events import countries_said
    from flows.extract.facts import extract_facts
    from flows.extract.quotes import quotes_in

    paras = scan(paragraphs)
    facts = extract_facts(paragraphs, pd.DataFrame())
    scanned = pd.Series([p.para_id for p in paras], dtype="string")
    kept, countries, shared, quotes = {}, {}, {}, {}
    read: dict[str, tuple] = {}  # text -> the countries it names and its quotes (a repeat is read once)
    for p in paras:
        said, quoted = read.get(p.text) or read.setdefault(p.text, (countries_said(p.text), quotes_in(p.text)))
        if said:
            countries[p.para_id] = shared.setdefault(said, said)  # one object per distinct set
        if quoted:
            quotes[p.para_id] = quoted
        if p.found_something():
            p.text = None  # read from the paragraphs table again, through _selected
            kept[p.para_id] = p
    return Scans(kept, facts, scanned, countries, [_pickled(quotes)] if quotes else [])


def combine_scans(parts: list[Scans]) -> Scans:
    """One Scans from the batches' (each paragraph belongs to one batch)."""
    paras: dict = {}
    countries: dict = {}
    quotes: list = []
    for part in parts:
        paras.update(part.paras)
        countries.update(part.countries)
        quotes.extend(part.quotes)
    facts = [p.facts for p in parts if p.facts is not None and len(p.facts)]
    scanned = [p.scanned for p in parts if p.scanned is not None and len(p.scanned)]
    return Scans(paras, pd.concat(facts, ignore_index=True) if facts else None,
                 pd.concat(scanned, ignore_index=True) if scanned else pd.Series([], dtype="string"), countries,
                 quotes)


def subset_scans(scans: Scans, para_ids) -> Scans:
    """The part of ``scans`` about the paragraphs ``para_ids`` (a set): what a batch reuses of the
    documents an earlier batch scanned (``flows.orchestrate.workspace.earlier_documents``)."""
    def kept(d: dict) -> dict:
        return {pid: v for pid, v in d.items() if pid in para_ids}

    ids = list(para_ids)
    facts = None if scans.facts is None else scans.facts[frames.isin(scans.facts["para_id"], ids)]
    scanned = None if scans.scanned is None else scans.scanned[frames.isin(scans.scanned, ids)]
    quotes = kept(unpack_quotes(list(scans.quotes)))
    return Scans(kept(scans.paras), facts, scanned, kept(scans.countries), [_pickled(quotes)] if quotes else [])


def _pickled(obj) -> bytes:
    import pickle

    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def unpack_quotes(parts: list[bytes]) -> dict:
    """``Scans.quotes`` as one dict para_id -> ``flows.extract.quotes.quotes_in`` (``parts`` is emptied as
    it is read)."""
    import pickle

    out: dict = {}
    while parts:
        out.update(pickle.loads(parts.pop()))
    return out


def pack_scans(scans: Scans) -> bytes:
    """``scans`` pickled: how a batch returns them (written to the build's workspace as they are)."""
    return _pickled(scans)


def build_tables(sources: pd.DataFrame, paragraphs: pd.DataFrame, info: pd.DataFrame,
                 rejections: pd.DataFrame, scans: Scans | None = None) -> dict[str, pd.DataFrame]:
    """The extract stage: every table of ``schemas/`` from the cleaned, deduplicated paragraphs
    (and the scans of their content paragraphs, if already made per batch)."""
    from flows.views.views import build_views

    documents = build_documents(sources, paragraphs, info)
    tables = {
        "paragraphs": paragraphs,
        "rejections": build_rejections(rejections),
        **build_records(sources, documents, paragraphs, scans),
    }
    return {**tables, **build_views(tables)}


def _selected(scans: Scans, paragraphs: pd.DataFrame, documents: pd.DataFrame) -> tuple[list, pd.DataFrame]:
    """The scans of the content paragraphs (document order), each reading its text from the
    paragraphs table (:class:`flows.common.frames.TextColumn`: no copy), and their facts, as one corpus
    scan gives."""
    from flows.extract.entities import Para
    from flows.extract.facts import extract_facts
    from flows.extract.spans import content_rows

    rows = content_rows(paragraphs)  # positions in ``paragraphs``, in reading order
    content = paragraphs[["doc_id", "para_id"]].iloc[rows]
    unscanned = ~frames.isin(content["para_id"], scans.scanned if scans.scanned is not None else [])
    if unscanned.any():
        missing = content.loc[unscanned, "para_id"].tolist()
        raise KeyError(f"{len(missing)} content paragraphs were not scanned (e.g. {missing[:3]}): the scans "
                       f"must come from the same cleaned paragraphs")
    texts = frames.TextColumn(paragraphs["text"])
    paras = []
    none: frozenset = frozenset()
    doc_ids: dict[str, str] = {}  # one string object per document, not one per paragraph
    # one object per content paragraph, so each must be cheap: the scans' own records are
    # reused in place (no copy), and the others share empty tuples (nothing appends to them)
    for (doc_id, pid), row in zip(frames.iter_rows(content["doc_id"], content["para_id"]), rows.tolist()):
        doc_id = doc_ids.setdefault(doc_id, doc_id)
        found = scans.paras.get(pid)
        said = scans.countries.get(pid, none)
        if found is None:
            paras.append(Para(doc_id, pid, None, None, (), (), (), (), said, texts, row))
        else:
            found.text, found.countries, found.source, found.row = None, said, texts, row
            paras.append(found)
    facts = scans.facts
    if facts is None or facts.empty:
        return paras, extract_facts(paragraphs.iloc[0:0], documents)
    keep = frames.isin(facts["para_id"], content["para_id"])
    if "doc_id" in documents:
        keep &= frames.isin(facts["doc_id"], documents["doc_id"])
    facts = facts[keep].sort_values(["doc_id", "para_id", "char_start"])
    return paras, conform("facts", facts)


def with_event(records: pd.DataFrame, documents: pd.DataFrame, table: str) -> pd.DataFrame:
    """``records`` (quotes, facts) with ``event_id``: the event their document reports, if any."""
    out = records.copy()
    out["event_id"] = out["doc_id"].map(dict(zip(documents["doc_id"], documents["event_id"])))
    return conform(table, out)


def build_records(sources: pd.DataFrame, documents: pd.DataFrame, paragraphs: pd.DataFrame,
                  scans: Scans | None = None) -> dict[str, pd.DataFrame]:
    """The record tables of the content paragraphs, and ``documents`` with event_id/relevant/dates.

    Returns ``{"documents", "entities", "mentions", "events", "participants", "quotes", "facts",
    "statements"}``: entities and events first, then the paragraph records (quotes resolve their
    speakers against the entities; statements take their event from the documents). ``sources`` is
    the ingest table (kept in the signature for stages that need the raw text; unused here).
    ``scans``: the per-paragraph results made per batch (see the module docstring); by default the
    content paragraphs are scanned here.
    """
    from flows.extract.entities import resolve
    from flows.extract.events import build_events
    from flows.extract.quotes import extract_quotes
    from flows.extract.statements import extract_statements

    if scans is None:
        scans = scan_paragraphs(paragraphs)
    paras, facts = _selected(scans, paragraphs, documents)
    quotes_found = scans.quotes  # packed; every content paragraph was scanned (_selected checks)
    del scans  # its records are in ``paras`` now
    resolution = resolve(paras)
    events, participants, docs = build_events(paras, resolution, documents, paragraphs)
    del paras  # a record and a text a content paragraph, not needed after events: quotes and
    # statements read the paragraphs table
    docs = conform("documents", docs)
    records = {"quotes": with_event(extract_quotes(paragraphs, docs, resolution.entities, unpack_quotes(quotes_found)),
                                    docs, "quotes"),
               "facts": with_event(facts, docs, "facts"),
               "statements": extract_statements(paragraphs, docs)}
    return {
        "documents": docs,
        "entities": resolution.entities,
        "mentions": resolution.mentions,
        "events": events,
        "participants": participants,
        **records,
    }
