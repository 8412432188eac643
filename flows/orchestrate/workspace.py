"""The build's workspace: the files the stages hand each other, and the one place that reads and
writes them.

Tasks pass paths, never frames. Layout (``root`` persists between builds: it is the per-document
stages' cache; a build's own folder ``run`` does not):

    <root>/documents/<table>/<batch key>.parquet    sources, rejections, paragraphs, info, band_keys
                                                    (dedup's text hashes and band keys)
    <root>/documents/scans/<batch key>/<table>.parquet
                                                    the extract stage's per-paragraph scans
                                                    (the tables of flows.extract.scans)
    <root>/documents/done/<batch key>.json          written last: the batch is complete (its seconds,
                                                    files, manifest rows and code versions)
    <run>/gathered/<table>.parquet                  the batches in document order (DuckDB)
    <run>/accounting/<table>.parquet                after the rejection of documents without content
    <run>/dedup/paragraphs.parquet                  after dedup
    <run>/tables/<table>.parquet                    every table of schemas/ (the release's files)

A batch key depends on the batch's files (name, sha256), their manifest rows, the per-document code
and the rules: a batch already in the workspace is reused, whatever build made it. A batch that is
not there takes the documents an earlier batch made of the same files, manifest rows, code and rules
(:func:`documents_made`, :func:`earlier_documents`: a document's rows depend on nothing else) and
makes only the others: adding an article recomputes that article, not its whole batch. Intermediate
tables keep their pandas types (pyarrow's pandas metadata); the tables of ``schemas/`` are typed
from there (``flows.common.parquet_tables``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from flows.common import duck, frames, parquet_tables

BATCH_TABLES = ("sources", "rejections", "paragraphs", "info")


def batch_key(files: list, manifest: dict, code_version: str, lexicon_version: str) -> str:
    """What a batch's results depend on: its files and manifest rows, the per-document code and the rules."""
    blob = json.dumps([files, manifest, code_version, lexicon_version], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8", "surrogateescape")).hexdigest()[:32]


@dataclass(frozen=True)
class Batch:
    """A batch's files in the workspace (``key``), the seconds its stages took when it was made and
    how many of its documents it took from earlier batches (``reused``)."""

    root: str
    key: str
    seconds: dict = field(default_factory=dict)
    reused: int = 0

    def path(self, table: str) -> Path:
        if table == "scans":  # a folder: a file a table
            return Path(self.root) / "documents" / "scans" / self.key
        suffix = "json" if table == "done" else "parquet"
        return Path(self.root) / "documents" / table / f"{self.key}.{suffix}"

    def complete(self) -> bool:
        from flows.extract.scans import TABLES as SCAN_TABLES

        return (self.path("done").is_file() and all(self.path(t).is_file() for t in BATCH_TABLES)
                and all((self.path("scans") / f"{t}.parquet").is_file() for t in SCAN_TABLES))


def _write_atomic(path: Path, write) -> None:
    """Write ``path`` through a temporary name in its folder: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


FRAME_ROW_GROUP = 100_000  # rows a row group: a reader of some rows reads no more than their groups


def write_frame(df: pd.DataFrame, path: Path) -> Path:
    """An intermediate frame as Parquet, its pandas types kept."""
    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    _write_atomic(Path(path), lambda tmp: pq.write_table(table, tmp, compression="zstd",
                                                         row_group_size=FRAME_ROW_GROUP))
    return Path(path)


def write_frame_with(df: pd.DataFrame, path: Path, like: Path, added: list[str]) -> Path:
    """``df`` and the columns ``added`` of the frame file ``like`` (the same rows, in the same order)
    as one frame file with ``like``'s columns and pandas types: ``added`` is read a row group at a
    time, never whole (dedup's paragraphs with the text it did not read)."""
    schema = pq.read_schema(like)
    if sorted(schema.names) != sorted([*df.columns, *added]):
        raise ValueError(f"{like.name}: columns {schema.names} are not {list(df.columns)} and {added}")
    df = df.reset_index(drop=True)

    def write(tmp):
        at = 0
        with pq.ParquetFile(like) as source, pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for group in range(source.num_row_groups):
                theirs = source.read_row_group(group, columns=added)
                ours = pa.Table.from_pandas(df.iloc[at:at + theirs.num_rows], preserve_index=False)
                at += theirs.num_rows
                writer.write_table(pa.Table.from_arrays(
                    [(theirs if name in added else ours).column(name).cast(schema.field(name).type)
                     for name in schema.names], schema=schema))
        if at != len(df):
            raise ValueError(f"{like.name} has {at} rows, the frame {len(df)}")

    _write_atomic(Path(path), write)
    return Path(path)


def frame_columns(path: Path) -> list[str]:
    """The columns of a frame file, in order."""
    return pq.read_schema(path).names


def read_frame(path: Path, columns: list[str] | None = None, keep_text=None,
               rows: tuple[int, int] | None = None) -> pd.DataFrame:
    """A frame written by :func:`write_frame` (or gathered), with its pandas types. Arrow's buffers
    are handed to pandas column by column (no second copy of the table while it converts). Each
    column is one chunk: pyarrow's take over a chunked column first concatenates all of it, so
    every row selection from a file of several row groups would copy its whole text column.

    ``keep_text``: a function of the rows read (an Arrow table of ``columns``, a row group at a
    time) giving those whose ``text`` is kept (a boolean array); the others' is null. A step that
    reads the text of some rows only holds theirs. ``rows``: rows ``start`` to ``stop`` only (the
    row groups holding them are read), indexed from 0."""
    pool = pa.default_memory_pool()
    with pq.ParquetFile(path) as file:
        starts = parquet_tables.group_starts(file.metadata)
        start, stop = rows if rows is not None else (0, int(starts[-1]))
        # a row group at a time, Arrow's freed memory handed back after each: a whole file read at
        # once holds its decompressed pages and its decoded columns together, about twice the table
        pieces = []
        for i in range(file.num_row_groups):
            first, end = int(starts[i]), int(starts[i + 1])
            if end <= start or first >= stop:
                continue
            piece = file.read_row_group(i, columns=columns)
            if rows is not None:
                piece = piece.slice(max(start - first, 0), min(stop, end) - max(start, first))
            if keep_text is not None:
                piece = _with_text_of(piece, keep_text(piece))
            pieces.append(piece)
            pool.release_unused()
        table = pa.concat_tables(pieces) if pieces else file.read(columns=columns).slice(0, 0)  # no rows
    del pieces
    for i in range(table.num_columns):  # a column at a time: one column's copy at once
        if table.column(i).num_chunks > 1:
            try:
                table = table.set_column(i, table.field(i), pa.chunked_array([table.column(i).combine_chunks()]))
            except pa.ArrowInvalid:  # over 2 GB in a type with 32-bit offsets: it stays in chunks
                pass
            pool.release_unused()
    meta = table.schema.pandas_metadata or {"columns": []}
    # text in an object column (pandas would read it back as str): kept as Python objects
    objects = {col["name"]: table.column(col["name"]).to_pylist() for col in meta["columns"]
               if col["numpy_type"] == "object" and col["name"] in table.column_names
               and (pa.types.is_string(table.schema.field(col["name"]).type)
                    or pa.types.is_large_string(table.schema.field(col["name"]).type))}
    df = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    for name, values in objects.items():
        df[name] = pd.Series(values, dtype=object, index=df.index)
    return df


def _with_text_of(rows: pa.Table, kept) -> pa.Table:
    """``rows`` with the ``text`` of the rows ``kept`` (a boolean array) only, the others' null: a
    new column holding those values alone (Arrow's ``if_else`` would copy every value's bytes)."""
    kept = pc.fill_null(kept, False).to_numpy(zero_copy_only=False)
    at = rows.schema.get_field_index("text")
    positions = pa.array(np.cumsum(kept) - 1, mask=~kept)  # each kept row's place among them; else null
    return rows.set_column(at, rows.field(at), rows.column(at).filter(pa.array(kept)).take(positions))


def write_batch(root: Path, key: str, result, made_of: dict | None = None) -> Batch:
    """File a ``flows.orchestrate.batches.BatchResult`` under ``key``; the done marker last, with
    ``made_of`` (the batch's ``files``, ``manifest`` rows and code ``versions``: what
    :func:`documents_made` reads)."""
    batch = Batch(str(root), key, dict(result.seconds), result.reused)
    for table in BATCH_TABLES:
        write_frame(getattr(result, table), batch.path(table))
    write_band_keys(result.band_keys, batch.path("band_keys"))
    write_scans(result.scans, batch.path("scans"))
    done = {"seconds": batch.seconds, "reused": batch.reused, **(made_of or {})}
    _write_atomic(batch.path("done"), lambda tmp: tmp.write_text(json.dumps(done, default=str)))
    return batch


def holds(root: Path, key: str) -> bool:
    """Whether the workspace holds all of batch ``key`` (its done marker is not read)."""
    return Batch(str(root), key).complete()


def existing_batch(root: Path, key: str) -> Batch | None:
    """The batch ``key`` if the workspace holds all of it."""
    batch = Batch(str(root), key)
    if not batch.complete():
        return None
    done = json.loads(batch.path("done").read_text())
    return Batch(str(root), key, done["seconds"], done.get("reused", 0))


def _document_files(files: list, manifest: dict) -> dict[str, list]:
    """sha256 -> the (name, manifest row) of the batch's files with that content (one document)."""
    out: dict[str, list] = {}
    for name, digest in sorted(map(tuple, files)):
        out.setdefault(digest, []).append([name, manifest.get(name)])
    return out


def documents_made(root: Path, versions: list) -> dict[str, tuple]:
    """What the complete batches of ``root`` made with the code ``versions``: sha256 -> (batch key,
    the files with that content and their manifest rows)."""
    found: dict[str, tuple] = {}
    done_dir = Path(root) / "documents" / "done"
    for path in sorted(done_dir.glob("*.json")) if done_dir.is_dir() else ():
        batch = Batch(str(root), path.stem)
        try:
            done = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if done.get("versions") != list(versions) or "files" not in done or not batch.complete():
            continue
        for digest, named in _document_files(done["files"], done["manifest"]).items():
            found.setdefault(digest, (batch.key, named))
    return found


def reusable(made: dict[str, tuple], files: list, manifest: dict) -> dict[str, str]:
    """sha256 -> batch key, for the files of a batch (``files``, ``manifest``) whose document an
    earlier batch made of the same files and manifest rows (``made``: :func:`documents_made`)."""
    mine = json.loads(json.dumps(_document_files(files, manifest), default=str))  # as the done file holds it
    return {digest: made[digest][0] for digest, named in mine.items()
            if digest in made and made[digest][1] == named}


def earlier_documents(root: Path, earlier: dict[str, str]):
    """The rows of the documents ``earlier`` names (sha256 -> the batch that made it), from their
    batches' files: a ``flows.orchestrate.batches.BatchResult``, or None."""
    from flows.dedup.dedup import combine_paragraph_keys
    from flows.extract.scans import combine_scans, subset_scans
    from flows.orchestrate.batches import BatchResult, combine

    parts = []
    for key in sorted(set(earlier.values())):
        batch = Batch(str(root), key)
        if not batch.complete():  # removed since (a concurrent build's prune): its documents are made again
            continue
        digests = [d for d, k in earlier.items() if k == key]
        sources = read_frame(batch.path("sources"))
        sources = sources[sources["sha256"].isin(digests)]
        doc_ids = sources["doc_id"].tolist()
        paragraphs, info = (read_frame(batch.path(t)) for t in ("paragraphs", "info"))
        paragraphs, info = paragraphs[paragraphs["doc_id"].isin(doc_ids)], info[info["doc_id"].isin(doc_ids)]
        para_ids = set(paragraphs["para_id"].tolist())
        keys = read_band_keys([batch.path("band_keys")])
        if keys is not None:
            keys = keys.only(list(para_ids))
        scans = subset_scans(read_scans([batch.path("scans")]), para_ids)
        parts.append(BatchResult(sources, None, paragraphs, info, scans, band_keys=keys, reused=len(sources)))
    if not parts:
        return None
    return BatchResult(combine([p.sources for p in parts]), None, combine([p.paragraphs for p in parts]),
                       combine([p.info for p in parts]), combine_scans([p.scans for p in parts]),
                       band_keys=combine_paragraph_keys([p.band_keys for p in parts]),
                       reused=sum(p.reused for p in parts))


def prune(root: Path, keep: list[str], min_age_seconds: float = 86_400) -> int:
    """Remove the batches of ``root`` not in ``keep`` (those of earlier inputs or code) and older than
    ``min_age_seconds`` (a build running beside this one may still need its own); how many files."""
    import time

    keep_set, removed, now = set(keep), 0, time.time()
    documents = Path(root) / "documents"
    if not documents.is_dir():
        return 0
    for folder in documents.iterdir():
        for path in folder.iterdir():
            try:
                stale = path.name.split(".")[0] not in keep_set and now - path.stat().st_mtime > min_age_seconds
            except FileNotFoundError:
                continue
            if stale and not path.name.startswith("."):
                if path.is_dir():  # a batch's scans
                    removed += sum(1 for _ in path.iterdir())
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                    removed += 1
    return removed


# --- band keys: a ParagraphKeys as a table ------------------------------------------------
# One row a hashed paragraph (para_id, text_hash_1, text_hash_2, band_0 ...), the bands null where
# the paragraph has none (too short for a near-duplicate cluster); without hashes, one row a
# paragraph with band keys. The settings they were made with are in the file's metadata.

def write_band_keys(keys, path: Path) -> Path:
    import pyarrow.compute as pc

    from flows.dedup.dedup import ParagraphKeys

    assert keys is None or isinstance(keys, ParagraphKeys)
    if keys is None:
        table = pa.table({"para_id": pa.array([], pa.large_string())}, metadata={b"sketch": b"null"})
    else:
        meta = {b"sketch": json.dumps(list(keys.sketch)).encode()}
        if keys.text_ids is None:
            rows, at = keys.para_ids, np.arange(len(keys.para_ids))
            columns = {"para_id": rows}
        else:
            rows = keys.text_ids
            found = pc.index_in(keys.para_ids, value_set=rows)
            if found.null_count:
                raise ValueError("band keys of paragraphs without text hashes")
            at = found.to_numpy(zero_copy_only=False)  # each keyed paragraph's row
            columns = {"para_id": rows, "text_hash_1": keys.text_hashes[0], "text_hash_2": keys.text_hashes[1]}
            meta[b"hashing"] = keys.hashing.encode()
        no_keys = np.ones(len(rows), dtype=bool)
        no_keys[at] = False
        for b in range(keys.keys.shape[0]):
            band = np.zeros(len(rows), dtype=np.uint64)
            band[at] = keys.keys[b]
            columns[f"band_{b}"] = pa.array(band, mask=no_keys)
        table = pa.table(columns, metadata=meta)
    _write_atomic(Path(path), lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    return Path(path)


def read_band_keys(paths: list[Path]):
    """The batches' band keys as one ``ParagraphKeys`` (None when a batch has none, or their settings
    differ), with their text hashes when every batch has them."""
    from flows.dedup.dedup import ParagraphKeys, combine_paragraph_keys
    from flows.orchestrate import memory

    parts = []
    for path in paths:
        table = pq.read_table(path)
        meta = table.schema.metadata or {}
        if meta.get(b"sketch", b"null") == b"null":
            return None
        bands = [c for c in table.column_names if c.startswith("band_")]
        para_ids = table.column("para_id").combine_chunks().cast(pa.large_string())
        has = (table.column(bands[0]).is_valid().to_numpy(zero_copy_only=False) if bands
               else np.ones(table.num_rows, dtype=bool))
        with_keys = table.select(bands).filter(pa.array(has))  # the rows with band keys: no nulls
        keys = np.empty((len(bands), with_keys.num_rows), dtype=np.uint64)
        for b, name in enumerate(bands):
            keys[b] = with_keys.column(name).to_numpy()
        hashed = "text_hash_1" in table.column_names
        parts.append(ParagraphKeys(
            para_ids.filter(pa.array(has)), keys, tuple(json.loads(meta[b"sketch"])),
            para_ids if hashed else None,
            np.stack([table.column(c).to_numpy() for c in ("text_hash_1", "text_hash_2")]) if hashed else None,
            meta[b"hashing"].decode() if hashed else None))
        del table
    keys = combine_paragraph_keys(parts)
    memory.release_memory()  # the batches' arrays, copied into one: otherwise they stay resident
    return keys


def write_scans(scans, folder: Path) -> Path:
    """A ``flows.extract.scans.Scans`` as its tables' Parquet files in ``folder``."""
    for name, table in scans.tables().items():
        path = Path(folder) / f"{name}.parquet"
        if isinstance(table, pd.DataFrame):
            write_frame(table, path)
        else:
            _write_atomic(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    return Path(folder)


def read_scans(folders: list[Path]):
    """The scans of the batches' ``scans`` folders as one ``flows.extract.scans.Scans``, each table's
    columns one chunk (buffers big enough to be mapped on their own: freed, they go back to the system)."""
    from flows.extract.scans import SCHEMAS, Scans, combine_scans

    scans = combine_scans([Scans(**{name: pq.read_table(Path(f) / f"{name}.parquet", schema=schema)
                                    for name, schema in SCHEMAS.items()},
                                 facts=read_frame(Path(f) / "facts.parquet")) for f in folders])
    for name in SCHEMAS:
        setattr(scans, name, getattr(scans, name).combine_chunks())
    return scans


# --- gathering: the batches in document order, by DuckDB ------------------------------------

def _connect(run: Path):
    con = duck.connect(Path(run) / "duckdb-tmp")  # spills to the run's folder
    con.execute("SET preserve_insertion_order = true")
    return con


def _schema(paths: list[Path]) -> pa.Schema:
    """The batches' schema, unified (a column null in one batch takes its type from another), with
    pandas metadata (so the frames keep their pandas types): each column's from the first batch where
    it is not all null."""
    schemas = [pq.read_schema(p) for p in paths]
    unified = pa.unify_schemas([s.remove_metadata() for s in schemas], promote_options="permissive")
    metas = [s.pandas_metadata for s in schemas]
    chosen: dict[str, dict] = {}
    for s, meta in zip(schemas, metas):
        for col in meta["columns"]:
            name, first = col["name"], chosen.get(col["name"])
            if first is None or (first["pandas_type"] == "empty" and col["pandas_type"] != "empty"):
                chosen[name] = dict(col)
            if col["numpy_type"] == "object":  # as pandas.concat: object in one batch, object in all
                chosen[name]["numpy_type"] = "object"
    for col in chosen.values():
        if col["numpy_type"] == "object" and col["pandas_type"] in ("empty", "object"):
            col["pandas_type"] = "unicode" if pa.types.is_large_string(unified.field(col["name"]).type) or \
                pa.types.is_string(unified.field(col["name"]).type) else col["pandas_type"]
    pandas = {**metas[0], "columns": [chosen[f.name] for f in unified if f.name in chosen]}
    return unified.with_metadata({b"pandas": json.dumps(pandas).encode()})


def _union(paths: list[Path]) -> str:
    """SQL: every batch's rows, with the batch's number and each row's number in it (a stable tie-break)."""
    parts = [f"SELECT *, {i} AS _batch FROM read_parquet({duck.literal(p)}, file_row_number = true)"
             for i, p in enumerate(paths)]
    return " UNION ALL BY NAME ".join(parts)


def _copy(con, sql: str, schema: pa.Schema, path: Path) -> Path:
    """Stream a query's rows into ``path`` with ``schema`` (column order and pandas types)."""
    reader = con.execute(sql).fetch_record_batch(100_000)

    def write(tmp):
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for rb in reader:
                table = pa.Table.from_batches([rb])
                columns = [pa.nulls(table.num_rows) if f.type == pa.null() else table.column(f.name).cast(f.type)
                           for f in schema]  # a column null in every batch: DuckDB reads it as integers
                writer.write_table(pa.Table.from_arrays(columns, schema=schema))

    _write_atomic(Path(path), write)
    return Path(path)


GATHERED_ORDER = {  # how the batches' rows are put together: the order no batching can change
    "sources": "ORDER BY source_file, _batch, file_row_number",
    "rejections": "ORDER BY file, _batch, file_row_number",
}


def gather(batches: list[Batch], run: Path) -> dict[str, Path]:
    """The batches' tables as one file each in ``run/gathered/``: sources by file name, rejections by
    file, paragraphs and info in document order (then position)."""
    out_dir = Path(run) / "gathered"
    out: dict[str, Path] = {}
    con = _connect(run)
    try:
        for table in BATCH_TABLES:
            paths = [b.path(table) for b in batches]
            schema = _schema(paths)
            union = _union(paths)
            if table in GATHERED_ORDER:
                sql = f"SELECT * FROM ({union}) {GATHERED_ORDER[table]}"
            else:  # document order: the rank of its document among the sources, then position
                ranks = (f"SELECT doc_id, row_number() OVER (ORDER BY source_file, _batch, file_row_number) "
                         f"AS _rank FROM ({_union([b.path('sources') for b in batches])})")
                position = ", t.position" if "position" in schema.names else ""
                sql = (f"SELECT t.* FROM ({union}) t LEFT JOIN ({ranks}) r USING (doc_id) "
                       f"ORDER BY r._rank NULLS LAST{position}, t._batch, t.file_row_number")
            out[table] = _copy(con, sql, schema, out_dir / f"{table}.parquet")
    finally:
        con.close()
    return out
