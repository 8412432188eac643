"""Clean: split each document into paragraphs and mark titles and boilerplate.

``split_paragraphs(text)`` keeps character offsets into the decoded raw text.
``clean(sources)`` returns the paragraphs table (before deduplication) and, per document, what the
text itself says about it (outlet byline, dateline). The rules are data: ``lexicons/boilerplate.yaml``
and ``lexicons/outlets.yaml``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from flows.paths import LEXICONS_DIR
from flows.text import normalize, stable_id

_LINE = re.compile(r"[^\r\n]+")
# "ERBIL, Kurdistan Region - ", "WASHINGTON (Reuters) — ", "BAGHDAD, Iraq – "
DATELINE = re.compile(
    r"^(?P<dateline>[A-Z][A-Z.'\- ]{2,}(?:\s*\([^)]{1,40}\))?(?:,\s*[A-Z][\w.'\- ]{1,40}){0,2})\s*[-\u2013\u2014]+\s+(?=\S)"
)


@dataclass(frozen=True)
class Rules:
    line: tuple[tuple[str, re.Pattern], ...]
    block: tuple[tuple[str, re.Pattern], ...]
    outlets: dict[str, str]  # normalised name or alias -> outlet name

    def line_reason(self, text: str) -> str | None:
        key = text.strip()
        for reason, pattern in self.line:
            if pattern.fullmatch(key):
                return reason
        return None

    def block_reason(self, text: str) -> str | None:
        key = text.strip()
        for reason, pattern in self.block:
            if pattern.fullmatch(key):
                return reason
        return None

    def outlet(self, text: str) -> str | None:
        return self.outlets.get(normalize(text))


def _compile(groups: list[dict]) -> tuple[tuple[str, re.Pattern], ...]:
    return tuple(
        (g["reason"], re.compile("(?:" + "|".join(g["patterns"]) + r")\s*", re.IGNORECASE)) for g in groups
    )


@functools.cache
def load_rules(lexicons_dir: Path = LEXICONS_DIR) -> Rules:
    spec = yaml.safe_load((lexicons_dir / "boilerplate.yaml").read_text(encoding="utf-8"))
    outlets = {}
    for o in yaml.safe_load((lexicons_dir / "outlets.yaml").read_text(encoding="utf-8")):
        for name in [o["name"], *o.get("aliases", [])]:
            outlets[normalize(name)] = o["name"]
    return Rules(line=_compile(spec.get("line", [])), block=_compile(spec.get("block", [])), outlets=outlets)


def split_paragraphs(text: str) -> list[tuple[int, int, str]]:
    """Paragraphs of a plain-text article as (char_start, char_end, text).

    A paragraph is a non-blank line, trimmed of surrounding whitespace (including no-break spaces);
    this covers both layouts seen in scraped text (blank-line separated and one paragraph per line).
    ``text[char_start:char_end]`` is the paragraph text exactly.
    """
    out = []
    for m in _LINE.finditer(text):
        line = m.group()
        stripped = line.strip()
        if not stripped:
            continue
        start = m.start() + (len(line) - len(line.lstrip()))
        out.append((start, start + len(stripped), stripped))
    return out


HEADLINE_MAX_WORDS = 25


def looks_like_headline(text: str) -> bool:
    """A first line is the headline when it is short and not a sentence (no closing full stop)."""
    return len(text.split()) <= HEADLINE_MAX_WORDS and not text.rstrip().endswith((".", ":", ";", ","))


def split_dateline(text: str) -> tuple[str | None, str]:
    """('ERBIL, Kurdistan Region', rest) when the paragraph opens with a dateline, else (None, text)."""
    m = DATELINE.match(text)
    if not m:
        return None, text
    return m.group("dateline").strip(), text[m.end():]


def clean_document(doc_id: str, text: str, rules: Rules) -> tuple[list[dict], dict]:
    """Paragraph rows of one document and what its text says about it (outlet, dateline)."""
    rows: list[dict] = []
    info: dict = {"outlet_in_text": None, "dateline": None}
    title_key = None
    title_id = None
    block = None
    for position, (start, end, para) in enumerate(split_paragraphs(text)):
        row = {
            "para_id": stable_id("p", doc_id, start),
            "doc_id": doc_id,
            "position": position,
            "char_start": start,
            "char_end": end,
            "text": para,
            "status": "content",
            "reason": None,
            "duplicate_of": None,
            "n_words": len(para.split()),
        }
        rows.append(row)
        if position == 0 and looks_like_headline(para):
            row["status"], title_key, title_id = "title", normalize(para), row["para_id"]
            continue
        block = rules.block_reason(para) or block
        if block is not None:
            row["status"], row["reason"] = "boilerplate", block
            continue
        if normalize(para) == title_key:
            row["status"], row["reason"], row["duplicate_of"] = "title", "title_repeat", title_id
            continue
        reason = rules.line_reason(para)
        if reason is None and (outlet := rules.outlet(para)):
            reason = "byline"
            info["outlet_in_text"] = info["outlet_in_text"] or outlet
        if reason is not None:
            row["status"], row["reason"] = "boilerplate", reason
            continue
        if info["dateline"] is None:
            dateline, _ = split_dateline(para)
            if dateline:
                info["dateline"] = dateline
    return rows, info


def clean(sources: pd.DataFrame, lexicons_dir: Path = LEXICONS_DIR) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Paragraphs of every document, and a per-document table of outlet/dateline found in the text."""
    rules = load_rules(lexicons_dir)
    paragraphs, infos = [], []
    for doc_id, text in zip(sources["doc_id"], sources["text"]):
        rows, info = clean_document(doc_id, text, rules)
        paragraphs.extend(rows)
        infos.append({"doc_id": doc_id, **info})
    from schemas import conform

    para_df = conform("paragraphs", pd.DataFrame(paragraphs, columns=_PARAGRAPH_COLUMNS))
    return para_df, pd.DataFrame(infos, columns=["doc_id", "outlet_in_text", "dateline"])


_PARAGRAPH_COLUMNS = ["para_id", "doc_id", "position", "char_start", "char_end", "text", "status",
                      "reason", "duplicate_of", "n_words"]
