"""The data dictionary shipped with each release: ``README.md`` and ``dictionary.html``.

Generated from ``schemas/`` (every table and column: description, type, required, keys) with an example
value of each column taken from the published rows (the first non-empty value in file order; the
schema's ``example`` when the column is empty in this release). Values from the data are text from
scraped articles: in Markdown they are HTML-escaped and Markdown punctuation is backslash-escaped, and
the HTML page is rendered by Jinja2 with autoescaping, so no data is ever rendered as markup.
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
            "files": [f"{name}.csv", f"{name}.parquet"],
            "produced_by": t.produced_by,
            "columns": [{"name": f.name, "type": f.type, "required": f.required, "description": f.description,
                         "produced_by": f.produced_by,
                         "example": example(df, f, values.get(f.name))} for f in t.fields],
        })
    return out


def _column_values(tables, name: str, column: str):
    """The values of a column of a :class:`flows.common.parquet_tables.ParquetTables`, read lazily, a row
    group at a time."""
    for part in tables.parts(name, [column]):
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
    for e in described if described is not None else entries(tables):
        lines += ["", f"## {md_escape(e['name'])}: {md_escape(e['title'])}", "", md_escape(e["description"]), ""]
        lines.append(f"- files: {', '.join('`' + f + '`' for f in e['files'])}")
        if e["rows"] is not None:
            lines.append(f"- rows: {e['rows']}")
        lines.append(f"- primary key: {', '.join(md_escape(k) for k in e['primary_key'])}")
        lines.append(f"- produced by: `{e['produced_by']}`")
        for fk in e["foreign_keys"]:
            lines.append(f"- foreign key: {md_escape(fk)}")
        lines += ["", "| column | type | required | description | example |", "|---|---|---|---|---|"]
        for c in e["columns"]:
            ex = "(empty in this release)" if c["example"] is None else md_escape(c["example"])
            filled = f" (filled by `{c['produced_by']}`)" if c["produced_by"] else ""
            lines.append(f"| {md_escape(c['name'])} | {c['type']} | {'yes' if c['required'] else 'no'} | "
                         f"{md_escape(c['description'])}{filled} | {ex} |")
    return "\n".join(lines) + "\n"


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Data dictionary: {{ title }} {{ version }}</title>
<style>body{font-family:sans-serif;max-width:72em;margin:2em auto;padding:0 1em}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3em;vertical-align:top;text-align:left}
code{background:#f4f4f4}</style></head>
<body>
<h1>Data dictionary: {{ title }}, release {{ version }}</h1>
<p>Created {{ created }}. <a href="datapackage.json">datapackage.json</a> ·
<a href="CHANGES.md">CHANGES.md</a> · <a href="validation/index.html">validation report</a></p>
<h2>File format</h2>
<ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>
{% for t in tables %}
<section class="table" id="table-{{ t.name }}">
<h2>{{ t.name }}: {{ t.title }}</h2>
<p>{{ t.description }}</p>
<p>Files: {% for f in t.files %}<a href="{{ f }}">{{ f }}</a> {% endfor %}
{% if t.rows is not none %}· rows: {{ t.rows }}{% endif %} · primary key: {{ t.primary_key|join(", ") }}
{% for fk in t.foreign_keys %} · foreign key: {{ fk }}{% endfor %} · produced by <code>{{ t.produced_by }}</code></p>
<table><thead><tr><th>column</th><th>type</th><th>required</th><th>description</th><th>example</th></tr></thead>
<tbody>{% for c in t.columns %}
<tr><td><code>{{ c.name }}</code></td><td>{{ c.type }}</td><td>{{ "yes" if c.required else "no" }}</td>
<td>{{ c.description }}{% if c.produced_by %} (filled by <code>{{ c.produced_by }}</code>){% endif %}</td><td class="example">{% if c.example is not none %}{{ c.example }}{% else %}<em>(empty in this release)</em>{% endif %}</td></tr>
{% endfor %}</tbody></table>
</section>
{% endfor %}
</body></html>
"""


def html(tables: dict[str, pd.DataFrame], version: str, created: str, described: list | None = None) -> str:
    """The dictionary as a web page (``described``: :func:`entries` of ``tables``, if already made)."""
    import jinja2

    from flows.publish.releases import DATASET_TITLE

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_HTML).render(title=DATASET_TITLE, version=version, created=created,
                                         notes=CSV_NOTES,
                                         tables=described if described is not None else entries(tables))
