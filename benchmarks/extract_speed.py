"""Extraction throughput (issue 4): words/s on one core over a large real corpus, and peak memory.

The corpus is the wikinews folder (real, unrelated news) ingested, cleaned and deduplicated once, then
replicated N times ("generated copies": every copy gets its own doc_id/para_id, so nothing is shared
between copies but the text). For each size it measures, in the same process and on one pinned core:

- the baseline: ``spacy.blank("en")`` tokenizer alone over the same content paragraphs (no
  statistical spaCy model can be installed here, so the blank tokenizer is the reference);
- the extract stage: :func:`flows.extract.extract.build_records` (spaCy rule pipeline, entities, alias
  resolution, dates, events, participants, the tables);

and prints words/s of both, their ratio, and the process's peak resident memory after the size.

    python -m benchmarks.extract_speed [--corpus DIR] [--sizes 1 5 20]

The corpus folder defaults to ``$CORPUS_DIR/wikinews`` or ``shared/corpus/wikinews`` above the repository.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_WORDS_PER_S = 100_000


def _corpus_default() -> Path | None:
    from tests.extract_fixtures import corpus_dir

    return corpus_dir("wikinews")


def load(corpus: Path):
    from flows.clean import clean
    from flows.dedup import dedup
    from flows.extract import extract
    from flows.ingest import ingest

    sources, _ = ingest.ingest(corpus)
    paragraphs, info = clean.clean(sources)
    paragraphs = dedup.mark_exact_repeats(paragraphs)
    documents = extract.build_documents(sources, paragraphs, info)
    return sources, documents, paragraphs


def replicate(sources, documents, paragraphs, n: int):
    import pandas as pd

    if n == 1:
        return sources, documents, paragraphs
    s, d, p = [], [], []
    for k in range(n):
        tag = f"{k:04x}"
        remap = lambda v: v[:1] + tag + v[5:]  # noqa: E731  same length and id pattern, distinct per copy
        s.append(sources.assign(doc_id=sources["doc_id"].map(remap)))
        d.append(documents.assign(doc_id=documents["doc_id"].map(remap),
                                  source_file=documents["source_file"] + f"#{tag}",
                                  sha256=documents["sha256"].str[:60] + tag))
        p.append(paragraphs.assign(doc_id=paragraphs["doc_id"].map(remap), para_id=paragraphs["para_id"].map(remap)))
    return pd.concat(s, ignore_index=True), pd.concat(d, ignore_index=True), pd.concat(p, ignore_index=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pin_one_core() -> None:
    """Run this process on one core (where the system allows it): figures per core."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 5, 20], help="copies of the corpus to run")
    args = ap.parse_args(argv)
    corpus = args.corpus or _corpus_default()
    if corpus is None or not corpus.is_dir():
        print("no corpus folder (give --corpus DIR or set CORPUS_DIR)")
        return 2
    pin_one_core()
    from flows.extract import extract
    from flows.extract.nlp import get_nlp

    t0 = time.perf_counter()
    nlp = get_nlp()
    print(f"pipeline built in {time.perf_counter() - t0:.2f}s: {', '.join(nlp.pipe_names)}")
    base = load(corpus)
    content = base[2][base[2]["status"] == "content"]
    print(f"corpus: {corpus.name}, {len(base[1])} documents, {len(content)} content paragraphs, "
          f"{int(content['n_words'].sum())} words per copy; cpu affinity {sorted(os.sched_getaffinity(0))}")
    print(f"{'copies':>6} {'words':>10} {'tokenizer w/s':>14} {'extract w/s':>12} {'ratio':>6} "
          f"{'extract s':>9} {'peak RSS MB':>11}  tables")
    for n in args.sizes:
        sources, documents, paragraphs = replicate(*base, n)
        texts = paragraphs.loc[paragraphs["status"] == "content", "text"].tolist()
        words = int(paragraphs.loc[paragraphs["status"] == "content", "n_words"].sum())
        t = time.perf_counter()
        for doc in nlp.tokenizer.pipe(texts, batch_size=256):
            pass
        tok_s = time.perf_counter() - t
        t = time.perf_counter()
        tables = extract.build_records(sources, documents, paragraphs)
        ext_s = time.perf_counter() - t
        counts = ",".join(f"{k}={len(v)}" for k, v in tables.items() if k != "documents")
        print(f"{n:>6} {words:>10} {words / tok_s:>14,.0f} {words / ext_s:>12,.0f} {tok_s / ext_s:>6.2f} "
              f"{ext_s:>9.2f} {peak_rss_mb():>11.0f}  {counts}")
        assert not tables["documents"]["relevant"].any(), "unrelated news marked relevant"
    print(f"target: >= {TARGET_WORDS_PER_S:,} words/s per core for the extract stage; "
          f"ratio = extract speed / blank-tokenizer speed measured just before it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
