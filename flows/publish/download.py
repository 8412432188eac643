"""Download a release and verify it: ``python -m flows download --version latest --format csv DEST``.

The source is a server (``--from http://127.0.0.1:8000``, e.g. ``python -m flows serve``) or an output
folder on disk (``--output DIR``, default ``output/``). The release's ``datapackage.json`` says which
files make the chosen format and their size and sha256; each file is streamed into a staging folder,
checked, and only when every file is verified do they move into DEST (all or nothing). A file whose
size or sha256 differs fails the download (exit code 1) and leaves DEST as it was: DEST never holds an
unverified file under a data file's name, nor some of a release's files without the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

FORMATS = ("csv", "parquet")
CHUNK = 1 << 16


class VerificationError(RuntimeError):
    """A downloaded file does not match the datapackage (size or sha256)."""


@dataclass
class Downloaded:
    version: str
    files: list[Path]
    datapackage: Path


def _is_url(source: str) -> bool:
    return str(source).startswith(("http://", "https://"))


def _safe_name(path: str) -> str:
    """A resource path from a (possibly remote) datapackage: only a plain file name is accepted."""
    p = PurePosixPath(path)
    if p.is_absolute() or len(p.parts) != 1 or p.name in ("", ".", "..") or p.name.startswith(".") or "\\" in path:
        raise VerificationError(f"refusing resource path {path!r}: not a plain file name in the release")
    return p.name


class _Source:
    def __init__(self, source: str | Path):
        self.source = source
        self.client = None
        if _is_url(str(source)):
            import httpx

            self.client = httpx.Client(base_url=str(source).rstrip("/") + "/", timeout=60, follow_redirects=False)

    def read(self, rel: str) -> bytes:
        if self.client is not None:
            with self._http_errors(rel):
                r = self.client.get(rel)
                r.raise_for_status()
                return r.content
        path = Path(self.source) / rel
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist (no such release?)")
        return path.read_bytes()

    def _http_errors(self, rel: str):
        import contextlib

        import httpx

        @contextlib.contextmanager
        def wrap():
            try:
                yield
            except httpx.HTTPStatusError as exc:
                code = exc.response.status_code
                raise FileNotFoundError(f"{self.source}/{rel}: HTTP {code}"
                                        + (" (no such release?)" if code == 404 else "")) from None
            except httpx.HTTPError as exc:
                raise OSError(f"{self.source}/{rel}: {exc}") from None

        return wrap()

    def stream_to(self, rel: str, fh) -> None:
        if self.client is not None:
            with self._http_errors(rel), self.client.stream("GET", rel) as r:
                r.raise_for_status()
                for chunk in r.iter_bytes(CHUNK):
                    fh.write(chunk)
        else:
            with open(Path(self.source) / rel, "rb") as src:
                shutil.copyfileobj(src, fh, CHUNK)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


def resources_for(package: dict, fmt: str) -> list[dict]:
    """The resources of the data tables in ``fmt`` (the raw manifest comes with CSV)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    return [r for r in package["resources"] if r.get("format") == fmt]


def _fetch_verified(src: _Source, rel: str, dest: Path, expected_bytes: int | None, expected_hash: str | None) -> Path:
    if not expected_hash or not expected_hash.startswith("sha256:"):
        raise VerificationError(f"{rel}: the datapackage gives no sha256 to verify it against")
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
    h = hashlib.sha256()
    try:
        with open(tmp, "wb") as fh:
            src.stream_to(rel, fh)
        size = tmp.stat().st_size
        with open(tmp, "rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                h.update(chunk)
        if expected_bytes is not None and size != expected_bytes:
            raise VerificationError(f"{rel}: {size} bytes, the datapackage says {expected_bytes}")
        if "sha256:" + h.hexdigest() != expected_hash:
            raise VerificationError(f"{rel}: sha256 {h.hexdigest()} does not match the datapackage "
                                    f"({expected_hash.removeprefix('sha256:')})")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


STAGING_PREFIX = ".download-"


def download(dest: Path, version: str = "latest", fmt: str = "csv", source: str | Path | None = None) -> Downloaded:
    """Download release ``version`` (``latest`` or X.Y.Z) in format ``fmt`` into ``dest``, verified.

    All or nothing: every file is fetched and verified in a staging folder first; only then do the
    files move into ``dest`` (a new ``dest`` is the staging folder renamed whole; into an existing one
    the data files move first, ``datapackage.json`` last). A download that fails leaves ``dest`` as
    it was (a ``dest`` it would have made is not made); a killed one leaves a staging folder that the
    next download into the same place removes (``flows.common.workdirs``)."""
    from flows.common import workdirs
    from flows.common.paths import OUTPUT_DIR

    if version != "latest":
        from flows.publish.releases import parse_version

        parse_version(version)
    source = source if source is not None else OUTPUT_DIR
    dest = Path(dest)
    fresh = not dest.exists()
    if fresh:  # staged beside it, then renamed into place in one step
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = workdirs.WorkDir(f".{dest.name}{STAGING_PREFIX}", dir=dest.parent)
    else:
        staging = workdirs.WorkDir(STAGING_PREFIX, dir=dest)
    with staging:
        folder = Path(staging.name)
        src = _Source(source)
        try:
            raw = src.read(f"{version}/datapackage.json")
            package = json.loads(raw)
            resolved = str(package["version"])
            if version != "latest" and resolved != version:
                raise VerificationError(f"asked for release {version}, the datapackage says {resolved}")
            names = []
            for res in resources_for(package, fmt):
                name = _safe_name(res["path"])
                # fetch by the resolved version: a `latest` moving during the download cannot mix releases
                _fetch_verified(src, f"{resolved}/{name}", folder / name, res.get("bytes"), res.get("hash"))
                names.append(name)
        finally:
            src.close()
        (folder / "datapackage.json").write_bytes(raw)
        if fresh:
            os.remove(folder / workdirs.LOCK)  # (still locked: the descriptor stays open until cleanup)
            os.rename(folder, dest)
        else:
            for name in [*names, "datapackage.json"]:  # the descriptor last: it names the files
                os.replace(folder / name, dest / name)
    return Downloaded(resolved, [dest / name for name in names], dest / "datapackage.json")
