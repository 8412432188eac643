"""Great Expectations suites derived from ``schemas/``.

``python -m flows gx-init`` writes the GX file project in ``expectations/gx/`` (config, one suite,
validation definition and checkpoint per table). That project is committed; at run time it is only
read (``flows/validate/validate.py`` works on a copy). ``tests/test_gx_suites.py`` fails when the committed
suites drift from what ``schemas/`` generates.

Severity: GX 1.x's own ``severity`` field carries it. ``critical`` expectations are *blocking*
(a failure stops the release); ``warning`` ones are published with the release and summarised.
Every expectation says why in ``notes`` and in ``meta.reason``.

Foreign keys are the custom ``expect_column_values_to_be_keys_of`` (column, ref_table, ref_column): the
validation stage lends it the referenced table's keys for the run, so a foreign key fails with the
dangling rows listed, in the same report (see ``flows/validate/gx_expectations.py`` for why the keys are not
a suite parameter).

Hand-written checks come from the ``checks:`` of a table's YAML. Views (``schemas/views/``) get a
suite, validation definition and checkpoint of their own, holding their ``checks:``; their failing
rows are listed by the base table's primary key. Custom expectation types are defined in
``flows/validate/gx_expectations.py`` (registered by ``gx_runtime.load_gx``, which every GX use goes through).
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import schemas
from flows.common.paths import GX_DIR

DATASOURCE = "pipeline"
BATCH_DEFINITION = "whole-table"
GX_TYPES = {"string": "str", "integer": "int64", "number": "float64", "boolean": "bool", "date": "str",
            "list": "object"}
_NS = uuid.UUID("6f1d7a3e-8a55-4c1e-9a50-2d2f4d1c0b7e")


def suite_names() -> list[str]:
    """Every suite: one per table (publishing order), then one per view."""
    return [*schemas.tables(), *schemas.views()]


def _check_spec(check: dict, where: str) -> dict:
    unknown = set(check) - {"type", "kwargs", "reason", "blocking"}
    if unknown or "type" not in check or not check.get("reason"):
        raise ValueError(f"{where}: a check needs type, reason and optionally kwargs, blocking "
                         f"(unexpected keys: {sorted(unknown)})")
    severity = "critical" if check.get("blocking", True) else "warning"
    return {"type": check["type"], "kwargs": dict(check.get("kwargs") or {}), "severity": severity,
            "notes": " ".join(str(check["reason"]).split()),
            "meta": {"blocking": severity == "critical", "reason": " ".join(str(check["reason"]).split()),
                     "source": "hand"}}


def _with_ids(name: str, specs: list[dict]) -> list[dict]:
    for i, spec in enumerate(specs):
        spec["id"] = str(uuid.uuid5(_NS, f"{name}:{i}:{spec['type']}:{sorted(spec['kwargs'].items())!r}"))
    return specs


def expectation_specs(table_name: str) -> list[dict]:
    """Plain dicts (type, kwargs, severity, notes, meta) of a table's or view's expectations, in order."""
    views = schemas.views()
    if table_name in views:
        return _with_ids(table_name, [_check_spec(c, f"view {table_name}") for c in views[table_name].checks])
    t = schemas.table(table_name)
    specs: list[dict] = []

    def add(expectation, severity, reason, **kwargs):
        specs.append({"type": expectation, "kwargs": kwargs, "severity": severity, "notes": reason,
                      "meta": {"blocking": severity == "critical", "reason": reason, "source": "schemas"}})

    add("expect_table_columns_to_match_ordered_list", "critical",
        "Columns and their order are the published contract (schemas/).", column_list=t.columns)
    for f in t.fields:
        add("expect_column_values_to_be_of_type", "critical", f"{f.name} is declared {f.type} in schemas/.",
            column=f.name, type_=GX_TYPES[f.type])
        if f.required:
            add("expect_column_values_to_not_be_null", "critical", f"{f.name} is required.", column=f.name)
        if f.unique:
            add("expect_column_values_to_be_unique", "critical", f"{f.name} identifies a row.", column=f.name)
        if f.enum:
            add("expect_column_values_to_be_in_set", "critical",
                f"{f.name} takes values from a documented vocabulary.", column=f.name, value_set=list(f.enum))
        if f.minimum is not None or f.maximum is not None:
            add("expect_column_values_to_be_between", "critical", f"{f.name} has a documented range.",
                column=f.name, min_value=f.minimum, max_value=f.maximum)
        if f.pattern:
            add("expect_column_values_to_match_regex", "critical", f"{f.name} follows its id format.",
                column=f.name, regex=f.pattern)
    if len(t.primary_key) > 1:
        add("expect_compound_columns_to_be_unique", "critical", "The primary key identifies a row.",
            column_list=list(t.primary_key))
    for fk in t.foreign_keys:
        ref = fk["reference"]
        for col, ref_col in zip(fk["fields"], ref["fields"]):
            add("expect_column_values_to_be_keys_of", "critical",
                f"Foreign key: every {t.name}.{col} must exist in {ref['resource']}.{ref_col}.",
                column=col, ref_table=ref["resource"], ref_column=ref_col)
    specs += [_check_spec(c, f"table {t.name}") for c in t.checks]
    return _with_ids(table_name, specs)


def referenced_keys() -> set[tuple[str, str]]:
    """(table, column) of every key a foreign key refers to."""
    return {
        (fk["reference"]["resource"], ref_col)
        for t in schemas.tables().values()
        for fk in t.foreign_keys
        for ref_col in fk["reference"]["fields"]
    }


def build_suite(table_name: str):
    from flows.validate import gx_runtime

    gx = gx_runtime.load_gx()
    from great_expectations.expectations.registry import get_expectation_impl

    suite = gx.ExpectationSuite(name=table_name)
    for spec in expectation_specs(table_name):
        cls = get_expectation_impl(spec["type"])
        suite.add_expectation(cls(severity=spec["severity"], notes=spec["notes"], meta=spec["meta"],
                                  **spec["kwargs"]))
    return suite


def unexpected_index_columns(table_name: str) -> list[str]:
    views = schemas.views()
    if table_name in views:
        return list(views[table_name].primary_key)
    return list(schemas.table(table_name).primary_key)


def init_project(gx_dir: Path = GX_DIR) -> Path:
    """(Re)write the GX file project from schemas/. Returns the project's ``gx`` folder."""
    from flows.validate import gx_runtime

    gx = gx_runtime.load_gx()
    project = Path(gx_dir) / "gx"
    if project.exists():
        shutil.rmtree(project)
    with gx_runtime.LOCK:
        context = gx_runtime.file_context(gx_dir)
        source = context.data_sources.add_pandas(DATASOURCE)
        for name in suite_names():
            batch = source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe(BATCH_DEFINITION)
            suite = context.suites.add(build_suite(name))
            vd = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
            context.checkpoints.add(
                gx.Checkpoint(
                    name=name,
                    validation_definitions=[vd],
                    # no UpdateDataDocsAction: each one re-renders the whole site; flows/validate/validate.py
                    # builds the Data Docs once after every checkpoint of the run
                    actions=[],
                    result_format={"result_format": "COMPLETE",
                                   "unexpected_index_column_names": unexpected_index_columns(name)},
                )
            )
    _stable_ids(project)
    return project


def _stable_ids(project: Path) -> None:
    """Give the committed suites' expectations deterministic ids, so that regenerating them from an
    unchanged schemas/ rewrites identical files."""
    import json

    for name in suite_names():
        path = project / "expectations" / f"{name}.json"
        suite = json.loads(path.read_text(encoding="utf-8"))
        for exp, spec in zip(suite["expectations"], expectation_specs(name), strict=True):
            exp["id"] = spec["id"]
        path.write_text(json.dumps(suite, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    _stable_object_ids(project)


_UUID = __import__("re").compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _stable_object_ids(project: Path) -> None:
    """Replace the random ids GX gives data sources, assets, batch definitions, suites, validation
    definitions, checkpoints and stores with ids numbered by first appearance (files in sorted order),
    so an unchanged schemas/ regenerates a byte-identical project."""
    keep = {spec["id"] for name in suite_names() for spec in expectation_specs(name)}
    files = sorted(p for p in project.rglob("*") if p.is_file() and "uncommitted" not in p.parts
                   and p.suffix in {".json", ".yml", ""})
    mapping: dict[str, str] = {}

    def stable(match):
        old = match.group(0)
        if old in keep:
            return old
        if old not in mapping:
            mapping[old] = str(uuid.uuid5(_NS, f"gx-object:{len(mapping)}"))
        return mapping[old]

    for path in files:
        text = path.read_text(encoding="utf-8")
        path.write_text(_UUID.sub(stable, text), encoding="utf-8")
