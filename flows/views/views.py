"""Views for people: the record tables joined into readable tables, published like the others.

The record tables are normalised (ids everywhere: who took part is an entity id at an event id); an
analyst asking "who headed each delegation at each dialogue?" should not need three joins. Each view
is a DuckDB query over the record tables, declared in ``schemas/tables/`` like any table (``view:
true``: columns, descriptions, checks, dictionary), validated and published with them:

- ``who_took_part``: every participant of every event with its name, office, side, role, the event's
  name and dates, and how many documents and outlets say so;
- ``agreements``: what the parties agreed, affirmed, committed to or discussed, per event and topic,
  with the topic's label and how many documents and outlets carry the statement;
- ``quotes_with_speakers``: every quote with its speaker's name and office, its event, date and outlet;
- ``facts_in_context``: every reported figure with its event, date and outlet.

Every row keeps the provenance of the record it shows (doc_id, para_id, char_start, char_end). A view
adds no fact of its own: it is computed from the published tables only.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa

from flows.common.lexicons import lexicon
from schemas import conform

VIEWS = ("who_took_part", "agreements", "quotes_with_speakers", "facts_in_context")

_EVENT = "e.name AS event_name, e.event_type, e.start_date, e.end_date"

QUERIES = {
    "who_took_part": f"""
        SELECT p.participant_id, p.event_id, {_EVENT}, e.edition, e.location,
               p.entity_id, n.canonical_name AS name, n.entity_type AS participant_type,
               coalesce(p.title, n.title) AS office, p.side, p.role, p.n_documents, p.n_outlets,
               p.doc_id, p.para_id, p.char_start, p.char_end
        FROM participants p JOIN events e USING (event_id) JOIN entities n USING (entity_id)""",
    "agreements": f"""
        SELECT s.statement_id, s.event_id, {_EVENT}, s.topic, t.label AS topic_label, s.verb_class,
               s.party, s.text AS statement, s.n_sources AS n_documents, s.n_outlets,
               s.doc_id, s.para_id, s.char_start, s.char_end
        FROM statements s JOIN events e USING (event_id) LEFT JOIN topics t ON t.topic = s.topic""",
    "quotes_with_speakers": f"""
        SELECT q.quote_id, coalesce(n.canonical_name, q.speaker_label) AS speaker, q.speaker_entity_id,
               n.title AS speaker_office, n.country AS speaker_country, q.text, q.quote_type,
               q.event_id, {_EVENT}, d.published_date, d.outlet,
               q.doc_id, q.para_id, q.char_start, q.char_end
        FROM quotes q JOIN documents d USING (doc_id)
             LEFT JOIN entities n ON n.entity_id = q.speaker_entity_id
             LEFT JOIN events e ON e.event_id = q.event_id""",
    "facts_in_context": f"""
        SELECT f.fact_id, f.value, f.unit, f.subject, f.qualifier, f.text,
               f.event_id, {_EVENT}, d.published_date, d.outlet,
               f.doc_id, f.para_id, f.char_start, f.char_end
        FROM facts f JOIN documents d USING (doc_id) LEFT JOIN events e ON e.event_id = f.event_id""",
}


def topic_labels() -> pd.DataFrame:
    """The statement topics' labels (lexicons/statements.yaml), and "Other"."""
    topics = [(t["id"], t["label"]) for t in lexicon("statements")["topics"]] + [("other", "Other")]
    return pd.DataFrame(topics, columns=["topic", "label"])


def build_views(tables: dict) -> dict[str, pd.DataFrame]:
    """Every view of ``VIEWS``, from the record tables ``tables`` (frames by table name)."""
    con = duckdb.connect()
    try:
        for name in ("documents", "events", "entities", "participants", "statements", "quotes", "facts"):
            con.register(name, tables[name])
        con.register("topics", topic_labels())
        return {name: conform(name, _frame(con.execute(QUERIES[name]))) for name in VIEWS}
    finally:
        con.close()


def _frame(result) -> pd.DataFrame:
    """A query's rows as a frame of Arrow-backed columns (``fetch_df`` would make a Python object of
    every string, and a float of every integer column holding a null)."""
    return result.fetch_arrow_table().to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
