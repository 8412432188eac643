"""The release as a SQLite database (flows/publish/sqlite_db.py): every table with its rows, types and
keys, full-text search, datasette metadata from schemas/; datasette serves it (facets, search), and
``python -m flows explore`` runs it. The seeds are published once, without Prefect."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
import sqlite_utils
from publish_helpers import ROOT, publish_seeds, subprocess_env

import schemas
from flows.publish import releases, sqlite_db

DB = sqlite_db.DATABASE_NAME
SQLITE_TYPES = {"string": "TEXT", "integer": "INTEGER", "number": "REAL", "boolean": "INTEGER", "date": "TEXT",
                "list": "TEXT"}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """The seeds published once: (output folder, release folder)."""
    _, out, release = publish_seeds(tmp_path_factory.mktemp("sqlite"))
    return out, release.path


def _open(path) -> sqlite_utils.Database:
    return sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))  # the release is read-only


def _parquet(release_dir, name):
    return pq.read_table(release_dir / f"{name}.parquet")


def _longest_word(text: str) -> str:
    return max(re.findall(r"[A-Za-z]+", text), key=len)


def test_every_table_has_the_rows_and_types_of_its_parquet_file(release):
    _, rel = release
    db = _open(rel / sqlite_db.DATABASE_FILE)
    for name, t in schemas.tables().items():
        assert db[name].count == pq.ParquetFile(rel / f"{name}.parquet").metadata.num_rows, name
        assert {c.name: c.type for c in db[name].columns} == {f.name: SQLITE_TYPES[f.type] for f in t.fields}, name
    assert db["paragraphs"].count > 100
    # the same values, in the published row order: text as it is, dates ISO, lists as JSON arrays
    assert [r["text"] for r in db.query("select text from paragraphs order by rowid")] == \
        _parquet(rel, "paragraphs").column("text").to_pylist()
    docs = _parquet(rel, "documents").to_pylist()
    rows = list(db.query("select published_date, source_files, relevant from documents order by rowid"))
    assert [r["published_date"] for r in rows] == [d["published_date"] and d["published_date"].isoformat() for d in docs]
    assert [json.loads(r["source_files"]) for r in rows] == [d["source_files"] for d in docs]
    assert [r["relevant"] for r in rows] == [int(d["relevant"]) for d in docs]


def test_primary_and_foreign_keys_are_those_of_schemas(release):
    _, rel = release
    db = _open(rel / sqlite_db.DATABASE_FILE)
    for name, t in schemas.tables().items():
        assert db[name].pks == list(t.primary_key), name
        got = {(fk.column, fk.other_table, fk.other_column) for fk in db[name].foreign_keys}
        assert got == {(fk["fields"][0], fk["reference"]["resource"], fk["reference"]["fields"][0])
                       for fk in t.foreign_keys}, name
        # indexed: datasette's links between rows and its facets on the value sets are quick
        indexed = {i.columns[0] for i in db[name].indexes}
        assert {column for column, _, _ in got} | {f.name for f in t.fields if f.enum} <= indexed, name
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []  # every reference finds its row
    assert sum(len(db[name].foreign_keys) for name in schemas.tables()) >= 20


@pytest.mark.parametrize("name", sorted(sqlite_db.FTS_COLUMNS))
def test_full_text_search_finds_a_row_by_a_word_of_its_text(release, name):
    _, rel = release
    db = _open(rel / sqlite_db.DATABASE_FILE)
    pk = schemas.table(name).primary_key[0]
    rows = _parquet(rel, name).to_pylist()
    assert rows
    for row in rows[:: max(1, len(rows) // 5)]:
        word = _longest_word(row["text"])
        found = [r[pk] for r in db[name].search(word, columns=[pk])]
        assert row[pk] in found, (word, row[pk])
        assert len(found) < len(rows) or len(rows) == 1


def test_datasette_metadata_describes_the_dataset_every_table_and_column(release):
    _, rel = release
    meta = json.loads((rel / sqlite_db.METADATA_FILE).read_text(encoding="utf-8"))
    assert meta["title"] == releases.DATASET_TITLE
    assert (meta["license"], meta["license_url"]) == (releases.LICENSES[0]["name"], releases.LICENSES[0]["path"])
    assert meta["source"] and "1.0.0" in meta["description"]
    tables = meta["databases"][DB]["tables"]
    assert list(tables) == list(schemas.tables())
    for name, t in schemas.tables().items():
        assert (tables[name]["title"], tables[name]["description"]) == (t.title, t.description)
        assert list(tables[name]["columns"]) == t.columns
        for f in t.fields:
            assert tables[name]["columns"][f.name].startswith(f.description), (name, f.name)
    assert "JSON array" in tables["documents"]["columns"]["source_files"]


def test_the_datapackage_lists_the_database_and_frictionless_checks_its_hash(release, tmp_path):
    frictionless = pytest.importorskip("frictionless")
    _, rel = release
    pkg = json.loads((rel / "datapackage.json").read_text(encoding="utf-8"))
    res = next(r for r in pkg["resources"] if r["path"] == sqlite_db.DATABASE_FILE)
    data = (rel / sqlite_db.DATABASE_FILE).read_bytes()
    assert res["type"] == "file" and res["format"] == "sqlite" and res["mediatype"] == sqlite_db.SQLITE_MEDIATYPE
    assert (res["bytes"], res["hash"]) == (len(data), "sha256:" + hashlib.sha256(data).hexdigest())
    copy = tmp_path / "copy"
    shutil.copytree(rel, copy)
    target = copy / sqlite_db.DATABASE_FILE
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[-100] ^= 0xFF
    target.write_bytes(bytes(data))
    report = frictionless.validate(str(copy / "datapackage.json"))
    assert [t.name for t in report.tasks if not t.valid] == ["database"]


def test_the_database_is_written_a_batch_of_rows_at_a_time(release, tmp_path, monkeypatch):
    """Rows read and inserted a batch at a time (7 here; a release's seeds fit in one batch) give the
    same database as all at once."""
    _, rel = release
    for name in schemas.tables():
        shutil.copy(rel / f"{name}.parquet", tmp_path / f"{name}.parquet")
    seen = []
    batches = sqlite_db._batches

    def counting(name, parquet):
        for rows in batches(name, parquet):
            seen.append(len(rows))
            yield rows

    monkeypatch.setattr(sqlite_db, "BATCH_ROWS", 7)
    monkeypatch.setattr(sqlite_db, "_batches", counting)
    sqlite_db.build_database(tmp_path, tmp_path / sqlite_db.DATABASE_FILE)
    assert max(seen) == 7 and sum(seen) == sum(pq.ParquetFile(rel / f"{n}.parquet").metadata.num_rows
                                                for n in schemas.tables())
    small, whole = _open(tmp_path / sqlite_db.DATABASE_FILE), _open(rel / sqlite_db.DATABASE_FILE)
    for name in schemas.tables():
        query = f"select * from [{name}] order by rowid"
        assert list(small.query(query)) == list(whole.query(query)), name


def test_a_repeated_key_reports_validations_failure_not_the_databases(tmp_path):
    """The database is made while validation runs beside publishing: tables that break its keys are
    refused by validation too, whose failure (naming the rows) is the one raised; with no
    validation to wait for, or one that passed, the database's own error is."""
    from conftest import RAW
    from publish_helpers import build_tables

    from flows.publish import publish

    class Refused(RuntimeError):
        pass

    def refused():
        raise Refused("a blocking expectation failed")

    tables, inventory = build_tables(RAW)
    docs = tables["documents"].copy()
    docs.loc[1, "doc_id"] = docs.loc[0, "doc_id"]
    tables = {**tables, "documents": docs}

    def write(folder, validated=None):
        publish.write_release(tables, tmp_path / folder, "1.0.0", "f" * 64, None, None, inventory,
                              validated=validated)

    with pytest.raises(Refused):
        write("refused", refused)
    with pytest.raises(sqlite3.IntegrityError, match="documents.doc_id"):
        write("passed", lambda: (None, None))
    with pytest.raises(sqlite3.IntegrityError, match="documents.doc_id"):
        write("unvalidated")


def test_the_database_made_in_a_process_of_its_own_is_the_one_publishing_makes(release, tmp_path):
    """A large build makes the database in a child process, a table at a time, from the same Parquet
    files (flows/orchestrate/database.py): the release gets the same rows, and its metadata; a
    repeated key there is still reported as validation's failure."""
    from conftest import RAW
    from publish_helpers import build_tables

    from flows.common.parquet_tables import ParquetTables, write_tables
    from flows.orchestrate.database import Database
    from flows.publish import publish

    _, rel = release
    tables, inventory = build_tables(RAW)
    folder = write_tables(tables, tmp_path / "tables")
    (tmp_path / "work").mkdir()
    with Database(folder, tmp_path / "work") as made:
        assert made._children == []  # no process is held before it has work
        # as the flow does once extract has resolved the entities: that process ends, and a new one
        # adds the others
        made.add(["paragraphs"], rest_later=True)
        apart = publish.publish(ParquetTables(folder), tmp_path / "out", None, None, inventory,
                                database=made.built)
        loaded = made.child.submit(_imported, ["pandas", "numpy", "sqlite_utils"]).result()[0]
    # sqlite-utils would import pandas and numpy, which take more memory than the rest of the process
    assert loaded == {"pandas": False, "numpy": False, "sqlite_utils": True}
    assert len({child for child, _ in made._children}) == 2
    assert made.peak_rss_mb > 0 and not (tmp_path / "work" / sqlite_db.DATABASE_FILE).exists()  # moved in
    assert (apart.path / sqlite_db.METADATA_FILE).is_file()
    mine, whole = _open(apart.path / sqlite_db.DATABASE_FILE), _open(rel / sqlite_db.DATABASE_FILE)
    for name in schemas.tables():
        query = f"select * from [{name}] order by rowid"
        assert list(mine.query(query)) == list(whole.query(query)), name

    class Refused(RuntimeError):
        pass

    def refused():
        raise Refused("a blocking expectation failed")

    docs = tables["documents"].copy()
    docs.loc[1, "doc_id"] = docs.loc[0, "doc_id"]
    broken = write_tables({**tables, "documents": docs}, tmp_path / "broken")
    (tmp_path / "work2").mkdir()
    with Database(broken, tmp_path / "work2") as made, pytest.raises(Refused):
        publish.write_release(ParquetTables(broken), tmp_path / "refused", "1.0.0", "f" * 64, None, None,
                              inventory, validated=refused, database=made.built)


def _imported(names: list[str]) -> dict:
    return {name: sys.modules.get(name) is not None for name in names}


def _get(ds, *paths):
    async def fetch():
        return [await ds.client.get(p) for p in paths]

    return asyncio.run(fetch())


def test_datasette_serves_the_database_with_a_facet_and_a_search(release):
    _, rel = release
    ds = sqlite_db.datasette_app(rel)
    assert not ds.databases[DB].is_mutable
    paragraphs = _parquet(rel, "paragraphs").to_pandas()
    chosen = paragraphs[paragraphs["status"] == "content"].iloc[3]
    word = _longest_word(chosen["text"])
    index, table, facet, search = _get(
        ds, "/", f"/{DB}/paragraphs", f"/{DB}/paragraphs.json?_facet=status&_size=0",
        f"/{DB}/paragraphs.json?_search={word}&_shape=objects&_size=max")
    assert index.status_code == table.status_code == 200
    assert releases.DATASET_TITLE in index.text and "paragraphs" in index.text
    assert schemas.table("paragraphs").description[:40] in table.text
    assert releases.LICENSES[0]["path"] in table.text
    assert facet.status_code == 200
    counts = {r["value"]: r["count"] for r in facet.json()["facet_results"]["status"]["results"]}
    assert counts == paragraphs["status"].value_counts().to_dict()
    assert search.status_code == 200
    found = [r["para_id"] for r in search.json()["rows"]]
    assert chosen["para_id"] in found and len(found) < len(paragraphs)


def test_explore_serves_the_latest_release_in_datasette(release, tmp_path):
    import httpx
    from serve_helpers import first_answer, free_port

    out, _ = release
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "flows", "explore", "--output", str(out), "--port", str(port)],
                            cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        index = first_answer(f"{base}/", proc, "datasette")
        table = httpx.get(f"{base}/{DB}/quotes", timeout=30)
        assert index.status_code == 200 and releases.DATASET_TITLE in index.text
        assert table.status_code == 200 and schemas.table("quotes").title in table.text
    finally:
        proc.terminate()
        printed = proc.communicate(timeout=30)[0]
    assert f"exploring release 1.0.0 in datasette at {base}/{DB}" in printed
    from flows.cli import main

    assert main(["explore", "--output", str(tmp_path / "missing")]) == 2
    assert main(["explore", "--output", str(out), "--version", "../1.0.0"]) == 2


def test_serve_sends_the_database_as_sqlite(release):
    import httpx
    from serve_helpers import running_server

    out, rel = release
    with running_server(out) as url:
        answer = httpx.get(f"{url}/latest/{sqlite_db.DATABASE_FILE}", timeout=30)
    assert answer.status_code == 200 and answer.headers["content-type"] == sqlite_db.SQLITE_MEDIATYPE
    assert answer.content.startswith(b"SQLite format 3\0")
    assert answer.content == (rel / sqlite_db.DATABASE_FILE).read_bytes()
