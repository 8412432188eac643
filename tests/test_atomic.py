"""Atomic publishing: a build killed (SIGKILL) at any point of publishing leaves the previous release and
``latest`` intact, and the next run completes; two builds at once: exactly one publishes.

The builds run in subprocesses (``tests/publish_helpers.py``: the plain stage functions + publish) that
stop at a named point inside publish (``flows.publish.releases.checkpoint``) until the test kills or releases them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from publish_helpers import ROOT, publish_raw, subprocess_env, tree_digest, verify_release

from flows.publish import publish, releases

NEW_ARTICLE = ("Rail operator adds night trains\n\n"
               "The rail operator said on Friday it will add two night trains between the cities.\n")

# every named point inside publish, in the order it passes them
POINTS_BEFORE_RENAME = ["locked", "version_chosen", "tables_written", "release_written", "before_rename"]
POINTS_AFTER_RENAME = ["renamed", "latest_moved", "wrote_catalog_json", "wrote_index_html"]


def _start(raw: Path, out: Path, pause_at: str | None, marker: Path, **env) -> subprocess.Popen:
    extra = {releases.PAUSE_AT_ENV: pause_at, releases.PAUSE_FILE_ENV: marker} if pause_at else {}
    return subprocess.Popen([sys.executable, str(ROOT / "tests" / "publish_helpers.py"), str(raw), str(out)],
                            env=subprocess_env(**extra, **env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _wait_for(marker: Path, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"build ended before its pause point: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("build never reached its pause point")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """An output folder holding release 1.0.0 of raw/, and a raw folder with one article more."""
    from conftest import RAW

    root = tmp_path_factory.mktemp("atomic")
    out = root / "out"
    publish_raw(RAW, out)
    raw = root / "raw"
    shutil.copytree(RAW, raw)
    (raw / "900_new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    return out, raw


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS_BEFORE_RENAME + POINTS_AFTER_RENAME)
def test_sigkill_during_publish_keeps_latest_and_the_rerun_publishes(base, tmp_path, point):
    base_out, raw = base
    out = tmp_path / "out"
    shutil.copytree(base_out, out, symlinks=True)
    before = tree_digest(out / "1.0.0")
    marker = tmp_path / "paused"
    proc = _start(raw, out, point, marker)
    _wait_for(marker, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    # the previous release is untouched and still verifies
    assert tree_digest(out / "1.0.0") == before
    verify_release(out / "1.0.0")
    latest = os.readlink(out / "latest")
    if point in POINTS_BEFORE_RENAME:
        assert latest == "1.0.0"
        assert releases.releases(out) == ["1.0.0"]
    else:  # killed after the rename: the new release is complete (latest may or may not have moved)
        assert latest in ("1.0.0", "1.1.0")
        verify_release(out / "1.1.0")
    verify_release(out / "latest")
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(releases.STAGING_PREFIX)]
    if point != "locked":  # the CSV files' staging folder (and before the rename, the release's)
        assert any(n.startswith(f"{releases.STAGING_PREFIX}csv-") for n in leftovers), leftovers

    # the next run completes: one new release, latest on it, no leftovers, catalog lists both. After
    # the rename the release was built from the same inputs: the next build rebuilds nothing and
    # publishes nothing, but still moves latest, writes the catalog and removes the leftovers
    rerun = publish_raw(raw, out)
    assert rerun.version == "1.1.0"
    assert rerun.published is (point in POINTS_BEFORE_RENAME)
    assert os.readlink(out / "latest") == "1.1.0"
    assert releases.releases(out) == ["1.0.0", "1.1.0"]
    verify_release(out / "1.1.0")
    assert tree_digest(out / "1.0.0") == before
    assert not [p.name for p in out.iterdir() if p.name.startswith((releases.STAGING_PREFIX, releases.TMP_PREFIX))]
    catalog = json.loads((out / "catalog.json").read_text())
    assert [r["version"] for r in catalog["releases"]] == ["1.1.0", "1.0.0"] and catalog["latest"] == "1.1.0"
    assert 'data-version="1.1.0" data-latest="true"' in (out / "index.html").read_text()
    # and a run after that has nothing left to repair
    assert publish.repair(out) == []


@pytest.fixture(scope="module")
def newer(base, tmp_path_factory):
    """``base``'s output folder after publishing release 1.1.0 of its raw folder, and the catalog of
    1.0.0 alone."""
    base_out, raw = base
    out = tmp_path_factory.mktemp("newer") / "out"
    shutil.copytree(base_out, out, symlinks=True)
    old_catalog = (out / "catalog.json").read_bytes()
    assert publish_raw(raw, out).published  # 1.1.0
    return out, old_catalog


@pytest.mark.parametrize("damage", ["latest removed", "latest on the older release", "catalog removed",
                                    "catalog of the older release only"])
def test_an_unchanged_build_repairs_latest_and_the_catalog(base, newer, tmp_path, damage):
    """Whatever state a crash left ``latest`` and the catalog in, the next build (unchanged input:
    nothing rebuilt) points latest at the newest release and lists every release."""
    _, raw = base
    out = tmp_path / "out"
    shutil.copytree(newer[0], out, symlinks=True)
    old_catalog = newer[1]
    if damage == "latest removed":
        (out / "latest").unlink()
    elif damage == "latest on the older release":
        releases.point_latest(out, "1.0.0")
    elif damage == "catalog removed":
        (out / "catalog.json").unlink()
    else:
        (out / "catalog.json").write_bytes(old_catalog)
    again = publish_raw(raw, out)
    assert not again.published and again.version == "1.1.0" and "repaired" in again.message
    assert os.readlink(out / "latest") == "1.1.0"
    catalog = json.loads((out / "catalog.json").read_text())
    assert catalog["latest"] == "1.1.0" and [r["version"] for r in catalog["releases"]] == ["1.1.0", "1.0.0"]


@pytest.mark.slow
def test_two_builds_at_once_exactly_one_publishes_and_the_other_reports_the_lock(base, tmp_path):
    base_out, raw = base
    out = tmp_path / "out"
    shutil.copytree(base_out, out, symlinks=True)
    marker = tmp_path / "paused"
    first = _start(raw, out, "locked", marker)
    second = None
    try:
        _wait_for(marker, first)  # the first build holds the lock
        second = _start(raw, out, None, tmp_path / "unused")
        _, err = second.communicate(timeout=180)
        assert second.returncode == 3
        assert "another build is publishing" in err and f"pid {first.pid}" in err
        marker.unlink()  # let the first build go on
        got, err1 = first.communicate(timeout=180)
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.kill()
    assert first.returncode == 0, err1
    assert json.loads(got.strip().splitlines()[-1]) == {"version": "1.1.0", "published": True,
                                                        "message": "published release 1.1.0"}
    assert releases.releases(out) == ["1.0.0", "1.1.0"]
    assert os.readlink(out / "latest") == "1.1.0"
    verify_release(out / "1.1.0")


@pytest.mark.slow
def test_a_waiting_build_publishes_nothing_twice(base, tmp_path):
    """With a lock timeout the second build waits, then finds the same tables already published."""
    base_out, raw = base
    out = tmp_path / "out"
    shutil.copytree(base_out, out, symlinks=True)
    marker = tmp_path / "paused"
    first = _start(raw, out, "release_written", marker)
    second = None
    try:
        _wait_for(marker, first)
        second = _start(raw, out, None, tmp_path / "unused", **{releases.LOCK_TIMEOUT_ENV: 120})
        time.sleep(1.0)
        assert second.poll() is None, "the second build waits for the lock"
        marker.unlink()
        out1, _ = first.communicate(timeout=180)
        out2, err2 = second.communicate(timeout=180)
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.kill()
    assert json.loads(out1.strip().splitlines()[-1])["published"] is True
    assert second.returncode == 0, err2
    assert json.loads(out2.strip().splitlines()[-1])["published"] is False
    assert releases.releases(out) == ["1.0.0", "1.1.0"]


def test_lock_reports_its_holder_in_process(tmp_path):
    with releases.publish_lock(tmp_path, timeout=0):
        with pytest.raises(releases.PublishLocked, match=f"pid {os.getpid()}"):
            # a second descriptor on the same file conflicts like another process would
            with releases.publish_lock(tmp_path, timeout=0.3):
                pass
    with releases.publish_lock(tmp_path, timeout=0):  # released on exit
        pass
    assert (tmp_path / releases.LOCK_NAME).read_text() == ""


def test_stale_staging_folders_are_removed_by_the_next_run(base, tmp_path):
    base_out, raw = base
    out = tmp_path / "out"
    shutil.copytree(base_out, out, symlinks=True)
    stale = out / f"{releases.STAGING_PREFIX}1.1.0-deadbeef"
    (stale / "validation").mkdir(parents=True)
    (stale / "documents.csv").write_text("half a file")
    releases.make_read_only(stale)
    os.symlink("1.0.0", out / f"{releases.TMP_PREFIX}latest-deadbeef")
    release = publish_raw(raw, out)
    assert release.version == "1.1.0"
    assert not stale.exists() and not (out / f"{releases.TMP_PREFIX}latest-deadbeef").is_symlink()


@pytest.mark.slow
def test_the_build_command_reports_the_lock_and_exits_non_zero(base, tmp_path):
    """`python -m flows build` while another build holds the lock: exit code 3, a clear message, nothing
    published by it; the holder then publishes."""
    base_out, raw = base
    out = tmp_path / "out"
    shutil.copytree(base_out, out, symlinks=True)
    marker = tmp_path / "paused"
    holder = _start(raw, out, "locked", marker)
    try:
        _wait_for(marker, holder)
        cli = subprocess.run([sys.executable, "-m", "flows", "build", "--raw", str(raw), "--output", str(out)],
                             cwd=ROOT, env=subprocess_env(PREFECT_HOME=str(tmp_path / "prefect")),
                             capture_output=True, text=True, timeout=600)
        assert cli.returncode == 3, cli.stderr[-3000:]
        assert "BUILD NOT PUBLISHED: another build is publishing" in cli.stderr
        assert releases.releases(out) == ["1.0.0"] and os.readlink(out / "latest") == "1.0.0"
        marker.unlink()
        holder.communicate(timeout=180)
    finally:
        if holder.poll() is None:
            holder.kill()
    assert holder.returncode == 0
    assert releases.releases(out) == ["1.0.0", "1.1.0"]
