"""Serve the ``build-dataset`` flow as a deployment with a daily schedule (``flow.serve``).

    python -m flows.deploy [--name daily] [--cron "0 3 * * *"] [--raw DIR] [--output DIR]
                           [--runner local|dask] [--dask-address ADDR] [--batch-size N] [--cache-dir DIR]

This process keeps running: it registers the deployment ``build-dataset/<name>`` with the Prefect API,
runs it on schedule, and runs anything triggered by hand:
``prefect deployment run 'build-dataset/<name>' --param runner=dask``.
The same deployment for a work pool and worker is declared in ``prefect.yaml``.

API: ``PREFECT_API_URL`` when set (a ``prefect server start`` elsewhere). Otherwise this command starts a
local Prefect server itself (``--port``, loopback only; its SQLite database under PREFECT_HOME, as the
embedded default's) and stops it on exit: Prefect's temporary embedded server has no scheduler, so
schedules need a real one. ``--no-server`` serves on the temporary server anyway (manual runs only).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from flows.orchestrate import settings

DEFAULT_NAME = "daily"
DEFAULT_CRON = "0 3 * * *"  # every day at 03:00
DEFAULT_TIMEZONE = "UTC"


def parameters(args) -> dict:
    """Deployment parameters from the command line (flow defaults where not given)."""
    params: dict = {}
    if args.raw:
        params["raw_dir"] = str(Path(args.raw).resolve())
    if args.output:
        params["output_dir"] = str(Path(args.output).resolve())
    if args.dask_address:
        params["runner"], params["dask_address"] = "dask", args.dask_address
    elif args.runner:
        params["runner"] = args.runner
    if args.batch_size:
        params["batch_size"] = args.batch_size
    if args.cache_dir:
        params["cache_dir"] = str(Path(args.cache_dir).resolve())
    return params


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m flows.deploy", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", default=DEFAULT_NAME, help=f"deployment name (default: {DEFAULT_NAME})")
    p.add_argument("--cron", default=DEFAULT_CRON, help=f"schedule, cron syntax (default: '{DEFAULT_CRON}')")
    p.add_argument("--timezone", default=DEFAULT_TIMEZONE)
    p.add_argument("--raw", type=Path, default=None, help="raw folder (default: the flow's, raw/)")
    p.add_argument("--output", type=Path, default=None, help="output folder (default: the flow's, output/)")
    p.add_argument("--runner", choices=["local", "dask"], default=None)
    p.add_argument("--dask-address", default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--cache-dir", type=Path, default=None)
    p.add_argument("--port", type=int, default=4200, help="port of the local server started when needed")
    p.add_argument("--no-server", action="store_true", help="do not start a local server without PREFECT_API_URL")
    return p


@contextlib.contextmanager
def local_server(port: int, timeout: float = 180.0):
    """``prefect server start`` on 127.0.0.1:``port`` for the lifetime of the block; yields its API URL."""
    prefect_cli = Path(sys.executable).with_name("prefect")
    api = f"http://127.0.0.1:{port}/api"
    # the UI asks its server's settings for the API to call (default: port 4200): this one's
    env = {**os.environ, "PREFECT_SERVER_UI_API_URL": api}
    proc = subprocess.Popen([str(prefect_cli), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"prefect server exited with {proc.returncode} (is port {port} in use?)")
            try:
                with urllib.request.urlopen(api + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"prefect server did not answer on {api} within {timeout:.0f}s")
            time.sleep(1)
        yield api
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv: list[str] | None = None) -> None:
    settings.configure()  # before anything imports pyarrow or prefect
    args = build_parser().parse_args(argv)
    if os.environ.get("PREFECT_API_URL") or args.no_server:
        serve(args)
        return
    with local_server(args.port) as api:
        os.environ["PREFECT_API_URL"] = api  # before prefect is imported
        print(f"local Prefect server: {api.removesuffix('/api')} (UI)\n"
              f"to trigger a run by hand, in another shell:\n"
              f"  export PREFECT_API_URL={api}\n"
              f"  .venv/bin/prefect deployment run 'build-dataset/{args.name}' --watch", flush=True)
        serve(args)


def serve(args) -> None:
    from prefect.schedules import Cron

    from flows.pipeline import build_dataset

    build_dataset.serve(
        name=args.name,
        schedule=Cron(args.cron, timezone=args.timezone),
        parameters=parameters(args),
        tags=["jscd"],
        description="Daily build of the dataset from the raw folder; publishes a release when the tables changed.",
    )


if __name__ == "__main__":
    main()
