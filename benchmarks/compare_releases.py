"""Do two releases hold the same tables? Row for row, id for id.

    python -m benchmarks.compare_releases RELEASE_A RELEASE_B [--rows 5]

For every table of ``schemas/`` that either release has as Parquet, DuckDB counts the rows of each
release, the rows only in A (``A EXCEPT ALL B``) and only in B, and prints a few of them by primary
key; a table's columns must also be the same, in the same order and types. When both releases hold
the SQLite database, its schema and every table's rows (in rowid order) must be the same too. Exit 0
when everything is identical, 1 otherwise. A refactoring that must not change the data is checked
by building the same raw folder before and after it and comparing the two releases.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def table_names() -> list[str]:
    import schemas

    return list(schemas.tables())


def compare_table(con, a: Path, b: Path, name: str, show: int) -> list[str]:
    """Differences of one table between the Parquet files ``a`` and ``b`` (empty: identical)."""
    import pyarrow.parquet as pq

    if not a.exists() or not b.exists():
        return [f"{name}: only in {'B' if b.exists() else 'A'}"] if a.exists() != b.exists() else []
    sa, sb = pq.read_schema(a), pq.read_schema(b)
    cols_a = [(f.name, str(f.type)) for f in sa]
    cols_b = [(f.name, str(f.type)) for f in sb]
    if cols_a != cols_b:
        return [f"{name}: columns differ: A {cols_a} / B {cols_b}"]
    out = []
    n_a = con.execute("SELECT count(*) FROM read_parquet(?)", [str(a)]).fetchone()[0]
    n_b = con.execute("SELECT count(*) FROM read_parquet(?)", [str(b)]).fetchone()[0]
    if n_a != n_b:
        out.append(f"{name}: {n_a} rows in A, {n_b} in B")
    key = _primary_key(name) or [cols_a[0][0]]
    for label, x, y in (("only in A", a, b), ("only in B", b, a)):
        rows = con.execute("SELECT * FROM (SELECT * FROM read_parquet(?) EXCEPT ALL SELECT * FROM read_parquet(?))",
                           [str(x), str(y)]).fetch_df()
        if len(rows):
            keys = rows[key].astype(str).agg("|".join, axis=1).tolist()
            out.append(f"{name}: {len(rows)} rows {label}, e.g. {keys[:show]}")
    return out


def _primary_key(name: str) -> list[str]:
    import schemas

    return list(schemas.table(name).primary_key or [])


def database_digests(path: Path) -> dict[str, str]:
    """sha256 of the database's schema (``sqlite_master``) and of each table's rows in rowid order
    (key order for a table without rowid; full-text search tables included)."""
    import hashlib
    import sqlite3

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        master = con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        out = {"(schema)": hashlib.sha256(repr(master).encode()).hexdigest()}
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall():
            h = hashlib.sha256()
            try:
                rows = con.execute(f"SELECT * FROM [{name}] ORDER BY rowid")
            except sqlite3.OperationalError:  # a WITHOUT ROWID table (full-text search's): key order
                rows = con.execute(f"SELECT * FROM [{name}]")
            for row in rows:
                h.update(repr(row).encode())
            out[name] = h.hexdigest()
        return out
    finally:
        con.close()


def compare_databases(a: Path, b: Path) -> list[str]:
    """Differences of the SQLite databases ``a`` and ``b``, by table (empty: identical or not both there)."""
    if not (a.exists() and b.exists()):
        return []
    da, db = database_digests(a), database_digests(b)
    return [f"database: {name} differs" for name in sorted(set(da) | set(db)) if da.get(name) != db.get(name)]


def compare(a: Path, b: Path, show: int = 5) -> list[str]:
    import duckdb

    from flows.publish.sqlite_db import DATABASE_FILE

    con = duckdb.connect()
    diffs = []
    for name in table_names():
        diffs += compare_table(con, a / f"{name}.parquet", b / f"{name}.parquet", name, show)
    return diffs + compare_databases(a / DATABASE_FILE, b / DATABASE_FILE)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", type=Path, help="a release folder (e.g. output/latest)")
    ap.add_argument("b", type=Path, help="another release folder")
    ap.add_argument("--rows", type=int, default=5, help="keys to show per difference")
    args = ap.parse_args(argv)
    diffs = compare(args.a, args.b, args.rows)
    for d in diffs:
        print(d)
    print("identical" if not diffs else f"{len(diffs)} difference(s)")
    return 0 if not diffs else 1


if __name__ == "__main__":
    sys.exit(main())
