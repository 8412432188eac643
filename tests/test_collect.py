"""The per-document stage's results are filed batch by batch (``flows.orchestrate.batches.Collector``) and
spilled where the flow does not need them (``flows.extract.extract.spill_scans``): the tables must be
the ones a single pass over the corpus gives, whatever order the batches finish in."""

from __future__ import annotations

import gc
import random
import weakref

import pandas as pd
import pytest
from conftest import RAW

from flows.extract import extract
from flows.orchestrate import batches


@pytest.fixture(scope="module")
def seed_batches():
    """The seeds in batches of one or two files, processed as the flow's documents task does."""
    files, manifest = batches.fingerprint(RAW)
    plan = batches.plan(files, 2)
    assert len(plan) >= 3
    return plan, [batches.process(RAW, b, batches.batch_manifest(b, manifest, first=i == 0))
                  for i, b in enumerate(plan)]


def _combined_in_plan_order(results):
    """What the flow built before the collector: every result held, concatenated and sorted."""
    import numpy as np

    sources = batches.combine([r.sources for r in results], ["source_file"])
    paragraphs = batches.combine([r.paragraphs for r in results])
    rank = pd.Series(range(len(sources)), index=sources["doc_id"])
    order = np.lexsort((paragraphs["position"].to_numpy(), paragraphs["doc_id"].map(rank).to_numpy()))
    return sources, paragraphs.take(order).reset_index(drop=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("spill", [False, True], ids=["paragraphs kept", "paragraphs spilled"])
def test_collector_gives_the_same_tables_whatever_order_batches_finish(seed_batches, seed, spill, tmp_path):
    plan, results = seed_batches
    want_sources, want_paragraphs = _combined_in_plan_order(results)
    order = list(range(len(results)))
    random.Random(seed).shuffle(order)
    c = batches.Collector(len(results), paragraphs_spill=str(tmp_path / "p.arrow") if spill else None)
    for i in order:
        c.add(i, results[i])
    sources, rejections, paragraphs, info = c.tables()
    scans = c.scans()
    pd.testing.assert_frame_equal(sources, want_sources)
    pd.testing.assert_frame_equal(paragraphs, want_paragraphs)  # same rows, order and dtypes
    assert list(info["doc_id"]) == list(sources["doc_id"])  # document order
    assert set(scans.scanned) == set(want_paragraphs.loc[want_paragraphs["status"] == "content", "para_id"])


def test_collector_sorts_batches_filed_out_of_document_order(seed_batches):
    """A plan whose batches do not follow the files' order (filed here under reversed numbers) still
    gives the paragraphs in document order."""
    _, results = seed_batches
    want_sources, want_paragraphs = _combined_in_plan_order(results)
    c = batches.Collector(len(results))
    for i, r in enumerate(results):
        c.add(len(results) - 1 - i, r)
    sources, _, paragraphs, _ = c.tables()
    pd.testing.assert_frame_equal(sources, want_sources)
    pd.testing.assert_frame_equal(paragraphs, want_paragraphs)


@pytest.mark.parametrize("group_bytes", [1, 20_000, 2**40], ids=["a row a group", "a few groups", "one group"])
def test_paragraphs_put_in_order_a_group_at_a_time_are_those_sorted_at_once(seed_batches, group_bytes,
                                                                            tmp_path, monkeypatch):
    """The flow spills the batches' paragraphs to a file and reads them back in document order a
    group of rows at a time (``Collector.GROUP_BYTES``): whatever the group size, the table is the
    one sorted at once, and the file holds every batch's paragraphs."""
    import pyarrow as pa

    _, results = seed_batches
    want_sources, want_paragraphs = _combined_in_plan_order(results)
    monkeypatch.setattr(batches.Collector, "GROUP_BYTES", group_bytes)
    spill = tmp_path / "p.arrow"
    c = batches.Collector(len(results), paragraphs_spill=str(spill))
    for i, r in enumerate(results):
        c.add(len(results) - 1 - i, r)
    assert c._paragraphs.count(None) == sum(len(r.paragraphs) == 0 for r in results)  # no table held
    sources, _, paragraphs, _ = c.tables()
    assert pa.ipc.open_file(str(spill)).read_all().num_rows == len(want_paragraphs)
    pd.testing.assert_frame_equal(sources, want_sources)
    pd.testing.assert_frame_equal(paragraphs, want_paragraphs)


def test_batches_in_document_order_are_combined_without_a_copy(seed_batches):
    """The batches of consecutive files are already in document order: their text is not copied
    (the table holds the batches' own Arrow buffers, one chunk a batch)."""
    import pyarrow as pa

    _, results = seed_batches
    c = batches.Collector(len(results))
    for i, r in enumerate(results):
        c.add(i, r)
    kept = [t.column("text").chunk(0).buffers()[2].address for t in c._paragraphs if t is not None]
    text = pa.array(c.tables()[2]["text"])
    assert [chunk.buffers()[2].address for chunk in text.chunks] == kept


def test_collector_holds_no_batch_result(seed_batches):
    """Filing a result keeps its tables, not the result: the flow can free each batch's result."""
    _, results = seed_batches
    r = batches.BatchResult(results[0].sources, results[0].rejections, results[0].paragraphs.copy(),
                            results[0].info, results[0].scans, {})
    ref = weakref.ref(r.paragraphs)
    c = batches.Collector(1)
    c.add(0, r)
    del r
    gc.collect()
    assert ref() is None  # the paragraphs frame is gone: the collector keeps an Arrow copy only
    assert len(c.tables()[2]) == len(results[0].paragraphs)


def test_collector_of_no_paragraphs_gives_an_empty_table_with_the_columns(seed_batches):
    _, results = seed_batches
    empty = results[0].paragraphs.iloc[0:0]
    c = batches.Collector(1)
    c.add(0, batches.BatchResult(results[0].sources.iloc[0:0], results[0].rejections, empty,
                                 results[0].info.iloc[0:0], extract.Scans(), {}))
    paragraphs = c.tables()[2]
    assert len(paragraphs) == 0
    assert len(c.scans().scanned) == 0
    assert list(paragraphs.columns) == list(empty.columns)


def test_spilled_scans_read_back_equal_to_the_scans_kept(seed_batches, tmp_path):
    """The flow's collector appends each batch's scans to a file as it comes; read back, they are
    the scans a collector keeping them in memory gives."""
    _, results = seed_batches
    kept, spilled = batches.Collector(len(results)), batches.Collector(len(results), spill=str(tmp_path / "s.pickle"))
    for i in reversed(range(len(results))):
        kept.add(i, results[i])
        spilled.add(i, results[i])
    scans, path = kept.scans(), spilled.scans()
    assert path == str(tmp_path / "s.pickle")
    back = extract.load_scans(path)
    assert back.paras == scans.paras and back.countries == scans.countries and back.paras
    assert sorted(back.scanned) == sorted(scans.scanned)
    key = ["doc_id", "para_id", "char_start"]
    pd.testing.assert_frame_equal(back.facts.sort_values(key).reset_index(drop=True),
                                  scans.facts.sort_values(key).reset_index(drop=True))
    assert len(extract.load_scans(str(tmp_path / "none.pickle")).scanned) == 0  # nothing appended


def test_extract_from_spilled_scans_gives_the_tables_of_a_plain_build(seed_tables, seed_batches, tmp_path):
    """The records made from the spilled scans equal those of the plain stage chain (flows.orchestrate.build)."""
    from flows.dedup import dedup
    from flows.ingest import ingest

    _, results = seed_batches
    c = batches.Collector(len(results), spill=str(tmp_path / "s.pickle"))
    for i, r in enumerate(results):
        c.add(i, r)
    sources, rejections, paragraphs, info = c.tables()
    sources, paragraphs, info, rejections = ingest.reject_all_boilerplate(sources, paragraphs, info, rejections)
    tables = extract.build_tables(sources, dedup.dedup(paragraphs), info, rejections, c.scans())
    for name in ("documents", "entities", "mentions", "events", "participants", "quotes", "facts", "statements"):
        pd.testing.assert_frame_equal(tables[name], seed_tables[name], obj=name)


def test_completed_yields_every_future_once_and_keeps_none(prefect_harness):
    """The flow's loop over finished batches: every future once, the list emptied (Prefect's
    ``as_completed`` would hold every future, and so every batch's result, to the end)."""
    from prefect import flow, task
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.pipeline import _completed

    @task
    def square(x):
        return x * x

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
    def squares():
        futures = [square.submit(i) for i in range(6)]
        seen = []
        for fut in _completed(futures):
            assert futures == []
            seen.append(fut.result())
        return sorted(seen)

    assert squares() == [i * i for i in range(6)]
