"""The build's workspace (flows/orchestrate/workspace.py): the per-document batches filed as Parquet
files, gathered by DuckDB in document order; the tables must be those one pass over the corpus gives,
whatever the batching, and a batch is reused only when all of it is there."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import RAW

from flows.extract import extract
from flows.extract.scans import TABLES as SCAN_TABLES
from flows.extract.scans import Scans
from flows.orchestrate import batches, workspace


@pytest.fixture(scope="module")
def seed_batches():
    """The seeds in batches of one or two files, processed as the flow's documents task does."""
    files, manifest = batches.fingerprint(RAW)
    plan = batches.plan(files, 2)
    assert len(plan) >= 3
    return plan, [batches.process(RAW, b, batches.batch_manifest(b, manifest, first=i == 0))
                  for i, b in enumerate(plan)]


def _in_document_order(results):
    """The batches' sources by file name, and their paragraphs in document order, then position."""
    sources = batches.combine([r.sources for r in results], ["source_file"])
    paragraphs = batches.combine([r.paragraphs for r in results])
    rank = pd.Series(range(len(sources)), index=sources["doc_id"])
    order = np.lexsort((paragraphs["position"].to_numpy(), paragraphs["doc_id"].map(rank).to_numpy()))
    return sources, paragraphs.take(order).reset_index(drop=True)


def _filed(tmp_path, results, order):
    root = tmp_path / "ws"
    return [workspace.write_batch(root, f"batch{i}", results[i]) for i in order]


@pytest.mark.parametrize("order", ["plan", "reversed"])
def test_gathered_tables_are_in_document_order_whatever_the_batch_order(seed_batches, tmp_path, order):
    _, results = seed_batches
    want_sources, want_paragraphs = _in_document_order(results)
    idx = list(range(len(results)))
    filed = _filed(tmp_path, results, idx if order == "plan" else idx[::-1])
    got = {name: workspace.read_frame(path) for name, path in workspace.gather(filed, tmp_path / "run").items()}
    pd.testing.assert_frame_equal(got["sources"], want_sources)
    pd.testing.assert_frame_equal(got["paragraphs"], want_paragraphs)  # same rows, order and dtypes
    assert list(got["info"]["doc_id"]) == list(want_sources["doc_id"])  # document order
    assert list(got["rejections"].columns) == list(results[0].rejections.columns)


def test_band_keys_and_scans_read_back_are_the_batches(seed_batches, tmp_path):
    from flows.dedup import dedup

    _, results = seed_batches
    filed = _filed(tmp_path, results, range(len(results)))
    keys = workspace.read_band_keys([b.path("band_keys") for b in filed])
    want = dedup.combine_paragraph_keys([r.band_keys for r in results])
    assert keys.sketch == want.sketch and keys.para_ids.equals(want.para_ids)
    assert (keys.keys == want.keys).all() and keys.keys.shape[1] > 0
    assert keys.text_ids.equals(want.text_ids) and (keys.text_hashes == want.text_hashes).all()
    assert keys.hashing == want.hashing and len(keys.text_ids) >= len(keys.para_ids)  # short paragraphs: hashes only
    scans = workspace.read_scans([b.path("scans") for b in filed])
    paragraphs = _in_document_order(results)[1]
    content = paragraphs.loc[paragraphs["status"] == "content", "para_id"]
    assert len(content) and set(scans.scanned.to_pylist()) == set(content)


def test_band_keys_file_keeps_the_hashes_of_short_paragraphs_and_keys_of_long_ones(tmp_path):
    from flows.dedup import dedup

    long = "The minister said the talks on security cooperation would continue in Washington next week."
    paragraphs = pd.DataFrame({"para_id": ["p1", "p2", "p3", "p4"], "status": ["content", "content", "title", "content"],
                               "n_words": [15, 2, 15, 15], "text": [long, "Yes.", long, long.upper()]}).astype(
        {"para_id": "str", "status": "str", "text": "str", "n_words": "Int64"})
    made = dedup.paragraph_band_keys(paragraphs)
    assert made.text_ids.to_pylist() == ["p1", "p2", "p4"] and made.para_ids.to_pylist() == ["p1", "p4"]
    got = workspace.read_band_keys([workspace.write_band_keys(made, tmp_path / "k.parquet")])
    assert got.para_ids.to_pylist() == ["p1", "p4"] and (got.keys == made.keys).all()
    assert got.text_ids.to_pylist() == ["p1", "p2", "p4"] and (got.text_hashes == made.text_hashes).all()
    assert got.sketch == made.sketch and got.hashing == made.hashing
    assert (got.text_hashes[:, 0] == got.text_hashes[:, 2]).all()  # the same text once normalised
    keys_only = dedup.ParagraphKeys(made.para_ids, made.keys, made.sketch)  # without hashes: dedup makes them
    got = workspace.read_band_keys([workspace.write_band_keys(keys_only, tmp_path / "k2.parquet")])
    assert got.para_ids.to_pylist() == ["p1", "p4"] and (got.keys == made.keys).all() and got.text_ids is None


def test_extract_from_the_workspace_gives_the_tables_of_a_plain_build(seed_tables, seed_batches, tmp_path):
    """The records made from the gathered files equal those of the plain stage chain (flows.orchestrate.build)."""
    from flows.dedup import dedup
    from flows.ingest import ingest

    _, results = seed_batches
    filed = _filed(tmp_path, results, reversed(range(len(results))))
    f = {name: workspace.read_frame(p) for name, p in workspace.gather(filed, tmp_path / "run").items()}
    sources, paragraphs, info, rejections = ingest.reject_all_boilerplate(
        f["sources"], f["paragraphs"], f["info"], f["rejections"])
    tables = extract.build_tables(sources, dedup.dedup(paragraphs), info, rejections,
                                  workspace.read_scans([b.path("scans") for b in filed]))
    for name in ("documents", "entities", "mentions", "events", "participants", "quotes", "facts", "statements"):
        pd.testing.assert_frame_equal(tables[name], seed_tables[name], obj=name)


def test_a_batch_is_reused_only_when_all_of_it_is_there(seed_batches, tmp_path):
    _, results = seed_batches
    (batch,) = _filed(tmp_path, results, [0])
    assert workspace.existing_batch(tmp_path / "ws", "batch0") == batch
    assert workspace.existing_batch(tmp_path / "ws", "other") is None
    batch.path("paragraphs").unlink()
    assert workspace.existing_batch(tmp_path / "ws", "batch0") is None and not batch.complete()


def test_batches_of_no_paragraphs_gather_to_empty_tables_with_the_columns(seed_batches, tmp_path):
    _, results = seed_batches
    r = results[0]
    empty = batches.BatchResult(r.sources.iloc[0:0], r.rejections, r.paragraphs.iloc[0:0], r.info.iloc[0:0],
                                Scans.empty(), {}, r.band_keys)
    filed = [workspace.write_batch(tmp_path / "ws", "empty", empty)]
    paragraphs = workspace.read_frame(workspace.gather(filed, tmp_path / "run")["paragraphs"])
    assert len(paragraphs) == 0 and list(paragraphs.columns) == list(r.paragraphs.columns)
    assert len(workspace.read_scans([filed[0].path("scans")]).scanned) == 0


def test_the_key_changes_with_the_files_their_manifest_rows_the_code_and_the_rules():
    files, rows = [("a.txt", "1" * 64)], {"a.txt": {"file": "a.txt", "outlet": "X"}}
    key = workspace.batch_key(files, rows, "code", "rules")
    assert key == workspace.batch_key(list(files), dict(rows), "code", "rules")
    assert len({key, workspace.batch_key([("a.txt", "2" * 64)], rows, "code", "rules"),
                workspace.batch_key(files, {"a.txt": {"file": "a.txt", "outlet": "Y"}}, "code", "rules"),
                workspace.batch_key(files, rows, "code2", "rules"),
                workspace.batch_key(files, rows, "code", "rules2")}) == 5


def test_prune_keeps_the_current_batches_and_recent_files(seed_batches, tmp_path):
    import os

    _, results = seed_batches
    old, current = _filed(tmp_path, results, [0, 1])
    assert workspace.prune(tmp_path / "ws", keep=[current.key]) == 0  # too recent: maybe another build's
    for table in (*workspace.BATCH_TABLES, "band_keys", "scans", "done"):
        os.utime(old.path(table), (1, 1))
    assert workspace.prune(tmp_path / "ws", keep=[current.key]) == len(workspace.BATCH_TABLES) + 2 + len(SCAN_TABLES)
    assert current.complete() and not old.path("done").exists()


def test_a_frame_read_from_several_row_groups_has_one_chunk_a_column(tmp_path):
    """Selecting rows of a chunked Arrow column copies all of it first: a large build's paragraphs
    (many row groups) must come back as one chunk a column, with the same values and types."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = pd.DataFrame({"para_id": [f"p{i}" for i in range(1000)], "text": [f"text {i}" for i in range(1000)],
                       "n": range(1000)})
    path = tmp_path / "p.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=100)
    assert pq.ParquetFile(path).num_row_groups == 10
    got = workspace.read_frame(path)
    pd.testing.assert_frame_equal(got, workspace.read_frame(path, ["para_id", "text", "n"]))
    assert got["text"].tolist() == df["text"].tolist() and got["n"].tolist() == df["n"].tolist()
    for name in ("para_id", "text"):  # pyarrow gives a ChunkedArray for a column of several chunks
        assert isinstance(pa.array(got[name]), pa.LargeStringArray), name


def test_an_empty_frame_reads_back_with_its_columns_and_types(tmp_path):
    """A batch or stage may leave no rows: its file (one empty row group, or none: DuckDB's) still
    gives the frame's columns and pandas types, all of them or those asked for."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = pd.DataFrame({"para_id": pd.Series([], dtype="str"), "n": pd.Series([], dtype="Int64")})
    one = workspace.write_frame(df, tmp_path / "one.parquet")
    none = tmp_path / "none.parquet"
    pq.ParquetWriter(none, pa.Table.from_pandas(df, preserve_index=False).schema).close()
    assert [pq.ParquetFile(p).num_row_groups for p in (one, none)] == [1, 0]
    for path in (one, none):
        pd.testing.assert_frame_equal(workspace.read_frame(path), df)
        pd.testing.assert_frame_equal(workspace.read_frame(path, ["n"]), df[["n"]])


def test_a_frame_written_with_a_column_of_another_file_is_the_frame_written_whole(seed_tables, tmp_path, monkeypatch):
    """Dedup writes its paragraphs with the text it did not read (write_frame_with): the file reads back
    as the whole frame written at once, also over several row groups and for no rows; the text read
    from its file by row position (FileColumn.take, or a row at a time) is the frame's."""
    import pyarrow.parquet as pq

    from flows.common.parquet_tables import FileColumn

    monkeypatch.setattr(workspace, "FRAME_ROW_GROUP", 16)
    paragraphs = seed_tables["paragraphs"]
    for name, df in (("all", paragraphs), ("none", paragraphs.iloc[0:0])):
        source = workspace.write_frame(df, tmp_path / f"{name}.parquet")
        marked = workspace.read_frame(source).drop(columns="text").assign(status="content")
        got = workspace.write_frame_with(marked, tmp_path / f"{name}-out.parquet", source, ["text"])
        pd.testing.assert_frame_equal(workspace.read_frame(got), workspace.read_frame(source).assign(status="content"))
        assert pq.ParquetFile(got).num_row_groups == pq.ParquetFile(source).num_row_groups
    rows = np.array([0, 3, 3, 17, 40, 41, len(paragraphs) - 1])
    column = FileColumn(tmp_path / "all.parquet", "text")
    assert pq.ParquetFile(column.path).num_row_groups > 5
    assert column.take(rows).to_pylist() == paragraphs["text"].iloc[rows].tolist()
    assert column.take([]).to_pylist() == []
    for wrong in ([len(paragraphs)], [-1], [5, 4]):  # outside the column, or not ascending
        with pytest.raises(IndexError):
            column.take(wrong)
    # a row at a time (entity resolution's records), in any order: one row group held
    assert [column[i] for i in [*rows, 2, 40, 1]] == paragraphs["text"].iloc[[*rows, 2, 40, 1]].tolist()
    for wrong in (len(paragraphs), -1):
        with pytest.raises(IndexError):
            column[wrong]
    with pytest.raises(ValueError, match="columns"):
        workspace.write_frame_with(marked, tmp_path / "bad.parquet", source, ["text", "status"])


def test_a_frame_read_with_some_rows_text_holds_theirs_alone(seed_tables, tmp_path, monkeypatch):
    """read_frame(keep_text=): the text of the rows kept, the others' null, and no other row's bytes
    held (extract's steps read the text of some rows only)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    monkeypatch.setattr(workspace, "FRAME_ROW_GROUP", 16)
    paragraphs = seed_tables["paragraphs"]
    path = workspace.write_frame(paragraphs, tmp_path / "paragraphs.parquet")
    got = workspace.read_frame(path, keep_text=lambda rows: pc.equal(rows.column("status"), "title"))
    titles = (paragraphs["status"] == "title").to_numpy()
    assert 0 < titles.sum() < len(paragraphs) / 4
    assert got.loc[titles, "text"].tolist() == paragraphs.loc[titles, "text"].tolist()
    assert got.loc[~titles, "text"].isna().all()
    pd.testing.assert_frame_equal(got.drop(columns="text"), workspace.read_frame(path).drop(columns="text"))
    held = pa.Table.from_pandas(got[["text"]]).column("text").nbytes
    kept = sum(len(t.encode()) for t in paragraphs.loc[titles, "text"])
    assert held <= kept + 9 * len(paragraphs)  # the titles' bytes, an offset and a validity bit a row
