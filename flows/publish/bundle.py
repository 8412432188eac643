"""The zip of a release's data files: ``<release>/<dataset>-<version>.zip``, one download for everything.

It holds every table's files (``<table>.csv``, ``<table>.parquet``, in ``schemas/`` order) and
``raw_manifest.csv``, in a folder named after the dataset. It is written from the files and is a
function of their bytes only: fixed order, fixed timestamps (1980-01-01, the zip format's epoch) and
permissions, no version in the names inside, so two builds of the same tables give the same zip, byte
for byte. Files that carry the release's creation time (the datapackage, the dictionary) are not in
it; they sit beside it in the release. Parquet files are stored (they are compressed already), CSV
files deflated (at the fastest level).
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
EXTRA_FILES = ("raw_manifest.csv",)
_CHUNK = 1 << 20
# deflate's fastest level: the CSV files come out a tenth bigger than at the default (6), three times faster
COMPRESS_LEVEL = 1


def zip_name(version: str) -> str:
    from flows.publish.releases import DATASET_NAME

    return f"{DATASET_NAME}-{version}.zip"


def members(release_dir: Path, tables: list[str]) -> list[Path]:
    """The files the zip holds, in order: each table's CSV then Parquet, then the raw manifest."""
    release_dir = Path(release_dir)
    files = [release_dir / f"{name}.{ext}" for name in tables for ext in ("csv", "parquet")]
    files += [release_dir / name for name in EXTRA_FILES]
    return [p for p in files if p.is_file()]


def write_zip(release_dir: Path, version: str, tables: list[str], target: Path | None = None) -> Path:
    """Write the zip of ``release_dir``'s data files (``target``: where, default the release folder)."""
    from flows.publish.releases import DATASET_NAME

    target = Path(target) if target is not None else Path(release_dir) / zip_name(version)
    with zipfile.ZipFile(target, "w", allowZip64=True) as zf:
        for path in members(release_dir, tables):
            info = zipfile.ZipInfo(f"{DATASET_NAME}/{path.name}", date_time=FIXED_TIME)
            info.create_system = 3  # unix, wherever it is built, so the permissions below are read
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_STORED if path.suffix == ".parquet" else zipfile.ZIP_DEFLATED
            info._compresslevel = COMPRESS_LEVEL  # open() takes a ZipInfo's own level (3.13: compress_level)
            info.file_size = path.stat().st_size  # known up front: zip64 headers only when needed
            with path.open("rb") as src, zf.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
    return target
