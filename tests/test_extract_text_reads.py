"""The extract stage holds the paragraphs' text only where a step reads it (flows/orchestrate/extract_process.py):
entity resolution's records read theirs from the release's paragraphs file, a row group at a time; the other
record tables get the text of ``extract.records_text``'s rows, the quotes that of ``extract.content_text``'s,
every other row's text null. None of that may change a table. The dev set's articles with 40 wikinews
articles (which name neither country), as in test_extract_events."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    """The dev set's cleaned, deduplicated paragraphs, their documents and scans, and entity resolution."""
    from tests.extract_fixtures import corpus_dir

    dev, wikinews = corpus_dir("jscd-dev"), corpus_dir("wikinews")
    if dev is None or wikinews is None:
        pytest.skip("the dev set and the wikinews corpus (shared/corpus) are not on this machine")
    from flows.clean import clean
    from flows.dedup import dedup
    from flows.extract import extract
    from flows.extract.scans import scan_paragraphs
    from flows.ingest import ingest

    raw = tmp_path_factory.mktemp("raw")
    for path in [*sorted(dev.glob("*.txt")), *sorted(wikinews.glob("*.txt"))[:40]]:
        shutil.copy(path, raw / path.name)
    sources, _ = ingest.ingest(raw)
    paragraphs, info = clean.clean(sources)
    paragraphs = dedup.dedup(paragraphs)
    scans = scan_paragraphs(paragraphs)
    documents = extract.build_documents(sources, paragraphs, info)
    resolved = extract.resolve_entities(extract.records_of(scans, paragraphs))
    return paragraphs, documents, scans, resolved


def _blanked(paragraphs: pd.DataFrame, keep) -> pd.DataFrame:
    """``paragraphs`` with the text of the rows ``keep`` does not keep null, as the stage reads them."""
    rows = pa.Table.from_pandas(paragraphs, preserve_index=False)
    kept = pc.fill_null(keep(rows), False).to_numpy(zero_copy_only=False)
    out = paragraphs.copy()
    out["text"] = out["text"].where(kept)
    return out


def _records(stage, paragraphs: pd.DataFrame) -> dict:
    from flows.extract import extract

    _, documents, scans, resolved = stage
    return extract.records_but_quotes(documents, paragraphs, dataclasses.replace(scans), resolved)[0]


def _same(got: dict, want: dict) -> bool:
    try:
        for name in want:
            pd.testing.assert_frame_equal(got[name], want[name], check_exact=True, obj=name)
    except AssertionError:
        return False
    return True


def test_the_record_tables_read_only_their_rows_text(stage):
    from flows.extract import extract

    paragraphs, _, _, resolved = stage
    want = _records(stage, paragraphs)
    blanked = _blanked(paragraphs, extract.records_text(resolved.linkable))
    assert blanked["text"].isna().sum() > len(paragraphs) / 3  # the wikinews articles' text, most of it
    assert want["events"].shape[0] and want["statements"].shape[0] and want["documents"]["reference_date"].notna().any()
    assert _same(_records(stage, blanked), want)
    # the rule has teeth: the linkable documents' text alone (no titles, no first lines) is not enough
    linkable_only = _blanked(paragraphs, lambda rows: pc.is_in(rows.column("doc_id"),
                                                                 value_set=pa.array(resolved.linkable, rows.column("doc_id").type)))
    assert not _same(_records(stage, linkable_only), want)


def test_the_quotes_read_only_the_content_paragraphs_text(stage):
    from flows.extract import extract

    paragraphs, _, _, _ = stage
    records, found = extract.records_but_quotes(stage[1], paragraphs, dataclasses.replace(stage[2]), stage[3])
    want = extract.build_quotes(paragraphs, records["documents"], records["entities"], found)
    blanked = _blanked(paragraphs, extract.content_text)
    assert blanked["text"].isna().any() and len(want) > 20
    got = extract.build_quotes(blanked, records["documents"], records["entities"], found)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_entity_resolution_reads_its_records_text_from_the_file_in_order(stage, tmp_path, monkeypatch):
    """The records read their text from the release's paragraphs file (sorted by document, several row
    groups): the same entities and mentions, each row group read once a pass over the paragraphs."""
    from flows.common import parquet_tables
    from flows.extract import extract
    from flows.orchestrate import workspace

    paragraphs, _, scans, resolved = stage
    monkeypatch.setattr(parquet_tables, "PARQUET_ROW_GROUP", 100)
    source = workspace.write_frame(paragraphs, tmp_path / "frame.parquet")
    path = parquet_tables.write_sorted("paragraphs", source, tmp_path / "tables")
    column = parquet_tables.FileColumn(path, "text")
    groups = len(column.starts) - 1
    assert groups > 5
    read = []  # a row of each row group read, in order
    group_of = parquet_tables.FileColumn._group_of
    monkeypatch.setattr(parquet_tables.FileColumn, "_group_of", lambda self, i: read.append(i) or group_of(self, i))
    frame = workspace.read_frame(path, columns=[c for c in extract.RECORDS_READ if c != "text"])
    got = extract.resolve_entities(extract.records_of(dataclasses.replace(scans), frame, texts=column))
    pd.testing.assert_frame_equal(got.resolution.entities, resolved.resolution.entities, check_exact=True)
    pd.testing.assert_frame_equal(got.resolution.mentions, resolved.resolution.mentions, check_exact=True)
    assert got.linkable == resolved.linkable
    assert len(read) <= 3 * groups  # its passes over the paragraphs (organizations, surnames, the mentions' text)
    assert np.all(np.diff(read[:groups]) > 0)


def test_the_quotes_made_over_parts_of_whole_documents_are_those_made_at_once(stage, tmp_path, monkeypatch):
    """A large build makes the quotes a part of the release's paragraphs table at a time (parts of
    whole documents, row groups cut anywhere): the same table."""
    from flows.common import parquet_tables
    from flows.extract import extract
    from flows.orchestrate import extract_process, workspace

    paragraphs, documents, scans, resolved = stage
    records, found = extract.records_but_quotes(documents, paragraphs, dataclasses.replace(scans), resolved)
    want = extract.build_quotes(paragraphs, records["documents"], records["entities"], found)
    monkeypatch.setattr(parquet_tables, "PARQUET_ROW_GROUP", 70)
    monkeypatch.setattr(extract_process, "QUOTE_PART_ROWS", 90)
    source = workspace.write_frame(paragraphs, tmp_path / "frame.parquet")
    path = parquet_tables.write_sorted("paragraphs", source, tmp_path / "tables")
    made = []
    build = extract.build_quotes
    monkeypatch.setattr(extract, "build_quotes", lambda p, *rest: made.append(len(p)) or build(p, *rest))
    got = extract_process._quotes_in_parts(path, records["documents"], records["entities"], found)
    assert len(made) > 5 and sum(made) == len(paragraphs)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
