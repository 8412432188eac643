"""Validation beside publishing (flows.orchestrate.validation): the release's own Parquet files are what is
validated, and nothing is committed unless that validation passed — also when it fails to run, and
also when the tables equal the latest release's."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from publish_helpers import tree_digest

import schemas
from flows.common import paths
from flows.publish import publish, releases
from flows.orchestrate import validation as validate_process
from flows.validate import gx_suites

pytestmark = pytest.mark.slow

REAL = Path(schemas.__file__).parent


@pytest.fixture(scope="module")
def tables_and_inventory():
    from conftest import RAW

    from flows.orchestrate.build import build_tables

    return build_tables(RAW)


@pytest.fixture(scope="module")
def first_release(tables_and_inventory, tmp_path_factory):
    """An output folder holding release 1.0.0 of the seeds' tables (tests publish over a copy)."""
    tables, inventory = tables_and_inventory
    root = tmp_path_factory.mktemp("first")
    (root / "work").mkdir()
    release, report = _publish(tables, inventory, root / "out", root / "work", preload=True)
    return root / "out", release, report


def _publish(tables, inventory, out, workdir, preload=False):
    with validate_process.Validation(workdir) as validation:
        if preload:  # GX imported ahead (a small build's flow), else when validation starts
            validation.preload()
        release = publish.publish(tables, out, None, None, inventory, validation=validation)
        return release, validation.report()


def test_the_published_parquet_files_are_validated_and_the_report_is_in_the_release(tables_and_inventory,
                                                                                     first_release):
    tables, _ = tables_and_inventory
    out, release, report = first_release
    assert release.published and report.passed
    assert {t.table: t.n_rows for t in report.tables if t.kind == "table"} == {n: len(df) for n, df in tables.items()}
    kept = json.loads((release.path / "validation" / "validation.json").read_text(encoding="utf-8"))
    assert kept == json.loads(json.dumps(report.to_json()))
    assert (release.path / "validation" / "index.html").is_file()
    assert json.loads((release.path / "release.json").read_text())["validation"]["passed"] is True
    # the Parquet files it read are the release's own (linked in, not written again)
    assert sorted(p.name for p in release.path.glob("*.parquet")) == sorted(f"{n}.parquet" for n in tables)
    assert not [p for p in out.iterdir() if p.name.startswith(releases.STAGING_PREFIX)]


def test_a_validation_process_that_dies_publishes_nothing(tables_and_inventory, first_release, tmp_path):
    tables, inventory = tables_and_inventory
    out = tmp_path / "out"
    shutil.copytree(first_release[0], out, symlinks=True)
    (tmp_path / "work").mkdir()
    first = first_release[1]
    before, link = tree_digest(out / "latest"), os.readlink(out / "latest")
    edited = {**tables, "documents": tables["documents"].assign(outlet="Another outlet")}
    with validate_process.Validation(tmp_path / "work") as validation:
        validation.child.kill()
        with pytest.raises(RuntimeError, match="validation process ended without a report"):
            publish.publish(edited, out, None, None, inventory, validation=validation)
    assert releases.releases(out) == [first.version] and os.readlink(out / "latest") == link
    assert tree_digest(out / "latest") == before
    assert not [p for p in out.iterdir() if p.name.startswith(releases.STAGING_PREFIX)]


@pytest.fixture
def blocking_check(tmp_path):
    """schemas/ and the GX project with one extra blocking check on documents that the seeds fail;
    the validation process is given the parent's folders, so it runs this suite."""
    root = tmp_path / "schemas"
    shutil.copytree(REAL / "tables", root / "tables")
    shutil.copytree(REAL / "views", root / "views")
    spec = yaml.safe_load((root / "tables" / "documents.yaml").read_text(encoding="utf-8"))
    spec["checks"] = [*spec.get("checks", []), {
        "type": "expect_column_values_to_match_regex", "kwargs": {"column": "source_file", "regex": "^000_"},
        "blocking": True, "reason": "Test-only blocking check that the seeds fail."}]
    (root / "tables" / "documents.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(schemas, "TABLES_DIR", root / "tables")
        mp.setattr(schemas, "VIEWS_DIR", root / "views")
        gx_suites.init_project(tmp_path / "expectations")
        mp.setattr(paths, "GX_DIR", tmp_path / "expectations")
        yield


def test_a_failed_validation_commits_nothing_even_for_unchanged_tables(tables_and_inventory, first_release, tmp_path,
                                                                      request):
    tables, inventory = tables_and_inventory
    out = tmp_path / "out"
    shutil.copytree(first_release[0], out, symlinks=True)
    first = first_release[1]
    before, link = tree_digest(out / "latest"), os.readlink(out / "latest")
    request.getfixturevalue("blocking_check")
    for candidate in (tables, {**tables, "documents": tables["documents"].assign(outlet="Another outlet")}):
        work = tmp_path / f"work-{len(list(tmp_path.glob('work-*')))}"
        work.mkdir()
        with pytest.raises(validate_process.ValidationFailed) as failed:
            _publish(candidate, inventory, out, work)
        (failure,) = failed.value.report.blocking
        assert failure.table == "documents" and failure.unexpected_count == 4
        assert releases.releases(out) == [first.version] and os.readlink(out / "latest") == link
        assert tree_digest(out / "latest") == before
        assert (work / "validation.json").is_file(), "the report stays for the caller to keep"
