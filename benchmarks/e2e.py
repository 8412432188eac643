"""End-to-end benchmark of ``python -m flows build`` on generated corpora (issue 7).

    .venv/bin/python benchmarks/e2e.py [--sizes 1000,10000] [--runners local,dask] [--incremental 10000]
                                       [--workdir DIR] [--batch-size 500] [--keep]

For each size and runner: a fresh corpus, a fresh cache, one build in a child process
(``python -m flows build ... --summary-json``), sampled every 0.2 s for the resident memory of the
child and of its whole process tree (temporary Prefect API server and Dask workers included).
Printed per run: wall time per stage, articles/s and words/s over the flow's own time, peak RSS, CPU
seconds by process (the flow's, the worker processes', the temporary API server's, the validation
process's), and the orchestration startup (process start to flow start: imports, temporary API server; plus the Dask
cluster start, reported by the flow as "runner startup").
``--incremental N``: after the full run of size N (local runner), add one article and build again
with the same cache: the time of that incremental build against the full one; then build once more
with nothing changed (the build stops at the build key: inputs, code and rules of the latest release).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# --- corpus ---------------------------------------------------------------------------------------

def find_wikinews() -> Path:
    """The Wikinews corpus (see ``flows.common.paths.shared_corpus``), or where it would be expected."""
    from flows.common.paths import shared_corpus

    return shared_corpus("wikinews") or ROOT.parent / "shared" / "corpus" / "wikinews"


def generate_minimal_corpus(n_articles: int, seed: int, out_dir: Path) -> dict:
    """A stand-in for ``benchmarks.corpus.generate`` (same call): ``n_articles`` article files.

    Each article is a headline plus 8-20 paragraphs of 1-4 sentences drawn at random from the sentences
    of the Wikinews articles and raw/ (so articles are distinct, with real prose statistics), with
    injected duplicates: 3 % exact copies of an earlier article under another file name, 5 % articles
    with one paragraph printed twice, 3 % near copies (one paragraph replaced).
    """
    rng = random.Random(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    texts = [p.read_text(encoding="utf-8") for p in sorted(find_wikinews().glob("*.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "raw").glob("*.txt"))]
    sentences, headlines = [], []
    for t in texts:
        lines = [ln.strip() for ln in t.splitlines() if ln.strip()]
        if lines:
            headlines.append(lines[0])
        for ln in lines[1:]:
            if len(ln.split()) >= 8:
                sentences += [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", ln) if len(s.split()) >= 4]
    written: list[str] = []
    counts = {"articles": 0, "exact_copies": 0, "repeated_paragraph": 0, "near_copies": 0}
    for k in range(n_articles):
        name = f"{k:07d}.txt"
        r = rng.random()
        if written and r < 0.03:
            text = (out_dir / rng.choice(written)).read_text(encoding="utf-8")
            counts["exact_copies"] += 1
        elif written and r < 0.06:
            paras = (out_dir / rng.choice(written)).read_text(encoding="utf-8").split("\n\n")
            i = rng.randrange(1, len(paras)) if len(paras) > 1 else 0
            paras[i] = " ".join(rng.choice(sentences) for _ in range(rng.randint(1, 4)))
            text = "\n\n".join(paras)
            counts["near_copies"] += 1
        else:
            paras = [" ".join(rng.choice(sentences) for _ in range(rng.randint(1, 4)))
                     for _ in range(rng.randint(8, 20))]
            if r < 0.11:
                paras.insert(rng.randrange(1, len(paras)), rng.choice(paras))
                counts["repeated_paragraph"] += 1
            text = rng.choice(headlines) + "\n\n" + "\n\n".join(paras) + "\n"
        (out_dir / name).write_text(text, encoding="utf-8")
        written.append(name)
        counts["articles"] += 1
    return counts


def generate_corpus(n_articles: int, seed: int, out_dir: Path, use_minimal: bool = False) -> tuple[str, object]:
    """The corpus generator: ``benchmarks.corpus.generate`` when present, else the minimal one above."""
    if not use_minimal:
        try:
            from benchmarks.corpus import generate
        except ImportError:
            pass
        else:
            return "benchmarks.corpus.generate", generate(n_articles, seed, Path(out_dir))
    return "generate_minimal_corpus", generate_minimal_corpus(n_articles, seed, Path(out_dir))


def add_one_article(raw: Path, seed: int) -> Path:
    rng = random.Random(seed)
    words = (ROOT / "raw").joinpath(sorted(p.name for p in (ROOT / "raw").glob("*.txt"))[0]).read_text(
        encoding="utf-8").split()
    body = "\n\n".join(" ".join(rng.choice(words) for _ in range(60)) + "." for _ in range(10))
    path = raw / "zzzz_incremental_article.txt"
    path.write_text("An incremental headline\n\n" + body + "\n", encoding="utf-8")
    return path


# --- measuring ------------------------------------------------------------------------------------

LARGEST = "largest spawned process"


class RssSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        import psutil

        self.proc = psutil.Process(pid)
        self.every = every
        self.peak_main = 0
        self.peak_tree = 0
        self.at_peak: dict[str, float] = {}  # MB by kind of process when the tree peaked, and when ("seconds")
        self.samples: list[tuple[float, dict[str, int]]] = []  # (seconds, MB by kind): each stage's peak
        self.started = time.perf_counter()
        self.cpu: dict[int, tuple[str, float]] = {}  # pid -> (kind, user + system seconds when last seen)
        self.stop = threading.Event()

    @staticmethod
    def kind(proc) -> str:
        """What a process of the build's tree is, from its command line."""
        try:
            cmd = " ".join(proc.cmdline())
        except Exception:  # noqa: BLE001 - gone, or not readable
            return "other"
        if "uvicorn" in cmd or "prefect" in cmd and "server" in cmd:
            return "API server"
        if "multiprocessing.spawn" in cmd and "resource_tracker" not in cmd:
            return "spawned processes (batch workers, validation, extract)"
        return "other children"

    def _seen(self, proc, kind: str) -> None:
        t = proc.cpu_times()
        self.cpu[proc.pid] = (kind, t.user + t.system)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds by kind of process (main: the build's own process), as last sampled."""
        out: dict[str, float] = {}
        for kind, seconds in self.cpu.values():
            out[kind] = out.get(kind, 0.0) + seconds
        return {k: round(v, 1) for k, v in sorted(out.items())}

    def run(self):
        import psutil

        while not self.stop.is_set():
            try:
                main = self.proc.memory_info().rss
                self._seen(self.proc, "main")
                tree = main
                by_kind = {"main": main}
                largest_spawned = 0
                for child in self.proc.children(recursive=True):
                    try:
                        rss = child.memory_info().rss
                        kind = self.cpu[child.pid][0] if child.pid in self.cpu else self.kind(child)
                        self._seen(child, kind)
                        tree += rss
                        by_kind[kind] = by_kind.get(kind, 0) + rss
                        if kind.startswith("spawned"):
                            largest_spawned = max(largest_spawned, rss)
                    except psutil.Error:
                        pass
            except psutil.Error:
                break
            self.peak_main = max(self.peak_main, main)
            mb = {k: round(v / 2**20) for k, v in {"tree": tree, **by_kind, LARGEST: largest_spawned}.items()}
            self.samples.append((round(time.perf_counter() - self.started, 1), mb))
            if tree > self.peak_tree:
                self.peak_tree = tree
                self.at_peak = {k: round(v / 2**20) for k, v in by_kind.items()}
                self.at_peak["seconds"] = round(time.perf_counter() - self.started, 1)
            self.stop.wait(self.every)


def run_build(raw: Path, out: Path, cache: Path, runner: str, batch_size: int, env: dict) -> dict:
    summary_path = out.parent / f"{out.name}-summary.json"
    cmd = [sys.executable, "-m", "flows", "build", "--raw", str(raw), "--output", str(out), "--runner", runner,
           "--batch-size", str(batch_size), "--cache-dir", str(cache), "--no-progress",
           "--summary-json", str(summary_path)]
    log = out.parent / f"{out.name}.log"
    started = time.time()
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
        sampler = RssSampler(proc.pid)
        sampler.start()
        rc = proc.wait()
        sampler.stop.set()
        sampler.join()
    wall = time.perf_counter() - t0
    if rc != 0 or not summary_path.exists():
        raise RuntimeError(f"build failed (exit {rc}); log: {log}\n" + log.read_text()[-3000:])
    summary = json.loads(summary_path.read_text())
    flow_total = summary["seconds"]["flow (total)"]
    startup = summary["started_at"] - started
    return {"wall": wall, "flow": flow_total, "startup": startup, "teardown": wall - startup - flow_total,
            "summary": summary,
            "peak_rss_main_mb": sampler.peak_main / 2**20, "peak_rss_tree_mb": sampler.peak_tree / 2**20,
            "tree_at_peak_mb": sampler.at_peak, "stage_at_tree_peak": stage_at(summary, sampler.at_peak, startup),
            "tree_peak_by_stage_mb": peak_by_stage(summary, sampler.samples, startup),
            "cpu_seconds": sampler.cpu_seconds()}


def peak_by_stage(summary: dict, samples: list, startup: float) -> dict[str, dict[str, int]]:
    """Per stage (as :func:`stage_at` places a sample), the sample where the process tree was largest:
    MB by kind of process, and the largest spawned process (the worker, extract, validation or
    database process then biggest)."""
    out: dict[str, dict[str, int]] = {}
    for seconds, mb in samples:
        stage = stage_at(summary, {"seconds": seconds}, startup)
        if mb["tree"] > out.get(stage, {}).get("tree", -1):
            out[stage] = mb
    return out


def stage_at(summary: dict, at_peak: dict, startup: float) -> str:
    """The stage running when the process tree peaked: the last to start before it, from the stages'
    starts in the build summary (the flow's own time after a stage, handing memory back, counts in
    it); "teardown" after publishing."""
    if "seconds" not in at_peak:
        return "unknown"
    t = at_peak["seconds"] - startup
    if t < 0:
        return "orchestration startup"
    begun = [(start, name) for name, start in summary.get("starts", {}).items() if start <= t]
    if not begun:
        return "orchestration startup"
    start, name = max(begun)
    return "teardown" if name == "publish" and t > start + summary["seconds"].get(name, 0.0) else name


def report(label: str, n: int, r: dict) -> None:
    s = r["summary"]
    sec = s["seconds"]
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in sec.items() if k != "flow (total)")
    print(f"\n== {label}: {n} articles ({s['documents']} documents, {s['words']} words, "
          f"{s['paragraphs'].get('total', 0)} paragraphs, {s['batches']} batches, cached {s['batches_cached']})")
    print(f"   wall {r['wall']:.1f}s = orchestration startup {r['startup']:.1f}s + flow {r['flow']:.1f}s + "
          f"teardown {r['teardown']:.1f}s (summary print, temporary API server stop)")
    print(f"   stages: {stages}")
    print(f"   throughput over the flow: {n / r['flow']:.0f} articles/s, {s['words'] / r['flow']:.0f} words/s")
    print(f"   peak RSS: main process {r['peak_rss_main_mb']:.0f} MB, process tree {r['peak_rss_tree_mb']:.0f} MB; "
          f"flow process after each stage (MB): peak so far {s.get('peak_rss_mb')}, "
          f"resident once the stage's memory is released {s.get('rss_mb')}")
    print(f"   process tree at its peak (MB by process, seconds since the build started): "
          f"{r.get('tree_at_peak_mb')}, during {r.get('stage_at_tree_peak')}")
    for stage, mb in (r.get("tree_peak_by_stage_mb") or {}).items():
        print(f"   process tree's peak during {stage}: {mb['tree']} MB = "
              + ", ".join(f"{k} {v}" for k, v in mb.items() if k != "tree"))
    print(f"   CPU seconds by process (sampled every 0.2 s): {r.get('cpu_seconds')}")
    print(f"   published: {s['published']} ({s['version']})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000", help="comma-separated corpus sizes (articles)")
    ap.add_argument("--runners", default="local,dask")
    ap.add_argument("--incremental", type=int, default=10000, help="size for the incremental run (0: none)")
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--minimal-corpus", action="store_true", help="use generate_minimal_corpus")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--fresh-prefect-home", action="store_true",
                    help="let the first build create Prefect's database (its startup then includes the migrations)")
    args = ap.parse_args(argv)

    work = Path(args.workdir or tempfile.mkdtemp(prefix="e2e-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(work / "prefect-home")}
    sizes = [int(x) for x in args.sizes.split(",") if x]
    runners = [x for x in args.runners.split(",") if x]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start; work folder {work}")
    results = {}
    if not args.fresh_prefect_home:  # once per PREFECT_HOME, as on a machine that has run a build before
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        results["prefect database setup seconds"] = round(time.perf_counter() - t0, 1)
        print(f"Prefect database created in {work / 'prefect-home'} (first use of a PREFECT_HOME, once): "
              f"{results['prefect database setup seconds']} s, not counted in the builds' startup "
              f"(--fresh-prefect-home counts it in the first build's)")
    try:
        for n in sizes:
            raw = work / f"raw-{n}"
            if not raw.exists():
                t0 = time.perf_counter()
                gen, info = generate_corpus(n, args.seed, raw, args.minimal_corpus)
                print(f"\ncorpus {n}: {gen} in {time.perf_counter() - t0:.1f}s: "
                      f"{info if isinstance(info, dict) else f'{len(info)} label rows'}")
            for runner in runners:
                tag = f"{runner}-{n}"
                r = run_build(raw, work / f"out-{tag}", work / f"cache-{tag}", runner, args.batch_size, env)
                results[tag] = r
                report(f"{runner} runner", n, r)
            if n == args.incremental and "local" in runners:
                add_one_article(raw, args.seed)
                full = results[f"local-{n}"]
                r = run_build(raw, work / f"out-local-{n}", work / f"cache-local-{n}", "local", args.batch_size, env)
                results[f"incremental-{n}"] = r
                report(f"incremental (+1 article, local runner, same cache)", n + 1, r)
                print(f"   incremental / full: flow {r['flow']:.1f}s / {full['flow']:.1f}s = "
                      f"{100 * r['flow'] / full['flow']:.1f} %; with startup {r['wall']:.1f}s / {full['wall']:.1f}s "
                      f"= {100 * r['wall'] / full['wall']:.1f} %")
                r = run_build(raw, work / f"out-local-{n}", work / f"cache-local-{n}", "local", args.batch_size, env)
                results[f"unchanged-{n}"] = r
                report("unchanged input (same raw files, code and rules as the latest release)", n + 1, r)
                print(f"   unchanged / full: flow {r['flow']:.1f}s / {full['flow']:.1f}s = "
                      f"{100 * r['flow'] / full['flow']:.1f} %; with startup {r['wall']:.1f}s / {full['wall']:.1f}s "
                      f"= {100 * r['wall'] / full['wall']:.1f} %")
        print(f"\nload average at end {os.getloadavg()[0]:.1f}")
        (work / "results.json").write_text(json.dumps(results, indent=2, default=str))
        print(f"results: {work / 'results.json'}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
