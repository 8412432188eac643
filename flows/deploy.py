"""Serve the ``build-dataset`` flow as a deployment with a daily schedule (``flow.serve``).

    python -m flows.deploy [--name daily] [--cron "0 3 * * *"] [--raw DIR] [--output DIR]
                           [--runner local|dask] [--dask-address ADDR] [--batch-size N] [--cache-dir DIR]

This process keeps running: it registers the deployment ``build-dataset/<name>`` with the Prefect API
(``PREFECT_API_URL``, e.g. a ``prefect server start``), runs it on schedule, and runs anything
triggered by hand: ``prefect deployment run 'build-dataset/<name>' --param runner=dask``.
The same deployment for a work pool and worker is declared in ``prefect.yaml``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flows import settings

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
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    settings.configure()
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
