"""schemas/ is the single definition: every derived artefact must agree with it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import schemas
from flows import gx_suites
from flows.paths import GX_DIR


def test_every_column_is_described_and_typed():
    for t in schemas.tables().values():
        assert t.description
        for f in t.fields:
            assert f.description, f"{t.name}.{f.name}"
            assert f.type in schemas.TYPES


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
