"""Property-based tests (hypothesis): random bytes and random text through ingest and cleaning.

Whatever the input: no crash, every input accounted for (a document's source file or a rejection,
exactly once), and every paragraph found at its character offsets in the decoded text.
"""

from __future__ import annotations

import codecs
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flows import clean, dedup, ingest

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
    assert encoding in {"utf-8", "utf-8-sig", "utf-16", *ingest.load_config().legacy_encodings}
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
