"""Property-based tests (hypothesis): random bytes and random text through ingest and cleaning.

Whatever the input: no crash, every input accounted for (a document's source file or a rejection,
exactly once), and every paragraph found at its character offsets in the decoded text. Generated
raw folders (links in and out, folders, FIFOs, hidden and non-UTF-8 names, manifests good and bad)
go through the flow's batches: nothing outside the raw folder is opened, and every entry ends up
where it must, with the reason it must have.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flows.clean import clean
from flows.dedup import dedup
from flows.ingest import ingest

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WORDS = ["the", "talks", "of", "minister", "said", "and", "Baghdad", "security", "in", "a", "to", "was",
         "Share", "Print", "3 comments", "Leave a reply", "WASHINGTON \u2014", "caf\u00e9", "\u201cquoted\u201d"]
BREAKS = ["\n", "\r\n", "\r", "\n\n", "\r\n\r\n", "\n\r", " ", "\t", "\u00a0", "\u2028", "\x0b", "\x0c",
          "\x1c", "\x85", "\u3000", "\ufeff"]

# text built from words, line breaks of every kind (CR, LF, CRLF, LFCR, Unicode separators), control
# characters and arbitrary unicode
random_text = st.lists(
    st.one_of(st.sampled_from(WORDS), st.sampled_from(BREAKS), st.text(max_size=12),
              st.characters(codec="utf-8", categories=["Cc", "Zs", "Zl", "Zp", "Cf", "Lo", "Mn"])),
    max_size=120,
).map("".join)

ARTICLE = ("Officials from both countries met on Tuesday to discuss the future of the partnership. They said "
           "that the talks had been constructive and that a joint statement would follow.")
# an English article with random debris around it and inside its line breaks
noisy_article = st.tuples(random_text, st.sampled_from(BREAKS), random_text).map(
    lambda t: t[0] + "\n" + ARTICLE.replace(". ", "." + t[1]) + "\n" + t[2])

# file names: unicode, spaces, leading dashes; no "/" or NUL, not a dotfile, not the manifest
file_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="/\x00", exclude_categories=["Cs"]),
    min_size=1, max_size=20,
).filter(lambda n: not n.startswith(".") and n != "sources.csv" and len(n.encode()) < 200)

raw_files = st.dictionaries(
    file_names,
    st.one_of(
        st.binary(max_size=600),
        noisy_article.map(lambda t: t.encode("utf-8")),
        noisy_article.map(lambda t: t.encode("cp1252", "replace")),
        random_text.map(lambda t: t.encode("utf-8")),
        random_text.map(lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le")),
        st.lists(st.sampled_from(WORDS + BREAKS), max_size=200).map(lambda w: " ".join(w).encode("cp1252", "replace")),
    ),
    max_size=6,
)


def _check_paragraph_offsets(sources: pd.DataFrame, paragraphs: pd.DataFrame) -> None:
    texts = dict(zip(sources["doc_id"], sources["text"]))
    for p in paragraphs.to_dict("records"):
        text = texts[p["doc_id"]]
        assert text[p["char_start"]:p["char_end"]] == p["text"]
        assert p["text"] == p["text"].strip() and p["text"]


@SETTINGS
@given(files=raw_files, manifest_extra=st.lists(file_names, max_size=2))
def test_random_files_are_all_accounted_for(files, manifest_extra):
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp)
        for name, data in files.items():
            (raw / name).write_bytes(data)
        if manifest_extra:  # manifest rows, some of them for files that do not exist
            import csv

            with (raw / "sources.csv").open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["file", "sha256"])
                for name in manifest_extra:
                    w.writerow([name, ""])
        spanning = [i for i, n in enumerate(manifest_extra) if "\n" in n or "\r" in n]
        if spanning:  # a field spanning lines: refused, naming the line of its row
            with pytest.raises(ingest.ManifestError, match=f"line {2 + spanning[0]}:"):
                ingest.ingest(raw)
            return
        sources, rejections = ingest.ingest(raw)
        ingest.check_accounting(raw, sources, rejections)
        paragraphs, info = clean.clean(sources)
        sources, paragraphs, info, rejections = ingest.reject_all_boilerplate(sources, paragraphs, info, rejections)
        acc = ingest.check_accounting(raw, sources, rejections)
        present = {ingest._key(n) for n in files}
        listed_only = {n for n in manifest_extra if n.strip() and ingest._key(n) not in present}
        assert acc["inputs"] == len(files) + len(listed_only)
        for reason in rejections["reason"]:
            event(f"rejected: {reason}")
        event(f"documents: {min(len(sources), 2)}")
        assert set(paragraphs["doc_id"]) <= set(sources["doc_id"])
        assert (paragraphs.groupby("doc_id")["status"].apply(lambda s: (s == "content").any())).all()
        _check_paragraph_offsets(sources, dedup.mark_exact_repeats(paragraphs))
        inv = ingest.raw_inventory(sources, rejections, raw)
        assert sorted(inv["file"]) == sorted(ingest.expected_inputs(raw))
        ingest.summary_markdown(rejections, inv)


@SETTINGS
@given(text=random_text)
def test_random_utf8_text_is_kept_exactly_or_rejected(text):
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp)
        (raw / "a.txt").write_bytes(text.encode("utf-8"))
        sources, rejections = ingest.ingest(raw)
        ingest.check_accounting(raw, sources, rejections)
        if len(sources) and sources["encoding"].item().startswith("utf-16-"):  # NULs laid out like UTF-16
            assert sources["text"].item() == text.encode("utf-8").decode(sources["encoding"].item())
        elif len(sources):
            expected = text[1:] if text.startswith("\ufeff") else text
            assert sources["text"].item() == expected
            assert sources["encoding"].item() == ("utf-8-sig" if text.startswith("\ufeff") else "utf-8")
        else:
            assert rejections["reason"].item() in {"empty", "binary", "html", "non_english"}


@SETTINGS
@given(texts=st.lists(random_text, min_size=1, max_size=5))
def test_cleaning_random_text_finds_every_paragraph_at_its_offsets(texts):
    sources = pd.DataFrame({"doc_id": [f"d{i:016x}" for i in range(len(texts))], "text": texts})
    paragraphs, info = clean.clean(sources)
    _check_paragraph_offsets(sources, paragraphs)
    assert len(info) == len(texts)
    for doc_id, text in zip(sources["doc_id"], texts):
        mine = paragraphs[paragraphs["doc_id"] == doc_id].sort_values("position")
        # paragraphs come in reading order, do not overlap, and cover every non-blank character
        spans = list(zip(mine["char_start"], mine["char_end"]))
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
        covered = set()
        for start, end in spans:
            covered.update(range(start, end))
        assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
        assert list(mine["position"]) == list(range(len(mine)))


@SETTINGS
@given(data=st.binary(max_size=2000))
def test_checks_and_decoding_never_fail_on_random_bytes(data):
    problem = ingest.check_bytes(data)
    assert problem is None or problem[0] in {"empty", "binary"}
    try:
        text, encoding = ingest.decode(data)
    except UnicodeDecodeError:
        return
    assert encoding in {"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be",  # (the last two: no BOM)
                        *ingest.load_config().legacy_encodings}
    result = ingest.check_text(text)
    assert result is None or result[0] in {"empty", "binary", "html", "non_english"}


def _english_score_by_letter(text: str, config) -> dict:
    """The language figures counted the plain way, one regex match per letter and word (what
    ``ingest.english_score`` computes faster)."""
    import re

    letter = re.compile(r"[^\W\d_]")
    latin = re.compile(r"(?=[^\W\d_])[" + ingest._LATIN + "]")
    non_latin = re.compile("[^" + ingest._LATIN + "]")
    sample = text[:ingest._LANGUAGE_SAMPLE]
    n_letters, n_latin = len(letter.findall(sample)), len(latin.findall(sample))
    words = [w.casefold() for w in ingest._WORD.findall(sample) if not non_latin.search(w)]
    stop = sum(w in config.stopwords for w in words)
    return {"letters": n_letters, "latin_share": n_latin / n_letters if n_letters else 1.0,
            "words": len(words), "stopword_ratio": stop / len(words) if words else 0.0}


scripts_text = st.lists(st.one_of(
    st.sampled_from(WORDS + ["THE", "Über", "straße", "İstanbul", "ﬁnal", "Ǆemal", "don\u2019t", "x2_y", "½ ²"]),
    st.sampled_from(BREAKS), st.text(max_size=12),
    st.characters(categories=["Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "No", "Mn", "Pd", "Pi", "Pf"])), max_size=80).map("".join)


@SETTINGS
@given(text=st.one_of(scripts_text, random_text, st.text(alphabet=st.characters(max_codepoint=127), max_size=200)))
def test_language_figures_equal_counting_letter_by_letter(text):
    config = ingest.load_config()
    assert ingest.english_score(text, config) == _english_score_by_letter(text, config)


# --- generated raw folders (issue 31): links, folders, FIFOs, hidden and non-UTF-8 names, manifests ---

SENTINEL = ("Sentinel outside the raw folder\n\nThe qxjzvk-sentinel report said that the talks of the two "
            "delegations were constructive and that a joint statement would follow soon.\n")
CONTENT_REASONS = {"empty", "binary", "undecodable", "html", "non_english", "all_boilerplate", "too_large",
                   "sha256_mismatch"}

# names on disk, as bytes: unicode (spaces, dashes, line breaks...), bytes that are not UTF-8, hidden
# names; never "/" or NUL (impossible), nor a backslash (a literal "\xe9" would be the escaped name of
# the byte 0xe9: two entries recorded under one name)
text_names = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/\x00\\", exclude_categories=["Cs"]),
                     min_size=1, max_size=12).map(str.encode)
byte_names = st.binary(min_size=1, max_size=12).filter(lambda b: not {0, ord("/"), ord("\\")} & set(b))
entry_names = st.one_of(text_names, byte_names, text_names.map(lambda n: b"." + n)).filter(
    lambda b: b not in (b".", b"..", b"sources.csv") and len(b) < 200)


def _inject(data: bytes, bad: bytes) -> bytes:
    cut = data.find(b" ", len(data) // 2)
    return data if cut < 0 else data[:cut] + bad + data[cut:]


contents = st.one_of(
    st.binary(max_size=300),
    noisy_article.map(lambda t: t.encode("utf-8")),
    noisy_article.map(lambda t: t.encode("cp1252", "replace")),
    noisy_article.map(lambda t: t.encode("utf-16-le")),  # without BOM
    noisy_article.map(lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le")),
    st.tuples(noisy_article, st.binary(min_size=1, max_size=4)).map(lambda t: _inject(t[0].encode("utf-8"), t[1])),
)
kinds = st.one_of(
    contents.map(lambda d: ("file", d)),
    noisy_article.map(lambda t: ("file", t.encode("utf-8"))),  # (more of the files make documents)
    st.sampled_from([("link_out",), ("link_out_relative",), ("link_out_folder",), ("broken",), ("self_loop",),
                     ("fifo",)]),
    st.integers(0, 9).map(lambda i: ("link_in", i)),  # to another entry (whatever it is)
    st.dictionaries(text_names, contents, max_size=2).map(lambda d: ("folder", d)),
)
manifests = st.one_of(st.none(), st.tuples(
    st.lists(st.tuples(st.integers(0, 12), st.sampled_from(["", "right", "wrong"]),
                       st.sampled_from(["", "https://example.org/a", "javascript:alert(1)", "file:///etc/passwd"]),
                       st.sampled_from(["", "2024-07-24", "July 24, 2024"])), max_size=5),
    # (rows, malformed: an unclosed quote in a last row, running to the end or closed a row later)
    st.sampled_from([None, None, None, None, 'late.txt,,"Unclosed\r\n', 'late.txt,,"Unclosed\r\nlater.txt,,x"\r\n'])))


def _make(raw: Path, outside: Path, entries: dict, order: list) -> None:
    base = os.fsencode(raw)
    for name, kind in entries.items():
        path = base + b"/" + name
        if kind[0] == "file":
            with open(path, "wb") as fh:
                fh.write(kind[1])
        elif kind[0] == "link_out":
            os.symlink(outside / "sentinel.txt", path)
        elif kind[0] == "link_out_relative":
            os.symlink(os.path.relpath(outside / "sentinel.txt", raw), path)
        elif kind[0] == "link_out_folder":
            os.symlink(outside, path)
        elif kind[0] == "broken":
            os.symlink(b"no such entry", path)
        elif kind[0] == "self_loop":
            os.symlink(name, path)
        elif kind[0] == "fifo":
            os.mkfifo(path)
        elif kind[0] == "link_in":
            os.symlink(order[kind[1] % len(order)], path)
        else:  # a folder, with files (and a link out) inside
            os.mkdir(path)
            for inner, data in kind[1].items():
                with open(path + b"/" + inner, "wb") as fh:
                    fh.write(data)
            os.symlink(outside / "sentinel.txt", path + b"/link")


def _expected(name: bytes, entries: dict, order: list, seen=()) -> str:
    """What must become of an entry: the reason of an entry that is not read, else "read" (a
    document, or a rejection on its content). A link inside the raw folder is what it points to."""
    kind = entries[name]
    if name.startswith(b".") and not seen:
        return "hidden"
    if kind[0] == "file":
        return "read"
    if kind[0] == "link_in":
        target = order[kind[1] % len(order)]
        return "broken_link" if target in seen or target == name else _expected(target, entries, order, (*seen, name))
    return {"link_out": "outside_raw", "link_out_relative": "outside_raw", "link_out_folder": "outside_raw",
            "broken": "broken_link", "self_loop": "broken_link", "fifo": "not_a_file", "folder": "in_subfolder"}[kind[0]]


def _content(name: bytes, entries: dict, order: list) -> bytes:
    while entries[name][0] == "link_in":
        name = order[entries[name][1] % len(order)]
    return entries[name][1]


def _write_manifest(raw: Path, manifest, entries: dict, order: list) -> dict:
    """Write sources.csv; return the first row of each listed name (by matching key)."""
    import csv

    rows, malformed = manifest
    listed = {}
    with (raw / "sources.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "sha256", "outlet", "url", "retrieved_date", "published_date", "license"])
        for i, sha, url, date in rows:
            name = order[i] if i < len(order) else None
            recorded = ingest.file_name(os.fsdecode(name)) if name is not None else f"missing {i}.txt"
            if "\n" in recorded or "\r" in recorded or not recorded.strip():
                continue  # (a name with a line break cannot be listed; a blank one is no row)
            digest = ""
            if name is not None and sha and _expected(name, entries, order) == "read":
                digest = hashlib.sha256(_content(name, entries, order)).hexdigest()
                digest = digest if sha == "right" else digest[::-1]
            elif sha == "wrong":
                digest = "ab" * 32
            w.writerow([recorded, digest, "Outlet", url, "", date, ""])
            listed.setdefault(ingest._key(recorded), (name, digest))
        if malformed:
            fh.write(malformed)
    return listed


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(entries=st.dictionaries(entry_names, kinds, min_size=1, max_size=8), manifest=manifests)
def test_generated_raw_folders_never_crash_read_nothing_outside_and_account_for_every_entry(entries, manifest):
    from read_audit import opened, reaching

    from flows.orchestrate import batches

    with tempfile.TemporaryDirectory() as tmp:
        raw, outside = Path(tmp) / "raw", Path(tmp) / "outside"
        raw.mkdir()
        outside.mkdir()
        (outside / "sentinel.txt").write_text(SENTINEL, encoding="utf-8")
        sentinel_sha = hashlib.sha256(SENTINEL.encode()).hexdigest()
        order = sorted(entries)
        _make(raw, outside, entries, order)
        listed = _write_manifest(raw, manifest, entries, order) if manifest is not None else {}
        with opened() as paths:
            if manifest is not None and manifest[1]:  # malformed: a clear error before any file is read
                with pytest.raises(ingest.ManifestError, match="line"):
                    batches.fingerprint(raw)
                with pytest.raises(ingest.ManifestError, match="line"):
                    ingest.ingest(raw)
                assert reaching(paths, raw) == [str(raw / "sources.csv")] * len(reaching(paths, raw))
                event("malformed manifest")
                return
            # the flow's way: fingerprint, build key, batches (ingest, clean, scan, sketch), then accounting
            files, by_name = batches.fingerprint(raw)
            batches.build_key(files, by_name)
            plan = batches.plan(files, 3) or [[]]
            results = [batches.process(raw, b, batches.batch_manifest(b, by_name, first=i == 0))
                       for i, b in enumerate(plan)]
            sources = batches.combine([r.sources for r in results], ["source_file"])
            rejections = batches.combine([r.rejections for r in results], ["file"])
            paragraphs = batches.combine([r.paragraphs for r in results])
            info = batches.combine([r.info for r in results])
            sources, paragraphs, info, rejections = ingest.reject_all_boilerplate(sources, paragraphs, info, rejections)
            ingest.check_accounting(raw, sources, rejections)
            inventory = ingest.raw_inventory(sources, rejections, raw)
            # the plain functions' way (flows.orchestrate.build): the same outcome
            direct, direct_rejections = ingest.ingest(raw)
        # nothing outside the raw folder was opened, nor published
        assert not reaching(paths, outside)
        for table in (sources, rejections, inventory, direct, direct_rejections):
            assert sentinel_sha not in set(table["sha256"].dropna())
        assert not any("qxjzvk" in t for t in [*direct["text"], *paragraphs.get("text", [])])
        # entry by entry: each is in exactly one place, with the reason it must have
        placed = {}
        for names in sources["source_files"]:
            for n in names:
                placed.setdefault(n, []).append("document")
        for n, reason in zip(rejections["file"], rejections["reason"]):
            placed.setdefault(n, []).append(reason)
        for name in entries:
            recorded = ingest.file_name(os.fsdecode(name))
            got = placed.pop(recorded, [])
            assert len(got) == 1, (recorded, got)
            must = _expected(name, entries, order)
            declared = listed.get(ingest._key(recorded), (None, ""))[1]
            if must != "read":
                assert got == [must], (recorded, got)
            elif declared and declared != hashlib.sha256(_content(name, entries, order)).hexdigest():
                assert got == ["sha256_mismatch"], (recorded, got)
            else:
                assert got[0] == "document" or got[0] in CONTENT_REASONS - {"sha256_mismatch"}, (recorded, got)
            event(f"entry: {got[0]}")
        # what is left: the manifest's rows that name no entry
        assert all(v == ["missing_file"] for v in placed.values()), placed
        assert sorted(inventory["file"]) == sorted(ingest.expected_inputs(raw))
        # the batches and the plain functions agree (cleaning, which the latter did not run here, may
        # have rejected documents as all boilerplate)
        batch = dict(zip(rejections["file"], rejections["reason"]))
        boilerplate = {n for n, r in batch.items() if r == "all_boilerplate"}
        assert dict(zip(direct_rejections["file"], direct_rejections["reason"])) == {
            n: r for n, r in batch.items() if n not in boilerplate}
        assert {n for names in direct["source_files"] for n in names} == {
            n for names in sources["source_files"] for n in names} | boilerplate
