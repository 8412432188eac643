"""Benchmark of cleaning + dedup (issue 3): quality per fault kind, speed and peak memory.

For each size: generate a corpus with labelled faults (``benchmarks/corpus.py``, in a child process so
its memory does not count), then in a fresh child process per method run ingest -> clean -> dedup
(plain stage functions) and score the output against the labels. Methods:

- ``ours``: the pipeline's settings (``flows.dedup.dedup.DedupParams()``).
- ``baseline``: the same pipeline with the near-duplicate step replaced by datasketch MinHashLSH with
  common settings (128 permutations, 5-word shingles, threshold 0.8; every LSH candidate pair counts
  as a duplicate, no confirmation).

Prints one table per size. Usage:
    python -m benchmarks.dedup --sizes 1000,10000 [--methods ours,baseline] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def baseline_pairs(keys: list[str], params) -> np.ndarray:
    from datasketch import MinHash, MinHashLSH

    from flows.dedup.dedup import shingles

    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    hashes = []
    for i, key in enumerate(keys):
        m = MinHash(num_perm=128, seed=1)
        m.update_batch([s.encode("utf-8") for s in shingles(key, 5)])
        lsh.insert(i, m)
        hashes.append(m)
    pairs = [(i, j) for i, m in enumerate(hashes) for j in lsh.query(m) if i < j]
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def _run(method: str, corpus: str, queue) -> None:
    from flows.clean import clean
    from flows.dedup import dedup
    from flows.ingest import ingest

    t0 = time.perf_counter()
    sources, _ = ingest.ingest(Path(corpus))
    t1 = time.perf_counter()
    paragraphs, _ = clean.clean(sources)
    t2 = time.perf_counter()
    before_dedup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kwargs = {"find_pairs": baseline_pairs} if method == "baseline" else {}
    out = dedup.dedup(paragraphs, **kwargs)
    t3 = time.perf_counter()
    files = dict(zip(sources["doc_id"], sources["source_file"]))
    out["file"] = out["doc_id"].map(files)
    path = Path(corpus).parent / f".{Path(corpus).name}-{method}.parquet"
    out[["file", "para_id", "char_start", "char_end", "status", "reason", "duplicate_of", "cluster_id"]].to_parquet(path)
    queue.put({"paragraphs": len(out), "documents": len(sources), "ingest_s": t1 - t0, "clean_s": t2 - t1,
               "dedup_s": t3 - t2, "peak_rss_before_dedup_mb": before_dedup,
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "out": str(path)})


def _gen(n: int, seed: int, corpus: str) -> None:
    from benchmarks.corpus import generate

    labels = generate(n, seed, Path(corpus))
    labels.to_csv(Path(corpus) / ".labels.csv", index=False)


def score(labels: pd.DataFrame, out: pd.DataFrame) -> dict:
    """Precision / recall per fault kind (see benchmarks/README.md for the definitions)."""
    out = out.astype({"char_start": "int64", "char_end": "int64"}).sort_values("char_start").reset_index(drop=True)
    # label span -> the paragraph that starts at or contains its start
    lab = labels.astype({"char_start": "int64"}).sort_values("char_start").reset_index(drop=True)
    keyed = pd.merge_asof(lab, out.rename(columns={"char_start": "p_start", "char_end": "p_end"}),
                          left_on="char_start", right_on="p_start", by="file", direction="backward")
    start_of = dict(zip(out["para_id"], out["char_start"]))
    keyed["dup_start"] = keyed["duplicate_of"].map(start_of)
    res: dict[str, dict] = {}

    def pr(kind, hit_label, predicted, correct):
        n_lab = int(hit_label.sum())
        res[kind] = {"labelled": n_lab, "recall": float(correct.sum() / n_lab) if n_lab else None,
                     "predicted": int(predicted), "precision": float(correct.sum() / predicted) if predicted else None}

    for kind, reason in (("exact_repeat", "exact_repeat"), ("near_repeat", "near_repeat")):
        is_lab = keyed["kind"] == kind
        ok = is_lab & (keyed["status"] == "duplicate") & (keyed["dup_start"] == keyed["first_start"])
        pred = int((out["reason"] == reason).sum())
        pred_ok = keyed["kind"].isin(["exact_repeat", "near_repeat"]) & (keyed["reason"] == reason) & (
            keyed["dup_start"] == keyed["first_start"])
        res[kind] = {"labelled": int(is_lab.sum()), "recall": float(ok.sum() / max(1, is_lab.sum())),
                     "predicted": pred, "precision": float(pred_ok.sum() / pred) if pred else None}
    is_lab = keyed["kind"] == "title_repeat"
    pr("title_repeat", is_lab, int((out["reason"] == "title_repeat").sum()), is_lab & (keyed["reason"] == "title_repeat"))
    for kind, reasons in (("boilerplate", None), ("byline", {"byline"}), ("template", {"template"})):
        is_lab = keyed["kind"] == kind
        if reasons is None:
            pred = int(((out["status"] == "boilerplate") & ~out["reason"].isin(["byline", "template"])).sum())
            ok = is_lab & (keyed["status"] == "boilerplate") & ~keyed["reason"].isin(["byline", "template"])
        else:
            pred = int(out["reason"].isin(reasons).sum())
            ok = is_lab & keyed["reason"].isin(reasons)
        pr(kind, is_lab, pred, ok)
    # content that must stay content
    for name, mask in (("content_kept", keyed["kind"].isin(["content", "syndicated"])),
                       ("real_wikinews_content_kept", (keyed["kind"] == "content") & keyed["real"])):
        lost = mask & (keyed["status"] != "content")
        res[name] = {"labelled": int(mask.sum()), "lost": int(lost.sum()),
                     "lost_reasons": keyed.loc[lost, "reason"].value_counts().head(5).to_dict()}
    # cross-document clusters: pairs of content paragraphs (different documents) in one cluster
    # (synthetic articles only: the real Wikinews articles reuse interview questions and phrasings across
    # articles, near-identical text the labels do not know about; they are counted separately)
    real_pairs = keyed[keyed["real"] & keyed["cluster_id"].notna()]
    c = keyed[keyed["kind"].isin(["content", "syndicated"]) & keyed["cluster_id"].notna() & ~keyed["real"]]

    def pairs(df, by):
        # pairs of rows with the same ``by`` value in different files
        g = df.groupby(by)
        total = (g.size() * (g.size() - 1) // 2).sum()
        same_file = df.groupby(by + ["file"]).size()
        return int(total - (same_file * (same_file - 1) // 2).sum())

    true_pairs = pairs(c, ["origin"])
    pred_pairs = pairs(c, ["cluster_id"])
    tp = pairs(c, ["cluster_id", "origin"])
    res["cross_doc_clusters"] = {"labelled": true_pairs, "predicted": pred_pairs,
                                 "recall": tp / true_pairs if true_pairs else None,
                                 "precision": tp / pred_pairs if pred_pairs else None}
    g = real_pairs.groupby("cluster_id")["file"].nunique()
    res["real_wikinews_clusters"] = {"multi_document": int((g > 1).sum()), "paragraphs_in_them":
                                     int(real_pairs["cluster_id"].isin(g[g > 1].index).sum())}
    return res


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--methods", default="ours,baseline")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-clean-"))
    ctx = mp.get_context("spawn")
    for n in [int(s) for s in args.sizes.split(",")]:
        corpus = work / f"corpus-{n}"
        if not (corpus / ".labels.csv").exists():
            t = time.perf_counter()
            p = ctx.Process(target=_gen, args=(n, args.seed, str(corpus)))
            p.start()
            p.join()
            print(f"generated {n} articles in {time.perf_counter() - t:.1f}s -> {corpus}")
        labels = pd.read_csv(corpus / ".labels.csv")
        labels["real"] = labels["real"].astype(bool)
        results = {}
        for method in args.methods.split(","):
            q = ctx.Queue()
            p = ctx.Process(target=_run, args=(method, str(corpus), q))
            p.start()
            stats = q.get()
            p.join()
            out = pd.read_parquet(stats.pop("out"))
            stats["paragraphs_per_s"] = stats["paragraphs"] / (stats["clean_s"] + stats["dedup_s"])
            results[method] = {"stats": stats, "quality": score(labels, out)}
        print(f"\n== {n} articles ==")
        methods = list(results)
        print("figure".ljust(44) + "".join(m.rjust(14) for m in methods))
        for key in results[methods[0]]["stats"]:
            print(key.ljust(44) + "".join(_fmt(results[m]["stats"][key]).rjust(14) for m in methods))
        for kind, row in results[methods[0]]["quality"].items():
            for field in row:
                if field == "lost_reasons":
                    continue
                print(f"{kind}.{field}".ljust(44) + "".join(_fmt(results[m]["quality"][kind][field]).rjust(14)
                                                         for m in methods))
        for m in methods:
            for name in ("content_kept", "real_wikinews_content_kept"):
                if results[m]["quality"][name]["lost"]:
                    print(f"{m}: {name} lost by reason {json.dumps(results[m]['quality'][name]['lost_reasons'])}")


if __name__ == "__main__":
    main()
