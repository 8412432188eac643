"""Releases: files, datapackage, versions, the release diff, the data dictionary (plain functions, no Prefect)."""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pytest
from publish_helpers import build_tables, publish_raw, publish_seeds, tree_digest, verify_release

from flows.common import parquet_tables
from flows.publish import changes, csv_files, dictionary, publish, releases

NEW_ARTICLE = ("Harbour authority opens a new ferry terminal\n\n"
               "The harbour authority opened a ferry terminal on Monday, officials said.\n\n"
               "The terminal will serve three routes along the coast starting next month.\n")


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """raw/ published once: (raw copy, output folder, release)."""
    return publish_seeds(tmp_path_factory.mktemp("first"))


def test_first_release_is_complete_and_read_only(first):
    _, out, release = first
    assert release.published and release.version == "1.0.0"
    rel = out / "1.0.0"
    for name in ("documents", "paragraphs", "rejections"):
        assert (rel / f"{name}.csv").exists() and (rel / f"{name}.parquet").exists()
    for name in ("datapackage.json", "README.md", "dictionary.html", "CHANGES.md", "changes.json",
                 "raw_manifest.csv", "release.json"):
        assert (rel / name).exists(), name
    assert os.readlink(out / "latest") == "1.0.0"
    assert all(not (p.stat().st_mode & 0o222) for p in rel.rglob("*"))
    assert not (rel.stat().st_mode & 0o222)
    verify_release(rel)


def test_datapackage_describes_every_file_and_frictionless_accepts_it(first):
    frictionless = pytest.importorskip("frictionless")
    _, out, _ = first
    pkg = json.loads((out / "latest" / "datapackage.json").read_text())
    assert pkg["title"] and pkg["version"] == "1.0.0" and pkg["created"] and pkg["licenses"]
    assert sorted(s["title"] for s in pkg["sources"]) == sorted(
        pd.read_csv(out / "latest" / "raw_manifest.csv")["file"])
    paths = sorted(r["path"] for r in pkg["resources"])
    files = sorted(p.name for p in (out / "latest").iterdir() if p.suffix in (".csv", ".parquet", ".db"))
    assert paths == files
    assert len({r["name"] for r in pkg["resources"]}) == len(pkg["resources"])
    paragraphs = next(r for r in pkg["resources"] if r["name"] == "paragraphs")
    assert paragraphs["schema"]["primaryKey"] == ["para_id"]
    assert {"fields": ["doc_id"], "reference": {"resource": "documents", "fields": ["doc_id"]}} in \
        paragraphs["schema"]["foreignKeys"]
    parquet = next(r for r in pkg["resources"] if r["path"] == "paragraphs.parquet")
    assert parquet["mediatype"] == "application/vnd.apache.parquet" and parquet["hash"].startswith("sha256:")
    assert [f["name"] for f in parquet["schema"]["fields"]] == [f["name"] for f in paragraphs["schema"]["fields"]]
    assert parquet["schema"]["foreignKeys"][0]["reference"]["resource"] == "documents-parquet"
    report = frictionless.validate(str(out / "latest" / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])


def test_frictionless_catches_a_corrupted_parquet_file(first, tmp_path):
    frictionless = pytest.importorskip("frictionless")
    _, out, _ = first
    copy = tmp_path / "copy"
    shutil.copytree(out / "1.0.0", copy)
    target = copy / "documents.parquet"
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    report = frictionless.validate(str(copy / "datapackage.json"))
    assert not report.valid
    bad = [t.name for t in report.tasks if not t.valid]
    assert bad == ["documents-parquet"]
    assert report.flatten(["type"]) == [["hash-count"]]


def test_unchanged_input_publishes_nothing_and_changes_no_file(first):
    raw, out, _ = first
    before = tree_digest(out)
    again = publish_raw(raw, out)
    assert not again.published and again.version == "1.0.0"
    assert tree_digest(out) == before


def test_republishing_an_existing_or_older_version_is_refused(first, tmp_path):
    raw, out, _ = first
    extra = tmp_path / "raw"
    shutil.copytree(raw, extra)
    (extra / "900_extra.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    with pytest.raises(FileExistsError, match="immutable"):
        publish_raw(extra, out, version="1.0.0")
    with pytest.raises(ValueError, match="not newer"):
        publish_raw(extra, out, version="0.9.0")
    assert releases.releases(out) == ["1.0.0"]
    assert not [p for p in out.iterdir() if p.name.startswith(releases.STAGING_PREFIX)]


def test_a_new_article_changes_list_exactly_its_rows(first, tmp_path):
    raw0, out0, _ = first
    out = tmp_path / "out"
    shutil.copytree(out0, out, symlinks=True)
    raw = tmp_path / "raw"
    shutil.copytree(raw0, raw)
    (raw / "900_new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    release = publish_raw(raw, out)
    assert release.published and release.version == "1.1.0"
    tables, _ = build_tables(raw)
    docs = tables["documents"]
    new_doc = docs.loc[docs["source_file"] == "900_new.txt", "doc_id"].item()
    new_paras = sorted(tables["paragraphs"].loc[tables["paragraphs"]["doc_id"] == new_doc, "para_id"])
    assert len(new_paras) == 3

    diff = json.loads((out / "1.1.0" / "changes.json").read_text())
    assert diff["previous_version"] == "1.0.0"
    assert diff["tables"]["documents"]["added"] == [new_doc]
    assert sorted(diff["tables"]["paragraphs"]["added"]) == new_paras
    for t in diff["tables"].values():
        assert t["removed"] == [] and t["changed"] == []
    assert not any(diff["schema"].values())
    md = (out / "1.1.0" / "CHANGES.md").read_text()
    assert "Compared with release 1.0.0" in md
    assert f"added (1): {new_doc}" in md
    for pid in new_paras:
        assert pid in md
    assert "| documents | 5 | 6 | 1 | 0 | 0 |" in md
    # the previous release is untouched and latest moved
    assert os.readlink(out / "latest") == "1.1.0"
    verify_release(out / "1.0.0")
    verify_release(out / "1.1.0")


def test_diff_finds_each_kind_of_edit_from_frames_and_from_files(first, tmp_path):
    """The diff (a join on the primary key): every kind of edit is found, in key order, the same
    from the frames as from the tables' files."""
    from flows.common import parquet_tables

    raw, out, _ = first
    tables, _ = build_tables(raw)
    prev = out / "1.0.0"
    edited = {k: v.copy() for k, v in tables.items()}
    p = edited["paragraphs"]
    by_key = p.sort_values("para_id")["para_id"].tolist()
    first_key, second_key, third_key, removed_key = by_key[0], by_key[1], by_key[-2], by_key[-1]
    at = {k: p.index[p["para_id"] == k][0] for k in (first_key, second_key, third_key)}
    p.loc[at[first_key], "text"] = p.loc[at[first_key], "text"] + " Edited."
    p.loc[at[first_key], "n_words"] = p.loc[at[first_key], "n_words"] + 1
    content = p.loc[at[second_key], "reason"] is None or pd.isna(p.loc[at[second_key], "reason"])
    p.loc[at[second_key], "reason"] = "widget" if content else None  # a null gets a value, or loses it
    p.loc[at[third_key], "cluster_id"] = None if pd.notna(p.loc[at[third_key], "cluster_id"]) else "c" + "0" * 16
    p = p[p["para_id"] != removed_key]
    added = p.iloc[[0]].assign(para_id="p" + "f" * 16)
    edited["paragraphs"] = pd.concat([p, added], ignore_index=True)
    e = edited["entities"]
    e.at[e.index[0], "aliases"] = [*e.at[e.index[0], "aliases"], "Another alias"]
    from_frames = changes.diff(prev, edited)
    files = parquet_tables.write_tables(
        {k: parquet_tables.sort_table(k, v.reset_index(drop=True)) for k, v in edited.items()}, tmp_path / "files")
    from_files = changes.diff(prev, parquet_tables.ParquetTables(files))
    assert from_frames == from_files
    t = from_frames["tables"]["paragraphs"]
    assert t["added"].to_pylist() == ["p" + "f" * 16] and t["removed"].to_pylist() == [removed_key]
    assert t["changed"] == [{"key": first_key, "columns": ["text", "n_words"]},
                            {"key": second_key, "columns": ["reason"]},
                            {"key": third_key, "columns": ["cluster_id"]}]
    assert from_frames["tables"]["entities"]["changed"] == [{"key": e.iloc[0]["entity_id"], "columns": ["aliases"]}]
    assert all(not t["changed"] for name, t in from_frames["tables"].items() if name not in ("paragraphs", "entities"))


def test_semver_from_the_diff(first, monkeypatch):
    raw, out, _ = first
    tables, _ = build_tables(raw)
    prev = out / "1.0.0"
    assert changes.bump(changes.diff(prev, tables)) == "patch"  # nothing added: at most corrections
    corrected = {k: v.copy() for k, v in tables.items()}
    corrected["documents"].loc[0, "title"] = "A corrected headline"
    d = changes.diff(prev, corrected)
    assert d["tables"]["documents"]["changed"] == [{"key": corrected["documents"].loc[0, "doc_id"],
                                                   "columns": ["title"]}]
    assert changes.bump(d) == "patch"
    fewer = {k: v.copy() for k, v in tables.items()}
    fewer["paragraphs"] = fewer["paragraphs"].iloc[1:]
    removed = changes.diff(prev, fewer)["tables"]["paragraphs"]["removed"]
    assert removed.to_pylist() == [tables["paragraphs"]["para_id"].iloc[0]]
    assert changes.bump(changes.diff(prev, fewer)) == "patch"

    def patched_release(schema):
        data = json.loads((prev / "release.json").read_text())
        data["schema"] = schema

        def fake(path):
            return data["schema"], data["primary_keys"]
        monkeypatch.setattr(changes, "_previous_schema", fake)

    sig = releases.schema_signature()
    # the previous release had a column this build lacks: breaking
    patched_release({**sig, "documents": {**sig["documents"], "gone": "string"}})
    d = changes.diff(prev, tables)
    assert d["schema"]["columns_removed"] == {"documents": ["gone"]} and changes.bump(d) == "major"
    # the previous release typed a column differently: breaking
    patched_release({**sig, "documents": {**sig["documents"], "n_bytes": "string"}})
    assert changes.bump(changes.diff(prev, tables)) == "major"
    # this build has a column the previous release lacked: an addition
    docs = dict(sig["documents"])
    docs.pop("dateline")
    patched_release({**sig, "documents": docs})
    d = changes.diff(prev, tables)
    assert d["schema"]["columns_added"] == {"documents": ["dateline"]} and changes.bump(d) == "minor"
    assert d["tables"]["documents"]["changed"] == []  # a new column is a schema change, not a row change


def test_formula_like_cells_are_neutralised_in_csv_only(first, tmp_path):
    raw0, _, _ = first
    raw = tmp_path / "raw"
    shutil.copytree(raw0, raw)
    (raw / "901_formula.txt").write_text(
        "=HYPERLINK(\"http://example.invalid\",\"click\") headline\n\n"
        "@SUM(1+1) is how a spreadsheet would start a formula, and so is a minus sign.\n\n"
        "-2 degrees were recorded on Tuesday, the weather office said.\n", encoding="utf-8")
    out = tmp_path / "out"
    publish_raw(raw, out)
    pq = pd.read_parquet(out / "latest" / "paragraphs.parquet")
    csv = pd.read_csv(out / "latest" / "paragraphs.csv", keep_default_na=False, na_values=[""])
    risky = pq["text"].str.match(r"^[=+\-@\t\r]")
    assert risky.sum() == 3
    assert (csv.loc[risky, "text"] == "'" + pq.loc[risky, "text"]).all()
    assert (csv.loc[~risky, "text"] == pq.loc[~risky, "text"]).all()
    assert not csv["text"].str.match(r"^[=+\-@]").any()
    # numbers are never touched
    assert (csv["char_start"] == pq["char_start"]).all()
    readme = (out / "latest" / "README.md").read_text()
    assert "leading apostrophe" in readme


def test_csv_is_rfc4180():
    import csv
    import io

    df = pd.DataFrame({"file": ["a \"quoted\", comma.txt", "line\nbreak.txt"], "sha256": [None, None],
                       "n_bytes": [1, 2], "reason": ["empty", "binary"], "detail": ["=1+1", None]})
    import schemas

    data = csv_files.csv_bytes("rejections", schemas.conform("rejections", df))
    assert data.endswith(b"\r\n")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == schemas.csv_header("rejections")
    assert rows[1][0] == "a \"quoted\", comma.txt" and rows[2][0] == "line\nbreak.txt"
    assert rows[1][4] == "'=1+1"


def test_dictionary_covers_every_column_with_examples_from_the_data(first):
    import schemas

    raw, out, _ = first
    tables, _ = build_tables(raw)
    md = (out / "latest" / "README.md").read_text()
    page = (out / "latest" / "dictionary.html").read_text()
    for name, t in schemas.tables().items():
        assert f"## {dictionary.md_escape(name)}" in md
        for f in t.fields:
            assert f"| {dictionary.md_escape(f.name)} | {f.type} |" in md
            assert f"<code>{f.name}</code>" in page
    first_doc = parquet_tables.sort_table("documents", tables["documents"]).iloc[0]
    assert dictionary.md_escape(first_doc["sha256"]) in md  # an example value taken from the data
    entry = next(e for e in dictionary.entries(tables) if e["name"] == "paragraphs")
    para = next(c for c in entry["columns"] if c["name"] == "text")
    assert para["example"] and para["example"][:30] in " ".join(
        parquet_tables.sort_table("paragraphs", tables["paragraphs"]).iloc[0]["text"].split())


def test_dictionary_escapes_markup_in_the_data(seed_tables):
    tables = {k: seed_tables[k].copy() for k in ("documents", "paragraphs", "rejections")}
    p = parquet_tables.sort_table("paragraphs", tables["paragraphs"])
    p.loc[0, "text"] = "<script>alert('x')</script> [click](javascript:alert(1)) | *bold*"
    d = parquet_tables.sort_table("documents", tables["documents"])
    d.loc[0, "title"] = "<img src=x onerror=alert(1)>"
    tables.update(paragraphs=p, documents=d)
    page = dictionary.html(tables, "9.9.9", "now")
    md = dictionary.markdown(tables, "9.9.9", "now")
    for text in (page, md):
        assert "<script>" not in text and "<img" not in text
        assert "&lt;script&gt;" in text and "&lt;img src=x" in text
    assert "\\[click\\](javascript:alert(1)) \\| \\*bold\\*" in md


def test_csv_from_the_parquet_file_is_the_csv_of_the_frame(tmp_path):
    """Publishing writes a table's CSV from its Parquet file (DuckDB, streamed), or from its frame when
    it has no file: the same bytes either way, and the fingerprint is fed those bytes."""
    import hashlib

    from conftest import RAW

    import schemas

    tables, _ = build_tables(RAW)
    df = parquet_tables.sort_table("paragraphs", tables["paragraphs"])
    assert len(df) > 20
    whole = csv_files.csv_bytes("paragraphs", df)
    parquet_tables.write_parquet("paragraphs", df, tmp_path / "p.parquet", rows=7)  # several row groups
    digest = hashlib.sha256()
    csv_files.write_csv("paragraphs", tmp_path / "p.parquet", tmp_path / "p.csv", digest)
    assert (tmp_path / "p.csv").read_bytes() == whole
    assert digest.hexdigest() == hashlib.sha256(whole).hexdigest()
    assert whole.startswith(",".join(schemas.csv_header("paragraphs")).encode() + b"\r\n")
    assert whole.count(b"\r\n") >= len(df) + 1
    parsed = pd.read_csv(tmp_path / "p.csv", dtype=str, keep_default_na=False)
    assert parsed["para_id"].tolist() == df["para_id"].tolist()
    assert parsed["text"].tolist() == [csv_files.neutralise(t) for t in df["text"]]
    parquet_tables.write_parquet("paragraphs", df.iloc[0:0], tmp_path / "empty.parquet")
    csv_files.write_csv("paragraphs", tmp_path / "empty.parquet", tmp_path / "empty.csv")
    assert (tmp_path / "empty.csv").read_bytes() == csv_files.csv_bytes("paragraphs", df.iloc[0:0]) == \
        ",".join(schemas.csv_header("paragraphs")).encode() + b"\r\n"
    # a table already in its row order is published as it is, not copied; another order is sorted
    assert parquet_tables.sort_table("paragraphs", df) is df
    shuffled = df.sample(frac=1, random_state=1)
    pd.testing.assert_frame_equal(parquet_tables.sort_table("paragraphs", shuffled), df)


def test_publishing_from_the_parquet_files_gives_the_release_of_the_frames(first, tmp_path):
    """The flow writes the tables' Parquet files once (flows.common.parquet_tables.write_tables) and
    publishes from them, one table at a time: the release is the one the frames in memory give,
    its diff included, and the files are linked in (the same file system), not written again."""
    from flows.common.parquet_tables import ParquetTables, write_tables

    raw0, out0, _ = first
    raw = tmp_path / "raw"
    shutil.copytree(raw0, raw)
    (raw / "900_new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    tables, inventory = build_tables(raw)
    outs = {kind: tmp_path / kind for kind in ("frames", "files")}
    for out in outs.values():
        shutil.copytree(out0, out, symlinks=True)
    from_frames = publish.publish(tables, outs["frames"], None, None, inventory)
    files = write_tables(tables, tmp_path / "parquet")
    from_files = publish.publish(ParquetTables(files), outs["files"], None, None, inventory)
    assert from_frames.version == from_files.version == "1.1.0"
    assert from_frames.changes == from_files.changes and from_files.changes["tables"]["documents"]["added"] == 1
    a, b = from_frames.path, from_files.path
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    data = [p.name for p in a.iterdir() if p.suffix in (".parquet", ".csv")]
    assert len(data) == 2 * len(tables) + 1  # every table twice, and raw_manifest.csv
    for name in ("changes.json", "CHANGES.md", *data):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    for name in ("README.md", "dictionary.html"):  # the same but for the time they were made
        assert _undated(a / name) == _undated(b / name), name
    for name in tables:  # the release's file is the one written (validation may still read it there)
        assert (b / f"{name}.parquet").stat().st_ino == (files / f"{name}.parquet").stat().st_ino, name
    verify_release(b)


def _undated(path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if "Created" not in line]
