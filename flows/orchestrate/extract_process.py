"""The extract stage and the writing of its tables, in processes of their own for a large corpus.

Extract builds a great many small Python objects on a large corpus (the paragraphs' scans, entity
resolution's rows, the events stage's records). Once they are freed, Python's allocator keeps most of
the arenas they were in, so the flow's process would stay that much larger through publishing, while
the validation process runs beside it. Run in a child process, that memory goes back to the system
when the child ends, before the release is written.

The stage runs in three steps, each reading from the build's workspace what it needs and no more
(the paragraphs' text of the rows it reads: ``keep_text`` of
:func:`flows.orchestrate.workspace.read_frame`, the rows given by :mod:`flows.extract.extract`):

1. entity resolution (:func:`_resolve`): the scans and a record of every content paragraph, with
   the content paragraphs' text;
2. the other record tables but the quotes: records of the documents the events stage can link
   only, with the text of those documents, of the titles and of every document's short first
   lines (:func:`flows.extract.extract.records_text`);
3. the quotes, once the paragraphs of step 2 are let go, over parts of whole documents of the
   release's paragraphs table (:func:`_quotes_in_parts`), each with its content paragraphs' text.

:class:`Extraction` runs them in two children (:mod:`flows.orchestrate.isolate`), one after the
other: the first resolves the entities, writes the entities and mentions tables, returns the ids
of the documents the events stage can link, and ends; the second reads those two files back, makes
the rest and writes the tables' Parquet files (:func:`write_built`), then makes and writes the views.
``run`` returns the :class:`BuiltTables` with the larger of the two peak RSS. The same inputs give
the same tables in either way. Below ``OWN_PROCESS_MIN_PARAGRAPHS`` paragraphs the work stays in
the calling process: starting a child costs more than the memory it gives back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

OWN_PROCESS_MIN_PARAGRAPHS = 200_000  # ~15k articles


@dataclass(frozen=True)
class BuiltTables:
    """The tables of a build, written: their folder of Parquet files, and the counts of the summary
    (``seconds``: the time of ``extract`` and ``write tables``; ``peak_rss_mb``: the child's, when
    they ran in a process of their own)."""

    folder: str
    rows: dict
    paragraphs: dict
    words: int
    seconds: dict = field(default_factory=dict)
    peak_rss_mb: float | None = None


def in_own_process(n_paragraphs: int) -> bool:
    """Whether a corpus of ``n_paragraphs`` paragraphs is extracted in a process of its own."""
    return n_paragraphs >= OWN_PROCESS_MIN_PARAGRAPHS


def paragraph_summary(paragraphs: pd.DataFrame) -> dict:
    """What the build summary reports of the paragraphs table: its paragraphs by status, and its words."""
    from flows.orchestrate import progress

    return {"paragraphs": progress.BuildSummary.paragraph_counts(paragraphs),
            "words": int(paragraphs["n_words"].sum()) if len(paragraphs) else 0}


def write_built(tables: dict, folder: Path, counted: dict, seconds: dict | None = None,
                written: tuple = ()) -> BuiltTables:
    """Write the tables of ``tables`` but those ``written`` already to ``folder/<table>.parquet`` (the
    release's files, in row order); ``counted``: :func:`paragraph_summary` of the paragraphs. The
    rows of the tables written already are counted in their files (a step may hold a part of one:
    the mentions the events stage reads)."""
    import pyarrow.parquet as pq

    import schemas
    from flows.common import parquet_tables

    t0 = time.perf_counter()
    folder = Path(folder)
    parquet_tables.write_tables(tables, folder,
                                [name for name in schemas.tables() if name in tables and name not in written])
    rows = {name: pq.ParquetFile(folder / f"{name}.parquet").metadata.num_rows if name in written else len(tables[name])
            for name in schemas.tables() if name in tables or name in written}
    return BuiltTables(folder=str(folder), rows={name: int(n) for name, n in rows.items()},
                       paragraphs=counted["paragraphs"], words=counted["words"],
                       seconds={**(seconds or {}), "write tables": time.perf_counter() - t0})


def extract_and_write(inputs: dict, scans: list[str], folder: Path, own_process: bool,
                      written: tuple = (), once_resolved=None) -> BuiltTables:
    """The tables of the workspace files ``inputs`` (sources, paragraphs, info, rejections: paths) and
    the batches' ``scans`` files, written to ``folder`` (but those ``written`` there already: the
    flow's dedup writes the paragraphs table); in child processes if ``own_process`` (they read the
    files themselves: nothing is handed over but their paths). ``once_resolved``: called with no
    arguments once the entities are resolved (and their process, if any, has ended)."""
    if not own_process:
        t0 = time.perf_counter()
        written = _with_paragraphs(inputs, Path(folder), written)
        resolved = _resolve(Path(folder), scans)
        resolving = time.perf_counter() - t0
        if once_resolved is not None:
            once_resolved()
        built = _records_and_write(inputs, scans, Path(folder), written, resolved)
        return replace(built, seconds={**built.seconds, "extract": resolving + built.seconds["extract"]})
    with Extraction(scans) as extraction:
        return extraction.run(inputs, folder, written, once_resolved)


class Extraction:
    """The extract stage's child processes, for the batches' ``scans`` files; :meth:`run` makes and
    writes the tables. Use it as a context manager: the last process goes when the block ends (its
    memory back to the system)."""

    def __init__(self, scans: list[str]):
        from flows.orchestrate import isolate

        self.scans = [str(p) for p in scans]
        self.child = isolate.Child()

    def run(self, inputs: dict, folder: Path, written: tuple = (), once_resolved=None) -> BuiltTables:
        """Resolve the entities in the first child, then make and write the rest in a second one, started
        once the first has ended (each holds only its part's records): the entities and mentions
        go from one to the other as their tables' files, with the ids of the documents the events
        stage can link. ``once_resolved``: called with no arguments once the first has ended."""
        from flows.orchestrate import isolate

        written = _with_paragraphs(inputs, Path(folder), written)
        resolved, peak_1 = isolate.result_of(self.child.submit(_resolve_read, self.scans, str(folder)),
                                             "extract (entity resolution)")
        self.child.close(wait=True)
        if once_resolved is not None:
            once_resolved()
        self.child = isolate.Child()
        built, peak_2 = isolate.result_of(self.child.submit(_records_read, inputs, self.scans, str(folder), written,
                                                            resolved), "extract")
        seconds = {"extract": resolved["seconds"] + built.seconds["extract"],
                   "write tables": resolved["write_seconds"] + built.seconds["write tables"]}
        return replace(built, seconds=seconds, peak_rss_mb=max(peak_1, peak_2))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        # after a build's extract, the process has ended before publishing starts: its resident
        # memory would otherwise stay beside validation's until it has wound down
        self.child.close(wait=exc_type is None)


RESOLVED = ("entities", "mentions")  # the tables entity resolution writes


def _with_paragraphs(inputs: dict, folder: Path, written: tuple) -> tuple:
    """``written`` with the release's paragraphs table, written to ``folder`` from the input's
    frame if not yet (the flow's dedup writes it): the stage's first step reads it."""
    from flows.common import parquet_tables

    if "paragraphs" in written:
        return written
    parquet_tables.write_sorted("paragraphs", Path(inputs["paragraphs"]), folder)
    return (*written, "paragraphs")


def _resolve(folder: Path, scans: list[str]):
    """Step 1: entity resolution (``flows.extract.extract.Resolved``), from the scans and the
    release's paragraphs table in ``folder``. The records read their text from its file as they
    need it: in the table's order (by document), which is theirs, a row group held at a time."""
    from flows.common.parquet_tables import FileColumn
    from flows.extract import extract
    from flows.orchestrate import memory, workspace

    path = Path(folder) / "paragraphs.parquet"
    found = workspace.read_scans([Path(p) for p in scans])
    paragraphs = workspace.read_frame(path, columns=[c for c in extract.RECORDS_READ if c != "text"])
    memory.release_memory()  # what reading the files took (Arrow's pool keeps it otherwise)
    with memory.gc_paused():
        paras = extract.records_of(found, paragraphs, texts=FileColumn(path, "text"))
        del found, paragraphs  # all in the records now
        return extract.resolve_entities(paras)


def _resolve_read(scans: list[str], folder: str) -> dict:
    """A large build's first extract process: step 1, its two tables written to ``folder``. Returns
    the documents the events stage can link and the seconds taken."""
    from flows.common import parquet_tables

    t0 = time.perf_counter()
    resolved = _resolve(Path(folder), scans)
    seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    tables = {"entities": resolved.resolution.entities, "mentions": resolved.resolution.mentions}
    parquet_tables.write_tables(tables, Path(folder), list(RESOLVED))
    return {"linkable": resolved.linkable, "seconds": seconds, "write_seconds": time.perf_counter() - t0}


def _records_read(inputs: dict, scans: list[str], folder: str, written: tuple, resolved: dict) -> BuiltTables:
    """A large build's second extract process: steps 2 and 3, the entities and mentions read from
    their files."""
    from flows.common import parquet_tables
    from flows.extract import extract
    from flows.extract.entities import Resolution
    from flows.extract.extract import Resolved

    entities, mentions = (parquet_tables.read_table(name, Path(folder) / f"{name}.parquet") for name in RESOLVED)
    mentions = extract.mentions_read(mentions, resolved["linkable"])  # (the file has them all)
    return _records_and_write(inputs, scans, Path(folder), (*written, *RESOLVED),
                              Resolved(Resolution.of_tables(entities, mentions), resolved["linkable"]))


QUOTE_PART_ROWS = 250_000  # paragraphs a part of step 3: its working set a part's, not the corpus's


def _quotes_in_parts(path: Path, documents: pd.DataFrame, entities: pd.DataFrame, found) -> pd.DataFrame:
    """Step 3, the quotes, over parts of whole documents of the release's paragraphs table ``path``
    (sorted by document: the parts' quotes, one after the other, are in the table's order), each
    part's content paragraphs' text read; ``found``: the scans' quotes (an Arrow table)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from flows.common import frames
    from flows.extract import extract
    from flows.extract.quotes import EntityIndex
    from flows.orchestrate import workspace

    index = EntityIndex(entities)  # one for every part: it keeps the speakers' labels it resolved
    doc_ids = workspace.read_frame(path, columns=["doc_id"])["doc_id"]
    bounds = frames.document_bounds(doc_ids, QUOTE_PART_ROWS) or [(0, len(doc_ids))]
    del doc_ids
    parts = []
    for start, stop in bounds:
        paragraphs = workspace.read_frame(path, columns=list(extract.QUOTES_READ), keep_text=extract.content_text,
                                          rows=(start, stop))
        here = found.filter(pc.is_in(found.column("para_id"),
                                     value_set=pa.array(paragraphs["para_id"], found.schema.field("para_id").type)))
        parts.append(extract.build_quotes(paragraphs, documents, index, here))
    return pd.concat(parts, ignore_index=True)


def _records_and_write(inputs: dict, scans: list[str], folder: Path, written: tuple, resolved) -> BuiltTables:
    """Steps 2 and 3 (``resolved``: step 1's ``flows.extract.extract.Resolved``), the tables written."""
    from flows.common import parquet_tables
    from flows.extract import extract
    from flows.orchestrate import memory, workspace
    from flows.views.views import build_views

    t0 = time.perf_counter()
    paragraphs_file = Path(inputs["paragraphs"])
    frames = {name: workspace.read_frame(Path(path)) for name, path in inputs.items() if name != "paragraphs"}
    paragraphs = workspace.read_frame(paragraphs_file, columns=[*extract.RECORD_TABLES_READ, "n_words"],
                                      keep_text=extract.records_text(resolved.linkable))
    found = workspace.read_scans([Path(p) for p in scans])
    memory.release_memory()  # what reading the files took (Arrow's pool keeps it otherwise)
    with memory.gc_paused():
        tables, quotes_found = extract.record_tables_but_quotes(
            frames.pop("sources"), paragraphs, frames.pop("info"), frames.pop("rejections"), found, resolved)
    del found, paragraphs
    counted = paragraph_summary(tables.pop("paragraphs"))
    memory.release_memory()
    with memory.gc_paused():
        quotes = _quotes_in_parts(Path(folder) / "paragraphs.parquet", tables["documents"], tables["entities"],
                                  quotes_found)
    del quotes_found
    tables = extract.with_quotes(tables, quotes)
    del quotes
    seconds = {"extract": time.perf_counter() - t0}
    memory.release_memory()
    built = write_built(tables, folder, counted, seconds, written)
    t0 = time.perf_counter()
    views = build_views(tables)  # (from the record tables: the paragraphs are not among them)
    seconds["extract"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    parquet_tables.write_tables(views, folder, list(views))
    return replace(built, rows={**built.rows, **{name: int(len(df)) for name, df in views.items()}},
                   seconds={**seconds, "write tables": built.seconds["write tables"] + time.perf_counter() - t0})
