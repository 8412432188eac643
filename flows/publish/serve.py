"""Serve the output folder over HTTP, read-only: ``python -m flows serve [--output DIR] [--port N] [--host H]``.

Built on Starlette's ``StaticFiles`` run by uvicorn (no hand-written HTTP): content types, ``Content-Length``,
``ETag``/``Last-Modified`` (conditional requests answer 304) and byte ``Range`` requests (206), which
Parquet readers over HTTP (pandas/fsspec, pyarrow, DuckDB's httpfs) rely on.

Security:
- binds 127.0.0.1 unless ``--host`` says otherwise;
- only GET and HEAD (anything else: 405), nothing is ever written;
- only files inside the output folder: a path that resolves outside it, through ``..`` (raw or
  %-encoded) or through a symlink, answers 404; symlinks inside the folder (``latest``) work;
- no directory listings: a folder answers its ``index.html`` or 404;
- hidden entries (``.lock``, staging folders, temporary files) are never served;
- ``X-Content-Type-Options: nosniff`` on every answer.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
_RELEASE_PATH = re.compile(r"^/\d+\.\d+\.\d+/")

mimetypes.add_type("application/vnd.apache.parquet", ".parquet")
mimetypes.add_type("text/markdown", ".md")
mimetypes.add_type("text/csv", ".csv")
mimetypes.add_type("application/json", ".json")
mimetypes.add_type("text/plain", ".cff")  # CITATION.cff (YAML): shown by a browser, not downloaded
mimetypes.add_type("application/vnd.sqlite3", ".db")


def create_app(output_dir: Path):
    """The ASGI app serving ``output_dir``."""
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    class OutputFiles(StaticFiles):
        def get_path(self, scope) -> str:
            path = super().get_path(scope)
            if any(part.startswith(".") for part in Path(path).parts):
                # "..", hidden files, staging folders: never served
                raise HTTPException(status_code=404)
            return path

    root = Path(output_dir).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"output folder {output_dir} does not exist: run `python -m flows build` first")
    # follow_symlink=False: Starlette resolves every path (realpath) and refuses one outside the folder
    files = OutputFiles(directory=root, html=True, follow_symlink=False)
    app = Starlette(routes=[Mount("/", app=files)])

    async def headers(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
                # a release folder never changes; everything else (latest, catalog) may
                immutable = _RELEASE_PATH.match(scope.get("path", "")) and message["status"] in (200, 206, 304)
                extra.append((b"cache-control", b"public, max-age=31536000, immutable" if immutable else b"no-cache"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return await app(scope, receive, send_with_headers)

    return headers


def serve(output_dir: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    import uvicorn

    app = create_app(output_dir)
    print(f"serving {Path(output_dir).resolve()} read-only at http://{host}:{port}/ (Ctrl+C stops)")
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: --host {host} makes the server reachable from other machines", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
