"""Dates (issue 4): rules find spans, dateparser normalises, relative ones need a reference date."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.extract.dates import dates_in

D = dt.date


def _one(text, ref=None, event=False):
    spans = dates_in(text, ref, event)
    assert len(spans) == 1, [s.text for s in spans]
    s = spans[0]
    return s.text, s.first, s.last, s.precision


@pytest.mark.parametrize("text,expected", [
    ("in Washington, D.C., on July 22 and 23, 2024, where", ("July 22 and 23, 2024", D(2024, 7, 22), D(2024, 7, 23), "day")),
    ("in Washington, D.C. from August 7-8, 2023.", ("August 7-8, 2023", D(2023, 8, 7), D(2023, 8, 8), "day")),
    ("(@SecDef) August 8, 2023", ("August 8, 2023", D(2023, 8, 8), D(2023, 8, 8), "day")),
    ("the July 2021 US-Iraq Strategic Dialogue", ("July 2021", D(2021, 7, 1), D(2021, 7, 31), "month")),
    ("the 2008 U.S.-Iraq Strategic Framework Agreement", ("2008", D(2008, 1, 1), D(2008, 12, 31), "year")),
])
def test_absolute_dates_need_no_reference(text, expected):
    assert _one(text) == expected


def test_numbers_are_not_years():
    assert dates_in("about 2,500 US troops and 50,000 people; 79 nations") == []


@pytest.mark.parametrize("text", ["met in Washington on Tuesday", "in April this year", "last summer", "In January, the PM"])
def test_relative_dates_without_reference_stay_null(text):
    (span,) = dates_in(text)
    assert span.first is None and span.last is None


def test_relative_dates_resolve_against_the_reference():
    ref = D(2024, 7, 23)  # the reported event's last day
    spans = dates_in("met on Tuesday, according to a statement released the following day.", ref, True)
    assert [(s.first, s.method) for s in spans] == [(D(2024, 7, 23), "reference"), (D(2024, 7, 24), "anchor")]
    assert _one("during the visit in April this year", ref, True)[1:] == (D(2024, 4, 1), D(2024, 4, 30), "month")
    assert _one("the inaugural dialogue last summer", ref, True)[1:] == (D(2023, 6, 1), D(2023, 8, 31), "season")
    assert _one("In January, the PM presided", ref, True)[1:] == (D(2024, 1, 1), D(2024, 1, 31), "month")
    assert _one("held the dialogue on Monday and Tuesday", D(2023, 8, 8), True)[1:] == (D(2023, 8, 7), D(2023, 8, 8), "day")
    # a published date is after what it reports: the latest such weekday up to it
    assert _one("met on Monday", D(2024, 7, 25), False)[1] == D(2024, 7, 22)


def test_following_day_without_an_anchor_stays_null():
    (span,) = dates_in("a statement released the following day", D(2024, 7, 23), True)
    assert span.first is None
