"""Throughput of the record extractors of issue #4 (quotes, facts, statements) on real news.

    python benchmarks/bench_records.py [--corpus DIR] [--sizes 1,4]

Reads the wikinews corpus (default: shared/corpus/wikinews found above the repository, or
$WIKINEWS_DIR) through ingest/clean/dedup once, then for each size N builds N copies of its paragraphs
(new doc/para ids, same text) and measures, in CPU seconds of this process (one core):
quotes, facts, statements (documents without an event: the off-subject case), statements with every
document given an event (worst case: every sentence is a candidate), and the blank spaCy tokenizer
over the same content paragraphs as a baseline. Prints words/s and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402


def find_corpus() -> Path:
    from flows.common.paths import shared_corpus

    found = shared_corpus("wikinews")
    if found is None:
        raise SystemExit("wikinews corpus not found: pass --corpus or set WIKINEWS_DIR")
    return found


def copies(paragraphs: pd.DataFrame, documents: pd.DataFrame, n: int):
    ps, ds = [], []
    for i in range(n):
        p = paragraphs.copy()
        p["doc_id"] = p["doc_id"] + f"-{i}"
        p["para_id"] = p["para_id"] + f"-{i}"
        d = documents.copy()
        d["doc_id"] = d["doc_id"] + f"-{i}"
        ps.append(p)
        ds.append(d)
    return pd.concat(ps, ignore_index=True), pd.concat(ds, ignore_index=True)


def cpu(fn):
    t0 = time.process_time()
    out = fn()
    return out, time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--sizes", default="1,4", help="comma-separated numbers of copies of the corpus")
    args = ap.parse_args()
    from flows.clean import clean
    from flows.dedup import dedup
    from flows.extract import extract
    from flows.extract.facts import extract_facts
    from flows.extract.quotes import extract_quotes
    from flows.extract.statements import _rules as statement_rules
    from flows.extract.statements import extract_statements
    from flows.ingest import ingest

    corpus = args.corpus or find_corpus()
    sources, _ = ingest.ingest(corpus)
    paragraphs, info = clean.clean(sources)
    paragraphs = dedup.mark_exact_repeats(paragraphs)
    documents = extract.build_documents(sources, paragraphs, info)[["doc_id"]]
    # warm up: compile the rules (lexicons, regexes, spaCy Matcher) outside the timings
    head = paragraphs.head(30)
    extract_quotes(head, documents), extract_facts(head, documents)
    nlp = statement_rules().nlp
    print(f"corpus: {corpus.name}, {len(documents)} documents, {len(paragraphs)} paragraphs")
    print(f"{'copies':>6} {'words':>9} {'step':<34} {'cpu s':>7} {'words/s':>11} {'rows':>7}")
    for n in [int(x) for x in args.sizes.split(",")]:
        p, d = copies(paragraphs, documents, n)
        content = p.loc[p["status"] == "content", "text"]
        words = int(content.str.split().str.len().sum())
        no_event = d.assign(event_id=pd.array([None] * len(d), dtype="str"))
        all_event = d.assign(event_id="e1")
        steps = [
            ("blank spaCy tokenizer (baseline)", lambda: sum(len(doc) for doc in nlp.pipe(content, batch_size=256))),
            ("quotes", lambda: len(extract_quotes(p, d))),
            ("facts", lambda: len(extract_facts(p, d))),
            ("statements (no event: off-subject)", lambda: len(extract_statements(p, no_event))),
            ("statements (all docs given an event)", lambda: len(extract_statements(p, all_event))),
        ]
        times = {}
        for name, fn in steps:
            rows, dt = cpu(fn)
            times[name] = dt
            print(f"{n:>6} {words:>9} {name:<34} {dt:>7.3f} {words / dt:>11,.0f} {rows:>7}")
        total = times["quotes"] + times["facts"] + times["statements (no event: off-subject)"]
        worst = times["quotes"] + times["facts"] + times["statements (all docs given an event)"]
        base = times["blank spaCy tokenizer (baseline)"]
        print(f"{n:>6} {words:>9} {'ALL THREE (off-subject)':<34} {total:>7.3f} {words / total:>11,.0f}"
              f"   {base / total:.1f}x the blank tokenizer")
        print(f"{n:>6} {words:>9} {'ALL THREE (worst case)':<34} {worst:>7.3f} {words / worst:>11,.0f}"
              f"   {base / worst:.1f}x the blank tokenizer")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
