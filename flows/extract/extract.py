"""Extract: turn cleaned paragraphs into the published record tables.

``build_documents`` (one row per distinct article, with its counts) and ``build_records`` (entities,
mentions, events, participants, quotes, facts, statements, and the documents with their event,
relevance and dates). The work is done in :mod:`flows.extract.entities`, :mod:`flows.extract.events`,
:mod:`flows.extract.dates`, :mod:`flows.extract.quotes`, :mod:`flows.extract.facts` and :mod:`flows.extract.statements`; only content
paragraphs (status ``content``) are read.

The stage has two parts:

- the per-paragraph scan (:mod:`flows.extract.scans`), which reads one paragraph's text and nothing
  else. It is most of the stage's time, and the flow runs it per batch of documents, right after
  cleaning, and files its tables with that batch: a build after adding one article scans only that
  article. It scans every content paragraph of the batch, before dedup.
- ``build_records(..., scans=...)``: the cross-document work (entity resolution, events,
  participants, quotes' speakers, statements) over the scans of the paragraphs that are still
  content after dedup. Given no scans, it scans those paragraphs itself (same function, same result).
  Its first step, ``resolve_entities``, needs a record of every content paragraph; the rest needs
  records of the documents the events stage can link only. The flow runs the two apart (a large
  build in two processes: :mod:`flows.orchestrate.extract_process`), so that the two sets of records
  are never held with what the other step holds, and gives each step the paragraphs' text of the
  rows it reads only (:func:`records_text`, :func:`content_text`; the records read theirs where
  they are told: ``records_of(..., texts=)``).
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from flows.common import frames
from flows.extract.scans import Scans
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


def build_tables(sources: pd.DataFrame, paragraphs: pd.DataFrame, info: pd.DataFrame,
                 rejections: pd.DataFrame, scans: Scans | None = None,
                 resolved: Resolved | None = None) -> dict[str, pd.DataFrame]:
    """The extract stage: every table of ``schemas/`` from the cleaned, deduplicated paragraphs
    (and the scans of their content paragraphs, if already made per batch; and their entities, if
    resolved already: :func:`resolve_entities`)."""
    from flows.views.views import build_views

    tables = build_record_tables(sources, paragraphs, info, rejections, scans, resolved)
    return {**tables, **build_views(tables)}


def build_record_tables(sources: pd.DataFrame, paragraphs: pd.DataFrame, info: pd.DataFrame,
                        rejections: pd.DataFrame, scans: Scans | None = None,
                        resolved: Resolved | None = None) -> dict[str, pd.DataFrame]:
    """:func:`build_tables` but the views (:mod:`flows.views.views`, made from these tables but
    the paragraphs)."""
    documents = build_documents(sources, paragraphs, info)
    return {
        "paragraphs": paragraphs,
        "rejections": build_rejections(rejections),
        **build_records(sources, documents, paragraphs, scans, resolved),
    }


def record_tables_but_quotes(sources: pd.DataFrame, paragraphs: pd.DataFrame, info: pd.DataFrame,
                             rejections: pd.DataFrame, scans: Scans | None = None,
                             resolved: Resolved | None = None) -> tuple[dict[str, pd.DataFrame], pa.Table]:
    """:func:`build_record_tables` but the quotes, and the scans' quotes (:func:`build_quotes`
    makes the table). Of the paragraphs' text it reads only that of :func:`records_text`'s rows."""
    documents = build_documents(sources, paragraphs, info)
    del sources, info  # in the documents now: not held through the events stage
    records, quotes_found = records_but_quotes(documents, paragraphs, scans, resolved)
    return {"paragraphs": paragraphs, "rejections": build_rejections(rejections), **records}, quotes_found


def with_quotes(tables: dict[str, pd.DataFrame], quotes: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``tables`` with the quotes table, in the order :func:`build_records` gives them."""
    out = {name: df for name, df in tables.items() if name not in RECORD_TABLES}
    return {**out, **{name: quotes if name == "quotes" else tables[name] for name in RECORD_TABLES}}


RECORDS_READ = ("para_id", "doc_id", "position", "status", "text")  # what records_of reads of the paragraphs
QUOTES_READ = RECORDS_READ  # what build_quotes reads of the paragraphs
# what record_tables_but_quotes reads of the paragraphs (reason and cluster_id among them: the
# events stage and the statements read them when a frame has them)
RECORD_TABLES_READ = (*RECORDS_READ, "reason", "duplicate_of", "cluster_id")


def content_text(rows: pa.Table) -> pa.ChunkedArray:
    """Of the paragraphs ``rows`` (Arrow), those whose text :func:`build_quotes` reads: the content
    paragraphs (a ``keep_text`` of ``flows.orchestrate.workspace.read_frame``)."""
    return pc.equal(rows.column("status"), "content")


def records_text(linkable: list):
    """Which paragraphs' text :func:`records_but_quotes` reads, given the documents the events stage
    can link (:func:`resolve_entities`): the titles (the documents'), every document's short first
    lines (one may give its date: :func:`flows.extract.editions.published_in_text`), and every
    paragraph of the linkable documents (their records, dates and statements). A function of
    paragraphs' rows (Arrow), as :func:`content_text`."""
    from flows.extract import editions

    def keep(rows: pa.Table) -> pa.ChunkedArray:
        doc_ids = rows.column("doc_id")
        head = pc.and_kleene(pc.less(rows.column("position"), editions.HEAD_LINES),
                             pc.less_equal(pc.utf8_length(rows.column("text")), editions.MAX_DATE_LINE))
        return pc.or_kleene(pc.or_kleene(pc.equal(rows.column("status"), "title"), head),
                            pc.is_in(doc_ids, value_set=pa.array(list(linkable), doc_ids.type)))

    return keep


def records_of(scans: Scans, paragraphs: pd.DataFrame, doc_ids=None, texts=None) -> list:
    """The records of the content paragraphs (of the documents ``doc_ids`` only, if given), in
    document order, each reading its text from the paragraphs table
    (:class:`flows.common.frames.TextColumn`: no copy), as one corpus scan gives. Only the columns
    :data:`RECORDS_READ` are read (entity resolution reads nothing else). ``texts``: where the
    records read their text instead, by the paragraphs' positions (then ``paragraphs`` needs no
    text column: e.g. :class:`flows.common.parquet_tables.FileColumn`)."""
    from flows.extract.entities import Para
    from flows.extract.scans import paras_of, subset_scans
    from flows.extract.spans import content_rows

    rows = content_rows(paragraphs, doc_ids)  # positions in ``paragraphs``, in reading order
    content = paragraphs[["doc_id", "para_id"]].iloc[rows]
    unscanned = ~frames.isin(content["para_id"], scans.scanned)
    if unscanned.any():
        missing = content.loc[unscanned, "para_id"].tolist()
        raise KeyError(f"{len(missing)} content paragraphs were not scanned (e.g. {missing[:3]}): the scans "
                       f"must come from the same cleaned paragraphs")
    if doc_ids is not None:  # the others' findings are not made into records
        scans = subset_scans(scans, content["para_id"])
    found_in, countries = paras_of(scans)
    texts = frames.TextColumn(paragraphs["text"]) if texts is None else texts
    paras = []
    none: frozenset = frozenset()
    doc_ids_seen: dict[str, str] = {}  # one string object per document, not one per paragraph
    # one object per content paragraph, so each must be cheap: those where the scan found nothing
    # share empty tuples (nothing appends to them)
    for (doc_id, pid), row in zip(frames.iter_rows(content["doc_id"], content["para_id"]), rows.tolist()):
        doc_id = doc_ids_seen.setdefault(doc_id, doc_id)
        found = found_in.get(pid)
        said = countries.get(pid, none)
        if found is None:
            paras.append(Para(doc_id, pid, None, None, (), (), (), (), said, texts, row))
        else:
            found.doc_id, found.countries, found.source, found.row = doc_id, said, texts, row
            paras.append(found)
    return paras


def _facts(scans: Scans, paragraphs: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """The scans' facts of the content paragraphs of ``documents``, in document order."""
    facts = scans.facts
    if facts.empty:
        return facts
    content = paragraphs["para_id"][paragraphs["status"] == "content"]  # (as content_rows, unordered)
    keep = frames.isin(facts["para_id"], content)
    if "doc_id" in documents:
        keep &= frames.isin(facts["doc_id"], documents["doc_id"])
    facts = facts[keep].sort_values(["doc_id", "para_id", "char_start"])
    return conform("facts", facts)


class Resolved(NamedTuple):
    """What :func:`resolve_entities` gives the rest of the stage."""

    resolution: object     # flows.extract.entities.Resolution: the entities and mentions tables
    linkable: list         # the doc_ids the events stage can link (flows.extract.events.linkable)


def resolve_entities(paras: list) -> Resolved:
    """Entity resolution over the records of every content paragraph (:func:`records_of`; it is
    corpus-wide: a person's name, title and country come from every document), and the documents
    the events stage can link, which alone it needs records of."""
    from flows.extract.entities import resolve
    from flows.extract.events import linkable

    return Resolved(resolve(paras), linkable(paras))


def mentions_read(mentions: pd.DataFrame, linkable: list) -> pd.DataFrame:
    """The rows of the ``mentions`` table :func:`records_but_quotes` reads (given the documents the
    events stage can link): their mentions. Its ``mentions`` table is then those rows only."""
    return mentions[frames.isin(mentions["doc_id"], list(linkable))].reset_index(drop=True)


def with_event(records: pd.DataFrame, documents: pd.DataFrame, table: str) -> pd.DataFrame:
    """``records`` (quotes, facts) with ``event_id``: the event their document reports, if any."""
    out = records.copy()
    out["event_id"] = out["doc_id"].map(dict(zip(documents["doc_id"], documents["event_id"])))
    return conform(table, out)


RECORD_TABLES = ("documents", "entities", "mentions", "events", "participants", "quotes", "facts", "statements")


def build_records(sources: pd.DataFrame, documents: pd.DataFrame, paragraphs: pd.DataFrame,
                  scans: Scans | None = None, resolved: Resolved | None = None) -> dict[str, pd.DataFrame]:
    """The record tables of the content paragraphs, and ``documents`` with event_id/relevant/dates.

    Returns ``{"documents", "entities", "mentions", "events", "participants", "quotes", "facts",
    "statements"}``: entities and events first, then the paragraph records (quotes resolve their
    speakers against the entities; statements take their event from the documents). ``sources`` is
    the ingest table (kept in the signature for stages that need the raw text; unused here).
    ``scans``: the per-paragraph results made per batch (see the module docstring); by default the
    content paragraphs are scanned here. ``resolved``: :func:`resolve_entities` of the same
    paragraphs and scans, if already made (a large build makes it in a process of its own).
    """
    records, quotes_found = records_but_quotes(documents, paragraphs, scans, resolved)
    return with_quotes(records, build_quotes(paragraphs, records["documents"], records["entities"], quotes_found))


def records_but_quotes(documents: pd.DataFrame, paragraphs: pd.DataFrame, scans: Scans | None = None,
                       resolved: Resolved | None = None) -> tuple[dict[str, pd.DataFrame], pa.Table]:
    """:func:`build_records` but the quotes, and the scans' quotes for :func:`build_quotes` (a large
    build makes that table with other paragraphs' text: :func:`records_text`, :func:`content_text`)."""
    from flows.extract.events import build_events
    from flows.extract.scans import scan_paragraphs
    from flows.extract.statements import extract_statements

    if scans is None:
        scans = scan_paragraphs(paragraphs)
    if resolved is None:
        resolved = resolve_entities(records_of(scans, paragraphs))
    resolution = resolved.resolution
    facts = _facts(scans, paragraphs, documents)
    paras = records_of(scans, paragraphs, resolved.linkable)  # the events stage's: made again, for its documents
    scans.keep_only_quotes()  # the records and facts hold what the other tables did
    quotes_found = scans.quotes  # every content paragraph was scanned (records_of checks)
    del scans
    events, participants, docs = build_events(paras, resolution, documents, paragraphs)
    del paras  # statements read the paragraphs table
    docs = conform("documents", docs)
    return {
        "documents": docs,
        "entities": resolution.entities,
        "mentions": resolution.mentions,
        "events": events,
        "participants": participants,
        "facts": with_event(facts, docs, "facts"),
        "statements": extract_statements(paragraphs, docs),
    }, quotes_found


def build_quotes(paragraphs: pd.DataFrame, documents: pd.DataFrame, entities,
                 quotes_found: pa.Table) -> pd.DataFrame:
    """The quotes table: the quotes the scans found (``quotes_found``, their table), with their
    speakers (``entities``: the table, or its ``flows.extract.quotes.EntityIndex``) and events
    (``documents`` with event_id, as :func:`records_but_quotes` gives them). Of the paragraphs'
    text it reads the content paragraphs' only."""
    from flows.extract.quotes import extract_quotes
    from flows.extract.scans import quotes_of

    return with_event(extract_quotes(paragraphs, documents, entities, quotes_of(quotes_found)), documents, "quotes")
