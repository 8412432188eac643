"""Validation reads a release's Parquet files a few columns at a time (flows.common.parquet_tables): the
report is the one the frames in memory give, also for broken tables, and the files may be moved or
removed once they are open."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import schemas
from flows.common import frames, parquet_tables
from flows.common.parquet_tables import ParquetTables, suite_columns
from flows.publish import csv_files
from flows.validate import validate

pytestmark = pytest.mark.slow


def _write(tables: dict, folder):
    folder.mkdir()
    for name, df in tables.items():
        parquet_tables.write_parquet(name, df, folder / f"{name}.parquet")
    return folder


def _broken(seed_tables) -> dict:
    """A dangling foreign key, a repeated key and a mention whose text is not at its offsets."""
    tables = {k: seed_tables[k].copy() for k in schemas.tables()}
    tables["paragraphs"].loc[7, "doc_id"] = "d0000000000000000"
    tables["entities"].loc[1, "entity_id"] = tables["entities"].loc[0, "entity_id"]
    tables["mentions"].loc[0, "char_start"] += 1
    return tables


def _report(report) -> dict:
    out = report.to_json()
    return json.loads(json.dumps(out, default=str))


@pytest.mark.parametrize("broken", [False, True])
def test_the_parquet_files_give_the_report_of_the_frames(seed_tables, tmp_path, broken, monkeypatch):
    monkeypatch.setattr(parquet_tables, "REREAD_MIN_ROWS", 0)  # long text read again as for a large corpus
    tables = _broken(seed_tables) if broken else {k: seed_tables[k].copy() for k in schemas.tables()}
    from_frames = validate.validate(tables, tmp_path / "a")
    from_files = validate.validate(ParquetTables(_write(tables, tmp_path / "files")), tmp_path / "b")
    assert _report(from_files) == _report(from_frames)
    assert from_files.passed is (not broken)
    if broken:
        failed = {(f.table, f.expectation) for f in from_files.blocking}
        assert {("paragraphs", "expect_column_values_to_be_keys_of"),
                ("entities", "expect_column_values_to_be_unique"),
                ("mentions_in_paragraphs", "expect_text_at_span_to_equal")} <= failed


def test_columns_are_read_as_asked_and_let_go(seed_tables, tmp_path):
    from flows.common import frames

    store = ParquetTables(_write({k: seed_tables[k] for k in schemas.tables()}, tmp_path / "files"))
    assert store.frames == {}
    store.load({"paragraphs": {"text", "para_id"}})
    part = store.frames["paragraphs"]
    assert list(part.columns) == ["para_id", "text"]  # the table's order
    expected = schemas.conform("paragraphs", seed_tables["paragraphs"])[["para_id", "text"]]
    pd.testing.assert_frame_equal(part, frames.with_python_text(expected))  # long text as a suite holds it
    store.load({"paragraphs": set(schemas.table("paragraphs").columns)})
    pd.testing.assert_frame_equal(store.frames["paragraphs"],
                                  frames.with_python_text(schemas.conform("paragraphs", seed_tables["paragraphs"])))
    store.keep({"paragraphs": {"text"}})
    assert list(store.frames["paragraphs"].columns) == ["text"]
    store.keep({})
    assert store.frames == {}


def test_long_text_the_next_suite_does_not_read_is_let_go_and_read_again_later(seed_tables, tmp_path, monkeypatch):
    """Validation holds a large corpus's paragraph text (Python strings, the largest column) only
    while the suites reading it run one after another; a later one reads it again."""
    from flows.common import frames

    monkeypatch.setattr(parquet_tables, "REREAD_MIN_ROWS", len(seed_tables["paragraphs"]))
    store = ParquetTables(_write({k: seed_tables[k] for k in schemas.tables()}, tmp_path / "files"))
    later = {"paragraphs": {"para_id", "text", "status"}}
    store.load(later)  # long text as Python strings, as the suites hold it
    assert frames.holds_python_text(store.frames["paragraphs"]["text"])
    assert not frames.holds_python_text(store.frames["paragraphs"]["status"])
    store.keep(later, {"paragraphs": {"para_id", "text"}})  # the next suite reads it: kept
    assert list(store.frames["paragraphs"].columns) == ["para_id", "text", "status"]
    store.keep(later, {"paragraphs": {"para_id"}})
    # status is short text (not converted): held until no later suite reads it
    assert list(store.frames["paragraphs"].columns) == ["para_id", "status"]
    store.load(later)
    expected = schemas.conform("paragraphs", seed_tables["paragraphs"])[["para_id", "text", "status"]]
    pd.testing.assert_frame_equal(store.frames["paragraphs"], frames.with_python_text(expected))
    monkeypatch.setattr(parquet_tables, "REREAD_MIN_ROWS", len(seed_tables["paragraphs"]) + 1)
    store.keep(later, {"paragraphs": {"para_id"}})  # a smaller table: its text is held
    assert list(store.frames["paragraphs"].columns) == ["para_id", "text", "status"]


def test_open_files_are_read_after_they_are_moved_or_removed(seed_tables, tmp_path):
    files = _write({k: seed_tables[k] for k in schemas.tables()}, tmp_path / "files")
    store = ParquetTables(files)
    moved = tmp_path / "release"
    files.rename(moved)
    (moved / "mentions.parquet").unlink()
    store.load({"mentions": {"mention_id", "text"}, "paragraphs": {"para_id"}})
    assert len(store.frames["mentions"]) == len(seed_tables["mentions"])
    assert store.column("paragraphs", "para_id").tolist() == seed_tables["paragraphs"]["para_id"].tolist()


def test_a_missing_file_is_a_clear_error(seed_tables, tmp_path):
    files = _write({k: seed_tables[k] for k in schemas.tables()}, tmp_path / "files")
    (files / "quotes.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="quotes"):
        ParquetTables(files)


def test_a_view_reads_only_its_columns():
    views = schemas.views()
    reads = suite_columns("mentions_in_paragraphs", views)
    assert reads["paragraphs"] == {"para_id", "text"}
    assert reads["mentions"] < set(schemas.table("mentions").columns)
    assert suite_columns("quotes", views) == {"quotes": set(schemas.table("quotes").columns)}


def test_no_suite_frame_outlives_its_suite(seed_tables, tmp_path, monkeypatch):
    """GX's execution engine caches every batch's frame for the context's life; validation drops
    them after each suite, so the tables and views are not all held at once."""
    import gc
    import weakref

    seen = []
    frame_to_validate = validate.frame_to_validate

    def watched(name, tables, views):
        if seen:
            gc.collect()
            assert seen[-1][1]() is None, f"the frame of suite {seen[-1][0]!r} is still held"
        df = frame_to_validate(name, tables, views)
        seen.append((name, weakref.ref(df)))
        return df

    monkeypatch.setattr(validate, "frame_to_validate", watched)
    files = _write({k: seed_tables[k] for k in schemas.tables()}, tmp_path / "files")
    assert validate.validate(ParquetTables(files), tmp_path / "work").passed
    gc.collect()
    assert len(seen) == len(schemas.tables()) + len(schemas.views())
    assert [name for name, ref in seen if ref() is not None] == []


def test_a_table_read_in_row_groups_is_the_table_and_its_csv_the_same(seed_tables, tmp_path):
    folder = _write({k: seed_tables[k] for k in schemas.tables()}, tmp_path / "files")
    mentions = schemas.conform("mentions", seed_tables["mentions"])
    parquet_tables.write_parquet("mentions", mentions, folder / "mentions.parquet", rows=7)  # several row groups
    store = ParquetTables(folder)
    parts = list(store.parts("mentions"))
    assert len(parts) == -(-len(mentions) // 7) > 1
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), mentions)
    assert [list(p.columns) for p in store.parts("mentions", ["text"])][:1] == [["text"]]
    csv_files.write_csv("mentions", mentions, tmp_path / "whole.csv")
    csv_files.write_csv("mentions", store.path("mentions"), tmp_path / "file.csv")
    assert (tmp_path / "whole.csv").read_bytes() == (tmp_path / "file.csv").read_bytes()
    empty = schemas.empty_frame("events")
    parquet_tables.write_parquet("events", empty, folder / "events.parquet")
    assert list(ParquetTables(folder).parts("events")) == []
    csv_files.write_csv("events", ParquetTables(folder).path("events"), tmp_path / "empty.csv")
    assert (tmp_path / "empty.csv").read_bytes() == csv_files.csv_bytes("events", empty)


def test_tables_are_written_in_their_row_order_a_row_group_at_a_time(seed_tables, tmp_path, monkeypatch):
    """``write_tables`` takes a shuffled table's rows in published order a row group at a time (no
    sorted copy): the file is the sorted table, and the same bytes as writing the sorted copy."""
    from flows.common import parquet_tables

    monkeypatch.setattr(parquet_tables, "PARQUET_ROW_GROUP", 7)
    tables = {k: schemas.conform(k, seed_tables[k]) for k in schemas.tables()}
    shuffled = {k: v.sample(frac=1, random_state=3) for k, v in tables.items()}
    assert parquet_tables.row_order("mentions", shuffled["mentions"]) is not None
    assert parquet_tables.row_order("mentions", parquet_tables.sort_table("mentions", tables["mentions"])) is None
    folder = parquet_tables.write_tables(shuffled, tmp_path / "shuffled")
    store = ParquetTables(folder)
    for name in schemas.tables():
        expected = parquet_tables.sort_table(name, shuffled[name])
        pd.testing.assert_frame_equal(store[name].reset_index(drop=True), expected, check_dtype=False)
        parquet_tables.write_parquet(name, expected, tmp_path / f"{name}.sorted.parquet")
        assert (folder / f"{name}.parquet").read_bytes() == (tmp_path / f"{name}.sorted.parquet").read_bytes()
    assert len(list(store.parts("mentions"))) > 1


def test_validation_reads_long_text_a_row_group_at_a_time(seed_tables, tmp_path, monkeypatch):
    """What a suite reads of its files is the frame it would be given, long text as Python strings
    (``with_python_text``), but the text is made a row group at a time: its Arrow column is never
    read whole beside it. Short text and ids stay in Arrow; a column read alone comes whole too."""
    import pyarrow.parquet as pq

    from flows.common import frames

    folder = _write({k: seed_tables[k] for k in schemas.tables()}, tmp_path / "files")
    paragraphs = schemas.conform("paragraphs", seed_tables["paragraphs"])
    parquet_tables.write_parquet("paragraphs", paragraphs, folder / "paragraphs.parquet", rows=5)
    store = ParquetTables(folder)
    columns = schemas.table("paragraphs").columns
    reads = []
    whole = pq.ParquetFile.read

    def read(self, columns=None, **kwargs):
        reads.append(list(columns or []))
        return whole(self, columns=columns, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read", read)
    got = store.read("paragraphs", columns, python_text=True)
    assert "text" not in sum(reads, []) and store._files["paragraphs"].num_row_groups > 1
    pd.testing.assert_frame_equal(got, frames.with_python_text(store.read("paragraphs", columns)))
    assert frames.holds_python_text(got["text"]) and not frames.holds_python_text(got["para_id"])
    pd.testing.assert_frame_equal(store.read("paragraphs", ["text"], python_text=True), got[["text"]])
    store.load({"paragraphs": {"para_id"}})
    store.load({"paragraphs": {"para_id", "text"}})  # what the views' suites do
    assert frames.holds_python_text(store.frames["paragraphs"]["text"])


def test_a_table_sorted_from_a_frame_file_is_the_table_written_from_its_frame(seed_tables, tmp_path):
    """The flow writes the release's paragraphs from dedup's frame file, sorted by DuckDB
    (write_sorted): the same rows, order and schema as write_tables gives from the frame."""
    import pyarrow.parquet as pq

    from flows.orchestrate import workspace

    paragraphs = seed_tables["paragraphs"].sample(frac=1.0, random_state=5)  # not in the published order
    frame = workspace.write_frame(paragraphs, tmp_path / "frame.parquet")
    parquet_tables.write_tables({"paragraphs": paragraphs}, tmp_path / "whole", ["paragraphs"])
    got = parquet_tables.write_sorted("paragraphs", frame, tmp_path / "sorted", tmp_path / "spill")
    expected = pq.read_table(tmp_path / "whole" / "paragraphs.parquet")
    assert pq.read_table(got).equals(expected)
    assert pq.read_schema(got).equals(expected.schema, check_metadata=True)


def test_rows_read_from_their_row_groups_are_those_rows_of_the_table(seed_tables, tmp_path):
    folder = _write({k: seed_tables[k] for k in schemas.tables()}, tmp_path / "files")
    paragraphs = schemas.conform("paragraphs", seed_tables["paragraphs"])
    parquet_tables.write_parquet("paragraphs", paragraphs, folder / "paragraphs.parquet", rows=25)  # 5 row groups
    columns = ["para_id", "doc_id", "char_start", "text"]
    store = ParquetTables(folder)
    frames_store = parquet_tables.LoadedTables({"paragraphs": paragraphs})
    for start, stop in [(0, 25), (20, 60), (49, 51), (100, len(paragraphs))]:
        expected = paragraphs[columns].iloc[start:stop]
        for source in (store, frames_store):
            got = source.read_rows("paragraphs", columns, start, stop)
            assert list(got.index) == list(range(start, stop))  # each row keeps its position
            assert got["text"].tolist() == expected["text"].tolist()
            assert frames.holds_python_text(got["text"])  # long text as validation holds it
            pd.testing.assert_frame_equal(got.drop(columns="text").reset_index(drop=True),
                                          expected.drop(columns="text").reset_index(drop=True))
