"""The data dictionary shipped with each release: ``README.md`` and ``dictionary.html``.

Generated from ``schemas/`` (every table and column: description, type, required, keys) with an example
value of each column taken from the published rows (the first non-empty value in file order; the
schema's ``example`` when the column is empty in this release). Values from the data are text from
scraped articles: in Markdown they are HTML-escaped and Markdown punctuation is backslash-escaped, and
the HTML page is rendered by Jinja2 with autoescaping, so no data is ever rendered as markup.

Both open with a table of contents, and every foreign key (of a table, and on the columns it is made
of) links to the section of the table it refers to.
"""

from __future__ import annotations

import html as html_mod
import re

import pandas as pd

import schemas

MAX_EXAMPLE_CHARS = 80
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")

CSV_NOTES = [
    "CSV files are UTF-8, RFC 4180 (comma-separated, fields quoted when needed, CRLF line ends) with a header row.",
    'List columns are joined with "|" in CSV; in Parquet they are lists of strings.',
    "Empty cells are nulls. Dates are ISO 8601 (YYYY-MM-DD).",
    "Formula neutralisation: a text cell (string or list column) that starts with =, +, -, @, a tab or a carriage "
    "return is written to CSV with a leading apostrophe (') so that a spreadsheet shows it as text instead of "
    "running it as a formula. Parquet holds the original value: strip one leading apostrophe from such CSV cells "
    "to get it back. Number, date and boolean columns are never changed.",
]


def md_escape(value) -> str:
    """Text that renders literally in Markdown: one line, Markdown punctuation backslash-escaped, then
    ``&``, ``<`` and ``>`` as HTML entities (so no tag or entity in the data is ever interpreted)."""
    text = " ".join(str(value).split())
    return html_mod.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=False)


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_EXAMPLE_CHARS else text[: MAX_EXAMPLE_CHARS - 1] + "…"


def example(df: pd.DataFrame | None, f: schemas.Field, values=None) -> str | None:
    """An example value of column ``f`` from the data (first non-empty), else the schema's example.
    ``values``: the column's values (an iterable), instead of ``df``."""
    if values is None and df is not None and f.name in df.columns:
        values = df[f.name]
    if values is not None:
        for v in values:
            if f.type == "list":
                if v is not None and len(v):
                    return _shorten(schemas.LIST_SEPARATOR.join(str(x) for x in v))
                continue
            if v is None or pd.isna(v) or (isinstance(v, str) and not v.strip()):
                continue
            if f.type == "boolean":
                return "true" if v else "false"
            return _shorten(str(v.item() if hasattr(v, "item") else v))
    return None if f.example is None else _shorten(str(f.example))


def entries(tables: dict[str, pd.DataFrame]) -> list[dict]:
    """Everything the dictionary says, table by table."""
    from flows.common.parquet_tables import ParquetTables

    out = []
    for name, t in schemas.tables().items():
        if isinstance(tables, ParquetTables):  # read a column's row groups until an example shows
            df, rows = None, tables.rows(name)
            values = {f.name: _column_values(tables, name, f.name) for f in t.fields}
        else:
            df = tables.get(name)
            rows, values = (None if df is None else len(df)), {}
        out.append({
            "name": name, "title": t.title, "description": t.description,
            "rows": rows,
            "primary_key": list(t.primary_key),
            "foreign_keys": [f"{', '.join(fk['fields'])} → {fk['reference']['resource']}"
                             f"({', '.join(fk['reference']['fields'])})" for fk in t.foreign_keys],
            "references": [{"fields": list(fk["fields"]), "table": fk["reference"]["resource"],
                            "columns": list(fk["reference"]["fields"])} for fk in t.foreign_keys],
            "files": [f"{name}.csv", f"{name}.parquet"],
            "produced_by": t.produced_by,
            "columns": [{"name": f.name, "type": f.type, "required": f.required, "description": f.description,
                         "produced_by": f.produced_by, "references": _column_reference(t, f.name),
                         "example": example(df, f, values.get(f.name))} for f in t.fields],
        })
    return out


def anchor(table: str) -> str:
    """The id of a table's section in the dictionary (HTML) and of its anchor (Markdown)."""
    return f"table-{table}"


def _column_reference(t: schemas.Table, column: str) -> dict | None:
    """The table and column a column refers to, when it is (part of) a foreign key."""
    for fk in t.foreign_keys:
        if column in fk["fields"]:
            at = list(fk["fields"]).index(column)
            return {"table": fk["reference"]["resource"], "column": fk["reference"]["fields"][at]}
    return None


EXAMPLE_ROWS = 1_000  # rows of a column read at a time while looking for an example value


def _column_values(tables, name: str, column: str):
    """The values of a column of a :class:`flows.common.parquet_tables.ParquetTables`, read lazily,
    :data:`EXAMPLE_ROWS` at a time (most columns give an example in their first rows)."""
    for part in tables.parts(name, [column], rows=EXAMPLE_ROWS):
        yield from part[column]


def markdown(tables: dict[str, pd.DataFrame], version: str, created: str, described: list | None = None) -> str:
    """The dictionary as Markdown (``described``: :func:`entries` of ``tables``, if already made)."""
    from flows.publish.releases import DATASET_TITLE, LICENSES

    lines = [f"# {md_escape(DATASET_TITLE)}: release {md_escape(version)}", "",
             f"Created {md_escape(created)}. Licence: {md_escape(LICENSES[0]['title'])}. "
             "Files: `datapackage.json` (Frictionless descriptor with sha256 of every file), `CHANGES.md` "
             "(what changed since the previous release), `validation/index.html` (validation report), "
             "`raw_manifest.csv` (every input file).", "", "## File format", ""]
    lines += [f"- {n}" for n in CSV_NOTES]
    described = described if described is not None else entries(tables)
    lines += ["", "## Tables", ""]
    lines += [f"- [{md_escape(e['name'])}](#{anchor(e['name'])}): {md_escape(e['title'])}" for e in described]
    for e in described:
        lines += ["", f'<a id="{anchor(e["name"])}"></a>', "",
                  f"## {md_escape(e['name'])}: {md_escape(e['title'])}", "", md_escape(e["description"]), ""]
        lines.append(f"- files: {', '.join('`' + f + '`' for f in e['files'])}")
        if e["rows"] is not None:
            lines.append(f"- rows: {e['rows']}")
        lines.append(f"- primary key: {', '.join(md_escape(k) for k in e['primary_key'])}")
        lines.append(f"- produced by: `{e['produced_by']}`")
        for ref in e["references"]:
            lines.append(f"- foreign key: {md_escape(', '.join(ref['fields']))} → "
                         f"[{md_escape(ref['table'])}](#{anchor(ref['table'])})({md_escape(', '.join(ref['columns']))})")
        lines += ["", "| column | type | required | description | example |", "|---|---|---|---|---|"]
        for c in e["columns"]:
            ex = "(empty in this release)" if c["example"] is None else md_escape(c["example"])
            filled = f" (filled by `{c['produced_by']}`)" if c["produced_by"] else ""
            ref = c["references"]
            points = (f" → [{md_escape(ref['table'])}](#{anchor(ref['table'])}).{md_escape(ref['column'])}"
                      if ref else "")
            lines.append(f"| {md_escape(c['name'])} | {c['type']} | {'yes' if c['required'] else 'no'} | "
                         f"{md_escape(c['description'])}{filled}{points} | {ex} |")
    return "\n".join(lines) + "\n"


_HTML = """{% extends "base.html" %}
{% block title %}Data dictionary: {{ dataset_title }} {{ version }}{% endblock %}
{% block main %}
<h1>Data dictionary: {{ dataset_title }}, release {{ version }}</h1>
<p>Created {{ created }}. <a href="datapackage.json">datapackage.json</a> ·
<a href="changes.html">changes</a>{% if report %} · <a href="validation/index.html">validation report</a>{% endif %}</p>
<nav class="toc" id="toc"><h2>Tables</h2>
<ul class="toc">{% for t in tables %}<li><a href="#{{ anchor(t.name) }}">{{ t.name }}</a>: {{ t.title }}
{% if t.rows is not none %}<span class="muted">({{ t.rows }} rows)</span>{% endif %}</li>{% endfor %}
<li><a href="#file-format">File format</a></li></ul></nav>
<h2 id="file-format">File format</h2>
<ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>
{% for t in tables %}
<section class="table" id="{{ anchor(t.name) }}">
<h2>{{ t.name }}: {{ t.title }}</h2>
<p>{{ t.description }}</p>
<p>Files: {% for f in t.files %}<a href="{{ f }}">{{ f }}</a> {% endfor %}· <a href="preview/{{ t.name }}.html">preview</a>
{% if t.rows is not none %}· rows: {{ t.rows }}{% endif %} · primary key: {{ t.primary_key|join(", ") }}
{% for r in t.references %} · foreign key: {{ r.fields|join(", ") }} → <a class="fk" href="#{{ anchor(r.table) }}">{{ r.table }}</a>({{ r.columns|join(", ") }}){% endfor %}
· produced by <code>{{ t.produced_by }}</code> · <a href="#toc">tables</a></p>
<table class="wide"><thead><tr><th>column</th><th>type</th><th>required</th><th>description</th><th>example</th></tr></thead>
<tbody>{% for c in t.columns %}
<tr id="{{ anchor(t.name) }}-{{ c.name }}"><td><code>{{ c.name }}</code></td><td>{{ c.type }}</td><td>{{ "yes" if c.required else "no" }}</td>
<td>{{ c.description }}{% if c.produced_by %} (filled by <code>{{ c.produced_by }}</code>){% endif %}{% if c.references %}
→ <a class="fk" href="#{{ anchor(c.references.table) }}">{{ c.references.table }}</a>.{{ c.references.column }}{% endif %}</td>
<td class="example">{% if c.example is not none %}{{ c.example }}{% else %}<em>(empty in this release)</em>{% endif %}</td></tr>
{% endfor %}</tbody></table>
</section>
{% endfor %}
{% endblock %}
"""


def html(tables: dict[str, pd.DataFrame], version: str, created: str, described: list | None = None,
         report: bool = True) -> str:
    """The dictionary as a web page (``described``: :func:`entries` of ``tables``, if already made;
    ``report``: whether the release holds a validation report, to link to)."""
    from flows.publish.site import release_nav, render

    return render(_HTML, title="Data dictionary", home="../index.html", version=version,
                  nav=release_nav("", report), report=report, created=created, notes=CSV_NOTES, anchor=anchor,
                  tables=described if described is not None else entries(tables))
