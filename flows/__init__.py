"""The pipeline that turns raw news articles into the published, validated, versioned dataset.

Packages by stage, each a set of plain functions that take and return tables: ingest -> clean ->
dedup -> extract -> views -> validate -> publish. ``pipeline`` wraps them in Prefect tasks and the
``build-dataset`` flow; ``cli`` is ``python -m flows``.

Reading a release: ``flows.load("who_took_part")`` (a table of output/latest as a DataFrame;
``release=`` a version, ``source=`` another output folder or a server's URL) and ``flows.sql("SELECT
...")`` (DuckDB over every table of the release).
"""

__version__ = "0.1.0"


def load(table: str, release: str = "latest", source=None):
    """A table of a published release as a pandas DataFrame (see :mod:`flows.publish.access`)."""
    from flows.publish.access import load as _load

    return _load(table, release, source)


def sql(query: str, release: str = "latest", source=None):
    """A DuckDB query over a published release's tables, as a DataFrame (see :mod:`flows.publish.access`)."""
    from flows.publish.access import sql as _sql

    return _sql(query, release, source)
