"""What each expectation of a validation suite costs (issue 32): seconds and the memory it takes
above the suite's frame, one expectation at a time, over a release's Parquet files.

    .venv/bin/python -m benchmarks.suite_profile RELEASE_DIR [--suite paragraphs] [--suite ...]

The suite's frame is the validation stage's (``validate.suite_frame`` over the Parquet files; the
foreign keys lent to ``expect_column_values_to_be_keys_of``). Then each expectation of
``schemas/`` runs alone on that frame through GX, with the checkpoints' result format, while a
thread samples the process's resident memory every 5 ms (``step_memory.StepSampler``); the
allocator's free memory is handed back before each one, so its figure is what it needed on top of
the frame. Printed per expectation: type, column, seconds, MB. A suite run as one checkpoint shares
some metrics between its expectations, so the sum of the seconds is an upper bound.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.orchestrate import settings  # noqa: E402

settings.configure()


def profile_suite(release: Path, name: str) -> list[tuple[str, str, float, float]]:
    """(expectation type, column, seconds, MB above the frame) of each expectation of suite ``name``."""
    import schemas
    from flows.common import parquet_tables
    from flows.orchestrate import memory
    from flows.validate import gx_runtime, validate
    from flows.validate.gx_suites import expectation_specs, unexpected_index_columns

    gx = gx_runtime.load_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.registry import get_expectation_impl

    from benchmarks.step_memory import StepSampler
    from flows.validate.gx_expectations import reference_keys

    views = schemas.views()
    tables = parquet_tables.ParquetTables(release)
    df = validate.suite_frame(tables, name, views, validate.suite_columns(name, views))
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": unexpected_index_columns(name)}
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batches = context.data_sources.add_pandas("profile").add_dataframe_asset(name).add_batch_definition_whole_dataframe(
        "whole")
    specs = expectation_specs(name)
    with reference_keys(validate.foreign_keys(tables)), StepSampler() as sampler:
        for i, spec in enumerate(specs):
            suite = gx.ExpectationSuite(name=f"{name}-one")
            suite.add_expectation(get_expectation_impl(spec["type"])(severity=spec["severity"], **spec["kwargs"]))
            memory.release_memory()
            sampler.close(i)  # an interval of its own: from here to the end of its validation
            batches.get_batch(batch_parameters={"dataframe": df}).validate(suite, result_format=result_format)
            sampler.close("between")
            gx_runtime.forget_batches(context)
    # each expectation's interval, and the resident memory when it started (the interval before it ended)
    started = {row["step"]: before["end"] for before, row in zip(sampler.rows, sampler.rows[1:])}
    timed = {row["step"]: row for row in sampler.rows}
    return [(spec["type"], spec["kwargs"].get("column", ""), timed[i]["s"], (timed[i]["peak"] - started[i]) / 2**20)
            for i, spec in enumerate(specs)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("release", type=Path, help="a folder of the tables' Parquet files (a release)")
    ap.add_argument("--suite", action="append", help="a table or view (default: paragraphs); repeatable")
    args = ap.parse_args()
    for name in args.suite or ["paragraphs"]:
        rows = profile_suite(args.release, name)
        print(f"== {name}: {len(rows)} expectations, {sum(r[2] for r in rows):.2f} s")
        print(f"{'expectation':52s} {'column':14s} {'s':>6s} {'MB':>6s}")
        for kind, column, seconds, mb in rows:
            print(f"{kind:52s} {column:14s} {seconds:6.2f} {mb:6.0f}")


if __name__ == "__main__":
    main()
