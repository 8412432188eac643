"""The output folder's releases and how they are changed safely: the names and constants every
publishing module shares, versions, the publish lock, fault-injection points, atomic writes and
renames, stale files of killed builds.

Atomicity: everything is written into a hidden staging folder, made read-only, fsynced and renamed
into place in one ``rename``; ``latest`` is a fresh symlink renamed over the old one. A process killed
at any moment leaves either no new release or a complete one, and ``latest`` on a complete release.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path

import schemas

LATEST = "latest"


FAILED = "_failed"


LOCK_NAME = ".lock"


STAGING_PREFIX = ".staging-"


TMP_PREFIX = ".tmp-"


DATASET_NAME = "us-iraq-jscd"


DATASET_TITLE = "U.S.-Iraq Joint Security Cooperation Dialogues in the news"


LICENSES = [{"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0",
             "path": "https://creativecommons.org/licenses/by/4.0/"}]


PARQUET_MEDIATYPE = "application/vnd.apache.parquet"


# Seconds a build waits for another build's publish lock before giving up (0: do not wait).
LOCK_TIMEOUT_ENV = "FLOWS_PUBLISH_LOCK_TIMEOUT"


DEFAULT_LOCK_TIMEOUT = 0.0


# Fault-injection points for tests (see :func:`checkpoint`).
PAUSE_AT_ENV = "FLOWS_PUBLISH_PAUSE_AT"


PAUSE_FILE_ENV = "FLOWS_PUBLISH_PAUSE_FILE"


class PublishLocked(RuntimeError):
    """Another build holds the output folder's publish lock."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_version(v: str) -> tuple[int, int, int]:
    parts = str(v).split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{v!r} is not a version MAJOR.MINOR.PATCH")
    major, minor, patch = (int(x) for x in parts)
    return major, minor, patch


def releases(output_dir: Path) -> list[str]:
    """Published versions in the output folder, oldest first."""
    out = []
    for p in Path(output_dir).glob("*"):
        if p.is_dir() and not p.is_symlink() and (p / "release.json").exists():
            try:
                parse_version(p.name)
            except ValueError:
                continue
            out.append(p.name)
    return sorted(out, key=parse_version)


def read_release(output_dir: Path, version: str) -> dict:
    return json.loads((Path(output_dir) / version / "release.json").read_text(encoding="utf-8"))


def latest_release(output_dir: Path) -> dict | None:
    versions = releases(output_dir)
    return read_release(output_dir, versions[-1]) if versions else None


def schema_signature() -> dict[str, dict[str, str]]:
    return {name: {f.name: f.type for f in t.fields} for name, t in schemas.tables().items()}


def next_version(previous: dict | None, part: str) -> str:
    if previous is None:
        return "1.0.0"
    major, minor, patch = parse_version(previous["version"])
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def check_new_version(output_dir: Path, version: str, previous: dict | None) -> None:
    """Refuse a version that exists already or is not newer than the newest release."""
    parse_version(version)
    if (Path(output_dir) / version).exists():
        raise FileExistsError(f"release {version} already exists in {output_dir}; releases are immutable")
    if previous is not None and parse_version(version) <= parse_version(previous["version"]):
        raise ValueError(f"version {version} is not newer than the newest release {previous['version']}")


@contextlib.contextmanager
def publish_lock(output_dir: Path, timeout: float | None = None):
    """Hold ``output/.lock`` (``flock``, released by the kernel when the process dies).

    Waits up to ``timeout`` seconds (default: env ``FLOWS_PUBLISH_LOCK_TIMEOUT``, else 0) for another
    build to finish publishing, then raises :class:`PublishLocked` naming the holder.
    """
    if timeout is None:
        timeout = float(os.environ.get(LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT))
    path = Path(output_dir) / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
                    raise PublishLocked(
                        f"another build is publishing into {output_dir} (lock {path.name} held by {holder}); "
                        f"waited {timeout:g} s. Nothing was published by this build: run it again when the "
                        f"other one has finished (or set {LOCK_TIMEOUT_ENV} to wait longer).") from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {_now()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # an idle lock file is empty (a killed holder leaves its name: harmless)
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def checkpoint(point: str) -> None:
    """A named point inside publishing where tests can stop the process.

    When env ``FLOWS_PUBLISH_PAUSE_AT`` names this point, the process writes the point's name into the
    file named by ``FLOWS_PUBLISH_PAUSE_FILE`` and waits there until that file is removed (or 600 s
    pass). A test can SIGKILL it while it waits, or remove the file to let it go on.
    """
    if os.environ.get(PAUSE_AT_ENV) != point:
        return
    marker = Path(os.environ[PAUSE_FILE_ENV])
    marker.write_text(f"{point} {os.getpid()}\n", encoding="utf-8")
    deadline = time.monotonic() + 600
    while marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _make_writable(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        if not p.is_symlink():
            p.chmod(0o755 if p.is_dir() else 0o644)


def remove_stale(output_dir: Path) -> list[str]:
    """Remove what a killed build left behind (staging folders, temporary links and files).

    Only call this while holding the publish lock: then no other build is writing them.
    """
    removed = []
    for p in Path(output_dir).iterdir():
        if p.name.startswith(STAGING_PREFIX) and p.is_dir() and not p.is_symlink():
            _make_writable(p)
            shutil.rmtree(p)
        elif p.name.startswith(TMP_PREFIX) and (p.is_symlink() or p.is_file()):
            p.unlink()
        else:
            continue
        removed.append(p.name)
    return removed


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for p in sorted(path.rglob("*"), reverse=True):
        if not p.is_symlink():
            _fsync_path(p)
    _fsync_path(path)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` in one rename (readers see the old or the new file, never half)."""
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}-{uuid.uuid4().hex[:8]}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def point_latest(output_dir: Path, version: str) -> None:
    """Move ``output/latest`` to ``version`` with an atomic rename of a fresh symlink."""
    tmp = Path(output_dir) / f"{TMP_PREFIX}latest-{uuid.uuid4().hex[:8]}"
    os.symlink(version, tmp, target_is_directory=True)
    os.replace(tmp, Path(output_dir) / LATEST)
    _fsync_path(Path(output_dir))


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def make_read_only(path: Path) -> None:
    for p in sorted(path.rglob("*"), reverse=True):
        if p.is_file():
            p.chmod(0o444)
    for p in [*sorted((d for d in path.rglob("*") if d.is_dir()), reverse=True), path]:
        p.chmod(0o555)
