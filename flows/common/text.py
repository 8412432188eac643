"""Small text helpers shared by the stages."""

from __future__ import annotations

import hashlib
import unicodedata

_QUOTE_PAIRS = (("\u201c", '"'), ("\u201d", '"'), ("\u2018", "'"), ("\u2019", "'"), ("\u00a0", " "))


def normalize(text: str) -> str:
    """Comparison key of a paragraph: NFKC, straight quotes, case-folded, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():  # str.translate is slow; most text has no curly quotes
        for a, b in _QUOTE_PAIRS:
            text = text.replace(a, b)
    return " ".join(text.split()).casefold()


STABLE_ID_LENGTH = 16  # hex digits of an id


def stable_id(prefix: str, *parts: object, length: int = STABLE_ID_LENGTH) -> str:
    """Deterministic id: prefix + hex digits of sha256 over the parts."""
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()
    return prefix + h[:length]
