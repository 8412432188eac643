"""flows.frames.isin answers as pandas' isin does (it is only faster on large key sets)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from flows import frames

words = st.lists(st.one_of(st.none(), st.text(max_size=4)), max_size=30)


@given(words, words)
def test_isin_agrees_with_pandas(values, keys):
    s = pd.Series(values, dtype="str")
    expected = s.isin([k for k in keys if k is not None]).to_numpy()
    got = frames.isin(s, [k for k in keys if k is not None])
    assert got.dtype == bool and np.array_equal(got, expected)


def test_isin_takes_prepared_keys_and_non_string_values():
    keys = frames.arrow_strings(["1", "3"])
    assert frames.isin(pd.Series([1, 2, 3]), keys).tolist() == [True, False, True]
    assert frames.isin(pd.Series([], dtype="str"), keys).tolist() == []
