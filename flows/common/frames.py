"""Small table helpers shared by the stages.

``isin(values, keys)``: ``values.isin(keys)`` for string keys, computed by pyarrow: pandas 3's
Arrow-backed string ``isin`` walks ``keys`` in Python, too slow for the key lookups over whole
tables (para_ids, doc_ids, the foreign keys of validation), which use this one.

``contains(column, substring)``: which values hold ``substring``, computed by pyarrow on the column's
own buffer (the extract stage tests every content paragraph without taking its text out).

``iter_rows(*columns)``: ``zip(*columns)``, converting a block of rows at a time to Python values:
iterating an Arrow-backed column value by value is several times slower than ``tolist()``.

``TextColumn(column)``: a text column left in its Arrow buffer, a row decoded each time it is
read: the extract stage's records of the content paragraphs read their text through one instead
of each holding a Python copy of it.

``with_python_text(df)``: ``df`` with its long-text string columns held as Python strings: what
validation hands GX, which copies the frame it checks for every filter (a row condition, the
non-null rows of a column). Copying an Arrow string column copies its characters; copying Python
strings copies one pointer a row.

``with_numpy_integers(df)``: ``df`` with its nullable integer columns that hold no missing value as
numpy ``int64``: what validation hands GX, whose range checks compare numpy columns at once but
call a Python function per value of a nullable one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def arrow_strings(values) -> pa.Array:
    """``values`` (a Series, array or list) as one pyarrow large_string array (not chunked); missing
    values are null."""
    if isinstance(values, pd.api.extensions.ExtensionArray) and isinstance(values.dtype, pd.StringDtype):
        values = pd.Series(values, copy=False)  # a pandas string array: its Arrow data, not Python objects
    if not isinstance(values, pd.Series):
        values = pd.Series(values, dtype=object)
    if isinstance(values.dtype, pd.StringDtype) or values.dtype == object:
        values = values.astype("str")
    else:
        values = values.astype(str)
    arr = pa.array(values)  # a ChunkedArray when the column's Arrow data is in several chunks
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string())


def exact_strings(values) -> pa.Array:
    """``values`` (Python strings) as a large_string array whose buffers are exactly its size: the
    data is the strings' UTF-8 joined. ``pa.array`` grows its buffers as it goes, and the allocator
    keeps the pages it outgrew resident."""
    encoded = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
    return pa.LargeStringArray.from_buffers(len(encoded), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded)))


def take_sorted_strings(values: pa.Array | pa.ChunkedArray, rows: np.ndarray) -> pa.Array:
    """``values[rows]`` as one array (``values``: large_string, without nulls, one array or chunked;
    ``rows`` ascending, no repeats) whose buffers are exactly the result's size, copied a run of
    consecutive rows at a time. Arrow's ``take`` grows its buffers as it goes and the allocator keeps
    what it outgrew resident, and on a chunked array joins the chunks first."""
    rows = np.asarray(rows, dtype=np.int64)
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    if (values.null_count or not pa.types.is_large_string(values.type)
            or (len(rows) > 1 and np.any(np.diff(rows) <= 0))):
        taken = pa.chunked_array(chunks, type=values.type).take(pa.array(rows))
        return taken.combine_chunks() if isinstance(taken, pa.ChunkedArray) else taken
    bounds = np.cumsum([0] + [len(c) for c in chunks])
    cut = np.searchsorted(rows, bounds)  # rows[cut[i]:cut[i + 1]] are in chunk i
    spans = []  # per chunk: its data and the byte span of each row taken from it
    for i, chunk in enumerate(chunks):
        local = rows[cut[i]:cut[i + 1]] - bounds[i]
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset:chunk.offset + len(chunk) + 1]
        data = chunk.buffers()[2]
        spans.append((np.frombuffer(data, dtype=np.uint8) if data is not None else None,
                      offsets[local], offsets[local + 1], local))
    new_offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(np.concatenate([e - s for _, s, e, _ in spans] or [np.empty(0, np.int64)]), out=new_offsets[1:])
    out = np.empty(int(new_offsets[-1]), dtype=np.uint8)
    for i, (data, starts, ends, local) in enumerate(spans):
        if not len(local):
            continue
        at = new_offsets[cut[i]:cut[i + 1] + 1]  # the result's offsets of this chunk's rows
        breaks = np.flatnonzero(np.diff(local) != 1) + 1  # runs of consecutive rows: one copy each
        for f, l in zip(np.concatenate([[0], breaks]).tolist(), (np.concatenate([breaks, [len(local)]]) - 1).tolist()):
            out[at[f]:at[l + 1]] = data[starts[f]:ends[l]]
    return pa.LargeStringArray.from_buffers(len(rows), pa.py_buffer(new_offsets), pa.py_buffer(out))


def isin(values, keys) -> np.ndarray:
    """Boolean array: is each of ``values`` one of ``keys`` (strings; ``keys`` may be an arrow_strings array)."""
    keys = keys if isinstance(keys, pa.Array) else arrow_strings(keys)
    return pc.is_in(arrow_strings(values), value_set=keys).to_numpy(zero_copy_only=False).astype(bool)


def contains(column: pd.Series, substring: str) -> np.ndarray:
    """Boolean array: does each value of ``column`` (strings) hold ``substring`` (a null: no),
    computed by pyarrow on the column's own Arrow data (its text is not copied)."""
    found = pc.fill_null(pc.match_substring(pa.array(column), substring), False)
    return found.to_numpy(zero_copy_only=False).astype(bool)


ROW_BLOCK = 8192  # rows converted to Python values at a time by iter_rows


def iter_rows(*columns: pd.Series, block: int = ROW_BLOCK):
    """The rows of ``columns`` (Series of one length) as tuples, like ``zip(*columns)``: the same
    values (``Series.tolist()``; integers of a nullable integer column come as ``int``, not numpy
    integers), converted ``block`` rows at a time so that no column is ever held as one Python list."""
    n = len(columns[0]) if columns else 0
    for start in range(0, n, block):
        yield from zip(*(c.iloc[start:start + block].tolist() for c in columns))


class TextColumn:
    """The values of a string column (a Series) as they are held by Arrow: ``column[i]`` is row ``i``
    (by position) as a Python ``str``, decoded each time (``None`` for a null). Nothing is copied;
    it keeps the column's Arrow data alive."""

    __slots__ = ("_array",)

    def __init__(self, column: pd.Series):
        self._array = pa.array(column)  # the column's own Arrow data when it is Arrow-backed

    def __len__(self) -> int:
        return len(self._array)

    def __getitem__(self, i: int) -> str | None:
        return self._array[i].as_py()


LONG_TEXT_BYTES = 100  # mean UTF-8 bytes a value from which with_python_text converts a column


def with_python_text(df: pd.DataFrame, min_mean_bytes: int = LONG_TEXT_BYTES) -> pd.DataFrame:
    """``df`` with each Arrow-backed string column whose values average ``min_mean_bytes`` or more
    held as Python strings instead (pandas' ``StringDtype("python")``, same values, same missing
    value): a copy of such a column, as every row filter makes, is then one pointer a row, not its
    text again. A Python string costs ~50 bytes more than its Arrow form, so short columns (ids,
    codes) stay in Arrow. Returns ``df`` itself when no column qualifies, else a new frame (``df``
    is not changed)."""
    long = {}
    for name in df.columns:
        col = df[name]
        if not (isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow") or not len(col):
            continue
        if is_long_text(pa.array(col), min_mean_bytes):
            long[name] = col.astype(pd.StringDtype("python", na_value=col.dtype.na_value))
    return df.assign(**long) if long else df


def is_long_text(values, min_mean_bytes: int = LONG_TEXT_BYTES) -> bool:
    """Whether the strings ``values`` (an Arrow array) average ``min_mean_bytes`` UTF-8 bytes or more
    (a missing value counts as none)."""
    return len(values) > 0 and (pc.sum(pc.binary_length(values)).as_py() or 0) >= min_mean_bytes * len(values)


def python_text(parts) -> pd.Series:
    """The Arrow string arrays ``parts`` (one column's, in order) as one column of Python strings, as
    :func:`with_python_text` makes long text: each part converted and let go before the next is read."""
    values = np.concatenate([part.to_numpy(zero_copy_only=False) for part in parts] or [np.empty(0, dtype=object)])
    return pd.Series(values, dtype=pd.StringDtype("python", na_value=np.nan))


def holds_python_text(column: pd.Series) -> bool:
    """Whether ``column`` is text held as Python strings (as :func:`with_python_text` makes long text)."""
    return isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "python"


def with_numpy_integers(df: pd.DataFrame, columns=None) -> pd.DataFrame:
    """``df`` with each nullable integer column (``Int64``) that has no missing value as numpy
    ``int64`` (same values); ``columns``: these columns instead, known to have none (a part of a
    table converted as the whole table is). Returns ``df`` itself when no column qualifies, else a
    new frame (``df`` is not changed)."""
    chosen = df.columns if columns is None else [c for c in columns if c in df.columns]
    full = {name: df[name].to_numpy(dtype="int64") for name in chosen
            if isinstance(df[name].dtype, pd.Int64Dtype) and (columns is not None or not df[name].hasnans)}
    return df.assign(**full) if full else df


def document_bounds(doc_ids: pd.Series, part_rows: int) -> list[tuple[int, int]] | None:
    """[start, stop) row ranges of about ``part_rows`` rows, each ending where a document ends;
    None when a document's rows are not consecutive or a row has none."""
    codes, uniques = pd.factorize(doc_ids)
    n = len(codes)
    if not n or (codes < 0).any():
        return None
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    if len(starts) != len(uniques):
        return None
    bounds, start = [], 0
    while start < n:
        i = np.searchsorted(starts, start + part_rows)
        stop = int(starts[i]) if i < len(starts) else n
        bounds.append((start, stop))
        start = stop
    return bounds
