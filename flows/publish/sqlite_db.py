"""The release as one SQLite database for datasette: ``<release>/us-iraq-jscd.db`` and its
``metadata.json``; ``python -m flows explore`` serves them.

The database holds every table of ``schemas/`` with the rows of its Parquet file, typed from the
table's YAML (integer, real, text; booleans as 1/0, dates as ISO text, lists as JSON arrays of
strings, which datasette facets with ``_facet_array``), its primary key, its foreign keys (indexed,
so that datasette's links between rows are quick), an index on each column with a value set (the
columns to facet by) and full-text search (FTS5, porter stemming) on the text of paragraphs and
quotes. ``metadata.json`` gives datasette the dataset's title, licence and source and every
table's and column's description, all from ``schemas/`` and :mod:`flows.publish.releases`.

Made with sqlite-utils from the release's Parquet files, streamed by DuckDB a batch of rows at a
time: a large release's paragraphs (1.4 M, most of its text) are never held in memory at once.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import schemas
from flows.publish.releases import (DATASET_NAME, DATASET_TITLE, LATEST, LICENSES, parse_version, releases,
                                    sha256_file)

DATABASE_NAME = DATASET_NAME  # datasette names a database after its file: /us-iraq-jscd/<table>

DATABASE_FILE = f"{DATABASE_NAME}.db"

METADATA_FILE = "metadata.json"

SQLITE_MEDIATYPE = "application/vnd.sqlite3"

# Columns searchable in datasette (``?_search=``): what people look for words in.
FTS_COLUMNS = {"paragraphs": ["text"], "quotes": ["text"]}

BATCH_ROWS = 10_000  # rows read from Parquet and inserted at a time

# datasette's time limits are sized for a public server; one person exploring a large release (a
# facet over a million paragraphs, a search's count) can wait longer for a complete answer.
SETTINGS = {"facet_time_limit_ms": 1000, "sql_time_limit_ms": 3000}

_SQLITE_TYPES = {"string": str, "integer": int, "number": float, "boolean": bool, "date": str, "list": str}

# How a column's values are stored where SQLite has no type of its own (said in its description).
_STORED_AS = {
    "boolean": "Stored as 1 (true) or 0 (false).",
    "date": "Stored as ISO text (YYYY-MM-DD).",
    "list": "Stored as a JSON array of strings (facet it with _facet_array).",
}


def build_database(tables_dir: Path, path: Path) -> Path:
    """Write the database ``path`` from the ``<table>.parquet`` files of ``tables_dir``: the data
    only (the release's version and date are in ``metadata.json``), so that it can be made before the
    version is chosen. Returns ``path``. The same as :func:`start_database`, :func:`add_tables` of
    every table, then :func:`finish_database`: the flow makes a large build's database in these
    steps, each table as soon as its file is written."""
    start_database(path)
    add_tables(path, tables_dir, list(schemas.tables()))
    return finish_database(path)


def start_database(path: Path) -> None:
    """A new database at ``path`` with every table of ``schemas/``, empty, and their keys."""
    with _open(path, recreate=True) as db:
        for name in schemas.tables():
            _create_table(db, name)
        # added once every table exists: documents and events refer to each other
        db.add_foreign_keys(_foreign_keys())


def add_tables(path: Path, tables_dir: Path, names: list[str]) -> None:
    """The rows of the tables ``names`` from their Parquet files in ``tables_dir``, with their
    full-text search and the indexes of their value sets."""
    with _open(path) as db:
        for name in names:
            _insert_rows(db, name, Path(tables_dir) / f"{name}.parquet")
            if name in FTS_COLUMNS:
                db[name].enable_fts(FTS_COLUMNS[name], tokenize="porter")
            _index_value_sets(db, name)


def finish_database(path: Path) -> Path:
    """The indexes of the foreign keys, and statistics for the query planner (datasette's facets and
    joins on large tables). Returns ``path``."""
    with _open(path) as db:
        db.index_foreign_keys()
        db.analyze()
    return Path(path)


@contextlib.contextmanager
def _open(path: Path, recreate: bool = False):
    import sqlite_utils

    db = sqlite_utils.Database(path, recreate=recreate)
    try:
        # the file is written in a staging folder, fsynced and renamed into place with the release:
        # SQLite's own journal file and syncs would only slow the writing down
        db.execute("PRAGMA journal_mode = MEMORY")
        db.execute("PRAGMA synchronous = OFF")
        yield db
    finally:
        db.close()


def write_metadata(release_dir: Path, version: str, created: str) -> None:
    """datasette's ``metadata.json`` of the release (:func:`metadata`), beside its database."""
    (Path(release_dir) / METADATA_FILE).write_text(json.dumps(metadata(version, created), indent=2),
                                                    encoding="utf-8")


def _create_table(db, name: str) -> None:
    """An empty table with the columns, types, primary key and required columns of ``schemas/``."""
    t = schemas.table(name)
    pk = t.primary_key[0] if len(t.primary_key) == 1 else t.primary_key
    db[name].create({f.name: _SQLITE_TYPES[f.type] for f in t.fields}, pk=pk,
                    not_null=[f.name for f in t.fields if f.required])


def _foreign_keys() -> list[tuple]:
    """Every table's foreign keys as sqlite-utils takes them: (table, column(s), other table, column(s))."""
    def one(columns):
        return columns[0] if len(columns) == 1 else tuple(columns)

    return [(name, one(fk["fields"]), fk["reference"]["resource"], one(fk["reference"]["fields"]))
            for name, t in schemas.tables().items() for fk in t.foreign_keys]


def _index_value_sets(db, name: str) -> None:
    """An index on every column of the table with a value set (``enum``): the columns people facet
    by; datasette then counts a large table's facet from the index within its time limit."""
    for f in schemas.table(name).fields:
        if f.enum:
            db[name].create_index([f.name], find_unique_name=True)


def _insert_rows(db, name: str, parquet: Path) -> None:
    """Insert the table's rows from its Parquet file, :data:`BATCH_ROWS` at a time (:func:`_batches`:
    values made storable there, so they go to sqlite3's ``executemany`` as they are; sqlite-utils'
    ``insert_all`` would inspect every value again)."""
    fields = schemas.table(name).fields
    sql = (f"INSERT INTO [{name}] ({', '.join(f'[{f.name}]' for f in fields)}) "
           f"VALUES ({', '.join('?' for _ in fields)})")
    with db.conn:
        for rows in _batches(name, parquet):
            db.conn.executemany(sql, rows)


def _batches(name: str, parquet: Path):
    """The rows of the table's Parquet file, :data:`BATCH_ROWS` tuples at a time, of values sqlite3
    stores as they are. DuckDB streams them (dates made ISO text in the query) within its memory
    limit: pyarrow's Parquet reader left resident memory that grew with the file."""
    from flows.common import duck

    fields = schemas.table(name).fields
    lists = [i for i, f in enumerate(fields) if f.type == "list"]
    con = duck.connect()
    try:
        rows = con.execute(f"SELECT {', '.join(_stored(f) for f in fields)} "
                           f"FROM read_parquet({duck.literal(parquet)})")
        while batch := rows.fetchmany(BATCH_ROWS):
            yield _lists_as_json(batch, lists) if lists else batch
    finally:
        con.close()


def _stored(field) -> str:
    """The select expression of a column: dates as ISO text (as in CSV), the rest as they are."""
    from flows.common.duck import ident

    column = ident(field.name)
    return f"CAST({column} AS VARCHAR) AS {column}" if field.type == "date" else column


def _lists_as_json(rows: list[tuple], positions: list[int]) -> list[tuple]:
    """``rows`` with the lists at ``positions`` as JSON arrays of strings."""
    out = []
    for row in rows:
        row = list(row)
        for i in positions:
            if row[i] is not None:
                row[i] = json.dumps(row[i], ensure_ascii=False)
        out.append(tuple(row))
    return out


# --- datasette ---------------------------------------------------------------------------------------

def metadata(version: str, created: str) -> dict:
    """datasette's metadata of the release's database: title, description, licence, source, and
    every table's title, description and column descriptions."""
    license_ = LICENSES[0]
    return {
        "title": DATASET_TITLE,
        "description": (f"Release {version}, created {created}: every table of the dataset, one row per "
                        "record, as in its CSV and Parquet files. Search paragraphs and quotes by word; "
                        "lists are JSON arrays of strings, booleans 1/0, dates ISO text."),
        "license": license_["name"],
        "license_url": license_["path"],
        "source": ("News articles: each document's file, outlet and URL are in the documents table, "
                   "every raw input in the release's raw_manifest.csv"),
        "databases": {DATABASE_NAME: {
            "title": DATASET_TITLE,
            "tables": {name: _table_metadata(t) for name, t in schemas.tables().items()},
        }},
    }


def _table_metadata(t) -> dict:
    return {
        "title": t.title,
        "description": t.description,
        "columns": {f.name: " ".join(filter(None, (f.description, _STORED_AS.get(f.type)))) for f in t.fields},
    }


def resource(release_dir: Path) -> dict:
    """The database as a ``datapackage.json`` resource: a plain file (bytes, sha256), as the Parquet
    files are; no Table Schema (it holds every table). Its ``metadata.json`` is not listed, as the
    other descriptors (``datapackage.json``, ``README.md``) are not."""
    path = Path(release_dir) / DATABASE_FILE
    return {
        "name": "database", "title": "All tables as one SQLite database",
        "description": ("Every table of this release with its primary and foreign keys and full-text search "
                        "on paragraphs and quotes; lists as JSON arrays. Open it with datasette and the "
                        f"{METADATA_FILE} beside it (python -m flows explore), or any SQLite client."),
        "path": DATABASE_FILE, "type": "file", "profile": "data-resource", "format": "sqlite",
        "mediatype": SQLITE_MEDIATYPE, "bytes": path.stat().st_size, "hash": "sha256:" + sha256_file(path),
    }


def release_folder(output_dir: Path, version: str = LATEST) -> Path:
    """The folder of release ``version`` (``latest`` or X.Y.Z) in ``output_dir``, resolved: a
    server keeps the release it started on when ``latest`` moves."""
    if version != LATEST:
        parse_version(version)  # a version, not a path
    folder = Path(output_dir) / version
    if not (folder / DATABASE_FILE).is_file():
        known = ", ".join(releases(output_dir)) or "none"
        raise FileNotFoundError(f"no release {version!r} with a database ({DATABASE_FILE}) in {output_dir} "
                                f"(releases: {known}); build one with `python -m flows build`")
    return folder.resolve()


def datasette_app(release_dir: Path):
    """A :class:`datasette.app.Datasette` for the release's database, opened immutable (read-only, and
    datasette may count and cache as it likes: a release never changes), described by its
    ``metadata.json``."""
    from datasette.app import Datasette

    release_dir = Path(release_dir)
    meta = json.loads((release_dir / METADATA_FILE).read_text(encoding="utf-8"))
    return Datasette(immutables=[str(release_dir / DATABASE_FILE)], metadata=meta, settings=SETTINGS)


def explore(output_dir: Path, version: str = LATEST, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Serve release ``version`` of ``output_dir`` in datasette until interrupted."""
    import uvicorn

    folder = release_folder(output_dir, version)
    app = datasette_app(folder).app()
    print(f"exploring release {folder.name} in datasette at http://{host}:{port}/{DATABASE_NAME} (Ctrl+C stops)",
          flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: --host {host} makes the database and its SQL editor reachable from other machines",
              flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
