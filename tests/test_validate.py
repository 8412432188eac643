"""A broken table fails validation, with the failing rows' keys in the result."""

from __future__ import annotations

import pandas as pd

import schemas
from flows import validate


def _tables(seed_tables):
    return {k: seed_tables[k].copy() for k in schemas.tables()}


def test_seed_tables_pass(seed_tables, tmp_path):
    report = validate.validate(_tables(seed_tables), tmp_path)
    assert report.passed, report.summary_markdown()
    assert (tmp_path / "gx-project" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()


def test_null_and_repeated_para_id_fail_with_their_keys(seed_tables, tmp_path):
    tables = _tables(seed_tables)
    p = tables["paragraphs"]
    p.loc[3, "para_id"] = None
    p.loc[5, "para_id"] = p.loc[6, "para_id"]
    report = validate.validate(tables, tmp_path)
    assert not report.passed
    failed = {(f.table, f.expectation, f.column) for f in report.blocking}
    assert ("paragraphs", "expect_column_values_to_not_be_null", "para_id") in failed
    assert ("paragraphs", "expect_column_values_to_be_unique", "para_id") in failed
    unique = next(f for f in report.blocking if f.expectation == "expect_column_values_to_be_unique")
    assert unique.unexpected_keys.count(p.loc[6, "para_id"]) == 2


def test_dangling_doc_id_fails_the_foreign_key(seed_tables, tmp_path):
    tables = _tables(seed_tables)
    p = tables["paragraphs"]
    victim = p.loc[7, "para_id"]
    p.loc[7, "doc_id"] = "d0000000000000000"
    report = validate.validate(tables, tmp_path)
    fk = [f for f in report.blocking if f.expectation == "expect_column_values_to_be_in_set" and f.column == "doc_id"]
    assert len(fk) == 1 and fk[0].unexpected_keys == [victim]


def test_unknown_status_fails(seed_tables, tmp_path):
    tables = _tables(seed_tables)
    tables["paragraphs"].loc[2, "status"] = "spam"
    report = validate.validate(tables, tmp_path)
    assert [(f.column, f.expectation) for f in report.blocking] == [("status", "expect_column_values_to_be_in_set")]
