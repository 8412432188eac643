"""Scale-out: the flow on a two-worker Dask LocalCluster builds the same tables as the stage functions."""

from __future__ import annotations

import pandas as pd
import pytest

from flows.orchestrate import buildopts, progress

pytestmark = pytest.mark.slow


class Capture(progress.Reporter):
    def __init__(self):
        self.result = None

    def summary(self, summary):
        self.result = summary


def _build(raw, out, cache, runner):
    from flows.pipeline import build_dataset

    cap = Capture()
    previous = progress.set_reporter(cap)
    try:
        release = build_dataset(raw_dir=str(raw), output_dir=str(out), batch_size=2, cache_dir=str(cache),
                                runner=runner, workers=2)
    finally:
        progress.set_reporter(previous)
    return release, cap.result


def test_dask_runner_builds_the_same_tables_as_the_stage_functions(prefect_harness, seed_tables, tmp_path):
    """Every table the flow publishes from batches computed on the cluster is the one the plain stage
    functions make of the whole corpus at once (``seed_tables``); test_incremental compares the local
    runner's (a pool of worker processes) with the same."""
    from conftest import RAW, assert_release_holds

    import schemas

    release, dask = _build(RAW, tmp_path / "dask", tmp_path / "cache-dask", "dask")
    assert release.published
    assert dask.runner == "dask" and dask.batches >= 2
    assert dask.batches_cached == {"documents": 0}  # the batches really ran on the cluster
    assert_release_holds(tmp_path / "dask" / "latest", seed_tables)
    assert dask.rows == {table: len(seed_tables[table]) for table in schemas.tables()}


def test_dask_address_implies_the_dask_runner():
    import argparse

    parser = argparse.ArgumentParser()
    buildopts.add_build_options(parser)
    opts = buildopts.flow_options(parser.parse_args(["--dask-address", "tcp://scheduler:8786"]))
    assert opts["runner"] == "dask" and opts["dask_address"] == "tcp://scheduler:8786"
    assert buildopts.flow_options(parser.parse_args([])) == {}  # the flow's defaults: local runner
    opts = buildopts.flow_options(parser.parse_args(["--runner", "dask", "--batch-size", "50"]))
    assert opts == {"runner": "dask", "batch_size": 50}


def test_local_runner_is_a_process_pool_only_when_it_pays():
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

    from flows.pipeline import task_runner

    assert isinstance(task_runner("local", workers=2, n_batches=3), ProcessPoolTaskRunner)
    # one batch, or one worker: no process to start (~8 s of imports), the batch runs in this process
    assert isinstance(task_runner("local", workers=2, n_batches=1), ThreadPoolTaskRunner)
    assert isinstance(task_runner("local", workers=1, n_batches=5), ThreadPoolTaskRunner)
    with pytest.raises(ValueError, match="unknown runner"):
        task_runner("threads")


def test_cli_build_on_worker_processes_uses_one_temporary_api_server(tmp_path):
    """Without PREFECT_API_URL a CLI build runs on Prefect's temporary server; its worker processes
    report to that server instead of each starting one of their own."""
    import os
    import subprocess
    import sys

    from conftest import RAW, ROOT

    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    proc = subprocess.run(
        [sys.executable, "-m", "flows", "build", "--raw", str(RAW), "--output", str(tmp_path / "out"),
         "--batch-size", "2", "--workers", "2", "--cache-dir", str(tmp_path / "cache"), "--no-progress"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert log.count("Starting temporary server") == 1, log[-3000:]
    assert "2 worker(s)" in log
    assert (tmp_path / "out" / "latest" / "documents.parquet").exists()
