"""Custom Great Expectations (GX Core 1.x) expectations for checks the built-in ones cannot say.

GX registers an expectation class when its module is imported, and a suite loaded before that
silently loses the expectations it does not know. So this module is imported by
:func:`flows.validate.gx_runtime.load_gx`, the one way the project obtains GX (every context, suite build and
validation goes through it), and :mod:`flows.validate.validate` refuses a suite that lost expectations.

All of them are map expectations over pandas, so a failure lists the failing rows' keys
(``unexpected_index_list`` with the primary key, like any built-in map expectation):

- ``expect_column_values_to_be_iso_dates_between`` (column): ISO ``YYYY-MM-DD`` strings that parse
  and fall within ``[min_value, max_value]`` (GX's own *between* refuses strings vs. string bounds).
- ``expect_span_to_be_inside_text`` (column_list = [start, end, text]): ``0 <= start < end <= len(text)``.
  Rows whose text is missing are skipped (a dangling reference is the foreign key's failure).
- ``expect_text_at_span_to_equal`` (column_list = [start, end, text, expected]):
  ``text[start:end] == expected``. Rows whose span is not inside the text are skipped, so an offset
  outside the text fails exactly ``expect_span_to_be_inside_text``.
- ``expect_span_length_to_equal_text_length`` (column_list = [start, end, text]):
  ``end - start == len(text)`` (a record's text is exactly as long as the span it cites).
- ``expect_column_values_to_be_keys_of`` (column, ref_table, ref_column): a foreign key. Each non-null
  value must be a key of ``ref_table.ref_column`` in the build being validated. The referenced keys are
  not written into the expectation (GX re-serialises a suite parameter on every configuration access,
  which for a parameter of every key took most of a large build's validation); the validation stage
  lends them for the run with :func:`reference_keys`, and the expectation fails with an error when
  it runs without them.

Checks that need another table's data (a mention's paragraph text) run on a *view*: a frame that the
validation stage derives by joining tables as declared in ``schemas/views/`` (see ``schemas/README.md``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from typing import ClassVar, List, Literal, Optional, Tuple, Union

import pandas as pd
from great_expectations.compatibility import pydantic
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import (
    ColumnMapExpectation,
    MulticolumnMapExpectation,
    render_suite_parameter_string,
)
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    MulticolumnMapMetricProvider,
    column_condition_partial,
)
from great_expectations.expectations.metrics.map_metric_provider.multicolumn_condition_partial import (
    multicolumn_condition_partial,
)
from great_expectations.render import RenderedStringTemplateContent
from great_expectations.render.components import LegacyRendererType
from great_expectations.render.renderer.renderer import renderer

from flows.common import frames

_MULTICOLUMN_DOMAIN_KEYS = ("batch_id", "table", "column_list", "row_condition", "condition_parser",
                            "ignore_row_if")


def _missing(value) -> bool:
    return value is None or (not isinstance(value, (list, tuple, str)) and pd.isna(value))


def _int(value) -> int | None:
    if _missing(value):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _iso(value) -> dt.date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _span_inside(start, end, text) -> bool:
    s, e = _int(start), _int(end)
    return isinstance(text, str) and s is not None and e is not None and 0 <= s < e <= len(text)


def _typed(start: pd.Series, end: pd.Series, text: pd.Series) -> bool:
    """Whether the columns have the types of the published tables (integer offsets, a string
    column), so that the checks can be computed column-wise; other data is checked row by row."""
    return (pd.api.types.is_integer_dtype(start) and pd.api.types.is_integer_dtype(end)
            and isinstance(text.dtype, pd.StringDtype))


def _offsets(start: pd.Series, end: pd.Series, text: pd.Series):
    """(start, end, text length, usable) as numpy arrays for typed columns (see ``_typed``);
    ``usable``: all three present."""
    usable = (start.notna() & end.notna() & text.notna()).to_numpy(dtype=bool)
    s = start.to_numpy(dtype="int64", na_value=0)
    e = end.to_numpy(dtype="int64", na_value=0)
    n = text.str.len().to_numpy(dtype="int64", na_value=0)  # characters, as len() counts them
    return s, e, n, usable


def span_inside_mask(start: pd.Series, end: pd.Series, text: pd.Series) -> pd.Series:
    """``_span_inside`` of every row."""
    if _typed(start, end, text):
        s, e, n, usable = _offsets(start, end, text)
        return pd.Series(usable & (0 <= s) & (s < e) & (e <= n), index=start.index, dtype=bool)
    return pd.Series([_span_inside(a, b, t) for a, b, t in zip(start, end, text)], index=start.index, dtype=bool)


def _template(text: str, params: dict, configuration, runtime_configuration) -> list:
    return [RenderedStringTemplateContent(
        content_block_type="string_template",
        string_template={"template": text, "params": params,
                         "styling": (runtime_configuration or {}).get("styling")},
    )]


def _columns_params(configuration) -> tuple[dict, list[str]]:
    cols = list(configuration.kwargs.get("column_list") or [])
    return {f"c{i}": c for i, c in enumerate(cols)}, [f"$c{i}" for i in range(len(cols))]


def _span_length_equal(start, end, text) -> bool:
    s, e = _int(start), _int(end)
    return isinstance(text, str) and s is not None and e is not None and e - s == len(text)


def span_length_mask(start: pd.Series, end: pd.Series, text: pd.Series) -> pd.Series:
    """``_span_length_equal`` of every row."""
    if _typed(start, end, text):
        s, e, n, usable = _offsets(start, end, text)
        return pd.Series(usable & (e - s == n), index=start.index, dtype=bool)
    return pd.Series([_span_length_equal(a, b, t) for a, b, t in zip(start, end, text)], index=start.index,
                     dtype=bool)


# --- ISO dates within a window --------------------------------------------------------------------

class ColumnValuesIsoDateBetween(ColumnMapMetricProvider):
    condition_metric_name = "column_values.iso_date_between"
    condition_value_keys = ("min_value", "max_value")

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, min_value=None, max_value=None, **kwargs):
        lo = dt.date.fromisoformat(min_value) if min_value else None
        hi = dt.date.fromisoformat(max_value) if max_value else None

        def ok(value) -> bool:
            d = _iso(value)
            return d is not None and (lo is None or d >= lo) and (hi is None or d <= hi)

        return column.map(ok).astype(bool)


class ExpectColumnValuesToBeIsoDatesBetween(ColumnMapExpectation):
    """Expect each non-null value to be an ISO date (YYYY-MM-DD) within [min_value, max_value]."""

    min_value: Optional[str] = None
    max_value: Optional[str] = None

    map_metric = "column_values.iso_date_between"
    success_keys = ("min_value", "max_value", "mostly")
    args_keys = ("column", "min_value", "max_value")
    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["project"], "contributors": []}

    @pydantic.validator("min_value", "max_value")
    def _iso_bound(cls, v):
        if v is not None:
            dt.date.fromisoformat(v)
        return v

    @classmethod
    @renderer(renderer_type=LegacyRendererType.PRESCRIPTIVE)
    @render_suite_parameter_string
    def _prescriptive_renderer(cls, configuration=None, result=None, runtime_configuration=None, **kwargs):
        if configuration is None:
            return []
        kw = configuration.kwargs
        params = {"column": kw.get("column"), "min_value": kw.get("min_value") or "any date",
                  "max_value": kw.get("max_value") or "any date"}
        return _template("$column values must be ISO dates between $min_value and $max_value.",
                         params, configuration, runtime_configuration)


# --- spans inside a text --------------------------------------------------------------------------

class SpanMetric(MulticolumnMapMetricProvider):
    """The span metrics' domain: the columns of ``column_list`` (no other parameter)."""

    condition_domain_keys = _MULTICOLUMN_DOMAIN_KEYS
    condition_value_keys = ()


class MulticolumnSpanInsideText(SpanMetric):
    condition_metric_name = "multicolumn_values.span_inside_text"

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, **kwargs):
        return span_inside_mask(*(column_list.iloc[:, i] for i in range(3)))


class SpanExpectation(MulticolumnMapExpectation):
    """What the span expectations share: ``column_list`` names the columns of ``COLUMNS``, in that
    order; rows with a missing value are skipped; the rendered rule is ``RULE`` with each column's
    name in place of ``{start}``, ``{end}``, ``{text}``, ``{expected}``. (No ``map_metric``: GX
    registers only the subclasses.)"""

    COLUMNS: ClassVar[Tuple[str, ...]] = ()
    RULE: ClassVar[str] = ""

    column_list: List[str]
    ignore_row_if: Union[Literal["all_values_are_missing", "any_value_is_missing", "never"]] = (
        "any_value_is_missing")

    success_keys = ("column_list", "ignore_row_if", "mostly")
    args_keys = ("column_list",)
    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["project"], "contributors": []}

    @pydantic.validator("column_list")
    def _columns(cls, v):
        if len(v) != len(cls.COLUMNS):
            raise ValueError(f"column_list must be [{', '.join(cls.COLUMNS)}]")
        return v

    @classmethod
    @renderer(renderer_type=LegacyRendererType.PRESCRIPTIVE)
    @render_suite_parameter_string
    def _prescriptive_renderer(cls, configuration=None, result=None, runtime_configuration=None, **kwargs):
        if configuration is None:
            return []
        params, names = _columns_params(configuration)
        return _template(cls.RULE.format(**dict(zip(cls.COLUMNS, names))), params, configuration,
                         runtime_configuration)


class ExpectSpanToBeInsideText(SpanExpectation):
    """Expect column_list = [start, end, text] to satisfy 0 <= start < end <= len(text)."""

    COLUMNS = ("start", "end", "text")
    RULE = "Offsets {start}..{end} must lie inside {text} (0 <= start < end <= its length)."
    map_metric = "multicolumn_values.span_inside_text"


class MulticolumnTextAtSpanEquals(SpanMetric):
    condition_metric_name = "multicolumn_values.text_at_span_equals"

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, **kwargs):
        start, end, text, expected = (column_list.iloc[:, i] for i in range(4))
        # a span outside its text is not this expectation's failure: expect_span_to_be_inside_text reports it
        inside = span_inside_mask(start, end, text).to_numpy()
        ok = ~inside
        rows = column_list[inside]
        ok[inside] = [t[int(s):int(e)] == want for s, e, t, want in zip(*(rows.iloc[:, i] for i in range(4)))]
        return pd.Series(ok, index=column_list.index, dtype=bool)


class ExpectTextAtSpanToEqual(SpanExpectation):
    """Expect column_list = [start, end, text, expected] to satisfy text[start:end] == expected."""

    COLUMNS = ("start", "end", "text", "expected")
    RULE = "The characters of {text} from {start} to {end} must equal {expected}."
    map_metric = "multicolumn_values.text_at_span_equals"


class MulticolumnSpanLengthEqualsTextLength(SpanMetric):
    condition_metric_name = "multicolumn_values.span_length_equals_text_length"

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, **kwargs):
        return span_length_mask(*(column_list.iloc[:, i] for i in range(3)))


class ExpectSpanLengthToEqualTextLength(SpanExpectation):
    """Expect column_list = [start, end, text] to satisfy end - start == len(text): a record's text is
    exactly as long as the span it claims to come from."""

    COLUMNS = ("start", "end", "text")
    RULE = "{end} - {start} must equal the length of {text}."
    map_metric = "multicolumn_values.span_length_equals_text_length"


# --- foreign keys ---------------------------------------------------------------------------------

_REFERENCE_KEYS: dict[tuple[str, str], object] = {}  # pyarrow string arrays (flows.common.frames.isin)
_REFERENCE_LOCK = threading.RLock()


@contextlib.contextmanager
def reference_keys(keys: dict[tuple[str, str], object]):
    """Lend the referenced keys ``{(table, key_column): values}`` to ``expect_column_values_to_be_keys_of``
    for the duration of a validation run (one run at a time: GX itself is not thread-safe)."""
    with _REFERENCE_LOCK:
        previous = dict(_REFERENCE_KEYS)
        _REFERENCE_KEYS.clear()
        _REFERENCE_KEYS.update({k: frames.arrow_strings(pd.Series(v, dtype=object).dropna().astype(str).unique())
                                for k, v in keys.items()})
        try:
            yield
        finally:
            _REFERENCE_KEYS.clear()
            _REFERENCE_KEYS.update(previous)


class ColumnValuesKeysOf(ColumnMapMetricProvider):
    condition_metric_name = "column_values.keys_of"
    condition_value_keys = ("ref_table", "ref_column")

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, ref_table=None, ref_column=None, **kwargs):
        keys = _REFERENCE_KEYS.get((ref_table, ref_column))
        if keys is None:
            raise KeyError(f"the keys of {ref_table}.{ref_column} were not provided: foreign keys are checked by "
                           f"flows.validate.validate, which lends them with flows.validate.gx_expectations.reference_keys")
        return pd.Series(frames.isin(column.astype(str), keys), index=column.index)


class ExpectColumnValuesToBeKeysOf(ColumnMapExpectation):
    """Expect each non-null value to be a key of ``ref_table.ref_column`` (a foreign key)."""

    ref_table: str
    ref_column: str

    map_metric = "column_values.keys_of"
    success_keys = ("ref_table", "ref_column", "mostly")
    args_keys = ("column", "ref_table", "ref_column")
    library_metadata: ClassVar[dict] = {"maturity": "experimental", "tags": ["project"], "contributors": []}

    @classmethod
    @renderer(renderer_type=LegacyRendererType.PRESCRIPTIVE)
    @render_suite_parameter_string
    def _prescriptive_renderer(cls, configuration=None, result=None, runtime_configuration=None, **kwargs):
        if configuration is None:
            return []
        kw = configuration.kwargs
        params = {"column": kw.get("column"), "ref_table": kw.get("ref_table"), "ref_column": kw.get("ref_column")}
        return _template("$column values must be keys of $ref_table.$ref_column (foreign key).",
                         params, configuration, runtime_configuration)


CUSTOM_EXPECTATIONS: Tuple[type, ...] = (ExpectColumnValuesToBeIsoDatesBetween, ExpectSpanToBeInsideText,
                                         ExpectTextAtSpanToEqual, ExpectSpanLengthToEqualTextLength,
                                         ExpectColumnValuesToBeKeysOf)
