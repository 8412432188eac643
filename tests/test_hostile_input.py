"""Hostile and odd raw folders (issue 31): no crash, nothing read outside the raw folder, every entry
accounted for with a reason, nothing silent. Plain stage functions (ingest, the batches of the flow,
``flows.orchestrate.build``); the flow itself runs on the same inputs in ``test_ingest_flow.py``."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd
import pytest
from read_audit import opened, reaching
from test_bad_input import ENGLISH, ENGLISH_1252, assert_seeds_processed, reason_of, run

from flows.ingest import ingest
from flows.orchestrate import batches

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
    from flows.orchestrate.build import build

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

def test_manifest_dates_that_are_not_iso_are_refused_not_fatal(raw_copy):
    from flows.orchestrate.build import build

    (raw_copy / "dated.txt").write_text("Dated story\n\n" + ENGLISH, encoding="utf-8")
    (raw_copy / "timed.txt").write_text("Timed story\n\n" + ENGLISH + "Another sentence.\n", encoding="utf-8")
    with (raw_copy / "sources.csv").open("a", encoding="utf-8") as fh:
        fh.write('dated.txt,,,,2024-07-30,"July 24, 2024",\r\n')
        fh.write("timed.txt,,,,2024-07-25T10:30:00+00:00,20240724,\r\n")
    sources, tables, inventory = build(raw_copy)
    docs = tables["documents"].set_index("source_file")
    assert pd.isna(docs.loc["dated.txt", "published_date"])
    assert docs.loc["dated.txt", "retrieved_date"] == "2024-07-30"
    assert "published_date 'July 24, 2024'" in docs.loc["dated.txt", "warnings"]
    # ISO 8601 dates and date-times are taken as dates
    assert (docs.loc["timed.txt", "published_date"], docs.loc["timed.txt", "retrieved_date"]) == ("2024-07-24", "2024-07-25")
    assert pd.isna(docs.loc["timed.txt", "warnings"])
    inv = inventory.set_index("file")
    assert inv.loc["dated.txt", "published_date"] is None and "not an ISO date" in inv.loc["dated.txt", "warnings"]


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

def test_a_manifest_that_links_out_of_the_raw_folder_is_an_error(raw_copy, outside):
    (outside / "sources.csv").write_text("file,outlet\nx.txt,Elsewhere\n", encoding="utf-8")
    (raw_copy / "sources.csv").unlink()
    os.symlink(outside / "sources.csv", raw_copy / "sources.csv")
    with opened() as paths, pytest.raises(ingest.ManifestError, match="outside the raw folder"):
        batches.fingerprint(raw_copy)
    assert not reaching(paths, outside)


# --- 6. the manifest ------------------------------------------------------------------------------

def test_a_sha256_that_differs_from_the_manifest_is_a_rejection(raw_copy):
    from conftest import SEED_001, SEED_002

    lines = (raw_copy / "sources.csv").read_text(encoding="utf-8").splitlines()
    fixed = []
    for line in lines:
        name, sha, rest = line.split(",", 2) if line.count(",") >= 2 else (line, "", "")
        if name == SEED_001:
            sha = "0" * 64  # another file's hash
        elif name == SEED_002:
            sha = sha.upper()  # the same hash in capitals
        fixed.append(",".join([name, sha, rest]))
    (raw_copy / "sources.csv").write_text("\n".join(fixed) + "\n", encoding="utf-8")
    t = run(raw_copy)
    row = row_of(t, SEED_001)
    assert row["reason"] == "sha256_mismatch"
    assert row["sha256"] == hashlib.sha256((raw_copy / SEED_001).read_bytes()).hexdigest()
    assert "0" * 64 in row["detail"] and row["sha256"] in row["detail"]
    assert SEED_002 in set(t["sources"]["source_file"])
    assert t["accounting"]["ok"]

@pytest.mark.parametrize("manifest, line", [
    ('file,outlet\na.txt,"Outlet\nb.txt,Other\nc.txt,Third\n', 2),  # unclosed: runs to the end of the file
    ('file,outlet\na.txt,Fine\nb.txt,"Outlet\nc.txt,Third"\nd.txt,Fourth\n', 3),  # closed a line later
    ('file,outlet\na.txt,Fine\nb.txt,"Outlet"x\n', 3),  # text after the closing quote
    ('file,outlet\na.txt,Fine,extra,fields\n', 2),  # more fields than the header
    ("outlet,url\nOutlet,http://example.org\n", 1),  # no file column
    (b"file,outlet\na.txt,Caf\xe9\n", 2),  # not UTF-8
])
def test_a_malformed_manifest_is_an_error_naming_the_line(raw_copy, manifest, line):
    path = raw_copy / "sources.csv"
    path.write_bytes(manifest if isinstance(manifest, bytes) else manifest.encode("utf-8"))
    with pytest.raises(ingest.ManifestError, match=f"sources.csv line {line}\\b"):
        ingest.read_manifest(raw_copy)
    with opened() as paths, pytest.raises(ingest.ManifestError):  # the flow's first step: before any file is read
        batches.fingerprint(raw_copy)
    assert not [p for p in paths if p.endswith(".txt")]

def test_the_build_command_reports_a_malformed_manifest(raw_copy, tmp_path, monkeypatch, request):
    from flows import cli, pipeline

    # (capsys only now: importing Prefect sets up its log handler on the sys.stderr of the moment, and
    # capsys's stream is closed after this test)
    capsys = request.getfixturevalue("capsys")
    (raw_copy / "sources.csv").write_text('file,outlet\na.txt,"Outlet\nb.txt,Other\n', encoding="utf-8")
    monkeypatch.setattr(pipeline, "build_dataset", lambda raw_dir, **kw: batches.fingerprint(Path(raw_dir)))
    assert cli.main(["build", "--raw", str(raw_copy), "--output", str(tmp_path / "out")]) == 2
    assert "BUILD FAILED: sources.csv line 2" in capsys.readouterr().err

def test_urls_other_than_http_are_refused(raw_copy):
    names = {"js.txt": "javascript:alert(1)", "file.txt": "file:///etc/passwd", "ftp.txt": "ftp://example.org/a",
             "relative.txt": "/news/a.html", "spaced.txt": "http://exa mple.org/", "web.txt": "https://example.org/a?b=1"}
    with (raw_copy / "sources.csv").open("a", encoding="utf-8") as fh:
        for i, (name, url) in enumerate(names.items()):
            (raw_copy / name).write_text(f"Story {i}\n\n{ENGLISH}", encoding="utf-8")
            fh.write(f"{name},,Outlet,{url},,,\r\n")
    t = run(raw_copy)
    docs = t["sources"].set_index("source_file")
    inv = t["inventory"].set_index("file")
    for name, url in names.items():
        if name == "web.txt":
            assert docs.loc[name, "url"] == url and pd.isna(docs.loc[name, "warnings"])
        else:
            assert pd.isna(docs.loc[name, "url"]) and inv.loc[name, "url"] is None, name
            assert f"url {url!r}" in docs.loc[name, "warnings"] and "refused" in inv.loc[name, "warnings"]
    # raw_manifest.csv and the data package's sources (made from the inventory) list only the web URL
    assert inv["url"].dropna().tolist() == ["https://example.org/a?b=1"]


# --- 4. and 7. decoding: UTF-8 with a few invalid bytes, UTF-16 without BOM -----------------------

def mojibake_free(text: str) -> bool:
    return not any(m in text for m in ("\u201a\u00c4\u00fa", "\u00e2\u20ac", "\u00c3"))

def test_utf8_with_a_few_invalid_bytes_is_utf8_with_them_replaced_and_counted(raw_copy):
    text = "Quotes\n\n" + ENGLISH_1252 * 3
    data = text.encode("utf-8")
    middle = len(data) // 2
    middle = data.index(b" ", middle)  # between two words, not inside a character
    bad = data[:middle] + b"\x81\xfe\xff\xc0" + data[middle:]  # four bytes that are never valid UTF-8
    (raw_copy / "four bad bytes.txt").write_bytes(bad)
    (raw_copy / "bom and a bad byte.txt").write_bytes(b"\xef\xbb\xbf" + ENGLISH.encode() + b"\xff" + b"more.\n")
    t = run(raw_copy)
    doc = t["sources"].set_index("source_file").loc["four bad bytes.txt"]
    assert doc["encoding"] == "utf-8" and doc["n_invalid_bytes"] == 4
    assert doc["text"] == bad.decode("utf-8", "replace")
    assert "\u201cnew plan\u201d" in doc["text"] and mojibake_free(doc["text"])
    assert doc["text"].count("\ufffd") == 4
    assert "4 invalid byte(s)" in doc["warnings"]
    bom = t["sources"].set_index("source_file").loc["bom and a bad byte.txt"]
    assert (bom["encoding"], bom["n_invalid_bytes"]) == ("utf-8-sig", 1)
    inv = t["inventory"].set_index("file")
    assert "4 invalid byte(s)" in inv.loc["four bad bytes.txt", "warnings"]
    assert "four bad bytes.txt" in ingest.summary_markdown(t["rejections"], t["inventory"])
    # the seeds have no warnings
    assert t["sources"].set_index("source_file").drop(index=["four bad bytes.txt", "bom and a bad byte.txt"])[
        "warnings"].isna().all()

@pytest.mark.parametrize("encoding", ["cp1252", "mac-roman", "latin-1"])
def test_a_legacy_text_is_still_read_in_its_encoding(encoding):
    """The rule keeps single-byte texts (every non-ASCII byte invalid in UTF-8) for the legacy
    encodings; only a text with more valid multi-byte sequences than invalid ones is UTF-8."""
    text = "Le caf\u00e9 cr\u00e8me, the na\u00efve r\u00e9sum\u00e9 " + ENGLISH
    data = text.encode(encoding)
    decoded, found, n_invalid = ingest.decode_counted(data, encoding if encoding != "cp1252" else None)
    assert decoded == text and n_invalid == 0

def test_mostly_invalid_utf8_is_not_read_as_utf8():
    data = ("A caf\u00e9 ".encode() + b"\xe9\xe8\xe0 " * 5) + ENGLISH.encode()
    text, encoding, n_invalid = ingest.decode_counted(data)
    assert encoding != "utf-8" and n_invalid == 0

@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("article", [ENGLISH_1252, ENGLISH])  # (ASCII only: valid UTF-8 too, with NULs)
def test_utf16_without_a_byte_order_mark_is_read_as_utf16(raw_copy, codec, article):
    text = "Without a BOM\n\n" + article * 10
    (raw_copy / "no-bom.txt").write_bytes(text.encode(codec))
    t = run(raw_copy)
    doc = t["sources"].set_index("source_file").loc["no-bom.txt"]
    assert (doc["encoding"], doc["text"], doc["n_invalid_bytes"]) == (codec, text, 0)

def test_nul_bytes_laid_out_like_utf16_that_do_not_decode_say_so(raw_copy):
    data = ("Broken\n\n" + ENGLISH).encode("utf-16-le") + b"\x00\xdc" + "tail".encode("utf-16-le")  # a lone surrogate
    (raw_copy / "broken16.txt").write_bytes(data)
    t = run(raw_copy)
    assert reason_of(t, "broken16.txt") == "binary"
    assert "UTF-16 without a byte-order mark" in row_of(t, "broken16.txt")["detail"]
