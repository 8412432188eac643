"""Build tables from a raw folder with the plain stage functions (no Prefect) and publish them.

Run as a script in a subprocess by the fault and lock tests:
``python tests/publish_helpers.py RAW OUT`` publishes and prints the release as JSON on stdout;
a ``PublishLocked`` error exits 3 with its message on stderr.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_tables(raw_dir: Path):
    from flows.orchestrate.build import build_tables as build

    return build(Path(raw_dir))


def publish_seeds(base: Path):
    """The seeds copied to ``base/raw`` and published into ``base/out``: (raw copy, output folder, release)."""
    import shutil

    from conftest import RAW

    raw, out = Path(base) / "raw", Path(base) / "out"
    shutil.copytree(RAW, raw)
    return raw, out, publish_raw(raw, out)


def publish_raw(raw_dir: Path, out: Path, version: str | None = None, lock_timeout: float | None = None):
    """As the flow does: nothing is rebuilt when the latest release was built from the same inputs
    (its build key), else the tables are built and published."""
    from flows.orchestrate import batches
    from flows.publish import publish

    files, manifest = batches.fingerprint(Path(raw_dir))
    key = batches.build_key(files, manifest)
    unchanged = None if version else publish.unchanged_build(Path(out), key)
    if unchanged is not None:
        return unchanged
    tables, inventory = build_tables(raw_dir)
    return publish.publish(tables, Path(out), None, None, inventory, version=version, lock_timeout=lock_timeout,
                           build_key=key)


def verify_release(release_dir: Path) -> None:
    """Every file the datapackage lists has its recorded size and sha256."""
    pkg = json.loads((Path(release_dir) / "datapackage.json").read_text(encoding="utf-8"))
    for res in pkg["resources"]:
        data = (Path(release_dir) / res["path"]).read_bytes()
        assert res["bytes"] == len(data), res["path"]
        assert res["hash"] == "sha256:" + hashlib.sha256(data).hexdigest(), res["path"]


def tree_digest(path: Path) -> dict:
    out = {}
    for p in sorted(Path(path).rglob("*")):
        if p.is_file():
            out[str(p.relative_to(path))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def subprocess_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWS_PUBLISH_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests"), env.get("PYTHONPATH", "")])
    env.update({k: str(v) for k, v in extra.items()})
    return env


def main(argv: list[str]) -> int:
    from flows.publish.releases import PublishLocked

    raw, out = Path(argv[0]), Path(argv[1])
    try:
        release = publish_raw(raw, out)
    except PublishLocked as exc:
        print(str(exc), file=sys.stderr)
        return 3
    print(json.dumps({"version": release.version, "published": release.published, "message": release.message}))
    return 0


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    raise SystemExit(main(sys.argv[1:]))
