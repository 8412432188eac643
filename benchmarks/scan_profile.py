"""Where the per-batch scan spends its time (issue 32): the scan is most of a large build's CPU.

Over the content paragraphs of a real corpus (default: wikinews), on one pinned core, the best of
``--repeat`` runs of each part of :func:`flows.extract.scans.scan_paragraphs`:

- the whole scan, and the entity part of it (:func:`flows.extract.entities.scan`);
- the spaCy pipeline: the tokenizer alone, the pipeline as the scan runs it (no sentencizer), and
  the pipeline without each rule component (a component's cost is the difference);
- the sentencizer (the scan runs it on the paragraphs where it found something), the Python that
  reads a parsed paragraph (``_scan_doc``), and the record readers that need no spaCy (facts,
  countries named, quoted passages).

    python -m benchmarks.scan_profile [--corpus DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def best_of(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None) -> int:
    from benchmarks import extract_speed

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    corpus = args.corpus or extract_speed._corpus_default()
    extract_speed.pin_one_core()

    import pandas as pd

    from flows.extract.scans import scan_paragraphs
    from flows.extract.entities import _scan_doc, scan
    from flows.extract.events import countries_said
    from flows.extract.facts import extract_facts
    from flows.extract.nlp import get_nlp, load_lexicons
    from flows.extract.quotes import quotes_in

    _, _, paragraphs = extract_speed.load(corpus)
    content = paragraphs[paragraphs["status"] == "content"]
    texts = list(dict.fromkeys(content["text"].tolist()))  # the scan reads each distinct text once
    words = int(content["n_words"].sum())
    nlp, lex = get_nlp(), load_lexicons()
    scan_paragraphs(paragraphs)  # warm: the pipeline, the lexicons, the tokenizer's cache
    docs = list(nlp.pipe(texts, disable=["sentencizer"]))
    sentencizer = nlp.get_pipe("sentencizer")
    parts = {
        "scan_paragraphs (the whole scan)": lambda: scan_paragraphs(paragraphs),
        "entities.scan (pipeline, sentences, _scan_doc)": lambda: scan(paragraphs),
        "tokenizer alone": lambda: list(nlp.tokenizer.pipe(texts)),
        "pipeline as the scan runs it": lambda: list(nlp.pipe(texts, disable=["sentencizer"])),
        **{f"pipeline without {name}": (lambda name=name: list(nlp.pipe(texts, disable=["sentencizer", name])))
           for name in nlp.pipe_names if name != "sentencizer"},
        "sentencizer (every paragraph)": lambda: [sentencizer(doc) for doc in docs],
        "_scan_doc (reading a parsed paragraph)": lambda: [_scan_doc(d, lex, None, None, t) for d, t in zip(docs, texts)],
        "facts": lambda: extract_facts(paragraphs, pd.DataFrame()),
        "countries named": lambda: [countries_said(t) for t in texts],
        "quoted passages": lambda: [quotes_in(t) for t in texts],
    }
    print(f"corpus: {corpus.name}, {len(content)} content paragraphs ({len(texts)} distinct), {words:,} words; "
          f"best of {args.repeat}, one core")
    print(f"{'part':50s} {'s':>7s} {'words/s':>11s}")
    for label, fn in parts.items():
        seconds = best_of(args.repeat, fn)
        print(f"{label:50s} {seconds:7.3f} {words / seconds:11,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
