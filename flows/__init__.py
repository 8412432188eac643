"""The pipeline that turns raw news articles into the published, validated, versioned dataset.

One module per stage, each a set of plain functions that take and return tables:
ingest -> clean -> dedup -> extract -> validate -> publish. ``pipeline`` wraps them in Prefect
tasks and the ``build-dataset`` flow; ``cli`` is ``python -m flows``.
"""

__version__ = "0.1.0"
