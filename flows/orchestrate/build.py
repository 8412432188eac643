"""The whole stage chain as plain functions: raw folder -> every table of the dataset.

``build(raw_dir)`` runs ingest, clean, the extract stage's per-paragraph scan (on the cleaned
paragraphs, as the flow does per batch), the outlets' template lines (over the whole corpus, as the
flow does once the batches are gathered), the post-clean rejection of documents without content, dedup
and extract, and returns ``(sources, tables, inventory)``: the decoded documents (with their raw text),
a dict with every table of ``schemas/``, and the raw inventory (every input and what became of it);
``build_tables(raw_dir)`` returns the last two; ``post_clean`` is the step between cleaning and
dedup, which the flow's accounting task runs too. ``flows/pipeline.py`` runs the same stages as
Prefect tasks; this function is for tests, benchmarks and library use without orchestration.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from flows.clean import clean
from flows.dedup import dedup
from flows.extract import extract
from flows.extract.scans import scan_paragraphs
from flows.ingest import ingest


def build(raw_dir: Path) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame]:
    raw_dir = Path(raw_dir)
    sources, rejections = ingest.ingest(raw_dir)
    paragraphs, info = clean.clean(sources, templates=None)
    scans = scan_paragraphs(paragraphs)
    sources, paragraphs, info, rejections, _ = post_clean(sources, paragraphs, info, rejections)
    ingest.check_accounting(raw_dir, sources, rejections)
    inventory = ingest.raw_inventory(sources, rejections, raw_dir)
    paragraphs = dedup.dedup(paragraphs)
    return sources, extract.build_tables(sources, paragraphs, info, rejections, scans), inventory


def post_clean(sources: pd.DataFrame, paragraphs: pd.DataFrame, info: pd.DataFrame, rejections: pd.DataFrame):
    """What runs over the whole corpus between cleaning and dedup: the outlets' template lines become
    boilerplate, then documents left without a content paragraph go to rejections. Returns
    ``(sources, paragraphs, info, rejections, template lines found)``."""
    paragraphs = clean.mark_templates(paragraphs, sources, info)
    templates = int((paragraphs["reason"] == "template").sum())
    return (*ingest.reject_all_boilerplate(sources, paragraphs, info, rejections), templates)


def build_tables(raw_dir: Path) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    _, tables, inventory = build(raw_dir)
    return tables, inventory
