"""The release's tables read back from their Parquet files a few columns at a time, as validation's
suites need them (:func:`flows.validate.validate.validate` on a :class:`ParquetTables`).

Reading every table whole before the first suite held the corpus' text (the paragraphs) next to
every other table through all the suites, and GX copies the frame it checks on top of that. Here a
suite's columns are read just before it runs, and a column is let go once no later suite reads it:
a table's own suite reads all its columns, a view (``schemas/views/``) only its base table's
columns it carries and the joined table's keys and joined columns.

The files are opened when the object is made: they may be moved (renamed into the release folder)
or removed afterwards and still be read, through the open handles. The flow's extract stage writes
them (:func:`write_tables`), and publishing reads them back one table at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

import schemas
from flows.common import frames


def suite_columns(name: str, views: dict) -> dict[str, set[str]]:
    """``{table: columns}`` that the suite ``name`` reads (a table's suite: all of its columns)."""
    if name not in views:
        return {name: set(schemas.table(name).columns)}
    view = views[name]
    needs = {view.base: set(view.base_columns)}
    for join in view.joins:
        needs[view.base].update(left for left, _ in join.on)
        needs.setdefault(join.table, set()).update([right for _, right in join.on] + [c for c, _ in join.columns])
    return needs


class LoadedTables:
    """Tables already in memory, behind the interface of :class:`ParquetTables` (nothing to read
    or let go)."""

    def __init__(self, frames: dict):
        self.frames = frames

    @classmethod
    def of(cls, tables) -> "LoadedTables":
        """``tables`` behind this interface: itself if it has it, else the frames it holds."""
        return tables if isinstance(tables, LoadedTables) else cls(dict(tables))  # the caller's dict stays as it is

    def names(self) -> set[str]:
        return set(self.frames)

    def column(self, name: str, column: str):
        return self.frames[name][column]

    def rows(self, name: str) -> int:
        return len(self.frames[name])

    def read(self, name: str, columns: Iterable[str]) -> pd.DataFrame:
        return self.frames[name][list(columns)]

    def read_rows(self, name: str, columns: Iterable[str], start: int, stop: int) -> pd.DataFrame:
        """Rows ``start`` to ``stop`` of these columns, indexed by their positions, long text as
        Python strings (as :meth:`ParquetTables.read_rows`)."""
        part = frames.with_python_text(self.frames[name].iloc[start:stop][list(columns)])
        return part.set_axis(pd.RangeIndex(start, stop))

    def long_text_columns(self, name: str) -> list[str]:
        """The table's text columns whose values average :data:`flows.common.frames.LONG_TEXT_BYTES`
        or more."""
        import pyarrow as pa

        frame = self.frames[name]
        return [c for c in frame.columns if isinstance(frame[c].dtype, pd.StringDtype)
                and frames.is_long_text(pa.array(frame[c].array, from_pandas=True))]

    def load(self, needs: dict[str, set[str]]) -> None:
        pass

    def keep(self, needs: dict[str, set[str]], next_needs: dict[str, set[str]] | None = None) -> None:
        pass


REREAD_MIN_ROWS = 250_000  # below, reading long text again costs more time than holding it costs memory


class ParquetTables(LoadedTables, Mapping):
    """The ``<table>.parquet`` files of ``tables_dir`` (every table of ``schemas/``), read on demand.

    As a mapping, ``tables[name]`` reads the whole table (each time: nothing is kept), with the
    schema's dtypes (:func:`schemas.conform`): how publishing writes the CSV files and the diff one
    table at a time. For validation, :meth:`load` reads the columns a suite needs that are not in
    memory yet and :meth:`keep` drops those no later suite needs; ``frames`` holds what is in
    memory, a part of each table."""

    def __init__(self, tables_dir: Path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        super().__init__({})
        self.folder = Path(tables_dir)
        self._files = {}
        missing = [n for n in schemas.tables() if not self.path(n).is_file()]
        if missing:
            raise FileNotFoundError(f"no Parquet file for tables {missing} in {tables_dir}")
        for name in schemas.tables():
            self._files[name] = pq.ParquetFile(pa.OSFile(str(self.path(name))))

    def path(self, name: str) -> Path:
        """Where the table's file was when this object was made."""
        return self.folder / f"{name}.parquet"

    def names(self) -> set[str]:
        return set(self._files)

    def __getitem__(self, name: str):
        if name not in self._files:
            raise KeyError(name)
        return self.read(name, schemas.in_table_order(name))

    def __iter__(self):
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def rows(self, name: str) -> int:
        """The table's row count (from the file's metadata)."""
        return self._files[name].metadata.num_rows

    def parts(self, name: str, columns: Iterable[str] | None = None, rows: int | None = None):
        """The table (or these of its columns) one row group at a time (the release's files hold
        100,000 rows a group: ``PARQUET_ROW_GROUP``), or ``rows`` rows at a time, each part with
        the schema's dtypes; nothing if the table is empty."""
        columns = schemas.in_table_order(name, columns)
        file = self._files[name]
        found = (file.iter_batches(batch_size=rows, columns=columns) if rows is not None
                 else (file.read_row_group(group, columns=columns) for group in range(file.num_row_groups)))
        for part in found:
            if part.num_rows:
                yield schemas.conform(name, part.to_pandas(), columns=columns)

    def read(self, name: str, columns: Iterable[str], python_text: bool = False):
        """Columns of table ``name`` from its file, with the schema's dtypes, in the table's order.
        ``python_text``: long text as :func:`flows.common.frames.with_python_text` makes it, each
        such column made a row group at a time (its Arrow form is never held whole beside it)."""
        columns = schemas.in_table_order(name, columns)
        file = self._files[name]
        long = self._long_text(name, columns) if python_text else []
        short = [c for c in columns if c not in long]
        df = (schemas.conform(name, file.read(columns=short).to_pandas(), columns=short) if short
              else pd.DataFrame(index=pd.RangeIndex(file.metadata.num_rows)))
        for column in long:
            df[column] = frames.python_text(file.read_row_group(group, columns=[column]).column(0)
                                            for group in range(file.num_row_groups))
        return df[columns]

    def read_rows(self, name: str, columns: Iterable[str], start: int, stop: int) -> pd.DataFrame:
        """Rows ``start`` to ``stop`` of these columns, indexed by their positions: only the row
        groups holding them are read; long text as Python strings (as :meth:`read` makes it)."""
        import numpy as np

        columns = schemas.in_table_order(name, columns)
        file = self._files[name]
        starts = group_starts(file.metadata)
        groups = list(range(int(np.searchsorted(starts, start, side="right")) - 1,
                            int(np.searchsorted(starts, stop, side="left"))))
        table = file.read_row_groups(groups, columns=columns).slice(start - starts[groups[0]], stop - start)
        long = self._long_text(name, columns)
        short = [c for c in columns if c not in long]
        df = schemas.conform(name, table.select(short).to_pandas(), columns=short)
        for column in long:
            df[column] = frames.python_text(table.column(column).chunks)
        del table
        return df[columns].set_axis(pd.RangeIndex(start, stop))

    def long_text_columns(self, name: str) -> list[str]:
        return self._long_text(name, schemas.in_table_order(name))

    def _long_text(self, name: str, columns: list[str]) -> list[str]:
        """The text columns among ``columns`` whose values in the file's first row group average
        :data:`flows.common.frames.LONG_TEXT_BYTES` or more."""
        file = self._files[name]
        types = {f.name: f.type for f in schemas.table(name).fields}
        text = [c for c in columns if types[c] == "string"]
        if not text or not file.num_row_groups or not file.metadata.row_group(0).num_rows:
            return []
        first = file.read_row_group(0, columns=text)
        return [c for c in text if frames.is_long_text(first.column(c))]

    def column(self, name: str, column: str):
        frame = self.frames.get(name)
        if frame is not None and column in frame.columns:
            return frame[column]
        return self.read(name, [column])[column]

    def load(self, needs: dict[str, set[str]]) -> None:
        for name, columns in needs.items():
            frame = self.frames.get(name)
            todo = [c for c in columns if frame is None or c not in frame.columns]
            if not todo:
                continue
            new = self.read(name, todo, python_text=True)
            if frame is not None:
                for c in new.columns:
                    frame[c] = new[c].array
                new = frame[schemas.in_table_order(name, frame.columns)]
            self.frames[name] = new

    def keep(self, needs: dict[str, set[str]], next_needs: dict[str, set[str]] | None = None) -> None:
        """Let go of the columns not in ``needs`` (what the later suites read) and, in a table of
        :data:`REREAD_MIN_ROWS` rows or more, of the long text the next suite does not read
        (``next_needs``, if given): a large corpus's paragraph text is read again for the last
        suites rather than held through every suite between (long text: the columns
        :func:`flows.common.frames.with_python_text` made Python strings)."""
        for name in list(self.frames):
            wanted = needs.get(name, set())
            frame = self.frames[name]
            if next_needs is not None and len(frame) >= REREAD_MIN_ROWS:
                soon = next_needs.get(name, set())
                wanted = {c for c in wanted if c in soon or c not in frame or not frames.holds_python_text(frame[c])}
            if not wanted:
                del self.frames[name]
            elif set(frame.columns) - wanted:
                self.frames[name] = frame[[c for c in frame.columns if c in wanted]]

    def close(self) -> None:
        self.frames.clear()
        self._files.clear()  # the handles close with their readers


def group_starts(metadata):
    """The first row of each row group of a Parquet file, then its row count (numpy)."""
    import numpy as np

    return np.cumsum([0] + [metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)])


class FileColumn:
    """One column of a Parquet file, read by row position when asked: the values of some rows
    without the whole column in memory (dedup's texts of the pairs it compares). Each call reads the
    row groups holding the rows asked for, once each, in order."""

    def __init__(self, path: Path, name: str):
        import pyarrow.parquet as pq

        self.path, self.name = Path(path), name
        with pq.ParquetFile(self.path) as file:
            self.starts = group_starts(file.metadata)
            self.type = file.schema_arrow.field(name).type
        self._held = (0, 0, None)  # (first row, row after the last, values) of the row group read last

    def __len__(self) -> int:
        return int(self.starts[-1])

    def __getitem__(self, i: int):
        """Row ``i``'s value, a Python object (as :class:`flows.common.frames.TextColumn` gives it). Its
        row group is read and kept until a row of another group is asked for: rows asked for in
        order read each group once, and only one is held."""
        first, after, values = self._held
        if not first <= i < after:  # (a call a row: only a row of another group does more)
            first, after, values = self._held = self._group_of(i)
        return values[i - first].as_py()

    def _group_of(self, i: int) -> tuple:
        """(first row, row after the last, values) of the row group holding row ``i``, read."""
        import numpy as np
        import pyarrow.parquet as pq

        if not 0 <= i < len(self):
            raise IndexError(f"{self.path.name}: row {i} not within 0..{len(self) - 1}")
        group = int(np.searchsorted(self.starts, i, side="right")) - 1
        with pq.ParquetFile(self.path) as file:
            values = file.read_row_group(group, columns=[self.name]).column(0).combine_chunks()
        return int(self.starts[group]), int(self.starts[group + 1]), values

    def take(self, rows):
        """The values at the ascending positions ``rows`` (repeats allowed), an Arrow array."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (rows[0] < 0 or rows[-1] >= len(self) or (np.diff(rows) < 0).any()):
            raise IndexError(f"{self.path.name}: rows must ascend within 0..{len(self) - 1}")
        groups = np.searchsorted(self.starts, rows, side="right") - 1
        pieces = []
        with pq.ParquetFile(self.path) as file:
            for group in np.unique(groups).tolist():
                values = file.read_row_group(group, columns=[self.name]).column(0)
                pieces.append(values.take(pa.array(rows[groups == group] - self.starts[group])).combine_chunks())
        return pa.concat_arrays(pieces) if pieces else pa.array([], type=self.type)


def write_sorted(name: str, source: Path, folder: Path, spill_dir: Path | None = None) -> Path:
    """Table ``name`` from the frame file ``source`` (its columns, any order) to ``folder/<name>.parquet``
    in its published row order, as :func:`write_parquet` writes it: DuckDB sorts (within its memory
    limit, spilling beyond it), a row group at a time is written, and the table is never held whole."""
    import pyarrow as pa

    from flows.common import duck

    schema = schemas.arrow_schema(name)
    columns = ", ".join(duck.ident(c) for c in schema.names)
    order = ", ".join(duck.ident(c) for c in schemas.table(name).row_order)
    path = Path(folder) / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duck.connect(spill_dir)
    try:
        batches = con.execute(f"SELECT {columns} FROM read_parquet({duck.literal(source)}) ORDER BY {order}"
                              ).fetch_record_batch(PARQUET_ROW_GROUP)
        with _writer(name, path) as writer:
            for batch in batches:
                writer.write_table(pa.Table.from_batches([batch]).cast(schema))
    finally:
        con.close()
    return path


def read_columns(tables, name: str, columns: list[str]):
    """These columns of table ``name``: read from its file when ``tables`` is a :class:`ParquetTables`,
    else taken from its frame."""
    return tables.read(name, columns) if isinstance(tables, ParquetTables) else tables[name][columns]


def row_count(tables, name: str) -> int:
    """Rows of table ``name``: from its file's metadata when ``tables`` is a :class:`ParquetTables`."""
    return tables.rows(name) if isinstance(tables, ParquetTables) else len(tables[name])


def read_table(name: str, path: Path) -> pd.DataFrame:
    """Table ``name`` from its file at ``path`` (as :func:`write_tables` writes it), with the schema's dtypes."""
    import pyarrow.parquet as pq

    return schemas.conform(name, pq.read_table(path).to_pandas())


def write_tables(tables: dict, folder: Path, names: list[str] | None = None) -> Path:
    """Write every table of ``schemas/`` (or those ``names``) to ``folder/<table>.parquet`` in its
    published row order (the release's own files: :func:`write_parquet`)."""

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in (schemas.tables() if names is None else names):
        df = tables[name]  # rows taken in order a row group at a time: no sorted copy of the table
        write_parquet(name, df, folder / f"{name}.parquet", order=row_order(name, df))
    return folder


# --- writing: every table's Parquet file, typed by schemas/ -----------------------------------

def to_arrow(name: str, df: pd.DataFrame):
    import pyarrow as pa

    schema = schemas.arrow_schema(name)
    t = schemas.table(name)
    columns = {}
    for f in t.fields:
        col = df[f.name]
        if f.type == "date":
            values = [None if v is None or pd.isna(v) else dt.date.fromisoformat(v) for v in col]
        elif f.type == "list":
            values = [list(v) for v in col]
        else:
            try:  # pandas extension arrays (str, Int64, Float64, boolean) convert in one call
                columns[f.name] = pa.array(col, type=schema.field(f.name).type, from_pandas=True)
                continue
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
                values = [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in col]
        columns[f.name] = pa.array(values, type=schema.field(f.name).type)
    return pa.Table.from_pydict(columns, schema=schema)


PARQUET_ROW_GROUP = 100_000  # rows converted to Arrow and written at a time: one row group each


def _writer(name: str, path: Path):
    """The writer of table ``name``'s release file: zstd, the schema of :func:`schemas.arrow_schema`."""
    import pyarrow.parquet as pq

    return pq.ParquetWriter(path, schemas.arrow_schema(name), compression="zstd")


def write_parquet(name: str, df: pd.DataFrame, path: Path, rows: int | None = None, order=None) -> None:
    """Write the table as Parquet (zstd, the schema of :func:`schemas.arrow_schema` with its column
    descriptions), ``rows`` rows at a time (default :data:`PARQUET_ROW_GROUP`), one row group each:
    the table is never held twice (no whole-table Arrow copy beside the frame).
    ``order``: the rows' positions in the order to write them (:func:`row_order`), taken a row group
    at a time instead of a sorted copy of the whole table; None: as they are."""
    rows = rows or PARQUET_ROW_GROUP
    with _writer(name, path) as writer:
        for start in range(0, max(len(df), 1), rows):
            part = df.iloc[start:start + rows] if order is None else df.iloc[order[start:start + rows]]
            writer.write_table(to_arrow(name, part))


def row_order(name: str, df: pd.DataFrame):
    """The positions of the table's rows in its published row order (``schemas/``' ``row_order``), or
    None when the rows are already in it."""
    import numpy as np

    keys = schemas.table(name).row_order
    if not len(df):
        return None
    order = df[keys].reset_index(drop=True).sort_values(keys, kind="stable").index.to_numpy()
    return None if (order == np.arange(len(df))).all() else order


def sort_table(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """The table in its published row order (the table itself, not a copy, when already in it)."""
    order = row_order(name, df)
    if order is None and isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1:
        return df
    return df.reset_index(drop=True) if order is None else df.iloc[order].reset_index(drop=True)
