"""Checks declared in YAML only (tables' ``checks:`` and ``schemas/views/``) run as GX expectations.

A test-only schema folder holds the real ``documents`` and ``paragraphs`` plus synthetic ``events``,
``entities`` and ``mentions`` tables (tests/fixtures/schemas/) of the shape the extraction stage adds;
the GX project is generated from it the way ``python -m flows gx-init`` does. Each test corrupts one
kind of rule and sees exactly that expectation fail, with the failing rows' keys.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

import schemas
from flows.common.text import stable_id
from flows.validate import gx_suites, validate

FIXTURES = Path(__file__).parent / "fixtures" / "schemas"
REAL = Path(schemas.__file__).parent


@pytest.fixture(scope="module")
def declared(tmp_path_factory, seed_tables):
    """Patch schemas/ to the test folder for this module; yield the generated GX project folder.
    (``seed_tables`` is built first, under the real schemas/.)"""
    root = tmp_path_factory.mktemp("declared")
    (root / "tables").mkdir()
    for name in ("documents", "paragraphs"):
        shutil.copy(REAL / "tables" / f"{name}.yaml", root / "tables")
    for p in (FIXTURES / "tables").glob("*.yaml"):
        shutil.copy(p, root / "tables")
    shutil.copytree(FIXTURES / "views", root / "views")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(schemas, "TABLES_DIR", root / "tables")
        mp.setattr(schemas, "VIEWS_DIR", root / "views")
        gx_suites.init_project(root / "expectations")
        yield root / "expectations"


@pytest.fixture
def frames(seed_tables, declared):
    """Seed documents/paragraphs plus consistent synthetic events, entities and mentions."""
    paragraphs = seed_tables["paragraphs"].copy()
    mentions, entities = [], {}
    for row in paragraphs[paragraphs["status"] == "content"].head(6).itertuples():
        m = re.search(r"\b[A-Z][a-z]{2,}\b", row.text)
        if not m:
            continue
        eid = stable_id("n", m.group())
        entities[eid] = {"entity_id": eid, "name": m.group(), "entity_type": "organization"}
        mentions.append({"mention_id": stable_id("m", row.para_id, m.start()), "para_id": row.para_id,
                         "entity_id": eid, "char_start": m.start(), "char_end": m.end(), "text": m.group()})
    assert len(mentions) >= 3
    events = [
        {"event_id": stable_id("e", "series", 1), "name": "Annual talks", "event_type": "dialogue",
         "edition": 1, "start_date": "2021-04-07", "end_date": "2021-04-08"},
        {"event_id": stable_id("e", "series", 2), "name": "Annual talks", "event_type": "dialogue",
         "edition": 2, "start_date": "2022-04-06", "end_date": "2022-04-07"},
        {"event_id": stable_id("e", "one-off"), "name": "A visit", "event_type": "visit",
         "edition": None, "start_date": "2022-05-01", "end_date": None},
    ]
    documents = seed_tables["documents"].copy()
    documents["event_id"] = events[0]["event_id"]  # the real event ids are not in these synthetic events
    return {
        "documents": documents,
        "paragraphs": paragraphs,
        "events": schemas.conform("events", pd.DataFrame(events)),
        "entities": schemas.conform("entities", pd.DataFrame(list(entities.values()))),
        "mentions": schemas.conform("mentions", pd.DataFrame(mentions)),
    }


def _failed(report):
    return {(f.table, f.expectation, f.column, f.blocking) for f in report.failures}


def test_declared_tables_and_views_have_suites(declared):
    names = gx_suites.suite_names()
    assert names == ["documents", "paragraphs", "events", "entities", "mentions", "mentions_in_paragraphs"]
    for name in names:
        assert (declared / "gx" / "expectations" / f"{name}.json").exists()
        assert (declared / "gx" / "checkpoints" / f"{name}.json").exists()


def test_consistent_synthetic_tables_pass(frames, declared, tmp_path):
    report = validate.validate(frames, tmp_path, gx_dir=declared)
    assert report.passed and not report.failures, report.summary_text()
    kinds = {t.table: t.kind for t in report.tables}
    assert kinds["mentions_in_paragraphs"] == "view"
    view = next(t for t in report.tables if t.table == "mentions_in_paragraphs")
    assert view.n_rows == len(frames["mentions"]) and view.n_expectations == 2


def test_null_key_fails_only_not_null_with_the_row(frames, declared, tmp_path):
    frames["entities"].loc[0, "entity_id"] = None
    report = validate.validate(frames, tmp_path, gx_dir=declared)
    # the mentions pointing to that entity now dangle: that is the foreign key's failure
    assert ("entities", "expect_column_values_to_not_be_null", "entity_id", True) in _failed(report)
    nn = [f for f in report.failures if f.expectation == "expect_column_values_to_not_be_null"]
    assert len(nn) == 1 and nn[0].unexpected_count == 1


def test_duplicate_key_fails_only_unique_with_both_rows(frames, declared, tmp_path):
    ev = frames["events"]
    ev.loc[2, "event_id"] = ev.loc[0, "event_id"]
    report = validate.validate(frames, tmp_path, gx_dir=declared)
    assert _failed(report) == {("events", "expect_column_values_to_be_unique", "event_id", True)}
    assert report.blocking[0].unexpected_keys == [ev.loc[0, "event_id"]] * 2


def test_dangling_foreign_key_fails_only_that_key(frames, declared, tmp_path):
    m = frames["mentions"]
    m.loc[1, "para_id"] = "p0000000000000000"
    report = validate.validate(frames, tmp_path, gx_dir=declared)
    assert _failed(report) == {("mentions", "expect_column_values_to_be_keys_of", "para_id", True)}
    assert report.blocking[0].unexpected_keys == [m.loc[1, "mention_id"]]


def test_offset_outside_the_paragraph_fails_only_the_span_check(frames, declared, tmp_path):
    m = frames["mentions"]
    para_len = frames["paragraphs"].set_index("para_id").loc[m.loc[0, "para_id"], "text"].__len__()
    m.loc[0, "char_end"] = para_len + 5
    report = validate.validate(frames, tmp_path, gx_dir=declared)
    assert _failed(report) == {("mentions_in_paragraphs", "expect_span_to_be_inside_text",
                                "char_start, char_end, paragraph_text", True)}
    f = report.blocking[0]
    assert f.unexpected_keys == [m.loc[0, "mention_id"]] and f.key_columns == ["mention_id"]
    assert not report.passed


def test_text_not_at_the_offsets_fails_only_the_text_check(frames, declared, tmp_path):
    m = frames["mentions"]
    m.loc[2, "char_start"] = m.loc[2, "char_start"] + 1  # still inside the text, but one character off
    report = validate.validate(frames, tmp_path, gx_dir=declared)
    assert _failed(report) == {("mentions_in_paragraphs", "expect_text_at_span_to_equal",
                                "char_start, char_end, paragraph_text, text", True)}
    assert report.blocking[0].unexpected_keys == [m.loc[2, "mention_id"]]


def test_end_before_start_fails_only_the_date_order(frames, declared, tmp_path):
    ev = frames["events"]
    ev.loc[1, "end_date"] = "2022-04-01"
    report = validate.validate(frames, tmp_path, gx_dir=declared)
    assert _failed(report) == {("events", "expect_column_pair_values_a_to_be_greater_than_b",
                                "end_date, start_date", True)}
    assert report.blocking[0].unexpected_keys == [ev.loc[1, "event_id"]]


def test_unknown_enum_value_fails_only_the_value_set(frames, declared, tmp_path):
    ev = frames["events"]
    ev.loc[0, "event_type"] = "party"
    report = validate.validate(frames, tmp_path, gx_dir=declared)
    assert _failed(report) == {("events", "expect_column_values_to_be_in_set", "event_type", True)}
    assert report.blocking[0].unexpected_keys == [ev.loc[0, "event_id"]]


def test_repeated_edition_of_a_series_fails(frames, declared, tmp_path):
    ev = frames["events"]
    ev.loc[1, "edition"] = 1
    report = validate.validate(frames, tmp_path, gx_dir=declared)
    assert _failed(report) == {("events", "expect_compound_columns_to_be_unique", "name, edition", True)}
    assert sorted(report.blocking[0].unexpected_keys) == sorted(ev.loc[[0, 1], "event_id"])


def test_implausible_date_and_row_count_are_warnings_that_do_not_block(frames, declared, tmp_path):
    ev = frames["events"]
    ev.loc[2, "start_date"] = "1901-05-01"
    frames["events"] = ev  # three rows: within the row-count bounds
    report = validate.validate(frames, tmp_path, gx_dir=declared)
    assert report.passed
    assert _failed(report) == {("events", "expect_column_values_to_be_iso_dates_between", "start_date", False)}
    assert report.warnings[0].unexpected_keys == [ev.loc[2, "event_id"]]
    frames["events"] = ev.iloc[0:0]
    docs = frames["documents"]
    frames["documents"] = docs.assign(event_id=pd.array([None] * len(docs), dtype="str"))  # no event to point at
    report = validate.validate(frames, tmp_path / "empty", gx_dir=declared)
    assert report.passed
    assert ("events", "expect_table_row_count_to_be_between", None, False) in _failed(report)


def test_a_view_needs_checks_and_known_columns(tmp_path, monkeypatch):
    (tmp_path / "views").mkdir()
    monkeypatch.setattr(schemas, "VIEWS_DIR", tmp_path / "views")
    (tmp_path / "views" / "bad.yaml").write_text(
        "name: bad\ndescription: x\nbase: paragraphs\njoin:\n  - table: documents\n    keys: [doc_id]\n"
        "    columns: {no_such_column: y}\nchecks:\n  - {type: expect_table_row_count_to_be_between, reason: r}\n")
    with pytest.raises(ValueError, match="no_such_column"):
        schemas.views()


def test_a_view_has_exactly_the_base_rows_with_the_joined_columns(frames, declared):
    view = schemas.views()["mentions_in_paragraphs"]
    mentions = frames["mentions"]
    mentions.loc[1, "para_id"] = "p0000000000000000"  # matches nothing
    paragraphs = pd.concat([frames["paragraphs"], frames["paragraphs"].head(3)])  # repeated join keys
    out = schemas.build_view(view, {"mentions": mentions, "paragraphs": paragraphs})
    # the base table's key and the columns the view's checks read, then the joined column
    assert list(out.columns) == view.columns == ["mention_id", "char_start", "char_end", "text", "paragraph_text"]
    assert out["mention_id"].tolist() == mentions["mention_id"].tolist()
    by_id = frames["paragraphs"].set_index("para_id")["text"]
    assert out.loc[0, "paragraph_text"] == by_id[mentions.loc[0, "para_id"]]
    assert pd.isna(out.loc[1, "paragraph_text"])
    assert str(out["paragraph_text"].dtype) == str(frames["paragraphs"]["text"].dtype)
