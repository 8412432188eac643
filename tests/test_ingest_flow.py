"""End to end: the build-dataset flow on a raw folder holding every kind of bad input plus the seeds."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from test_bad_input import DATA, ENGLISH, ENGLISH_1252, tiny_png

pytestmark = pytest.mark.slow

EXPECTED = {
    "empty.txt": "empty",
    "blank lines.txt": "empty",
    "picture.png": "binary",
    "nul bytes.txt": "binary",
    "undecodable.txt": "undecodable",
    "page.html": "html",
    "big.txt": "too_large",
    "french.txt": "non_english",
    "arabic.txt": "non_english",
    "debris.txt": "all_boilerplate",
    "gone.txt": "missing_file",
    # hostile and odd entries (issue 31): each a rejection with its reason, none read
    "link out.txt": "outside_raw",
    "broken link.txt": "broken_link",
    ".hidden.txt": "hidden",
    "subfolder": "in_subfolder",
    "a fifo": "not_a_file",
    "tampered.txt": "sha256_mismatch",
}
GOOD = ["legacy cp1252.txt", "utf16.txt", "-dash.txt", "\u00fcn\u00efc\u00f8d\u00e9 \u6771\u4eac.txt",
        "copy of 001.txt", "unlisted.txt",
        # (issue 31) a name that is not UTF-8, a link to a file in raw/ (a second name of seed 001),
        # values of the manifest refused, invalid bytes in UTF-8, UTF-16 without BOM
        "caf\\xe9 latin-1 name.txt", "link to 001.txt", "odd manifest row.txt", "four bad bytes.txt", "utf16 no bom.txt"]
SAME_AS_001 = ["copy of 001.txt", "link to 001.txt"]
SECRET = "Secret\n\nThe zyxwvut-sentinel article outside the raw folder, which no build may read.\n" + ENGLISH


def make_raw(raw: Path) -> None:
    from conftest import SEED_001

    (raw / "empty.txt").write_bytes(b"")
    (raw / "blank lines.txt").write_bytes(b"\r\n \n\t\n")
    (raw / "picture.png").write_bytes(tiny_png())
    (raw / "nul bytes.txt").write_bytes(ENGLISH.encode() + b"\x00\x00")
    (raw / "undecodable.txt").write_bytes(bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D]) * 60)
    (raw / "page.html").write_text("<!doctype html><html><body><p>" + ENGLISH + "</p></body></html>")
    (raw / "big.txt").write_text("Big\n\n" + ENGLISH * 30_000)  # > 5 MB, the configured limit
    shutil.copy(DATA / "french.txt", raw / "french.txt")
    shutil.copy(DATA / "arabic.txt", raw / "arabic.txt")
    (raw / "debris.txt").write_text("Share\n\nPrint\n\n3 comments\n\nLeave a reply\n")
    (raw / "legacy cp1252.txt").write_bytes(("Legacy\n\n" + ENGLISH_1252 * 2).encode("cp1252"))
    (raw / "utf16.txt").write_bytes(b"\xff\xfe" + ("UTF-16\n\n" + ENGLISH).encode("utf-16-le"))
    (raw / "-dash.txt").write_text("Dash\n\n" + ENGLISH + "Another line about the dash.\n")
    (raw / "\u00fcn\u00efc\u00f8d\u00e9 \u6771\u4eac.txt").write_text("Unicode\n\n" + ENGLISH + "More.\n")
    shutil.copy(raw / SEED_001, raw / "copy of 001.txt")
    (raw / "unlisted.txt").write_text("Unlisted\n\n" + ENGLISH + "Not in the manifest.\n")
    listed = [n for n in [*EXPECTED, *GOOD] if n not in ("unlisted.txt", "copy of 001.txt", "tampered.txt",
                                                         "odd manifest row.txt")]
    with (raw / "sources.csv").open("a", encoding="utf-8") as fh:
        for name in listed:
            fh.write(f"{name},,,,,,\r\n")
        fh.write("tampered.txt," + "0" * 64 + ",,,,,\r\n")
        fh.write('odd manifest row.txt,,Outlet,javascript:alert(1),,"July 24, 2024",\r\n')
    # issue 31
    (raw.parent / "outside").mkdir()
    (raw.parent / "outside" / "secret.txt").write_text(SECRET, encoding="utf-8")
    os.symlink(raw.parent / "outside" / "secret.txt", raw / "link out.txt")
    os.symlink("nothing here.txt", raw / "broken link.txt")
    (raw / ".hidden.txt").write_text("Hidden\n\n" + ENGLISH)
    (raw / "subfolder").mkdir()
    (raw / "subfolder" / "inner.txt").write_text("Inner\n\n" + ENGLISH)
    os.mkfifo(raw / "a fifo")
    (raw / "tampered.txt").write_text("Tampered\n\n" + ENGLISH + "Changed after the manifest was written.\n")
    with open(os.fsencode(raw) + b"/caf\xe9 latin-1 name.txt", "wb") as fh:
        fh.write(("Latin-1 name\n\n" + ENGLISH + "A name that is not UTF-8.\n").encode())
    os.symlink(SEED_001, raw / "link to 001.txt")
    (raw / "odd manifest row.txt").write_text("Odd row\n\n" + ENGLISH + "Its manifest row has odd values.\n")
    article = ("Four bad bytes\n\n" + ENGLISH_1252 * 2).encode()
    cut = article.index(b" ", 200)  # between words
    (raw / "four bad bytes.txt").write_bytes(article[:cut] + b"\x81\xfe\xff\xc0" + article[cut:])
    (raw / "utf16 no bom.txt").write_bytes(("No BOM\n\n" + ENGLISH + "In UTF-16.\n").encode("utf-16-le"))


@pytest.fixture(scope="module")
def release(prefect_harness, tmp_path_factory):
    from conftest import RAW

    from flows.common import workdirs
    from flows.pipeline import build_dataset

    raw = tmp_path_factory.mktemp("bad") / "raw"
    shutil.copytree(RAW, raw)
    make_raw(raw)
    out = tmp_path_factory.mktemp("out")
    tmp = tmp_path_factory.mktemp("tmp")
    with pytest.MonkeyPatch.context() as m:
        m.setattr(tempfile, "tempdir", str(tmp))  # the build's temporary folders go here
        stale = workdirs.WorkDir("build-dataset-")  # what a build killed with SIGKILL leaves behind:
        _, _, (name, fd), _ = stale._finalizer.detach()  # a folder nobody removes,
        os.close(fd)  # whose lock the kernel released
        rel = build_dataset(raw_dir=str(raw), output_dir=str(out))
    return raw, out, rel, {"stale": Path(name), "tmp": tmp}


def test_every_bad_input_is_published_in_rejections_with_its_reason(release):
    raw, out, rel, _ = release
    assert rel.published
    rejections = pd.read_parquet(out / "latest" / "rejections.parquet")
    assert dict(zip(rejections["file"], rejections["reason"])) == EXPECTED
    gone = rejections.set_index("file").loc["gone.txt"]
    assert pd.isna(gone["sha256"]) and pd.isna(gone["n_bytes"])
    csv = pd.read_csv(out / "latest" / "rejections.csv", keep_default_na=False, na_values=[""])
    assert sorted(csv["file"]) == sorted(EXPECTED)


def test_the_other_files_are_documents_and_the_accounting_holds(release):
    from conftest import RAW, SEED_001

    raw, out, _, _ = release
    docs = pd.read_parquet(out / "latest" / "documents.parquet")
    rejections = pd.read_parquet(out / "latest" / "rejections.parquet")
    doc_files = [n for files in docs["source_files"] for n in files]
    seeds = [p.name for p in RAW.glob("*.txt")]
    assert set(seeds) | set(GOOD) == set(doc_files)
    assert len(docs) == len(seeds) + len(GOOD) - len(SAME_AS_001)  # the same document as 001
    assert sorted(docs.loc[docs["source_file"] == SEED_001, "source_files"].item()) == sorted([SEED_001, *SAME_AS_001])
    enc = dict(zip(docs["source_file"], docs["encoding"]))
    assert enc["legacy cp1252.txt"] == "cp1252" and enc["utf16.txt"] == "utf-16"
    assert enc["utf16 no bom.txt"] == "utf-16-le" and enc["four bad bytes.txt"] == "utf-8"
    inputs = [ingest_file_name(p) for p in raw.iterdir() if p.name != "sources.csv"] + ["gone.txt"]
    assert sorted(doc_files + list(rejections["file"])) == sorted(inputs)


def ingest_file_name(path):
    from flows.ingest.ingest import file_name

    return file_name(path)


def test_what_was_refused_or_replaced_is_published_as_a_warning(release):
    _, out, _, _ = release
    docs = pd.read_parquet(out / "latest" / "documents.parquet").set_index("source_file")
    assert docs.loc["four bad bytes.txt", "n_invalid_bytes"] == 4 and "4 invalid byte(s)" in docs.loc[
        "four bad bytes.txt", "warnings"]
    odd = docs.loc["odd manifest row.txt"]
    assert pd.isna(odd["url"]) and pd.isna(odd["published_date"]) and odd["outlet"] == "Outlet"
    assert "javascript:alert(1)" in odd["warnings"] and "July 24, 2024" in odd["warnings"]
    assert docs.drop(index=["four bad bytes.txt", "odd manifest row.txt"])["warnings"].isna().all()
    assert (docs.drop(index=["four bad bytes.txt"])["n_invalid_bytes"] == 0).all()
    manifest = pd.read_csv(out / "latest" / "raw_manifest.csv", keep_default_na=False).set_index("file")
    assert "javascript" in manifest.loc["odd manifest row.txt", "warnings"]
    assert "javascript" not in (out / "latest" / "datapackage.json").read_text()  # not a source's path
    # and the validation report shows them as a warning (not blocking)
    import json

    report = json.loads((out / "latest" / "validation" / "validation.json").read_text())
    assert any(f["expectation"] == "expect_column_values_to_be_null" and not f["blocking"]
               for f in report["failures"]), report["failures"]


def test_nothing_outside_the_raw_folder_is_published(release):
    raw, out, _, _ = release
    secret = (raw.parent / "outside" / "secret.txt").read_bytes()
    digest = hashlib.sha256(secret).hexdigest().encode()
    for path in (out / "latest").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"zyxwvut" not in data and digest not in data, path


def test_the_temporary_folder_of_a_killed_build_is_removed(release):
    _, _, _, tmp = release
    assert not tmp["stale"].exists()
    assert not [p.name for p in tmp["tmp"].iterdir() if p.name.startswith("build-dataset-")]


def test_raw_manifest_flags_files_missing_from_the_manifest(release):
    _, out, _, _ = release
    manifest = pd.read_csv(out / "latest" / "raw_manifest.csv", keep_default_na=False)
    flags = dict(zip(manifest["file"], manifest["in_manifest"].astype(str)))
    assert flags["unlisted.txt"] == "False" and flags["copy of 001.txt"] == "False"
    # CSV neutralises formula-like cells: "-dash.txt" is written as "'-dash.txt" (Parquet and the
    # tables keep the name verbatim; see README "What lands in output/")
    assert flags["'-dash.txt"] == "True" and flags["gone.txt"] == "True"
    assert dict(zip(manifest["file"], manifest["outcome"]))["debris.txt"] == "rejected:all_boilerplate"


def test_a_broken_accounting_fails_the_run_loudly(release, monkeypatch, tmp_path):
    from flows import pipeline
    from flows.ingest import ingest

    raw, _, _, _ = release
    real = ingest.reject_all_boilerplate

    def loses_a_rejection(*args):
        sources, paragraphs, info, rejections = real(*args)
        return sources, paragraphs, info, rejections.iloc[1:]

    monkeypatch.setattr(ingest, "reject_all_boilerplate", loses_a_rejection)
    out = tmp_path / "out"
    state = pipeline.build_dataset(raw_dir=str(raw), output_dir=str(out), return_state=True)
    assert state.is_failed()
    with pytest.raises(ingest.AccountingError, match="accounting does not hold"):
        state.result()
    assert not (out / "latest").exists() and not os.path.exists(out / "1.0.0")


def test_the_release_with_rejections_is_a_valid_data_package(release):
    frictionless = pytest.importorskip("frictionless")
    _, out, _, _ = release
    report = frictionless.validate(str(out / "latest" / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_a_malformed_manifest_fails_the_build_before_any_work(prefect_harness, tmp_path):
    from conftest import RAW

    from flows.ingest import ingest
    from flows.pipeline import build_dataset

    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (raw / "sources.csv").write_text('file,outlet\na.txt,"Outlet\nb.txt,Other\n', encoding="utf-8")
    with pytest.raises(ingest.ManifestError, match="sources.csv line 2: .*unclosed quote"):
        build_dataset(raw_dir=str(raw), output_dir=str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
