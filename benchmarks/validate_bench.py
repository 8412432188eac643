"""Time the validation stage (all suites + views, Data Docs) on the seeds replicated N times.

    .venv/bin/python benchmarks/validate_bench.py [--sizes 1,10,100]

Each replica gets fresh ids (documents, paragraphs, duplicate_of), so the replicated tables are as
valid as the seeds and every expectation does its full work. Prints rows, seconds and the size of
the Data Docs site per size.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.orchestrate import settings  # noqa: E402

settings.configure()


def seed_tables():
    from flows.clean import clean
    from flows.dedup import dedup
    from flows.extract import extract
    from flows.ingest import ingest

    sources, rejections = ingest.ingest(ROOT / "raw")
    paragraphs, info = clean.clean(sources)
    paragraphs = dedup.dedup(paragraphs)
    return {"documents": extract.build_documents(sources, paragraphs, info), "paragraphs": paragraphs,
            "rejections": extract.build_rejections(rejections)}


def replicate(tables, n: int):
    import pandas as pd

    import schemas
    from flows.common.text import stable_id

    docs, paras = [], []
    for r in range(n):
        d = tables["documents"].copy()
        ids = {old: stable_id("d", r, old) for old in d["doc_id"]}
        d["doc_id"] = d["doc_id"].map(ids)
        d["sha256"] = [hashlib.sha256(f"{r}:{s}".encode()).hexdigest() for s in d["sha256"]]
        d["source_file"] = [f"{r}_{f}" for f in d["source_file"]]
        p = tables["paragraphs"].copy()
        pids = {old: stable_id("p", r, old) for old in p["para_id"]}
        p["para_id"] = p["para_id"].map(pids)
        p["doc_id"] = p["doc_id"].map(ids)
        p["duplicate_of"] = p["duplicate_of"].map(lambda v: pids.get(v) if isinstance(v, str) else None)
        docs.append(d)
        paras.append(p)
    out = {"documents": schemas.conform("documents", pd.concat(docs, ignore_index=True)),
            "paragraphs": schemas.conform("paragraphs", pd.concat(paras, ignore_index=True)),
            "rejections": tables["rejections"]}
    # the record tables stay empty: these benchmarks measure the scale of documents and paragraphs
    return {name: out.get(name, schemas.empty_frame(name)) for name in schemas.tables()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,10,100", help="replica counts, comma-separated")
    args = parser.parse_args()
    from flows.validate import gx_runtime, validate

    t0 = time.perf_counter()
    gx_runtime.load_gx()
    print(f"import GX + custom expectations: {time.perf_counter() - t0:.2f} s")
    base = seed_tables()
    print(f"{'replicas':>8} {'documents':>9} {'paragraphs':>10} {'validate s':>10} {'docs KiB':>8} passed")
    for n in (int(x) for x in args.sizes.split(",")):
        tables = replicate(base, n)
        with tempfile.TemporaryDirectory() as work:
            t0 = time.perf_counter()
            report = validate.validate(tables, Path(work))
            secs = time.perf_counter() - t0
            size = sum(p.stat().st_size for p in Path(report.docs_dir).rglob("*") if p.is_file()) / 1024
        print(f"{n:>8} {len(tables['documents']):>9} {len(tables['paragraphs']):>10} {secs:>10.2f} {size:>8.0f} "
              f"{report.passed}")


if __name__ == "__main__":
    main()
