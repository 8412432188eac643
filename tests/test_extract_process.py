"""The extract stage in a process of its own (flows/orchestrate/extract_process.py): the same files as in the
calling process, given only the paths of its inputs in the workspace, the child's numbers reported."""

from __future__ import annotations

import pandas as pd
import pytest

import schemas
from flows.orchestrate import extract_process


@pytest.fixture(scope="module")
def stage_inputs():
    """The seeds' cleaned, deduplicated frames and their scans: the extract stage's inputs."""
    from conftest import RAW

    from flows.clean import clean
    from flows.dedup import dedup
    from flows.extract.scans import scan_paragraphs
    from flows.ingest import ingest

    sources, rejections = ingest.ingest(RAW)
    paragraphs, info = clean.clean(sources)
    scans = scan_paragraphs(paragraphs)
    sources, paragraphs, info, rejections = ingest.reject_all_boilerplate(sources, paragraphs, info, rejections)
    frames = {"sources": sources, "paragraphs": dedup.dedup(paragraphs), "info": info, "rejections": rejections}
    return frames, scans


def _written(stage_inputs, folder):
    """The stage's inputs as workspace files in ``folder``: their paths, and a batch's scans folder."""
    from flows.orchestrate import workspace

    frames, found = stage_inputs
    inputs = {name: str(workspace.write_frame(df, folder / f"{name}.parquet")) for name, df in frames.items()}
    return inputs, str(workspace.write_scans(found, folder / "scans"))


def _run(stage_inputs, tmp_path, own_process, once_resolved=None):
    tmp_path.mkdir()
    inputs, scans = _written(stage_inputs, tmp_path)
    return extract_process.extract_and_write(inputs, [scans], tmp_path / "tables", own_process,
                                             once_resolved=once_resolved)


def test_a_child_process_writes_the_same_tables(stage_inputs, tmp_path):
    here = _run(stage_inputs, tmp_path / "here", own_process=False)
    apart = _run(stage_inputs, tmp_path / "apart", own_process=True)
    for name in schemas.tables():
        assert (tmp_path / "apart" / "tables" / f"{name}.parquet").read_bytes() == \
            (tmp_path / "here" / "tables" / f"{name}.parquet").read_bytes(), name
    assert (apart.rows, apart.paragraphs, apart.words) == (here.rows, here.paragraphs, here.words)
    assert apart.rows["paragraphs"] == here.paragraphs["total"] > 0 and apart.words > 0
    assert here.peak_rss_mb is None and apart.peak_rss_mb > 0  # the child's own peak
    assert set(apart.seconds) == set(here.seconds) == {"extract", "write tables"}


def test_only_a_large_corpus_gets_a_process_of_its_own():
    n = extract_process.OWN_PROCESS_MIN_PARAGRAPHS
    assert extract_process.in_own_process(n) and not extract_process.in_own_process(n - 1)


def test_the_process_has_ended_when_the_stage_is_done(stage_inputs, tmp_path):
    """Publishing starts once extract's process has ended, not beside its memory as it winds down."""
    import os

    inputs, scans = _written(stage_inputs, tmp_path)
    with extract_process.Extraction([scans]) as extraction:
        built = extraction.run(inputs, tmp_path / "tables")
        pid = extraction.child.submit(os.getpid).result()[0]
    assert built.rows["documents"] > 0 and pid != os.getpid()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone, and reaped


def test_once_resolved_runs_between_the_two_processes(stage_inputs, tmp_path):
    """The flow starts the database's process then (beside the entities' records it would add to the
    tree's peak): the first process has ended and written its tables, the second has not begun."""
    import os

    inputs, scans = _written(stage_inputs, tmp_path)
    seen = []
    with extract_process.Extraction([scans]) as extraction:
        first = extraction.child.submit(os.getpid).result()[0]

        def once_resolved():
            with pytest.raises(ProcessLookupError):
                os.kill(first, 0)  # gone, and reaped
            seen.append(sorted(p.stem for p in (tmp_path / "tables").glob("*.parquet")))

        extraction.run(inputs, tmp_path / "tables", once_resolved=once_resolved)
    assert seen == [["entities", "mentions", "paragraphs"]]
    here = []
    _run(stage_inputs, tmp_path / "here", own_process=False, once_resolved=lambda: here.append(
        sorted(p.stem for p in (tmp_path / "here" / "tables").glob("*.parquet"))))
    assert here == [["paragraphs"]]  # in the calling process the entities are written with the rest


def test_the_resolution_read_back_from_its_files_is_the_one_made(stage_inputs, tmp_path):
    """The second extract process takes the entities and mentions from the files the first wrote:
    the same frames, and the same lookups for the events stage as entity resolution gave."""
    from flows.common import parquet_tables
    from flows.extract import extract
    from flows.extract.entities import Resolution

    frames, found = stage_inputs
    resolved = extract.resolve_entities(extract.records_of(found, frames["paragraphs"]))
    made = resolved.resolution
    assert any(v["country"] is None for v in made.info.values()) and any(v["title"] for v in made.info.values())
    parquet_tables.write_tables({"entities": made.entities, "mentions": made.mentions}, tmp_path,
                                ["entities", "mentions"])
    back = Resolution.of_tables(*(parquet_tables.read_table(name, tmp_path / f"{name}.parquet")
                                  for name in ("entities", "mentions")))
    pd.testing.assert_frame_equal(back.entities, made.entities)
    pd.testing.assert_frame_equal(back.mentions, made.mentions)
    assert back.info == made.info
