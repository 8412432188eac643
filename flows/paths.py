"""Where things live. Every default path is relative to the repository root."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAW_DIR = ROOT / "raw"
OUTPUT_DIR = ROOT / "output"
LEXICONS_DIR = ROOT / "lexicons"
GX_DIR = ROOT / "expectations"
MANIFEST_NAME = "sources.csv"
