"""What a release holds for people, besides its data files: written by publishing into each release.

- ``preview/<table>.html``: a table's first rows and column descriptions (:mod:`flows.publish.preview`);
- ``changes.html``: ``CHANGES.md`` as a page (:mod:`flows.publish.changes_page`);
- ``CITATION.cff``: how to cite the release (:mod:`flows.publish.citation`);
- ``<dataset>-<version>.zip``: every data file in one download (:mod:`flows.publish.bundle`).

All are made from the release's own files, once its tables, raw manifest and ``CHANGES.md`` are
written. The landing page (``output/index.html``, :mod:`flows.publish.catalog`) links to them.
"""

from __future__ import annotations

from pathlib import Path

import schemas
from flows.publish import bundle, changes_page, citation, preview


def write(release_dir: Path, version: str, created: str, report: bool = True) -> None:
    """Write the previews, the changes page, ``CITATION.cff`` and the zip into ``release_dir``
    (``report``: whether the release will hold a validation report, for the pages' links)."""
    release_dir = Path(release_dir)
    tables = list(schemas.tables())
    preview.write_previews(release_dir, version, tables, report=report)
    changes_md = release_dir / "CHANGES.md"
    if changes_md.exists():
        (release_dir / changes_page.CHANGES_HTML).write_text(
            changes_page.html(changes_md.read_text(encoding="utf-8"), version, report), encoding="utf-8")
    (release_dir / citation.CFF_NAME).write_text(citation.cff_text(version, created), encoding="utf-8")
    bundle.write_zip(release_dir, version, tables)
