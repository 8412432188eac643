"""Exact and near repeats inside a document; cross-document clusters."""

from __future__ import annotations

import pandas as pd
from conftest import doc_paragraphs

from flows.clean import clean
from flows.dedup import dedup

LONG = ("The delegations reached an understanding on the concept for a new phase of the bilateral security "
        "relationship, which includes cooperation through liaison officers, training and traditional security "
        "cooperation programmes, the joint statement said on Tuesday.")
EDITED = ("The two delegations reached an understanding on the concept of a new phase of the bilateral security "
          "relationship, which includes cooperation through liaison officers, training and traditional "
          "cooperation programmes, the joint statement said on Wednesday.")
OTHER = ("Heavy rain flooded several streets in the old city overnight, and the municipality said pumps had been "
         "sent to the worst affected neighbourhoods before the morning traffic started to build up again.")
THIRD = ("Farmers in the northern provinces expect a smaller wheat harvest this year after a dry winter, and the "
         "ministry of agriculture has promised to buy the crop at a fixed price announced in the spring.")


def run(texts: list[str], **kw) -> pd.DataFrame:
    sources = pd.DataFrame({"doc_id": [f"d{i:016x}" for i in range(len(texts))], "text": texts})
    paragraphs, _ = clean.clean(sources)
    return dedup.dedup(paragraphs, **kw)


def test_a_near_repeat_inside_a_document_points_at_the_first_occurrence():
    p = run([f"Headline\n{LONG}\n{OTHER}\n{EDITED}\n"])
    first = p[p["text"] == LONG].iloc[0]
    rep = p[p["text"] == EDITED].iloc[0]
    assert first["status"] == "content"
    assert (rep["status"], rep["reason"], rep["duplicate_of"]) == ("duplicate", "near_repeat", first["para_id"])
    assert rep["cluster_id"] == first["cluster_id"]
    assert p.loc[p["text"] == OTHER, "status"].item() == "content"


def test_near_copies_across_documents_are_grouped_not_removed():
    p = run([f"Headline one\n{LONG}\n{OTHER}\n", f"Headline two\n{THIRD}\n{EDITED}\n"])
    assert (p.loc[p["position"] > 0, "status"] == "content").all()
    a = p.loc[p["text"] == LONG, "cluster_id"].item()
    b = p.loc[p["text"] == EDITED, "cluster_id"].item()
    assert a == b
    assert p["cluster_id"].dropna().nunique() == 3  # LONG+EDITED, OTHER, THIRD
    assert p.groupby("cluster_id")["doc_id"].nunique().max() == 2


def test_every_content_and_duplicate_paragraph_has_a_cluster_titles_and_boilerplate_none(seed_tables):
    p = seed_tables["paragraphs"]
    has = p["status"].isin(["content", "duplicate"])
    assert p.loc[has, "cluster_id"].notna().all()
    assert p.loc[~has, "cluster_id"].isna().all()
    assert p["cluster_id"].dropna().str.fullmatch(r"c[0-9a-f]{16}").all()
    # a duplicate is in the cluster of its first occurrence
    by_id = p.set_index("para_id")
    dups = p[p["status"] == "duplicate"]
    assert (dups["cluster_id"].to_numpy() == by_id.loc[dups["duplicate_of"], "cluster_id"].to_numpy()).all()


def test_cluster_ids_do_not_depend_on_document_order():
    texts = [f"Headline one\n{LONG}\n{OTHER}\n", f"Headline two\n{THIRD}\n{EDITED}\n"]
    a = run(texts).set_index("para_id")["cluster_id"]
    sources = pd.DataFrame({"doc_id": ["d0000000000000001", "d0000000000000000"], "text": texts[::-1]})
    paragraphs, _ = clean.clean(sources)
    b = dedup.dedup(paragraphs).set_index("para_id")["cluster_id"]
    assert a.sort_index().equals(b.sort_index())


def test_a_lone_short_exact_repeat_is_content_but_a_repeated_body_is_caught_whole():
    interview = f"Headline\n{LONG}\nQ: Did it work?\nYes.\nQ: Will you go back?\nYes.\n{OTHER}\n"
    p = run([interview])
    assert (p.loc[p["text"] == "Yes.", "status"] == "content").all()
    body = f"{LONG}\nShort line here.\n{OTHER}"
    p = run([f"Headline\n{body}\n{body}\n"])
    short = p[p["text"] == "Short line here."].sort_values("position")
    assert short["status"].tolist() == ["content", "duplicate"]
    assert short.iloc[1]["duplicate_of"] == short.iloc[0]["para_id"]


def test_short_near_identical_paragraphs_in_one_document_are_different_statements():
    a = "Smith predicts the challenger wins with an electoral count of 359 to 179."
    b = "Jones predicts the challenger wins with an electoral count of 319 to 219."
    p = run([f"Headline\n{a}\n{OTHER}\n{b}\n"])
    assert (p.loc[p["position"] > 0, "status"] == "content").all()


def test_the_same_statement_quoted_by_two_seed_outlets_shares_a_cluster(seed_tables):
    p = seed_tables["paragraphs"]
    quotes = p[p["text"].str.contains("reached an understanding on the concept", regex=False)]
    assert quotes["doc_id"].nunique() == 2
    assert quotes["cluster_id"].nunique() == 1
    assert (quotes["status"] == "content").all()


def test_001_repeats_are_exact_and_its_first_copy_is_untouched(seed_tables):
    from conftest import SEED_001

    paras = doc_paragraphs(seed_tables, SEED_001)
    assert (paras.loc[paras["status"] == "duplicate", "reason"] == "exact_repeat").all()
    assert paras["status"].value_counts().to_dict() == {"content": 17, "duplicate": 14, "title": 1}


def test_document_counts_add_up_and_record_outlet_and_dateline(seed_tables):
    docs = seed_tables["documents"].set_index("doc_id")
    p = seed_tables["paragraphs"]
    counts = p.groupby(["doc_id", "status"]).size().unstack(fill_value=0)
    for doc_id, row in docs.iterrows():
        c = counts.loc[doc_id]
        assert row["n_paragraphs"] == c.sum()
        assert row["n_content"] == c.get("content", 0)
        assert row["n_duplicate"] == c.get("duplicate", 0)
        assert row["n_boilerplate"] == c.get("boilerplate", 0)
    # the dateline is on the document, the paragraph keeps its text and points past the dateline
    with_dateline = docs[docs["dateline"].notna()]
    assert set(with_dateline["dateline"]) == {"ERBIL, Kurdistan Region"}
    texts = dict(zip(seed_tables["sources"]["doc_id"], seed_tables["sources"]["text"]))
    for doc_id in with_dateline.index:
        first = p[(p["doc_id"] == doc_id) & (p["body_start"] > p["char_start"])]
        assert len(first) == 1
        row = first.iloc[0]
        assert row["text"].startswith("ERBIL, Kurdistan Region")
        assert texts[doc_id][row["body_start"]:row["char_end"]] == row["text"].split(" - ", 1)[1]


def test_a_body_of_short_paragraphs_printed_twice_is_caught_but_a_repeated_credit_is_not():
    short_body = "\n".join(["The first short paragraph of the story says who met whom.",
                            "The second short paragraph says where and when they met.",
                            "The third short paragraph ends the story with a quote."])
    p = run([f"Headline\n{short_body}\n{short_body}\n"])
    assert p.sort_values("position")["status"].tolist() == ["title"] + ["content"] * 3 + ["duplicate"] * 3
    credits = "\n".join(["A deer in the park. Image: J. Doe.", "Image: J. Doe.", "Image: J. Doe.",
                         "Image: J. Doe.", "A fox in the park. Image: J. Doe."])
    p = run([f"Headline\n{credits}\n"])
    assert (p.loc[p["position"] > 0, "status"] == "content").all()


def test_band_keys_sketched_in_the_batches_give_the_same_result_and_are_not_sketched_again(monkeypatch):
    """The per-document batches sketch their paragraphs (flows.orchestrate.batches.process); dedup looks the keys up
    and sketches only the paragraphs the batches did not (the same tables either way)."""
    from conftest import RAW

    from flows.ingest import ingest

    sources, _ = ingest.ingest(RAW)
    extra = pd.DataFrame({"doc_id": ["dextra0000000001", "dextra0000000002"],
                          "text": [f"Headline one\n{LONG}\n{OTHER}\n", f"Headline two\n{THIRD}\n{EDITED}\n"]})
    paragraphs, _ = clean.clean(pd.concat([sources[["doc_id", "text"]], extra], ignore_index=True))
    docs = paragraphs["doc_id"].unique()
    batches = [paragraphs[paragraphs["doc_id"].isin(docs[i::2])] for i in range(2)]  # LONG and EDITED apart
    keys = dedup.combine_paragraph_keys([dedup.paragraph_band_keys(b) for b in batches])
    expected = dedup.dedup(paragraphs)
    assert expected.loc[expected["text"] == LONG, "cluster_id"].item() == \
        expected.loc[expected["text"] == EDITED, "cluster_id"].item()

    sketched = []
    band_keys = dedup.band_keys
    monkeypatch.setattr(dedup, "band_keys", lambda texts, params: sketched.append(len(texts)) or band_keys(texts, params))
    dedup.dedup(paragraphs)
    (every_text,) = sketched  # without keys: every distinct text long enough, at once
    sketched.clear()
    pd.testing.assert_frame_equal(dedup.dedup(paragraphs, known_keys=keys), expected)
    assert sketched == []
    half = dedup.ParagraphKeys(keys.para_ids[::2], keys.keys[:, ::2], keys.sketch)
    pd.testing.assert_frame_equal(dedup.dedup(paragraphs, known_keys=half), expected)
    assert len(sketched) == 1 and 0 < sketched[0] < every_text
    sketched.clear()  # keys made with other settings are not used
    other = dedup.ParagraphKeys(keys.para_ids, keys.keys, (*keys.sketch[:-1], keys.sketch[-1] + 1))
    pd.testing.assert_frame_equal(dedup.dedup(paragraphs, known_keys=other), expected)
    assert sketched == [every_text]
    sketched.clear()  # keys handed over: their array is reused, the result the same
    for handed in (dedup.ParagraphKeys(keys.para_ids, keys.keys.copy(), keys.sketch),
                   dedup.ParagraphKeys(keys.para_ids[::2], keys.keys[:, ::2].copy(), keys.sketch)):
        pd.testing.assert_frame_equal(dedup.dedup(paragraphs, known_keys=handed, keys_handed_over=True), expected)
    assert len(sketched) == 1 and 0 < sketched[0] < every_text  # the half's missing keys only


def test_text_hashes_made_in_the_batches_give_the_same_result_and_texts_are_normalised_when_compared(monkeypatch):
    """With the batches' hashes of the normalised texts, dedup normalises only the texts it compares
    (candidate pairs, texts without hashes), and the tables are those of hashing every text itself:
    also with some hashes missing, with hashes of another pandas, and when two different texts share
    a first hash (then every text is encoded exactly)."""
    from conftest import RAW

    from flows.ingest import ingest

    sources, _ = ingest.ingest(RAW)
    extra = pd.DataFrame({"doc_id": ["dextra0000000001", "dextra0000000002"],
                          "text": [f"Headline one\n{LONG}\n{OTHER}\n{LONG}\n", f"Headline two\n{THIRD}\n{EDITED}\n"]})
    paragraphs, _ = clean.clean(pd.concat([sources[["doc_id", "text"]], extra], ignore_index=True))
    docs = paragraphs["doc_id"].unique()
    keys = dedup.combine_paragraph_keys([dedup.paragraph_band_keys(paragraphs[paragraphs["doc_id"].isin(docs[i::2])])
                                         for i in range(2)])
    content = int((paragraphs["status"] == "content").sum())
    assert len(keys.text_ids) == content and keys.text_hashes.shape == (2, content)
    expected = dedup.dedup(paragraphs)
    assert (expected["reason"] == "exact_repeat").sum() >= 1  # LONG twice in one document

    normalised = []
    normalize = dedup.normalize
    monkeypatch.setattr(dedup, "normalize", lambda t: normalised.append(t) or normalize(t))
    pd.testing.assert_frame_equal(dedup.dedup(paragraphs, known_keys=keys), expected)
    assert 0 < len(normalised) < content / 2  # the compared texts only
    normalised.clear()
    half = dedup.ParagraphKeys(keys.para_ids, keys.keys, keys.sketch, keys.text_ids[::2], keys.text_hashes[:, ::2],
                               keys.hashing)
    pd.testing.assert_frame_equal(dedup.dedup(paragraphs, known_keys=half), expected)
    hashed_here = len(normalised)
    assert content // 2 <= hashed_here < content
    normalised.clear()
    other = dedup.ParagraphKeys(keys.para_ids, keys.keys, keys.sketch, keys.text_ids, keys.text_hashes, "another pandas")
    pd.testing.assert_frame_equal(dedup.dedup(paragraphs, known_keys=other), expected)
    assert len(normalised) >= content  # every text hashed again
    clash = keys.text_hashes.copy()
    clash[0, 1] = clash[0, 0]  # two different texts with the same first hash (the second differs)
    assert clash[1, 1] != clash[1, 0]
    collided = dedup.ParagraphKeys(keys.para_ids, keys.keys, keys.sketch, keys.text_ids, clash, keys.hashing)
    pd.testing.assert_frame_equal(dedup.dedup(paragraphs, known_keys=collided), expected)
    subset = keys.only(keys.text_ids.to_pylist()[:5])
    assert subset.text_ids.to_pylist() == keys.text_ids.to_pylist()[:5]
    assert (subset.text_hashes == keys.text_hashes[:, :5]).all()
    assert set(subset.para_ids.to_pylist()) <= set(subset.text_ids.to_pylist())


def _seed_paragraphs_with_repeats(seed_tables) -> pd.DataFrame:
    """The seeds' paragraphs, every one content again, plus the first document's paragraphs once more
    under another document (exact repeats inside and across documents), in no particular order."""
    p = seed_tables["paragraphs"][["doc_id", "position", "para_id", "n_words", "text", "status"]].copy()
    p["status"] = "content"
    again = p[p["doc_id"] == p["doc_id"].iloc[0]].assign(doc_id="d-again", para_id=lambda d: d["para_id"] + "-again")
    return pd.concat([p, again], ignore_index=True).sample(frac=1.0, random_state=3)


def test_texts_are_coded_by_hash_as_by_exact_encoding(seed_tables):
    """The distinct normalised texts and each row's code are the same whether found by hashing
    (what dedup does, holding each text once) or by pyarrow's exact dictionary encoding."""
    p = _seed_paragraphs_with_repeats(seed_tables)
    is_content = (p["status"] == "content").to_numpy()
    for chunk in (1, 7, 5000):
        codes, texts = dedup._encode_by_hash(p["text"], is_content, chunk)
        want_codes, want_texts = dedup._encode_exact(p["text"], is_content, chunk)
        assert codes.tolist() == want_codes.tolist()
        assert list(texts) == list(want_texts)
    assert len(texts) < is_content.sum()  # the repeats share a code


def test_two_texts_with_the_same_hash_fall_back_to_exact_encoding(seed_tables, monkeypatch):
    """Should two different texts share the first hash, the codes still tell them apart."""
    p = _seed_paragraphs_with_repeats(seed_tables)
    is_content = (p["status"] == "content").to_numpy()
    real = dedup._text_hashes
    monkeypatch.setattr(dedup, "_text_hashes", lambda v: (real(v)[0] % 2, real(v)[1]))  # two first hashes only
    assert dedup._encode_by_hash(p["text"], is_content, 50) is None
    content, codes, texts = dedup._content(p, 50)
    want_codes, want_texts = dedup._encode_exact(p["text"], is_content, 50)
    assert sorted(codes.tolist()) == sorted(want_codes.tolist())
    assert list(texts) == list(want_texts)
    assert len(set(texts)) == len(texts) > 2


def test_a_cluster_is_named_after_its_smallest_paragraph_id(seed_tables):
    from flows.common.text import stable_id

    p = seed_tables["paragraphs"].dropna(subset=["cluster_id"])
    named_by = p[p["reason"].fillna("") != "exact_repeat"]  # an exact repeat joins its original's cluster
    smallest = named_by.groupby("cluster_id")["para_id"].min()
    assert len(smallest) > 1
    assert all(cluster == stable_id("c", para_id) for cluster, para_id in smallest.items())


def test_with_the_text_in_its_file_dedup_reads_only_the_texts_it_compares_and_marks_the_same(tmp_path, monkeypatch):
    """The flow's dedup reads the paragraphs without their text and the text from the file
    (flows.common.parquet_tables.FileColumn) only for the texts it compares: the marks are those of
    the text in memory, with the batches' keys and without them (then every text is read)."""
    from conftest import RAW

    from flows.common.parquet_tables import FileColumn
    from flows.ingest import ingest
    from flows.orchestrate import workspace

    sources, _ = ingest.ingest(RAW)
    extra = pd.DataFrame({"doc_id": ["dextra0000000001", "dextra0000000002"],
                          "text": [f"Headline one\n{LONG}\n{OTHER}\n{LONG}\n", f"Headline two\n{THIRD}\n{EDITED}\n"]})
    paragraphs, _ = clean.clean(pd.concat([sources[["doc_id", "text"]], extra], ignore_index=True))
    monkeypatch.setattr(workspace, "FRAME_ROW_GROUP", 40)  # texts spread over several row groups
    path = workspace.write_frame(paragraphs, tmp_path / "paragraphs.parquet")
    docs = paragraphs["doc_id"].unique()

    def keys():  # the batches' keys, made anew (dedup may reuse a handed-over array)
        return dedup.combine_paragraph_keys([dedup.paragraph_band_keys(paragraphs[paragraphs["doc_id"].isin(docs[i::2])])
                                             for i in range(2)])

    expected = dedup.dedup(paragraphs, known_keys=keys()).drop(columns="text")
    assert (expected["reason"] == "exact_repeat").sum() >= 1 and (expected["status"] == "duplicate").any()
    assert expected["cluster_id"].nunique() < expected["cluster_id"].count()  # LONG and EDITED share one

    read = []
    take = FileColumn.take
    monkeypatch.setattr(FileColumn, "take", lambda self, rows: read.append(len(rows)) or take(self, rows))
    without_text = workspace.read_frame(path, columns=[c for c in paragraphs.columns if c != "text"])
    content = int((paragraphs["status"] == "content").sum())
    for known in (keys(), None):
        read.clear()
        out = dedup.dedup(without_text, known_keys=known, text=FileColumn(path, "text"))
        assert "text" not in out
        pd.testing.assert_frame_equal(out, expected)
        if known is not None:
            assert len(read) == 1 and 0 < read[0] < content / 2  # one pass, the compared texts only
        else:
            assert sum(read) >= len(paragraphs)  # nothing hashed ahead: every text read
