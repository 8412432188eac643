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

Near-duplicate candidates come from MinHash LSH over word shingles of the normalised text
(content-word unigrams: cross-outlet copies and paraphrases share single words far more than n-grams):
rensa computes each distinct text's MinHash signature, chunk by chunk; of a signature only one 64-bit
key per LSH band is kept (a numpy array, ``num_bands`` x 8 bytes a text, instead of an LSH index), and
two texts are a candidate pair when they share a band key (found band by band by sorting the keys).
A text's band keys, and the two 64-bit hashes of its normalised form that tell repeated texts apart,
depend on nothing else, so the per-document batches compute them for their own paragraphs
(``paragraph_band_keys``: on the workers, and cached with the batch) and dedup looks them up by
paragraph (``known_keys``), making only what no batch did; a text is then normalised again only
when dedup compares it (``LazyTexts``). The text need not be in memory at all: given the column in
its file (``text``), dedup reads the texts that share a band key with another text, in one pass.
Each candidate pair is confirmed with rapidfuzz. Paragraphs of fewer than ``near_min_words`` words are
their own cluster (too little text to call two of them copies). The settings are chosen by measurement
(``benchmarks/dedup.py``; figures in ``benchmarks/README.md``; memory by step:
``benchmarks/dedup_memory.py``).

Memory: the whole corpus is held as pandas string columns (Arrow buffers) and integer codes; Python
strings are only built a chunk at a time (normalising, shingling) or for the pairs being scored
(one per text of a block of pairs). Without the batches' hashes, the distinct normalised texts are
kept in Arrow buffers of their exact size (``frames.exact_strings``, ``frames.take_sorted_strings``):
Arrow's builders grow theirs as they go, and the pages they outgrow stay resident.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from flows.common import duck, frames
from flows.common.text import normalize
from schemas import conform, table

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
    workers: int = -1  # rapidfuzz threads confirming pairs (-1: one a core; dedup runs while the other idles)
    chunk: int = 5_000  # texts normalised / sketched at a time (bounds memory)
    pair_chunk: int = 200_000  # candidate pairs scored with rapidfuzz at a time (bounds memory)


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


def _content(paragraphs: pd.DataFrame, chunk: int, known: ParagraphKeys | None = None, text=None
             ) -> tuple[pd.DataFrame, np.ndarray, pd.api.extensions.ExtensionArray | LazyTexts]:
    """The content paragraphs in document order, with their normalised texts as integer codes.

    Returns ``(content, codes, texts)``: ``content`` has the columns doc_id, position, para_id, n_words
    (index: the paragraphs' index), sorted by document and position; ``codes[i]`` is the position in
    ``texts`` (the distinct normalised texts in order of first appearance) of row i's text. A text is
    known by two independent 64-bit hashes of its normalised form (pandas ``hash_array``): ``known``'s,
    which the batches computed (:func:`paragraph_band_keys`), or made here ``chunk`` texts at a time.
    With ``known``'s, ``texts`` is a :class:`LazyTexts` (a text normalised when it is read: most are
    never compared); else a pandas string array (possibly of several Arrow chunks) of the first
    occurrences, kept as Arrow buffers, never as one Python string per paragraph. Should two
    different texts share the first hash (the second then differs: checked), the texts are encoded
    exactly instead (:func:`_encode_exact`). ``text``: the paragraphs' text column when ``paragraphs``
    has none (see :func:`dedup`)."""
    text = paragraphs["text"] if text is None else text
    is_content = (paragraphs["status"] == "content").to_numpy()
    content = paragraphs.loc[is_content, ["doc_id", "position", "para_id", "n_words"]]
    found = None
    if known is not None and known.text_hashes is not None and known.hashing == text_hashing():
        found = _encode_known(paragraphs, text, is_content, known, chunk)
    if found is None:  # every text normalised here: the whole column
        text = _whole(text)
        found = _encode_by_hash(text, is_content, chunk)
    codes, texts = found if found is not None else _encode_exact(text, is_content, chunk)
    ranked = content.assign(_row=np.arange(len(content))).sort_values(["doc_id", "position"])
    return ranked.drop(columns="_row"), codes[ranked["_row"].to_numpy()], texts


_SECOND_HASH_KEY = "dedup-check-key!"  # 16 characters: pandas hash_array's key for the second hash


def _texts_at(text, rows) -> list:
    """The texts at positions ``rows`` of ``text``: a pandas Series, or a column read from its file
    (:class:`flows.common.parquet_tables.FileColumn`; ``rows`` ascending, as every caller's are:
    texts in order of first appearance)."""
    return text.iloc[rows].tolist() if isinstance(text, pd.Series) else text.take(rows).to_pylist()


def _whole(text) -> pd.Series:
    """``text`` as a pandas Series (a column read from its file: read whole)."""
    return text if isinstance(text, pd.Series) else pd.Series(text.take(np.arange(len(text))), dtype="str")


def _normalised(values) -> list[str]:
    """The normalised form of each value (a missing text: the empty string)."""
    return [normalize(t) if isinstance(t, str) else "" for t in values]


def _normalised_chunks(text: pd.Series, is_content: np.ndarray, chunk: int):
    """The normalised texts of the content rows, ``chunk`` rows of ``text`` at a time (lists of str)."""
    for s in range(0, len(text), chunk):
        yield _normalised(text.iloc[s:s + chunk][is_content[s:s + chunk]].tolist())


def _text_hashes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes (uint64 arrays) of each string of ``values`` (an object array)."""
    return pd.util.hash_array(values), pd.util.hash_array(values, hash_key=_SECOND_HASH_KEY)


def text_hashing() -> str:
    """What a text's hashes depend on besides the code (the per-document code version covers
    ``normalize``): hashes made by another pandas are not mixed with these."""
    return f"pandas {pd.__version__} hash_array"


class LazyTexts:
    """Distinct normalised texts, each read from the paragraphs' text column (``text``: a pandas
    string Series, or the column in its file) at its first occurrence (``rows``: positions in
    ``text``) and normalised when it is read: dedup compares only the texts of its candidate pairs.
    ``take`` gives another LazyTexts; :func:`_strings` the normalised texts themselves."""

    def __init__(self, text, rows: np.ndarray):
        self.text, self.rows = text, rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> str:
        row = int(self.rows[i])  # a Series' own scalar access: this is called once per pair compared
        value = self.text.iloc[row] if isinstance(self.text, pd.Series) else _texts_at(self.text, [row])[0]
        return _normalised([value])[0]

    def take(self, ids) -> LazyTexts:
        return LazyTexts(self.text, self.rows[np.asarray(ids, dtype=np.int64)])

    def normalised(self) -> pd.api.extensions.ExtensionArray:
        return pd.array(_normalised(_texts_at(self.text, self.rows)), dtype="str")

    def read(self, wanted: np.ndarray) -> LazyTexts:
        """These texts, those where ``wanted`` (a mask) is true read from a column in its file now,
        in one pass (the others can no longer be read); from a Series: ``self``."""
        if isinstance(self.text, pd.Series):
            return self
        ids = np.flatnonzero(wanted)
        rows = np.full(len(self.rows), len(ids), dtype=np.int64)  # past the end: an IndexError if read
        rows[ids] = np.arange(len(ids))
        return LazyTexts(pd.Series(self.text.take(self.rows[ids]), dtype="str"), rows)


def _encode_known(paragraphs: pd.DataFrame, text, is_content: np.ndarray, known: ParagraphKeys, chunk: int):
    """``(codes, texts)`` as :func:`_content` describes them, from ``known``'s hashes (the content
    paragraphs it lacks hashed here), or None when the first hash of two different texts is the same."""
    import pyarrow.compute as pc

    rows = np.flatnonzero(is_content)
    found = pc.index_in(frames.arrow_strings(paragraphs["para_id"].iloc[rows]), value_set=known.text_ids)
    pos = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    hit = pos >= 0
    h1 = np.empty(len(rows), dtype=np.uint64)
    h2 = np.empty(len(rows), dtype=np.uint64)
    h1[hit], h2[hit] = known.text_hashes[0, pos[hit]], known.text_hashes[1, pos[hit]]
    missing = np.flatnonzero(~hit)
    for s in range(0, len(missing), chunk):
        at = missing[s:s + chunk]
        h1[at], h2[at] = _text_hashes(np.array(_normalised(_texts_at(text, rows[at])), dtype=object))
    found = _codes(h1, h2)
    if found is None:
        return None
    codes, firsts = found
    return codes, LazyTexts(text, rows[firsts])


def _codes(h1: np.ndarray, h2: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(codes, firsts)``: each text's code by its first hash ``h1``, in order of first appearance,
    and the row of each code's first text; None when two texts with the same first hash differ in
    the second (two different texts: the caller encodes them another way)."""
    codes = pd.factorize(h1)[0].astype(np.int64)
    firsts = np.unique(codes, return_index=True)[1]
    if not np.array_equal(h2, h2[firsts][codes]):
        return None
    return codes, firsts


def _encode_by_hash(text: pd.Series, is_content: np.ndarray, chunk: int):
    """``(codes, texts)`` as :func:`_content` describes them, or None when the first hash of two
    different texts is the same. Holds the distinct texts once, and two hashes of every row."""
    seen: set[int] = set()
    kept, first, second = [], [], []
    for norm in _normalised_chunks(text, is_content, chunk):
        values = np.array(norm, dtype=object)
        h1, h2 = _text_hashes(values)
        first.append(h1)
        second.append(h2)
        new = []
        for i, h in enumerate(h1.tolist()):
            if h not in seen:
                seen.add(h)
                new.append(i)
        if new:
            kept.append(frames.exact_strings(values[new]))
        del values, norm
    del seen
    h1 = np.concatenate(first) if first else np.empty(0, dtype=np.uint64)
    h2 = np.concatenate(second) if second else np.empty(0, dtype=np.uint64)
    del first, second
    found = _codes(h1, h2)  # in order of first appearance, as ``kept``
    if found is None:  # two different texts with the same first hash
        return None
    codes = found[0]
    # the chunks as they are (joining them would hold the texts twice): dedup takes the ones it needs
    texts = pd.array(pa.chunked_array(kept, type=pa.large_string()), dtype="str")
    return codes, texts


def _encode_exact(text: pd.Series, is_content: np.ndarray, chunk: int):
    """``(codes, texts)`` as :func:`_content` describes them, by pyarrow's dictionary encoding of the
    normalised texts (which holds every row's text and the dictionary's while it works)."""
    parts = [pa.array(norm, type=pa.large_string()) for norm in _normalised_chunks(text, is_content, chunk)]
    encoded = pa.chunked_array(parts, type=pa.large_string()).dictionary_encode()
    del parts
    codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False).astype(np.int64) for c in encoded.chunks]
                           or [np.empty(0, dtype=np.int64)])
    texts = pd.array(encoded.chunk(0).dictionary if encoded.num_chunks else pa.array([], pa.large_string()), dtype="str")
    return codes, texts


def _exact_repeats(docs: np.ndarray, codes: np.ndarray, words: np.ndarray, params: DedupParams) -> dict[int, int]:
    """Row -> row of its first occurrence, for the exact repeats among content rows in document order
    (``docs``, ``codes``: integer codes of each row's document and normalised text)."""
    if len(docs) == 0:
        return {}
    _, first_idx, inverse = np.unique(docs * (codes.max() + 1) + codes, return_index=True, return_inverse=True)
    first = first_idx[inverse]  # row of the first paragraph of the same document with the same text
    dup_of: dict[int, int] = {}
    short_repeats: list[tuple[int, int]] = []
    for i in np.flatnonzero(first != np.arange(len(docs))).tolist():
        f = int(first[i])
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
        if len({codes[r] for r in run}) >= 2 and sum(words[r] for r in run) >= params.exact_min_words:
            for r in run:
                dup_of[r] = pending[r]
    return dup_of


def _mark(out: pd.DataFrame, content: pd.DataFrame, link: dict[int, int], reason: str) -> None:
    """Rows ``link`` of ``content`` become duplicates of the rows they map to."""
    if link:
        rows = np.fromiter(link.keys(), dtype=np.int64, count=len(link))
        firsts = np.fromiter(link.values(), dtype=np.int64, count=len(link))
        idx = content.index[rows]
        out.loc[idx, "status"] = "duplicate"
        out.loc[idx, "reason"] = reason
        out.loc[idx, "duplicate_of"] = content["para_id"].iloc[firsts].to_numpy()


def mark_exact_repeats(paragraphs: pd.DataFrame, params: DedupParams = DedupParams()) -> pd.DataFrame:
    """Exact repeats of content paragraphs inside each document (see the module docstring)."""
    out = paragraphs.copy(deep=False)  # copy on write: only the columns marked below are copied
    content, codes, _ = _content(out, params.chunk)
    docs = pd.factorize(content["doc_id"])[0].astype(np.int64)
    _mark(out, content, _exact_repeats(docs, codes, content["n_words"].to_numpy(), params), "exact_repeat")
    return out


def _strings(texts) -> pd.api.extensions.ExtensionArray:
    """``texts`` as a pandas string array (Arrow memory, not one Python object per text); a
    :class:`LazyTexts` normalised."""
    if isinstance(texts, LazyTexts):
        return texts.normalised()
    return pd.array(texts, dtype="str", copy=False)


def band_keys(texts, params: DedupParams) -> np.ndarray:
    """LSH band keys of every text: a ``(num_bands, len(texts))`` uint64 array.

    A text's MinHash signature (rensa ``RMinHash``, ``num_perm`` values over its shingles) is cut into
    ``num_bands`` bands of ``num_perm // num_bands`` consecutive values, as rensa's LSH index does; a
    band's key is a 64-bit hash of its values (pandas ``hash_pandas_object``). Texts are sketched in
    chunks of ``params.chunk``: only the keys of the whole corpus are held (8 bytes a band)."""
    from rensa import RMinHash

    texts = _strings(texts)
    rows = params.num_perm // params.num_bands
    keys = np.empty((params.num_bands, len(texts)), dtype=np.uint64)
    for start in range(0, len(texts), params.chunk):
        chunk = texts[start:start + params.chunk].tolist()
        digests = RMinHash.digests_from_token_sets(
            [shingles(t, params.shingle, params.drop_stopwords) for t in chunk], params.num_perm, params.seed)
        sig = np.fromiter(itertools.chain.from_iterable(digests), dtype=np.uint32, count=len(chunk) * params.num_perm)
        del digests
        bands = pd.DataFrame(sig.reshape(len(chunk), params.num_perm)[:, :rows * params.num_bands].reshape(-1, rows))
        hashed = pd.util.hash_pandas_object(bands, index=False).to_numpy()
        keys[:, start:start + len(chunk)] = hashed.reshape(len(chunk), params.num_bands).T
    return keys


@dataclass(frozen=True)
class ParagraphKeys:
    """LSH band keys and text hashes of paragraphs, made ahead of dedup (by :func:`paragraph_band_keys`).

    ``para_ids[i]`` (an Arrow string array: no Python object a paragraph) is the paragraph of column
    ``i`` of ``keys`` (a ``band_keys`` array); ``sketch``: the settings they were computed with
    (:func:`sketch_settings`): dedup uses them only with its own. ``text_ids[i]`` is the paragraph of
    column ``i`` of ``text_hashes``: the two hashes of its normalised text (``_text_hashes``), made
    as ``hashing`` says (:func:`text_hashing`), for every content paragraph (None: not made)."""

    para_ids: pa.Array
    keys: np.ndarray
    sketch: tuple
    text_ids: pa.Array | None = None
    text_hashes: np.ndarray | None = None
    hashing: str | None = None

    def only(self, para_ids) -> ParagraphKeys:
        """The keys and hashes of the paragraphs ``para_ids`` (a list)."""
        at = np.flatnonzero(frames.isin(self.para_ids, para_ids))
        if self.text_ids is None:
            return ParagraphKeys(self.para_ids.take(pa.array(at)), self.keys[:, at], self.sketch)
        hashed = np.flatnonzero(frames.isin(self.text_ids, para_ids))
        return ParagraphKeys(self.para_ids.take(pa.array(at)), self.keys[:, at], self.sketch,
                             self.text_ids.take(pa.array(hashed)), self.text_hashes[:, hashed], self.hashing)


def sketch_settings(params: DedupParams) -> tuple:
    """The settings a text's band keys depend on."""
    return (params.shingle, params.drop_stopwords, params.num_perm, params.num_bands, params.seed)


def paragraph_band_keys(paragraphs: pd.DataFrame, params: DedupParams = DedupParams()) -> ParagraphKeys:
    """The hashes of every content paragraph's normalised text, and the band keys of those long
    enough for a near-duplicate cluster (``near_min_words``).

    Each depends on its paragraph's text alone, so the per-document batches compute them (on the
    workers, cached with the batch) and dedup only looks them up; a paragraph without them (content
    only after the batches, another setting) is hashed and sketched by dedup itself."""
    if not len(paragraphs):
        none = pa.array([], pa.large_string())
        return ParagraphKeys(none, np.empty((params.num_bands, 0), np.uint64), sketch_settings(params), none,
                             np.empty((2, 0), np.uint64), text_hashing())
    is_content = (paragraphs["status"] == "content").to_numpy()
    text_ids = frames.arrow_strings(paragraphs["para_id"][is_content])
    texts = np.array(_normalised(paragraphs["text"][is_content].tolist()), dtype=object)
    hashes = np.stack(_text_hashes(texts)) if len(texts) else np.empty((2, 0), np.uint64)
    eligible = (paragraphs["n_words"][is_content] >= params.near_min_words).to_numpy(dtype=bool)
    codes, distinct = pd.factorize(pd.Series(texts[eligible], dtype=object))  # a repeated text is sketched once
    keys = (band_keys(list(distinct), params)[:, codes] if len(codes)
            else np.empty((params.num_bands, 0), np.uint64))
    return ParagraphKeys(text_ids.filter(pa.array(eligible)), keys, sketch_settings(params), text_ids, hashes,
                         text_hashing())


def combine_paragraph_keys(parts: list[ParagraphKeys | None]) -> ParagraphKeys | None:
    """One ParagraphKeys from the batches' (None when a batch has none, or the settings differ).
    Empties ``parts`` as it copies them, so that the keys are not held twice."""
    if not parts or any(p is None for p in parts) or len({p.sketch for p in parts}) != 1:
        return None
    sketch = parts[0].sketch
    hashed = len({p.hashing for p in parts}) == 1 and parts[0].text_ids is not None
    text_ids = pa.concat_arrays([p.text_ids for p in parts]) if hashed else None
    hashes = np.concatenate([p.text_hashes for p in parts], axis=1) if hashed else None
    hashing = parts[0].hashing if hashed else None
    para_ids = pa.concat_arrays([p.para_ids for p in parts])
    keys = np.empty((parts[0].keys.shape[0], len(para_ids)), dtype=np.uint64)
    at = 0
    for i in range(len(parts)):
        n = parts[i].keys.shape[1]
        keys[:, at:at + n] = parts[i].keys
        at += n
        parts[i] = None
    parts.clear()
    return ParagraphKeys(para_ids, keys, sketch, text_ids, hashes, hashing)


def _looked_up_keys(texts, para_ids: pa.Array, known: ParagraphKeys, params: DedupParams,
                    overwrite: bool = False) -> np.ndarray:
    """Band keys of ``texts[i]`` (the text of paragraph ``para_ids[i]``): ``known``'s (the first
    column of a paragraph listed twice), and the missing ones sketched here. ``overwrite``: the
    caller hands ``known`` over; its keys array is reused (overwritten band by band) when it has
    room for every text, instead of a second array as large."""
    import pyarrow.compute as pc

    found = pc.index_in(para_ids, value_set=known.para_ids)
    pos = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    hit = pos >= 0
    rows = pos[hit]
    if overwrite and len(pos) <= known.keys.shape[1]:
        keys = known.keys[:, :len(pos)]  # a view: band b's row is the start of known's row b
    else:
        keys = np.empty((params.num_bands, len(pos)), dtype=np.uint64)
    for band in range(params.num_bands):  # a band at a time: no second copy of every key
        row = np.zeros(len(pos), dtype=np.uint64)
        row[hit] = known.keys[band, rows]  # read before the row is written (over, in known's array)
        keys[band] = row
    missing = np.flatnonzero(~hit)
    if len(missing):
        keys[:, missing] = band_keys(texts.take(missing), params)
    return keys


def _held(texts, wanted: np.ndarray):
    """``texts`` with those ``wanted`` (a mask) readable: a :class:`LazyTexts` over a column in its
    file reads them now, in one pass."""
    return texts.read(wanted) if isinstance(texts, LazyTexts) else texts


def _conformed(out: pd.DataFrame) -> pd.DataFrame:
    """``out`` with the paragraphs table's columns and types (but the text, when it was read from
    its file instead)."""
    return conform("paragraphs", out, columns=[c for c in table("paragraphs").columns if c != "text" or c in out])


def _shares_a_band(keys: np.ndarray) -> np.ndarray:
    """Whether each text (a column of ``keys``, its band keys) has a band key another text has too:
    the texts of :func:`candidate_pairs`."""
    shared = np.zeros(keys.shape[1], dtype=bool)
    for band in keys:  # pandas' hash table: no sort
        shared |= pd.Series(band, copy=False).duplicated(keep=False).to_numpy()
    return shared


def _equal_pairs(key: np.ndarray):
    """Pairs (i, j), i < j, of positions holding equal values, in blocks (one per distance in sort order).

    A run of k equal values gives its k(k-1)/2 pairs over k-1 blocks of at most ``len(key)`` pairs, so a
    huge run costs time but never more than one block of memory."""
    order = np.argsort(key, kind="stable")  # stable: inside a run of equal values positions ascend
    ordered = key[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    del ordered
    ends = np.append(starts[1:], len(key))
    run_end = np.repeat(ends, ends - starts)  # where the run of each sorted position ends
    pos = np.flatnonzero(run_end - np.arange(len(key)) > 1)
    dist = 1
    while len(pos):
        yield order[pos], order[pos + dist]
        dist += 1
        pos = pos[pos + dist < run_end[pos]]


def candidate_pairs(keys: np.ndarray):
    """Blocks (arrays of shape (m, 2)) of pairs (i, j), i < j, of texts that share at least one LSH band.

    ``keys``: the ``band_keys`` of the texts. Each pair comes once, in the first band the two share."""
    for band in range(len(keys)):
        for left, right in _equal_pairs(keys[band]):
            if band:
                seen = np.zeros(len(left), dtype=bool)
                for earlier in range(band):
                    seen |= keys[earlier, left] == keys[earlier, right]
                left, right = left[~seen], right[~seen]
            if len(left):
                yield np.stack([left, right], axis=1)


def _batched(blocks, size: int):
    """Blocks of pairs regrouped into arrays of about ``size`` pairs."""
    buf, held = [], 0
    for block in blocks:
        buf.append(block)
        held += len(block)
        if held >= size:
            yield np.concatenate(buf)
            buf, held = [], 0
    if buf:
        yield np.concatenate(buf)


def confirm(texts, pairs: np.ndarray, params: DedupParams) -> np.ndarray:
    """The candidate pairs whose rapidfuzz score reaches ``min_score`` (``texts``: a pandas string array)."""
    if len(pairs) == 0:
        return pairs
    from rapidfuzz import fuzz
    from rapidfuzz.process import cpdist

    # one Python string per text of these pairs (a text is in many pairs: left and right refer to it)
    ids, at = np.unique(pairs, return_inverse=True)
    strings = np.asarray(_strings(texts.take(ids)), dtype=object)
    at = at.reshape(pairs.shape)
    scores = cpdist(strings[at[:, 0]], strings[at[:, 1]], scorer=getattr(fuzz, params.scorer),
                    workers=params.workers, dtype=np.float32)
    return pairs[scores >= params.min_score]


def near_pairs(texts, params: DedupParams, keys: np.ndarray | None = None) -> np.ndarray:
    """Confirmed near-duplicate pairs (i, j), i < j, among distinct normalised texts: LSH candidates
    (texts sharing a band of their MinHash signatures), each checked with rapidfuzz. ``keys``: the
    texts' ``band_keys`` when already known."""
    if not isinstance(texts, LazyTexts):
        texts = _strings(texts)
    if len(texts) < 2:
        return np.empty((0, 2), dtype=np.int64)
    keys = band_keys(texts, params) if keys is None else keys
    found = [confirm(texts, block, params) for block in _batched(candidate_pairs(keys), params.pair_chunk)]
    return np.concatenate(found) if found else np.empty((0, 2), dtype=np.int64)


def _components(n: int, pairs: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def near_groups(keys: list[str], params: DedupParams = DedupParams(), find_pairs=near_pairs) -> np.ndarray:
    """Component label of every normalised text: texts joined by confirmed near-duplicate pairs."""
    return _components(len(keys), find_pairs(keys, params))


def _near_repeats(docs: np.ndarray, codes: np.ndarray, eligible: np.ndarray, pairs: np.ndarray,
                  texts, n_words: np.ndarray, params: DedupParams) -> dict[int, int]:
    """Row -> row of the earliest paragraph of the same document it nearly repeats (direct pairs only).

    ``docs``: document code of each row; ``codes``: position in ``texts`` of each eligible row's text."""
    if len(pairs) == 0:
        return {}
    from rapidfuzz import fuzz

    rows = np.flatnonzero(eligible)
    occ = pd.DataFrame({"code": codes, "row": rows, "doc": docs[rows]})
    p = pd.DataFrame({"a": pairs[:, 0], "b": pairs[:, 1]})
    m = p.merge(occ.rename(columns={"code": "a", "row": "ra"}), on="a").merge(
        occ.rename(columns={"code": "b", "row": "rb"}), on=["b", "doc"])
    if m.empty:
        return {}
    first = np.minimum(m["ra"].to_numpy(), m["rb"].to_numpy())
    later = np.maximum(m["ra"].to_numpy(), m["rb"].to_numpy())
    text_of = np.full(len(eligible), -1, dtype=np.int64)
    text_of[rows] = codes
    scorer = getattr(fuzz, params.scorer)
    link: dict[int, int] = {}
    for f, l in sorted(zip(first.tolist(), later.tolist())):
        if l in link or min(n_words[f], n_words[l]) < params.repeat_min_words:
            continue
        if scorer(texts[text_of[f]], texts[text_of[l]]) >= params.repeat_min_score:
            link[l] = link.get(f, f)  # point at the first occurrence, through earlier repeats
    return link


def dedup(paragraphs: pd.DataFrame, params: DedupParams = DedupParams(), find_pairs=near_pairs,
          known_keys: ParagraphKeys | None = None, keys_handed_over: bool = False, text=None) -> pd.DataFrame:
    """Exact and near repeats inside documents, and ``cluster_id`` across the corpus.

    ``find_pairs(texts, params) -> array of index pairs`` finds the near-duplicate pairs among distinct
    normalised texts (a pandas string array; the benchmark swaps in its baseline here).
    ``known_keys``: band keys the batches computed (:func:`paragraph_band_keys`); with the default
    ``find_pairs`` and the same settings, the texts are not sketched again (same result);
    ``keys_handed_over``: the caller has no further use for ``known_keys``, whose array dedup then
    reuses (overwrites) for the keys it looks up. ``text``: the paragraphs' text column, when
    ``paragraphs`` has none (:class:`flows.common.parquet_tables.FileColumn`: only the texts compared
    are read, or every text when the batches' hashes are missing); the result then has none either."""
    out = paragraphs.copy(deep=False)  # copy on write: only the columns marked below are copied
    content, codes, texts = _content(out, params.chunk, known_keys, text)
    if content.empty:
        out["cluster_id"] = None
        return _conformed(out)
    docs = pd.factorize(content["doc_id"])[0].astype(np.int64)
    n_words = content["n_words"].to_numpy()
    exact = _exact_repeats(docs, codes, n_words, params)
    _mark(out, content, exact, "exact_repeat")
    keep = None
    if exact:  # the near step sees the content paragraphs that are not exact repeats
        keep = np.ones(len(content), dtype=bool)
        keep[np.fromiter(exact.keys(), dtype=np.int64, count=len(exact))] = False
        docs, codes, n_words = docs[keep], codes[keep], n_words[keep]
    eligible = n_words >= params.near_min_words
    # identical texts are one LSH item; near-duplicate groups are found among the distinct texts
    distinct, first_row = np.unique(codes[eligible], return_index=True)
    near_codes = np.searchsorted(distinct, codes[eligible])
    if isinstance(texts, LazyTexts):  # the texts of the near step
        texts = texts.take(distinct)
    else:  # in one array of their own size (``texts`` may be chunked)
        texts = _strings(frames.take_sorted_strings(pa.array(texts), distinct))
    if keep is not None:  # after the take: the copy's memory is then what the texts freed
        content = content[keep]
    if known_keys is not None and find_pairs is near_pairs and known_keys.sketch == sketch_settings(params):
        para_ids = frames.arrow_strings(content["para_id"].take(np.flatnonzero(eligible)[first_row]))
        keys = _looked_up_keys(texts, para_ids, known_keys, params, overwrite=keys_handed_over)
        known_keys = None  # every batch's keys: the caller keeps no reference, so they go here
        texts = _held(texts, _shares_a_band(keys))  # a text alone in every band is compared with none
        pairs = near_pairs(texts, params, keys=keys)
        del keys
    else:
        texts = _held(texts, np.ones(len(texts), dtype=bool))
        pairs = find_pairs(_strings(texts), params)
    labels = _components(len(distinct), pairs)
    group = np.arange(len(content), dtype=np.int64) + len(distinct)  # short paragraphs: groups of their own
    group[eligible] = labels[near_codes]
    # near repeats inside a document: a long paragraph directly similar to an earlier one of the document
    _mark(out, content, _near_repeats(docs, near_codes, eligible, pairs, texts, n_words, params), "near_repeat")
    del texts
    # cluster ids: named after the smallest para_id of the group (deterministic, order-independent)
    group_codes = pd.factorize(group)[0]
    # the smallest para_id by rank (sorted distinct ids): grouping the strings themselves (Arrow's
    # group-by min) takes far more memory than grouping integers
    ranks, ids = pd.factorize(content["para_id"], sort=True)
    smallest = ids.take(pd.Series(ranks).groupby(group_codes).min().to_numpy())
    names = pd.array(duck.stable_ids("c", smallest), dtype="str")
    cluster = pd.Series(None, index=out.index, dtype="str")
    cluster.loc[content.index] = names.take(group_codes)
    out["cluster_id"] = cluster
    is_exact = out["reason"] == "exact_repeat"
    if is_exact.any():
        # an exact repeat of a paragraph that is itself a near repeat points at the original
        near_rows = out["reason"] == "near_repeat"
        root = dict(zip(out.loc[near_rows, "para_id"], out.loc[near_rows, "duplicate_of"]))
        if root:
            out.loc[is_exact, "duplicate_of"] = out.loc[is_exact, "duplicate_of"].map(lambda p: root.get(p, p)).to_numpy()
        targets = out.loc[is_exact, "duplicate_of"]
        by_para = out.loc[out["para_id"].isin(targets), ["para_id", "cluster_id"]].set_index("para_id")["cluster_id"]
        out.loc[is_exact, "cluster_id"] = targets.map(by_para).to_numpy()
    return _conformed(out)
