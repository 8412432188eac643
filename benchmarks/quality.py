"""Extraction quality: the scorer's figures on the dev set, and records per 1k words on every corpus.

Builds three corpora with the pipeline's stage functions in this process (ingest -> clean -> dedup ->
extract, the same code the flow runs, without orchestration):

- ``seeds``: the project's ``raw/`` folder (the five seed articles);
- ``dev``: ``shared/corpus/jscd-dev`` (real coverage with hand-made gold), scored by
  ``shared/tools/score_release.py`` (person recall, event accuracy, merges, heads of delegation, quote
  speakers, facts, false persons per document);
- ``wikinews``: 293 unrelated articles, where no event, participant or relevant document may appear.

For each it prints the records per 1k content words of every table; for the dev set also the
scorer's misses (``--misses N``) and its last line of figures.

    python -m benchmarks.quality [--corpus seeds dev wikinews] [--misses 40] [--out DIR]

``--out DIR`` also writes each corpus's tables as Parquet under DIR/<corpus>/ (to read the misses).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RECORD_TABLES = ["entities", "mentions", "events", "participants", "quotes", "facts", "statements"]


def shared_dir() -> Path | None:
    for parent in ROOT.parents:
        if (parent / "shared" / "tools" / "score_release.py").is_file():
            return parent / "shared"
    return None


def scorer():
    """The shared scorer as a module (it is a script, not a package)."""
    shared = shared_dir()
    if shared is None:
        raise SystemExit("shared/tools/score_release.py is not beside the repository")
    spec = importlib.util.spec_from_file_location("score_release", shared / "tools" / "score_release.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def corpus_folder(name: str) -> tuple[Path, Path | None]:
    """(raw folder, gold file or None) of a corpus name."""
    if name == "seeds":
        return ROOT / "raw", None
    shared = shared_dir()
    folder = shared / "corpus" / ("jscd-dev" if name == "dev" else name) if shared else None
    if folder is None or not folder.is_dir():
        raise SystemExit(f"corpus {name!r} is not on this machine")
    gold = folder / "gold.json"
    return folder, gold if gold.is_file() else None


def text_files_only(folder: Path, into: Path) -> Path:
    """A raw folder holding only the corpus's .txt files (its gold, sources and README are not articles)."""
    for f in sorted(folder.glob("*.txt")):
        shutil.copy2(f, into / f.name)
    return into


def build(raw: Path) -> dict:
    """Every table of a release, built in this process by the flow's stage functions."""
    from flows.clean import clean
    from flows.dedup import dedup
    from flows.extract import extract
    from flows.ingest import ingest

    sources, rejections = ingest.ingest(raw)
    paragraphs, info = clean.clean(sources)
    sources, paragraphs, info, rejections = ingest.reject_all_boilerplate(sources, paragraphs, info, rejections)
    paragraphs = dedup.dedup(paragraphs)
    return extract.build_tables(sources, paragraphs, info, rejections)


def content_words(tables: dict) -> int:
    p = tables["paragraphs"]
    return int(p.loc[p["status"] == "content", "n_words"].sum())


def per_1k_words(tables: dict) -> dict:
    words = max(content_words(tables), 1)
    return {t: round(1000 * len(tables[t]) / words, 2) for t in RECORD_TABLES}


def report(name: str, tables: dict, gold: Path | None, misses: int, seconds: float) -> dict:
    docs = tables["documents"]
    line = {"corpus": name, "documents": len(docs), "content_words": content_words(tables),
            "relevant": int(docs["relevant"].sum()), "linked": int(docs["event_id"].notna().sum()),
            "seconds": round(seconds, 1), "per_1k_words": per_1k_words(tables)}
    print(f"== {name}: {line['documents']} documents, {line['content_words']} content words, "
          f"{line['relevant']} relevant, {line['linked']} linked to an event ({seconds:.1f} s)")
    print("   records per 1k words: " + ", ".join(f"{k} {v}" for k, v in line["per_1k_words"].items()))
    if gold is not None:
        sr = scorer()
        figs, file_misses, global_misses = sr.score(tables, json.loads(gold.read_text(encoding="utf-8")))
        print("   " + sr.report(figs, file_misses, global_misses, misses).replace("\n", "\n   "))
        line["figures"] = {k: round(v, 3) for k, v in figs.items()}
    return line


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", nargs="+", default=["seeds", "dev", "wikinews"], choices=["seeds", "dev", "wikinews"])
    ap.add_argument("--misses", type=int, default=40, help="scorer miss lines to print (default 40)")
    ap.add_argument("--out", type=Path, help="also write each corpus's tables as Parquet under this folder")
    ap.add_argument("--json", action="store_true", help="end with one JSON line of every figure")
    a = ap.parse_args(argv)
    lines = []
    for name in a.corpus:
        folder, gold = corpus_folder(name)
        with tempfile.TemporaryDirectory() as tmp:
            raw = folder if name == "seeds" else text_files_only(folder, Path(tmp))
            t0 = time.perf_counter()
            tables = build(raw)
            seconds = time.perf_counter() - t0
        if a.out:
            (a.out / name).mkdir(parents=True, exist_ok=True)
            for t, df in tables.items():
                df.to_parquet(a.out / name / f"{t}.parquet", index=False)
        lines.append(report(name, tables, gold, a.misses, seconds))
    if a.json:
        print(json.dumps(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
