"""The catalog of every release: ``output/catalog.json`` and ``output/index.html``.

Rebuilt from the release folders (their ``release.json`` and ``datapackage.json``) after every publish
(it is a function of them: no timestamp of its own, rewritten only when it differs), and written by
atomic rename, so a reader sees the old or the new catalog, never half of one. Links are
relative to the output folder: the page works from disk and from ``python -m flows serve``. The page is
rendered by Jinja2 with autoescaping: no value is ever rendered as markup.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

CATALOG_JSON = "catalog.json"
INDEX_HTML = "index.html"


def _release_entry(output_dir: Path, version: str, latest: str | None) -> dict:
    rel_dir = output_dir / version
    release = json.loads((rel_dir / "release.json").read_text(encoding="utf-8"))
    package = json.loads((rel_dir / "datapackage.json").read_text(encoding="utf-8"))
    files = []
    for res in package["resources"]:
        files.append({"resource": res["name"], "format": res.get("format"), "href": f"{version}/{res['path']}",
                      "bytes": res.get("bytes"), "hash": res.get("hash")})
    docs = {}
    for label, name in (("datapackage", "datapackage.json"), ("dictionary", "dictionary.html"),
                        ("readme", "README.md"), ("changes", "CHANGES.md"), ("changes_json", "changes.json"),
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
    return {
        "version": version, "created": release.get("created"), "latest": version == latest,
        "fingerprint": release.get("fingerprint"), "row_counts": release.get("row_counts", {}),
        "validation": {"status": status, **(validation or {})},
        "changes": release.get("changes"), "files": files, "documents": docs,
    }


def build(output_dir: Path) -> dict:
    """The catalog of the releases in ``output_dir``, newest first."""
    from flows.publish.releases import DATASET_NAME, DATASET_TITLE, LATEST, releases

    output_dir = Path(output_dir)
    link = output_dir / LATEST
    latest = os.readlink(link) if link.is_symlink() else None
    versions = list(reversed(releases(output_dir)))
    return {
        "name": DATASET_NAME, "title": DATASET_TITLE,
        "latest": latest,
        "releases": [_release_entry(output_dir, v, latest) for v in versions],
    }


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ c.title }}: releases</title>
<style>body{font-family:sans-serif;max-width:72em;margin:2em auto;padding:0 1em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em;text-align:left}
.release{border-top:2px solid #333;margin-top:1.5em}.latest-badge{background:#2a7;color:#fff;padding:0 .4em}</style>
</head><body>
<h1>{{ c.title }}</h1>
<p>{{ c.releases|length }} release(s). Latest: <a id="latest-link" href="latest/datapackage.json">{{ c.latest or "none" }}</a>.
Machine-readable: <a href="catalog.json">catalog.json</a>.
Download with <code>python -m flows download --version latest --format csv DEST</code>.</p>
{% for r in c.releases %}
<section class="release" id="release-{{ r.version }}" data-version="{{ r.version }}" data-latest="{{ 'true' if r.latest else 'false' }}">
<h2>Release <span class="version">{{ r.version }}</span>{% if r.latest %} <span class="latest-badge">latest</span>{% endif %}</h2>
<p>Created <time class="created">{{ r.created }}</time> · validation: <span class="validation">{{ r.validation.status }}</span>
{% if r.changes and r.changes.previous_version %} · changes since {{ r.changes.previous_version }}:
{% for t, n in r.changes.tables.items() %}{{ t }} +{{ n.added }} −{{ n.removed }} ~{{ n.changed }}{% if not loop.last %}, {% endif %}{% endfor %}{% endif %}</p>
<table class="counts"><thead><tr><th>table</th><th>rows</th></tr></thead><tbody>
{% for t, n in r.row_counts.items() %}<tr><td>{{ t }}</td><td class="rows" data-table="{{ t }}">{{ n }}</td></tr>{% endfor %}
</tbody></table>
<p class="downloads">Downloads:
{% for f in r.files %}<a class="download" data-resource="{{ f.resource }}" data-format="{{ f.format }}" href="{{ f.href }}">{{ f.href.split('/')[-1] }}</a> {% endfor %}</p>
<p class="docs">{% for label, href in r.documents.items() %}<a class="doc" data-doc="{{ label }}" href="{{ href }}">{{ label }}</a> {% endfor %}</p>
</section>
{% endfor %}
</body></html>
"""


def render_html(catalog: dict) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_HTML).render(c=catalog)


def write(output_dir: Path) -> dict:
    """Rebuild ``catalog.json`` and ``index.html`` in ``output_dir`` (each by atomic rename)."""
    from flows.publish.releases import atomic_write, checkpoint

    output_dir = Path(output_dir)
    catalog = build(output_dir)
    for name, data in ((CATALOG_JSON, json.dumps(catalog, indent=1).encode("utf-8")),
                       (INDEX_HTML, render_html(catalog).encode("utf-8"))):
        path = output_dir / name
        if not path.exists() or path.read_bytes() != data:  # unchanged: leave the file alone
            atomic_write(path, data)
        checkpoint(f"wrote_{name.replace('.', '_')}")
    return catalog
