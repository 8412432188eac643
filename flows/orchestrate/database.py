"""The release's SQLite database, made in a process of its own beside publishing.

The database (:func:`flows.publish.sqlite_db.build_database`) is made from the tables' Parquet files
alone, so it can start as soon as extract has written them, before publishing has chosen a version:
a child process (:mod:`flows.orchestrate.isolate`) makes it in the build's folder while the flow's
process writes the CSV files, the diff and the zip, and validation runs in its own. Publishing waits
for it last (:func:`flows.publish.publish.write_release`'s ``database``) and moves the file in. On a
small corpus the child's start costs more than it saves: the database is then made in publishing.
"""

from __future__ import annotations

from pathlib import Path

from flows.orchestrate import isolate

APART_MIN_PARAGRAPHS = 50_000  # ~3.5k articles: below, publishing makes the database itself


def apart(n_paragraphs: int) -> bool:
    """Whether the database of a corpus of ``n_paragraphs`` paragraphs is made in a process of its own."""
    return n_paragraphs >= APART_MIN_PARAGRAPHS


class Database:
    """The database of the ``<table>.parquet`` files of ``tables_dir``, being made in a child process
    into ``workdir``; :meth:`built` waits for it and returns its path. Use it as a context manager:
    a child still at work when the block ends (a build that failed) is stopped."""

    def __init__(self, tables_dir: Path, workdir: Path):
        import schemas
        from flows.publish import sqlite_db

        self.child = isolate.Child()
        self.peak_rss_mb: float | None = None
        self._future = self.child.submit(_build, str(tables_dir), str(Path(workdir) / sqlite_db.DATABASE_FILE),
                                         str(schemas.TABLES_DIR))

    def built(self) -> Path:
        path, self.peak_rss_mb = isolate.result_of(self._future, "the SQLite database")
        return Path(path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if not self._future.done():
            self.child.kill()
        self.child.close()


def _build(tables_dir: str, path: str, tables_defs: str) -> str:
    import schemas
    from flows.publish import sqlite_db

    schemas.TABLES_DIR = Path(tables_defs)  # the parent's table definitions (tests may point elsewhere)
    return str(sqlite_db.build_database(Path(tables_dir), Path(path)))
