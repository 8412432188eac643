"""The release diff: what changed between the previous release and a new build.

Rows are matched by each table's primary key (from ``schemas/``): a key only in the new build is an
added row, a key only in the previous release a removed row, a key in both whose values differ (in the
columns both versions have) a changed row. Schema changes compare the previous release's
``release.json`` signature (table -> column -> type, primary keys) with ``schemas/`` now.

The SemVer part to bump follows from the diff (:func:`bump`):

- major: a breaking schema change: a table or column removed, a column retyped, a primary key changed;
- minor: additions: a new table or column, or new rows;
- patch: corrections only: rows changed or removed, nothing added.
"""

from __future__ import annotations

import json
import operator
from pathlib import Path

import pandas as pd

import schemas
from flows.common.parquet_tables import read_columns, row_count

MAX_KEYS_IN_MARKDOWN = 200


def _cell(value, typ: str):
    """A value in a form that compares equal between a pandas build and a Parquet read-back."""
    if typ == "list":
        if value is None or (not hasattr(value, "__len__") and pd.isna(value)):
            return ()
        return tuple(str(v) for v in value)
    if value is None or pd.isna(value):
        return None
    if typ == "date":
        return str(value)[:10]
    if typ == "integer":
        return int(value)
    if typ == "number":
        return float(value)
    if typ == "boolean":
        return bool(value)
    return str(value)


_NORMALISED = {"string": str, "integer": int, "number": float, "boolean": bool}  # a cell already in _cell's form


def column_cells(col: pd.Series, typ: str) -> list:
    """``[_cell(v, typ) for v in col]``, without the call for the cells already in that form (a
    string of a string column, an int of an integer column, a float that is not NaN, a bool)."""
    values = col.tolist()
    done = _NORMALISED.get(typ)
    if done is None:
        return [_cell(v, typ) for v in values]
    return [v if type(v) is done and v == v else _cell(v, typ) for v in values]


def _key(values: tuple) -> str | list:
    return values[0] if len(values) == 1 else list(values)


def _keys(keys: list[tuple]) -> list:
    """``[_key(k) for k in keys]``."""
    return [k for (k,) in keys] if keys and len(keys[0]) == 1 else [_key(k) for k in keys]


def _sorted(keys) -> list[tuple]:
    """``sorted(keys)`` (tuples of strings), ordering one-column keys by their string (the same
    order, without comparing millions of tuples)."""
    keys = list(keys)
    if keys and len(keys[0]) == 1:
        return sorted(keys, key=operator.itemgetter(0))
    return sorted(keys)


def _key_rows(df: pd.DataFrame, types: dict[str, str], pk: list[str]) -> dict[tuple, int]:
    """Primary key (its cells as strings, a null as "") -> the row's position in ``df``."""
    key_cols = [["" if v is None else str(v) for v in column_cells(df[k], types[k])] for k in pk]
    return dict(zip(zip(*key_cols), range(len(df))))


DIFF_PART_ROWS = 100_000  # matched rows whose cells are compared at a time, one column at a time


def _differing(new: pd.Series, old: pd.Series, new_pos, old_pos, typ: str):
    """Boolean array: whether the cell at ``new_pos[i]`` of ``new`` differs from the one at
    ``old_pos[i]`` of ``old`` (compared as :func:`_cell` normalises them), a part at a time.
    Text columns held as Arrow strings on both sides are compared by Arrow (a null equals a null)."""
    import numpy as np

    out = np.zeros(len(new_pos), dtype=bool)
    arrow = typ == "string" and all(isinstance(c.dtype, pd.StringDtype) for c in (new, old))
    for start in range(0, len(new_pos), DIFF_PART_ROWS):
        a, b = new.iloc[new_pos[start:start + DIFF_PART_ROWS]], old.iloc[old_pos[start:start + DIFF_PART_ROWS]]
        if arrow:
            out[start:start + len(a)] = _arrow_differ(a, b)
        else:
            out[start:start + len(a)] = [x != y for x, y in zip(column_cells(a, typ), column_cells(b, typ))]
    return out


def _arrow_differ(a: pd.Series, b: pd.Series):
    import pyarrow as pa
    import pyarrow.compute as pc

    x, y = pa.array(a), pa.array(b)
    same = pc.or_kleene(pc.equal(x, y), pc.and_(pc.is_null(x), pc.is_null(y)))
    return pc.invert(pc.fill_null(same, False)).to_numpy(zero_copy_only=False)


def _table_diff(tables, name: str, old_path: Path, common: dict[str, str], pk: list[str]) -> dict:
    """Added, removed and changed rows of table ``name`` against the previous release's file, over
    the columns both have with the same type (``common``). Memory: the keys of both versions, and
    one column of each at a time (a table's rows are never all held as Python objects)."""
    import numpy as np
    import pyarrow.parquet as pq

    out = {"rows_before": pq.ParquetFile(old_path).metadata.num_rows, "rows_after": row_count(tables, name),
           "added": [], "removed": [], "changed": []}
    if not all(k in common for k in pk):  # the key changed: rows cannot be matched
        return out
    old_at = _key_rows(pd.read_parquet(old_path, columns=pk), common, pk)
    new_at = _key_rows(read_columns(tables, name, pk), common, pk)
    both = _sorted(k for k in new_at if k in old_at)
    out["added"] = _keys(_sorted(k for k in new_at if k not in old_at))
    out["removed"] = _keys(_sorted(k for k in old_at if k not in new_at))
    new_pos = np.fromiter((new_at[k] for k in both), dtype=np.int64, count=len(both))
    old_pos = np.fromiter((old_at[k] for k in both), dtype=np.int64, count=len(both))
    del new_at, old_at
    differs = {}
    for c, typ in common.items():
        d = _differing(read_columns(tables, name, [c])[c], pd.read_parquet(old_path, columns=[c])[c],
                       new_pos, old_pos, typ)
        if d.any():
            differs[c] = d
    if differs:
        for i in np.flatnonzero(np.logical_or.reduce(list(differs.values()))):
            out["changed"].append({"key": _key(both[i]), "columns": [c for c, d in differs.items() if d[i]]})
    return out


def _previous_schema(previous_dir: Path) -> tuple[dict, dict]:
    release = json.loads((previous_dir / "release.json").read_text(encoding="utf-8"))
    pks = release.get("primary_keys") or {name: list(t.primary_key) for name, t in schemas.tables().items()}
    return release["schema"], pks


def diff(previous_dir: Path | None, tables) -> dict:
    """The diff of ``tables`` (frames, or a :class:`flows.common.parquet_tables.ParquetTables`: their
    files, read a column at a time) against the release in ``previous_dir`` (None: the first
    release)."""
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
            keys = _sorted(_key_rows(read_columns(tables, name, pk), {k: types[k] for k in pk}, pk))
            out_tables[name] = {"rows_before": 0, "rows_after": row_count(tables, name), "added": _keys(keys),
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
                shown = items[:MAX_KEYS_IN_MARKDOWN]
                lines.append(f"- {label} ({len(items)}): " + ", ".join(_md(k) for k in shown)
                             + (f" … and {len(items) - len(shown)} more" if len(items) > len(shown) else ""))
            if t["changed"]:
                cols: dict[str, int] = {}
                for c in t["changed"]:
                    for col in c["columns"]:
                        cols[col] = cols.get(col, 0) + 1
                lines.append("- changed columns: " + ", ".join(f"{_md(c)} ({n})" for c, n in cols.items()))
    return "\n".join(lines) + "\n"
