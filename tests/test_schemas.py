"""schemas/ is the single definition: every derived artefact must agree with it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import schemas
from flows.common.paths import GX_DIR
from flows.validate import gx_suites


def test_every_column_is_described_and_typed():
    for t in schemas.tables().values():
        assert t.description
        for f in t.fields:
            assert f.description, f"{t.name}.{f.name}"
            assert f.type in schemas.TYPES


def test_every_table_and_overriding_column_names_the_function_that_produces_it():
    """``produced_by`` (shown in the data dictionary) names a function that exists, so a reader finds
    the code behind a column from its definition."""
    import importlib

    for name, t in schemas.tables().items():
        for where, dotted in [(name, t.produced_by), *((f"{name}.{f.name}", f.produced_by) for f in t.fields
                                                      if f.produced_by)]:
            assert dotted, f"{where}: no produced_by"
            module, _, function = dotted.rpartition(".")
            assert callable(getattr(importlib.import_module(module), function, None)), f"{where}: {dotted}"


def test_arrow_schema_and_csv_header_follow_the_definition():
    for name, t in schemas.tables().items():
        arrow = schemas.arrow_schema(name)
        assert arrow.names == t.columns == schemas.csv_header(name)
        for f in t.fields:
            assert arrow.field(f.name).metadata[b"description"].decode() == f.description


def test_conform_refuses_a_table_whose_columns_differ():
    df = schemas.empty_frame("documents").drop(columns=["title"])
    with pytest.raises(ValueError, match="title"):
        schemas.conform("documents", df)


def test_a_frame_of_rows_is_the_conformed_frame_of_the_records_and_empties_the_list():
    """``frame_of_rows`` (each column converted on its own) gives the frame ``conform`` gives of the
    records at once: dtypes, nulls, order."""
    mention = schemas.row_type("mentions")
    rows = [mention("m1", "e1", "d1", "p1", 0, 5, "Iraq", "lexicon"),
            mention("m2", None, "d1", "p1", 10, 2**40, "=SUM(A1)", "name"),
            mention("m3", "e2", "d2", "p9", 3, 4, "", "description")]
    expected = schemas.conform("mentions", pd.DataFrame.from_records(rows, columns=schemas.table("mentions").columns))
    given = list(rows)
    got = schemas.frame_of_rows("mentions", given)
    assert given == []
    pd.testing.assert_frame_equal(got, expected)
    assert [str(t) for t in got.dtypes] == [str(t) for t in schemas.empty_frame("mentions").dtypes]
    pd.testing.assert_frame_equal(schemas.frame_of_rows("mentions", []), schemas.empty_frame("mentions"))


@pytest.mark.parametrize("python_text", [False, True])
def test_a_view_looked_up_by_key_is_the_view_a_merge_gives(seed_tables, monkeypatch, python_text):
    """Every declared view, built by looking each key up (``first_rows``), is the frame the left
    merge gives: rows in order, unmatched and null keys null, the first of repeated keys, dtypes
    kept (with text held as Arrow or as Python strings)."""
    from flows.common import frames as fr

    tables = {k: schemas.conform(k, v) for k, v in seed_tables.items() if k in schemas.tables()}
    if python_text:
        tables = {k: fr.with_python_text(v, min_mean_bytes=0) for k, v in tables.items()}
    for name in ("paragraphs", "documents"):  # repeated join keys: the first row is joined
        first, rest = tables[name].head(3), tables[name].iloc[3:]
        changed = first.assign(**{c: first[c].str.upper() for c in first.columns if c in ("text", "title")})
        tables[name] = pd.concat([rest, changed, first], ignore_index=True)
    for base in ("mentions", "facts", "paragraphs"):
        t = tables[base].copy()
        key = "doc_id" if base == "paragraphs" else "para_id"
        t.loc[t.index[0], key] = "p-unmatched"
        t.loc[t.index[1], key] = None
        tables[base] = t
    views = schemas.views()
    looked_up = {name: schemas.build_view(v, tables) for name, v in views.items()}
    assert schemas.first_rows(tables["mentions"]["para_id"], tables["paragraphs"]["para_id"]) is not None
    monkeypatch.setattr(schemas, "first_rows", lambda keys, among: None)
    for name, v in views.items():
        merged = schemas.build_view(v, tables)
        assert len(merged) == len(tables[v.base])
        pd.testing.assert_frame_equal(looked_up[name], merged)


@pytest.mark.parametrize("name", list(schemas.tables()))
def test_committed_gx_suite_matches_what_schemas_generate(name):
    committed = json.loads((GX_DIR / "gx" / "expectations" / f"{name}.json").read_text())
    import great_expectations as gx

    gx.get_context(mode="ephemeral")
    generated = gx_suites.build_suite(name).to_json_dict()

    def key(e):
        return (e["type"], e["kwargs"], e["severity"], e.get("meta"), e.get("notes"))

    got = [key(e) for e in committed["expectations"]]
    want = [key(e) for e in generated["expectations"]]
    assert [e["id"] for e in committed["expectations"]] == [s["id"] for s in gx_suites.expectation_specs(name)]
    assert got == want, "run `python -m flows gx-init` and commit expectations/"


def test_every_table_has_a_committed_checkpoint():
    for name in schemas.tables():
        assert (GX_DIR / "gx" / "checkpoints" / f"{name}.json").exists()


def test_schemas_and_lexicons_read_the_same_with_the_fast_yaml_parser():
    """Every process reads schemas/ and lexicons/ at start with libyaml's parser when PyYAML has
    it; it must give what the reference (pure-Python) parser gives for every file we ship."""
    import yaml

    from flows.common import lexicons
    from flows.common.paths import LEXICONS_DIR, ROOT

    files = sorted([*LEXICONS_DIR.glob("*.yaml"), *(ROOT / "schemas").rglob("*.yaml")])
    assert len(files) > 20
    for path in files:
        assert lexicons.read_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8")), path
    assert schemas.YAML_LOADER is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
