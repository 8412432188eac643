"""Events, participants and the article -> event decision on the seeds (issue 4)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.extract_fixtures import doc_of, seed_records

SERIES = "U.S.-Iraq Joint Security Cooperation Dialogue"


@pytest.fixture(scope="module")
def tables():
    return seed_records()


def _edition(tables, n: int) -> pd.Series:
    ev = tables["events"]
    rows = ev[(ev["series"] == SERIES) & (ev["edition"] == n)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_both_dialogues_with_exact_dates_place_and_edition(tables):
    ev = tables["events"]
    assert len(ev[ev["series"] == SERIES]) == 2
    first, second = _edition(tables, 1), _edition(tables, 2)
    assert (first["start_date"], first["end_date"], first["location"]) == ("2023-08-07", "2023-08-08", "Washington")
    assert (second["start_date"], second["end_date"], second["location"]) == ("2024-07-22", "2024-07-23", "Washington")
    assert first["date_precision"] == second["date_precision"] == "day"
    assert first["date_evidence"].startswith("stated")


def test_each_article_is_linked_to_the_right_dialogue_with_recorded_evidence(tables):
    docs = tables["documents"].set_index("doc_id")
    first, second = _edition(tables, 1)["event_id"], _edition(tables, 2)["event_id"]
    expected = {"000": second, "001": first, "002": second, "003": first, "004": first}
    for prefix, event_id in expected.items():
        row = docs.loc[doc_of(tables, prefix)]
        assert row["event_id"] == event_id, prefix
        assert bool(row["relevant"]) and row["event_evidence"], prefix
    # how: the edition word, the heads of the delegations, the shared joint-statement text
    assert docs.loc[doc_of(tables, "001"), "event_evidence"].startswith("states the edition")
    assert docs.loc[doc_of(tables, "003"), "event_evidence"].startswith("delegation heads")
    assert docs.loc[doc_of(tables, "002"), "event_evidence"].startswith("shared text")
    assert _edition(tables, 1)["n_documents"] == 3 and _edition(tables, 2)["n_documents"] == 2


def test_heads_of_delegations(tables):
    p = tables["participants"]
    names = tables["entities"].set_index("entity_id")["canonical_name"]
    heads = p[p["role"] == "head_of_delegation"]
    got = {(e, names[i], side) for e, i, side in zip(heads["event_id"], heads["entity_id"], heads["side"])}
    first, second = _edition(tables, 1)["event_id"], _edition(tables, 2)["event_id"]
    assert {(first, "Thabit al-Abbasi", "Iraq"), (first, "Celeste Wallander", "United States"),
            (second, "Thabit al-Abbasi", "Iraq")} <= got
    # one row per event and entity, so a head is not also listed as met_with
    assert not p.duplicated(["event_id", "entity_id"]).any()
    met = {names[i] for i in p.loc[(p["event_id"] == second) & (p["role"] == "met_with"), "entity_id"]}
    assert {"Lloyd Austin", "Charles Q Brown"} <= met


def test_referenced_dated_events(tables):
    ev = tables["events"]
    def one(mask):
        rows = ev[mask]
        assert len(rows) == 1, rows
        return rows.iloc[0]
    sfa = one(ev["name"].str.contains("Strategic Framework Agreement"))
    assert (sfa["start_date"], sfa["date_precision"], sfa["event_type"]) == ("2008-01-01", "year", "agreement")
    sd = one(ev["series"] == "U.S.-Iraq Strategic Dialogue")
    assert (sd["start_date"], sd["end_date"]) == ("2021-07-01", "2021-07-31")
    hmc = one(ev["series"] == "U.S.-Iraq Higher Military Commission")
    assert (hmc["edition"], hmc["start_date"], hmc["end_date"]) == (1, "2024-01-01", "2024-01-31")
    assert hmc["date_evidence"].startswith("resolved against the reference date")
    visits = ev[ev["event_type"] == "visit"]
    pm = one((ev["event_type"] == "visit") & ev["name"].str.contains("Prime Minister"))
    assert (pm["start_date"], pm["location"]) == ("2024-04-01", "Washington")
    assert len(visits) == 2


def test_no_event_is_invented_from_undated_or_sidebar_text(tables):
    ev = tables["events"]
    assert ev["start_date"].notna().all()
    assert not ev["name"].str.contains("Harris|Biden|nomination").any()


def test_rows_carry_provenance(tables):
    paras = tables["paragraphs"].set_index("para_id")
    p = tables["participants"]
    m = tables["mentions"]
    spans = set(zip(m["para_id"], m["char_start"], m["char_end"]))
    assert set(zip(p["para_id"], p["char_start"], p["char_end"])) <= spans
    assert (paras.loc[p["para_id"], "doc_id"].to_numpy() == p["doc_id"].to_numpy()).all()


def test_wikinews_is_not_relevant_and_creates_no_events(tmp_path):
    from tests.extract_fixtures import corpus_dir

    corpus = corpus_dir("wikinews")
    if corpus is None:
        pytest.skip("the wikinews corpus (shared/corpus/wikinews or $CORPUS_DIR/wikinews) is not on this machine")
    from flows.clean import clean
    from flows.dedup import dedup
    from flows.extract import extract
    from flows.ingest import ingest

    sources, _ = ingest.ingest(corpus)
    paragraphs, info = clean.clean(sources)
    paragraphs = dedup.mark_exact_repeats(paragraphs)
    docs = extract.build_documents(sources, paragraphs, info)
    t = extract.build_records(sources, docs, paragraphs)
    assert len(t["documents"]) > 250
    assert not t["documents"]["relevant"].any()
    assert t["documents"]["event_id"].isna().all()
    assert t["events"].empty and t["participants"].empty
    assert (t["entities"]["entity_type"] == "person").sum() > 100  # people are still found


@pytest.mark.parametrize("pair_block", [2_000_000, 500, 1])
def test_similar_sets_equals_comparing_every_pair(pair_block, monkeypatch):
    """The sparse join behind "shared text" linking finds exactly the pairs a full comparison finds
    (random word sets, thresholds around the one used), whatever the size of its blocks of probes
    (all at once, several per block, one per block)."""
    import random

    from flows.extract import editions

    monkeypatch.setattr(editions, "PAIR_BLOCK", pair_block)

    def jaccard(a, b):
        return len(a & b) / len(a | b) if a and b else 0.0

    rng = random.Random(3)
    vocab = [f"w{i}" for i in range(40)]
    sets = [frozenset(rng.sample(vocab, rng.randint(0, 12))) for _ in range(300)]
    probes, targets = sets[:120] + sets[:20], sets[120:]  # some probes twice
    for threshold in (0.2, 0.4, 0.6):
        got = list(editions.WordSets(probes).similar(range(len(probes)), targets, threshold))
        want = [{j for j, t in enumerate(targets) if jaccard(p, t) >= threshold} for p in probes]
        assert got == want
        assert sum(map(len, want)) > 0
        # the sets made once, then compared a subset of rows at a time, in any order (as the linking
        # passes compare the candidates still unlinked with the articles linked so far)
        rows = [7, 3, 100, 3, 0]
        assert list(editions.WordSets(probes).similar(rows, targets, threshold)) == [want[i] for i in rows]


def test_shared_paragraphs_compared_pass_by_pass_equal_one_comparison():
    """The linking passes compare the candidates only with the articles linked since the last pass:
    what a candidate shares with the linked articles is then the same as if every pass compared
    everything again (each paragraph with every linked article's, whatever pass linked it)."""
    import random
    from types import SimpleNamespace

    from flows.extract import editions

    rng = random.Random(5)
    words = [f"word{chr(97 + i)}xyz" for i in range(14)]

    def paragraph():
        return SimpleNamespace(text=" ".join(rng.sample(words, rng.randint(2, 8))))

    by_doc = {f"d{i}": [paragraph() for _ in range(rng.randint(0, 4))] for i in range(60)}
    candidates, linked = [f"d{i}" for i in range(40)], [f"d{i}" for i in range(40, 60)]
    by_doc["d40"] = list(by_doc["d41"])  # two linked articles with the same paragraphs

    def shared(passes):
        found = editions.SharedParagraphs(candidates, by_doc)
        todo = list(candidates)
        for k, these in enumerate(passes):
            todo = todo[k * 5:]  # candidates linked by a pass are no longer compared
            found.compare(these, todo, by_doc)
        return {d: found.shared_with(d) for d in todo}

    at_once = shared([[], [], linked])
    by_pass = shared([linked[:7], linked[:12] + ["d40"], linked])
    assert by_pass == at_once
    assert sum(len(c) for c in at_once.values()) > 0


def test_a_date_line_among_the_first_paragraphs_gives_the_publication_date():
    """A paragraph that is only a date, among a document's first six, is its publication date (the
    first such line wins); a date inside a longer paragraph, or further down, is not."""
    import datetime as dt

    from flows.extract.editions import published_in_text

    rows = [("a", 0, "A headline"), ("a", 1, "July 24, 2024"), ("a", 2, "Friday, January 4, 2019"),
            ("b", 0, "July 24, 2024 10:03 and the two delegations met in Washington for more talks"),
            ("c", 7, "July 24, 2024"),
            ("d", 3, "Published: 24 July 2024 10:03"), ("e", 0, None)]
    paragraphs = pd.DataFrame(rows, columns=["doc_id", "position", "text"]).astype({"text": "str"})
    assert published_in_text(paragraphs) == {"a": dt.date(2024, 7, 24), "d": dt.date(2024, 7, 24)}


def test_the_events_stage_reads_only_the_documents_it_can_link(tmp_path):
    """The extract stage hands the events stage the records of the documents it can link alone
    (``linkable``: the rest go first, for memory); it must give what it gives with every record.
    The dev set's articles (most name the series or both countries) with 40 wikinews articles
    (which name neither)."""
    import shutil

    from tests.extract_fixtures import corpus_dir

    dev, wikinews = corpus_dir("jscd-dev"), corpus_dir("wikinews")
    if dev is None or wikinews is None:
        pytest.skip("the dev set and the wikinews corpus (shared/corpus) are not on this machine")
    from flows.clean import clean
    from flows.dedup import dedup
    from flows.extract import entities, events, extract
    from flows.ingest import ingest

    for path in [*sorted(dev.glob("*.txt")), *sorted(wikinews.glob("*.txt"))[:40]]:
        shutil.copy(path, tmp_path / path.name)
    sources, _ = ingest.ingest(tmp_path)
    paragraphs, info = clean.clean(sources)
    paragraphs = dedup.mark_exact_repeats(paragraphs)
    documents = extract.build_documents(sources, paragraphs, info)
    paras, resolution = entities.build_entities(paragraphs)
    kept_docs, all_docs = set(events.linkable(paras)), {p.doc_id for p in paras}
    kept = [p for p in paras if p.doc_id in kept_docs]
    assert 20 < len(kept_docs) < len(all_docs) - 30
    every = events.build_events(paras, resolution, documents, paragraphs)
    only_linkable = events.build_events(kept, resolution, documents, paragraphs)
    assert len(every[0]) and len(every[1]) and every[2]["relevant"].any()
    for name, want, got in zip(("events", "participants", "documents"), every, only_linkable):
        pd.testing.assert_frame_equal(got, want, check_exact=True, obj=name)
