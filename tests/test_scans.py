"""The per-paragraph scans as tables (flows/extract/scans.py): filed in the workspace and read back,
they give the cross-document steps exactly what the scan found."""

from __future__ import annotations

import pytest
from conftest import RAW

from flows.extract import scans as sc


@pytest.fixture(scope="module")
def seed_paragraphs():
    from flows.clean import clean
    from flows.ingest import ingest

    sources, _ = ingest.ingest(RAW)
    paragraphs, _ = clean.clean(sources)
    return paragraphs


def _finding(para) -> tuple:
    persons = tuple((p.start, p.end, p.text, p.title, list(p.countries.items()), p.cue) for p in para.persons)
    return para.ents, persons, para.descriptions, para.series, list(para.sents_)


def test_scans_read_back_from_their_files_give_the_scans_records(seed_paragraphs, tmp_path):
    from flows.extract.entities import scan
    from flows.extract.events import countries_said
    from flows.extract.quotes import quotes_in
    from flows.orchestrate import workspace

    direct = scan(seed_paragraphs)  # the scan's own records, before any table
    filed = workspace.write_scans(sc.scan_paragraphs(seed_paragraphs), tmp_path / "scans")
    read = workspace.read_scans([filed])
    paras, countries = sc.paras_of(read)

    found = {p.para_id: p for p in direct if p.found_something()}
    assert len(found) > 50 and sorted(paras) == sorted(found)
    assert all(_finding(paras[pid]) == _finding(p) for pid, p in found.items())
    # the names' countries in the order first named, with their counts (resolution picks the first
    # of the most frequent)
    assert any(len(p.countries) for para in paras.values() for p in para.persons)
    assert countries == {p.para_id: countries_said(p.text) for p in direct if countries_said(p.text)}
    assert sc.quotes_of(read.quotes) == {p.para_id: q for p in direct if (q := quotes_in(p.text))}
    assert sorted(read.scanned.to_pylist()) == sorted(p.para_id for p in direct)


def test_the_scans_of_some_paragraphs_are_those_paragraphs_rows(seed_paragraphs):
    scans = sc.scan_paragraphs(seed_paragraphs)
    ids = set(scans.scanned.to_pylist()[::3])
    part = sc.subset_scans(scans, ids)
    for name, table in part.tables().items():
        kept = set(table["para_id"].to_pylist() if name != "facts" else table["para_id"].tolist())
        assert kept <= ids, name
    assert set(part.scanned.to_pylist()) == ids
    whole = sc.combine_scans([part, sc.subset_scans(scans, set(scans.scanned.to_pylist()) - ids)])
    for name in sc.SCHEMAS:
        assert getattr(whole, name).num_rows == getattr(scans, name).num_rows, name
    assert len(whole.facts) == len(scans.facts)


def test_the_stage_lets_go_of_the_scans_tables_once_their_records_are_made(tmp_path):
    """The scans of a large corpus are hundreds of MB: read from the batches' files, each column is
    one buffer (big enough to go back to the system when freed), and ``build_records`` keeps only the
    quotes' table, the one it reads after making the records, though its caller still holds them."""
    from flows.clean import clean
    from flows.extract import extract
    from flows.ingest import ingest
    from flows.orchestrate import workspace

    sources, _ = ingest.ingest(RAW)
    paragraphs, info = clean.clean(sources)
    halves = [paragraphs.iloc[:len(paragraphs) // 2], paragraphs.iloc[len(paragraphs) // 2:]]
    read = workspace.read_scans([workspace.write_scans(sc.scan_paragraphs(half), tmp_path / f"scans{i}")
                                 for i, half in enumerate(halves)])
    assert all(getattr(read, name).column(0).num_chunks == 1 for name in sc.SCHEMAS)
    n_quotes = read.quotes.num_rows
    documents = extract.build_documents(sources, paragraphs, info)
    tables = extract.build_records(sources, documents, paragraphs, read)
    assert len(tables["mentions"]) and len(tables["quotes"])
    assert read.quotes.num_rows == n_quotes > 0
    assert all(getattr(read, name).num_rows == 0 for name in sc.SCHEMAS if name != "quotes") and read.facts.empty
