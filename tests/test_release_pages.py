"""What a release and the output folder hold for people: the landing page, previews, the changes page,
the dictionary's contents and links, CITATION.cff and the zip (plain functions, no Prefect, no browser).

The seeds are published twice (a second release adds an article), as ``tests/test_catalog.py`` does.
"""

from __future__ import annotations

import html.parser
import json
import re
import shutil
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from publish_helpers import publish_raw, publish_seeds

import schemas
from flows.publish import bundle, catalog, changes_page, citation, preview

NEW_ARTICLE = "A second headline\n\nA second paragraph of plain text.\n"


class Page(html.parser.HTMLParser):
    """The links, ids and text of an HTML page, and the elements with a class (stdlib parser only)."""

    def __init__(self, text: str):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.classes: dict[str, list[dict]] = {}
        self.text_parts: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "src"):
            if attrs.get(name):
                self.links.append(attrs[name])
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for cls in (attrs.get("class") or "").split():
            self.classes.setdefault(cls, []).append(attrs)

    def handle_data(self, data):
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())


def _local(link: str) -> bool:
    return not re.match(r"^[a-z]+:", link) and not link.startswith("#")


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    raw, out, _ = publish_seeds(tmp_path_factory.mktemp("pages"))
    (raw / "900_new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    publish_raw(raw, out)
    return out


# --- the zip --------------------------------------------------------------------------------------


def test_the_zip_holds_every_data_file_and_is_the_same_bytes_when_built_again(out, tmp_path):
    rel = out / "1.1.0"
    zipped = rel / bundle.zip_name("1.1.0")
    with zipfile.ZipFile(zipped) as zf:
        names = zf.namelist()
        expected = [f"us-iraq-jscd/{n}.{ext}" for n in schemas.tables() for ext in ("csv", "parquet")]
        assert names == [*expected, "us-iraq-jscd/raw_manifest.csv"]
        for name in names:
            assert zf.read(name) == (rel / name.split("/", 1)[1]).read_bytes(), name
        assert {i.date_time for i in zf.infolist()} == {bundle.FIXED_TIME}
    # built again from the same files, elsewhere, later, under another version: the same bytes
    copy = tmp_path / "copy"
    shutil.copytree(rel, copy)
    again = bundle.write_zip(copy, "9.9.9", list(schemas.tables()), tmp_path / "again.zip")
    assert again.read_bytes() == zipped.read_bytes()
    # and any change to a data file changes the zip
    target = copy / "documents.csv"
    target.chmod(0o644)
    target.write_bytes(target.read_bytes() + b"\r\n")
    changed = bundle.write_zip(copy, "9.9.9", list(schemas.tables()), tmp_path / "changed.zip")
    assert changed.read_bytes() != zipped.read_bytes()


# --- CITATION.cff ---------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["1.0.0/CITATION.cff", "1.1.0/CITATION.cff", "CITATION.cff"])
def test_citation_cff_is_valid_yaml_with_the_required_keys(out, where):
    meta = yaml.safe_load((out / where).read_text(encoding="utf-8"))
    for key in ("cff-version", "message", "title", "authors"):  # required by CFF 1.2.0
        assert meta.get(key), key
    assert meta["cff-version"] == "1.2.0"
    assert all(set(a) == {"name"} and a["name"] for a in meta["authors"]), "the project as an entity"
    version = where.split("/")[0] if "/" in where else "1.1.0"  # the output folder's: the latest release's
    release = json.loads((out / version / "release.json").read_text())
    package = json.loads((out / version / "datapackage.json").read_text())
    assert meta["version"] == version
    assert str(meta["date-released"]) == release["created"][:10]
    assert meta["license"] == package["licenses"][0]["name"]
    assert meta["title"] == package["title"]
    assert not {"repository-code", "url", "doi", "repository"} & set(meta), "no made-up locations"


def test_the_citation_line_names_version_licence_and_author():
    line = citation.citation_text("2.3.4", "2031-05-06T10:00:00+00:00")
    assert line.startswith(f"{citation.cff('2.3.4', '2031-05-06')['authors'][0]['name']} (2031).")
    assert "(version 2.3.4)" in line and "CC-BY-4.0" in line


# --- the landing page -----------------------------------------------------------------------------


def test_the_landing_page_shows_coverage_licence_citation_and_badge(out):
    page = Page((out / "index.html").read_text(encoding="utf-8"))
    docs = pq.read_table(out / "1.1.0" / "documents.parquet", columns=["outlet", "published_date"]).to_pandas()
    figures = {a["data-figure"] for a in page.classes["figure"]}
    assert figures == {"documents", "outlets", "dates", "releases"}
    text = page.text
    assert f"{len(docs)} articles" in text and len(docs) == 6
    assert f"{docs['outlet'].nunique()} news outlets" in text
    dated = docs["published_date"].dropna()
    if len(dated):
        assert f"{str(dated.min())[:10]} – {str(dated.max())[:10]}" in text
    else:
        assert f"unknown publication dates ({len(docs)} article(s) undated)" in text
    assert "2 release(s)" in text
    assert "licence CC-BY-4.0" in text and "Creative Commons Attribution 4.0" in text
    assert citation.citation_text("1.1.0", json.loads((out / "1.1.0" / "release.json").read_text())["created"]) in text
    (badge,) = [a for a in page.classes["validation"] if a.get("id") is None][:1]
    assert badge["data-status"] == "unknown"  # published without a report: said so, not "passed"
    assert "CITATION.cff" in page.links


def test_the_grid_has_a_row_per_table_with_each_format_and_every_link_resolves(out):
    cat = json.loads((out / "catalog.json").read_text())
    newest = cat["releases"][0]
    assert newest["formats"] == ["csv", "parquet"]
    assert [t["name"] for t in newest["tables"]] == [*schemas.tables(), "raw_manifest"]
    for t in newest["tables"]:
        for fmt, f in t["files"].items():
            assert f["bytes"] == (out / f["href"]).stat().st_size
    page = Page((out / "index.html").read_text(encoding="utf-8"))
    grid_rows = [a["data-table"] for a in page.classes.get("rows", [])]
    assert grid_rows[: len(schemas.tables())] == list(schemas.tables())  # the latest release's grid first
    downloads = {(a["data-resource"], a["data-format"]) for a in page.classes["download"]}
    assert {(n, "csv") for n in schemas.tables()} <= downloads
    assert {(f"{n}-parquet", "parquet") for n in schemas.tables()} <= downloads
    (zipped,) = [a for a in page.classes["whole"] if a["data-kind"] == "zip" and "1.1.0" in a["href"]]
    assert zipped["href"] == f"1.1.0/{bundle.zip_name('1.1.0')}"
    local = [link.split("#")[0] for link in page.links if _local(link)]
    assert len(local) > 4 * len(schemas.tables())
    for link in local:
        assert (out / link).is_file(), link
    anchors = [link[1:] for link in page.links if link.startswith("#")]
    assert anchors and all(a in page.ids for a in anchors), set(anchors) - page.ids


def test_another_format_in_a_release_joins_the_grid(out, tmp_path):
    copy = tmp_path / "out"
    shutil.copytree(out, copy, symlinks=True)
    rel = copy / "1.1.0"
    rel.chmod(0o755)
    (rel / "documents.sqlite").write_bytes(b"x" * 2048)  # a per-table file of a format not known here
    (rel / "us-iraq-jscd.db").write_bytes(b"y" * 4096)  # a whole-release file
    newest = catalog.build(copy)["releases"][0]
    assert newest["formats"] == ["csv", "parquet", "sqlite"]
    docs_row = next(t for t in newest["tables"] if t["name"] == "documents")
    assert docs_row["files"]["sqlite"] == {"href": "1.1.0/documents.sqlite", "bytes": 2048, "resource": None}
    assert {d["name"]: d["bytes"] for d in newest["downloads"]} == {
        bundle.zip_name("1.1.0"): (rel / bundle.zip_name("1.1.0")).stat().st_size, "us-iraq-jscd.db": 4096}
    page = catalog.render_html(catalog.build(copy))
    assert '<th>SQLite</th>' in page and 'href="1.1.0/us-iraq-jscd.db"' in page and "4.1 kB" in page


# --- previews -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(schemas.tables()))
def test_each_table_has_a_preview_with_its_first_rows_and_column_descriptions(out, name):
    path = out / "1.1.0" / preview.preview_href(name)
    text = path.read_text(encoding="utf-8")
    page = Page(text)
    table = pq.read_table(out / "1.1.0" / f"{name}.parquet")
    shown = min(preview.PREVIEW_ROWS, table.num_rows)
    body = text.split('<table class="rows">', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0] if shown else ""
    assert body.count("<tr>") == shown
    assert f"{shown} of {table.num_rows} rows shown" in page.text
    for f in schemas.table(name).fields:
        assert f"<code>{f.name}</code>" in text
        assert " ".join(f.description.split()) in page.text
    if shown:
        first = table.slice(0, 1).to_pylist()[0]
        key = schemas.table(name).primary_key[0]
        assert f"<td>{first[key]}</td>" in text
    for link in page.links:
        if _local(link):
            assert (path.parent / link.split("#")[0]).resolve().is_file(), link


def test_a_preview_reads_only_the_row_groups_it_shows(tmp_path, monkeypatch):
    import pyarrow as pa

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"n": list(range(100)), "s": [f"<b>{i}</b>" for i in range(100)]}), path,
                   row_group_size=10)
    consumed = []
    original = pq.ParquetFile.iter_batches

    def counting(self, *args, **kwargs):
        for batch in original(self, *args, **kwargs):
            consumed.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", counting)
    names, rows, total = preview.first_rows(path, 15)
    assert names == ["n", "s"] and total == 100
    assert [r["n"] for r in rows] == list(range(15))
    assert sum(consumed) < 100 and sum(consumed) <= 30


def test_preview_cells_are_cut_and_shown_as_text():
    assert preview.cell(None) == (None, None)
    assert preview.cell(["a", "b"]) == ("a|b", None)
    assert preview.cell(True) == ("true", None)
    text, full = preview.cell("x" * 500)
    assert len(text) == preview.MAX_CELL_CHARS and text.endswith("…") and full == "x" * 500


# --- the changes page -----------------------------------------------------------------------------


def test_the_changes_page_renders_changes_md(out):
    text = (out / "1.1.0" / changes_page.CHANGES_HTML).read_text(encoding="utf-8")
    page = Page(text)
    changes = json.loads((out / "1.1.0" / "changes.json").read_text())
    (added,) = changes["tables"]["documents"]["added"]
    assert "Changes in 1.1.0" in page.text and "Compared with release 1.0.0" in page.text
    assert re.search(r"<td>documents</td>\s*<td[^>]*>5</td>\s*<td[^>]*>6</td>\s*<td[^>]*>1</td>", text)
    assert added in page.text
    assert "<table>" in text and "| table |" not in text  # a table, not raw Markdown
    assert "CHANGES.md" in page.links and "changes.json" in page.links
    _assert_local_links_resolve(page, out / "1.1.0")


def test_the_changes_page_shows_markup_as_text():
    text = changes_page.html("# Changes\n\n- <script>alert(1)</script> and <img src=x onerror=alert(1)>\n", "1.0.0")
    assert "<script>alert" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


# --- the dictionary -------------------------------------------------------------------------------


def test_the_dictionary_page_has_a_table_of_contents_and_linked_foreign_keys(out):
    text = (out / "1.1.0" / "dictionary.html").read_text(encoding="utf-8")
    page = Page(text)
    toc = text.split('id="toc"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'href="#table-([a-z_]+)"', toc) == list(schemas.tables())
    assert {f"table-{n}" for n in schemas.tables()} <= page.ids
    fks = [(name, fk["reference"]["resource"]) for name, t in schemas.tables().items() for fk in t.foreign_keys]
    assert fks
    fk_links = [a["href"] for a in page.classes["fk"]]
    for name, target in fks:
        assert f"#table-{target}" in fk_links
    assert all(href[1:] in page.ids for href in fk_links)
    section = text.split('id="table-participants"', 1)[1].split("</section>", 1)[0]
    assert '→ <a class="fk" href="#table-events">events</a>(event_id)' in section
    _assert_local_links_resolve(page, out / "1.1.0")


def _assert_local_links_resolve(page: Page, folder: Path) -> None:
    local = [link.split("#")[0] for link in page.links if _local(link)]
    assert local
    for link in local:
        assert (folder / link).resolve().is_file(), link


def test_the_markdown_dictionary_has_a_table_of_contents_and_linked_foreign_keys(out):
    md = (out / "1.1.0" / "README.md").read_text(encoding="utf-8")
    for name in schemas.tables():
        assert f"](#table-{name})" in md.split("## documents", 1)[0], name  # in the contents, before the tables
        assert f'<a id="table-{name}"></a>' in md
    assert "- foreign key: event\\_id → [events](#table-events)(event\\_id)" in md


def test_the_server_answers_citation_cff_as_text_and_the_zip_as_a_zip(out):
    import httpx
    from serve_helpers import running_server

    with running_server(out) as url:
        cff = httpx.get(f"{url}/CITATION.cff", timeout=30)
        zipped = httpx.head(f"{url}/latest/{bundle.zip_name('1.1.0')}", timeout=30)
    assert cff.status_code == 200 and cff.headers["content-type"].startswith("text/plain")
    assert cff.content == (out / "CITATION.cff").read_bytes()
    assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
