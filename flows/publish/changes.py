"""The release diff: what changed between the previous release and a new build.

Rows are matched by each table's primary key (from ``schemas/``; a join in DuckDB over the two
versions' files): a key only in the new build is an added row, a key only in the previous release a
removed row, a key in both whose values differ (in the columns both versions have) a changed row. Schema changes compare the previous release's
``release.json`` signature (table -> column -> type, primary keys) with ``schemas/`` now.

The SemVer part to bump follows from the diff (:func:`bump`):

- major: a breaking schema change: a table or column removed, a column retyped, a primary key changed;
- minor: additions: a new table or column, or new rows;
- patch: corrections only: rows changed or removed, nothing added.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

import schemas
from flows.common import duck
from flows.common.parquet_tables import ParquetTables, row_count, to_arrow

MAX_KEYS_IN_MARKDOWN = 200


def _source(con, tables, name: str, alias: str) -> str:
    """SQL naming the new version of table ``name``: its Parquet file, or its frame typed by
    ``schemas/`` (registered with ``con`` as ``alias``)."""
    if isinstance(tables, ParquetTables):
        return f"read_parquet({duck.literal(tables.path(name))})"
    con.register(alias, to_arrow(name, tables[name]))
    return alias


def _key_exprs(pk: list[str]) -> str:
    """A primary key's cells as text (a null as ''): how rows of two versions are matched."""
    return ", ".join(f"coalesce(CAST({duck.ident(k)} AS VARCHAR), '') AS _k{i}" for i, k in enumerate(pk))


def _keys_of(rows: list[tuple]) -> list:
    return [r[0] if len(r) == 1 else list(r) for r in rows]


def _keys(con, query: str):
    """The keys a query selects: for a one-column key an Arrow array of strings (a first release lists
    every key of every table, held until ``changes.json`` is written: a Python string a key would take
    several times the memory), else a list of lists."""
    result = con.execute(query)
    if len(result.description) == 1:
        return result.fetch_arrow_table().column(0)
    return _keys_of(result.fetchall())


def _listed(keys) -> list:
    """The keys as a list (:func:`_keys` gives an Arrow array for one-column keys)."""
    if isinstance(keys, pa.ChunkedArray):
        return keys.to_pylist()
    if isinstance(keys, list):
        return keys
    raise TypeError(f"not a list of keys: {type(keys).__name__}")


def _all_keys(con, source: str, pk: list[str]):
    order = ", ".join(f"_k{i}" for i in range(len(pk)))
    return _keys(con, f"SELECT {_key_exprs(pk)} FROM {source} ORDER BY {order}")


def _table_diff(tables, name: str, old_path: Path, common: dict[str, str], pk: list[str]) -> dict:
    """Added, removed and changed rows of table ``name`` against the previous release's file, over
    the columns both have with the same type (``common``): a join on the primary key in DuckDB."""
    import pyarrow.parquet as pq

    out = {"rows_before": pq.ParquetFile(old_path).metadata.num_rows, "rows_after": row_count(tables, name),
           "added": [], "removed": [], "changed": []}
    if not all(k in common for k in pk):  # the key changed: rows cannot be matched
        return out
    con = duck.connect()
    try:
        new = _source(con, tables, name, "new_rows")
        old = f"read_parquet({duck.literal(old_path)})"
        keys = [f"_k{i}" for i in range(len(pk))]
        cols = [c for c in common if c not in pk]
        select = f"{_key_exprs(pk)}" + "".join(f", {duck.ident(c)} AS _c{j}" for j, c in enumerate(cols))
        con.execute(f"CREATE TEMP VIEW n AS SELECT {select} FROM {new}")
        con.execute(f"CREATE TEMP VIEW o AS SELECT {select} FROM {old}")
        order, using = ", ".join(keys), ", ".join(keys)
        out["added"] = _keys(con, f"SELECT {order} FROM n ANTI JOIN o USING ({using}) ORDER BY {order}")
        out["removed"] = _keys(con, f"SELECT {order} FROM o ANTI JOIN n USING ({using}) ORDER BY {order}")
        if cols:
            which = ", ".join(f"CASE WHEN n._c{j} IS DISTINCT FROM o._c{j} THEN {j} END" for j in range(len(cols)))
            rows = con.execute(
                f"SELECT {', '.join('n.' + k for k in keys)}, list_filter([{which}], x -> x IS NOT NULL) AS d "
                f"FROM n JOIN o USING ({using}) WHERE len(list_filter([{which}], x -> x IS NOT NULL)) > 0 "
                f"ORDER BY {', '.join('n.' + k for k in keys)}").fetchall()
            out["changed"] = [{"key": _keys_of([r[:-1]])[0], "columns": [cols[j] for j in r[-1]]} for r in rows]
    finally:
        con.close()
    return out


def _previous_schema(previous_dir: Path) -> tuple[dict, dict]:
    release = json.loads((previous_dir / "release.json").read_text(encoding="utf-8"))
    pks = release.get("primary_keys") or {name: list(t.primary_key) for name, t in schemas.tables().items()}
    return release["schema"], pks


def diff(previous_dir: Path | None, tables) -> dict:
    """The diff of ``tables`` (frames, or a :class:`flows.common.parquet_tables.ParquetTables`: their
    files, read a column at a time) against the release in ``previous_dir`` (None: the first
    release). Per table, the keys ``added`` and ``removed``: an Arrow array of strings for a one-column
    key, else a list of lists."""
    new_schema = {name: {f.name: f.type for f in t.fields} for name, t in schemas.tables().items()}
    new_pks = {name: list(t.primary_key) for name, t in schemas.tables().items()}
    if previous_dir is None:
        old_schema, old_pks = {}, {}
        previous_version = None
    else:
        previous_dir = Path(previous_dir)
        old_schema, old_pks = _previous_schema(previous_dir)
        previous_version = previous_dir.name
    schema_changes = {
        "tables_added": sorted(set(new_schema) - set(old_schema)) if previous_dir else [],
        "tables_removed": sorted(set(old_schema) - set(new_schema)),
        "columns_added": {}, "columns_removed": {}, "columns_retyped": {}, "primary_key_changed": [],
    }
    out_tables = {}
    for name, types in new_schema.items():
        pk = new_pks[name]
        if name not in old_schema:  # every row is added: only the keys are read
            con = duck.connect()
            try:
                keys = _all_keys(con, _source(con, tables, name, "new_rows"), pk)
            finally:
                con.close()
            out_tables[name] = {"rows_before": 0, "rows_after": row_count(tables, name), "added": keys,
                                "removed": [], "changed": []}
            continue
        old_types = old_schema[name]
        added_cols = [c for c in types if c not in old_types]
        removed_cols = [c for c in old_types if c not in types]
        retyped = [{"column": c, "from": old_types[c], "to": types[c]}
                   for c in types if c in old_types and old_types[c] != types[c]]
        if added_cols:
            schema_changes["columns_added"][name] = added_cols
        if removed_cols:
            schema_changes["columns_removed"][name] = removed_cols
        if retyped:
            schema_changes["columns_retyped"][name] = retyped
        if list(old_pks.get(name, pk)) != pk:
            schema_changes["primary_key_changed"].append(name)
        common = {c: t for c, t in types.items() if c in old_types and old_types[c] == t}
        out_tables[name] = _table_diff(tables, name, previous_dir / f"{name}.parquet", common, pk)
    for name in schema_changes["tables_removed"]:
        out_tables[name] = {"rows_before": None, "rows_after": 0, "added": [], "removed": [], "changed": [],
                            "table_removed": True}
    return {"previous_version": previous_version, "schema": schema_changes, "tables": out_tables}


def bump(d: dict) -> str:
    """major, minor or patch: which SemVer part this diff calls for."""
    if d["previous_version"] is None:
        return "major"
    s = d["schema"]
    if s["tables_removed"] or s["columns_removed"] or s["columns_retyped"] or s["primary_key_changed"]:
        return "major"
    if s["tables_added"] or s["columns_added"] or any(t["added"] for t in d["tables"].values()):
        return "minor"
    return "patch"


def summary(d: dict) -> dict:
    """Counts per table (for release.json and the catalog)."""
    return {
        "previous_version": d["previous_version"],
        "schema_changed": any(bool(v) for v in d["schema"].values()),
        "tables": {name: {"added": len(t["added"]), "removed": len(t["removed"]), "changed": len(t["changed"])}
                   for name, t in d["tables"].items()},
    }


def write(folder: Path, d: dict, version: str) -> dict:
    """Write the diff ``d`` into a release's ``folder``: ``changes.json`` (in full) and ``CHANGES.md``;
    returns its :func:`summary`."""
    with (folder / "changes.json").open("w", encoding="utf-8") as fh:  # streamed, a table's keys made a
        json.dump(d, fh, indent=1, default=_listed)  # list at a time: a first release lists every key
    (folder / "CHANGES.md").write_text(markdown(d, version), encoding="utf-8")
    return summary(d)


def _md(text) -> str:
    """Text for a Markdown line: HTML-escaped, Markdown punctuation backslash-escaped."""
    from flows.publish.dictionary import md_escape

    return md_escape(text)


def markdown(d: dict, version: str) -> str:
    prev = d["previous_version"]
    lines = [f"# Changes in {version}", ""]
    if prev is None:
        lines += ["First release: every row is new.", ""]
    else:
        lines += [f"Compared with release {prev}. Rows are matched by primary key; the complete lists are "
                  "in `changes.json`.", ""]
    lines += ["| table | rows before | rows after | added | removed | changed |", "|---|---:|---:|---:|---:|---:|"]
    for name, t in d["tables"].items():
        before = "" if t["rows_before"] is None else t["rows_before"]
        lines.append(f"| {_md(name)} | {before} | {t['rows_after']} | {len(t['added'])} | {len(t['removed'])} | "
                     f"{len(t['changed'])} |")
    s = d["schema"]
    lines += ["", "## Schema changes", ""]
    schema_lines = []
    for name in s["tables_added"]:
        schema_lines.append(f"- table added: {_md(name)}")
    for name in s["tables_removed"]:
        schema_lines.append(f"- table removed: {_md(name)} (breaking)")
    for name, cols in s["columns_added"].items():
        schema_lines.append(f"- {_md(name)}: columns added: {', '.join(map(_md, cols))}")
    for name, cols in s["columns_removed"].items():
        schema_lines.append(f"- {_md(name)}: columns removed: {', '.join(map(_md, cols))} (breaking)")
    for name, cols in s["columns_retyped"].items():
        for c in cols:
            schema_lines.append(f"- {_md(name)}.{_md(c['column'])}: type {c['from']} -> {c['to']} (breaking)")
    for name in s["primary_key_changed"]:
        schema_lines.append(f"- {_md(name)}: primary key changed (breaking)")
    lines += schema_lines or ["None."]
    if prev is not None:
        for name, t in d["tables"].items():
            if not (t["added"] or t["removed"] or t["changed"]):
                continue
            lines += ["", f"## {_md(name)}", ""]
            for label, items in (("added", t["added"]), ("removed", t["removed"]),
                                 ("changed", [c["key"] for c in t["changed"]])):
                if not items:
                    continue
                shown = _listed(items[:MAX_KEYS_IN_MARKDOWN])
                lines.append(f"- {label} ({len(items)}): " + ", ".join(_md(k) for k in shown)
                             + (f" … and {len(items) - len(shown)} more" if len(items) > len(shown) else ""))
            if t["changed"]:
                cols: dict[str, int] = {}
                for c in t["changed"]:
                    for col in c["columns"]:
                        cols[col] = cols.get(col, 0) + 1
                lines.append("- changed columns: " + ", ".join(f"{_md(c)} ({n})" for c, n in cols.items()))
    return "\n".join(lines) + "\n"
