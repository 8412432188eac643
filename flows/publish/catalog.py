"""The catalog of every release and the landing page: ``output/catalog.json``, ``output/index.html`` and
``output/CITATION.cff``.

Rebuilt from the release folders (their ``release.json``, ``datapackage.json``, ``documents.parquet``
and the files they hold) after every publish (it is a function of them: no timestamp of its own,
rewritten only when it differs), and written by atomic rename, so a reader sees the old or the new
catalog, never half of one. Links are relative to the output folder: the page works from disk and
from ``python -m flows serve``, without a network (inline style, nothing loaded from elsewhere).

The landing page says what the dataset is, its coverage in the latest release (articles, outlets,
publication dates, releases), its licence, how to cite it (``CITATION.cff`` of the latest release,
copied to the output folder, and a citation line), the latest validation status as a badge linking
to the report, and for each release a grid of its tables by format with file sizes, its zip, its
previews, dictionary and changes. It is rendered by Jinja2 with autoescaping: no value is ever
rendered as markup.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

CATALOG_JSON = "catalog.json"
INDEX_HTML = "index.html"
# files of a release that are neither a table's data nor a whole-release download
_PAGES_AND_METADATA = {".csv", ".parquet", ".json", ".md", ".html", ".cff", ".zip"}
_FIRST_FORMATS = ("csv", "parquet")
_BADGE = {"passed": "pass", "passed with warnings": "warn", "failed": "fail", "unknown": "unknown"}


def _file(version: str, path: Path, resource: str | None = None) -> dict:
    """A file of a release as the catalog lists it: link from the output folder, size, datapackage resource."""
    return {"href": f"{version}/{path.name}", "bytes": path.stat().st_size, "resource": resource}


def _coverage(rel_dir: Path, row_counts: dict) -> dict:
    """What the release covers, from its documents table: articles, distinct outlets, the range of
    publication dates (columns missing from an older release's file are left out)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    out = {"documents": row_counts.get("documents")}
    path = rel_dir / "documents.parquet"
    if not path.exists():
        return out
    names = set(pq.read_schema(path).names)
    columns = [c for c in ("outlet", "published_date") if c in names]
    table = pq.read_table(path, columns=columns)  # two columns of one row per article
    if "outlet" in columns:
        out["outlets"] = pc.count_distinct(table["outlet"]).as_py()
    if "published_date" in columns:
        span = pc.min_max(table["published_date"]).as_py()
        out["published_from"] = None if span["min"] is None else str(span["min"])[:10]
        out["published_to"] = None if span["max"] is None else str(span["max"])[:10]
        out["undated"] = table["published_date"].null_count
    return out


def _grid(rel_dir: Path, version: str, row_counts: dict, package: dict) -> tuple[list[str], list[dict]]:
    """The release's tables by format: the formats (columns of the grid: CSV, Parquet, then any other
    a table's files come in) and one row per table (the tables of ``release.json``, in schema order,
    then the datapackage's other resources: the raw manifest), each with its files' links and sizes."""
    from flows.publish.preview import preview_href

    by_path = {res["path"]: res for res in package.get("resources", [])}
    # only tabular resources are grid rows; a whole-release file (the database) is a download
    tabular = [p for p, res in by_path.items() if res.get("type") == "table" or "schema" in res]
    stems = list(row_counts) + [Path(p).stem for p in tabular if Path(p).stem not in row_counts]
    rows, formats = [], set()
    for stem in dict.fromkeys(stems):
        files = {}
        for path in sorted(rel_dir.glob(f"{stem}.*")):
            if path.is_file() and path.suffix not in (".html", ".md", ".json"):
                fmt = path.suffix[1:].lower()
                files[fmt] = _file(version, path, by_path.get(path.name, {}).get("name"))
                formats.add(fmt)
        resource = by_path.get(f"{stem}.csv") or by_path.get(f"{stem}.parquet") or {}
        preview = rel_dir / preview_href(stem)
        rows.append({"name": stem, "title": resource.get("title", ""), "rows": row_counts.get(stem),
                     "files": files, "preview": f"{version}/{preview_href(stem)}" if preview.exists() else None,
                     "dictionary": f"{version}/dictionary.html#table-{stem}" if stem in row_counts else None})
    ordered = [f for f in _FIRST_FORMATS if f in formats] + sorted(formats - set(_FIRST_FORMATS))
    return ordered, rows


def _downloads(rel_dir: Path, version: str, tables: set[str], package: dict) -> list[dict]:
    """Whole-release downloads: the zip of the data files, and any other data file of the release
    that is not one table's (a database of every table, say)."""
    from flows.publish.bundle import zip_name

    out = []
    if (rel_dir / zip_name(version)).exists():
        out.append({"kind": "zip", "name": zip_name(version), **_file(version, rel_dir / zip_name(version))})
    for path in sorted(rel_dir.iterdir()):
        if path.is_file() and path.suffix.lower() not in _PAGES_AND_METADATA and path.stem not in tables:
            resource = next((r["name"] for r in package.get("resources", []) if r["path"] == path.name), None)
            out.append({"kind": path.suffix[1:].lower(), "name": path.name,
                        **_file(version, path, resource)})
    return out


def _release_entry(output_dir: Path, version: str, latest: str | None) -> dict:
    """Everything the catalog and the landing page say of one release, read from its folder."""
    rel_dir = output_dir / version
    release = json.loads((rel_dir / "release.json").read_text(encoding="utf-8"))
    package = json.loads((rel_dir / "datapackage.json").read_text(encoding="utf-8"))
    files = []
    for res in package["resources"]:
        files.append({"resource": res["name"], "format": res.get("format"), "href": f"{version}/{res['path']}",
                      "bytes": res.get("bytes"), "hash": res.get("hash")})
    docs = {}
    for label, name in (("datapackage", "datapackage.json"), ("dictionary", "dictionary.html"),
                        ("readme", "README.md"), ("changes_page", "changes.html"), ("changes", "CHANGES.md"),
                        ("changes_json", "changes.json"), ("citation", "CITATION.cff"),
                        ("validation_report", "validation/index.html"),
                        ("validation_json", "validation/validation.json")):
        if (rel_dir / name).exists():
            docs[label] = f"{version}/{name}"
    validation = release.get("validation")
    if validation is None:
        status = "unknown"
    elif not validation.get("passed"):
        status = "failed"
    else:
        status = "passed with warnings" if validation.get("warnings") else "passed"
    row_counts = release.get("row_counts", {})
    formats, grid = _grid(rel_dir, version, row_counts, package)
    return {
        "version": version, "created": release.get("created"), "latest": version == latest,
        "fingerprint": release.get("fingerprint"), "row_counts": row_counts,
        "validation": {"status": status, **(validation or {})},
        "changes": release.get("changes"), "files": files, "documents": docs,
        "coverage": _coverage(rel_dir, row_counts), "formats": formats, "tables": grid,
        "downloads": _downloads(rel_dir, version, {row["name"] for row in grid}, package),
    }


def build(output_dir: Path) -> dict:
    """The catalog of the releases in ``output_dir``, newest first, with what the landing page says
    of the dataset (description, licence, the latest release's citation)."""
    from flows.publish.citation import citation_text
    from flows.publish.releases import DATASET_NAME, DATASET_TITLE, LATEST, LICENSES, releases
    from flows.publish.site import DATASET_DESCRIPTION

    output_dir = Path(output_dir)
    link = output_dir / LATEST
    latest = os.readlink(link) if link.is_symlink() else None
    versions = list(reversed(releases(output_dir)))
    entries = [_release_entry(output_dir, v, latest) for v in versions]
    current = next((r for r in entries if r["latest"]), None)
    return {
        "name": DATASET_NAME, "title": DATASET_TITLE, "description": DATASET_DESCRIPTION,
        "licenses": LICENSES, "latest": latest,
        "citation": citation_text(current["version"], current["created"] or "") if current else None,
        "releases": entries,
    }


_HTML = """{% extends "base.html" %}
{% macro badge(r) -%}
{%- set cls = badges[r.validation.status] -%}
{%- if r.documents.get("validation_report") -%}
<a class="badge validation {{ cls }}" data-status="{{ r.validation.status }}" href="{{ r.documents.validation_report }}">
{{- icons[cls] }} validation: {{ r.validation.status }}{% if r.validation.warnings %} ({{ r.validation.warnings }}){% endif %}</a>
{%- else -%}
<span class="badge validation {{ cls }}" data-status="{{ r.validation.status }}">{{ icons[cls] }} validation: {{ r.validation.status }}</span>
{%- endif -%}
{%- endmacro %}
{% macro release_section(r) %}
<section class="release{% if r.latest %} current{% endif %}" id="release-{{ r.version }}" data-version="{{ r.version }}" data-latest="{{ 'true' if r.latest else 'false' }}">
<h2>Release <span class="version">{{ r.version }}</span>{% if r.latest %} <span class="badge latest-badge">latest</span>{% endif %}</h2>
<p>Created <time class="created">{{ r.created }}</time> · {{ badge(r) }}
{% if r.changes and r.changes.previous_version %}· changes since {{ r.changes.previous_version }}:
{% for t, n in r.changes.tables.items() %}{{ t }} +{{ n.added }} −{{ n.removed }} ~{{ n.changed }}{% if not loop.last %}, {% endif %}{% endfor %}{% endif %}</p>
{% for d in r.downloads %}<p><a class="button whole {{ d.kind }}" data-kind="{{ d.kind }}" data-resource="{{ d.get('resource') or '' }}" href="{{ d.href }}">{% if d.kind == "zip" %}Every data file in one zip{% else %}{{ d.kind|format_label }}: {{ d.name }}{% endif %}
<span class="size">({{ d.bytes|size }})</span></a>{% if d.kind == "zip" %} <span class="muted">{{ d.name }}: each table as CSV and Parquet, and the raw manifest</span>{% endif %}</p>{% endfor %}
<div class="scroll"><table class="grid"><thead><tr><th>table</th><th class="num">rows</th>{% for f in r.formats %}<th>{{ f|format_label }}</th>{% endfor %}<th>look inside</th></tr></thead>
<tbody>{% for t in r.tables %}<tr data-table="{{ t.name }}"><td><strong>{{ t.name }}</strong>{% if t.title %}<br><span class="muted">{{ t.title }}</span>{% endif %}</td>
{% if t.rows is not none %}<td class="rows num" data-table="{{ t.name }}">{{ t.rows }}</td>{% else %}<td></td>{% endif %}
{% for f in r.formats %}{% set file = t.files.get(f) %}<td class="file">{% if file %}<a class="download" data-resource="{{ file.resource or '' }}" data-format="{{ f }}" href="{{ file.href }}">{{ file.href.split('/')[-1] }}</a><span class="size">{{ file.bytes|size }}</span>{% endif %}</td>{% endfor %}
<td>{% if t.preview %}<a class="preview" href="{{ t.preview }}">preview</a>{% endif %}{% if t.dictionary %} · <a class="dict" href="{{ t.dictionary }}">columns</a>{% endif %}</td></tr>
{% endfor %}</tbody></table></div>
<p class="docs">{% for label, href in r.documents.items() %}<a class="doc" data-doc="{{ label }}" href="{{ href }}">{{ doc_labels.get(label, label) }}</a>{% if not loop.last %} · {% endif %}{% endfor %}</p>
</section>
{% endmacro %}
{% block title %}{{ c.title }}{% endblock %}
{% block main %}
<h1>{{ c.title }}</h1>
<p class="lead">{{ c.description }}</p>
{% if latest %}
<div class="badges" id="badges">{{ badge(latest) }}
<a class="badge" href="#release-{{ latest.version }}" id="latest-link">latest release {{ latest.version }}</a>
<a class="badge licence" href="{{ licence.path }}">licence {{ licence.name }}</a>
<a class="badge" href="#cite">cite</a></div>
<section id="coverage"><h2>Coverage</h2>
<div class="figures">
<div class="figure" data-figure="documents"><span class="value">{{ latest.coverage.documents }}</span><span class="label">articles (distinct documents)</span></div>
{% if latest.coverage.outlets is defined %}<div class="figure" data-figure="outlets"><span class="value">{{ latest.coverage.outlets }}</span><span class="label">news outlets</span></div>{% endif %}
{% if latest.coverage.published_from is defined %}<div class="figure" data-figure="dates"><span class="value">{% if latest.coverage.published_from %}{{ latest.coverage.published_from }} – {{ latest.coverage.published_to }}{% else %}unknown{% endif %}</span><span class="label">publication dates{% if latest.coverage.undated %} ({{ latest.coverage.undated }} article(s) undated){% endif %}</span></div>{% endif %}
<div class="figure" data-figure="releases"><span class="value">{{ c.releases|length }}</span><span class="label">release(s)</span></div>
</div>
<p class="muted">In release {{ latest.version }}. Every table, column and key: the <a href="{{ latest.documents.dictionary }}">data dictionary</a>.
Machine-readable: <a href="catalog.json">catalog.json</a>, <a href="{{ latest.documents.datapackage }}">datapackage.json</a>.
Download with <code>python -m flows download --version latest --format csv DEST</code>.</p>
</section>
<h2 id="download">Download</h2>
{{ release_section(latest) }}
<section id="cite"><h2>How to cite</h2>
<pre class="citation">{{ c.citation }}</pre>
<p>Citation metadata: <a href="CITATION.cff">CITATION.cff</a> (Citation File Format; each release holds its own).
Licence: <a href="{{ licence.path }}">{{ licence.title }}</a>: share and adapt, with credit.</p>
</section>
{% else %}
<p>No release yet.</p>
{% endif %}
{% set older = c.releases|rejectattr("latest")|list %}
{% if older %}
<h2 id="releases">Earlier releases</h2>
<details class="older"><summary>{{ older|length }} earlier release(s)</summary>
{% for r in older %}{{ release_section(r) }}{% endfor %}
</details>
{% endif %}
{% endblock %}
"""

_DOC_LABELS = {"datapackage": "datapackage.json", "dictionary": "dictionary", "readme": "README.md",
               "changes_page": "changes", "changes": "CHANGES.md", "changes_json": "changes.json",
               "citation": "CITATION.cff", "validation_report": "validation report",
               "validation_json": "validation.json"}


def render_html(catalog: dict) -> str:
    """The landing page of the output folder."""
    from flows.publish.site import render

    return render(_HTML, title=catalog["title"], home="index.html", nav=[
        ("Coverage", "#coverage"), ("Download", "#download"), ("Cite", "#cite"), ("catalog.json", "catalog.json")],
        c=catalog, latest=next((r for r in catalog["releases"] if r["latest"]), None), badges=_BADGE,
        doc_labels=_DOC_LABELS)


def _citation_file(output_dir: Path, catalog: dict) -> bytes | None:
    """``CITATION.cff`` of the latest release (made for it when an older release has none)."""
    from flows.publish.citation import CFF_NAME, cff_text

    current = next((r for r in catalog["releases"] if r["latest"]), None)
    if current is None:
        return None
    own = output_dir / current["version"] / CFF_NAME
    return own.read_bytes() if own.exists() else cff_text(current["version"], current["created"] or "").encode()


def write(output_dir: Path) -> dict:
    """Rebuild ``catalog.json``, ``index.html`` and ``CITATION.cff`` in ``output_dir`` (each by atomic rename)."""
    from flows.publish.citation import CFF_NAME
    from flows.publish.releases import atomic_write, checkpoint

    output_dir = Path(output_dir)
    catalog = build(output_dir)
    for name, data in ((CATALOG_JSON, json.dumps(catalog, indent=1).encode("utf-8")),
                       (INDEX_HTML, render_html(catalog).encode("utf-8")),
                       (CFF_NAME, _citation_file(output_dir, catalog))):
        if data is None:
            continue
        path = output_dir / name
        if not path.exists() or path.read_bytes() != data:  # unchanged: leave the file alone
            atomic_write(path, data)
        checkpoint(f"wrote_{name.replace('.', '_')}")
    return catalog
