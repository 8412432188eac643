"""DuckDB connections for the build's relational work: one memory limit, spilling to disk beyond it."""

from __future__ import annotations

from pathlib import Path

MEMORY_LIMIT = "1GB"  # beyond this DuckDB spills to its temporary folder


def literal(value) -> str:
    """``value`` (a path, a string) as an SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def connect(spill_dir: Path | None = None):
    """A DuckDB connection with :data:`MEMORY_LIMIT`; ``spill_dir``: where it spills (made if
    missing; default DuckDB's own)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    if spill_dir is not None:
        Path(spill_dir).mkdir(parents=True, exist_ok=True)
        con.execute("SET temp_directory = ?", [str(spill_dir)])
    return con
