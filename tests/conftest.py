from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flows.orchestrate import settings

settings.configure()

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"
SEED_001 = "001_01cf0880b8e3c544.txt"
SEED_002 = "002_c7a34f3ac6bed77e.txt"
SEED_004 = "004_028994505a0f2183.txt"


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect API + database for the whole session (starting one costs ~15 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def seed_tables():
    """The seeds through every stage but validation (``flows.orchestrate.build``: plain functions, no Prefect):
    every table of schemas/, plus ``sources`` (the decoded documents with their raw text)."""
    from flows.orchestrate.build import build

    sources, tables, _ = build(RAW)
    return {"sources": sources, **tables}


@pytest.fixture
def raw_copy(tmp_path) -> Path:
    dest = tmp_path / "raw"
    shutil.copytree(RAW, dest)
    return dest


def assert_release_holds(release_dir: Path, tables: dict) -> None:
    """Every table of ``release_dir`` (its Parquet files) holds the rows of the frame ``tables[name]``
    with the schema's types; the release writes a table's rows in the order of its key, so both are
    compared in that order."""
    import pandas as pd

    import schemas
    from flows.common.parquet_tables import ParquetTables

    published = ParquetTables(release_dir)

    def by_key(table, df):
        return df.sort_values(list(schemas.table(table).primary_key)).reset_index(drop=True)

    for table in schemas.tables():
        pd.testing.assert_frame_equal(by_key(table, published[table]), by_key(table, schemas.conform(table, tables[table])),
                                      obj=table)


def doc_paragraphs(tables, source_file):
    docs = tables["documents"]
    doc_id = docs.loc[docs["source_file"] == source_file, "doc_id"].item()
    p = tables["paragraphs"]
    return p[p["doc_id"] == doc_id].sort_values("position")


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (system packages); skips with the reason when they are not installed."""
    from browser import chromium, find_browser

    if find_browser() is None:
        pytest.skip("Chromium and chromedriver are not installed: apt-get install chromium chromium-driver "
                    "(.ci/run does this)")
    with chromium() as driver:
        yield driver
