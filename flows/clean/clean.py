"""Clean: split each document into paragraphs and mark titles and boilerplate.

``split_paragraphs(text)`` keeps character offsets into the decoded raw text.
``clean(sources)`` returns the paragraphs table (before deduplication) and, per document, what the
text itself says about it (outlet byline, dateline). The rules are data: ``lexicons/boilerplate.yaml``
and ``lexicons/outlets.yaml``. After the per-document rules, ``mark_templates`` marks short lines that
recur verbatim across many documents of one outlet (corpus-level learning, see :class:`TemplateParams`).
It must see the whole corpus: the flow cleans each batch of documents with ``templates=None`` and
marks the templates once the batches are gathered (so the tables do not depend on the batching).

Every paragraph keeps its row; a paragraph that is not article text gets ``status`` boilerplate and a
``reason`` code (the rule's ``reason`` in the lexicon, ``byline``, or ``template``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from flows.common.lexicons import read_yaml
from flows.common.paths import LEXICONS_DIR
from flows.common.text import normalize, stable_id

_LINE = re.compile(r"[^\r\n]+")
_BLANK_GAP = re.compile(r"\n[ \t\u00a0\r\f\v]*\n")
# "ERBIL, Kurdistan Region - ", "WASHINGTON (Reuters) — ", "BAGHDAD, Iraq – "
DATELINE = re.compile(
    r"^(?P<dateline>[A-Z][A-Z.'\- ]{2,}(?:\s*\([^)]{1,40}\))?(?:,\s*[A-Z][\w.'\- ]{1,40}){0,2})\s*[-\u2013\u2014]+\s+(?=\S)"
)
# A line ends a sentence (or a heading) when its last character is one of these.
_TERMINAL = frozenset(".!?:;\"'\u201d\u2019)]}\u2026")

_DTYPES = {"position": "int64", "char_start": "int64", "char_end": "int64", "body_start": "int64", "n_words": "int64",
           "para_id": "str", "doc_id": "str", "text": "str", "status": "str"}
PARAGRAPH_COLUMNS = ["para_id", "doc_id", "position", "char_start", "char_end", "body_start", "text", "status",
                     "reason", "duplicate_of", "cluster_id", "n_words"]


def _first_rule(rules: tuple[tuple[str, re.Pattern], ...], text: str) -> str | None:
    """The reason of the first rule whose pattern matches the whole (stripped) text."""
    key = text.strip()
    return next((reason for reason, pattern in rules if pattern.fullmatch(key)), None)


@dataclass(frozen=True)
class Rules:
    line: tuple[tuple[str, re.Pattern], ...]
    block: tuple[tuple[str, re.Pattern], ...]
    outlets: dict[str, str]  # normalised name or alias -> outlet name
    max_line_words: int = 60  # longest paragraph any line rule is tried on (speed: long prose is never debris)

    def line_reason(self, text: str) -> str | None:
        return _first_rule(self.line, text)

    def block_reason(self, text: str) -> str | None:
        return _first_rule(self.block, text)

    def outlet(self, text: str) -> str | None:
        return self.outlets.get(normalize(text))


@dataclass(frozen=True)
class TemplateParams:
    """Corpus-level template learning: which recurring lines are an outlet's page template.

    A paragraph still marked content is ``template`` boilerplate when its normalised text has at most
    ``max_words`` words and occurs in at least ``min_docs`` distinct documents of its outlet, and in at
    least ``min_share`` of that outlet's documents. Documents whose outlet is unknown form one group.
    The defaults keep real recurring lines of a news site (date lines, a photographer's credit in a few
    articles) as content on the Wikinews corpus (293 articles), while a newsletter prompt printed under
    every tenth article of an outlet is caught.
    """

    max_words: int = 12
    min_docs: int = 5
    min_share: float = 0.05


def _compile(groups: list[dict]) -> tuple[tuple[str, re.Pattern], ...]:
    return tuple(
        (g["reason"], re.compile("(?:" + "|".join(g["patterns"]) + r")\s*", re.IGNORECASE)) for g in groups
    )


@functools.cache
def load_rules(lexicons_dir: Path = LEXICONS_DIR) -> Rules:
    spec = read_yaml(lexicons_dir / "boilerplate.yaml")
    outlets = {}
    for o in read_yaml(lexicons_dir / "outlets.yaml"):
        for name in [o["name"], *o.get("aliases", [])]:
            outlets[normalize(name)] = o["name"]
    return Rules(line=_compile(spec.get("line", [])), block=_compile(spec.get("block", [])), outlets=outlets,
                 max_line_words=int(spec.get("max_line_words", 60)))


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every non-blank line, trimmed of surrounding whitespace (incl. no-break spaces)."""
    out = []
    for m in _LINE.finditer(text):
        line = m.group()
        stripped = line.strip()
        if not stripped:
            continue
        start = m.start() + (len(line) - len(line.lstrip()))
        out.append((start, start + len(stripped)))
    return out


def split_paragraphs(text: str) -> list[tuple[int, int, str]]:
    """Paragraphs of a plain-text article as (char_start, char_end, text).

    Two layouts occur in scraped text: one paragraph per line, and paragraphs separated by blank lines.
    A paragraph is a non-blank line, trimmed of surrounding whitespace; in the blank-line layout (at
    least half of the line breaks between non-blank lines cross a blank line) a line that merely
    continues a hard-wrapped sentence (the previous line ends without punctuation, this one starts in
    lower case, no blank line between) is joined to the paragraph before it, newline included.
    ``text[char_start:char_end]`` is always the paragraph text exactly.
    """
    lines = _lines(text)
    if len(lines) < 2:
        return [(s, e, text[s:e]) for s, e in lines]
    gaps = [_BLANK_GAP.search(text, lines[i - 1][1], lines[i][0]) is not None for i in range(1, len(lines))]
    blank_layout = sum(gaps) * 2 >= len(gaps)
    spans = [list(lines[0])]
    for i in range(1, len(lines)):
        start, end = lines[i]
        prev_end = spans[-1][1]
        if blank_layout and not gaps[i - 1] and text[prev_end - 1] not in _TERMINAL and text[start].islower():
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [(s, e, text[s:e]) for s, e in spans]


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
    """Paragraph rows of one document and what its text says about it (outlet, dateline).

    Decisions, in order: the first paragraph is the title when it reads as a headline; a block rule
    (comment section, sidebar) marks that paragraph and every later one until another block rule;
    a paragraph equal to the title is a repeated title; a line rule or an outlet name marks boilerplate;
    the first content paragraph's dateline is recorded (the paragraph stays content, ``body_start``
    points past the dateline).
    """
    rows: list[dict] = []
    info: dict = {"outlet_in_text": None, "dateline": None}
    title_key = None
    title_id = None
    block = None
    seen_content = False
    for position, (start, end, para) in enumerate(split_paragraphs(text)):
        n_words = len(para.split())
        row = {
            "para_id": stable_id("p", doc_id, start),
            "doc_id": doc_id,
            "position": position,
            "char_start": start,
            "char_end": end,
            "body_start": start,
            "text": para,
            "status": "content",
            "reason": None,
            "duplicate_of": None,
            "cluster_id": None,
            "n_words": n_words,
        }
        rows.append(row)
        if position == 0 and looks_like_headline(para) and not rules.line_reason(para):  # not a header's clock
            row["status"], title_key, title_id = "title", normalize(para), row["para_id"]
            continue
        short = n_words <= rules.max_line_words
        if short:
            block = rules.block_reason(para) or block
        if block is not None:
            row["status"], row["reason"] = "boilerplate", block
            continue
        if title_key is not None and short and normalize(para) == title_key:
            row["status"], row["reason"], row["duplicate_of"] = "title", "title_repeat", title_id
            continue
        reason = rules.line_reason(para) if short else None
        if reason is None and short and (outlet := rules.outlet(para)):
            reason = "byline"
            info["outlet_in_text"] = info["outlet_in_text"] or outlet
        if reason is not None:
            row["status"], row["reason"] = "boilerplate", reason
            continue
        if not seen_content:
            seen_content = True
            m = DATELINE.match(para)
            if m:
                info["dateline"] = m.group("dateline").strip()
                row["body_start"] = start + m.end()
    return rows, info


def learn_templates(paragraphs: pd.DataFrame, doc_outlet: pd.Series,
                    params: TemplateParams = TemplateParams()) -> pd.DataFrame:
    """Mark content paragraphs that are an outlet's recurring template lines (reason ``template``).

    ``doc_outlet`` maps doc_id to the outlet (null = unknown). See :class:`TemplateParams`.
    """
    if paragraphs.empty:
        return paragraphs
    short = paragraphs[(paragraphs["n_words"] <= params.max_words) & (paragraphs["status"] != "title")]
    if short.empty:
        return paragraphs
    outlet = short["doc_id"].map(doc_outlet).fillna("")
    keys = short["text"].map(normalize)
    frame = pd.DataFrame({"outlet": outlet.to_numpy(), "key": keys.to_numpy(), "doc_id": short["doc_id"].to_numpy()},
                         index=short.index)
    n_docs_line = frame.groupby(["outlet", "key"])["doc_id"].transform("nunique")
    docs_per_outlet = doc_outlet.fillna("").value_counts()
    share = n_docs_line / frame["outlet"].map(docs_per_outlet).astype(float)
    hit = (n_docs_line >= params.min_docs) & (share >= params.min_share) & (short["status"] == "content")
    if hit.any():
        paragraphs = paragraphs.copy(deep=False)  # copy on write: only the two columns marked are copied
        paragraphs.loc[hit[hit].index, ["status", "reason"]] = ["boilerplate", "template"]
    return paragraphs


def document_outlets(sources: pd.DataFrame, info: pd.DataFrame) -> pd.Series:
    """doc_id -> outlet: the manifest's (``sources``), else the one the text names (``info``), else null."""
    manifest = sources["outlet"] if "outlet" in sources else pd.Series(None, index=sources.index, dtype=object)
    outlet = pd.Series(manifest.to_numpy(), index=sources["doc_id"].to_numpy(), dtype=object)
    in_text = pd.Series(info["outlet_in_text"].to_numpy(), index=info["doc_id"].to_numpy(), dtype=object)
    return outlet.where(outlet.notna() & (outlet != ""), in_text)


def mark_templates(paragraphs: pd.DataFrame, sources: pd.DataFrame, info: pd.DataFrame,
                   params: TemplateParams = TemplateParams()) -> pd.DataFrame:
    """``paragraphs`` of the whole corpus with its outlets' template lines marked (:func:`learn_templates`);
    ``sources``, ``info``: the documents and what their texts say (the outlet of each)."""
    if paragraphs.empty:
        return paragraphs
    return learn_templates(paragraphs, document_outlets(sources, info), params)


def clean(sources: pd.DataFrame, lexicons_dir: Path = LEXICONS_DIR,
          templates: TemplateParams | None = TemplateParams()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Paragraphs of every document, and a per-document table of outlet/dateline found in the text.

    ``templates=None`` turns corpus-level template learning off (the flow's batches: the flow marks
    the templates over the whole corpus, :func:`mark_templates`).
    """
    rules = load_rules(lexicons_dir)
    columns: dict[str, list] = {c: [] for c in PARAGRAPH_COLUMNS}  # column lists: far smaller than row dicts
    infos = []
    for doc_id, text in zip(sources["doc_id"], sources["text"]):
        rows, info = clean_document(doc_id, text, rules)
        for name, values in columns.items():
            values.extend([r[name] for r in rows])
        infos.append({"doc_id": doc_id, **info})
    from schemas import conform

    info_df = pd.DataFrame(infos, columns=["doc_id", "outlet_in_text", "dateline"])
    para_df = pd.DataFrame({name: pd.Series(columns.pop(name), dtype=_DTYPES.get(name, object))
                            for name in PARAGRAPH_COLUMNS})
    if templates is not None:
        para_df = mark_templates(para_df, sources, info_df, templates)
    return conform("paragraphs", para_df), info_df
