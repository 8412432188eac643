"""Hostile and odd raw folders (issue 31): no crash, nothing read outside the raw folder, every entry
accounted for with a reason, nothing silent. Plain stage functions (ingest, the batches of the flow,
``flows.build``); the flow itself runs on the same inputs in ``test_ingest_flow.py``."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd
import pytest
from read_audit import opened, reaching
from test_bad_input import ENGLISH, assert_seeds_processed, reason_of, run

from flows import batches, ingest

SECRET = ("Secret memo kept outside the raw folder\n\nThe minister said that the zyxwvut-sentinel plan "
          "would not be announced, and that the talks of the two delegations had been postponed.\n")


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder beside the raw folder, with a file whose text would make a fine document."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET, encoding="utf-8")
    return folder


def row_of(tables: dict, name: str) -> dict:
    r = tables["rejections"]
    return r[r["file"] == name].iloc[0].to_dict()


def batch_run(raw: Path, target: int = 2) -> dict:
    """What the flow does before cleaning: fingerprint, build key, plan, and each batch's ingest and
    checks (``batches.process``), combined; then the flow's accounting check."""
    files, manifest = batches.fingerprint(raw)
    key = batches.build_key(files, manifest)
    plan = batches.plan(files, target) or [[]]
    results = [batches.process(raw, b, batches.batch_manifest(b, manifest, first=i == 0)) for i, b in enumerate(plan)]
    sources = batches.combine([r.sources for r in results], ["source_file"])
    rejections = batches.combine([r.rejections for r in results], ["file"])
    acc = ingest.check_accounting(raw, sources, rejections)
    return {"sources": sources, "rejections": rejections, "key": key, "files": files, "accounting": acc}


# --- 1. one input must not stop the whole run -----------------------------------------------------

def test_a_line_of_a_million_characters_is_a_document(raw_copy):
    """spaCy refuses texts over nlp.max_length (1,000,000 characters: E088) unless told otherwise."""
    from flows.build import build

    line = (ENGLISH.strip() + " ") * (1_000_001 // len(ENGLISH) + 1)
    (raw_copy / "one line.txt").write_text("A long line\n\n" + line[:1_000_001] + "\n", encoding="utf-8")
    assert (raw_copy / "one line.txt").stat().st_size < ingest.load_config().max_bytes
    sources, tables, _ = build(raw_copy)
    docs = tables["documents"]
    assert "one line.txt" in set(docs["source_file"])
    doc_id = docs.loc[docs["source_file"] == "one line.txt", "doc_id"].item()
    paras = tables["paragraphs"][tables["paragraphs"]["doc_id"] == doc_id]
    assert paras["text"].str.len().max() == 1_000_001
    assert tables["rejections"].empty

def test_a_file_name_that_is_not_utf8_is_recorded_escaped_through_the_batches(raw_copy):
    """The flow's build key and batches take the name on disk (bytes that are not UTF-8 as
    surrogates); the tables record it as ``\\xNN``."""
    with open(os.fsencode(raw_copy) + b"/caf\xe9.txt", "wb") as fh:
        fh.write(("Caf\u00e9 story\n\n" + ENGLISH).encode())
    t = batch_run(raw_copy)
    assert "caf\\xe9.txt" in set(t["sources"]["source_file"])
    assert t["accounting"]["ok"] and t["rejections"].empty
    # the key depends on the name: the same bytes under another name make another key
    os.rename(os.fsencode(raw_copy) + b"/caf\xe9.txt", raw_copy / "cafe.txt")
    assert batch_run(raw_copy)["key"] != t["key"]


# --- 2. and 5. links, hidden files, folders: nothing outside raw/ is read, nothing is skipped silently ---

def test_links_out_of_the_raw_folder_are_never_read(raw_copy, outside):
    from conftest import SEED_001

    secret = outside / "secret.txt"
    os.symlink(secret, raw_copy / "link-out.txt")
    os.symlink(os.path.relpath(secret, raw_copy), raw_copy / "relative-link-out.txt")
    os.symlink("/etc/passwd", raw_copy / "passwd")
    os.symlink(outside, raw_copy / "folder-out", target_is_directory=True)
    os.symlink(SEED_001, raw_copy / "link-in.txt")  # inside: read as the file it points to
    with opened() as paths:
        t = run(raw_copy)
        b = batch_run(raw_copy)
    assert not reaching(paths, outside) and not reaching(paths, Path("/etc/passwd"))
    for name in ("link-out.txt", "relative-link-out.txt", "passwd", "folder-out"):
        assert reason_of(t, name) == "outside_raw"
        row = row_of(t, name)
        assert pd.isna(row["sha256"]) and pd.isna(row["n_bytes"])
    secret_sha = hashlib.sha256(secret.read_bytes()).hexdigest()
    for tables in (t, b):
        assert secret_sha not in set(tables["sources"]["sha256"]) | set(tables["rejections"]["sha256"].dropna())
        assert not [n for n in tables["rejections"]["detail"] if "secret" in n or "passwd" in n.lower()]
    assert not any("zyxwvut" in text for text in t["sources"]["text"])
    # a link to a file inside the raw folder is that file: the same document, under both names
    doc = t["sources"][t["sources"]["source_file"] == SEED_001]
    assert doc["source_files"].item() == [SEED_001, "link-in.txt"]
    assert set(b["rejections"]["file"]) == set(t["rejections"]["file"])
    assert_seeds_processed(t)

def test_every_entry_that_is_not_an_article_file_is_a_rejection_with_its_reason(raw_copy, outside):
    (raw_copy / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (raw_copy / ".hidden story.txt").write_text("Hidden\n\n" + ENGLISH, encoding="utf-8")
    os.symlink(outside / "secret.txt", raw_copy / ".hidden-link")
    (raw_copy / "2024").mkdir()
    (raw_copy / "2024" / "a.txt").write_text("In a folder\n\n" + ENGLISH, encoding="utf-8")
    (raw_copy / "2024" / "b.txt").write_text("In a folder too\n\n" + ENGLISH, encoding="utf-8")
    (raw_copy / "empty folder").mkdir()
    os.symlink("2024", raw_copy / "link to folder", target_is_directory=True)
    os.symlink("no such file.txt", raw_copy / "broken.txt")
    os.symlink("loop-b", raw_copy / "loop-a")
    os.symlink("loop-a", raw_copy / "loop-b")
    os.mkfifo(raw_copy / "a fifo")  # opening it for reading would wait for a writer for ever
    os.symlink("a fifo", raw_copy / "link to fifo")
    expected = {".DS_Store": "hidden", ".hidden story.txt": "hidden", ".hidden-link": "hidden",
                "2024": "in_subfolder", "empty folder": "in_subfolder", "link to folder": "in_subfolder",
                "broken.txt": "broken_link", "loop-a": "broken_link", "loop-b": "broken_link",
                "a fifo": "not_a_file", "link to fifo": "not_a_file"}
    with opened() as paths:
        t = run(raw_copy)
        b = batch_run(raw_copy)
    assert not reaching(paths, outside) and not reaching(paths, raw_copy / "2024")
    for tables in (t, b):
        got = dict(zip(tables["rejections"]["file"], tables["rejections"]["reason"]))
        assert got == expected
        assert tables["rejections"]["sha256"].isna().all() and tables["rejections"]["n_bytes"].isna().all()
    assert "2 files in it" in row_of(t, "2024")["detail"] and "loop" in row_of(t, "loop-a")["detail"]
    assert sorted(ingest.expected_inputs(raw_copy)) == sorted([p.name for p in raw_copy.iterdir()
                                                               if p.name != "sources.csv"])
    summary = ingest.summary_markdown(t["rejections"], t["inventory"])
    assert "hidden 3" in summary and "in_subfolder 3" in summary and "not_a_file 2" in summary
    assert_seeds_processed(t)
