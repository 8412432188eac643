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


def stable_ids(prefix: str, values) -> "pa.Array":
    """``flows.common.text.stable_id(prefix, value)`` of each of ``values`` (strings without nulls: an
    Arrow array or a sequence), in order, hashed by DuckDB's ``sha256`` (a Python call a value costs
    seconds at a million values)."""
    import pyarrow as pa

    from flows.common.text import STABLE_ID_LENGTH

    con = connect()
    try:
        con.register("v", pa.table({"value": pa.array(values, pa.large_string())}))
        out = con.execute(f"SELECT {literal(prefix)} || left(sha256(value), {STABLE_ID_LENGTH}) AS id FROM v")
        return out.fetch_arrow_table().column("id").combine_chunks()
    finally:
        con.close()
