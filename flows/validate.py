"""Validate: run the committed Great Expectations suites over the tables of a build.

``validate(tables, workdir)`` copies the committed GX project (``expectations/gx``) into ``workdir``
(so the committed files are only read and each run's results and Data Docs stand alone), runs one
checkpoint per table, and returns a :class:`Report`: pass/fail per table, blocking failures and
warnings with the failing rows' keys, and the folder of the Data Docs HTML site.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

import schemas
from flows import gx_runtime
from flows.gx_suites import fk_parameter, fk_parameters_needed
from flows.paths import GX_DIR

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


@dataclass
class TableResult:
    table: str
    success: bool
    n_expectations: int
    n_failed_blocking: int
    n_failed_warning: int
    n_rows: int


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

    def summary_markdown(self, docs_link: str | None = None) -> str:
        lines = ["| table | rows | expectations | blocking failures | warnings | status |",
                 "|---|---:|---:|---:|---:|---|"]
        for t in self.tables:
            status = "FAIL" if t.n_failed_blocking else ("warn" if t.n_failed_warning else "pass")
            lines.append(f"| {t.table} | {t.n_rows} | {t.n_expectations} | {t.n_failed_blocking} | "
                         f"{t.n_failed_warning} | {status} |")
        for f in self.failures:
            kind = "BLOCKING" if f.blocking else "warning"
            keys = ", ".join(map(str, f.unexpected_keys[:MAX_KEYS_IN_SUMMARY]))
            lines.append(f"\n- **{kind}** `{f.table}` {f.expectation}"
                         f"{' on ' + f.column if f.column else ''}: {f.reason}"
                         f"{' (' + str(f.unexpected_count) + ' rows: ' + keys + ')' if f.unexpected_count else ''}")
        if docs_link:
            lines.append(f"\nFull report (Data Docs): {docs_link}")
        return "\n".join(lines)


def fk_parameters(tables: dict[str, pd.DataFrame]) -> dict[str, list]:
    return {
        fk_parameter(t, c): (tables[t][c].dropna().astype(str).unique().tolist() if t in tables else [])
        for t, c in sorted(fk_parameters_needed())
    }


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


def validate(tables: dict[str, pd.DataFrame], workdir: Path, gx_dir: Path = GX_DIR) -> Report:
    workdir = Path(workdir)
    project_root = workdir / "gx-project"
    if project_root.exists():
        shutil.rmtree(project_root)
    shutil.copytree(Path(gx_dir) / "gx", project_root / "gx",
                    ignore=shutil.ignore_patterns("uncommitted"))
    params = fk_parameters(tables)
    results, failures = [], []
    with gx_runtime.LOCK:
        context = gx_runtime.file_context(project_root)
        for name, t in schemas.tables().items():
            df = tables[name]
            checkpoint = context.checkpoints.get(name)
            run = checkpoint.run(batch_parameters={"dataframe": df}, expectation_parameters=params)
            n_block = n_warn = n_exp = 0
            for vr in run.run_results.values():
                for er in vr.results:
                    n_exp += 1
                    if er.success:
                        continue
                    cfg = er.expectation_config
                    blocking = bool(cfg.meta.get("blocking", True)) if cfg.meta else True
                    n_block += blocking
                    n_warn += not blocking
                    res = er.result or {}
                    failures.append(Failure(
                        table=name, expectation=cfg.type, column=cfg.kwargs.get("column"), blocking=blocking,
                        reason=cfg.notes or (cfg.meta or {}).get("reason", ""),
                        unexpected_count=_clean(res.get("unexpected_count")),
                        unexpected_keys=[_clean(k) if not isinstance(k, list) else [_clean(x) for x in k]
                                         for k in _keys(res, list(t.primary_key))] if (t := schemas.table(name)) else [],
                    ))
                    if er.exception_info and er.exception_info.get("raised_exception"):
                        failures[-1].reason += f" [error: {er.exception_info.get('exception_message')}]"
            results.append(TableResult(table=name, success=n_block == 0, n_expectations=n_exp,
                                       n_failed_blocking=n_block, n_failed_warning=n_warn, n_rows=len(df)))
    docs = project_root / "gx" / "uncommitted" / "data_docs" / "local_site"
    report = Report(tables=results, failures=failures, docs_dir=str(docs) if docs.exists() else None)
    (workdir / "validation.json").write_text(json.dumps(report.to_json(), indent=2, default=str), encoding="utf-8")
    return report
