"""The one definition of every published table.

Each table is a YAML file in ``schemas/tables/``: its columns (name, type, description, constraints,
example), primary key, foreign keys and hand-written checks. Everything else is derived from it:

- :func:`arrow_schema`      -> the Parquet writer's schema (with descriptions as field metadata)
- :func:`csv_header`        -> the CSV header
- :func:`table_schema`      -> the Frictionless Table Schema in ``datapackage.json``
- :func:`conform`           -> pandas dtypes and column order of a table before it is written
- ``flows/validate/gx_suites.py``    -> the Great Expectations suites committed in ``expectations/``
- ``flows/publish/dictionary.py``   -> the data dictionary shipped with each release

Column types: string, integer, number, boolean, date (ISO ``YYYY-MM-DD``), list (list of strings,
"|"-joined in CSV).

Validation is declared here too (details and examples in ``schemas/README.md``):

- per column: ``required``, ``unique``, ``enum``, ``minimum``/``maximum``, ``pattern``; per table:
  ``primary_key`` and ``foreign_keys`` (checked across tables);
- ``checks:`` in a table's YAML: any GX expectation (built-in or from ``flows/validate/gx_expectations.py``)
  with its ``kwargs``, a ``reason`` and ``blocking: false`` for a warning;
- ``schemas/views/<view>.yaml``: a *view*, i.e. a table joined with columns of other tables (a
  mention with the text of its paragraph), validated by its own suite in the same run and report,
  for checks that need another table's data (:func:`views`, :func:`build_view`).

``TABLES_DIR`` and ``VIEWS_DIR`` are read at call time (tests point them at a test-only folder).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TABLES_DIR = Path(__file__).with_name("tables")
VIEWS_DIR = Path(__file__).with_name("views")
LIST_SEPARATOR = "|"
# libyaml's parser when PyYAML has it (its wheels do): every process reads schemas/ and lexicons/ at start
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

TYPES = ("string", "integer", "number", "boolean", "date", "list")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    description: str
    required: bool = False
    unique: bool = False
    enum: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    example: Any = None
    produced_by: str | None = None  # the function that fills this column, when not the table's


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[dict, ...] = ()
    checks: tuple[dict, ...] = ()
    order: int = 100
    sort_by: tuple[str, ...] = ()
    produced_by: str = ""  # the function that makes the table ("module.function")
    view: bool = False  # a view for people: joined from the other tables, adds no fact of its own

    @property
    def row_order(self) -> list[str]:
        """Columns the published files are sorted by (``sort_by``, else the primary key)."""
        return list(self.sort_by or self.primary_key)

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no column {name!r}")


def read_yaml(path: Path):
    """The parsed YAML file at ``path`` (safe: plain data only): how schemas/ and lexicons/ are read."""
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=YAML_LOADER)


def _load(path: Path) -> Table:
    raw = read_yaml(path)
    fields = []
    for spec in raw["fields"]:
        if spec["type"] not in TYPES:
            raise ValueError(f"{path.name}: column {spec['name']} has unknown type {spec['type']!r}")
        enum = spec.get("enum")
        fields.append(
            Field(
                name=spec["name"],
                type=spec["type"],
                description=" ".join(str(spec["description"]).split()),
                required=bool(spec.get("required", False)),
                unique=bool(spec.get("unique", False)),
                enum=tuple(enum) if enum else None,
                minimum=spec.get("minimum"),
                maximum=spec.get("maximum"),
                pattern=spec.get("pattern"),
                example=spec.get("example"),
                produced_by=spec.get("produced_by"),
            )
        )
    table = Table(
        name=raw["name"],
        title=raw.get("title", raw["name"]),
        description=" ".join(str(raw["description"]).split()),
        fields=tuple(fields),
        primary_key=tuple(raw["primary_key"]),
        foreign_keys=tuple(raw.get("foreign_keys", ())),
        checks=tuple(raw.get("checks", ())),
        order=int(raw.get("order", 100)),
        sort_by=tuple(raw.get("sort_by", ())),
        produced_by=str(raw.get("produced_by") or ""),
        view=bool(raw.get("view", False)),
    )
    if path.stem != table.name:
        raise ValueError(f"{path.name} defines table {table.name!r}; the file must be named after it")
    missing = [c for c in table.primary_key if c not in table.columns]
    if missing:
        raise ValueError(f"{table.name}: primary key columns {missing} are not defined")
    return table


def tables() -> dict[str, Table]:
    """All tables, in publishing order (``order`` then name)."""
    return _tables_in(Path(TABLES_DIR))


@functools.cache
def _tables_in(folder: Path) -> dict[str, Table]:
    loaded = [_load(p) for p in sorted(folder.glob("*.yaml"))]
    return {t.name: t for t in sorted(loaded, key=lambda t: (t.order, t.name))}


def table(name: str) -> Table:
    try:
        return tables()[name]
    except KeyError:
        raise KeyError(f"no table {name!r} in schemas/tables/") from None


@functools.cache
def row_type(name: str):
    """A namedtuple of the table's columns, in schema order: a stage builds its rows by column name
    and holds them as plain tuples (a dict a row would cost several times the memory)."""
    import collections

    return collections.namedtuple(f"{name.title().replace('_', '')}Row", table(name).columns)


def frame_of_rows(name: str, rows: list):
    """The table ``name`` (:func:`conform`-ed) of ``rows``, tuples in the table's column order (see
    :func:`row_type`); the list is emptied. The rows are turned into columns, and each column into its
    dtype one at a time, so the Python objects of a column go as soon as it is converted, instead of
    every row living beside the whole frame."""
    import pandas as pd

    if not rows:
        return empty_frame(name)
    columns = table(name).columns
    values = list(zip(*rows))
    rows.clear()
    out = {}
    for k, c in enumerate(columns):
        out[c] = conform(name, pd.DataFrame({c: values[k]}), columns=[c])[c]
        values[k] = None
    return pd.DataFrame(out, copy=False)  # (each column is already in its dtype, in the table's order)


# --- views (derived frames that exist only to be validated) ---------------------------------------

@dataclass(frozen=True)
class Join:
    table: str
    on: tuple[tuple[str, str], ...]       # (column of the view so far, column of the joined table)
    columns: tuple[tuple[str, str], ...]  # (column of the joined table, its name in the view)


@dataclass(frozen=True)
class View:
    """A table (``base``) with columns of other tables joined on: one row per base row, keyed by the
    base table's primary key. Not published; validated by its own suite (``checks``)."""

    name: str
    description: str
    base: str
    joins: tuple[Join, ...]
    checks: tuple[dict, ...]

    @property
    def primary_key(self) -> tuple[str, ...]:
        return table(self.base).primary_key

    @property
    def base_columns(self) -> list[str]:
        """The base table's columns the view carries: its primary key and the columns its checks
        read (all of them if a check has a row condition). The base table's own suite checks the
        rest; carried along, they made each view a copy of its base table (1.4 M paragraphs with
        their text), which GX copies again as it filters rows."""
        base = table(self.base)
        used = set(base.primary_key)
        for check in self.checks:
            kwargs = check.get("kwargs") or {}
            if kwargs.get("row_condition"):
                return list(base.columns)
            used.update(kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k))
            used.update(kwargs.get("column_list") or ())
        return [c for c in base.columns if c in used]

    @property
    def columns(self) -> list[str]:
        return self.base_columns + [new for j in self.joins for _, new in j.columns]

    @property
    def tables(self) -> list[str]:
        """Every table the view reads."""
        return [self.base, *(j.table for j in self.joins)]


def _load_view(path: Path, known: dict[str, Table]) -> View:
    raw = read_yaml(path)
    joins = []
    for j in raw.get("join", ()):
        # "keys", not "on": YAML 1.1 reads a bare `on` as the boolean true
        on = j["keys"] if isinstance(j["keys"], dict) else {c: c for c in j["keys"]}
        cols = j["columns"] if isinstance(j["columns"], dict) else {c: c for c in j["columns"]}
        joins.append(Join(table=j["table"], on=tuple(on.items()), columns=tuple(cols.items())))
    view = View(name=raw["name"], description=" ".join(str(raw["description"]).split()), base=raw["base"],
                joins=tuple(joins), checks=tuple(raw.get("checks", ())))
    if path.stem != view.name:
        raise ValueError(f"{path.name} defines view {view.name!r}; the file must be named after it")
    if view.name in known:
        raise ValueError(f"view {view.name!r} has the name of a table")
    if not view.checks:
        raise ValueError(f"view {view.name!r} declares no checks")
    have = set(known[view.base].columns) if view.base in known else None
    if have is None:
        raise ValueError(f"view {view.name!r}: base table {view.base!r} is not defined")
    for j in view.joins:
        if j.table not in known:
            raise ValueError(f"view {view.name!r}: joined table {j.table!r} is not defined")
        bad = [c for c, _ in j.on if c not in have] + [c for _, c in j.on if c not in known[j.table].columns]
        bad += [c for c, _ in j.columns if c not in known[j.table].columns]
        if bad:
            raise ValueError(f"view {view.name!r}: unknown columns {bad} in the join with {j.table}")
        clash = [new for _, new in j.columns if new in have]
        if clash:
            raise ValueError(f"view {view.name!r}: joined column names {clash} already exist; rename them")
        have |= {new for _, new in j.columns}
    return view


def views() -> dict[str, View]:
    """All views declared in ``schemas/views/`` (by name)."""
    return _views_in(Path(VIEWS_DIR), Path(TABLES_DIR))


@functools.cache
def _views_in(folder: Path, tables_folder: Path) -> dict[str, View]:
    known = _tables_in(tables_folder)
    loaded = [_load_view(p, known) for p in sorted(folder.glob("*.yaml"))]
    return {v.name: v for v in loaded}


def build_view(view: View, frames: dict):
    """The view's frame from the tables' frames: the base table's columns the view carries
    (:attr:`View.base_columns`) left-joined with each join's columns.

    Each joined table contributes at most one row per base row (its first row per join key), so the
    view has exactly the base table's rows, in order; unmatched rows get nulls. A join on one key
    looks each base row's key up among the other table's (:func:`first_rows`) and takes the joined
    columns' values by position: no merge, which would copy the joined columns (the paragraphs' text
    for every mention) into a frame of its own first.
    """
    base = frames[view.base].reset_index(drop=True)
    out = base[view.base_columns].copy(deep=False)  # copy on write: the base table is never changed
    for j in view.joins:
        other = frames[j.table]
        left = [a for a, _ in j.on]
        right = [b for _, b in j.on]
        rows = first_rows(base[left[0]], other[right[0]]) if len(j.on) == 1 else None
        if rows is not None:
            for c, new in j.columns:
                out[new] = other[c].array.take(rows, allow_fill=True)
            continue
        picked = other[right + [c for c, _ in j.columns]].drop_duplicates(subset=right, keep="first")
        picked = picked.rename(columns=dict(j.columns))
        picked = picked.rename(columns={b: f"__on__{a}" for a, b in j.on})
        merged = base[left].merge(picked, how="left", left_on=left, right_on=[f"__on__{a}" for a in left],
                                  sort=False)
        for _, new in j.columns:
            out[new] = merged[new].array  # keeps the dtype (Int64, str, ...)
    return out


def first_rows(keys, among):
    """For each value of ``keys`` (a Series), the position of its first occurrence in ``among`` (a
    Series), -1 where it has none; a null key finds the first null, as a merge matches them. None
    when the two columns' values are not of one Arrow type (the caller merges instead)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    def arrow(col):
        values = pa.array(col.array, from_pandas=True)
        return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values

    try:
        k, a = arrow(keys), arrow(among)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None
    if k.type != a.type:
        return None
    found = pc.index_in(k, value_set=a, skip_nulls=False)
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp, copy=False)


# --- Parquet --------------------------------------------------------------------------------------

def arrow_schema(name: str):
    import pyarrow as pa

    arrow_types = {
        "string": pa.string(),
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "list": pa.list_(pa.string()),
    }
    t = table(name)
    return pa.schema(
        [
            pa.field(
                f.name,
                arrow_types[f.type],
                nullable=not f.required,
                metadata={"description": f.description, "type": f.type},
            )
            for f in t.fields
        ],
        metadata={"table": t.name, "description": t.description, "primary_key": ",".join(t.primary_key)},
    )


# --- pandas ---------------------------------------------------------------------------------------

_PANDAS_DTYPES = {"string": "str", "integer": "Int64", "number": "Float64", "boolean": "boolean"}


def empty_frame(name: str):
    import pandas as pd

    return conform(name, pd.DataFrame({c: [] for c in table(name).columns}))


def in_table_order(name: str, columns=None) -> list[str]:
    """``columns`` (default: all) of table ``name``, in the table's order; names not in it dropped."""
    every = table(name).columns
    if columns is None:
        return list(every)
    columns = set(columns)
    return [c for c in every if c in columns]


def conform(name: str, df, columns=None):
    """Return ``df`` with exactly the table's columns, in order, with the table's dtypes.

    Dates are kept as ISO strings (``YYYY-MM-DD``) and lists as Python lists of strings; the
    Parquet writer turns them into date32 and list<string>. ``columns``: only these of the table's
    columns (a part of the table read for a check), in the table's order.
    """
    import pandas as pd

    t = table(name)
    wanted = in_table_order(name, columns)
    extra = [c for c in df.columns if c not in wanted]
    missing = [c for c in wanted if c not in df.columns]
    if extra or missing or (columns is not None and len(wanted) != len(set(columns))):
        unknown = sorted(set(columns or ()) - set(t.columns))
        raise ValueError(f"{name}: columns do not match schemas/ (missing {missing}, unexpected "
                         f"{extra + unknown})")
    out = df[wanted].copy(deep=False)  # copy on write: a column is copied only where it changes below
    for f in t.fields:
        if f.name not in out.columns:
            continue
        col = out[f.name]
        if f.type in _PANDAS_DTYPES:
            out[f.name] = col.astype(_PANDAS_DTYPES[f.type])
        elif f.type == "date":
            out[f.name] = col.map(_iso_date).astype("str")
            blank = col.map(lambda v: v is None or v == "").astype(bool)  # (an empty column maps to str)
            out.loc[col.isna() | blank, f.name] = None
        elif f.type == "list":
            out[f.name] = col.map(lambda v: [] if v is None else [str(x) for x in v]).astype(object)
    return out.reset_index(drop=True) if len(out) else out.iloc[0:0]


def _iso_date(value) -> str | None:
    import datetime as dt

    import pandas as pd

    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)) or value == "":
        return None
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    return dt.date.fromisoformat(str(value)[:10]).isoformat()


# --- CSV ------------------------------------------------------------------------------------------

def csv_header(name: str) -> list[str]:
    return table(name).columns


# --- Frictionless ---------------------------------------------------------------------------------

_FRICTIONLESS_TYPES = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
    "list": "list",
}


def table_schema(name: str) -> dict:
    """Frictionless Table Schema of the table's CSV file."""
    t = table(name)
    fields = []
    for f in t.fields:
        spec: dict[str, Any] = {"name": f.name, "type": _FRICTIONLESS_TYPES[f.type], "description": f.description}
        if f.type == "list":
            spec["delimiter"] = LIST_SEPARATOR
            spec["itemType"] = "string"
        constraints: dict[str, Any] = {}
        if f.required:
            constraints["required"] = True
        if f.unique:
            constraints["unique"] = True
        if f.enum:
            constraints["enum"] = list(f.enum)
        if f.minimum is not None:
            constraints["minimum"] = f.minimum
        if f.maximum is not None:
            constraints["maximum"] = f.maximum
        if f.pattern and f.type == "string":
            constraints["pattern"] = f.pattern.lstrip("^").rstrip("$")
        if constraints:
            spec["constraints"] = constraints
        if f.example is not None:
            spec["example"] = f.example
        fields.append(spec)
    schema: dict[str, Any] = {"fields": fields, "primaryKey": list(t.primary_key), "missingValues": [""]}
    if t.foreign_keys:
        schema["foreignKeys"] = [
            {
                "fields": list(fk["fields"]),
                "reference": {
                    # Frictionless: an empty resource name means "this resource"
                    "resource": "" if fk["reference"]["resource"] == t.name else fk["reference"]["resource"],
                    "fields": list(fk["reference"]["fields"]),
                },
            }
            for fk in t.foreign_keys
        ]
    return schema
