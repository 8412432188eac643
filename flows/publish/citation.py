"""How to cite a release: ``CITATION.cff`` (Citation File Format 1.2.0) and the citation shown on the pages.

Written into every release and, for the latest release, into the output folder. Only what the project
knows goes in: title, version, release date, licence and the project as the author (an entity). No
repository URL or DOI is made up; add ``repository-code`` or ``doi`` here once the dataset has one.
"""

from __future__ import annotations

import yaml

CFF_NAME = "CITATION.cff"
CFF_VERSION = "1.2.0"


def cff(version: str, date_released: str) -> dict:
    """The citation metadata of release ``version`` (``date_released``: its ISO creation date)."""
    from flows.publish.releases import DATASET_TITLE, LICENSES
    from flows.publish.site import AUTHOR, DATASET_DESCRIPTION

    return {
        "cff-version": CFF_VERSION,
        "message": "If you use this dataset, please cite it as below.",
        "type": "dataset",
        "title": DATASET_TITLE,
        "version": version,
        "date-released": date_released[:10],
        "license": LICENSES[0]["name"],
        "authors": [{"name": AUTHOR}],
        "abstract": DATASET_DESCRIPTION,
        "keywords": ["Iraq", "United States", "security cooperation", "news", "dataset"],
    }


def cff_text(version: str, date_released: str) -> str:
    """``CITATION.cff`` as YAML (keys in CFF's usual order; dates as quoted strings, which CFF accepts)."""
    return yaml.safe_dump(cff(version, date_released), sort_keys=False, allow_unicode=True, width=100)


def citation_text(version: str, date_released: str) -> str:
    """The same as one line of text, in the usual author (year), title (version) [Data set] form."""
    meta = cff(version, date_released)
    return (f"{meta['authors'][0]['name']} ({meta['date-released'][:4]}). {meta['title']} "
            f"(version {version}) [Data set]. Licence {meta['license']}.")
