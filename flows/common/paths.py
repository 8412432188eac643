"""Where things live. Every default path is relative to the repository root."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # flows/common/paths.py -> the repository
RAW_DIR = ROOT / "raw"
OUTPUT_DIR = ROOT / "output"
LEXICONS_DIR = ROOT / "lexicons"
GX_DIR = ROOT / "expectations"
MANIFEST_NAME = "sources.csv"


def shared_corpus(name: str = "wikinews") -> Path | None:
    """A development corpus (not product data): ``$WIKINEWS_DIR`` for wikinews, else
    ``$CORPUS_DIR/<name>``, else ``shared/corpus/<name>`` beside the repository or one of its parents
    (a git worktree sits one level deeper). None when it is not on this machine."""
    import os

    for env, path in (("WIKINEWS_DIR", None), ("CORPUS_DIR", name)):
        if name == "wikinews" or env == "CORPUS_DIR":
            if os.environ.get(env):
                p = Path(os.environ[env]) / path if path else Path(os.environ[env])
                return p if p.is_dir() else None
    for parent in ROOT.parents:
        p = parent / "shared" / "corpus" / name
        if p.is_dir():
            return p
    return None
