"""Run ``flows.publish.serve``'s app with uvicorn on a free loopback port in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """Wraps the app and records (method, path, Range header, status) of every request."""

    def __init__(self, app):
        self.app = app
        self.requests: list[tuple[str, str, str | None, int]] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rng = dict(scope["headers"]).get(b"range")

        async def recording_send(message):
            if message["type"] == "http.response.start":
                self.requests.append((scope["method"], scope["path"], rng.decode() if rng else None,
                                      message["status"]))
            await send(message)

        return await self.app(scope, receive, recording_send)


def first_answer(url: str, proc, what: str, timeout: float = 60):
    """The first answer of ``url`` from the server process ``proc`` just started (it must stay alive)."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            assert proc.poll() is None and time.monotonic() < deadline, f"{what} did not start"
            time.sleep(0.2)


@contextmanager
def running_server(output_dir: Path, recorder: list | None = None):
    """Yield the base URL of a server for ``output_dir``; stop it on exit. When ``recorder`` is a list,
    the :class:`Recorder` wrapping the app is appended to it."""
    import uvicorn

    from flows.publish.serve import create_app

    port = free_port()
    app = Recorder(create_app(output_dir))
    if recorder is not None:
        recorder.append(app)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", server_header=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
