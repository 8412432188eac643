"""The release's tables read back from their Parquet files a few columns at a time, as validation's
suites need them (:func:`flows.validate.validate` on a :class:`ParquetTables`).

Reading every table whole before the first suite held the corpus' text (the paragraphs) next to
every other table through all the suites, and GX copies the frame it checks on top of that. Here a
suite's columns are read just before it runs, and a column is let go once no later suite reads it:
a table's own suite reads all its columns, a view (``schemas/views/``) only its base table's
columns it carries and the joined table's keys and joined columns.

The files are opened when the object is made: they may be moved (renamed into the release folder)
or removed afterwards and still be read, through the open handles.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import schemas


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

    def names(self) -> set[str]:
        return set(self.frames)

    def column(self, name: str, column: str):
        return self.frames[name][column]

    def load(self, needs: dict[str, set[str]]) -> None:
        pass

    def keep(self, needs: dict[str, set[str]]) -> None:
        pass


class ParquetTables(LoadedTables):
    """The ``<table>.parquet`` files of ``tables_dir`` (every table of ``schemas/``), read on demand:
    :meth:`load` reads the columns a suite needs that are not in memory yet, :meth:`keep` drops those
    no later suite needs; ``frames`` holds what is in memory, a part of each table, with the schema's
    dtypes (:func:`schemas.conform`)."""

    def __init__(self, tables_dir: Path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        super().__init__({})
        self._files = {}
        missing = [n for n in schemas.tables() if not (Path(tables_dir) / f"{n}.parquet").is_file()]
        if missing:
            raise FileNotFoundError(f"no Parquet file for tables {missing} in {tables_dir}")
        for name in schemas.tables():
            self._files[name] = pq.ParquetFile(pa.OSFile(str(Path(tables_dir) / f"{name}.parquet")))

    def names(self) -> set[str]:
        return set(self._files)

    def read(self, name: str, columns: Iterable[str]):
        """Columns of table ``name`` from its file, with the schema's dtypes, in the table's order."""
        columns = [c for c in schemas.table(name).columns if c in set(columns)]
        df = self._files[name].read(columns=columns).to_pandas()
        return schemas.conform(name, df, columns=columns)

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
            new = self.read(name, todo)
            if frame is not None:
                for c in new.columns:
                    frame[c] = new[c].array
                new = frame[[c for c in schemas.table(name).columns if c in frame.columns]]
            self.frames[name] = new

    def keep(self, needs: dict[str, set[str]]) -> None:
        for name in list(self.frames):
            wanted = needs.get(name, set())
            if not wanted:
                del self.frames[name]
            elif set(self.frames[name].columns) - wanted:
                self.frames[name] = self.frames[name][[c for c in self.frames[name].columns if c in wanted]]

    def close(self) -> None:
        self.frames.clear()
        self._files.clear()  # the handles close with their readers
