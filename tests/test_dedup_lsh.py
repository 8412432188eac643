"""LSH banding of the dedup stage: candidate pairs from compact band keys."""

from __future__ import annotations

import itertools

import numpy as np

from flows.dedup import dedup


def brute_force(keys: np.ndarray) -> set[tuple[int, int]]:
    n = keys.shape[1]
    return {(i, j) for i, j in itertools.combinations(range(n), 2) if (keys[:, i] == keys[:, j]).any()}


def test_candidate_pairs_are_exactly_the_pairs_sharing_a_band_each_once():
    rng = np.random.default_rng(7)
    # few distinct values per band: long runs of equal keys, pairs sharing several bands
    for n, bands, values in ((1, 3, 2), (2, 1, 1), (60, 5, 4), (200, 8, 30), (300, 30, 1000)):
        keys = rng.integers(0, values, size=(bands, n)).astype(np.uint64)
        blocks = list(dedup.candidate_pairs(keys))
        found = np.concatenate(blocks) if blocks else np.empty((0, 2), dtype=np.int64)
        pairs = [tuple(p) for p in found.tolist()]
        assert len(pairs) == len(set(pairs))  # each pair once, in the first band the two share
        assert all(i < j for i, j in pairs)
        assert set(pairs) == brute_force(keys)


def test_band_keys_match_when_signature_bands_match():
    params = dedup.DedupParams()
    a = "the ministers met in baghdad on tuesday to discuss training programmes and liaison officers"
    keys = dedup.band_keys(dedup._strings([a, a, "an entirely different text about rain and wheat harvests"]),
                           params)
    assert keys.shape == (params.num_bands, 3)
    assert (keys[:, 0] == keys[:, 1]).all()
    assert not (keys[:, 0] == keys[:, 2]).all()


def test_near_pairs_finds_an_edited_copy_and_not_an_unrelated_text():
    base = ("The delegations reached an understanding on the concept for a new phase of the bilateral security "
            "relationship, which includes liaison officers, training and security cooperation programmes.")
    edited = base.replace("new phase", "next phase").replace("training", "joint training")
    other = "Heavy rain flooded several streets in the old city overnight, the municipality said on Monday."
    texts = [t.casefold() for t in (other, base, edited)]
    assert dedup.near_pairs(texts, dedup.DedupParams()).tolist() == [[1, 2]]
