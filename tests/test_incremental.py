"""Incremental builds: per-document stages run on content-defined batches, cached by content."""

from __future__ import annotations

import hashlib
import shutil

import pandas as pd
import pytest

import schemas
from flows.orchestrate import batches, progress
from flows.publish import publish


def _files(n, salt=""):
    return [(f"f{i:05d}{salt}.txt", hashlib.sha256(f"{salt}{i}".encode()).hexdigest()) for i in range(n)]


def test_plan_covers_every_file_once_in_batches_of_about_the_target():
    files = _files(3000)
    plan = batches.plan(files, target=100)
    flat = [f for b in plan for f in b]
    assert sorted(flat) == sorted(files)
    assert 10 <= len(plan) <= 90  # mean batch size near the target
    assert max(len(b) for b in plan) <= 100 * batches.MAX_BATCH_FACTOR


@pytest.mark.parametrize("text", [b"a new article", b"another new article", b"third", b"fourth", b"fifth"])
def test_adding_one_file_changes_only_the_batch_it_lands_in(text):
    files = _files(3000)
    before_plan = batches.plan(files, target=100)
    before = {batches.batch_key(b) for b in before_plan}
    new = ("new.txt", hashlib.sha256(text).hexdigest())
    after_plan = batches.plan([*files, new], target=100)
    after = {batches.batch_key(b) for b in after_plan}
    changed = [b for b in after_plan if batches.batch_key(b) not in before]
    # the batch that receives the file changes; if the file itself ends a batch, that batch splits in two
    assert 1 <= len(changed) <= 2 and any(new in b for b in changed)
    assert sum(len(b) for b in changed) <= max(len(b) for b in before_plan) + 1
    assert len(before - after) == 1
    assert len(after) - len(before) == len(changed) - 1


def test_identical_files_share_a_batch():
    files = _files(500)
    digest = files[10][1]
    files += [("copy-a.txt", digest), ("copy-b.txt", digest)]
    plan = batches.plan(files, target=1)  # a boundary could fall after every file
    holding = [b for b in plan if any(d == digest for _, d in b)]
    assert len(holding) == 1 and len(holding[0]) == 3


def test_lexicon_version_follows_the_rule_files(tmp_path):
    from flows.common.paths import LEXICONS_DIR

    lex = tmp_path / "lexicons"
    shutil.copytree(LEXICONS_DIR, lex)
    v1 = batches.lexicon_version(lex)
    assert batches.lexicon_version(lex) == v1
    first = sorted(p for p in lex.iterdir() if p.suffix == ".yaml")[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert batches.lexicon_version(lex) != v1
    assert batches.code_version() == batches.code_version()


def test_a_batch_reads_only_its_files_and_their_manifest_rows(raw_copy):
    from flows.ingest import ingest

    with (raw_copy / "sources.csv").open("a", encoding="utf-8") as fh:
        fh.write("gone.txt,,,,,,\r\n")
    files, manifest = batches.fingerprint(raw_copy)
    some = files[:2]
    rows = batches.batch_rows(some, batches.batch_manifest(some, manifest, first=False))
    assert [r["file"] for r in rows] == [n for n, _ in some]
    sources, rejections = ingest.ingest(raw_copy, names=[n for n, _ in some], manifest=rows)
    assert sorted(sources["source_file"]) == sorted(n for n, _ in some)
    assert list(sources["sha256"]) == [dict(some)[n] for n in sources["source_file"]]
    assert rejections.empty
    # the first batch also reports the manifest's rows without a file
    first = batches.batch_rows(some, batches.batch_manifest(some, manifest, first=True))
    result = batches.process(raw_copy, some, batches.batch_manifest(some, manifest, first=True))
    assert [r["file"] for r in first][-1] == "gone.txt"
    assert list(result.rejections["file"]) == ["gone.txt"] and len(result.sources) == 2


class Capture(progress.Reporter):
    def __init__(self):
        self.result = None

    def summary(self, summary):
        self.result = summary


def _build(raw, out, cache, **kw):
    from flows.pipeline import build_dataset

    cap = Capture()
    previous = progress.set_reporter(cap)
    try:
        release = build_dataset(raw_dir=str(raw), output_dir=str(out), batch_size=2, cache_dir=str(cache), **kw)
    finally:
        progress.set_reporter(previous)
    return release, cap.result


@pytest.mark.slow
def test_adding_an_article_reprocesses_only_its_batch(prefect_harness, raw_copy, tmp_path, monkeypatch):
    out, cache = tmp_path / "out", tmp_path / "cache"
    first, s1 = _build(raw_copy, out, cache)
    assert first.published and s1.batches >= 3
    assert s1.batches_cached == {"documents": 0}
    # the summary counts what was published
    docs = pd.read_parquet(out / "latest" / "documents.parquet")
    paras = pd.read_parquet(out / "latest" / "paragraphs.parquet")
    assert s1.files_in == 5 and s1.documents == len(docs) and s1.quarantined == 0
    assert s1.rows["paragraphs"] == len(paras) == s1.paragraphs["total"]
    assert s1.paragraphs["duplicate"] == int((paras["status"] == "duplicate").sum()) > 0
    assert s1.paragraphs["boilerplate"] == int((paras["status"] == "boilerplate").sum()) > 0
    assert {"ingest", "clean", "scan", "dedup", "extract", "validate", "publish"} <= set(s1.seconds)
    # each stage of the flow's line starts once the one before has ended (benchmarks place samples by them)
    line = sorted(s1.starts, key=s1.starts.get)
    assert line[0] == "fingerprint" and line[-1] == "publish"
    assert {"runner startup", "documents (total)", "gather", "accounting", "dedup", "extract"} <= set(line)
    for before, after in zip(line, line[1:]):
        assert s1.starts[after] >= s1.starts[before] + s1.seconds[before] - 1e-6  # (float sums)
    assert "| documents | 5 |" in s1.markdown()

    again, s2 = _build(raw_copy, out, cache)
    assert not again.published and again.version == "1.0.0"  # unchanged input publishes nothing
    # ... and rebuilds nothing: raw files, code and rules are those release 1.0.0 was built from
    assert s2.skipped and set(s2.seconds) == {"fingerprint", "flow (total)"}
    # without that shortcut every batch comes from the cache but one whose workspace files are gone
    # (made again, not trusted), and the same tables publish nothing
    victim = next((cache / "workspace" / "documents" / "paragraphs").glob("*.parquet"))
    victim.unlink()
    with monkeypatch.context() as m:
        m.setattr(publish, "unchanged_build", lambda *a, **k: None)
        forced, s2b = _build(raw_copy, out, cache)
    assert not forced.published and not s2b.skipped and s2b.batches_cached == {"documents": s2b.batches - 1}
    assert victim.is_file()
    # the first build computed every batch on worker processes; with one batch to make no worker
    # process is started (it and the cache are read in the flow's process)
    from flows.pipeline import default_workers

    assert s1.workers == min(default_workers(), s1.batches)
    assert s2b.workers == 1

    (raw_copy / "zz_new.txt").write_text("A brand new headline\n\nA first paragraph of news.\n", encoding="utf-8")
    third, s3 = _build(raw_copy, out, cache)
    assert third.published and third.version == "1.1.0"
    # only the batch the new file landed in was processed again (it may have split in two);
    # every batch of the first build was reused but the one that received the file
    assert 1 <= s3.batches - s3.batches_cached["documents"] <= 2
    # ... and of that batch only the new article was made: its other documents were copied from the
    # batch it replaced
    import json

    done = [json.loads(p.read_text()) for p in (cache / "workspace" / "documents" / "done").glob("*.json")]
    landed = [d for d in done if any(name == "zz_new.txt" for name, _ in d["files"])]
    assert len(landed) == 1 and landed[0]["reused"] == len(landed[0]["files"]) - 1 >= 1
    assert s3.batches_cached["documents"] == s1.batches - 1
    assert s3.documents == s1.documents + 1
    # cross-document steps were rebuilt over every document, from the cached batches' scans and the
    # new one's: every table is the one the stage functions make of the whole corpus at once
    from conftest import assert_release_holds

    from flows.orchestrate.build import build_tables

    assert_release_holds(out / "latest", build_tables(raw_copy)[0])


def test_changing_a_lexicon_file_reprocesses_every_batch(raw_copy, tmp_path, monkeypatch):
    """Every batch's workspace key (what the documents task is cached on, and what the flow looks up
    to count the batches to compute) changes with any rule file: no batch is reused."""
    from flows.common.paths import LEXICONS_DIR
    from flows.orchestrate import workspace
    from flows.pipeline import batch_inputs

    lex = tmp_path / "lexicons"
    shutil.copytree(LEXICONS_DIR, lex)
    monkeypatch.setattr(batches, "LEXICONS_DIR", lex)
    files, manifest = batches.fingerprint(raw_copy)
    plan = batches.plan(files, 2)
    root = tmp_path / "ws"
    before = batch_inputs(str(raw_copy), plan, manifest, root)
    assert len(before) >= 3 and batch_inputs(str(raw_copy), plan, manifest, root) == before
    for params in before:  # as the documents task files them
        result = batches.process(raw_copy, params["files"], params["manifest"])
        workspace.write_batch(root, params["key"], result)
    assert all(workspace.existing_batch(root, p["key"]) for p in before)
    edited = lex / "boilerplate.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# a new rule would go here\n", encoding="utf-8")
    after = batch_inputs(str(raw_copy), plan, manifest, root)
    assert [p["files"] for p in after] == [p["files"] for p in before]
    assert not any(workspace.existing_batch(root, p["key"]) for p in after)


def test_build_key_changes_with_any_input_code_or_rule(raw_copy, tmp_path, monkeypatch):
    from flows.common.paths import LEXICONS_DIR

    def key():
        files, manifest = batches.fingerprint(raw_copy)
        return batches.build_key(files, manifest)

    k0 = key()
    assert key() == k0  # deterministic
    first = sorted(raw_copy.glob("*.txt"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    k1 = key()
    assert k1 != k0
    first.rename(first.with_name("renamed_" + first.name))
    k2 = key()
    assert k2 != k1
    lex = tmp_path / "lexicons"
    shutil.copytree(LEXICONS_DIR, lex)
    monkeypatch.setattr(batches, "LEXICONS_DIR", lex)
    assert key() == k2
    (lex / "boilerplate.yaml").write_text((lex / "boilerplate.yaml").read_text(encoding="utf-8") + "\n# x\n",
                                          encoding="utf-8")
    assert key() != k2


@pytest.mark.slow
def test_an_outlets_template_lines_are_learned_over_the_whole_corpus_not_per_batch(prefect_harness, tmp_path):
    """A line under every article is boilerplate however the documents are batched: batches of about
    two documents each are far below the five documents template learning needs."""
    from flows.orchestrate.build import build_tables

    line = "Get our app for breaking news"
    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(12):
        raw.joinpath(f"story{i:02d}.txt").write_text(
            f"Talks on training, round {i}\n\nStory {i}: the minister said on Tuesday that the talks had gone "
            f"well and would continue next month, officials said.\n\n{line}\n\nOfficials from both countries "
            f"met in the capital to discuss training and equipment programmes, item {i}.\n", encoding="utf-8")
    release, summary = _build(raw, tmp_path / "out", tmp_path / "cache", workers=1)  # (batches, not processes)
    assert release.published and summary.batches >= 3
    paragraphs = pd.read_parquet(tmp_path / "out" / "latest" / "paragraphs.parquet")
    lines = paragraphs[paragraphs["text"] == line]
    assert len(lines) == 12
    assert (lines["status"] == "boilerplate").all() and (lines["reason"] == "template").all()
    # the same table as the stage functions give over the whole corpus at once
    tables, _ = build_tables(raw)
    expected = tables["paragraphs"].sort_values("para_id").reset_index(drop=True)
    got = paragraphs.sort_values("para_id").reset_index(drop=True)
    assert got[["para_id", "status", "reason"]].astype(str).equals(expected[["para_id", "status", "reason"]].astype(str))


def _same_batch(a, b):
    """Two BatchResults hold the same rows (in any order) and the same scans and band keys."""
    from flows.dedup.dedup import combine_paragraph_keys
    from flows.extract.scans import SCHEMAS

    for table, key in (("sources", "doc_id"), ("paragraphs", "para_id"), ("info", "doc_id"), ("rejections", "file")):
        x, y = (getattr(r, table).sort_values(key).reset_index(drop=True).astype(object) for r in (a, b))
        pd.testing.assert_frame_equal(x.where(x.notna(), None), y.where(y.notna(), None))  # null as the files hold it
    for table in SCHEMAS:  # each paragraph's findings in the order the scan found them
        x, y = (getattr(r.scans, table).to_pandas().sort_values("para_id", kind="stable").reset_index(drop=True)
                for r in (a, b))
        assert len(x) and x.astype(str).equals(y.astype(str)), table
    pd.testing.assert_frame_equal(*(r.scans.facts.sort_values("fact_id").reset_index(drop=True) for r in (a, b)))
    ka, kb = (combine_paragraph_keys([r.band_keys]) for r in (a, b))
    order_a, order_b = (pd.Series(k.para_ids.to_pylist()).sort_values().index.to_numpy() for k in (ka, kb))
    assert (ka.keys[:, order_a] == kb.keys[:, order_b]).all()
    order_a, order_b = (pd.Series(k.text_ids.to_pylist()).sort_values().index.to_numpy() for k in (ka, kb))
    assert (ka.text_hashes[:, order_a] == kb.text_hashes[:, order_b]).all()


def test_a_batch_copies_the_documents_an_earlier_batch_made_of_the_same_files(raw_copy, tmp_path):
    from flows.orchestrate import workspace

    files, manifest = batches.fingerprint(raw_copy)
    versions = [batches.code_version(), batches.lexicon_version()]
    root, whole = tmp_path / "workspace", sorted(files)
    made_of = {"files": whole[:3], "manifest": batches.batch_manifest(whole[:3], manifest, first=False),
               "versions": versions}
    workspace.write_batch(root, "earlier", batches.process(raw_copy, whole[:3], made_of["manifest"]), made_of)
    rows = batches.batch_manifest(whole, manifest, first=True)
    earlier = workspace.reusable(workspace.documents_made(root, versions), whole, rows)
    assert sorted(earlier) == sorted(d for _, d in whole[:3]) and set(earlier.values()) == {"earlier"}
    copied = batches.process(raw_copy, whole, rows, workspace.earlier_documents(root, earlier))
    assert copied.reused == 3 and len(copied.sources) == len(whole)
    _same_batch(copied, batches.process(raw_copy, whole, rows))
    # a document is only copied when its files and manifest rows are the same, with the same code
    edited = {**rows, whole[0][0]: {**rows[whole[0][0]], "outlet": "Another Outlet"}}
    assert whole[0][1] not in workspace.reusable(workspace.documents_made(root, versions), whole, edited)
    assert workspace.documents_made(root, [versions[0], "other rules"]) == {}
