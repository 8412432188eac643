"""``python -m flows``: run the pipeline by hand and manage the GX project.

    python -m flows build [--raw DIR] [--output DIR] [--version X.Y.Z]
                          [--runner local|dask] [--dask-address tcp://HOST:8786] [--batch-size N]
    python -m flows gx-init          regenerate expectations/ from schemas/
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flows.paths import OUTPUT_DIR, RAW_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="run the build-dataset flow on a raw folder and publish a release")
    b.add_argument("--raw", type=Path, default=RAW_DIR, help="folder of raw article files (default: raw/)")
    b.add_argument("--output", type=Path, default=OUTPUT_DIR, help="output folder (default: output/)")
    b.add_argument("--version", default=None, help="override the automatic SemVer version")
    from flows.buildopts import add_build_options

    add_build_options(b)
    sub.add_parser("gx-init", help="regenerate the Great Expectations project in expectations/ from schemas/")
    args = parser.parse_args(argv)

    if args.command == "gx-init":
        from flows.gx_suites import init_project

        print(f"wrote {init_project()}")
        return 0
    return _build(args)


def _build(args) -> int:
    from flows import settings

    settings.configure()
    from flows.pipeline import ValidationFailed, build_dataset

    from flows.buildopts import flow_options, progress_display

    try:
        with progress_display(args):
            release = build_dataset(raw_dir=str(args.raw.resolve()), output_dir=str(args.output.resolve()),
                                    version=args.version, **flow_options(args))
    except ValidationFailed as exc:
        print(f"\nBUILD FAILED: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"\nBUILD FAILED: {exc}", file=sys.stderr)
        return 2
    print(f"\n{release.message}")
    print(f"release:           {release.path}")
    print(f"validation report: {release.report_path}")
    print(f"latest:            {args.output.resolve() / 'latest'}")
    return 0
