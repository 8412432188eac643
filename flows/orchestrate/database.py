"""The release's SQLite database, made in a process of its own while the build goes on.

The database (:mod:`flows.publish.sqlite_db`) is made from the tables' Parquet files alone, so it can
be made a table at a time as their files are written, before publishing has chosen a version. For a
large build the flow starts a child process (:mod:`flows.orchestrate.isolate`) once extract has
resolved the entities, which adds the paragraphs table (most of the database: its rows and full-text
search; dedup wrote its file) while extract's later steps run, and then ends; another adds the other
tables once extract has written them, while the flow's process writes the CSV files, the diff and
the zip and validation runs in its own. Publishing waits for it
last (:func:`flows.publish.publish.write_release`'s ``database``) and moves the file in. On a small
corpus the child's start costs more than it saves: publishing makes the database itself.
"""

from __future__ import annotations

from concurrent.futures import wait
from pathlib import Path

import schemas
from flows.orchestrate import isolate
from flows.publish import sqlite_db

APART_MIN_PARAGRAPHS = 50_000  # ~3.5k articles: below, publishing makes the database itself


def apart(n_paragraphs: int) -> bool:
    """Whether the database of a corpus of ``n_paragraphs`` paragraphs is made in a process of its own."""
    return n_paragraphs >= APART_MIN_PARAGRAPHS


class Database:
    """The database of the ``<table>.parquet`` files of ``tables_dir``, made in a child process into
    ``workdir``: :meth:`add` the tables whose files are written, then :meth:`built` waits for it
    (adding the tables not added yet) and returns its path. Use it as a context manager: a child
    still at work when the block ends (a build that failed) is stopped."""

    def __init__(self, tables_dir: Path, workdir: Path):
        self.tables_dir = str(tables_dir)
        self.path = str(Path(workdir) / sqlite_db.DATABASE_FILE)
        self.peak_rss_mb: float | None = None
        self._tables_defs = str(schemas.TABLES_DIR)  # the parent's (tests may point elsewhere)
        self._added: list[str] = []
        self._children: list[tuple[isolate.Child, list]] = []  # each child process, and the steps given it
        self._ending = True  # the last child (none yet) takes no more steps

    @property
    def child(self) -> isolate.Child:
        """The process adding tables now (or the last one)."""
        return self._children[-1][0]

    def _submit(self, fn, *args) -> None:
        if self._ending:  # a new child, once the last has done its steps (one writer at a time)
            wait([step for _, steps in self._children for step in steps])
            self._children.append((isolate.Child(), []))
            self._ending = False
        child, steps = self._children[-1]
        steps.append(child.submit(_in_child, self._tables_defs, fn, *args))

    def add(self, names: list[str], rest_later: bool = False) -> None:
        """Add the rows of the tables ``names`` (their files are written). ``rest_later``: the process
        ends once they are in, and a new one adds the rest (what it holds is not kept while the
        build works on without it)."""
        if not self._children:  # the first process makes the database (none is held before it has work)
            self._submit(sqlite_db.start_database, self.path)
        self._added += names
        self._submit(sqlite_db.add_tables, self.path, self.tables_dir, list(names))
        if rest_later:
            self._children[-1][0].finish()
            self._ending = True

    def built(self) -> Path:
        rest = [name for name in schemas.tables() if name not in self._added]
        if rest:
            self.add(rest)
        self._submit(sqlite_db.finish_database, self.path)
        peaks = [isolate.result_of(step, "the SQLite database")[1] for _, steps in self._children for step in steps]
        self.peak_rss_mb = max(peaks)
        return Path(self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for child, steps in self._children:
            if not all(step.done() for step in steps):
                child.kill()
            child.close()


def _in_child(tables_defs: str, fn, *args):
    _without_pandas()
    schemas.TABLES_DIR = Path(tables_defs)
    return fn(*args)


def _without_pandas() -> None:
    """Keep pandas and numpy out of the database's process: sqlite-utils imports them when it finds
    them (for values of theirs it might be given; it gets DuckDB's Python values), and they would be
    most of what the process holds, beside extract's and validation's peaks."""
    import sys

    for name in ("pandas", "numpy"):
        sys.modules.setdefault(name, None)  # an import of it then fails, as if it were not installed
