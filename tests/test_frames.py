"""flows.common.frames: isin answers as pandas' isin does (it is only faster on large key sets); contains
finds a substring as ``in`` does; iter_rows gives the rows zip gives; TextColumn reads a row of a
text column where Arrow holds it; exact_strings and take_sorted_strings give what pa.array and take
give, in buffers of the result's size; duck.stable_ids gives text.stable_id's ids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from flows.common import duck, frames
from flows.common.text import stable_id

words = st.lists(st.one_of(st.none(), st.text(max_size=4)), max_size=30)


@given(words, words)
def test_isin_agrees_with_pandas(values, keys):
    s = pd.Series(values, dtype="str")
    expected = s.isin([k for k in keys if k is not None]).to_numpy()
    got = frames.isin(s, [k for k in keys if k is not None])
    assert got.dtype == bool and np.array_equal(got, expected)


def test_isin_takes_prepared_keys_and_non_string_values():
    keys = frames.arrow_strings(["1", "3"])
    assert frames.isin(pd.Series([1, 2, 3]), keys).tolist() == [True, False, True]
    assert frames.isin(pd.Series([], dtype="str"), keys).tolist() == []


@given(words, st.text(min_size=1, max_size=2))
def test_contains_agrees_with_pandas(values, part):
    for dtype in ("str", pd.StringDtype("python")):
        s = pd.Series(values, dtype=dtype)
        expected = [v is not None and part in v for v in values]  # a missing value holds nothing
        got = frames.contains(s, part)
        assert got.dtype == bool and got.tolist() == expected


def test_contains_reads_a_column_held_in_several_chunks():
    s = pd.concat([pd.Series(["a@b", "c"], dtype="str"), pd.Series([None, "@"], dtype="str")], ignore_index=True)
    assert frames.contains(s, "@").tolist() == [True, False, False, True]


def test_iter_rows_gives_the_rows_zip_gives_a_block_at_a_time():
    import numpy as np

    from flows.common import frames

    df = pd.DataFrame({"text": pd.array(["a", None, "c\u2019", "d", "e"], dtype="str"),
                       "n": pd.array([1, None, 3, 4, 5], dtype="Int64"), "x": np.arange(5) * 1.5})
    want = list(zip(df["text"], df["n"], df["x"]))
    for block in (1, 2, 5, 100):
        got = list(frames.iter_rows(df["text"], df["n"], df["x"], block=block))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert all((pd.isna(a) and pd.isna(b)) or (not pd.isna(a) and not pd.isna(b) and a == b)
                       for a, b in zip(g, w))
            assert type(g[0]) is type(w[0]) and type(g[2]) is type(w[2])  # str or the missing value; float
    assert list(frames.iter_rows(df["text"].iloc[:0])) == []


@given(st.lists(st.one_of(st.none(), st.text(max_size=6)), max_size=30), st.integers(1, 4))
def test_text_column_reads_each_row_as_the_frame_holds_it(values, parts):
    """A TextColumn gives row i of the column (by position, whatever the index, however many Arrow
    chunks hold it) as a str, or None for a missing value."""
    size = max(1, len(values) // parts)
    chunks = [pd.Series(values[i:i + size], dtype="str") for i in range(0, len(values), size)] or [
        pd.Series([], dtype="str")]
    column = pd.concat(chunks)  # a label index with repeats, and several chunks
    texts = frames.TextColumn(column)
    assert len(texts) == len(values)
    assert [texts[i] for i in range(len(values))] == values


def test_para_text_is_read_from_its_column_or_its_own():
    from flows.extract.entities import Para

    column = frames.TextColumn(pd.Series(["first paragraph", "second \u201cparagraph\u201d"], dtype="str"))
    lazy = Para("d", "p", None, None, (), (), (), (), None, column, 1)
    assert lazy.text == "second \u201cparagraph\u201d"
    lazy.text = "its own"
    assert lazy.text == "its own"
    assert Para("d", "p", "held", None, (), (), (), ()).text == "held"


def test_with_python_text_converts_only_long_text_columns_and_keeps_their_values():
    long = ["x" * 150, None, "é" * 120, "a paragraph " * 20]
    df = pd.DataFrame({"para_id": ["p1", "p2", "p3", "p4"], "text": long, "n": [1, 2, 3, 4]}).astype(
        {"para_id": "str", "text": "str"})
    out = frames.with_python_text(df)
    assert out["text"].dtype.storage == "python" and isinstance(out["text"].dtype, pd.StringDtype)
    assert out["text"].dtype.na_value is df["text"].dtype.na_value  # the same missing value
    assert out["para_id"].dtype == df["para_id"].dtype  # short values stay in Arrow
    assert out["text"].isna().tolist() == [False, True, False, False]
    assert out["text"].tolist()[::2] == df["text"].tolist()[::2]
    assert df["text"].dtype.storage == "pyarrow"  # the frame given is not changed
    # a filter's copy holds the same values
    kept = out[out["n"] > 1]
    assert kept["text"].tolist()[1:] == long[2:] and pd.isna(kept["text"].iloc[0])
    short = df[["para_id", "n"]]
    assert frames.with_python_text(short) is short
    assert frames.with_python_text(df, min_mean_bytes=10_000) is df


def test_with_numpy_integers_converts_only_full_nullable_integer_columns():
    df = pd.DataFrame({"n": [3, 1, 2], "gap": [1, None, 2], "x": [0.5, 1.0, 2.0]}).astype({"n": "Int64", "gap": "Int64"})
    out = frames.with_numpy_integers(df)
    assert out["n"].dtype == np.int64 and out["n"].tolist() == [3, 1, 2]
    assert out["gap"].dtype == "Int64" and out["gap"].isna().tolist() == [False, True, False]  # a missing value stays
    assert df["n"].dtype == "Int64"  # the frame given is not changed
    assert frames.with_numpy_integers(df[["gap", "x"]]).equals(df[["gap", "x"]])
    plain = df[["x"]]
    assert frames.with_numpy_integers(plain) is plain


texts = st.lists(st.text(max_size=6), max_size=30)  # any Unicode, empty strings included


@given(texts)
def test_exact_strings_holds_the_strings_in_buffers_of_their_size(values):
    arr = frames.exact_strings(values)
    arr.validate(full=True)
    assert arr.type == pa.large_string() and arr.to_pylist() == values
    assert arr.buffers()[2].size == sum(len(v.encode("utf-8")) for v in values)


@given(texts, st.lists(st.integers(0, 30), max_size=4), st.integers(0, 2), st.data())
def test_take_sorted_strings_gives_the_rows_take_gives_from_one_array_or_chunks(values, cuts, skip, data):
    """From one array, a slice of one (its buffers start before it) or chunks of any length."""
    whole = pa.array(values, type=pa.large_string())
    skip = min(skip, len(values))
    values, sliced = values[skip:], whole.slice(skip)
    cuts = sorted({min(c, len(values)) for c in cuts})
    chunked = pa.chunked_array([sliced.slice(a, b - a) for a, b in zip([0, *cuts], [*cuts, len(values)])],
                               type=pa.large_string())
    rows = sorted(data.draw(st.sets(st.integers(0, len(values) - 1))) if values else [])
    for source in (sliced, chunked):
        got = frames.take_sorted_strings(source, np.array(rows, dtype=np.int64))
        got.validate(full=True)
        assert isinstance(got, pa.Array) and got.to_pylist() == [values[i] for i in rows]


def test_take_sorted_strings_falls_back_to_take_for_nulls_or_unsorted_rows():
    with_null = pa.array(["a", None, "c"], type=pa.large_string())
    assert frames.take_sorted_strings(with_null, np.array([1, 2])).to_pylist() == [None, "c"]
    plain = pa.array(["a", "b", "c"], type=pa.large_string())
    assert frames.take_sorted_strings(plain, np.array([2, 0])).to_pylist() == ["c", "a"]


@given(st.lists(st.text(max_size=40), max_size=30))
def test_stable_ids_in_duckdb_are_the_ids_stable_id_gives(values):
    assert duck.stable_ids("c", values).to_pylist() == [stable_id("c", v) for v in values]
