"""``python -m flows``: run the pipeline by hand and manage the GX project.

    python -m flows build [--raw DIR] [--output DIR] [--version X.Y.Z]
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

    try:
        release = build_dataset(raw_dir=str(args.raw.resolve()), output_dir=str(args.output.resolve()),
                                version=args.version)
    except ValidationFailed as exc:
        print(f"\nBUILD FAILED: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"\nBUILD FAILED: {exc}", file=sys.stderr)
        return 2
    from flows.validate import summary_text_from_file

    if release.report_path:
        summary = summary_text_from_file(Path(release.report_path).parent / "validation.json")
        if summary:
            print(f"\n{summary}")
    print(f"\n{release.message}")
    print(f"release:           {release.path}")
    print(f"validation report: {release.report_path}")
    print(f"latest:            {args.output.resolve() / 'latest'}")
    return 0
