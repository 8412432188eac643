"""What every web page of the output folder shares: its frame, its look, the dataset's description.

The landing page (``output/index.html``), each release's table previews (``preview/<table>.html``),
changes page (``changes.html``) and data dictionary (``dictionary.html``) are rendered by Jinja2 with
autoescaping from the release's own files, so no value from the data is ever rendered as markup. Their
style is inline and they load nothing (no script, font or stylesheet from anywhere): a page works
from disk, from ``python -m flows serve`` and without a network.
"""

from __future__ import annotations

import functools

DATASET_DESCRIPTION = (
    "News articles about the U.S.-Iraq Joint Security Cooperation Dialogues (Washington, August 2023 and "
    "July 2024) and their context, turned into tables: the articles and their paragraphs, the dialogues and "
    "other dated events, the people, organizations and places mentioned, who took part, quotes, reported "
    "figures and what the parties agreed. Every record says which article, paragraph and character span it "
    "comes from; every release is validated before it is published.")

# CITATION.cff's author: the project, as an entity (no person is named by the data)
AUTHOR = "The U.S.-Iraq JSCD dataset project"

STYLE = """
:root{--fg:#1d2327;--muted:#5f6b76;--line:#d7dde3;--soft:#f3f5f7;--link:#0b5cad;--pass:#1a7f37;--warn:#9a6700;
--fail:#c62828}
*{box-sizing:border-box}
body{margin:0;color:var(--fg);background:#fff;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
a{color:var(--link)} code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
code{background:var(--soft);padding:0 .25em;border-radius:3px}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.8em 1em;overflow-x:auto;
white-space:pre-wrap}
header.site{background:#16324f;color:#fff;padding:.7em 1.5em;display:flex;flex-wrap:wrap;gap:.4em 1.5em;
align-items:baseline}
header.site a{color:#fff;text-decoration:none} header.site a.home{font-weight:600;font-size:1.05em}
header.site nav a{margin-right:1em;opacity:.9} header.site nav a:hover{opacity:1;text-decoration:underline}
main{max-width:78em;margin:0 auto;padding:1em 1.5em 3em}
h1{font-size:1.7em;margin:.6em 0 .3em} h2{font-size:1.3em;margin:1.6em 0 .5em;padding-bottom:.2em;
border-bottom:1px solid var(--line)} h3{font-size:1.1em}
.lead{font-size:1.08em;color:#33404a;max-width:60em}
.muted{color:var(--muted)}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid var(--line);padding:.35em .6em;text-align:left;vertical-align:top}
thead th{background:var(--soft)} td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto;max-width:100%}
.badges{display:flex;flex-wrap:wrap;gap:.5em;align-items:center;margin:.8em 0}
.badge{display:inline-flex;align-items:center;gap:.35em;border-radius:999px;padding:.15em .75em;font-size:.9em;
font-weight:600;border:1px solid var(--line);background:var(--soft);color:var(--fg);text-decoration:none}
.badge svg{width:1.05em;height:1.05em;flex:none}
.badge.pass{background:#e6f4ea;border-color:#9fd2ad;color:var(--pass)}
.badge.warn{background:#fff4d6;border-color:#f0cf7a;color:var(--warn)}
.badge.fail{background:#fdecea;border-color:#f1a9a4;color:var(--fail)}
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(12em,1fr));gap:.8em;margin:.6em 0}
.figure{border:1px solid var(--line);border-radius:8px;padding:.7em 1em;background:var(--soft)}
.figure .value{font-size:1.5em;font-weight:650;display:block}
.figure .label{color:var(--muted);font-size:.9em}
.grid td.file a{font-weight:600} .grid .size{color:var(--muted);font-size:.85em;margin-left:.3em}
a.button{display:inline-block;background:#0b5cad;color:#fff;border-radius:6px;padding:.45em 1em;
text-decoration:none;font-weight:600} a.button .size{opacity:.85;font-weight:400}
.null{color:#9aa5b1;font-style:italic}
table.rows td{font-size:.88em;white-space:nowrap} table.rows td.long{white-space:normal;min-width:22em}
table.wide{width:100%} td.example{overflow-wrap:anywhere;max-width:24em}
ul.toc{columns:2 18em}
section.release{border-top:1px solid var(--line);margin-top:1.2em}
section.release.current{border-top:none;margin-top:0} section.release.current h2{border-bottom:none;margin-top:.3em}
details.older>summary{cursor:pointer;font-weight:600;margin:.8em 0}
footer.site{color:var(--muted);font-size:.85em;border-top:1px solid var(--line);margin-top:2em;padding-top:.8em}
"""

BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{% block title %}{% endblock %}</title>
<style>{{ style|safe }}</style>
</head><body>
<header class="site"><a class="home" href="{{ home }}">{{ dataset_title }}</a>
<nav>{% for label, href in nav %}<a href="{{ href }}">{{ label }}</a>{% endfor %}</nav></header>
<main>{% block main %}{% endblock %}
<footer class="site">{{ dataset_title }}{% if version %}, release {{ version }}{% endif %}.
Licence: <a href="{{ licence.path }}">{{ licence.title }}</a> ({{ licence.name }}).</footer>
</main></body></html>
"""

# status glyphs drawn inline (no icon font to load): a circle with a check, an exclamation or a cross
ICONS = {
    "pass": '<svg viewBox="0 0 16 16" aria-hidden="true" class="icon icon-pass"><circle cx="8" cy="8" r="8" '
            'fill="currentColor"/><path d="M4.5 8.3l2.3 2.3 4.7-4.8" stroke="#fff" stroke-width="1.8" fill="none"/></svg>',
    "warn": '<svg viewBox="0 0 16 16" aria-hidden="true" class="icon icon-warn"><circle cx="8" cy="8" r="8" '
            'fill="currentColor"/><path d="M8 3.8v5.2" stroke="#fff" stroke-width="1.9"/><circle cx="8" cy="11.7" '
            'r="1.1" fill="#fff"/></svg>',
    "fail": '<svg viewBox="0 0 16 16" aria-hidden="true" class="icon icon-fail"><circle cx="8" cy="8" r="8" '
            'fill="currentColor"/><path d="M5.2 5.2l5.6 5.6M10.8 5.2l-5.6 5.6" stroke="#fff" stroke-width="1.8"/></svg>',
    "unknown": '<svg viewBox="0 0 16 16" aria-hidden="true" class="icon icon-unknown"><circle cx="8" cy="8" r="7" '
               'fill="none" stroke="currentColor" stroke-width="2"/></svg>',
}


FORMAT_LABELS = {"csv": "CSV", "parquet": "Parquet", "db": "SQLite", "sqlite": "SQLite", "zip": "zip"}


def format_label(fmt: str) -> str:
    """How a file format is named on the pages (``parquet`` -> ``Parquet``)."""
    return FORMAT_LABELS.get(fmt.lower(), fmt.upper())


def release_nav(prefix: str = "", report: bool = True) -> list[tuple[str, str]]:
    """The header links of a release's pages (``prefix``: from the page to its release folder;
    ``report``: whether the release holds a validation report)."""
    nav = [("Dictionary", f"{prefix}dictionary.html"), ("Changes", f"{prefix}changes.html")]
    return nav + ([("Validation report", f"{prefix}validation/index.html")] if report else [])


def human_size(n: int | None) -> str:
    """A file size for people: ``1.2 MB`` (decimal units, as file browsers show them)."""
    if n is None:
        return ""
    size = float(n)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} bytes"


@functools.cache
def environment():
    """The Jinja2 environment of every page: autoescaping, strict about missing values, ``base.html``."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.DictLoader({"base.html": BASE}), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["size"] = human_size
    env.filters["format_label"] = format_label
    return env


def render(template: str, *, title: str, home: str, nav: list[tuple[str, str]], version: str | None = None,
           **context) -> str:
    """A page from ``template`` (a string that extends ``base.html``): ``home`` is the relative link to
    the landing page, ``nav`` the header's links as (label, href)."""
    from markupsafe import Markup

    from flows.publish.releases import DATASET_TITLE, LICENSES

    return environment().from_string(template).render(
        title=title, home=home, nav=nav, version=version, style=STYLE, dataset_title=DATASET_TITLE,
        licence=LICENSES[0], icons={k: Markup(v) for k, v in ICONS.items()}, **context)
