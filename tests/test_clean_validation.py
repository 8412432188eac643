"""The cleaning columns' hand-written expectations (schemas/tables/paragraphs.yaml checks) catch bad rows."""

from __future__ import annotations

import schemas
from flows.validate import validate


def test_content_without_cluster_and_body_before_start_fail_validation(seed_tables, tmp_path):
    tables = {k: seed_tables[k].copy() for k in schemas.tables()}
    p = tables["paragraphs"]
    content = p.index[p["status"] == "content"]
    p.loc[content[0], "cluster_id"] = None
    p.loc[content[1], "body_start"] = p.loc[content[1], "char_start"] - 1
    title = p.index[p["status"] == "title"][0]
    p.loc[title, "cluster_id"] = None  # allowed: titles have no cluster
    report = validate.validate(tables, tmp_path)
    assert not report.passed
    failed = {(f.expectation, f.column) for f in report.blocking if f.table == "paragraphs"}
    assert ("expect_column_values_to_not_be_null", "cluster_id") in failed
    assert any(e == "expect_column_pair_values_a_to_be_greater_than_b" for e, _ in failed)
