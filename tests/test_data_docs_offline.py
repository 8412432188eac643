"""The validation report's pages load nothing from the internet (flows/validate/data_docs.py).

Fast: the rewrite is checked on GX's own page templates (as installed, so a GX upgrade that adds a
CDN asset fails here) and on a small site; the pages as a browser renders them offline are checked
in tests/test_site_offline.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flows.validate import data_docs

GX_VIEW = Path(__import__("great_expectations").__file__).parent / "render" / "view"
HEAD_TEMPLATES = ("page.j2", "index_page.j2", "page_minimal.j2", "js_script_imports.j2")


def _local_links(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="((?:\.\./)*static/[^"]+)"', page)


@pytest.mark.parametrize("template", HEAD_TEMPLATES)
def test_every_external_asset_of_gx_templates_is_rewritten(template):
    text = (GX_VIEW / "templates" / template).read_text(encoding="utf-8")
    assert data_docs.external_resources(text), "the template loads from a CDN: the test would see it"
    assert data_docs.external_resources(data_docs.rewrite_page(text, "../")) == []


def test_the_rewritten_index_loads_bootstrap_jquery_font_awesome_and_the_table_stand_in(tmp_path):
    page = data_docs.rewrite_page((GX_VIEW / "templates" / "index_page.j2").read_text(encoding="utf-8")
                                  + (GX_VIEW / "templates" / "js_script_imports.j2").read_text(encoding="utf-8"), "")
    links = _local_links(page)
    for expected in ("static/vendor/bootstrap/css/bootstrap.min.css", "static/vendor/jquery/jquery.min.js",
                     "static/vendor/bootstrap/js/bootstrap.bundle.min.js",
                     "static/vendor/fontawesome/css/solid.min.css", "static/offline-table.js"):
        assert expected in links
    assert page.index("jquery.min.js") < page.index("bootstrap.bundle.min.js") < page.index("offline-table.js")


def test_css_urls_and_logo_images_point_into_the_site():
    css = (GX_VIEW / "static" / "styles" / "data_docs_default_styles.css").read_text(encoding="utf-8")
    assert data_docs.external_resources(css)
    rewritten = data_docs.rewrite_css(css, "../../")
    assert data_docs.external_resources(rewritten) == []
    assert "url('../../static/images/logo-long.png')" in rewritten
    img = '<img class="NO-CACHE" src="https://example.org/assets/logo-long.png?d=1&amp;x=2" alt="GX"/>'
    assert data_docs.rewrite_page(img, "../../") == '<img class="NO-CACHE" src="../../static/images/logo-long.png" alt="GX"/>'


def test_a_small_site_made_offline_has_every_file_it_links(tmp_path):
    site = tmp_path / "site"
    head = (GX_VIEW / "templates" / "js_script_imports.j2").read_text(encoding="utf-8")
    page = ('<html><head><link rel="stylesheet" href="https://cdn.example.org/bootstrap/4.3.1/css/'
            'bootstrap.min.css"/><link rel="shortcut icon" href="../../../static/images/favicon.ico"/>'
            f"{head}</head><body></body></html>")
    deep = site / "validations" / "suite" / "run" / "time" / "page.html"
    for path in (site / "index.html", deep):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
    (site / "static" / "images").mkdir(parents=True)
    (site / "static" / "images" / "favicon.ico").write_bytes(b"icon")
    data_docs.make_offline(site)
    for path in (site / "index.html", deep):
        text = path.read_text(encoding="utf-8")
        assert data_docs.external_resources(text) == []
        links = _local_links(text)
        assert len(links) >= 7
        for link in links:
            assert (path.parent / link).resolve().is_file(), (path, link)
    fa = (site / data_docs.VENDOR / "fontawesome" / "css" / "solid.min.css").read_text(encoding="utf-8")
    for font in re.findall(r"url\(([^)]+)\)", fa):  # the stylesheet's fonts are shipped beside it
        assert (site / data_docs.VENDOR / "fontawesome" / "css" / font).resolve().is_file(), font
    for name in ("bootstrap/css/bootstrap.min.css", "bootstrap/js/bootstrap.bundle.min.js"):
        assert "sourceMappingURL" not in (site / data_docs.VENDOR / name).read_text(encoding="utf-8")
