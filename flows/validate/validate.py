"""Validate: run the committed Great Expectations suites over the tables of a build.

``validate(tables, workdir)`` copies the committed GX project (``expectations/gx``) into ``workdir``
(so the committed files are only read and each run's results and Data Docs stand alone), derives the
views declared in ``schemas/views/`` (a table joined with other tables' columns, for checks across
tables such as "the text at a mention's offsets equals the mention"), runs one checkpoint per table
and per view, and returns a :class:`Report`: pass/fail per table, blocking failures and warnings with
the failing rows' keys, and the folder of the Data Docs HTML site. ``validation.json`` in ``workdir``
holds the same report. The flow runs it in a process of its own, on the tables read back from the
release's Parquet files, beside publishing (``flows.orchestrate.validation``).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

import schemas
from flows.common import frames, paths
from flows.common.parquet_tables import LoadedTables, suite_columns
from flows.validate import data_docs, gx_runtime, parts
from flows.validate.gx_suites import expectation_specs, referenced_keys, suite_names

MAX_KEYS_IN_SUMMARY = 20


@dataclass
class Failure:
    table: str
    expectation: str
    column: str | None
    blocking: bool
    reason: str
    unexpected_count: int | None
    unexpected_keys: list = field(default_factory=list)
    key_columns: list = field(default_factory=list)
    error: str | None = None


@dataclass
class TableResult:
    table: str
    success: bool
    n_expectations: int
    n_failed_blocking: int
    n_failed_warning: int
    n_rows: int
    kind: str = "table"


@dataclass
class Report:
    tables: list[TableResult]
    failures: list[Failure]
    docs_dir: str | None

    @property
    def blocking(self) -> list[Failure]:
        return [f for f in self.failures if f.blocking]

    @property
    def warnings(self) -> list[Failure]:
        return [f for f in self.failures if not f.blocking]

    @property
    def passed(self) -> bool:
        """True when no blocking expectation failed (warnings do not stop a release)."""
        return not self.blocking

    def to_json(self) -> dict:
        return {"passed": self.passed, "tables": [asdict(t) for t in self.tables],
                "failures": [asdict(f) for f in self.failures]}

    @classmethod
    def from_json(cls, data: dict, docs_dir: str | None) -> "Report":
        """The report of :meth:`to_json` (``validation.json``) again."""
        return cls(tables=[TableResult(**t) for t in data["tables"]],
                   failures=[Failure(**f) for f in data["failures"]], docs_dir=docs_dir)

    def summary_markdown(self, docs_link: str | None = None) -> str:
        return summary_markdown(self.to_json(), docs_link)

    def summary_text(self) -> str:
        return summary_text(self.to_json())


def _status(t: dict) -> str:
    return "FAIL" if t["n_failed_blocking"] else ("warn" if t["n_failed_warning"] else "pass")


def _failure_line(f: dict) -> str:
    keys = f.get("unexpected_keys") or []
    shown = ", ".join(map(str, keys[:MAX_KEYS_IN_SUMMARY])) + (" …" if len(keys) > MAX_KEYS_IN_SUMMARY else "")
    where = f" on {f['column']}" if f.get("column") else ""
    rows = ""
    if f.get("unexpected_count"):
        rows = f" ({f['unexpected_count']} rows; {'/'.join(f.get('key_columns') or ['key'])}: {shown})"
    error = f" [error: {f['error']}]" if f.get("error") else ""
    return f"`{f['table']}` {f['expectation']}{where}: {f['reason']}{rows}{error}"


def summary_markdown(report: dict, docs_link: str | None = None) -> str:
    """Markdown summary (Prefect artifact): pass/fail per table and view, then each failure with keys."""
    lines = ["| table | kind | rows | expectations | blocking failures | warnings | status |",
             "|---|---|---:|---:|---:|---:|---|"]
    for t in report["tables"]:
        lines.append(f"| {t['table']} | {t.get('kind', 'table')} | {t['n_rows']} | {t['n_expectations']} | "
                     f"{t['n_failed_blocking']} | {t['n_failed_warning']} | {_status(t)} |")
    for title, blocking in (("Blocking failures (release stopped)", True), ("Warnings (published)", False)):
        chosen = [f for f in report["failures"] if bool(f["blocking"]) == blocking]
        if chosen:
            lines.append(f"\n**{title}**\n")
            lines += [f"- {_failure_line(f)}" for f in chosen]
    if docs_link:
        lines.append(f"\nFull report (Data Docs): {docs_link}")
    return "\n".join(lines)


def summary_text(report: dict) -> str:
    """The same summary as plain text for the CLI."""
    head = f"{'table':<28} {'kind':<5} {'rows':>7} {'checks':>6} {'blocking':>8} {'warnings':>8}  status"
    lines = ["validation:", head]
    for t in report["tables"]:
        lines.append(f"{t['table']:<28} {t.get('kind', 'table'):<5} {t['n_rows']:>7} {t['n_expectations']:>6} "
                     f"{t['n_failed_blocking']:>8} {t['n_failed_warning']:>8}  {_status(t)}")
    for f in report["failures"]:
        lines.append(("BLOCKING " if f["blocking"] else "warning  ") + _failure_line(f).replace("`", ""))
    return "\n".join(lines)


def summary_text_from_file(validation_json: Path) -> str | None:
    path = Path(validation_json)
    if not path.exists():
        return None
    return summary_text(json.loads(path.read_text(encoding="utf-8")))


MAX_KEYS_IN_INDEX = 200
_INDEX_MARK = 'id="build-validation-summary"'
_INDEX_STYLE = """
#build-validation-summary{font-family:sans-serif;margin:1em 2em;padding:1em;border:1px solid #ccc}
#build-validation-summary table{border-collapse:collapse}
#build-validation-summary td,#build-validation-summary th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
#build-validation-summary .FAIL{color:#b00;font-weight:bold} #build-validation-summary .warn{color:#a60}
#build-validation-summary .pass{color:#070} #build-validation-summary code{word-break:break-all}
"""
# Font Awesome glyphs (served with the report: flows/validate/data_docs.py) beside each status word
_STATUS_ICONS = {"pass": "fa-check-circle", "warn": "fa-exclamation-triangle", "FAIL": "fa-times-circle"}


def _status_html(status: str) -> str:
    return f'<i class="fas {_STATUS_ICONS[status]}" aria-hidden="true"></i> {status}'


def add_summary_to_index(docs_dir: Path, report: Report) -> None:
    """Put the build's summary at the top of the Data Docs ``index.html`` as plain HTML.

    GX's index fills its tables with JavaScript loaded from public CDNs, so offline (or with scripts
    blocked) it lists nothing. This section needs neither: every suite (table and view) with its
    status and links to its validation result and expectation suite pages, then every failed
    expectation with its reason and the keys of the failing rows.
    """
    import html

    docs_dir = Path(docs_dir)
    index = docs_dir / "index.html"
    page = index.read_text(encoding="utf-8")
    if _INDEX_MARK in page:
        return
    esc = html.escape
    rows = []
    for t in report.tables:
        results = sorted((docs_dir / "validations" / t.table).rglob("*.html"))
        result_link = (f'<a href="{esc(results[-1].relative_to(docs_dir).as_posix())}">result</a>'
                       if results else "")
        suite_link = f'<a href="expectations/{esc(t.table)}.html">expectations</a>'
        status = _status(asdict(t))
        rows.append(f"<tr><td>{esc(t.table)}</td><td>{t.kind}</td><td>{t.n_rows}</td><td>{t.n_expectations}</td>"
                    f"<td>{t.n_failed_blocking}</td><td>{t.n_failed_warning}</td>"
                    f'<td class="{status}">{_status_html(status)}</td><td>{result_link} · {suite_link}</td></tr>')
    items = []
    for f in report.failures:
        keys = f.unexpected_keys[:MAX_KEYS_IN_INDEX]
        more = f" … and {len(f.unexpected_keys) - len(keys)} more" if len(f.unexpected_keys) > len(keys) else ""
        key_html = (f"<br>failing rows ({esc('/'.join(f.key_columns))}): "
                    + ", ".join(f"<code>{esc(str(k))}</code>" for k in keys) + more) if keys else ""
        count = f" ({f.unexpected_count} rows)" if f.unexpected_count else ""
        error = f"<br>error: {esc(f.error)}" if f.error else ""
        icon = _STATUS_ICONS["FAIL" if f.blocking else "warn"]
        items.append(f'<li><span class="{"FAIL" if f.blocking else "warn"}"><i class="fas {icon}" aria-hidden="true">'
                     f'</i> {"BLOCKING" if f.blocking else "warning"}</span> <b>{esc(f.table)}</b> '
                     f"<code>{esc(f.expectation)}</code>{' on ' + esc(f.column) if f.column else ''}{count}: "
                     f"{esc(f.reason)}{key_html}{error}</li>")
    verdict = ("PASSED: no blocking failure" + (f", {len(report.warnings)} warning(s)" if report.warnings else "")
               if report.passed else f"FAILED: {len(report.blocking)} blocking expectation(s) failed")
    section = (f"<style>{_INDEX_STYLE}</style><section {_INDEX_MARK}><h2>Validation of this build: "
               f"{esc(verdict)}</h2>"
               "<table><tr><th>suite</th><th>kind</th><th>rows</th><th>expectations</th><th>blocking failures</th>"
               "<th>warnings</th><th>status</th><th>pages</th></tr>" + "".join(rows) + "</table>"
               + (f"<h3>Failed expectations</h3><ul>{''.join(items)}</ul>" if items else "<p>No expectation failed.</p>")
               + "<p><small>Below: Great Expectations' own index. Every page of this report loads its styles, "
               "scripts and icons from the report itself (<code>static/</code>): it works offline."
               "</small></p></section>")
    marker = "<body>"
    at = page.find(marker)
    page = page[: at + len(marker)] + section + page[at + len(marker):] if at >= 0 else section + page
    index.write_text(page, encoding="utf-8")


def foreign_keys(tables) -> dict[tuple[str, str], object]:
    """The keys every foreign key refers to, for ``expect_column_values_to_be_keys_of`` (``tables``:
    the frames, or a :class:`flows.common.parquet_tables.ParquetTables`)."""
    source = LoadedTables.of(tables)
    names = source.names()
    return {(t, c): (source.column(t, c) if t in names else []) for t, c in sorted(referenced_keys())}


def _keys(result: dict, key_columns: list[str]) -> list:
    rows = result.get("unexpected_index_list") or []
    keys = []
    for row in rows:
        if isinstance(row, dict):
            vals = [row.get(c) for c in key_columns]
            keys.append(vals[0] if len(vals) == 1 else vals)
        else:
            keys.append(row)
    return keys


def _clean(value):
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _column_of(kwargs: dict) -> str | None:
    if kwargs.get("column"):
        return kwargs["column"]
    if kwargs.get("column_A"):
        return f"{kwargs['column_A']}, {kwargs['column_B']}"
    if kwargs.get("column_list"):
        return ", ".join(kwargs["column_list"])
    return None


def _union(reads: list[dict[str, set[str]]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for needs in reads:
        for name, columns in needs.items():
            out.setdefault(name, set()).update(columns)
    return out


def frame_to_validate(name: str, tables: dict[str, pd.DataFrame], views: dict) -> pd.DataFrame:
    """A suite's frame: the table, or the view (``views``: :func:`schemas.views`) derived from the
    tables. A view is built when its suite runs and not kept: it carries the joined columns (the
    mentions with their paragraphs' text, ...), so building them all up front held about a copy of
    the corpus' text more than validation needs at once."""
    return schemas.build_view(views[name], tables) if name in views else tables[name]


def _load(source: LoadedTables, needs: dict[str, set[str]]) -> None:
    """``needs`` (:func:`suite_columns`) read into ``source``, long text as Python strings."""
    source.load(needs)
    for table in needs:  # before a view joins them: the join then copies pointers too
        source.frames[table] = frames.with_python_text(source.frames[table])


def suite_frame(source: LoadedTables, name: str, views: dict, needs: dict[str, set[str]]) -> pd.DataFrame:
    """The frame suite ``name`` validates: ``needs`` (:func:`suite_columns`) read into ``source``,
    long text as Python strings, full integer columns as numpy, a view built from its tables."""
    _load(source, needs)
    # after the view's joins, which give an unmatched row a missing value (kept nullable)
    return frames.with_numpy_integers(frame_to_validate(name, source.frames, views))


def _checkpoint(context, name: str, gx_dir: Path):
    try:
        return context.checkpoints.get(name)
    except Exception as exc:
        raise RuntimeError(f"no checkpoint {name!r} in {gx_dir}: run `python -m flows gx-init` "
                           f"after changing schemas/") from exc


def _table_result(name: str, views: dict, result, n_rows: int, failures: list) -> TableResult:
    """Suite ``name``'s line of the report from its GX result; its failures appended to ``failures``."""
    key_columns = list(views[name].primary_key if name in views else schemas.table(name).primary_key)
    n_block = n_warn = 0
    for er in result.results:
        if er.success:
            continue
        cfg = er.expectation_config
        # GX's own severity decides: critical blocks the release, warning/info do not
        blocking = getattr(cfg.severity, "value", cfg.severity) == "critical"
        n_block += blocking
        n_warn += not blocking
        res = er.result or {}
        error = None
        if er.exception_info and er.exception_info.get("raised_exception"):
            error = er.exception_info.get("exception_message")
        failures.append(Failure(
            table=name, expectation=cfg.type, column=_column_of(cfg.kwargs), blocking=blocking,
            reason=cfg.notes or (cfg.meta or {}).get("reason", ""),
            unexpected_count=_clean(res.get("unexpected_count")),
            unexpected_keys=[_clean(k) if not isinstance(k, list) else [_clean(x) for x in k]
                             for k in _keys(res, key_columns)],
            key_columns=key_columns, error=error,
        ))
    n_exp = len(result.results)
    expected = len(expectation_specs(name))
    if n_exp != expected:
        raise RuntimeError(
            f"suite {name!r} ran {n_exp} expectations but schemas/ declares {expected}: GX dropped "
            f"expectations it does not know (is flows/validate/gx_expectations.py imported?) or expectations/ "
            f"is stale (run `python -m flows gx-init`)")
    return TableResult(table=name, success=n_block == 0, n_expectations=n_exp, n_failed_blocking=n_block,
                       n_failed_warning=n_warn, n_rows=n_rows, kind="view" if name in views else "table")


def validate(tables, workdir: Path, gx_dir: Path | None = None, run_name: str = "build",
             between_suites=None, part_rows: int = parts.PART_ROWS) -> Report:
    """Run every suite over ``tables``: the frames of every table of ``schemas/``, or a
    :class:`flows.common.parquet_tables.ParquetTables` (each suite's columns are then read just before it
    runs, and let go once no later suite reads them). The suites that read the paragraphs' text run
    over parts of ``part_rows`` paragraphs when there are more (:mod:`flows.validate.parts`).
    ``between_suites``: called before each suite and after each part (the orchestration hands freed
    memory back to the system there)."""
    source = LoadedTables.of(tables)
    gx_dir = paths.GX_DIR if gx_dir is None else gx_dir
    workdir = Path(workdir)
    project_root = workdir / "gx-project"
    if project_root.exists():
        shutil.rmtree(project_root)
    shutil.copytree(Path(gx_dir) / "gx", project_root / "gx",
                    ignore=shutil.ignore_patterns("uncommitted"))
    missing = [name for name in schemas.tables() if name not in source.names()]
    if missing:
        raise KeyError(f"tables {missing} are defined in schemas/ but were not built")
    views = schemas.views()
    names = suite_names()
    outcomes = {}
    gx_runtime.load_gx()
    from flows.validate.gx_expectations import reference_keys  # after load_gx: it imports GX

    with gx_runtime.LOCK, reference_keys(foreign_keys(source)):
        context = gx_runtime.file_context(project_root)
        from great_expectations.core.run_identifier import RunIdentifier

        run_id = RunIdentifier(run_name=run_name)
        plan = parts.plan(source, names, views, context.suites.get, part_rows)
        in_parts = plan.suites if plan else []
        whole = [name for name in names if name not in in_parts]
        reads = [suite_columns(name, views) for name in whole]
        held = _union([parts.held_needs(suite_columns(name, views)) for name in in_parts])
        for i, name in enumerate(whole):
            df = suite_frame(source, name, views, reads[i])
            if between_suites is not None:
                between_suites()
            checkpoint = _checkpoint(context, name, gx_dir)
            (_, result), = checkpoint.run(batch_parameters={"dataframe": df}, run_id=run_id).run_results.items()
            outcomes[name] = result, len(df)
            del df  # a view is built for its suite only
            gx_runtime.forget_batches(context)  # GX keeps each batch's frame for the context's life
            # the columns later suites read (long text: only what the next one reads)
            later = reads[i + 1:] + [held]
            source.keep(_union(later), later[0])
        if plan:
            _load(source, held)
            outcomes.update(parts.run_in_parts(context, run_id, plan, source, views, between_suites))
        results, failures = [], []
        for name in names:
            result, n_rows = outcomes.pop(name)
            results.append(_table_result(name, views, result, n_rows, failures))
        context.build_data_docs()
    docs = project_root / "gx" / "uncommitted" / "data_docs" / "local_site"
    report = Report(tables=results, failures=failures, docs_dir=str(docs) if docs.exists() else None)
    if docs.exists():
        data_docs.make_offline(docs)  # before the summary: its icons use the fonts copied here
        add_summary_to_index(docs, report)
    (workdir / "validation.json").write_text(json.dumps(report.to_json(), indent=2, default=str), encoding="utf-8")
    return report
