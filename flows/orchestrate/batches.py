"""Batches of documents for the per-document stages, and what their results are cached by.

The per-document work runs on batches of raw files, one Prefect task per batch, so that it can be
spread over Dask workers and cached from one build to the next: ``process(raw_dir, files, manifest)``
runs ingest (check + decode), clean (paragraphs, titles, boilerplate; an outlet's template lines are
learned over the whole corpus, after the batches), the extract stage's
per-paragraph scan (``flows.extract.scans.scan_paragraphs``) and the MinHash band keys of the dedup stage
(``flows.dedup.dedup.paragraph_band_keys``) on one batch and returns a :class:`BatchResult` (without the
raw text, which nothing after cleaning reads).

- ``fingerprint(raw_dir)``: every entry of the raw folder with its content key (a file's sha256),
  plus its manifest row.
- ``plan(files, target)``: content-defined batches. Files are ordered by sha256 and a batch ends
  after a file whose hash tail is 0 modulo ``target`` (so batches hold ``target`` files on average).
  Adding, removing or changing one file therefore changes only the batch it falls into; every other
  batch keeps exactly the same members and hits the cache. Identical files (same sha256) always share
  a batch, so ``ingest`` still folds them into one document.
- ``code_version()`` / ``lexicon_version()``: hashes of the pipeline code and of the rule files; they
  are task inputs, so a change to either re-runs the per-document stages.
- ``process`` runs ``ingest.ingest`` on the raw folder itself, restricted to the batch's entries and
  manifest rows (``batch_rows``).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from flows.common.paths import LEXICONS_DIR, ROOT
from flows.ingest import ingest

DEFAULT_BATCH_SIZE = 500
MAX_BATCH_FACTOR = 4  # a run of files without a boundary is cut after this many times the target


def fingerprint(raw_dir: Path) -> tuple[list[tuple[str, str]], dict[str, dict]]:
    """(name on disk, content key) of every entry of the raw folder, and the manifest rows by name on
    disk. The content key is a file's sha256 (``ingest.entry_digest``; for an entry that is not read,
    such as a link out of the raw folder, the hash of its rejection). The manifest is read first: a
    malformed one (``ingest.ManifestError``) stops the build before any file is read.

    Manifest rows are matched to files as ``ingest`` matches them (NFC-normalised recorded names).
    Rows that name no file are kept under the key ``MISSING`` (a list): they go with the first batch,
    whose ``ingest`` reports them as missing files.
    """
    raw_dir = Path(raw_dir)
    manifest = ingest.read_manifest(raw_dir)
    files = []
    by_key = {}
    for entry in ingest.scan_raw(raw_dir):
        files.append((entry.disk_name, ingest.entry_digest(entry)))
        by_key[ingest._key(entry.name)] = entry.disk_name
    rows: dict = {}
    missing = []
    for rec in manifest.to_dict("records"):
        rec = {k: (None if v is None or pd.isna(v) else str(v)) for k, v in rec.items()}
        name = by_key.get(ingest._key(rec["file"]))
        if name is None:
            missing.append(rec)
        else:
            rows.setdefault(name, rec)
    if missing:
        rows[MISSING] = missing
    return files, rows


MISSING = "\x00missing"  # key of the manifest rows without a file (cannot be a file name)


def batch_manifest(batch: list[tuple[str, str]], manifest: dict, first: bool) -> dict:
    """The manifest rows of a batch's files (plus, for the first batch, the rows without a file)."""
    out = {name: manifest[name] for name, _ in batch if name in manifest}
    if first and MISSING in manifest:
        out[MISSING] = manifest[MISSING]
    return out


def plan(files: list[tuple[str, str]], target: int = DEFAULT_BATCH_SIZE) -> list[list[tuple[str, str]]]:
    """Content-defined batches of (file, sha256); see the module docstring."""
    target = max(1, int(target))
    ordered = sorted(files, key=lambda f: (f[1], f[0]))
    batches: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for i, (name, digest) in enumerate(ordered):
        current.append((name, digest))
        nxt = ordered[i + 1][1] if i + 1 < len(ordered) else None
        if nxt == digest:
            continue  # never split identical content
        if int(digest[-8:], 16) % target == 0 or len(current) >= target * MAX_BATCH_FACTOR:
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches


def _hash_files(paths: list[Path], base: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.relative_to(base)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


# The packages of the per-document stages (what a batch's result depends on, besides the task's
# own source, covered by TASK_SOURCE): a new module in one of them is covered.
PER_DOCUMENT_PACKAGES = ("common", "ingest", "clean", "dedup", "extract")


def _code_files(packages: tuple[str, ...] | None = None) -> list[Path]:
    """The pipeline's code and table definitions: ``flows/**.py`` (only ``packages`` of it, if given)
    and ``schemas/``."""
    flows_dir = ROOT.joinpath("flows")
    if packages is None:
        paths = list(flows_dir.rglob("*.py"))
    else:
        paths = [p for pkg in packages for p in flows_dir.joinpath(pkg).rglob("*.py")]
    return paths + [*ROOT.joinpath("schemas").rglob("*.py"), *ROOT.joinpath("schemas").rglob("*.yaml")]


def code_version() -> str:
    """Hash of the code and table definitions the per-document stages depend on."""
    return _hash_files(_code_files(PER_DOCUMENT_PACKAGES), ROOT)


def build_key(files: list[tuple[str, str]], manifest: dict) -> str:
    """What a whole build depends on: every raw file (name, sha256) and manifest row, the code of every
    stage (``flows/``, ``schemas/``, the committed GX suites of ``expectations/``), the pinned
    dependencies (``requirements.lock``) and the rule files. A release records it (``release.json``):
    a build whose key equals the latest release's has nothing new to make and stops after fingerprinting."""
    import json

    h = hashlib.sha256()
    for name, digest in sorted(files):  # (names on disk: bytes that are not UTF-8 as surrogates)
        h.update(os.fsencode(name) + f"\t{digest}\n".encode())
    h.update(json.dumps(manifest, sort_keys=True, default=str).encode())
    code = [*_code_files(),
            *(p for p in ROOT.joinpath("expectations").rglob("*") if p.is_file() and "uncommitted" not in p.parts),
            *([ROOT / "requirements.lock"] if (ROOT / "requirements.lock").exists() else [])]
    h.update(_hash_files(code, ROOT).encode())
    h.update(lexicon_version().encode())
    return h.hexdigest()[:32]


def lexicon_version(lexicons_dir: Path | None = None) -> str:
    """Hash of every rule/word-list file in ``lexicons/``."""
    base = Path(lexicons_dir or LEXICONS_DIR)
    return _hash_files([p for p in base.rglob("*") if p.is_file()], base)


def batch_rows(files: list[tuple[str, str]], manifest: dict[str, dict]) -> list[dict]:
    """The manifest rows of a batch: its files' rows, and the rows without a file (``MISSING``) that
    :func:`batch_manifest` gave it."""
    return [manifest[name] for name, _ in files if name in manifest] + list(manifest.get(MISSING, []))


@dataclass
class BatchResult:
    """What the per-document stages make of one batch; ``seconds``: time of each stage in it."""

    sources: pd.DataFrame
    rejections: pd.DataFrame
    paragraphs: pd.DataFrame
    info: pd.DataFrame
    scans: object  # flows.extract.scans.Scans
    seconds: dict = field(default_factory=dict)
    band_keys: object = None  # flows.dedup.dedup.ParagraphKeys of the batch's paragraphs (None: dedup sketches them)
    reused: int = 0  # documents taken from earlier batches (flows.orchestrate.workspace.earlier_documents)


def process(raw_dir: Path, files: list[tuple[str, str]], manifest: dict, reused: BatchResult | None = None) -> BatchResult:
    """Ingest, clean and scan one batch of raw files (see the module docstring). ``reused``: the
    documents of some of its files, as earlier batches made them: only the
    other files are read, and the result holds both."""
    from flows.clean import clean
    from flows.dedup import dedup
    from flows.extract.scans import combine_scans, scan_paragraphs
    from flows.orchestrate import memory

    t0 = time.perf_counter()
    if reused is not None:
        copied = set(reused.sources["sha256"])
        files = [(name, digest) for name, digest in files if digest not in copied]
    names, rows = [name for name, _ in files], batch_rows(files, manifest)
    sources, rejections = ingest.ingest(Path(raw_dir), names=names, manifest=rows)
    ingest.check_accounting(Path(raw_dir), sources, rejections,
                            expected=ingest.expected_inputs(Path(raw_dir), names, rows))
    t1 = time.perf_counter()
    paragraphs, info = clean.clean(sources, templates=None)  # templates: corpus-level, after the batches
    t2 = time.perf_counter()
    with memory.gc_paused():
        scans = scan_paragraphs(paragraphs)
    t3 = time.perf_counter()
    band_keys = dedup.paragraph_band_keys(paragraphs)
    t4 = time.perf_counter()
    seconds = {"ingest": t1 - t0, "clean": t2 - t1, "scan": t3 - t2, "sketch": t4 - t3}
    sources = sources.drop(columns=["text"])
    if reused is not None:
        sources, paragraphs, info = (combine([mine, theirs]) for mine, theirs in (
            (sources, reused.sources), (paragraphs, reused.paragraphs), (info, reused.info)))
        scans = combine_scans([scans, reused.scans])
        band_keys = dedup.combine_paragraph_keys([band_keys, reused.band_keys])
    return BatchResult(sources, rejections, paragraphs, info, scans, seconds, band_keys,
                       reused.reused if reused is not None else 0)


def combine(frames: list[pd.DataFrame], order_by: list[str] | None = None) -> pd.DataFrame:
    """Concatenate per-batch frames back into one table, in a stable order independent of batching."""
    frames = [f for f in frames if f is not None]
    if not frames:
        return pd.DataFrame()
    non_empty = [f for f in frames if len(f)]
    out = pd.concat(non_empty, ignore_index=True) if non_empty else frames[0].iloc[0:0].copy()
    if order_by and len(out):
        out = out.sort_values(order_by, kind="stable").reset_index(drop=True)
    return out


def batch_key(files: list[tuple[str, str]]) -> str:
    """What a batch is: the hash of its (file, sha256) pairs."""
    return hashlib.sha256("\n".join(f"{n}\t{d}" for n, d in files).encode()).hexdigest()[:32]
