"""Reading a published release: a table as a DataFrame, or SQL over every table with DuckDB.

A release is read from an output folder (``output/``, the default) or from a server serving one
(``python -m flows serve``: ``http://HOST:PORT``); ``release`` is ``latest`` or a version ("1.2.0").
Over HTTP, DuckDB reads only the parts of the Parquet files a query needs (its httpfs extension,
shipped in the ``duckdb-ext-httpfs`` package, is loaded from there: nothing is downloaded at run
time); ``load`` fetches the one table's file.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

import schemas
from flows.common import duck
from flows.common.paths import OUTPUT_DIR


def _is_url(source) -> bool:
    return isinstance(source, str) and source.startswith(("http://", "https://"))


def table_location(table: str, release: str = "latest", source: str | Path | None = None) -> str:
    """Where a release's table is: a file path, or a URL."""
    if table not in schemas.tables():
        raise KeyError(f"no table {table!r}: the release has {', '.join(schemas.tables())}")
    source = OUTPUT_DIR if source is None else source
    if _is_url(source):
        return f"{source.rstrip('/')}/{release}/{table}.parquet"
    path = Path(source) / release / f"{table}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: is {Path(source) / release} a release folder?")
    return str(path)


def load(table: str, release: str = "latest", source: str | Path | None = None) -> pd.DataFrame:
    """A table of a release as a DataFrame: ``load("who_took_part")`` reads output/latest;
    ``load("quotes", "1.2.0", "http://127.0.0.1:8000")`` reads from a server."""
    where = table_location(table, release, source)
    if _is_url(where):
        import httpx

        response = httpx.get(where, timeout=60, follow_redirects=True)
        response.raise_for_status()
        return pd.read_parquet(io.BytesIO(response.content))
    return pd.read_parquet(where)


def connect(release: str = "latest", source: str | Path | None = None):
    """A DuckDB connection with a view per table of the release (``SELECT * FROM who_took_part``)."""
    import duckdb

    con = duckdb.connect()
    if _is_url(OUTPUT_DIR if source is None else source):
        con.execute(f"LOAD {duck.literal(_httpfs_extension(duckdb.__version__))}")
    for table in schemas.tables():
        where = duck.literal(table_location(table, release, source))
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet({where})")
    return con


def _httpfs_extension(version: str) -> str:
    """The httpfs extension file of the installed ``duckdb-ext-httpfs`` package."""
    try:
        import duckdb_ext
    except ImportError:
        raise RuntimeError("reading a release over HTTP needs the duckdb-ext-httpfs package "
                           "(in requirements.lock)") from None
    found = sorted(p for base in duckdb_ext.__path__
                   for p in Path(base).glob(f"extensions/v{version}/*/httpfs.duckdb_extension"))
    if not found:
        raise RuntimeError(f"duckdb-ext-httpfs has no httpfs extension for duckdb {version}")
    return str(found[0])


def sql(query: str, release: str = "latest", source: str | Path | None = None) -> pd.DataFrame:
    """The result of a DuckDB query over the release's tables."""
    con = connect(release, source)
    try:
        return con.execute(query).fetch_df()
    finally:
        con.close()
