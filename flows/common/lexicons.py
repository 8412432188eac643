"""Reading YAML rule files: ``lexicons/`` (data of general domain knowledge, never an article's facts)."""

from __future__ import annotations

import functools
from pathlib import Path

from flows.common.paths import LEXICONS_DIR
from schemas import read_yaml  # the one YAML reader (libyaml's parser): schemas/ and lexicons/

__all__ = ["lexicon", "read_yaml"]


@functools.cache
def lexicon(name: str, lexicons_dir: Path = LEXICONS_DIR):
    """The parsed ``lexicons/<name>.yaml``."""
    return read_yaml(Path(lexicons_dir) / f"{name}.yaml")
