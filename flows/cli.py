"""``python -m flows``: run the pipeline by hand and manage the GX project.

    python -m flows build [--raw DIR] [--output DIR] [--version X.Y.Z]
                          [--runner local|dask] [--dask-address tcp://HOST:8786] [--batch-size N]
    python -m flows gx-init          regenerate expectations/ from schemas/
    python -m flows serve [--output DIR] [--port N] [--host H]      serve output/ read-only over HTTP
    python -m flows download [--version latest|X.Y.Z] [--format csv|parquet] [--from URL | --output DIR] DEST
    python -m flows sql "SELECT ..." [--release latest|X.Y.Z] [--source output/|URL] [--csv]
    python -m flows explore [--output DIR] [--version latest|X.Y.Z] [--host H] [--port N]
                                     a release's SQLite database in datasette
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flows.common.paths import OUTPUT_DIR, RAW_DIR
from flows.orchestrate import settings


def main(argv: list[str] | None = None) -> int:
    settings.configure()  # before anything imports pyarrow or prefect
    parser = argparse.ArgumentParser(prog="python -m flows", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="run the build-dataset flow on a raw folder and publish a release")
    b.add_argument("--raw", type=Path, default=RAW_DIR, help="folder of raw article files (default: raw/)")
    b.add_argument("--output", type=Path, default=OUTPUT_DIR, help="output folder (default: output/)")
    b.add_argument("--version", default=None, help="override the automatic SemVer version")
    from flows.orchestrate.buildopts import add_build_options

    add_build_options(b)
    sub.add_parser("gx-init", help="regenerate the Great Expectations project in expectations/ from schemas/")
    _add_serve_download(sub)
    _add_sql(sub)
    _add_explore(sub)
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is not None:
        return args.run(args)

    if args.command == "gx-init":
        from flows.validate.gx_suites import init_project

        print(f"wrote {init_project()}")
        return 0
    return _build(args)


def _build(args) -> int:
    from flows.ingest.ingest import ManifestError
    from flows.orchestrate.buildopts import flow_options, progress_display
    from flows.orchestrate.memory import freeze_imports
    from flows.pipeline import ValidationFailed, build_dataset
    from flows.publish.releases import PublishLocked

    freeze_imports()  # Prefect's and pandas' objects: the stages' garbage collections skip them

    try:
        with progress_display(args):
            release = build_dataset(raw_dir=str(args.raw.resolve()), output_dir=str(args.output.resolve()),
                                    version=args.version, **flow_options(args))
    except ValidationFailed as exc:
        print(f"\nBUILD FAILED: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ManifestError) as exc:  # no raw folder; a malformed raw/sources.csv
        print(f"\nBUILD FAILED: {exc}", file=sys.stderr)
        return 2
    except PublishLocked as exc:
        print(f"\nBUILD NOT PUBLISHED: {exc}", file=sys.stderr)
        return 3
    from flows.validate.validate import summary_text_from_file

    if release.report_path:
        summary = summary_text_from_file(Path(release.report_path).parent / "validation.json")
        if summary:
            print(f"\n{summary}")
    print(f"\n{release.message}")
    print(f"release:           {release.path}")
    print(f"validation report: {release.report_path}")
    print(f"latest:            {args.output.resolve() / 'latest'}")
    print(f"catalog:           {args.output.resolve() / 'index.html'}")
    if getattr(release, "published", False) and release.path:
        print(f"changes:           {release.path / 'CHANGES.md'}")
    return 0


def _add_serve_download(sub) -> None:
    s = sub.add_parser("serve", help="serve the output folder read-only over HTTP (127.0.0.1 by default)")
    s.add_argument("--output", type=Path, default=OUTPUT_DIR, help="output folder (default: output/)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    s.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    s.set_defaults(run=_serve)
    d = sub.add_parser("download", help="download a release and verify every file's sha256 against its datapackage")
    d.add_argument("dest", type=Path, help="folder to write the files into (created)")
    d.add_argument("--version", default="latest", help="latest (default) or a version X.Y.Z")
    d.add_argument("--format", default="csv", choices=["csv", "parquet"], help="file format (default: csv)")
    src = d.add_mutually_exclusive_group()
    src.add_argument("--from", dest="url", default=None, help="base URL of a server (python -m flows serve)")
    src.add_argument("--output", type=Path, default=None, help="an output folder on disk (default: output/)")
    d.set_defaults(run=_download)


def _add_sql(sub) -> None:
    q = sub.add_parser("sql", help="run a DuckDB query over a release (a view per table: who_took_part, quotes, ...)")
    q.add_argument("query", help='e.g. "SELECT event_name, name, side FROM who_took_part WHERE role = \'head_of_delegation\'"')
    q.add_argument("--release", default="latest", help="latest (default) or a version X.Y.Z")
    q.add_argument("--source", default=None, help="an output folder (default: output/) or a server's URL")
    q.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    q.set_defaults(run=_sql)


def _sql(args) -> int:
    import pandas as pd

    from flows.publish.access import sql

    try:
        result = sql(args.query, args.release, args.source)
    except (FileNotFoundError, KeyError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a query error is the user's to see, as DuckDB words it
        print(f"query failed: {exc}", file=sys.stderr)
        return 1
    if args.csv:
        result.to_csv(sys.stdout, index=False)
    else:
        with pd.option_context("display.max_rows", 200, "display.max_columns", 30, "display.width", 200,
                               "display.max_colwidth", 80):
            print(result.to_string(index=False))
    return 0


def _add_explore(sub) -> None:
    e = sub.add_parser("explore", help="browse, search and query a release's SQLite database in datasette")
    e.add_argument("--output", type=Path, default=OUTPUT_DIR, help="output folder (default: output/)")
    e.add_argument("--version", default="latest", help="latest (default) or a version X.Y.Z")
    e.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    e.add_argument("--port", type=int, default=8001, help="port (default: 8001)")
    e.set_defaults(run=_explore)


def _explore(args) -> int:
    from flows.publish.sqlite_db import explore

    try:
        explore(args.output, version=args.version, host=args.host, port=args.port)
    except (FileNotFoundError, ValueError) as exc:  # no such release; a version that is not X.Y.Z
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _serve(args) -> int:
    from flows.publish.serve import serve

    try:
        serve(args.output, host=args.host, port=args.port)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _download(args) -> int:
    from flows.publish.download import VerificationError, download

    try:
        got = download(args.dest, version=args.version, fmt=args.format, source=args.url or args.output)
    except VerificationError as exc:
        print(f"DOWNLOAD FAILED verification: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"DOWNLOAD FAILED: {exc}", file=sys.stderr)
        return 2
    for f in got.files:
        print(f"verified  {f}")
    print(f"release {got.version}: {len(got.files)} file(s), sha256 verified; descriptor {got.datapackage}")
    return 0
