"""Data Docs that render offline: GX's pages with their styles, scripts and icons served from the report itself.

Great Expectations' page templates load Bootstrap, jQuery, Font Awesome and a few plugins from public
CDNs, so without a network its pages lose their layout and their pass/fail icons (Font Awesome glyphs).
After GX has written the Data Docs, :func:`make_offline`:

- copies the assets GX needs from pip packages made for it (XStatic-Bootstrap, XStatic-Font-Awesome,
  XStatic-jQuery) into ``static/vendor/`` of the site, and the project's stand-in for the
  bootstrap-table plugin (``static/offline-table.js``: GX's index fills its lists with it);
- rewrites every page (and GX's copy of its stylesheet) so that these are loaded by relative links,
  GX's logo images and favicon come from ``static/images/`` (GX links the favicon of its result
  pages one folder short), and every other external script or stylesheet
  (bootstrap-table's CSS, the date picker, Vega, a dark theme: only GX's index filters and
  profiling charts use them) is dropped.

Hyperlinks (``<a href>``) to GX's documentation are left alone: they load nothing.
:func:`external_resources` lists what a page would still load from elsewhere (nothing, after this).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

VENDOR = "static/vendor"
SHIM = "static/offline-table.js"
LOGO = "static/images/logo-long.png"
_SHIM_SOURCE = Path(__file__).with_name("offline_table.js")

# (XStatic package, file under its BASE_DIR, where it goes under VENDOR)
ASSETS = (
    ("bootstrap", "css/bootstrap.min.css", "bootstrap/css/bootstrap.min.css"),
    ("bootstrap", "js/bootstrap.bundle.min.js", "bootstrap/js/bootstrap.bundle.min.js"),
    ("jquery", "jquery.min.js", "jquery/jquery.min.js"),
    ("font_awesome", "css/fontawesome.min.css", "fontawesome/css/fontawesome.min.css"),
    ("font_awesome", "css/solid.min.css", "fontawesome/css/solid.min.css"),
    ("font_awesome", "css/regular.min.css", "fontawesome/css/regular.min.css"),
    ("font_awesome", "webfonts/fa-solid-900.woff2", "fontawesome/webfonts/fa-solid-900.woff2"),
    ("font_awesome", "webfonts/fa-solid-900.ttf", "fontawesome/webfonts/fa-solid-900.ttf"),
    ("font_awesome", "webfonts/fa-regular-400.woff2", "fontawesome/webfonts/fa-regular-400.woff2"),
    ("font_awesome", "webfonts/fa-regular-400.ttf", "fontawesome/webfonts/fa-regular-400.ttf"),
)

_CSS = "css"
_JS = "js"

# What an external URL of GX's templates becomes: a pattern on the URL and the local files
# (kind, path under the site) loaded instead; no files: the tag is dropped.
_REPLACEMENTS = (
    (re.compile(r"/jquery[-.\d]*(\.min)?\.js$"), ((_JS, f"{VENDOR}/jquery/jquery.min.js"),)),
    (re.compile(r"/bootstrap(\.min)?\.css$"), ((_CSS, f"{VENDOR}/bootstrap/css/bootstrap.min.css"),)),
    # the bundle holds Popper, which GX loads on its own: Popper's tag is dropped
    (re.compile(r"/bootstrap(\.min)?\.js$"), ((_JS, f"{VENDOR}/bootstrap/js/bootstrap.bundle.min.js"),)),
    (re.compile(r"font-?awesome.*/all(\.min)?\.css$"),
     tuple((_CSS, f"{VENDOR}/fontawesome/css/{name}.min.css") for name in ("fontawesome", "solid", "regular"))),
    (re.compile(r"/bootstrap-table(\.min)?\.js$"), ((_JS, SHIM),)),
)

_SCRIPT_TAG = re.compile(r"<script\b[^>]*?\bsrc\s*=\s*[\"'](?P<url>https?://[^\"']+)[\"'][^>]*>\s*</script>", re.I)
_LINK_TAG = re.compile(r"<link\b[^>]*?\bhref\s*=\s*[\"'](?P<url>https?://[^\"']+)[\"'][^>]*>", re.I)
_IMG_SRC = re.compile(r"(<img\b[^>]*?\bsrc\s*=\s*)([\"'])(?P<url>https?://[^\"']+)\2", re.I)
_CSS_URL = re.compile(r"url\(\s*([\"']?)(?P<url>https?://[^\"')]+)\1\s*\)", re.I)
_FAVICON = re.compile(r"(<link\b[^>]*?\bhref\s*=\s*[\"'])(?:\.\./|\./)*static/images/favicon\.ico", re.I)
_SOURCE_MAP = re.compile(r"\n?/[*/]# sourceMappingURL=[^\n]*?(\*/)?\s*$")
_RESOURCE_URL = re.compile(
    r"<(?:script|img|iframe|source|video|audio|embed)\b[^>]*?\bsrc\s*=\s*[\"'](https?:)?//[^\"']+[\"']"
    r"|<link\b[^>]*?\bhref\s*=\s*[\"'](https?:)?//[^\"']+[\"']"
    r"|url\(\s*[\"']?(https?:)?//[^\"')]+", re.I)


def _xstatic_dir(package: str) -> Path:
    """The data folder of an installed XStatic package (``xstatic.pkg.<package>.BASE_DIR``)."""
    import importlib

    return Path(importlib.import_module(f"xstatic.pkg.{package}").BASE_DIR)


def copy_assets(site: Path) -> None:
    """Copy the vendored files and the project's bootstrap-table stand-in into ``site``. Source-map
    comments are removed from the copies: the maps are not shipped, and a browser's developer tools
    would otherwise ask for them."""
    for package, source, target in ASSETS:
        dest = Path(site) / VENDOR / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = _xstatic_dir(package) / source
        if dest.suffix in (".css", ".js"):
            dest.write_text(_SOURCE_MAP.sub("", src.read_text(encoding="utf-8")), encoding="utf-8")
        else:
            shutil.copyfile(src, dest)
    shutil.copyfile(_SHIM_SOURCE, Path(site) / SHIM)


def _tags(kind_paths, prefix: str) -> str:
    """The ``<link>``/``<script>`` tags that load local files (``prefix``: from the page to the site's root)."""
    out = []
    for kind, path in kind_paths:
        if kind == _CSS:
            out.append(f'<link rel="stylesheet" href="{prefix}{path}">')
        else:
            out.append(f'<script src="{prefix}{path}"></script>')
    return "".join(out)


def _replacement(url: str, prefix: str) -> str:
    """The local tags that load what ``url`` did ('' when nothing replaces it)."""
    bare = url.split("?", 1)[0]
    for pattern, files in _REPLACEMENTS:
        if pattern.search(bare):
            return _tags(files, prefix)
    return ""


def _local_image(url: str, prefix: str) -> str:
    """GX's logos come from its web assets; the site has its own copy (any other image: none)."""
    return f"{prefix}{LOGO}" if "logo" in url.rsplit("/", 1)[-1].lower() else ""


def rewrite_page(page: str, prefix: str) -> str:
    """``page`` with every external script, stylesheet and image replaced by its local copy under
    ``prefix`` (the relative path from the page to the site's root: ``""``, ``"../"``, …) or dropped."""
    page = _SCRIPT_TAG.sub(lambda m: _replacement(m["url"], prefix), page)
    page = _LINK_TAG.sub(lambda m: _replacement(m["url"], prefix) if "stylesheet" in m[0].lower() else "", page)
    page = _IMG_SRC.sub(lambda m: f"{m[1]}{m[2]}{_local_image(m['url'], prefix)}{m[2]}", page)
    # GX counts one folder too few above its result pages for the icon: linked from the site's root
    page = _FAVICON.sub(lambda m: f"{m[1]}{prefix}static/images/favicon.ico", page)
    return rewrite_css(page, prefix)


def rewrite_css(css: str, prefix: str) -> str:
    """CSS (or a page's inline styles) with ``url(...)`` of external images pointing at local copies."""
    def local(m):
        image = _local_image(m["url"], prefix)
        return f"url('{image}')" if image else "none"

    return _CSS_URL.sub(local, css)


def external_resources(text: str) -> list[str]:
    """What a page or stylesheet would load from another host (scripts, stylesheets, images, fonts)."""
    return [m.group(0) for m in _RESOURCE_URL.finditer(text)]


def make_offline(site: Path) -> None:
    """Make the Data Docs in ``site`` (GX's ``local_site`` folder) render without a network."""
    site = Path(site)
    copy_assets(site)
    for page in sorted(site.rglob("*.html")):
        depth = len(page.relative_to(site).parts) - 1
        text = page.read_text(encoding="utf-8")
        page.write_text(rewrite_page(text, "../" * depth), encoding="utf-8")
    for css in sorted((site / "static" / "styles").glob("*.css")):
        css.write_text(rewrite_css(css.read_text(encoding="utf-8"), "../../"), encoding="utf-8")
