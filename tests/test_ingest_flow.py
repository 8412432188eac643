"""End to end: the build-dataset flow on a raw folder holding every kind of bad input plus the seeds."""

from __future__ import annotations

import os
import shutil
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
}
GOOD = ["legacy cp1252.txt", "utf16.txt", "-dash.txt", "\u00fcn\u00efc\u00f8d\u00e9 \u6771\u4eac.txt",
        "copy of 001.txt", "unlisted.txt"]


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
    listed = [n for n in [*EXPECTED, *GOOD] if n not in ("unlisted.txt", "copy of 001.txt")]
    with (raw / "sources.csv").open("a", encoding="utf-8") as fh:
        for name in listed:
            fh.write(f"{name},,,,,,\r\n")


@pytest.fixture(scope="module")
def release(prefect_harness, tmp_path_factory):
    from conftest import RAW

    from flows.pipeline import build_dataset

    raw = tmp_path_factory.mktemp("bad") / "raw"
    shutil.copytree(RAW, raw)
    make_raw(raw)
    out = tmp_path_factory.mktemp("out")
    rel = build_dataset(raw_dir=str(raw), output_dir=str(out))
    return raw, out, rel


def test_every_bad_input_is_published_in_rejections_with_its_reason(release):
    raw, out, rel = release
    assert rel.published
    rejections = pd.read_parquet(out / "latest" / "rejections.parquet")
    assert dict(zip(rejections["file"], rejections["reason"])) == EXPECTED
    gone = rejections.set_index("file").loc["gone.txt"]
    assert pd.isna(gone["sha256"]) and pd.isna(gone["n_bytes"])
    csv = pd.read_csv(out / "latest" / "rejections.csv", keep_default_na=False, na_values=[""])
    assert sorted(csv["file"]) == sorted(EXPECTED)


def test_the_other_files_are_documents_and_the_accounting_holds(release):
    from conftest import RAW, SEED_001

    raw, out, _ = release
    docs = pd.read_parquet(out / "latest" / "documents.parquet")
    rejections = pd.read_parquet(out / "latest" / "rejections.parquet")
    doc_files = [n for files in docs["source_files"] for n in files]
    seeds = [p.name for p in RAW.glob("*.txt")]
    assert set(seeds) | set(GOOD) == set(doc_files)
    assert len(docs) == len(seeds) + len(GOOD) - 1  # the copy of 001 is the same document
    assert sorted(docs.loc[docs["source_file"] == SEED_001, "source_files"].item()) == [SEED_001, "copy of 001.txt"]
    enc = dict(zip(docs["source_file"], docs["encoding"]))
    assert enc["legacy cp1252.txt"] == "cp1252" and enc["utf16.txt"] == "utf-16"
    inputs = [p.name for p in raw.iterdir() if p.name != "sources.csv"] + ["gone.txt"]
    assert sorted(doc_files + list(rejections["file"])) == sorted(inputs)


def test_raw_manifest_flags_files_missing_from_the_manifest(release):
    _, out, _ = release
    manifest = pd.read_csv(out / "latest" / "raw_manifest.csv", keep_default_na=False)
    flags = dict(zip(manifest["file"], manifest["in_manifest"].astype(str)))
    assert flags["unlisted.txt"] == "False" and flags["copy of 001.txt"] == "False"
    # CSV neutralises formula-like cells: "-dash.txt" is written as "'-dash.txt" (Parquet and the
    # tables keep the name verbatim; see README "What lands in output/")
    assert flags["'-dash.txt"] == "True" and flags["gone.txt"] == "True"
    assert dict(zip(manifest["file"], manifest["outcome"]))["debris.txt"] == "rejected:all_boilerplate"


def test_a_broken_accounting_fails_the_run_loudly(release, monkeypatch, tmp_path):
    from flows import ingest, pipeline

    raw, _, _ = release
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
    _, out, _ = release
    report = frictionless.validate(str(out / "latest" / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
