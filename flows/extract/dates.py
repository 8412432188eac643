"""Dates: rules find the spans, dateparser normalises them, relative ones need a reference date.

:func:`find_dates` returns every date expression of a text with its character span and kind:

- absolute: ``day_range`` ("July 22 and 23, 2024", "August 7-8, 2023"), ``day`` ("August 8, 2023"),
  ``month`` ("July 2021"), ``year`` ("2008", "in 2009");
- relative: ``month_day`` / ``month_day_range`` ("on July 24th", "July 22-23": the year is the
  reference's), ``month_only`` ("in January", "in April this year"), ``weekday`` ("on Tuesday",
  "held Monday and Tuesday"), ``season`` ("last summer"), ``relative_day`` ("today", "yesterday",
  "the following day"), ``relative_week`` ("this week"), ``relative_year`` ("last year", "this year").

:func:`resolve_dates` gives each span a period (first and last day) and a precision (day, month,
season, year). Absolute spans need nothing else; relative spans are resolved against the reference
date given (the document's published date, or the date of the event it reports) and stay ``None``
when there is none: nothing is guessed. "The following day" is the day after the previous dated
day of the same text. Normalisation goes through ``dateparser.parse`` with ``RELATIVE_BASE`` (its
``search_dates`` is not used: it misreads ordinary words as dates).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from dataclasses import dataclass, field

import dateparser

MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December|"
          "Jan\\.?|Feb\\.?|Mar\\.?|Apr\\.?|Jun\\.?|Jul\\.?|Aug\\.?|Sept?\\.?|Oct\\.?|Nov\\.?|Dec\\.?")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 2)}
_YEAR = r"(?:19|20)\d{2}"
_DASH = r"\s*[-\u2013\u2014]\s*|\s+(?:and|to|through|until)\s+"

_ORD = r"(?:st|nd|rd|th)?"
_WEEKDAY = "|".join(WEEKDAYS)
_RULES: list[tuple[str, re.Pattern]] = [
    ("day_range", re.compile(rf"\b(?P<m>{MONTHS})\s+(?P<d1>\d{{1,2}}){_ORD}(?:{_DASH})(?P<d2>\d{{1,2}}){_ORD},?\s+(?P<y>{_YEAR})\b")),
    ("day_range", re.compile(rf"\b(?P<d1>\d{{1,2}}){_ORD}(?:{_DASH})(?P<d2>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<m>{MONTHS}),?\s+(?P<y>{_YEAR})\b")),
    ("day", re.compile(rf"\b(?:{MONTHS})\s+\d{{1,2}}{_ORD},?\s+{_YEAR}\b")),
    ("day", re.compile(rf"\b\d{{1,2}}{_ORD}\s+(?:of\s+)?(?:{MONTHS}),?\s+{_YEAR}\b")),
    ("day", re.compile(r"\b(?:19|20)\d{2}-\d{2}-\d{2}\b")),
    ("month", re.compile(rf"\b(?:{MONTHS})\s+(?:of\s+)?{_YEAR}\b")),
    # the same without a year: the year is the reference date's ("on July 22 and 23", "DUBAI, July 24th")
    ("month_day_range", re.compile(rf"\b(?P<m>{MONTHS})\s+(?P<d1>\d{{1,2}}){_ORD}(?:{_DASH})(?P<d2>\d{{1,2}}){_ORD}\b(?![\d,.]*\d)")),
    ("month_day", re.compile(rf"\b(?P<m>{MONTHS})\s+(?P<d1>\d{{1,2}}){_ORD}\b(?!\s*(?:[-\u2013]|,?\s*(?:19|20)\d\d)|[\d,.]*\d)")),
    ("month_day", re.compile(rf"\b(?P<d1>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<m>{MONTHS})\b(?!,?\s*(?:19|20)\d\d)")),
    ("month_only", re.compile(rf"\b(?:in|In|since|Since|by|until|early|late|mid-)\s*(?P<m>{MONTHS})(?:\s+(?P<rel>this|last|next)\s+year)?\b(?!\s+\d)")),
    ("weekday", re.compile(rf"\b(?:(?:on|On|last|Last|next|Next)\s+)?(?P<w1>{_WEEKDAY})(?:\s+and\s+(?P<w2>{_WEEKDAY}))?\b(?!['\u2019])")),
    ("season", re.compile(r"\b(?P<rel>last|this|next|Last|This|Next)\s+(?P<s>spring|summer|autumn|fall|winter)\b")),
    ("relative_day", re.compile(r"\b(?:[Tt]oday|[Yy]esterday|[Tt]omorrow|the (?:following|next) day|the day before)\b")),
    ("relative_week", re.compile(r"\b(?P<rel>last|this|next|Last|This|Next) week\b")),
    ("relative_year", re.compile(r"\b(?P<rel>last|this|next|Last|This|Next) year\b")),
    ("year", re.compile(rf"(?<![\d,.$])\b{_YEAR}\b(?![\d,%])")),
]


@dataclass
class DateSpan:
    start: int
    end: int
    text: str
    kind: str
    first: dt.date | None = None
    last: dt.date | None = None
    precision: str | None = None   # day | week | month | season | year
    method: str | None = None      # absolute | reference | anchor
    match: re.Match | None = field(default=None, repr=False, compare=False)  # the rule's match

    @property
    def resolved(self) -> bool:
        return self.first is not None

    @property
    def relative(self) -> bool:
        return self.kind not in ("day_range", "day", "month", "year")


def find_dates(text: str) -> list[DateSpan]:
    """Date expressions in ``text`` (non-overlapping, longest first, in text order)."""
    found: list[DateSpan] = []
    taken: list[tuple[int, int]] = []
    for kind, rx in _RULES:
        for m in rx.finditer(text):
            s, e = m.span()
            if any(a < e and s < b for a, b in taken):
                continue
            taken.append((s, e))
            found.append(DateSpan(s, e, m.group(), kind, match=m))
    return sorted(found, key=lambda d: d.start)


@functools.lru_cache(maxsize=20000)
def _parse(text: str, base: dt.date | None) -> dt.date | None:
    settings = {"PREFER_DAY_OF_MONTH": "first", "PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False}
    if base is not None:
        settings["RELATIVE_BASE"] = dt.datetime(base.year, base.month, base.day)
    value = dateparser.parse(text, languages=["en"], settings=settings)
    return value.date() if value else None


def _month_period(d: dt.date) -> tuple[dt.date, dt.date]:
    return d.replace(day=1), d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _season_period(name: str, year: int) -> tuple[dt.date, dt.date]:
    m1, m2 = SEASONS[name]
    if m1 > m2:  # winter: December of ``year`` to February of the next
        return dt.date(year, m1, 1), dt.date(year + 1, m2, calendar.monthrange(year + 1, m2)[1])
    return dt.date(year, m1, 1), dt.date(year, m2, calendar.monthrange(year, m2)[1])


def _month_day_near(month: str, day: int, ref: dt.date) -> dt.date | None:
    """The date of "<month> <day>" in the reference date's year, or in the year before when that
    would be more than a month after the reference (news reports what happened, or will soon)."""
    v = _parse(f"{month} {day} {ref.year}", None)
    if v is None:
        return None
    if v > ref + dt.timedelta(days=31):
        v = _parse(f"{month} {day} {ref.year - 1}", None)
    return v


def _weekday_near(name: str, ref: dt.date, window: tuple[int, int]) -> dt.date | None:
    target = WEEKDAYS.index(name.capitalize())
    hits = [ref + dt.timedelta(days=k) for k in range(window[0], window[1] + 1)
            if (ref + dt.timedelta(days=k)).weekday() == target]
    return hits[0] if len(hits) == 1 else None


def resolve_dates(text: str, spans: list[DateSpan], reference: dt.date | None = None,
                  reference_is_event: bool = False) -> list[DateSpan]:
    """Fill ``first``/``last``/``precision``/``method`` of each span (in place; also returned).

    ``reference``: the document's reference date, or None. With ``reference_is_event`` a weekday is
    the one within three days of it (the article reports that event); otherwise the latest such
    weekday up to the reference (a published date is after what it reports).
    """
    previous_day: dt.date | None = None
    for d in spans:
        rx = dict(_RULES)
        if d.kind == "day_range":
            for pattern in [p for k, p in _RULES if k == "day_range"]:
                m = pattern.fullmatch(d.text)
                if m:
                    last = _parse(f"{m['m']} {m['d2']} {m['y']}", None)
                    first = _parse(f"{m['m']} {m['d1']} {m['y']}", None)
                    if first and last and first <= last:
                        d.first, d.last, d.precision, d.method = first, last, "day", "absolute"
                    break
        elif d.kind == "day":
            v = _parse(d.text, None)
            if v:
                d.first = d.last = v
                d.precision, d.method = "day", "absolute"
        elif d.kind == "month":
            v = _parse(d.text.replace(" of ", " "), None)
            if v:
                d.first, d.last = _month_period(v)
                d.precision, d.method = "month", "absolute"
        elif d.kind == "year":
            y = int(re.search(r"\d{4}", d.text).group())
            d.first, d.last, d.precision, d.method = dt.date(y, 1, 1), dt.date(y, 12, 31), "year", "absolute"
        elif reference is None and d.kind != "relative_day":
            pass  # relative and nothing to resolve it against: left null
        elif d.kind == "month_only":
            m = rx["month_only"].search(d.text)
            month, rel = m["m"], m["rel"]
            if rel:
                year = reference.year + {"this": 0, "last": -1, "next": 1}[rel]
                v = _parse(f"{month} {year}", None)
            else:
                v = _parse(month, reference)
            if v:
                d.first, d.last = _month_period(v)
                d.precision, d.method = "month", "reference"
        elif d.kind in ("month_day", "month_day_range"):
            m = d.match
            first = _month_day_near(m["m"], int(m["d1"]), reference)
            last = _month_day_near(m["m"], int(m["d2"]), reference) if d.kind == "month_day_range" else first
            if first and last and first <= last:
                d.first, d.last, d.precision, d.method = first, last, "day", "reference"
        elif d.kind == "relative_week":
            rel = d.match["rel"].lower()
            monday = reference - dt.timedelta(days=reference.weekday()) + dt.timedelta(weeks={"this": 0, "last": -1, "next": 1}[rel])
            d.first, d.last, d.precision, d.method = monday, monday + dt.timedelta(days=6), "week", "reference"
        elif d.kind == "weekday":
            m = d.match
            window = (-3, 3) if reference_is_event else (-6, 0)
            if d.text.lower().startswith("last"):
                window = (-7, -1)
            elif d.text.lower().startswith("next"):
                window = (1, 7)
            elif re.search(r"\b(?:will|to be|is to|are to|next|coming)\b", text[max(0, d.start - 40):d.start]):
                window = (0, 6)  # "will begin on Monday": the coming one
            first = _weekday_near(m["w1"], reference, window)
            last = _weekday_near(m["w2"], reference, window) if m["w2"] else first
            if first and last and first <= last:
                d.first, d.last, d.precision, d.method = first, last, "day", "reference"
        elif d.kind == "season":
            m = rx["season"].search(d.text)
            name, rel = m["s"].lower(), m["rel"].lower()
            current = None
            for year in (reference.year - 1, reference.year):
                a, b = _season_period(name, year)
                if a <= reference <= b:
                    current = year
            if rel == "this":
                year = current if current is not None else reference.year
            elif rel == "last":
                year = (current - 1) if current is not None else max(
                    y for y in (reference.year - 1, reference.year) if _season_period(name, y)[1] < reference)
            else:
                year = (current + 1) if current is not None else min(
                    y for y in (reference.year, reference.year + 1) if _season_period(name, y)[0] > reference)
            d.first, d.last = _season_period(name, year)
            d.precision, d.method = "season", "reference"
        elif d.kind == "relative_year":
            rel = rx["relative_year"].search(d.text)["rel"].lower()
            y = reference.year + {"this": 0, "last": -1, "next": 1}[rel]
            d.first, d.last, d.precision, d.method = dt.date(y, 1, 1), dt.date(y, 12, 31), "year", "reference"
        elif d.kind == "relative_day":
            low = d.text.lower()
            if "following" in low or "next day" in low:
                if previous_day is not None:
                    d.first = d.last = previous_day + dt.timedelta(days=1)
                    d.precision, d.method = "day", "anchor"
            elif "day before" in low:
                if previous_day is not None:
                    d.first = d.last = previous_day - dt.timedelta(days=1)
                    d.precision, d.method = "day", "anchor"
            elif reference is not None:
                v = _parse(low, reference)
                if v:
                    d.first = d.last = v
                    d.precision, d.method = "day", "reference"
        if d.precision == "day":
            previous_day = d.last
    return spans


def dates_in(text: str, reference: dt.date | None = None, reference_is_event: bool = False) -> list[DateSpan]:
    """:func:`find_dates` then :func:`resolve_dates`."""
    return resolve_dates(text, find_dates(text), reference, reference_is_event)
