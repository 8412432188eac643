"""Dedup: repeats inside a document, and groups of near-identical paragraphs across the corpus.

``dedup(paragraphs)`` is the cross-document step of the pipeline: it must see the whole corpus.

- **Exact repeats** inside a document: a content paragraph whose normalised text equals an earlier
  content paragraph of the same document becomes ``duplicate`` (reason ``exact_repeat``) with
  ``duplicate_of`` = the first occurrence. A short paragraph (fewer than ``exact_min_words`` words,
  such as an interview's "Yes.") only counts when it sits inside a repeated run (its neighbour repeats
  the first occurrence's neighbour), or in a run of consecutive short repeats holding at least two
  different texts and ``exact_min_words`` words in all: a repeated body is caught whole, repeated short
  answers and a photo credit under every picture are not.
- **Near repeats** inside a document (a copy with small edits): ``duplicate``, reason ``near_repeat``,
  ``duplicate_of`` = the first occurrence. Both paragraphs need ``repeat_min_words`` words and a direct
  rapidfuzz match of ``repeat_min_score``: real articles hold short near-identical paragraphs that say
  different things (interview questions to several candidates, captions, the same sentence with other
  numbers), which no score threshold separates from an edited copy.
- **Across documents** nothing is removed: every content and duplicate paragraph gets a ``cluster_id``
  shared by the near-identical paragraphs of the whole corpus (singletons included; a duplicate shares
  its first occurrence's cluster). Titles and boilerplate have none.

Near-duplicate candidates come from MinHash LSH (rensa) over word shingles of the normalised text
(content-word unigrams: cross-outlet copies and paraphrases share single words far more than n-grams);
each candidate pair is confirmed with rapidfuzz. Paragraphs of fewer than ``near_min_words`` words are
their own cluster (too little text to call two of them copies). The settings are chosen by measurement
(``benchmarks/dedup.py``; figures in ``benchmarks/README.md``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from flows.text import normalize, stable_id
from schemas import conform

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class DedupParams:
    exact_min_words: int = 25  # shorter exact repeats count only inside a repeated run
    near_min_words: int = 8  # shorter paragraphs are in no cross-document cluster but their own
    repeat_min_words: int = 25  # a near repeat inside a document needs this many words (both paragraphs)
    repeat_min_score: float = 85.0  # ... and this rapidfuzz score against the earlier paragraph
    shingle: int = 1  # words per shingle
    drop_stopwords: bool = True  # shingle content words only (spaCy's English stop-word list)
    num_perm: int = 150
    num_bands: int = 30  # 30 bands x 5 rows
    seed: int = 1
    scorer: str = "ratio"  # rapidfuzz.fuzz scorer confirming a candidate pair
    min_score: float = 80.0  # rapidfuzz score (0-100) a candidate pair needs to join a cluster
    workers: int = 1  # rapidfuzz threads
    chunk: int = 5_000  # texts sketched and queried at a time (bounds memory)


@functools.cache
def _stopwords() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def shingles(text: str, k: int = 1, drop_stopwords: bool = False) -> list[str]:
    """Word k-gram shingles of a normalised text (content words only with ``drop_stopwords``)."""
    words = _WORD.findall(text)
    if drop_stopwords:
        stop = _stopwords()
        words = [w for w in words if w not in stop] or words
    if k <= 1 or len(words) <= k:
        return words if k <= 1 else [" ".join(words)]
    return [" ".join(words[i:i + k]) for i in range(len(words) - k + 1)]


def mark_exact_repeats(paragraphs: pd.DataFrame, params: DedupParams = DedupParams(),
                       keys: pd.Series | None = None) -> pd.DataFrame:
    """Exact repeats of content paragraphs inside each document (see the module docstring).

    ``keys``: normalised text of the paragraphs, when the caller has it already (same index)."""
    out = paragraphs.copy()
    content = out[out["status"] == "content"].sort_values(["doc_id", "position"])
    if content.empty:
        return out
    keys = (content["text"].map(normalize) if keys is None else keys.loc[content.index]).to_numpy()
    docs = content["doc_id"].to_numpy()
    ids = content["para_id"].to_numpy()
    words = content["n_words"].to_numpy()
    dup_of: dict[int, int] = {}  # row in ``content`` -> row of its first occurrence
    first: dict[tuple[str, str], int] = {}
    short_repeats: list[tuple[int, int]] = []
    for i in range(len(content)):
        f = first.setdefault((docs[i], keys[i]), i)
        if f != i:
            if words[i] >= params.exact_min_words:
                dup_of[i] = f
            else:
                short_repeats.append((i, f))
    changed = True
    while changed and short_repeats:  # a short repeat inside a repeated run (run grows one step a pass)
        changed = False
        for i, f in list(short_repeats):
            prev_ok = i > 0 and docs[i - 1] == docs[i] and dup_of.get(i - 1) == f - 1
            next_ok = i + 1 < len(docs) and docs[i + 1] == docs[i] and dup_of.get(i + 1) == f + 1
            if prev_ok or next_ok:
                dup_of[i] = f
                short_repeats.remove((i, f))
                changed = True
    # a run of consecutive short repeats of consecutive paragraphs (a body of short paragraphs printed
    # twice) counts when it holds at least two different texts and ``exact_min_words`` words in all
    pending = dict(short_repeats)
    for i in sorted(pending):
        if i not in pending or (i - 1 in pending and pending[i - 1] == pending[i] - 1 and docs[i - 1] == docs[i]):
            continue  # not the start of a run
        run = [i]
        while (run[-1] + 1 in pending and pending[run[-1] + 1] == pending[run[-1]] + 1
               and docs[run[-1] + 1] == docs[i]):
            run.append(run[-1] + 1)
        if len({keys[r] for r in run}) >= 2 and sum(words[r] for r in run) >= params.exact_min_words:
            for r in run:
                dup_of[r] = pending[r]
    if dup_of:
        rows = np.fromiter(dup_of.keys(), dtype=np.int64)
        firsts = np.fromiter(dup_of.values(), dtype=np.int64)
        idx = content.index[rows]
        out.loc[idx, "status"] = "duplicate"
        out.loc[idx, "reason"] = "exact_repeat"
        out.loc[idx, "duplicate_of"] = ids[firsts]
    return out


def candidate_pairs(texts: list[str], params: DedupParams) -> np.ndarray:
    """Pairs (i, j), i < j, of texts that share at least one LSH band (rensa MinHash LSH).

    Texts are sketched, inserted and queried in chunks: each chunk is queried right after it is
    inserted, so every pair is found once (when its later text is queried) and neither the shingles nor
    the MinHash objects of the whole corpus are ever held at once (only the LSH index is)."""
    from rensa import RMinHash, RMinHashLSH

    if len(texts) < 2:
        return np.empty((0, 2), dtype=np.int64)
    lsh = RMinHashLSH(0.5, params.num_perm, params.num_bands)
    lefts, rights = [], []
    for start in range(0, len(texts), params.chunk):
        chunk = texts[start:start + params.chunk]
        minhashes = RMinHash.from_token_sets([shingles(t, params.shingle, params.drop_stopwords) for t in chunk],
                                             params.num_perm, params.seed)
        lsh.insert_many(minhashes, start)
        found = lsh.query_all(minhashes)
        del minhashes
        lengths = np.fromiter((len(c) for c in found), dtype=np.int64, count=len(found))
        right = np.repeat(np.arange(start, start + len(found), dtype=np.int64), lengths)
        left = np.fromiter((k for c in found for k in c), dtype=np.int64, count=int(lengths.sum()))
        keep = left < right
        lefts.append(left[keep])
        rights.append(right[keep])
    return np.stack([np.concatenate(lefts), np.concatenate(rights)], axis=1)


def confirm(texts: list[str], pairs: np.ndarray, params: DedupParams) -> np.ndarray:
    """The candidate pairs whose rapidfuzz score reaches ``min_score``."""
    if len(pairs) == 0:
        return pairs
    from rapidfuzz import fuzz
    from rapidfuzz.process import cpdist

    arr = np.asarray(texts, dtype=object)
    scores = cpdist(arr[pairs[:, 0]], arr[pairs[:, 1]], scorer=getattr(fuzz, params.scorer),
                    workers=params.workers, dtype=np.float32)
    return pairs[scores >= params.min_score]


def near_pairs(keys: list[str], params: DedupParams) -> np.ndarray:
    """Confirmed near-duplicate pairs among distinct normalised texts: LSH candidates, rapidfuzz check."""
    return confirm(keys, candidate_pairs(keys, params), params)


def _components(n: int, pairs: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def near_groups(keys: list[str], params: DedupParams = DedupParams(), find_pairs=near_pairs) -> np.ndarray:
    """Component label of every normalised text: texts joined by confirmed near-duplicate pairs."""
    return _components(len(keys), find_pairs(keys, params))


def _near_repeats(frame: pd.DataFrame, codes: np.ndarray, eligible: np.ndarray, pairs: np.ndarray,
                  keys: np.ndarray, n_words: np.ndarray, params: DedupParams) -> dict[int, int]:
    """Row -> row of the earliest paragraph of the same document it nearly repeats (direct pairs only)."""
    if len(pairs) == 0:
        return {}
    from rapidfuzz import fuzz

    rows = np.flatnonzero(eligible)
    occ = pd.DataFrame({"code": codes, "row": rows, "doc": frame["doc_id"].to_numpy()[rows]})
    p = pd.DataFrame({"a": pairs[:, 0], "b": pairs[:, 1]})
    m = p.merge(occ.rename(columns={"code": "a", "row": "ra"}), on="a").merge(
        occ.rename(columns={"code": "b", "row": "rb"}), on=["b", "doc"])
    if m.empty:
        return {}
    first = np.minimum(m["ra"].to_numpy(), m["rb"].to_numpy())
    later = np.maximum(m["ra"].to_numpy(), m["rb"].to_numpy())
    scorer = getattr(fuzz, params.scorer)
    link: dict[int, int] = {}
    for f, l in sorted(zip(first.tolist(), later.tolist())):
        if l in link or min(n_words[f], n_words[l]) < params.repeat_min_words:
            continue
        if scorer(keys[f], keys[l]) >= params.repeat_min_score:
            link[l] = link.get(f, f)  # point at the first occurrence, through earlier repeats
    return link


def dedup(paragraphs: pd.DataFrame, params: DedupParams = DedupParams(), find_pairs=near_pairs) -> pd.DataFrame:
    """Exact and near repeats inside documents, and ``cluster_id`` across the corpus.

    ``find_pairs(texts, params) -> array of index pairs`` finds the near-duplicate pairs among distinct
    normalised texts (the benchmark swaps in its baseline here)."""
    all_keys = paragraphs["text"].where(paragraphs["status"] == "content").map(normalize, na_action="ignore")
    out = mark_exact_repeats(paragraphs, params, keys=all_keys)
    out["cluster_id"] = None
    content = out[out["status"] == "content"].sort_values(["doc_id", "position"])
    if content.empty:
        return conform("paragraphs", out)
    keys = all_keys.loc[content.index]
    eligible = (content["n_words"] >= params.near_min_words).to_numpy()
    # identical texts are one LSH item; near-duplicate groups are found among the distinct texts
    codes, uniques = pd.factorize(keys[eligible], sort=True)
    pairs = find_pairs(list(uniques), params)
    labels = _components(len(uniques), pairs)
    group = np.arange(len(content), dtype=np.int64) + len(uniques)  # short paragraphs: groups of their own
    group[eligible] = labels[codes]
    frame = pd.DataFrame({"doc_id": content["doc_id"].to_numpy(), "para_id": content["para_id"].to_numpy(),
                          "group": group}, index=content.index)
    # near repeats inside a document: a long paragraph directly similar to an earlier one of the document
    near = _near_repeats(frame, codes, eligible, pairs, keys.to_numpy(), content["n_words"].to_numpy(), params)
    if near:
        rows = np.fromiter(near.keys(), dtype=np.int64)
        idx = frame.index[rows]
        out.loc[idx, "status"] = "duplicate"
        out.loc[idx, "reason"] = "near_repeat"
        out.loc[idx, "duplicate_of"] = frame["para_id"].to_numpy()[np.fromiter(near.values(), dtype=np.int64)]
    # cluster ids: named after the smallest para_id of the group (deterministic, order-independent)
    smallest = frame.groupby("group")["para_id"].transform("min")
    cluster = smallest.map(lambda p: stable_id("c", p))
    out.loc[frame.index, "cluster_id"] = cluster.to_numpy()
    exact = out["reason"] == "exact_repeat"
    if exact.any():
        # an exact repeat of a paragraph that is itself a near repeat points at the original
        near_rows = out["reason"] == "near_repeat"
        root = pd.Series(out.loc[near_rows, "duplicate_of"].to_numpy(), index=out.loc[near_rows, "para_id"].to_numpy())
        out.loc[exact, "duplicate_of"] = out.loc[exact, "duplicate_of"].map(lambda p: root.get(p, p)).to_numpy()
        by_para = pd.Series(out["cluster_id"].to_numpy(), index=out["para_id"].to_numpy())
        out.loc[exact, "cluster_id"] = out.loc[exact, "duplicate_of"].map(by_para).to_numpy()
    return conform("paragraphs", out)
