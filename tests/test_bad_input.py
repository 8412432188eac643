"""Input checks at ingest: one test per kind of bad input (plain functions: ingest -> clean -> post-clean check).

Each test drops bad files next to copies of the seeds and checks that the bad file is in ``rejections``
with the expected reason, that the seeds are still documents, and that the accounting holds.
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from pathlib import Path

import pandas as pd
import pytest

from flows.clean import clean
from flows.common import parquet_tables
from flows.ingest import ingest
from flows.publish import csv_files

DATA = Path(__file__).parent / "data" / "bad_input"

ENGLISH = (
    "Officials from both countries met on Tuesday to discuss the future of the security partnership. "
    "They said that the talks had been constructive and that a joint statement would follow, according "
    "to a spokesperson who was not authorised to speak on the record.\n"
)
ENGLISH_1252 = (
    "The minister\u2019s \u201cnew plan\u201d \u2013 announced at a caf\u00e9 in the capital \u2013 was "
    "welcomed by the delegation, which said that it would study the proposal and report back to the "
    "committee before the end of the month.\n"
)


def tiny_png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


def run(raw: Path, **kwargs) -> dict:
    """ingest -> clean -> post-clean check, then the accounting check; the tables of the run."""
    sources, rejections = ingest.ingest(raw, **kwargs)
    ingest.check_accounting(raw, sources, rejections)
    paragraphs, info = clean.clean(sources)
    sources, paragraphs, info, rejections = ingest.reject_all_boilerplate(sources, paragraphs, info, rejections)
    acc = ingest.check_accounting(raw, sources, rejections)
    return {"sources": sources, "rejections": rejections, "paragraphs": paragraphs, "info": info, "accounting": acc,
            "inventory": ingest.raw_inventory(sources, rejections, raw)}


def reason_of(tables: dict, name: str) -> str:
    r = tables["rejections"]
    assert name in set(r["file"]), f"{name} not rejected; rejections: {r[['file', 'reason']].to_dict('records')}"
    return r.loc[r["file"] == name, "reason"].item()


def assert_seeds_processed(tables: dict) -> None:
    from conftest import RAW

    names = {n for files in tables["sources"]["source_files"] for n in files}
    for seed in ingest.list_raw_files(RAW):
        assert seed.name in names
    assert tables["accounting"]["ok"]


@pytest.mark.parametrize("name, data", [
    ("zero.txt", b""),
    ("spaces.txt", b"  \n\t\r\n   \r\n"),
    ("bom-only.txt", b"\xef\xbb\xbf"),
    ("nbsp-only.txt", "\u00a0 \u3000\n\u2003".encode("utf-8")),
])
def test_empty_or_whitespace_only(raw_copy, name, data):
    (raw_copy / name).write_bytes(data)
    t = run(raw_copy)
    assert reason_of(t, name) == "empty"
    assert_seeds_processed(t)


@pytest.mark.parametrize("name, data, detail", [
    ("picture.png", tiny_png(), "image/png"),
    ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x42" * 64, "image/jpeg"),
    ("anim.gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x10" * 32, "image/gif"),
    ("doc.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "application/pdf"),
    ("nul.txt", ENGLISH.encode() + b"\x00\x00\x01\x02", "NUL"),
    ("controls.txt", bytes(range(1, 9)) * 40 + ENGLISH.encode(), "control characters"),
])
def test_binary_images_and_other_binary(raw_copy, name, data, detail):
    (raw_copy / name).write_bytes(data)
    t = run(raw_copy)
    assert reason_of(t, name) == "binary"
    assert detail in t["rejections"].loc[t["rejections"]["file"] == name, "detail"].item()
    assert_seeds_processed(t)


@pytest.mark.parametrize("name, data", [
    ("cp1252-holes.txt", bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D]) * 60),
    ("random-high.txt", bytes((i * 151 + 7) % 128 + 128 for i in range(600))),
    ("utf16-odd.txt", b"\xff\xfe" + "Hello there".encode("utf-16-le") + b"\x41"),
    ("utf16-lone-surrogate.txt", b"\xff\xfe" + "Hello".encode("utf-16-le") + b"\x00\xd8"),
])
def test_undecodable(raw_copy, name, data):
    (raw_copy / name).write_bytes(data)
    t = run(raw_copy)
    assert reason_of(t, name) == "undecodable"
    assert_seeds_processed(t)


@pytest.mark.parametrize("opening", ["BMW", "ID3", "MZ", "OggS", "fLaC", "MThd"])
def test_text_that_starts_like_a_file_signature_is_not_binary(raw_copy, opening):
    (raw_copy / "a.txt").write_text(f"{opening} announced results\n\n{ENGLISH}")
    (raw_copy / "b.txt").write_bytes(f"{opening} said\n\n{ENGLISH_1252}".encode("cp1252"))
    t = run(raw_copy)
    assert {"a.txt", "b.txt"} <= set(t["sources"]["source_file"]), t["rejections"].to_dict("records")


def test_rtf_is_binary_on_its_signature(raw_copy):
    (raw_copy / "doc.rtf").write_text("{\\rtf1\\ansi " + ENGLISH + "}")
    assert reason_of(run(raw_copy), "doc.rtf") == "binary"


@pytest.mark.parametrize("name, data, encoding", [
    ("utf8.txt", ENGLISH_1252.encode("utf-8"), "utf-8"),
    ("utf8-bom.txt", b"\xef\xbb\xbf" + ENGLISH_1252.encode("utf-8"), "utf-8-sig"),
    ("utf16-le.txt", b"\xff\xfe" + ENGLISH_1252.encode("utf-16-le"), "utf-16"),
    ("utf16-be.txt", b"\xfe\xff" + ENGLISH_1252.encode("utf-16-be"), "utf-16"),
    ("legacy.txt", (ENGLISH_1252 * 3).encode("cp1252"), "cp1252"),
])
def test_encodings_decode_and_are_recorded(raw_copy, name, data, encoding):
    (raw_copy / name).write_bytes(data)
    with (raw_copy / "sources.csv").open("a", encoding="utf-8") as fh:  # listed, no encoding declared
        fh.write(f"{name},,,,,,\r\n")
    t = run(raw_copy)
    doc = t["sources"][t["sources"]["source_file"] == name]
    assert doc["encoding"].item() == encoding
    assert doc["text"].item().lstrip("\ufeff").startswith("The minister\u2019s \u201cnew plan\u201d")
    assert_seeds_processed(t)


def test_declared_encoding_in_the_manifest_wins(raw_copy):
    text = "Le caf\u00e9 " + ENGLISH  # latin-1 and cp1252 give the same text; the manifest says latin-1
    (raw_copy / "declared.txt").write_bytes(text.encode("latin-1"))
    with (raw_copy / "sources.csv").open("a", encoding="utf-8") as fh:
        fh.write("declared.txt,,,,,,,latin-1\r\n")
    # the manifest gains an encoding column
    lines = (raw_copy / "sources.csv").read_text(encoding="utf-8").splitlines()
    lines[0] += ",encoding"
    (raw_copy / "sources.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    t = run(raw_copy)
    doc = t["sources"][t["sources"]["source_file"] == "declared.txt"]
    assert doc["encoding"].item() == "latin-1" and doc["text"].item() == text
    assert_seeds_processed(t)


def test_declared_encoding_outside_the_allowed_list_is_undecodable(raw_copy):
    (raw_copy / "sources.csv").write_text("file,encoding\nodd.txt,shift_jis\n", encoding="utf-8")
    (raw_copy / "odd.txt").write_bytes(("\u65e5\u672c " + ENGLISH).encode("shift_jis"))
    t = run(raw_copy)
    assert reason_of(t, "odd.txt") == "undecodable"
    assert "shift_jis" in t["rejections"].loc[t["rejections"]["file"] == "odd.txt", "detail"].item()


def test_html_is_rejected_plain_text_mentioning_tags_is_not(raw_copy):
    (raw_copy / "page.html").write_text(
        "<!DOCTYPE html>\n<html><head><title>News</title></head><body><p>" + ENGLISH + "</p></body></html>\n")
    (raw_copy / "fragment.txt").write_text(
        "<div class='article'>\n<p>" + ENGLISH + "</p>\n<p>" + ENGLISH + "</p>\n<br/>\n</div>\n")
    (raw_copy / "mentions.txt").write_text("Markup in a story\n\n" + ENGLISH + "The <b> tag makes text bold.\n")
    t = run(raw_copy)
    assert reason_of(t, "page.html") == "html"
    assert reason_of(t, "fragment.txt") == "html"
    assert "mentions.txt" in set(t["sources"]["source_file"])
    assert_seeds_processed(t)


def test_size_over_the_limit(raw_copy):
    big = ("Headline\n\n" + ENGLISH * 200).encode()
    assert len(big) > 20_000 > max(p.stat().st_size for p in ingest.list_raw_files(raw_copy))
    (raw_copy / "big.txt").write_bytes(big)
    t = run(raw_copy, max_bytes=20_000)
    assert reason_of(t, "big.txt") == "too_large"
    row = t["rejections"][t["rejections"]["file"] == "big.txt"].iloc[0]
    assert row["n_bytes"] == len(big) and row["sha256"] == ingest.sha256_bytes(big)
    assert_seeds_processed(t)


def test_size_limit_comes_from_the_config_file(tmp_path):
    from flows.common.paths import LEXICONS_DIR

    lex = tmp_path / "lexicons"
    shutil.copytree(LEXICONS_DIR, lex)
    spec = (lex / "ingest.yaml").read_text(encoding="utf-8")
    (lex / "ingest.yaml").write_text(spec.replace("max_bytes: 5000000", "max_bytes: 1234"), encoding="utf-8")
    assert ingest.load_config(lex).max_bytes == 1234
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text("Title\n\n" + ENGLISH * 20)
    _, rejections = ingest.ingest(raw, config=ingest.load_config(lex))
    assert rejections["reason"].tolist() == ["too_large"]


@pytest.mark.parametrize("sample", ["french.txt", "german.txt", "spanish.txt", "arabic.txt"])
def test_non_english(raw_copy, sample):
    shutil.copy(DATA / sample, raw_copy / sample)
    t = run(raw_copy)
    assert reason_of(t, sample) == "non_english"
    assert_seeds_processed(t)


def test_english_with_foreign_names_and_short_texts_are_kept(raw_copy):
    (raw_copy / "names.txt").write_text(
        "Talks in Baghdad\n\n" + ENGLISH + "Prime Minister Mohammed Shia al-Sudani (\u0645\u062d\u0645\u062f "
        "\u0634\u064a\u0627\u0639 \u0627\u0644\u0633\u0648\u062f\u0627\u0646\u064a) attended.\n")
    (raw_copy / "short.txt").write_text("A new headline\n\nA new paragraph about something.\n")
    t = run(raw_copy)
    assert {"names.txt", "short.txt"} <= set(t["sources"]["source_file"])


def test_all_boilerplate_after_cleaning(raw_copy):
    (raw_copy / "debris.txt").write_text("Share\n\nPrint\n\n3 comments\n\nLeave a reply\n\nPost a comment\n")
    t = run(raw_copy)
    assert reason_of(t, "debris.txt") == "all_boilerplate"
    gone = ingest.doc_id_for(ingest.sha256_bytes((raw_copy / "debris.txt").read_bytes()))
    assert gone not in set(t["paragraphs"]["doc_id"])
    assert gone not in set(t["sources"]["doc_id"])
    assert_seeds_processed(t)


def test_same_content_under_two_names_is_one_document(raw_copy):
    from conftest import SEED_001

    shutil.copy(raw_copy / SEED_001, raw_copy / "copy of 001.txt")
    t = run(raw_copy)
    doc = t["sources"][t["sources"]["source_files"].map(lambda v: SEED_001 in v)]
    assert len(doc) == 1
    assert doc["source_files"].item() == sorted([SEED_001, "copy of 001.txt"])
    assert len(t["sources"]) == 5 and t["rejections"].empty
    assert_seeds_processed(t)


def test_same_bad_content_under_two_names_gives_two_rejections(raw_copy):
    (raw_copy / "a.png").write_bytes(tiny_png())
    (raw_copy / "b.png").write_bytes(tiny_png())
    t = run(raw_copy)
    assert reason_of(t, "a.png") == reason_of(t, "b.png") == "binary"


def test_odd_file_names(raw_copy):
    names = ["with space.txt", "\u00fcn\u00efc\u00f8d\u00e9 \u2014 \u6771\u4eac.txt", "-leading-dash.txt",
             "--help.txt", "=SUM(A1).txt", "new\nline.txt"]
    for i, name in enumerate(names):
        (raw_copy / name).write_text(f"Headline {i}\n\n{ENGLISH}", encoding="utf-8")
    raw_name = os.fsencode(raw_copy) + b"/latin1-\xe9.txt"  # not UTF-8: possible on POSIX file systems
    with open(raw_name, "wb") as fh:
        fh.write(("Headline x\n\n" + ENGLISH).encode())
    t = run(raw_copy)
    got = set(t["sources"]["source_file"])
    assert set(names) <= got
    assert "latin1-\\xe9.txt" in got
    assert_seeds_processed(t)
    # the names survive the release writers (Parquet and CSV) unchanged
    import io

    import pyarrow.parquet as pq

    from flows.extract import extract

    docs = extract.build_documents(t["sources"], t["paragraphs"], t["info"])
    buf = io.BytesIO()
    pq.write_table(parquet_tables.to_arrow("documents", docs), buf)
    assert set(pq.read_table(io.BytesIO(buf.getvalue())).column("source_file").to_pylist()) == got
    csv = pd.read_csv(io.BytesIO(csv_files.csv_bytes("documents", docs)), keep_default_na=False)
    # CSV neutralises formula-like cells with a leading apostrophe ("=SUM(A1).txt" -> "'=SUM(A1).txt");
    # every other name is unchanged
    assert set(csv["source_file"]) == {csv_files.neutralise(n) for n in got}
    assert {"'=SUM(A1).txt", "'--help.txt"} <= set(csv["source_file"])


def test_cli_accepts_raw_folders_with_odd_names(tmp_path, monkeypatch):
    from flows import cli, pipeline

    seen = {}

    class Done:
        message, path, report_path = "ok", tmp_path, tmp_path

    def fake_build(raw_dir, output_dir, version):
        seen.update(raw=raw_dir, out=output_dir)
        return Done()

    monkeypatch.setattr(pipeline, "build_dataset", fake_build)
    raw = tmp_path / "-raw d\u00e9j\u00e0 vu"
    raw.mkdir()
    monkeypatch.chdir(tmp_path)
    assert cli.main(["build", f"--raw={raw.name}", "--output=-out put"]) == 0
    assert seen["raw"] == str(raw.resolve()) and seen["out"] == str((tmp_path / "-out put").resolve())
    seen.clear()
    assert cli.main(["build", "--raw", f"./{raw.name}", "--output", str(tmp_path / "--out")]) == 0
    assert seen["raw"] == str(raw.resolve()) and seen["out"] == str(tmp_path / "--out")


def test_manifest_row_without_its_file(raw_copy):
    with (raw_copy / "sources.csv").open("a", encoding="utf-8") as fh:
        fh.write("gone.txt," + "ab" * 32 + ",Some Outlet,,,,\r\n")
    t = run(raw_copy)
    assert reason_of(t, "gone.txt") == "missing_file"
    row = t["rejections"][t["rejections"]["file"] == "gone.txt"].iloc[0]
    assert pd.isna(row["sha256"]) and pd.isna(row["n_bytes"])
    assert "ab" * 32 in row["detail"]
    assert t["accounting"]["inputs"] == 6
    assert_seeds_processed(t)


def test_file_missing_from_the_manifest_is_processed_and_flagged(raw_copy):
    (raw_copy / "unlisted.txt").write_text("Unlisted story\n\n" + ENGLISH)
    t = run(raw_copy)
    assert "unlisted.txt" in set(t["sources"]["source_file"])
    inv = t["inventory"].set_index("file")
    assert not inv.loc["unlisted.txt", "in_manifest"]
    assert inv.drop(index="unlisted.txt")["in_manifest"].all()
    assert "unlisted.txt" in ingest.summary_markdown(t["rejections"], t["inventory"])


def test_manifest_names_match_unicode_normalisation(raw_copy):
    import unicodedata

    nfd = unicodedata.normalize("NFD", "caf\u00e9.txt")
    (raw_copy / nfd).write_text("Cafe story\n\n" + ENGLISH)
    with (raw_copy / "sources.csv").open("a", encoding="utf-8") as fh:
        fh.write(unicodedata.normalize("NFC", "caf\u00e9.txt") + ",,Some Outlet,,,,\r\n")
    t = run(raw_copy)
    assert t["rejections"].empty
    inv = t["inventory"].set_index("file")
    assert inv.loc[nfd, "in_manifest"] and inv.loc[nfd, "outlet"] == "Some Outlet"


def test_unreadable_file(raw_copy, monkeypatch):
    (raw_copy / "locked.txt").write_text("Locked\n\n" + ENGLISH)
    real = ingest.read_entry

    def read_entry(entry, *args):  # (chmod 000 does not stop root)
        if entry.name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return real(entry, *args)

    monkeypatch.setattr(ingest, "read_entry", read_entry)
    t = run(raw_copy)
    assert reason_of(t, "locked.txt") == "unreadable"
    assert_seeds_processed(t)


def test_accounting_fails_loudly_when_an_input_is_lost_or_doubled(raw_copy):
    (raw_copy / "empty.txt").write_bytes(b"")
    sources, rejections = ingest.ingest(raw_copy)
    assert ingest.check_accounting(raw_copy, sources, rejections)["ok"]
    with pytest.raises(ingest.AccountingError, match="empty.txt"):
        ingest.check_accounting(raw_copy, sources, rejections.iloc[0:0])
    doubled = pd.concat([rejections, rejections.assign(reason="binary")])
    with pytest.raises(ingest.AccountingError, match="twice"):
        ingest.check_accounting(raw_copy, sources, doubled)
    (raw_copy / "late arrival.txt").write_text("Late\n\n" + ENGLISH)
    with pytest.raises(ingest.AccountingError, match="late arrival"):
        ingest.check_accounting(raw_copy, sources, rejections)


def test_every_configured_encoding_is_allowed_by_the_documents_schema():
    import schemas

    enum = set(schemas.table("documents").field("encoding").enum)
    assert set(ingest.load_config().legacy_encodings) | {"utf-8", "utf-8-sig", "utf-16", "utf-16-le",
                                                         "utf-16-be"} <= enum
    reasons = set(schemas.table("rejections").field("reason").enum)
    assert {"empty", "binary", "undecodable", "html", "too_large", "non_english", "all_boilerplate",
            "missing_file", "unreadable", "sha256_mismatch", "hidden", "in_subfolder", "broken_link",
            "outside_raw", "not_a_file"} == reasons


def test_seeds_saved_in_a_legacy_encoding_decode_back_exactly():
    from conftest import RAW

    checked = 0
    for path in ingest.list_raw_files(RAW):
        text = path.read_text(encoding="utf-8").encode("cp1252", "replace").decode("cp1252")
        data = text.encode("cp1252")
        if data.isascii():
            continue
        assert ingest.decode(data) == (text, "cp1252"), path.name
        checked += 1
    assert checked >= 3


def test_inventory_unknowns_are_none_not_nan(raw_copy):
    (raw_copy / "unlisted.txt").write_text("Unlisted story\n\n" + ENGLISH)
    with (raw_copy / "sources.csv").open("a", encoding="utf-8") as fh:
        fh.write("gone.txt,,,,,,\r\n")
    inv = run(raw_copy)["inventory"].set_index("file")
    assert inv.loc["unlisted.txt", "url"] is None and inv.loc["gone.txt", "sha256"] is None
    assert inv.loc["gone.txt", "doc_id"] is None


def test_declared_encoding_that_does_not_fit_is_undecodable(raw_copy):
    (raw_copy / "sources.csv").write_text("file,encoding\nwrong.txt,cp1252\n", encoding="utf-8")
    (raw_copy / "wrong.txt").write_bytes(ENGLISH.encode() + bytes([0x81, 0x8D]))
    t = run(raw_copy)
    assert reason_of(t, "wrong.txt") == "undecodable"
    assert "not cp1252 as declared" in t["rejections"].loc[t["rejections"]["file"] == "wrong.txt", "detail"].item()
