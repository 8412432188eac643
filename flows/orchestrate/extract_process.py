"""The extract stage and the writing of its tables, in processes of their own for a large corpus.

Extract builds a great many small Python objects on a large corpus (the paragraphs' scans, entity
resolution's rows, the events stage's records). Once they are freed, Python's allocator keeps most of
the arenas they were in, so the flow's process would stay that much larger through publishing, while
the validation process runs beside it. Run in a child process, that memory goes back to the system
when the child ends, before the release is written.

:class:`Extraction` runs the stage in two children (:mod:`flows.orchestrate.isolate`), one after the
other, because its two steps need different records: entity resolution a record of every content
paragraph, the rest records of the documents the events stage can link only
(:func:`flows.extract.extract.resolve_entities`). The flow starts the first as soon as the
per-document batches are done: it reads their scans (which nothing after the batches changes) while
the flow's process accounts and deduplicates, on the core that would otherwise be idle. Then
:meth:`Extraction.run` gives it the paths of the cleaned, deduplicated tables in the build's
workspace (:mod:`flows.orchestrate.workspace`): it resolves the entities, writes the entities and
mentions tables, returns the ids of the documents the events stage can link, and ends. The second
reads the scans, the tables and those two files, runs
:func:`flows.extract.extract.build_record_tables` and writes the other tables' Parquet files
(:func:`write_built`), then makes and writes the views once the paragraphs are let go. ``run`` returns the
:class:`BuiltTables` with the larger of the two peak RSS. The same inputs give the same tables in
either way. Below ``OWN_PROCESS_MIN_PARAGRAPHS`` paragraphs the work stays in the calling process:
starting a child costs more than the memory it gives back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

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


def write_built(tables: dict, folder: Path, seconds: dict | None = None, written: tuple = ()) -> BuiltTables:
    """Write the tables of ``tables`` but those ``written`` already to ``folder/<table>.parquet`` (the
    release's files, in row order) and count what the build summary reports (``tables`` holds the
    paragraphs)."""
    import schemas
    from flows.common import parquet_tables
    from flows.orchestrate import progress

    t0 = time.perf_counter()
    paragraphs = tables["paragraphs"]
    counts = progress.BuildSummary.paragraph_counts(paragraphs)
    words = int(paragraphs["n_words"].sum()) if len(paragraphs) else 0
    parquet_tables.write_tables(tables, Path(folder),
                                [name for name in schemas.tables() if name in tables and name not in written])
    return BuiltTables(folder=str(Path(folder)), rows={name: int(len(df)) for name, df in tables.items()},
                       paragraphs=counts, words=words,
                       seconds={**(seconds or {}), "write tables": time.perf_counter() - t0})


def extract_and_write(inputs: dict, scans: list[str], folder: Path, own_process: bool,
                      written: tuple = ()) -> BuiltTables:
    """The tables of the workspace files ``inputs`` (sources, paragraphs, info, rejections: paths) and
    the batches' ``scans`` files, written to ``folder`` (but those ``written`` there already: the
    flow's dedup writes the paragraphs table); in a child process if ``own_process`` (it reads the
    files itself: nothing is handed over but their paths)."""
    if not own_process:
        from flows.orchestrate import workspace

        return _extract_and_write(inputs, workspace.read_scans([Path(p) for p in scans]), folder, written)
    with Extraction(scans) as extraction:
        return extraction.run(inputs, folder, written)


class Extraction:
    """The extract stage's child processes, the first started with the batches' ``scans`` files (it
    reads them at once); :meth:`run` then makes and writes the tables. Use it as a context manager:
    the last process goes when the block ends (its memory back to the system)."""

    def __init__(self, scans: list[str]):
        from flows.orchestrate import isolate

        self.scans = [str(p) for p in scans]
        self.child = isolate.Child()
        self._read = self.child.submit(_read_scans, self.scans)

    def run(self, inputs: dict, folder: Path, written: tuple = ()) -> BuiltTables:
        """Resolve the entities in the first child, then make and write the rest in a second one, started
        once the first has ended (each holds only its part's records): the entities and mentions
        go from one to the other as their tables' files, with the ids of the documents the events
        stage can link."""
        from dataclasses import replace

        from flows.orchestrate import isolate

        isolate.result_of(self._read, "extract (reading the scans)")
        resolved, peak_1 = isolate.result_of(self.child.submit(_resolve_read, inputs, str(folder)),
                                             "extract (entity resolution)")
        self.child.close(wait=True)
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


_scans_read = None  # in an Extraction's child: the scans it read, until the stage takes them


def _read_scans(paths: list[str]) -> None:
    global _scans_read
    from flows.orchestrate import memory, workspace

    _scans_read = workspace.read_scans([Path(p) for p in paths])
    memory.release_memory()  # what reading the files took (Arrow's pool keeps it otherwise)


RESOLVED = ("entities", "mentions")  # the tables entity resolution writes


def _resolve_read(inputs: dict, folder: str) -> dict:
    """The first part of a large build's extract (in the process that read the scans): entity
    resolution, its two tables written to ``folder``. Returns the documents the events stage can
    link and the seconds taken."""
    global _scans_read
    from flows.common import parquet_tables
    from flows.extract import extract
    from flows.orchestrate import memory, workspace

    t0 = time.perf_counter()
    found, _scans_read = _scans_read, None
    paragraphs = workspace.read_frame(Path(inputs["paragraphs"]), columns=list(extract.RECORDS_READ))
    memory.release_memory()
    with memory.gc_paused():
        paras = extract.records_of(found, paragraphs)
        del found  # all in the records now: nothing else here reads the scans
        resolved = extract.resolve_entities(paras)
    del paras, paragraphs
    seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    tables = {"entities": resolved.resolution.entities, "mentions": resolved.resolution.mentions}
    parquet_tables.write_tables(tables, Path(folder), list(RESOLVED))
    return {"linkable": resolved.linkable, "seconds": seconds, "write_seconds": time.perf_counter() - t0}


def _records_read(inputs: dict, scans: list[str], folder: str, written: tuple, resolved: dict) -> BuiltTables:
    """The rest of a large build's extract, in a second process: the scans and tables read again,
    the entities and mentions from their files."""
    from flows.common import parquet_tables
    from flows.extract.entities import Resolution
    from flows.extract.extract import Resolved
    from flows.orchestrate import workspace

    entities, mentions = (parquet_tables.read_table(name, Path(folder) / f"{name}.parquet") for name in RESOLVED)
    resolution = Resolution.of_tables(entities, mentions)
    return _extract_and_write(inputs, workspace.read_scans([Path(p) for p in scans]), Path(folder),
                              (*written, *RESOLVED), Resolved(resolution, resolved["linkable"]))


def _extract_and_write(inputs: dict, found, folder: Path, written: tuple = (), resolved=None) -> BuiltTables:
    """``found``: the batches' scans, read (a ``flows.extract.scans.Scans``); ``resolved``: their
    entities, if resolved already (``flows.extract.extract.Resolved``)."""
    from dataclasses import replace

    from flows.common import parquet_tables
    from flows.extract import extract
    from flows.orchestrate import memory, workspace
    from flows.views.views import build_views

    t0 = time.perf_counter()
    frames = {name: workspace.read_frame(Path(path)) for name, path in inputs.items()}
    memory.release_memory()  # what reading the files took (Arrow's pool keeps it otherwise)
    with memory.gc_paused():
        tables = extract.build_record_tables(frames.pop("sources"), frames.pop("paragraphs"), frames.pop("info"),
                                             frames.pop("rejections"), found, resolved)
    del found
    seconds = {"extract": time.perf_counter() - t0}
    memory.release_memory()
    built = write_built(tables, folder, seconds, written)
    # the views read the record tables but the paragraphs: those go before the views are made
    del tables["paragraphs"]
    t0 = time.perf_counter()
    views = build_views(tables)
    seconds["extract"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    parquet_tables.write_tables(views, folder, list(views))
    return replace(built, rows={**built.rows, **{name: int(len(df)) for name, df in views.items()}},
                   seconds={**seconds, "write tables": built.seconds["write tables"] + time.perf_counter() - t0})
