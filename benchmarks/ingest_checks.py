"""Speed of the ingest input checks (issue #8): prints figures, asserts nothing.

    .venv/bin/python benchmarks/ingest_checks.py [--corpus DIR] [--sizes 300,3000]

Builds raw folders of N files by cycling the files of a corpus of real English articles (the seeds,
or --corpus), plus one legacy-encoded (cp1252) copy of every 10th file, and times
ingest -> clean -> reject_all_boilerplate -> accounting. Also times the checks on one 4.9 MB file.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flows.clean import clean
from flows.common.paths import RAW_DIR  # noqa: E402
from flows.ingest import ingest  # noqa: E402


def build_raw(dest: Path, corpus: list[Path], n: int) -> None:
    for i in range(n):
        src = corpus[i % len(corpus)]
        text = src.read_text(encoding="utf-8")
        data = (f"copy {i}\n" + text).encode("utf-8")
        if i % 10 == 9:
            data = (f"copy {i}\n" + text).encode("cp1252", "replace")
        (dest / f"{i:06d} {src.stem}.txt").write_bytes(data)


def run(raw: Path) -> dict:
    t = {}
    t0 = time.perf_counter()
    sources, rejections = ingest.ingest(raw)
    t["ingest"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    paragraphs, info = clean.clean(sources)
    t["clean"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    sources, paragraphs, info, rejections = ingest.reject_all_boilerplate(sources, paragraphs, info, rejections)
    acc = ingest.check_accounting(raw, sources, rejections)
    t["post_clean+accounting"] = time.perf_counter() - t0
    t["documents"], t["rejected"] = len(sources), len(rejections)
    t["encodings"] = sources["encoding"].value_counts().to_dict()
    assert acc["ok"]
    return t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=RAW_DIR)
    ap.add_argument("--sizes", default="300,3000")
    args = ap.parse_args()
    corpus = sorted(p for p in args.corpus.glob("*.txt"))
    print(f"corpus: {len(corpus)} files from {args.corpus.name}/")
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp)
            build_raw(raw, corpus, n)
            mb = sum(p.stat().st_size for p in raw.iterdir()) / 1e6
            t = run(raw)
            print(f"{n:>6} files ({mb:.1f} MB): ingest {t['ingest']:.2f}s ({n / t['ingest']:.0f} files/s), "
                  f"clean {t['clean']:.2f}s, post-clean+accounting {t['post_clean+accounting']:.2f}s; "
                  f"documents {t['documents']}, rejected {t['rejected']}, encodings {t['encodings']}")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp)
        text = "\n\n".join(p.read_text(encoding="utf-8") for p in corpus)
        big = (text * (4_900_000 // len(text.encode()) + 1)).encode()[:4_900_000]
        (raw / "big.txt").write_bytes(big)
        t0 = time.perf_counter()
        sources, rejections = ingest.ingest(raw)
        print(f"one {len(big) / 1e6:.1f} MB file: ingest checks {time.perf_counter() - t0:.2f}s "
              f"(documents {len(sources)}, rejected {len(rejections)})")
        shutil.rmtree(raw, ignore_errors=True)


if __name__ == "__main__":
    main()
