"""Benchmark corpora with injected, labelled faults.

``generate(n_articles, seed, out_dir) -> labels`` writes ``n_articles`` plain-text articles plus a
``sources.csv`` manifest into ``out_dir`` (a raw folder the pipeline can ingest) and returns one label
row per injected or original paragraph span:

    file, char_start, char_end, kind, origin, first_start, real

- ``kind``: content, title, title_repeat, exact_repeat (a body printed twice), near_repeat (an edited
  copy, 5-20 % of words changed, of a paragraph of at least 25 words, inside the same article), syndicated (an edited copy of another
  outlet's paragraph, 0-20 % changed), boilerplate (comment forms, widgets, timestamps, sidebars),
  byline (an outlet name on its own line), template (an outlet's recurring page line, not in any rule).
- ``origin``: paragraphs with the same origin are copies of one text (they should share a cluster_id).
- ``first_start``: for title_repeat / exact_repeat / near_repeat, char_start of the first occurrence.
- ``real``: the span is a real Wikinews article printed verbatim (every such article is included once
  when ``n_articles`` allows; its paragraphs must stay content).

Text: the real Wikinews articles (``../shared/corpus/wikinews`` relative to the repository, or
``--wikinews``) verbatim, and synthetic articles whose sentences come from a word-bigram Markov chain
trained on those articles and on ``raw/`` (real vocabulary and word statistics, new sentences: reusing
real paragraphs thousands of times would make every paragraph a cross-document duplicate).
Deterministic for a given seed. A missing Wikinews folder is an error; an empty one gives a corpus
made from ``raw/`` alone, every article on the dataset's subject (a different benchmark: extract's
cross-document steps then compare nearly every article with every other).

CLI: ``python -m benchmarks.corpus --n 1000 --seed 1 --out DIR`` (writes the labels to DIR/.labels.csv too;
a dotfile, so that ingest does not read it as an article).
"""

from __future__ import annotations

import argparse
import csv
import random
import re
from collections import defaultdict
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def find_wikinews() -> Path:
    """The Wikinews corpus (see ``flows.common.paths.shared_corpus``), or where it would be expected."""
    from flows.common.paths import shared_corpus

    return shared_corpus("wikinews") or ROOT.parent / "shared" / "corpus" / "wikinews"


DEFAULT_WIKINEWS = find_wikinews()
LABEL_COLUMNS = ["file", "char_start", "char_end", "kind", "origin", "first_start", "real"]

# Page debris of the kinds seen in scraped news (benchmark data; the pipeline's rules are in lexicons/).
HEADER_DEBRIS = ["3 hours ago", "5 minutes ago", "an hour ago", "2 days ago", "A+ A-", "Share", "Print",
                 "Listen to this article", "Share on Facebook", "Advertisement"]
FOOTER_DEBRIS = [
    ["No comments:", "Post a Comment"],
    ["Please enter your comment!", "Please enter your name here"],
    ["Leave a Reply", "Your email address will not be published. Required fields are marked *", "Required"],
    ["Comments", "{outlet} moderates all comments submitted on our website. We welcome comments which are "
     "relevant to the article.", "To be approved for publication, however, your comments must meet our "
     "community guidelines.", "Post a comment", "Required"],
]
SIDEBAR_HEADS = ["The Latest", "Related", "Related Articles", "Most Read", "Read More", "You may also like"]
TEMPLATE_LINES = ["Get the {outlet} app for breaking news alerts", "Follow {outlet} for the latest updates",
                  "Download the {outlet} app", "Contact the {outlet} newsroom with tips"]
FAULT_RATES = {"title_repeat": 0.15, "body_twice": 0.10, "near_repeat": 0.15, "syndicated": 0.15,
               "header": 0.30, "footer": 0.30, "sidebar": 0.15, "byline": 0.30, "template": 0.40}


def _outlets() -> list[str]:
    from flows.common.lexicons import lexicon

    return [o["name"] for o in lexicon("outlets") if o["name"] != "Wikinews"]


class Markov:
    """Word-bigram sentence generator over real sentences."""

    def __init__(self, texts: list[str], rng: random.Random):
        self.rng = rng
        self.next: dict[str, list[str]] = defaultdict(list)
        self.starts: list[str] = []
        for text in texts:
            for line in text.splitlines():
                if len(line.split()) < 8:
                    continue
                for sent in re.split(r"(?<=[.!?])\s+(?=[A-Z\"\u201c])", line.strip()):
                    words = sent.split()
                    if len(words) < 5:
                        continue
                    self.starts.append(words[0])
                    for a, b in zip(words, words[1:]):
                        self.next[a].append(b)
                    self.next[words[-1]].append("")

    def sentence(self, min_words: int = 6, max_words: int = 40) -> str:
        words = [self.rng.choice(self.starts)]
        tries = 0
        while len(words) < max_words and tries < 4 * max_words:
            tries += 1
            options = self.next.get(words[-1])
            if not options:
                break
            w = self.rng.choice(options)
            if not w:
                if len(words) >= min_words or all(not o for o in options):
                    break
                continue
            words.append(w)
        s = " ".join(words)
        return s if s[-1] in ".!?\"\u201d" else s + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(1, 4)))

    def headline(self) -> str:
        return self.sentence(5, 12).rstrip(".!?,;:\"\u201d\u2019' ").strip()


def edit_words(text: str, frac: float, rng: random.Random, vocab: list[str]) -> str:
    """Change about ``frac`` of the words (replace 60 %, delete 20 %, insert 20 %), at least one."""
    words = text.split()
    n = max(1, round(len(words) * frac))
    for i in rng.sample(range(len(words)), min(n, len(words))):
        op = rng.random()
        if op < 0.6:
            words[i] = rng.choice(vocab)
        elif op < 0.8:
            words[i] = ""
        else:
            words[i] = words[i] + " " + rng.choice(vocab)
    return " ".join(w for w in words if w)


class _Doc:
    """An article being written: lines with their labels."""

    def __init__(self, blank_layout: bool):
        self.parts: list[str] = []
        self.labels: list[dict] = []
        self.pos = 0
        self.sep = "\n\n" if blank_layout else "\n"

    def add(self, text: str, kind: str, origin: str | None = None, first_start: int | None = None) -> int:
        if self.parts:
            self.parts.append(self.sep)
            self.pos += len(self.sep)
        start = self.pos
        self.parts.append(text)
        self.pos += len(text)
        self.labels.append({"char_start": start, "char_end": self.pos, "kind": kind, "origin": origin,
                            "first_start": first_start, "real": False})
        return start

    def text(self) -> str:
        return "".join(self.parts) + "\n"


def _real_articles(wikinews: Path) -> list[tuple[str, str]]:
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(wikinews.glob("*.txt"))]


def _real_labels(name: str, text: str) -> list[dict]:
    """Labels of a verbatim Wikinews article: blank-line blocks, the first is the title."""
    out = []
    for i, m in enumerate(re.finditer(r"\S(?:.*\S)?(?:\n(?![ \t]*\n)[ \t]*\S(?:.*\S)?)*", text)):
        out.append({"char_start": m.start(), "char_end": m.end(), "kind": "title" if i == 0 else "content",
                    "origin": f"{name}:{m.start()}", "first_start": None, "real": True})
    return out


def generate(n_articles: int, seed: int, out_dir: Path, wikinews: Path = DEFAULT_WIKINEWS,
             raw_dir: Path = ROOT / "raw") -> pd.DataFrame:
    """Write the corpus into ``out_dir`` (articles + sources.csv); return the labels (see module doc)."""
    if not Path(wikinews).is_dir():
        raise FileNotFoundError(f"no Wikinews corpus at {wikinews}: pass --wikinews DIR or set WIKINEWS_DIR or "
                                f"CORPUS_DIR (an empty folder gives a corpus made from raw/ alone)")
    rng = random.Random(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    real = _real_articles(Path(wikinews))
    seeds = [p.read_text(encoding="utf-8") for p in sorted(Path(raw_dir).glob("*.txt"))]
    chain = Markov([t for _, t in real] + seeds, rng)
    vocab = [w for ws in chain.next.values() for w in ws if w][:200_000]
    outlets = _outlets()
    templates = {o: rng.sample(TEMPLATE_LINES, 2) for o in outlets}
    labels: list[dict] = []
    manifest: list[dict] = []
    n_real = min(len(real), n_articles // 3)
    published: list[tuple[str, list[tuple[str, str]]]] = []  # (file, [(paragraph, origin)]) for syndication
    for k in range(n_articles):
        if k < n_real:
            name, text = real[k]
            fname = f"{k:07d}_wn_{name}"
            (out_dir / fname).write_text(text, encoding="utf-8")
            labels += [{"file": fname, **row} for row in _real_labels(fname, text)]
            manifest.append({"file": fname, "outlet": "Wikinews"})
            continue
        fname = f"{k:07d}_syn.txt"
        outlet = rng.choice(outlets)
        doc = _Doc(blank_layout=rng.random() < 0.5)
        f = {name: rng.random() < rate for name, rate in FAULT_RATES.items()}
        body: list[tuple[str, str]]
        if f["syndicated"] and published:
            src_file, src_body = rng.choice(published[-500:])
            body = [(edit_words(p, rng.uniform(0.0, 0.2), rng, vocab) if rng.random() < 0.7 else p, origin)
                    for p, origin in src_body]
            title = chain.headline()
            kind = "syndicated"
        else:
            body = [(chain.paragraph(), None) for _ in range(rng.randint(4, 14))]
            title = chain.headline()
            kind = "content"
        title_start = doc.add(title, "title")
        if f["title_repeat"]:
            for _ in range(rng.randint(1, 2)):
                doc.add(title, "title_repeat", first_start=title_start)
        if f["header"]:
            doc.add(rng.choice(HEADER_DEBRIS), "boilerplate")
        if f["byline"]:
            doc.add(outlet, "byline")
        if f["template"]:
            doc.add(templates[outlet][0].format(outlet=outlet), "template")
        written: list[tuple[int, str, str]] = []  # (start, text, origin)
        for para, origin in body:
            start = doc.pos + (len(doc.sep) if doc.parts else 0)
            origin = origin or f"{fname}:{start}"
            doc.add(para, kind if kind == "syndicated" else "content", origin=origin)
            written.append((start, para, origin))
        if f["near_repeat"] and written:
            for start, para, origin in rng.sample(written, min(len(written), rng.randint(1, 2))):
                if len(para.split()) >= 25:  # shorter near-identical paragraphs are kept (see flows/dedup/dedup.py)
                    doc.add(edit_words(para, rng.uniform(0.05, 0.2), rng, vocab), "near_repeat", origin=origin,
                            first_start=start)
        if f["body_twice"]:
            if rng.random() < 0.5:  # an embedded post between the copies (content of its own)
                doc.add(chain.sentence() + " pic.twitter.com/" + "".join(rng.choices("abcdefghijk0123456789", k=10)),
                        "content", origin=f"{fname}:post")
            for start, para, origin in written:
                doc.add(para, "exact_repeat", origin=origin, first_start=start)
        if f["template"] and rng.random() < 0.5:
            doc.add(templates[outlet][1].format(outlet=outlet), "template")
        if f["footer"]:
            for line in rng.choice(FOOTER_DEBRIS):
                doc.add(line.format(outlet=outlet), "boilerplate")
        if f["sidebar"]:
            doc.add(rng.choice(SIDEBAR_HEADS), "boilerplate")
            for _ in range(rng.randint(1, 3)):
                doc.add(chain.headline(), "boilerplate")
                if rng.random() < 0.5:
                    doc.add(chain.paragraph(), "boilerplate")
        (out_dir / fname).write_text(doc.text(), encoding="utf-8")
        labels += [{"file": fname, **row} for row in doc.labels]
        manifest.append({"file": fname, "outlet": outlet})
        if kind == "content":
            published.append((fname, [(t, o) for _, t, o in written]))
    with (out_dir / "sources.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["file", "sha256", "outlet", "url", "retrieved_date", "published_date",
                                           "license"])
        w.writeheader()
        for row in manifest:
            w.writerow({"file": row["file"], "outlet": row["outlet"]})
    return pd.DataFrame(labels, columns=LABEL_COLUMNS)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="articles")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True, help="folder to write (a raw/ folder for the pipeline)")
    ap.add_argument("--wikinews", type=Path, default=DEFAULT_WIKINEWS)
    args = ap.parse_args(argv)
    labels = generate(args.n, args.seed, args.out, args.wikinews)
    labels.to_csv(args.out / ".labels.csv", index=False)
    print(f"{args.n} articles, {len(labels)} labelled spans -> {args.out}")
    print(labels.groupby("kind").size().to_string())


if __name__ == "__main__":
    main()
