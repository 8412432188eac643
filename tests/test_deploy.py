"""Deployments: prefect.yaml loads and a served deployment run completes against a local Prefect API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _deployments():
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    return spec["deployments"]


def test_prefect_yaml_declares_a_daily_build_dataset_deployment_that_loads():
    from prefect.flows import load_flow_from_entrypoint
    from prefect.schedules import Cron

    deps = _deployments()
    assert deps, "prefect.yaml declares no deployment"
    for dep in deps:
        path, _ = dep["entrypoint"].split(":")
        assert (ROOT / path).is_file()
        cwd = os.getcwd()
        try:
            os.chdir(ROOT)
            flow = load_flow_from_entrypoint(dep["entrypoint"])
        finally:
            os.chdir(cwd)
        assert flow.name == "build-dataset"
        # the parameters are ones the flow accepts, with valid values
        validated = flow.validate_parameters(dep.get("parameters", {}))
        assert validated["runner"] in ("local", "dask")
        crons = [s["cron"] for s in dep["schedules"]]
        assert crons, "no schedule"
        for c in crons:
            Cron(c)  # raises on an invalid expression
            minute, hour, dom, month, dow = c.split()
            assert dom == month == dow == "*", "the build runs daily"
        assert dep["work_pool"]["name"]


def test_serve_parameters_come_from_the_command_line(tmp_path):
    from flows import deploy

    args = deploy.build_parser().parse_args(["--raw", str(tmp_path), "--dask-address", "tcp://h:8786"])
    params = deploy.parameters(args)
    assert params == {"raw_dir": str(tmp_path.resolve()), "runner": "dask", "dask_address": "tcp://h:8786"}
    assert deploy.parameters(deploy.build_parser().parse_args([])) == {}


@pytest.mark.slow
def test_a_served_deployment_run_completes_against_a_local_server(prefect_harness, raw_copy, tmp_path):
    """`python -m flows.deploy` serves build-dataset; a run triggered by hand through the API publishes."""
    from prefect import get_client
    from prefect.deployments import run_deployment

    with get_client(sync_client=True) as client:
        api_url = str(client.api_url).rstrip("/")
    out = tmp_path / "out"
    env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_HOME": str(tmp_path / "prefect-home")}
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.deploy", "--name", "test-serve", "--raw", str(raw_copy), "--output", str(out),
         "--batch-size", "2", "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        deployment = None
        with get_client(sync_client=True) as client:
            while deployment is None:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "deployment was not registered in time"
                try:
                    deployment = client.read_deployment_by_name("build-dataset/test-serve")
                except Exception:
                    time.sleep(1)
        assert deployment.schedules and deployment.schedules[0].schedule.cron == "0 3 * * *"
        run = run_deployment("build-dataset/test-serve", parameters={"version": "2.0.0"}, timeout=420,
                             poll_interval=2)
        assert run.state is not None and run.state.is_completed(), (
            f"{run.state}\n" + (tmp_path / "serve.log").read_text()[-4000:])
        assert os.readlink(out / "latest") == "2.0.0"  # the manual parameter reached the run
        assert (out / "2.0.0" / "paragraphs.parquet").exists()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.slow
def test_the_local_server_ui_calls_the_api_on_the_port_it_was_given(tmp_path, monkeypatch):
    """``python -m flows.deploy --port N`` starts a server whose UI calls the API on port N (not 4200)."""
    import json
    import urllib.request

    from serve_helpers import free_port

    from flows.deploy import local_server

    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))
    port = free_port()
    with local_server(port) as api:
        with urllib.request.urlopen(api.removesuffix("/api") + "/ui-settings", timeout=10) as r:
            settings = json.loads(r.read())
    assert settings["api_url"] == f"http://127.0.0.1:{port}/api" == api
