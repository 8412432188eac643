"""Headless Chromium without a network: the landing page, a table preview and the validation report
(index, an expectation suite page, result pages) render with their styles and pass/fail icons.

The seeds are validated (GX, in this process) and published with their report; a second validation of
the seeds with one broken value gives a report with a failure (kept as a failed build's report). The
output folder is served by the project's own server on the loopback; the browser resolves no other
name and reaches no other address (``tests/browser.py``: ``chromium(offline=True)``). For each page the
DevTools log must show requests to the loopback server only, none failed and none answered with an
error, and the console no error. Screenshots are saved under the test's temporary folder, and copied
into ``$SITE_SCREENSHOT_DIR`` when it is set (to look at them).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from serve_helpers import running_server

pytestmark = pytest.mark.slow

BOOTSTRAP_SUCCESS = "rgb(40, 167, 69)"  # Bootstrap 4's .text-success
BOOTSTRAP_DANGER = "rgb(220, 53, 69)"  # Bootstrap 4's .text-danger
FONT_AWESOME = '900 16px "Font Awesome 6 Free"'


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """An output folder with a release validated by GX (its report inside) and a failed build's report."""
    from conftest import RAW
    from publish_helpers import build_tables

    from flows.publish import publish
    from flows.validate import validate

    root = tmp_path_factory.mktemp("site")
    tables, inventory = build_tables(RAW)
    report = validate.validate(tables, root / "good")
    assert report.passed
    out = root / "out"
    publish.publish(tables, out, Path(report.docs_dir), root / "good" / "validation.json", inventory)
    broken = dict(tables)
    paragraphs = tables["paragraphs"].copy()
    paragraphs.loc[paragraphs.index[0], "status"] = "bogus"  # one value outside its set: a blocking failure
    broken["paragraphs"] = paragraphs
    failed = validate.validate(broken, root / "bad")
    assert not failed.passed
    publish.keep_failed_report(out, "broken", Path(failed.docs_dir), root / "bad" / "validation.json")
    return out


@pytest.fixture(scope="module")
def offline_browser():
    from browser import chromium, find_browser

    if find_browser() is None:
        pytest.skip("Chromium and chromedriver are not installed: apt-get install chromium chromium-driver")
    with chromium(offline=True) as driver:
        driver.get("about:blank")
        driver.get_log("performance")  # what the browser did before (its start page): not ours
        yield driver


@pytest.fixture(scope="module")
def served(site):
    with running_server(site) as url:
        yield url


def _open(driver, url: str, base: str, shots: Path, name: str) -> None:
    """Load ``url`` and check that it loaded only from ``base``: no other request, none failed, no
    error answer, no console error; then save a screenshot."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("performance")
    driver.get_log("browser")
    driver.get(url)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    driver.execute_script("return document.fonts.ready.then(() => true)")
    events = [json.loads(e["message"])["message"] for e in driver.get_log("performance")]
    requests = [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]
    assert requests and requests[0] == url
    elsewhere = [r for r in requests if not r.startswith(base + "/") and not r.startswith("data:")]
    assert not elsewhere, f"{name}: requests that left the machine: {elsewhere}"
    failed = [e["params"] for e in events if e["method"] == "Network.loadingFailed"]
    assert not failed, f"{name}: failed loads: {failed}"
    errors = [(e["params"]["response"]["url"], e["params"]["response"]["status"])
              for e in events if e["method"] == "Network.responseReceived" and e["params"]["response"]["status"] >= 400]
    assert not errors, f"{name}: error answers: {errors}"
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(r.startswith(base + "/") or r.startswith("data:") for r in resources), resources
    console = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not console, f"{name}: console errors: {console}"
    _screenshot(driver, shots, name)


def _screenshot(driver, shots: Path, name: str) -> None:
    path = shots / f"{name}.png"
    driver.save_screenshot(str(path))
    if os.environ.get("SITE_SCREENSHOT_DIR"):
        shutil.copy(path, os.environ["SITE_SCREENSHOT_DIR"])


def _style(driver, css: str, prop: str, pseudo: str | None = None) -> str:
    return driver.execute_script(
        "const el = document.querySelector(arguments[0]);"
        "return el ? getComputedStyle(el, arguments[2]).getPropertyValue(arguments[1]) : null;", css, prop, pseudo)


def _visible_icons(driver, css: str) -> list[dict]:
    """The elements matching ``css`` with their rendered size and the glyph their ::before draws."""
    return driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(el => {"
        "  const box = el.getBoundingClientRect();"
        "  return {width: box.width, height: box.height, glyph: getComputedStyle(el, '::before').content,"
        "          font: getComputedStyle(el).fontFamily};});", css)


def _assert_font_awesome(driver, css: str, minimum: int = 1) -> None:
    assert driver.execute_script("return document.fonts.check(arguments[0])", FONT_AWESOME), "icon font not loaded"
    icons = _visible_icons(driver, css)
    assert len(icons) >= minimum, f"{css}: {len(icons)} icons"
    for icon in icons:
        assert icon["width"] > 0 and icon["height"] > 0, icon
        assert icon["glyph"] not in ("none", "normal", '""'), icon
        assert "Font Awesome 6 Free" in icon["font"], icon


def test_the_landing_page_and_a_preview_render_offline_with_their_style(site, served, offline_browser, tmp_path):
    from selenium.webdriver.common.by import By

    driver = offline_browser
    _open(driver, served + "/", served, tmp_path, "landing")
    assert _style(driver, "header.site", "background-color") == "rgb(22, 50, 79)", "the page's style applies"
    badge = driver.find_element(By.CSS_SELECTOR, "#badges .badge.validation")
    assert badge.get_attribute("data-status") == "passed" and "pass" in badge.get_attribute("class").split()
    assert badge.get_attribute("href") == f"{served}/1.0.0/validation/index.html"
    assert _style(driver, "#badges .badge.validation", "color") == "rgb(26, 127, 55)"
    icon = badge.find_element(By.CSS_SELECTOR, "svg.icon-pass")
    assert icon.size["width"] > 0 and icon.size["height"] > 0
    figures = {f.get_attribute("data-figure"): f.find_element(By.CLASS_NAME, "value").text
               for f in driver.find_elements(By.CSS_SELECTOR, "#coverage .figure")}
    assert figures["documents"] == "5" and figures["releases"] == "1"
    driver.find_element(By.CSS_SELECTOR, "tr[data-table='participants'] a.preview").click()

    _open(driver, driver.current_url, served, tmp_path, "preview-participants")
    assert driver.current_url == f"{served}/1.0.0/preview/participants.html"
    assert _style(driver, "table.rows thead th", "background-color") == "rgb(243, 245, 247)"
    rows = driver.find_elements(By.CSS_SELECTOR, "table.rows tbody tr")
    assert 0 < len(rows) <= 50
    described = driver.find_elements(By.CSS_SELECTOR, "table.columns td.description")
    assert described and all(d.text.strip() for d in described)


def test_the_validation_report_renders_offline_with_bootstrap_and_pass_icons(site, served, offline_browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = offline_browser
    report = site / "1.0.0" / "validation"
    suites = [t["table"] for t in json.loads((report / "validation.json").read_text())["tables"]]
    _open(driver, f"{served}/1.0.0/validation/index.html", served, tmp_path, "validation-index")
    # GX's own list of validation results, filled by the project's stand-in for bootstrap-table
    WebDriverWait(driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "table.offline-table tbody tr")) > 0)
    listed = driver.find_elements(By.CSS_SELECTOR, ".ge-index-page-validation-results-table tbody tr")
    assert len(listed) == len(suites)
    assert _style(driver, ".ge-index-page-validation-results-table .text-success", "color") == BOOTSTRAP_SUCCESS
    _assert_font_awesome(driver, ".ge-index-page-validation-results-table i.fa-check-circle.text-success", len(suites))
    _assert_font_awesome(driver, "#build-validation-summary i.fa-check-circle", len(suites))
    assert "PASSED" in driver.find_element(By.ID, "build-validation-summary").text

    _open(driver, f"{served}/1.0.0/validation/expectations/documents.html", served, tmp_path, "suite-documents")
    assert _style(driver, ".navbar", "position") == "sticky", "Bootstrap's navbar classes apply"
    _assert_font_awesome(driver, "i.fas", 1)

    (result,) = (report / "validations" / "documents").rglob("*.html")
    _open(driver, f"{served}/1.0.0/validation/{result.relative_to(report).as_posix()}", served, tmp_path,
          "result-documents")
    n_expectations = next(t["n_expectations"] for t in json.loads((report / "validation.json").read_text())["tables"]
                          if t["table"] == "documents")
    _assert_font_awesome(driver, "td i.fa-check-circle.text-success", n_expectations)
    assert _style(driver, "td i.fa-check-circle.text-success", "color") == BOOTSTRAP_SUCCESS
    assert not driver.find_elements(By.CSS_SELECTOR, "i.fa-times.text-danger")


def test_a_failed_report_shows_its_failure_icons_offline(site, served, offline_browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = offline_browser
    report = site / "_failed" / "broken" / "validation"
    _open(driver, f"{served}/_failed/broken/validation/index.html", served, tmp_path, "failed-index")
    WebDriverWait(driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "table.offline-table tbody tr")) > 0)
    _assert_font_awesome(driver, ".ge-index-page-validation-results-table i.fa-times.text-danger", 1)
    _assert_font_awesome(driver, "#build-validation-summary i.fa-times-circle", 1)
    assert "FAILED" in driver.find_element(By.ID, "build-validation-summary").text

    (result,) = (report / "validations" / "paragraphs").rglob("*.html")
    _open(driver, f"{served}/_failed/broken/validation/{result.relative_to(report).as_posix()}", served, tmp_path,
          "failed-result-paragraphs")
    _assert_font_awesome(driver, "td i.fa-times.text-danger", 1)
    assert _style(driver, "td i.fa-times.text-danger", "color") == BOOTSTRAP_DANGER
    _assert_font_awesome(driver, "td i.fa-check-circle.text-success", 1)
    failure = driver.find_element(By.CSS_SELECTOR, "td i.fa-times.text-danger")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", failure)
    row = failure.find_element(By.XPATH, "./ancestor::tr[1]").text
    assert "bogus" in row and "content title duplicate boilerplate" in row, row
    _screenshot(driver, tmp_path, "failed-result-paragraphs-failure")
