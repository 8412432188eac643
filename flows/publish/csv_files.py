"""The release's CSV files: RFC 4180, UTF-8, CRLF, header from schemas/, lists "|"-joined, nulls
empty, and formula-like text cells neutralised (a leading apostrophe: "CSV injection"). Written by
DuckDB from the tables' Parquet files (or a frame, through its Arrow table)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

import schemas
from flows.common import duck

# A CSV cell a spreadsheet would run as a formula starts with one of these (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


NEUTRALISER = "'"


def neutralise(value):
    """A text cell that a spreadsheet would run as a formula, made inert by a leading apostrophe.

    ``=SUM(A1)`` becomes ``'=SUM(A1)``; anything else is returned unchanged. Parquet keeps the
    original value: only the CSV files carry the apostrophe.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return NEUTRALISER + value
    return value


def _neutralised_sql(expr: str) -> str:
    """SQL of :func:`neutralise` over the text expression ``expr``."""
    formula = " OR ".join(f"starts_with({expr}, {duck.literal(p)})" for p in FORMULA_PREFIXES)
    return f"CASE WHEN {formula} THEN {duck.literal(NEUTRALISER)} || {expr} ELSE {expr} END"


def select_sql(name: str, source: str) -> str:
    """The query of the table's CSV rows from ``source`` (a DuckDB relation with the table's Arrow
    types): columns in ``schemas/`` order, lists "|"-joined, text cells neutralised."""
    columns = []
    for f in schemas.table(name).fields:
        column = duck.ident(f.name)
        if f.type == "list":
            joined = f"array_to_string({column}, {duck.literal(schemas.LIST_SEPARATOR)})"
            columns.append(f"{_neutralised_sql(joined)} AS {column}")
        elif f.type == "string":
            columns.append(f"{_neutralised_sql(column)} AS {column}")
        else:
            columns.append(column)
    return f"SELECT {', '.join(columns)} FROM {source}"


def write_csv(name: str, table, path: Path, digest=None) -> None:
    """Write the table's CSV to ``path`` with DuckDB (streamed: a large table is never held as text),
    feeding its bytes to ``digest`` (a hashlib object) if given. ``table``: the table's Parquet file
    (a path; rows in the file's order) or its frame (rows as they are). Booleans are true/false,
    dates ISO, nulls empty; a text cell is quoted when it holds a comma, quote, line break or "#"."""
    from flows.common.parquet_tables import to_arrow

    con = duck.connect()
    con.execute("SET threads = 1")  # streams in row order; more threads buffer row groups to keep that order
    try:
        if isinstance(table, (str, Path)):
            source = f"read_parquet({duck.literal(table)})"
        else:
            con.register("frame", to_arrow(name, table))
            source = "frame"
        con.execute(f"COPY ({select_sql(name, source)}) TO {duck.literal(path)} "
                    "(FORMAT csv, HEADER, NEW_LINE '\\r\\n')")
    finally:
        con.close()
    if digest is not None:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(block)


_CHUNK = 1 << 20


def csv_bytes(name: str, df: pd.DataFrame) -> bytes:
    """The table's CSV (as :func:`write_csv` writes it) as bytes."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="csv-") as tmp:
        path = Path(tmp) / f"{name}.csv"
        write_csv(name, df, path)
        return path.read_bytes()


def frame_csv_bytes(df: pd.DataFrame) -> bytes:
    """A frame without a schema (the raw manifest) as CSV, text cells neutralised."""
    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\r\n")
    return buf.getvalue().encode("utf-8")
