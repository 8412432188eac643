"""Working folders (``flows.common.workdirs``): a build killed with SIGKILL cannot remove its temporary
folders; the next one does, and never one that a running process still uses."""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
from pathlib import Path

from publish_helpers import ROOT, subprocess_env

from flows.common import workdirs

HOLD = ("import sys, time; from flows.common import workdirs; w = workdirs.WorkDir(sys.argv[1], dir=sys.argv[2]); "
        "open(w.name + '/data', 'w').write('x'); print(w.name, flush=True); time.sleep(600)")


def _holder(prefix: str, base: Path) -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, prefix, str(base)], cwd=ROOT, env=subprocess_env(),
                            stdout=subprocess.PIPE, text=True)
    return proc, Path(proc.stdout.readline().strip())


def test_the_folder_of_a_killed_process_is_removed_by_the_next_one(tmp_path):
    killed, stale = _holder("build-dataset-", tmp_path)
    alive, busy = _holder("build-dataset-", tmp_path)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=60)
        assert (stale / "data").exists()  # SIGKILL: nothing could remove it
        foreign = tmp_path / "build-dataset-not-ours"  # made by other code: no lock file
        foreign.mkdir()
        with workdirs.WorkDir("build-dataset-", dir=tmp_path) as name:
            assert Path(name).is_dir() and Path(name) != stale
            assert not stale.exists()
            assert (busy / "data").exists() and foreign.exists()
        assert not Path(name).exists()
    finally:
        alive.kill()
        alive.wait(timeout=60)
    assert workdirs.sweep("build-dataset-", tmp_path) == [busy]  # its process is gone now
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build-dataset-not-ours"]


def test_cleanup_and_the_finaliser_remove_the_folder(tmp_path):
    w = workdirs.WorkDir("x-", dir=tmp_path)
    (Path(w.name) / "f").write_text("y")
    w.cleanup()
    assert not Path(w.name).exists()
    name = workdirs.WorkDir("x-", dir=tmp_path).name
    gc.collect()  # (collected at once anyway: no reference is left) its finaliser removes it
    assert not Path(name).exists()
