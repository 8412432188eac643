"""The build-dataset flow end to end on copies of raw/ (one Prefect harness for the session)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def _tree_digest(path: Path) -> dict:
    out = {}
    for p in sorted(Path(path).rglob("*")):
        if p.is_file():
            out[str(p.relative_to(path))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def first_run(prefect_harness, tmp_path_factory):
    """The first build of raw/ into an empty output folder: its folder and its flow run's final state."""
    from conftest import RAW

    from flows.pipeline import build_dataset

    out = tmp_path_factory.mktemp("output")
    return out, build_dataset(raw_dir=str(RAW), output_dir=str(out), return_state=True)


@pytest.fixture(scope="module")
def built(first_run):
    out, state = first_run
    return out, state.result()


def test_release_has_tables_datapackage_report_and_latest(built):
    out, release = built
    assert release.published and release.version == "1.0.0"
    rel = out / "1.0.0"
    for table in ("documents", "paragraphs"):
        assert (rel / f"{table}.parquet").exists() and (rel / f"{table}.csv").exists()
    assert (rel / "datapackage.json").exists()
    assert (rel / "validation" / "index.html").exists()
    assert (out / "latest").is_symlink() and os.readlink(out / "latest") == "1.0.0"
    assert (out / "latest" / "paragraphs.parquet").exists()


def test_parquet_and_csv_hold_the_same_rows(built):
    out, _ = built
    pq = pd.read_parquet(out / "latest" / "paragraphs.parquet")
    csv = pd.read_csv(out / "latest" / "paragraphs.csv", keep_default_na=False, na_values=[""])
    assert len(pq) == len(csv) == 109
    from flows.publish.csv_files import FORMULA_PREFIXES

    for col in pq.columns:
        a = pq[col].astype(object).where(pq[col].notna(), None).tolist()
        b = csv[col].astype(object).where(csv[col].notna(), None).tolist()
        # CSV neutralises formula-like text cells with a leading apostrophe; every other cell is identical
        risky = [isinstance(v, str) and v.startswith(FORMULA_PREFIXES) for v in a]
        assert [y for y, r in zip(b, risky) if r] == ["'" + x for x, r in zip(a, risky) if r], col
        assert [x for x, r in zip(a, risky) if not r] == [y for y, r in zip(b, risky) if not r], col


def test_datapackage_checksums_match_the_files(built):
    out, _ = built
    pkg = json.loads((out / "latest" / "datapackage.json").read_text())
    assert pkg["version"] == "1.0.0"
    for res in pkg["resources"]:
        data = (out / "latest" / res["path"]).read_bytes()
        assert res["bytes"] == len(data)
        assert res["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        if res["format"] != "sqlite":  # a table's file (the database holds them all)
            assert [f["name"] for f in res["schema"]["fields"]]


def test_frictionless_validates_the_datapackage(built):
    frictionless = pytest.importorskip("frictionless")
    out, _ = built
    report = frictionless.validate(str(out / "latest" / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_second_run_on_unchanged_input_publishes_nothing_and_says_so(built):
    from conftest import RAW

    from flows.pipeline import build_dataset

    out, _ = built
    before = _tree_digest(out)
    state = build_dataset(raw_dir=str(RAW), output_dir=str(out), return_state=True)
    assert state.is_completed() and state.message.startswith("unchanged:") and "nothing published" in state.message
    release = state.result()
    assert not release.published and release.version == "1.0.0"
    assert _tree_digest(out) == before
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "1.0.0", "CITATION.cff", "catalog.json", "index.html", "latest"]


def test_a_new_article_publishes_a_minor_release(prefect_harness, built, raw_copy, tmp_path):
    import shutil

    from flows.pipeline import build_dataset

    out = tmp_path / "out"
    shutil.copytree(built[0], out, symlinks=True)  # release 1.0.0 of the same raw files
    (raw_copy / "005_new.txt").write_text("A new headline\n\nA new paragraph about something.\n", encoding="utf-8")
    release = build_dataset(raw_dir=str(raw_copy), output_dir=str(out))
    assert release.published and release.version == "1.1.0"
    assert os.readlink(out / "latest") == "1.1.0"
    docs = pd.read_parquet(out / "latest" / "documents.parquet")
    assert len(docs) == 6
    new_doc = docs.loc[docs["source_file"] == "005_new.txt", "doc_id"].item()
    paras = pd.read_parquet(out / "latest" / "paragraphs.parquet")
    changes = json.loads((out / "latest" / "changes.json").read_text())  # exactly the new article's rows
    assert changes["tables"]["documents"] == {"rows_before": 5, "rows_after": 6, "added": [new_doc],
                                              "removed": [], "changed": []}
    assert sorted(changes["tables"]["paragraphs"]["added"]) == sorted(paras.loc[paras["doc_id"] == new_doc, "para_id"])
    assert changes["tables"]["paragraphs"]["removed"] == changes["tables"]["paragraphs"]["changed"] == []


def test_failed_validation_publishes_nothing_and_leaves_latest_unchanged(prefect_harness, built, monkeypatch):
    from conftest import RAW

    from flows import pipeline
    from flows.extract import extract

    out, _ = built
    before = _tree_digest(out / "latest")
    link = os.readlink(out / "latest")
    original = extract.build_documents

    def broken(*args, **kwargs):
        docs = original(*args, **kwargs)
        docs.loc[0, "doc_id"] = docs.loc[1, "doc_id"]  # a repeated key
        return docs

    monkeypatch.setattr(extract, "build_documents", broken)
    # refresh_cache: the code on disk is unchanged (the bug is patched in memory), so without it the
    # build would see the inputs of the latest release and rebuild nothing
    state = pipeline.build_dataset(raw_dir=str(RAW), output_dir=str(out), refresh_cache=True, return_state=True)
    assert state.is_failed()
    with pytest.raises(pipeline.ValidationFailed, match="blocking"):
        state.result()
    assert os.readlink(out / "latest") == link
    assert _tree_digest(out / "latest") == before
    failed = list((out / "_failed").glob("*/validation/index.html"))
    assert failed, "the failed run's report is kept"


def test_extract_in_a_process_of_its_own_publishes_the_same_release(prefect_harness, built, tmp_path, monkeypatch):
    """A large corpus is extracted in a child process (its memory goes back before publishing), and
    its SQLite database is made in another (the paragraphs while extract runs, the other tables
    beside publishing): the release must be the one the flow's own process makes."""
    import sqlite3

    from conftest import RAW

    from flows.orchestrate import database, extract_process
    from flows.pipeline import build_dataset
    from flows.publish import sqlite_db

    monkeypatch.setattr(extract_process, "OWN_PROCESS_MIN_PARAGRAPHS", 1)
    monkeypatch.setattr(database, "APART_MIN_PARAGRAPHS", 1)
    made_apart = []
    monkeypatch.setattr(database.Database, "built", lambda self, f=database.Database.built: made_apart.append(1) or f(self))
    out = tmp_path / "out"
    release = build_dataset(raw_dir=str(RAW), output_dir=str(out))
    assert release.published and release.version == "1.0.0" and made_apart == [1]
    same, _ = built
    for table in ("paragraphs", "documents", "entities", "mentions", "events", "participants", "quotes", "facts",
                  "statements"):
        for ext in ("parquet", "csv"):
            assert (out / "1.0.0" / f"{table}.{ext}").read_bytes() == (same / "1.0.0" / f"{table}.{ext}").read_bytes()
    dumps = []
    for folder in (out, same):
        with sqlite3.connect(f"file:{folder / '1.0.0' / sqlite_db.DATABASE_FILE}?mode=ro", uri=True) as con:
            dumps.append(sorted(con.iterdump()))  # (the tables come in another order: their indexes too)
    assert dumps[0] == dumps[1] and len(dumps[0]) > 100


def test_a_run_ends_saying_what_it_published_with_its_summary_as_a_table(first_run):
    """The run's final state message says what happened ("published release 1.0.0"; an unchanged
    run's: test_second_run_on_unchanged_input_publishes_nothing_and_says_so), and the build summary
    is a table artifact."""
    from prefect import get_client

    _, first = first_run
    assert first.is_completed() and first.message == "published release 1.0.0"
    assert first.result().version == "1.0.0"

    with get_client(sync_client=True) as client:
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId

        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["build-summary"])),
                                          flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[first.state_details.flow_run_id])))
    assert [a.type for a in artifacts] == ["table"]
    rows = json.loads(artifacts[0].data) if isinstance(artifacts[0].data, str) else artifacts[0].data
    assert {"item", "value"} <= set(rows[0]) and any(r["item"] == "release" for r in rows)
