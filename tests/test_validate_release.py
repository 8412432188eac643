"""A warning-only build publishes, with its warnings in the release's report; the report opens in a browser.

The schema folder is a copy of schemas/ whose documents table carries one extra *warning* check that
the seeds fail on purpose (row-level, so the failing rows' keys must show up in the report).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

import schemas
from flows.common import paths
from flows.validate import gx_suites

pytestmark = pytest.mark.slow

REAL = Path(schemas.__file__).parent
WARNING_CHECK = {
    "type": "expect_column_values_to_match_regex",
    "kwargs": {"column": "source_file", "regex": "^000_"},
    "blocking": False,
    "reason": "Test-only warning: every source file name starts with 000_ (the seeds break it on purpose).",
}


@pytest.fixture(scope="module")
def warning_release(prefect_harness, seed_tables, tmp_path_factory):
    from conftest import RAW

    root = tmp_path_factory.mktemp("warned")
    shutil.copytree(REAL / "tables", root / "tables")
    if (REAL / "views").exists():
        shutil.copytree(REAL / "views", root / "views")
    docs = yaml.safe_load((root / "tables" / "documents.yaml").read_text(encoding="utf-8"))
    docs["checks"] = [*docs.get("checks", []), WARNING_CHECK]
    (root / "tables" / "documents.yaml").write_text(yaml.safe_dump(docs, sort_keys=False), encoding="utf-8")
    out = root / "output"
    docs_df = seed_tables["documents"]
    expected_keys = sorted(docs_df.loc[~docs_df["source_file"].str.startswith("000_"), "doc_id"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(schemas, "TABLES_DIR", root / "tables")
        mp.setattr(schemas, "VIEWS_DIR", root / "views")
        gx_suites.init_project(root / "expectations")
        mp.setattr(paths, "GX_DIR", root / "expectations")
        code, stdout, _ = _cli(["build", "--raw", str(RAW), "--output", str(out)])
        # the schema patch stays active for the module's tests
        yield {"out": out, "code": code, "stdout": stdout, "suites": gx_suites.suite_names(),
               "keys": expected_keys}


def _cli(argv):
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from flows import cli

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def _tree_digest(path: Path) -> dict:
    import hashlib

    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(path).rglob("*")) if p.is_file()}


def test_a_warning_only_run_publishes_and_summarises_the_warning(warning_release):
    out = warning_release["out"]
    assert warning_release["code"] == 0, warning_release["stdout"]
    assert os.readlink(out / "latest") == "1.0.0"
    report = json.loads((out / "latest" / "validation" / "validation.json").read_text())
    assert report["passed"] is True
    assert not [f for f in report["failures"] if f["blocking"]]
    (warning,) = [f for f in report["failures"] if f["reason"].startswith("Test-only warning")]
    assert warning["blocking"] is False and warning["table"] == "documents"
    assert warning["expectation"] == "expect_column_values_to_match_regex"
    assert sorted(warning["unexpected_keys"]) == warning_release["keys"] and len(warning["unexpected_keys"]) == 4
    # the CLI prints the same summary: every suite's line and the warning with its keys
    stdout = warning_release["stdout"]
    for suite in warning_release["suites"]:
        assert suite in stdout
    assert "warning  documents expect_column_values_to_match_regex on source_file" in stdout
    assert all(k in stdout for k in warning_release["keys"])
    assert "published release 1.0.0" in stdout


def test_the_release_data_docs_open_in_chromium_with_every_suite_and_the_keys(warning_release, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    index = warning_release["out"] / "latest" / "validation" / "index.html"
    browser.get(index.resolve().as_uri())
    suites = warning_release["suites"]
    WebDriverWait(browser, 30).until(lambda d: "Validation of this build" in d.find_element(By.TAG_NAME, "body").text)
    text = browser.find_element(By.TAG_NAME, "body").text
    browser.save_screenshot(str(tmp_path / "data-docs-index.png"))
    if os.environ.get("DATA_DOCS_SCREENSHOT_DIR"):  # to look at it by hand
        shutil.copy(tmp_path / "data-docs-index.png", os.environ["DATA_DOCS_SCREENSHOT_DIR"])
    assert "PASSED: no blocking failure" in text and "warning(s)" in text
    listed = [line.split()[0] for line in text.splitlines() if line.split() and line.split()[0] in suites]
    assert listed == suites, "every suite (tables and views) has a row in the index"
    assert "warning documents expect_column_values_to_match_regex on source_file (4 rows)" in text
    assert all(k in text for k in warning_release["keys"]), "the failing doc_ids are listed in the index"
    assert "BLOCKING" not in text

    # the documents result page lists the failing rows' keys
    pages = sorted((index.parent / "validations" / "documents").rglob("*.html"))
    assert len(pages) == 1
    browser.get(pages[0].resolve().as_uri())
    WebDriverWait(browser, 30).until(lambda d: "Expectation Validation Result" in d.find_element(By.TAG_NAME, "body").text)
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "source_file" in page and "^000_" in page
    assert all(k in page for k in warning_release["keys"]), "GX's own result page lists the failing doc_ids"
    browser.save_screenshot(str(tmp_path / "data-docs-documents.png"))
    if os.environ.get("DATA_DOCS_SCREENSHOT_DIR"):
        shutil.copy(tmp_path / "data-docs-documents.png", os.environ["DATA_DOCS_SCREENSHOT_DIR"])


def test_a_blocking_failure_exits_non_zero_keeps_its_report_and_leaves_latest_alone(warning_release, monkeypatch):
    from conftest import RAW

    from flows.dedup import dedup

    out = warning_release["out"]
    before, link = _tree_digest(out / "latest"), os.readlink(out / "latest")
    original = dedup.dedup
    victim = {}

    def broken(paragraphs, *args, **kwargs):
        marked = original(paragraphs, *args, **kwargs)
        marked.loc[0, "status"] = "bogus"
        victim["para_id"] = marked.loc[0, "para_id"]
        return marked

    monkeypatch.setattr(dedup, "dedup", broken)
    code, stdout, stderr = _cli(["build", "--raw", str(RAW), "--output", str(out), "--refresh-cache"])  # code patched in memory only
    assert code == 1
    assert "BUILD FAILED" in stderr and "nothing published" in stderr
    assert "BLOCKING paragraphs expect_column_values_to_be_in_set on status" in stderr
    assert victim["para_id"] in stderr
    assert os.readlink(out / "latest") == link and _tree_digest(out / "latest") == before
    (index,) = (out / "_failed").glob("*/validation/index.html")
    page = index.read_text(encoding="utf-8")
    assert "FAILED: 1 blocking expectation(s) failed" in page and victim["para_id"] in page
