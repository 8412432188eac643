"""Scale-out: the flow on a two-worker Dask LocalCluster builds the same tables as the local runner (a
pool of two processes)."""

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


def test_dask_runner_builds_the_same_tables_as_the_local_runner(prefect_harness, tmp_path):
    from conftest import RAW

    local_release, local = _build(RAW, tmp_path / "local", tmp_path / "cache-local", "local")
    dask_release, dask = _build(RAW, tmp_path / "dask", tmp_path / "cache-dask", "dask")
    assert local_release.published and dask_release.published
    assert dask.runner == "dask" and dask.batches >= 2
    assert local.runner == "local" and local.workers == 2  # the local runner's pool of 2 processes
    assert dask.batches_cached == {"documents": 0}  # the batches really ran on the cluster
    for table in ("documents", "paragraphs", "rejections"):
        a = pd.read_parquet(tmp_path / "local" / "latest" / f"{table}.parquet")
        b = pd.read_parquet(tmp_path / "dask" / "latest" / f"{table}.parquet")
        pd.testing.assert_frame_equal(a, b)
    assert dask.rows == local.rows and dask.paragraphs == local.paragraphs


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
