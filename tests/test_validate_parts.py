"""Validation in parts (flows/validate/parts.py) reports exactly what validating the tables whole reports."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import schemas
from flows.common import frames
from flows.common.parquet_tables import LoadedTables, ParquetTables, write_tables
from flows.validate import gx_runtime, parts, validate
from flows.validate.gx_suites import build_suite, suite_names

PART_ROWS = 30  # the seeds' 109 paragraphs in four parts


def _broken(seed_tables) -> dict:
    """The seed tables with failures in several parts: row-by-row ones, a para_id repeated in two
    parts (only the whole table shows it), a content paragraph repeated in its document, and
    mentions whose offsets miss their paragraph's text (a view's check)."""
    tables = {k: seed_tables[k].copy() for k in schemas.tables()}
    p = tables["paragraphs"]
    p.loc[70, "cluster_id"] = "bad"
    p.loc[90, "char_end"] = p.loc[90, "char_start"]
    p.loc[100, "para_id"] = p.loc[3, "para_id"]
    doc = p.loc[60, "doc_id"]
    same = p.index[(p.doc_id == doc) & (p.status == "content")]
    p.loc[same[1], "text"] = p.loc[same[0], "text"]
    m = tables["mentions"]
    m.loc[len(m) - 1, "char_end"] = 10**6
    m.loc[2, "char_start"] += 1
    return tables


def _stored(workdir) -> dict:
    """Every suite's result as GX stored it for the Data Docs, without its run's times and ids."""
    found = {}
    for path in (workdir / "gx-project" / "gx" / "uncommitted" / "validations").rglob("*.json"):
        result = json.loads(path.read_text(encoding="utf-8"))
        found[result["suite_name"]] = (result["results"], result["statistics"], result["success"])
    return found


@pytest.mark.parametrize("kind", ["frames", "parquet"])
def test_parts_report_what_the_whole_tables_report(seed_tables, tmp_path, kind):
    tables = _broken(seed_tables)
    source = tables
    if kind == "parquet":
        write_tables(tables, tmp_path / "tables")
        source = ParquetTables(tmp_path / "tables")
    whole = validate.validate(source, tmp_path / "whole")
    in_parts = validate.validate(source, tmp_path / "parts", part_rows=PART_ROWS)

    failed = {(f.table, f.expectation, f.column) for f in whole.failures}
    assert {("paragraphs", "expect_column_values_to_be_unique", "para_id"),
            ("paragraphs", "expect_compound_columns_to_be_unique", "doc_id, text"),
            ("paragraphs", "expect_column_values_to_match_regex", "cluster_id"),
            ("mentions_in_paragraphs", "expect_text_at_span_to_equal",
             "char_start, char_end, paragraph_text, text")} <= failed
    assert in_parts.to_json() == whole.to_json()
    assert _stored(tmp_path / "parts") == _stored(tmp_path / "whole")
    assert len(_stored(tmp_path / "parts")) == len(suite_names())


def _plan(tables, part_rows=PART_ROWS):
    gx_runtime.load_gx()
    return parts.plan(LoadedTables(tables), suite_names(), schemas.views(), build_suite, part_rows)


def test_the_suites_reading_the_text_run_in_parts_of_whole_documents(seed_tables):
    tables = {k: seed_tables[k] for k in schemas.tables()}
    plan = _plan(tables)
    views = schemas.views()
    reading_text = ["paragraphs"] + [n for n in views if any(j.table == "paragraphs" and "text" in dict(j.columns)
                                                            for j in views[n].joins)]
    assert plan.suites == reading_text
    doc_ids = tables["paragraphs"]["doc_id"]
    assert [b[0] for b in plan.bounds[1:]] == [b[1] for b in plan.bounds[:-1]]
    assert plan.bounds[0][0] == 0 and plan.bounds[-1][1] == len(doc_ids) and len(plan.bounds) > 2
    for start, stop in plan.bounds[1:]:
        assert doc_ids.iloc[start] != doc_ids.iloc[start - 1]  # a part never splits a document
    # a table of two parts' rows or fewer runs whole (GX's cost per part, for little memory)
    half = -(-len(doc_ids) // 2)
    assert _plan(tables, part_rows=half) is None and _plan(tables, part_rows=half - 1) is not None


def test_documents_not_in_consecutive_rows_run_whole(seed_tables):
    tables = {k: seed_tables[k] for k in schemas.tables()}
    p = tables["paragraphs"]
    tables["paragraphs"] = pd.concat([p.iloc[::2], p.iloc[1::2]], ignore_index=True)
    assert _plan(tables) is None


def test_which_expectations_are_decided_per_part():
    gx_runtime.load_gx()
    suite = build_suite("paragraphs")

    def decided(kind, **kwargs):
        found = [e for e in suite.expectations if e.expectation_type == kind
                 and all(e.configuration.kwargs.get(k) == v for k, v in kwargs.items())]
        assert found
        return {parts.decided_per_part(e, parts.DOCUMENT) for e in found}

    assert decided("expect_column_values_to_match_regex", column="para_id") == {True}
    assert decided("expect_span_length_to_equal_text_length") == {True}
    assert decided("expect_compound_columns_to_be_unique") == {True}  # (doc_id, text): within a document
    assert decided("expect_column_values_to_be_unique", column="para_id") == {False}
    assert decided("expect_table_row_count_to_be_between") == {False}
    compound = next(e for e in suite.expectations if e.expectation_type == "expect_compound_columns_to_be_unique")
    assert not parts.decided_per_part(compound, None)  # parts not cut at documents


def test_document_bounds():
    ids = pd.Series(["a", "a", "b", "c", "c", "c", "d"])
    assert frames.document_bounds(ids, 2) == [(0, 2), (2, 6), (6, 7)]
    assert frames.document_bounds(ids, 100) == [(0, 7)]
    assert frames.document_bounds(pd.Series(["a", "b", "a"]), 1) is None
    assert frames.document_bounds(pd.Series(["a", None, "b"]), 1) is None
