"""A preview page per table: ``<release>/preview/<table>.html``, its first rows and what each column means.

The rows are the first :data:`PREVIEW_ROWS` of the release's Parquet file (the files' order: sorted by
the table's ``sort_by`` or primary key), read a row group at a time and only as far as needed, so a
preview of a large table costs one batch of rows. Column descriptions, types and keys come from
``schemas/``. Long texts are cut for the page (the files hold them whole); nulls are shown as such.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import schemas

PREVIEW_DIR = "preview"
PREVIEW_ROWS = 50
MAX_CELL_CHARS = 160


def preview_href(table: str) -> str:
    """The preview page of ``table``, relative to its release folder."""
    return f"{PREVIEW_DIR}/{table}.html"


def first_rows(parquet: Path, limit: int = PREVIEW_ROWS) -> tuple[list[str], list[dict], int]:
    """The column names, the first ``limit`` rows (as dicts) and the row count of a Parquet file,
    reading a row group's batch at a time until ``limit`` rows are in hand."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(parquet) as file:
        rows: list[dict] = []
        for batch in file.iter_batches(batch_size=limit):
            rows += batch.to_pylist()[: limit - len(rows)]
            if len(rows) >= limit:
                break
        return file.schema_arrow.names, rows, file.metadata.num_rows


def cell(value) -> tuple[str | None, str | None]:
    """How a value shows in a preview: (text on the page, full text when it was cut); None: a null."""
    if value is None:
        return None, None
    if isinstance(value, (list, tuple)):
        text = schemas.LIST_SEPARATOR.join(str(v) for v in value)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (dt.date, dt.datetime)):
        text = value.isoformat()
    else:
        text = str(value)
    if len(text) <= MAX_CELL_CHARS:
        return text, None
    return text[: MAX_CELL_CHARS - 1] + "…", text[:2000]


def _columns(name: str, names: list[str]) -> list[dict]:
    """Each column of the file with its schema: type, required, description, and where it points."""
    table = schemas.tables().get(name)
    fields = {f.name: f for f in table.fields} if table else {}
    refs = {}
    for fk in table.foreign_keys if table else ():
        for col, ref_col in zip(fk["fields"], fk["reference"]["fields"]):
            refs[col] = (fk["reference"]["resource"], ref_col)
    out = []
    for col in names:
        f = fields.get(col)
        out.append({"name": col, "type": f.type if f else "", "required": bool(f and f.required),
                    "description": f.description if f else "", "primary_key": bool(table and col in table.primary_key),
                    "references": refs.get(col)})
    return out


_HTML = """{% extends "base.html" %}
{% block title %}{{ name }}: preview ({{ version }}){% endblock %}
{% block main %}
<h1><span class="table-name">{{ name }}</span>{% if table_title %}: {{ table_title }}{% endif %}</h1>
{% if description %}<p class="lead">{{ description }}</p>{% endif %}
<p>Release {{ version }} · <span id="row-count">{{ shown }}</span> of {{ total }} rows shown
{% if order %}(the files' order: sorted by {{ order|join(", ") }}){% endif %}.
Download: {% for f in files %}<a class="download" href="../{{ f.name }}">{{ f.label }}</a>
<span class="muted">({{ f.bytes|size }})</span>{% if not loop.last %} · {% endif %}{% endfor %}
· <a href="../dictionary.html#table-{{ name }}">in the data dictionary</a></p>
<h2>Columns</h2>
<table class="columns"><thead><tr><th>column</th><th>type</th><th>required</th><th>description</th></tr></thead><tbody>
{% for c in columns %}<tr id="column-{{ c.name }}"><td><code>{{ c.name }}</code>{% if c.primary_key %} <span class="muted">(key)</span>{% endif %}</td>
<td>{{ c.type }}</td><td>{{ "yes" if c.required else "no" }}</td>
<td class="description">{{ c.description }}{% if c.references %} → <a class="fk" href="{{ c.references[0] }}.html">{{ c.references[0] }}.{{ c.references[1] }}</a>{% endif %}</td></tr>
{% endfor %}</tbody></table>
<h2>First rows</h2>
{% if rows %}
<div class="scroll"><table class="rows"><thead><tr>{% for c in columns %}<th title="{{ c.description }}">{{ c.name }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr>{% for text, full in row %}{% if text is none %}<td class="null">null</td>{% elif full %}<td class="long" title="{{ full }}">{{ text }}</td>{% else %}<td>{{ text }}</td>{% endif %}{% endfor %}</tr>
{% endfor %}</tbody></table></div>
{% else %}<p class="muted">This table has no rows in this release.</p>{% endif %}
{% endblock %}
"""


def page(release_dir: Path, name: str, version: str, limit: int = PREVIEW_ROWS, report: bool = True) -> str:
    """The preview page of table ``name`` of the release in ``release_dir`` (``report``: whether the
    release holds a validation report, for the page's header)."""
    from flows.publish.site import format_label, release_nav, render

    release_dir = Path(release_dir)
    names, rows, total = first_rows(release_dir / f"{name}.parquet", limit)
    table = schemas.tables().get(name)
    files = [{"name": p.name, "label": format_label(p.suffix[1:]), "bytes": p.stat().st_size}
             for p in sorted(release_dir.glob(f"{name}.*")) if p.is_file()]
    return render(_HTML, title=f"{name}: preview", home="../../index.html", version=version,
                  nav=release_nav("../", report), name=name, table_title=table.title if table else "",
                  description=table.description if table else "", files=files,
                  order=table.row_order if table else [], shown=len(rows), total=total,
                  columns=_columns(name, names), rows=[[cell(r[c]) for c in names] for r in rows])


def write_previews(release_dir: Path, version: str, tables: list[str], limit: int = PREVIEW_ROWS,
                   report: bool = True) -> list[Path]:
    """Write ``preview/<table>.html`` for every table of ``tables`` that has a Parquet file."""
    folder = Path(release_dir) / PREVIEW_DIR
    folder.mkdir(exist_ok=True)
    written = []
    for name in tables:
        if (Path(release_dir) / f"{name}.parquet").exists():
            path = folder / f"{name}.html"
            path.write_text(page(release_dir, name, version, limit, report), encoding="utf-8")
            written.append(path)
    return written
