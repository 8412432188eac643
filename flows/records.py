"""The record tables of issue #4 read from the paragraphs: ``quotes``, ``facts`` and ``statements``.

Each extractor is a pure function over DataFrames in its own module (``flows/quotes.py``,
``flows/facts.py``, ``flows/statements.py``); this is the one call the extract stage makes.
"""

from __future__ import annotations

import pandas as pd

from flows.facts import extract_facts
from flows.quotes import extract_quotes
from flows.statements import extract_statements


def build_paragraph_records(paragraphs: pd.DataFrame, documents: pd.DataFrame,
                  entities: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """``{"quotes": ..., "facts": ..., "statements": ...}`` for the content paragraphs."""
    return {
        "quotes": extract_quotes(paragraphs, documents, entities),
        "facts": extract_facts(paragraphs, documents),
        "statements": extract_statements(paragraphs, documents),
    }
