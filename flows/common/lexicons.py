"""Reading YAML rule files: ``lexicons/`` (data of general domain knowledge, never an article's facts)."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from flows.common.paths import LEXICONS_DIR

# libyaml's parser, which PyYAML's wheels include: the same data, several times faster to read (every
# worker process reads the rules at start); the pure-Python one where PyYAML was built without it
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path):
    """The parsed YAML file at ``path`` (safe: plain data only)."""
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=LOADER)


@functools.cache
def lexicon(name: str, lexicons_dir: Path = LEXICONS_DIR):
    """The parsed ``lexicons/<name>.yaml``."""
    return read_yaml(Path(lexicons_dir) / f"{name}.yaml")
