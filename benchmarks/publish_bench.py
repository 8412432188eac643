"""Publishing at scale: the seed tables replicated N times (ids made unique), published as release
1.0.0, then again with ~1% of the rows edited (the release diff finds them; a patch release).

    .venv/bin/python benchmarks/publish_bench.py [--sizes 1,10,100]

Prints, per size: rows, seconds for the first publish, the diff alone, the second publish, the
release's total bytes, and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def replicate(tables: dict, n: int) -> dict:
    import pandas as pd

    import schemas
    from flows.common.text import stable_id

    docs, paras = [], []
    for i in range(n):
        d = tables["documents"].copy()
        p = tables["paragraphs"].copy()
        d_map = {old: stable_id("d", old, i) for old in d["doc_id"]}
        p_map = {old: stable_id("p", old, i) for old in p["para_id"]}
        d["doc_id"] = d["doc_id"].map(d_map)
        d["source_file"] = d["source_file"] + f".{i}"
        d["source_files"] = d["source_files"].map(lambda v, i=i: [f"{x}.{i}" for x in v])
        d["sha256"] = d["sha256"].map(lambda h, i=i: stable_id("", h, i, length=64))
        p["para_id"] = p["para_id"].map(p_map)
        p["doc_id"] = p["doc_id"].map(d_map)
        p["duplicate_of"] = p["duplicate_of"].map(lambda v: p_map.get(v) if isinstance(v, str) else v)
        docs.append(d)
        paras.append(p)
    out = {"documents": pd.concat(docs, ignore_index=True), "paragraphs": pd.concat(paras, ignore_index=True),
            "rejections": tables["rejections"]}
    # the record tables stay empty: these benchmarks measure the scale of documents and paragraphs
    return {name: out.get(name, schemas.empty_frame(name)) for name in schemas.tables()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,10,100")
    args = ap.parse_args()
    from publish_helpers import build_tables

    from flows.publish import changes, publish

    seed, inventory = build_tables(ROOT / "raw")
    print(f"{'copies':>6} {'paragraphs':>10} {'publish_s':>9} {'diff_s':>7} {'republish_s':>11} "
          f"{'changed':>7} {'bytes':>10} {'peak_rss_mb':>11}")
    for n in (int(x) for x in args.sizes.split(",")):
        tables = replicate(seed, n)
        out = Path(tempfile.mkdtemp(prefix="publish-bench-"))
        try:
            t0 = time.perf_counter()
            publish.publish(tables, out, None, None, inventory)
            t_pub = time.perf_counter() - t0
            edited = {k: v.copy() for k, v in tables.items()}
            p = edited["paragraphs"]
            idx = p.index[:: 100]
            p.loc[idx, "n_words"] = p.loc[idx, "n_words"] + 1
            t0 = time.perf_counter()
            d = changes.diff(out / "1.0.0", edited)
            t_diff = time.perf_counter() - t0
            t0 = time.perf_counter()
            rel = publish.publish(edited, out, None, None, inventory)
            t_re = time.perf_counter() - t0
            assert rel.version == "1.0.1" and len(d["tables"]["paragraphs"]["changed"]) == len(idx)
            size = sum(f.stat().st_size for f in (out / "1.0.1").rglob("*") if f.is_file())
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{n:>6} {len(p):>10} {t_pub:>9.2f} {t_diff:>7.2f} {t_re:>11.2f} {len(idx):>7} {size:>10} {rss:>11.0f}")
        finally:
            for f in [out, *out.rglob("*")]:
                if not f.is_symlink():
                    f.chmod(0o755)
            shutil.rmtree(out)


if __name__ == "__main__":
    main()
