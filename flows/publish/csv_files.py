"""The release's CSV files: RFC 4180, UTF-8, CRLF, header from schemas/, lists "|"-joined, nulls
empty, and formula-like text cells neutralised (a leading apostrophe: "CSV injection")."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

import schemas

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


def _neutralise_column(col: pd.Series) -> pd.Series:
    """:func:`neutralise` over a column, vectorised (only text cells can start with a formula sign)."""
    text = col.map(lambda v: v if isinstance(v, str) else None).astype("str") if col.dtype == object else col
    if not isinstance(text.dtype, pd.StringDtype):
        return col
    formula = text.str.startswith(FORMULA_PREFIXES).fillna(False).astype(bool)
    return col.where(~formula, NEUTRALISER + text) if formula.any() else col


def csv_bytes(name: str, df: pd.DataFrame, header: bool = True) -> bytes:
    """The table as RFC 4180 CSV: UTF-8, header from schemas/, lists "|"-joined, nulls empty,
    formula-like cells of text columns (string and list) neutralised. ``header=False``: the rows only
    (a later part of a table written in parts, see :func:`write_csv`)."""
    out = df.copy()
    for f in schemas.table(name).fields:
        if f.type == "list":
            out[f.name] = out[f.name].map(lambda v: neutralise(schemas.LIST_SEPARATOR.join(v)))
        elif f.type == "boolean":
            out[f.name] = out[f.name].map(lambda v: "" if pd.isna(v) else ("true" if v else "false"))
        elif f.type == "string":
            out[f.name] = _neutralise_column(out[f.name])
    buf = io.StringIO()
    out.to_csv(buf, index=False, header=schemas.csv_header(name) if header else False, lineterminator="\r\n")
    return buf.getvalue().encode("utf-8")


CSV_PART_ROWS = 50_000  # rows turned into CSV text at a time (bounds the memory of writing a table)


def write_csv(name: str, df, path: Path, digest=None, part_rows: int = CSV_PART_ROWS) -> None:
    """Write the table's CSV (the bytes of :func:`csv_bytes`) to ``path`` ``part_rows`` rows at a
    time, feeding the same bytes to ``digest`` (a hashlib object) if given: a large table is never
    held as one CSV string (at 1.4 M paragraphs that string and its encoding were ~1.5 GB). ``df``:
    the table, or its parts in order (``flows.common.parquet_tables.ParquetTables.parts``: the table is then
    never held whole)."""
    frames = [df] if isinstance(df, pd.DataFrame) else df
    header = True
    with open(path, "wb") as fh:
        for frame in frames:
            for start in range(0, len(frame), part_rows):
                data = csv_bytes(name, frame.iloc[start:start + part_rows], header=header)
                header = False
                fh.write(data)
                if digest is not None:
                    digest.update(data)
        if header:  # no row: the header alone
            data = csv_bytes(name, schemas.empty_frame(name))
            fh.write(data)
            if digest is not None:
                digest.update(data)


def frame_csv_bytes(df: pd.DataFrame) -> bytes:
    """A frame without a schema (the raw manifest) as CSV, text cells neutralised."""
    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\r\n")
    return buf.getvalue().encode("utf-8")
