"""A broken table fails validation, with the failing rows' keys in the result."""

from __future__ import annotations

import pandas as pd
import pytest

import schemas
from flows.validate import validate


def _tables(seed_tables):
    return {k: seed_tables[k].copy() for k in schemas.tables()}


def test_seed_tables_pass(seed_tables, tmp_path):
    report = validate.validate(_tables(seed_tables), tmp_path)
    assert report.passed, report.summary_markdown()
    assert (tmp_path / "gx-project" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()


def test_null_and_repeated_para_id_fail_with_their_keys(seed_tables, tmp_path):
    tables = _tables(seed_tables)
    p = tables["paragraphs"]
    p.loc[3, "para_id"] = None
    p.loc[5, "para_id"] = p.loc[6, "para_id"]
    report = validate.validate(tables, tmp_path)
    assert not report.passed
    failed = {(f.table, f.expectation, f.column) for f in report.blocking}
    assert ("paragraphs", "expect_column_values_to_not_be_null", "para_id") in failed
    assert ("paragraphs", "expect_column_values_to_be_unique", "para_id") in failed
    unique = next(f for f in report.blocking if f.expectation == "expect_column_values_to_be_unique")
    assert unique.unexpected_keys.count(p.loc[6, "para_id"]) == 2


def test_dangling_doc_id_fails_the_foreign_key(seed_tables, tmp_path):
    tables = _tables(seed_tables)
    p = tables["paragraphs"]
    victim = p.loc[7, "para_id"]
    p.loc[7, "doc_id"] = "d0000000000000000"
    report = validate.validate(tables, tmp_path)
    fk = [f for f in report.blocking if f.expectation == "expect_column_values_to_be_keys_of" and f.column == "doc_id"]
    assert len(fk) == 1 and fk[0].unexpected_keys == [victim]


def test_unknown_status_fails(seed_tables, tmp_path):
    tables = _tables(seed_tables)
    tables["paragraphs"].loc[2, "status"] = "spam"
    report = validate.validate(tables, tmp_path)
    assert [(f.column, f.expectation) for f in report.blocking] == [("status", "expect_column_values_to_be_in_set")]


def _failed(report):
    return {(f.table, f.expectation, f.column) for f in report.failures}


def test_dangling_doc_id_fails_nothing_else(seed_tables, tmp_path):
    tables = _tables(seed_tables)
    tables["paragraphs"].loc[7, "doc_id"] = "d0000000000000000"
    report = validate.validate(tables, tmp_path)
    assert _failed(report) == {("paragraphs", "expect_column_values_to_be_keys_of", "doc_id")}


def _uncited(tables) -> set:
    """para_ids that no record (mention, quote, fact, statement, participant, event) cites: changing
    their text or offsets breaks only the paragraph checks, not the records' span checks."""
    cited = set()
    for name, df in tables.items():
        for col in ("para_id", "source_para_id"):
            if name != "paragraphs" and col in df:
                cited |= set(df[col].dropna())
    return set(tables["paragraphs"]["para_id"]) - cited


def _two_content_paragraphs_of_one_document(tables, min_words: int = 25):
    """Two content paragraphs of one document (of ``min_words`` words or more); the records citing the
    second are dropped, so that rewriting its text breaks only the paragraph checks (events stay:
    none is sourced from it)."""
    p = tables["paragraphs"]
    sourced = set(tables["events"]["source_para_id"].dropna())
    content = p[(p["status"] == "content") & ~p["para_id"].isin(sourced) & (p["n_words"] >= min_words)]
    first, second = next(g.iloc[:2] for _, g in content.groupby("doc_id") if len(g) >= 2).itertuples(index=False)
    for name, df in tables.items():
        if name not in ("paragraphs", "events") and "para_id" in df:
            tables[name] = df[df["para_id"] != second.para_id].reset_index(drop=True)
    index = p.index[p["para_id"] == second.para_id][0]
    return first._asdict(), {**second._asdict(), "name": index}


def test_repeated_content_paragraph_within_a_document_fails_with_both_rows(seed_tables, tmp_path):
    tables = _tables(seed_tables)
    p = tables["paragraphs"]
    first, second = _two_content_paragraphs_of_one_document(tables)
    p.loc[second["name"], "text"] = first["text"]
    p.loc[second["name"], "char_end"] = p.loc[second["name"], "char_start"] + len(first["text"])
    p.loc[second["name"], "n_words"] = first["n_words"]
    report = validate.validate(tables, tmp_path)
    assert _failed(report) == {("paragraphs", "expect_compound_columns_to_be_unique", "doc_id, text")}
    assert sorted(report.blocking[0].unexpected_keys) == sorted([first["para_id"], second["para_id"]])


def test_a_short_repeated_content_paragraph_is_a_published_warning(seed_tables, tmp_path):
    """Short repeats stay content by design (dedup keeps an interview's second "Yes."): the report
    lists them as a warning, which does not stop the release."""
    tables = _tables(seed_tables)
    p = tables["paragraphs"]
    first, second = _two_content_paragraphs_of_one_document(tables)
    for key in (first["para_id"], second["para_id"]):
        i = p.index[p["para_id"] == key][0]
        p.loc[i, ["text", "n_words"]] = ["Yes.", 1]
        p.loc[i, "char_end"] = p.loc[i, "char_start"] + 4
        p.loc[i, "body_start"] = p.loc[i, "char_start"]
        for name, df in list(tables.items()):  # records citing the rewritten paragraphs go with them
            if name not in ("paragraphs", "events") and "para_id" in df:
                tables[name] = df[df["para_id"] != key].reset_index(drop=True)
    report = validate.validate(tables, tmp_path)
    assert report.passed, report.summary_text()
    (warning,) = report.warnings
    assert (warning.table, warning.expectation) == ("paragraphs", "expect_compound_columns_to_be_unique")
    assert sorted(warning.unexpected_keys) == sorted([first["para_id"], second["para_id"]])


def test_the_blocking_uniqueness_threshold_is_the_dedup_threshold():
    from flows.dedup.dedup import DedupParams

    (check,) = [c for c in schemas.table("paragraphs").checks
                if c["type"] == "expect_compound_columns_to_be_unique" and c.get("blocking", True)]
    (n_words,) = [c for c in check["kwargs"]["row_condition"]["conditions"] if c["column"]["name"] == "n_words"]
    assert (n_words["operator"], n_words["parameter"]) == (">=", DedupParams().exact_min_words)


def test_the_same_text_as_a_marked_duplicate_passes(seed_tables, tmp_path):
    tables = _tables(seed_tables)
    p = tables["paragraphs"]
    first, second = _two_content_paragraphs_of_one_document(tables)
    p.loc[second["name"], "text"] = first["text"]
    p.loc[second["name"], "char_end"] = p.loc[second["name"], "char_start"] + len(first["text"])
    p.loc[second["name"], "status"] = "duplicate"
    report = validate.validate(tables, tmp_path)
    assert report.passed and not report.failures, report.summary_text()


def test_paragraph_offsets_past_the_document_fail_the_view_check(seed_tables, tmp_path):
    tables = _tables(seed_tables)
    p = tables["paragraphs"]
    n_chars = tables["documents"].set_index("doc_id")["n_chars"]
    shift = n_chars[p.loc[4, "doc_id"]] + 10 - p.loc[4, "char_end"]
    p.loc[4, "char_start"] += shift  # same length, now past the end of the document
    p.loc[4, "char_end"] += shift
    p.loc[4, "body_start"] += shift
    report = validate.validate(tables, tmp_path)
    assert _failed(report) == {("paragraphs_in_documents", "expect_column_pair_values_a_to_be_greater_than_b",
                                "document_n_chars, char_end")}
    (f,) = report.blocking
    assert f.unexpected_keys == [p.loc[4, "para_id"]] and f.key_columns == ["para_id"]
    # the summary names the view, the check and the key; the Data Docs index lists them too
    assert p.loc[4, "para_id"] in report.summary_text() and "paragraphs_in_documents" in report.summary_markdown()
    index = (tmp_path / "gx-project" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").read_text()
    assert "FAILED: 1 blocking expectation(s) failed" in index and p.loc[4, "para_id"] in index


def test_empty_span_fails_the_order_check(seed_tables, tmp_path):
    tables = _tables(seed_tables)
    p = tables["paragraphs"]
    i = p.index[p["para_id"].isin(_uncited(tables))][0]
    p.loc[i, "char_end"] = p.loc[i, "body_start"] = p.loc[i, "char_start"]
    p.loc[i, "text"] = ""  # consistent with its (empty) span, so only the order check fails
    report = validate.validate(tables, tmp_path)
    assert _failed(report) == {("paragraphs", "expect_column_pair_values_a_to_be_greater_than_b",
                                "char_end, char_start")}
    assert report.blocking[0].unexpected_keys == [p.loc[i, "para_id"]]


def test_a_suite_that_lost_expectations_is_refused(seed_tables, tmp_path):
    """GX drops expectations of a type it does not know when it loads a suite; validation refuses to
    run on such a suite instead of passing it silently."""
    import json
    import shutil

    from flows.common.paths import GX_DIR

    shutil.copytree(GX_DIR / "gx", tmp_path / "project" / "gx")
    path = tmp_path / "project" / "gx" / "expectations" / "documents.json"
    suite = json.loads(path.read_text())
    suite["expectations"][-1]["type"] = "expect_something_no_module_registered"
    path.write_text(json.dumps(suite))
    with pytest.raises(Exception, match="GX dropped expectations"):
        validate.validate(_tables(seed_tables), tmp_path / "work", gx_dir=tmp_path / "project")


def test_custom_expectations_are_registered_by_the_runtime():
    from great_expectations.expectations.registry import get_expectation_impl

    from flows.validate import gx_runtime

    gx_runtime.load_gx()
    for name in ("expect_column_values_to_be_iso_dates_between", "expect_span_to_be_inside_text",
                 "expect_text_at_span_to_equal", "expect_span_length_to_equal_text_length"):
        assert get_expectation_impl(name).__module__ == "flows.validate.gx_expectations"


def test_committed_view_suites_match_what_schemas_generate():
    import json

    import schemas
    from flows.common.paths import GX_DIR
    from flows.validate import gx_suites

    for name in schemas.views():
        committed = json.loads((GX_DIR / "gx" / "expectations" / f"{name}.json").read_text())
        got = [(e["type"], e["kwargs"], e["severity"], e["meta"]) for e in committed["expectations"]]
        want = [(s["type"], s["kwargs"], s["severity"], s["meta"]) for s in gx_suites.expectation_specs(name)]
        assert got == want, "run `python -m flows gx-init` and commit expectations/"


def test_paragraph_text_not_matching_its_span_length_fails(seed_tables, tmp_path):
    tables = _tables(seed_tables)
    p = tables["paragraphs"]
    p.loc[11, "text"] = p.loc[11, "text"] + " (edited)"
    report = validate.validate(tables, tmp_path)
    assert _failed(report) == {("paragraphs", "expect_span_length_to_equal_text_length",
                                "char_start, char_end, text")}
    assert report.blocking[0].unexpected_keys == [p.loc[11, "para_id"]]


def test_summary_lists_every_suite_then_blocking_failures_and_warnings_with_keys():
    report = validate.Report(
        tables=[validate.TableResult("events", False, 12, 1, 1, 3),
                validate.TableResult("mentions_in_paragraphs", True, 2, 0, 0, 5, kind="view")],
        failures=[validate.Failure("events", "expect_column_pair_values_a_to_be_greater_than_b", "end_date, start_date",
                                   True, "An event cannot end before it starts.", 1, ["e1"], ["event_id"]),
                  validate.Failure("events", "expect_column_values_to_be_iso_dates_between", "start_date", False,
                                   "Plausible window.", 2, ["e2", "e3"], ["event_id"])],
        docs_dir=None)
    md = report.summary_markdown("validation/index.html")
    assert "| events | table | 3 | 12 | 1 | 1 | FAIL |" in md
    assert "| mentions_in_paragraphs | view | 5 | 2 | 0 | 0 | pass |" in md
    blocking, warnings = md.index("Blocking failures"), md.index("Warnings (published)")
    assert blocking < md.index("e1") < warnings < md.index("e2, e3")
    assert md.rstrip().endswith("Full report (Data Docs): validation/index.html")
    text = report.summary_text()
    assert "BLOCKING events expect_column_pair_values_a_to_be_greater_than_b on end_date, start_date" in text
    assert "(2 rows; event_id: e2, e3)" in text
    assert not report.passed and [f.column for f in report.warnings] == ["start_date"]


def test_a_document_without_content_is_a_warning_that_still_passes(seed_tables, tmp_path):
    tables = _tables(seed_tables)
    d = tables["documents"]
    d.loc[2, "n_content"] = 0
    report = validate.validate(tables, tmp_path)
    assert report.passed
    assert [(f.table, f.expectation, f.column, f.blocking) for f in report.failures] == [
        ("documents", "expect_column_values_to_be_between", "n_content", False)]
    assert report.warnings[0].unexpected_keys == [d.loc[2, "doc_id"]]


def test_span_checks_by_column_equal_the_row_by_row_checks():
    """The span checks are computed column-wise on typed columns (what the tables hold) and row by
    row otherwise: both give the same answer for every row (hypothesis: offsets with nulls, negative
    and past the end; texts with nulls, astral characters, empty)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from flows.validate import gx_expectations as gxe

    offsets = st.one_of(st.none(), st.integers(-3, 12))
    texts = st.one_of(st.none(), st.text(alphabet=st.sampled_from("ab \u00e9\u2019\U0001F600"), max_size=10))

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.tuples(offsets, offsets, texts), max_size=12))
    def check(rows):
        start = pd.Series([r[0] for r in rows], dtype="Int64")
        end = pd.Series([r[1] for r in rows], dtype="Int64")
        text = pd.Series([r[2] for r in rows], dtype="str")
        assert gxe._typed(start, end, text)
        inside = gxe.span_inside_mask(start, end, text)
        length = gxe.span_length_mask(start, end, text)
        as_objects = [s.astype(object) for s in (start, end, text)]
        assert not gxe._typed(*as_objects)
        assert inside.tolist() == gxe.span_inside_mask(*as_objects).tolist()
        assert length.tolist() == gxe.span_length_mask(*as_objects).tolist()
        assert inside.tolist() == [gxe._span_inside(*r) for r in rows]

    check()
