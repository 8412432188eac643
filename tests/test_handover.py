"""Frames handed from task to task in a Handover are freed once a stage is done with them, though
Prefect keeps every task's arguments and result until the flow ends (flows/orchestrate/handover.py)."""

from __future__ import annotations

import gc
import weakref

import pandas as pd
import pytest

from flows.orchestrate.handover import Handover


def test_a_handover_is_taken_once():
    box = Handover(df=pd.DataFrame({"a": [1]}), n=2)
    assert "df" in repr(box)
    items = box.take()
    assert set(items) == {"df", "n"}
    assert "taken" in repr(box)
    with pytest.raises(RuntimeError, match="already taken"):
        box.take()


@pytest.mark.slow
def test_a_handed_over_frame_is_freed_inside_a_flow(prefect_harness):
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE

    @task(cache_policy=NO_CACHE)
    def double(box: Handover) -> Handover:
        df = box.take()["df"]
        return Handover(df=df.assign(a=df["a"] * 2))

    @task(cache_policy=NO_CACHE)
    def total(box: Handover) -> int:
        return int(box.take()["df"]["a"].sum())

    @flow
    def build() -> tuple[int, list[bool]]:
        df = pd.DataFrame({"a": range(10)})
        refs = [weakref.ref(df)]
        box = Handover(df=df)
        del df
        box = double(box)
        refs.append(weakref.ref(box._items["df"]))
        result = total(box)
        gc.collect()
        return result, [r() is None for r in refs]

    assert build() == (90, [True, True])
