"""``CHANGES.md`` as a web page: ``<release>/changes.html``.

The Markdown is rendered by markdown-it-py (CommonMark with tables) with raw HTML turned off, so text in
it is always shown as text: ``CHANGES.md`` escapes the values it quotes from the data, and markdown-it
escapes whatever markup would be left.
"""

from __future__ import annotations

CHANGES_HTML = "changes.html"

_HTML = """{% extends "base.html" %}
{% block title %}Changes in {{ version }}{% endblock %}
{% block main %}
<div class="changes">{{ body }}</div>
<p class="muted">The same as <a href="CHANGES.md">CHANGES.md</a>; every added, removed and changed key:
<a href="changes.json">changes.json</a>.</p>
{% endblock %}
"""


def markdown_to_html(text: str) -> str:
    """Markdown (CommonMark and tables) as HTML; raw HTML in the text is escaped, never passed on."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def html(changes_md: str, version: str, report: bool = True) -> str:
    """The page of a release's ``CHANGES.md`` (``report``: whether the release holds a validation report)."""
    from markupsafe import Markup

    from flows.publish.site import release_nav, render

    return render(_HTML, title=f"Changes in {version}", home="../index.html", version=version,
                  nav=release_nav("", report), body=Markup(markdown_to_html(changes_md)))
