"""The catalog of releases: catalog.json, and index.html as a person sees it in a browser."""

from __future__ import annotations

import hashlib
import json

import pytest
from publish_helpers import publish_raw, publish_seeds
from serve_helpers import running_server

from flows.publish import catalog


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory):
    raw, out, _ = publish_seeds(tmp_path_factory.mktemp("catalog"))
    (raw / "900_new.txt").write_text("A second headline\n\nA second paragraph of plain text.\n", encoding="utf-8")
    publish_raw(raw, out)
    return out


def test_catalog_json_lists_every_release(two_releases):
    out = two_releases
    cat = json.loads((out / "catalog.json").read_text())
    assert cat["latest"] == "1.1.0"
    assert [r["version"] for r in cat["releases"]] == ["1.1.0", "1.0.0"]
    newest, oldest = cat["releases"]
    assert newest["latest"] and not oldest["latest"]
    assert newest["row_counts"]["documents"] == 6 and oldest["row_counts"]["documents"] == 5
    assert newest["created"] and newest["validation"]["status"] in ("passed", "passed with warnings", "unknown")
    assert newest["changes"]["tables"]["documents"] == {"added": 1, "removed": 0, "changed": 0}
    for r in cat["releases"]:
        pkg = json.loads((out / r["version"] / "datapackage.json").read_text())
        assert {f["href"] for f in r["files"]} == {f"{r['version']}/{res['path']}" for res in pkg["resources"]}
        for f in r["files"]:
            assert (out / f["href"]).exists()
    assert catalog.build(out) == cat  # a function of the release folders


def test_catalog_records_validation_status(tmp_path):
    from conftest import RAW
    from publish_helpers import build_tables

    from flows.publish import publish

    tables, inventory = build_tables(RAW)
    report = tmp_path / "validation.json"
    report.write_text(json.dumps({"passed": True, "tables": [], "failures": [
        {"table": "documents", "blocking": False, "expectation": "x"}]}))
    publish.publish(tables, tmp_path / "out", None, report, inventory)
    cat = json.loads((tmp_path / "out" / "catalog.json").read_text())
    assert cat["releases"][0]["validation"] == {"status": "passed with warnings", "passed": True,
                                                "blocking": 0, "warnings": 1}
    assert cat["releases"][0]["documents"]["validation_json"] == "1.0.0/validation/validation.json"


def test_index_html_escapes_everything():
    page = catalog.render_html({
        "name": "x", "title": "<script>alert(1)</script>", "description": "<em>d</em>", "latest": "1.0.0",
        "citation": "<s>cite</s>",
        "releases": [{"version": "1.0.0\"><img src=x onerror=alert(1)>", "created": "<b>now</b>", "latest": True,
                      "fingerprint": "f", "row_counts": {"<i>t</i>": 1},
                      "validation": {"status": "unknown"}, "changes": None,
                      "files": [{"resource": "r", "format": "csv", "href": "javascript:alert(1)\"", "bytes": 1,
                                 "hash": "h"}], "documents": {"datapackage": "<q>p</q>", "dictionary": "d"},
                      "coverage": {"documents": "<kbd>1</kbd>", "outlets": "<var>2</var>"},
                      "formats": ["<tt>csv</tt>"],
                      "tables": [{"name": "<i>t</i>", "title": "<u>T</u>", "rows": 1, "preview": None,
                                  "dictionary": None, "files": {"<tt>csv</tt>": {
                                      "href": "<a>x</a>", "bytes": 1, "resource": "<dfn>r</dfn>"}}}],
                      "downloads": [{"kind": "<sub>db</sub>", "name": "<sup>n</sup>", "href": "h", "bytes": 2}]}]})
    for raw in ("<script>", "<img", "<b>", "<i>", "<u>", 'alert(1)"', "<em>", "<s>", "<q>", "<kbd>", "<var>",
                "<tt>", "<a>x", "<dfn>", "<sub>", "<sup>"):
        assert raw not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x" in page and "&lt;kbd&gt;1" in page


def test_browser_finds_the_newest_release_and_its_download_links(two_releases, browser):
    from selenium.webdriver.common.by import By

    out = two_releases
    with running_server(out) as url:
        browser.get(url + "/")
        assert "Joint Security Cooperation" in browser.title
        sections = browser.find_elements(By.CSS_SELECTOR, "section.release")
        assert [s.get_attribute("data-version") for s in sections] == ["1.1.0", "1.0.0"]
        newest = sections[0]
        assert newest.get_attribute("data-latest") == "true"
        assert "latest" in newest.find_element(By.TAG_NAME, "h2").text
        rows = {td.get_attribute("data-table"): int(td.text) for td in newest.find_elements(By.CSS_SELECTOR, "td.rows")}
        assert rows["documents"] == 6
        links = {a.get_attribute("data-resource"): a.get_attribute("href")  # per table, and whole-release files
                 for a in newest.find_elements(By.CSS_SELECTOR, "a.download, a.whole")}
        assert {"documents", "documents-parquet", "paragraphs", "paragraphs-parquet"} <= set(links)
        assert links["documents"] == f"{url}/1.1.0/documents.csv"
        pkg = json.loads((out / "1.1.0" / "datapackage.json").read_text())
        import httpx

        for res in pkg["resources"]:
            body = httpx.get(links[res["name"]], timeout=30).content  # every link downloads the recorded file
            assert "sha256:" + hashlib.sha256(body).hexdigest() == res["hash"], res["name"]
        # the data dictionary of the newest release opens from its link
        newest.find_element(By.CSS_SELECTOR, "a.doc[data-doc='dictionary']").click()
        assert "Data dictionary" in browser.find_element(By.TAG_NAME, "h1").text
        assert browser.find_elements(By.CSS_SELECTOR, "section.table#table-paragraphs")
