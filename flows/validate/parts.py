"""Validating in parts: the suites that read the paragraphs' text, a part of the corpus at a time.

The paragraphs' text is the largest thing validation holds, and several suites read it: the
paragraphs table's own and the views that join it to their rows (mentions, facts, quotes, ...).
When the paragraphs table has more than two parts' rows (``PART_ROWS`` each), those suites run
over parts of it, whole documents each, each part's rows read once for all of them
(:func:`run_in_parts`), and each suite's results are merged into the one GX gives for the whole
table:

- an expectation decided row by row (GX's map expectations: a value's format, a span inside its
  text, a foreign key) runs on every part; the parts' counts are added up and their failing rows
  listed in order (:func:`merged`);
- the table's shape (its columns, their types) is checked on every part and holds if it holds on
  each;
- a uniqueness whose columns include the document is decided within a part (a part holds whole
  documents); every other expectation that needs all the rows at once (a key's uniqueness, the
  row count) runs once over the whole table's columns it reads, which may not be the long text.

A suite that does not fit this (a view with such an expectation, a table whose documents are not
in consecutive rows) runs whole, as every other suite does. The Data Docs and ``validation.json``
show one result per suite either way.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

import schemas
from flows.common import frames

PART_ROWS = 125_000  # paragraphs a part: small beside what is held between parts, few parts for GX's fixed cost
TEXT_TABLE = "paragraphs"
DOCUMENT = "doc_id"  # a part holds whole documents: a uniqueness over this column is decided within one

# checked on the columns present and their dtype, the same in every part of one table
_SHAPE = {"expect_table_columns_to_match_ordered_list", "expect_table_columns_to_match_set",
          "expect_column_to_exist", "expect_column_values_to_be_of_type",
          "expect_column_values_to_be_in_type_list"}
_UNIQUE_METRICS = {"column_values.unique", "compound_columns.unique", "multicolumn_values.unique"}


@dataclass
class Plan:
    suites: list[str]  # the suites run in parts, in suite order
    bounds: list[tuple[int, int]]  # the parts: [start, stop) rows of TEXT_TABLE
    per_part: dict[str, list[int]]  # each suite's expectations run on every part (their positions)


def columns_read(expectation) -> set[str] | None:
    """The columns an expectation reads (its row condition's too); None if that cannot be told."""
    kwargs = expectation.configuration.kwargs
    found = {kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)}
    found.update(kwargs.get("column_list") or ())
    condition = kwargs.get("row_condition")
    if isinstance(condition, str) and condition:
        return None
    stack = [condition] if condition else []
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            column = item.get("column")
            if isinstance(column, dict) and column.get("name"):
                found.add(column["name"])
            stack.extend(v for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend(item)
    return found


def decided_per_part(expectation, document: str | None) -> bool:
    """Whether the expectation's result over the whole table is its parts' results merged
    (:func:`merged`): a map expectation (decided row by row), or the table's shape. A uniqueness
    is, when its columns include ``document`` and each part holds whole documents."""
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )

    if expectation.expectation_type in _SHAPE:
        return True
    if not isinstance(expectation, (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation)):
        return False
    if getattr(expectation, "map_metric", None) in _UNIQUE_METRICS:
        return document is not None and document in (columns_read(expectation) or ())
    return True


def plan(source, names: list[str], views: dict, suite_of, part_rows: int = PART_ROWS) -> Plan | None:
    """Which suites run in parts and the parts (None: every suite runs whole). ``source``: the
    tables (:class:`flows.common.parquet_tables.LoadedTables`); ``suite_of(name)``: the GX suite."""
    if TEXT_TABLE not in source.names() or source.rows(TEXT_TABLE) <= 2 * part_rows:
        return None  # two parts' rows or fewer: GX's cost per part, for little memory
    text = set(source.long_text_columns(TEXT_TABLE))
    chosen, per_part = [], {}
    for name in (n for n in names if n == TEXT_TABLE or _joins_text(views.get(n), text)):
        expectations = suite_of(name).expectations
        local = [i for i, e in enumerate(expectations)
                 if decided_per_part(e, DOCUMENT if name == TEXT_TABLE else None)]
        whole = [e for i, e in enumerate(expectations) if i not in set(local)]
        if name == TEXT_TABLE:  # its other checks run once, over the columns they read: not the text
            fits = all((columns := columns_read(e)) is not None and not columns & text for e in whole)
        else:  # a view's checks all run per part
            fits = not whole
        if fits:
            chosen.append(name)
            per_part[name] = local
    if not chosen:
        return None
    bounds = frames.document_bounds(source.column(TEXT_TABLE, DOCUMENT), part_rows)
    return Plan(chosen, bounds, per_part) if bounds and len(bounds) > 1 else None


def _joins_text(view, text: set[str]) -> bool:
    """Whether ``view`` is a table's rows, each joined on the text table's key to its long text."""
    if view is None or view.base == TEXT_TABLE or len(view.joins) != 1 or view.joins[0].table != TEXT_TABLE:
        return False
    join = view.joins[0]
    return (tuple(b for _, b in join.on) == tuple(schemas.table(TEXT_TABLE).primary_key)
            and bool({c for c, _ in join.columns} & text))


def held_needs(needs: dict[str, set[str]]) -> dict[str, set[str]]:
    """What a suite run in parts reads from the tables held in memory: all but the text table,
    whose rows are read a part at a time."""
    return {t: c for t, c in needs.items() if t != TEXT_TABLE}


class PartFrames:
    """The frames the suites of a :class:`Plan` validate, one part at a time: the text table's rows
    of the part (read once for every suite), and each view's base rows whose paragraph is in it
    (a row whose paragraph is in no part goes with the first)."""

    def __init__(self, source, plan: Plan, views: dict):
        self.source, self.plan, self.views = source, plan, views
        self.columns = schemas.in_table_order(TEXT_TABLE, schemas.table(TEXT_TABLE).columns)
        integers = [c for c in self.columns if schemas.table(TEXT_TABLE).field(c).type == "integer"]
        # decided over the whole table, as for a suite run whole
        full_integers = [c for c in integers if not source.column(TEXT_TABLE, c).hasnans]
        key = schemas.table(TEXT_TABLE).primary_key[0]
        keys = source.column(TEXT_TABLE, key)
        self.positions, self.integers = {}, {TEXT_TABLE: full_integers}
        for name in plan.suites:
            if name in views:
                view = views[name]
                base = source.frames[view.base]
                found = schemas.first_rows(base[view.joins[0].on[0][0]], keys)
                if found is None:
                    raise TypeError(f"{view.base}.{view.joins[0].on[0][0]} and {TEXT_TABLE}.{key} differ in type")
                self.positions[name] = found
                self.integers[name] = [c for c in view.base_columns if isinstance(base[c].dtype, pd.Int64Dtype)
                                       and not base[c].hasnans]
        self.part = None
        self.bounds = None

    def load(self, k: int) -> None:
        start, stop = self.bounds = self.plan.bounds[k]
        self.part = None
        part = self.source.read_rows(TEXT_TABLE, self.columns, start, stop)
        self.part = frames.with_numpy_integers(part, self.integers[TEXT_TABLE])

    def frame(self, name: str, k: int) -> pd.DataFrame:
        if name not in self.views:
            return self.part
        view = self.views[name]
        start, stop = self.bounds
        where = self.positions[name]
        inside = (where >= start) & (where < stop)
        if k == 0:
            inside |= where < 0
        rows = np.flatnonzero(inside)
        base = self.source.frames[view.base]
        out = schemas.build_view(view, {view.base: base.iloc[rows], TEXT_TABLE: self.part})
        out.index = rows  # the row's position in the whole view, as GX reports it
        return frames.with_numpy_integers(out, self.integers[name])


def _batch(checkpoint, df: pd.DataFrame):
    """``df`` as a batch of the suite's data asset, validated without storing a result."""
    return checkpoint.validation_definitions[0].batch_definition.get_batch(batch_parameters={"dataframe": df})


def local_suite(suite, positions: list[int]):
    """A copy of ``suite`` with only the expectations at ``positions``, with their ids (by which
    their results are told apart)."""
    import great_expectations as gx

    chosen = [suite.expectations[i] for i in positions]
    local = gx.ExpectationSuite(name=suite.name, expectations=[copy.copy(e) for e in chosen])  # GX: ids cleared
    for mine, original in zip(local.expectations, chosen, strict=True):
        mine.id = original.id
    return local


_QUERY = re.compile(r"^df\.filter\(items=\[(.*)\], axis=0\)$", re.S)


def _merged_query(queries: list) -> str | None:
    found = [q for q in queries if q is not None]
    if not found:
        return None
    items = []
    for q in found:
        match = _QUERY.match(q)
        if match is None:
            return found[0]
        if match.group(1):
            items.append(match.group(1))
    return f"df.filter(items=[{', '.join(items)}], axis=0)"


def merged(results: list, expectation, result_format: dict):
    """One expectation's results over the parts, as one result over the whole table."""
    from great_expectations.core import ExpectationValidationResult
    from great_expectations.expectations.expectation import _format_map_output, _mostly_success
    from great_expectations.expectations.expectation_configuration import parse_result_format

    raised = [r for r in results if (r.exception_info or {}).get("raised_exception")]
    if raised:
        return raised[0]
    parts = [r.result or {} for r in results]
    if not all("element_count" in p for p in parts):  # the shape: the same answer in every part
        return next((r for r in results if not r.success), results[0])
    element = sum(p["element_count"] for p in parts)
    nonnull = sum(p["element_count"] - p.get("missing_count", 0) for p in parts)
    unexpected = sum(p.get("unexpected_count") or 0 for p in parts)
    if element == 0 or nonnull == 0:
        success = True
    else:
        success = _mostly_success(nonnull, unexpected, getattr(expectation, "mostly", None) or 1.0)

    def joined(key):
        return None if all(key not in p for p in parts) else [v for p in parts for v in (p.get(key) or [])]

    out = _format_map_output(
        result_format=parse_result_format(result_format), success=success, element_count=element,
        nonnull_count=nonnull if all("missing_count" in p for p in parts) else None,
        unexpected_count=unexpected, unexpected_list=joined("unexpected_list"),
        unexpected_index_list=joined("unexpected_index_list"),
        unexpected_index_query=_merged_query([p.get("unexpected_index_query") for p in parts]),
        unexpected_index_column_names=parts[0].get("unexpected_index_column_names"))
    first = results[0]
    return ExpectationValidationResult(success=out["success"], result=out.get("result", {}),
                                       expectation_config=first.expectation_config,
                                       exception_info=first.exception_info, meta=first.meta)


def run_in_parts(context, run_id, plan: Plan, source, views: dict, between_parts=None) -> dict[str, tuple]:
    """Run the suites of ``plan`` over its parts: ``{suite: (its ExpectationSuiteValidationResult,
    rows)}``, each result stored for the Data Docs as the suite's checkpoint stores it. The first
    part runs through the suite's checkpoint (which gives the result its run, batch and
    checkpoint), the others through its batch definition, with only the expectations decided per
    part; the rest run once over the whole table's columns they read."""
    from great_expectations.validator.validation_statistics import calc_validation_statistics

    from flows.validate import gx_runtime

    part_frames = PartFrames(source, plan, views)
    checkpoints = {name: context.checkpoints.get(name) for name in plan.suites}
    suites = {name: context.suites.get(name) for name in plan.suites}
    per_part = {name: local_suite(suites[name], plan.per_part[name]) for name in plan.suites}
    found = {name: {} for name in plan.suites}  # expectation id -> its results, a part each
    stored, rows = {}, dict.fromkeys(plan.suites, 0)
    for k in range(len(plan.bounds)):
        part_frames.load(k)
        for name in plan.suites:
            df = part_frames.frame(name, k)
            rows[name] += len(df)
            checkpoint = checkpoints[name]
            if k == 0:
                (key, result), = checkpoint.run(batch_parameters={"dataframe": df}, run_id=run_id).run_results.items()
                stored[name] = key, result
            else:
                result = _batch(checkpoint, df).validate(per_part[name], result_format=checkpoint.result_format)
            del df
            gx_runtime.forget_batches(context)
            for r in result.results:
                found[name].setdefault(r.expectation_config.id, []).append(r)
        if between_parts is not None:
            between_parts()
    del part_frames  # the last part and the views' positions
    out = {}
    for name in plan.suites:
        suite, checkpoint = suites[name], checkpoints[name]
        once = whole_table_results(context, source, name, suite, plan)
        key, result = stored[name]
        by_id = {e.id: e for e in suite.expectations}
        # in the order of the first part's results, as GX orders a suite's
        results = [once[i] if i in once else merged(found[name][i], by_id[i], checkpoint.result_format)
                   for i in (r.expectation_config.id for r in result.results)]
        statistics = calc_validation_statistics(results)
        result.results, result.success = results, statistics.success
        result.statistics = {"evaluated_expectations": statistics.evaluated_expectations,
                             "successful_expectations": statistics.successful_expectations,
                             "unsuccessful_expectations": statistics.unsuccessful_expectations,
                             "success_percent": statistics.success_percent}
        context.validation_results_store.set(key, result)
        out[name] = result, rows[name]
    return out


def whole_table_results(context, source, name: str, suite, plan: Plan) -> dict:
    """The results of suite ``name``'s expectations not decided per part, run once over the whole
    table's columns they read (with its key): ``{expectation id: result}``."""
    from flows.validate import gx_runtime

    whole = [i for i in range(len(suite.expectations)) if i not in set(plan.per_part[name])]
    if not whole:
        return {}
    columns = set(schemas.table(name).primary_key)
    for i in whole:
        columns |= columns_read(suite.expectations[i])
    df = frames.with_numpy_integers(source.read(name, schemas.in_table_order(name, columns)))
    checkpoint = context.checkpoints.get(name)
    results = _batch(checkpoint, df).validate(local_suite(suite, whole), result_format=checkpoint.result_format).results
    del df
    gx_runtime.forget_batches(context)
    return {r.expectation_config.id: r for r in results}
