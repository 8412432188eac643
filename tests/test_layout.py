"""The code's shape: flows/ is packages by stage, no module imports another in a cycle, and the stages
know nothing of orchestration."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("common", "ingest", "clean", "dedup", "extract", "views")


def _modules() -> dict[str, Path]:
    out = {}
    for p in ROOT.joinpath("flows").rglob("*.py"):
        name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = p
    return out


def _imports(path: Path, modules: dict) -> set[str]:
    """Every module of flows/ (or outside package) that ``path`` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    return out


def test_no_module_of_flows_imports_another_in_a_cycle():
    modules = _modules()
    edges = {m: {i for i in _imports(p, modules) if i in modules and i != m} for m, p in modules.items()}
    assert _cycles(edges) == []


def test_the_stages_know_nothing_of_orchestration():
    """Stage code is plain functions over tables: no Prefect, no flow, no orchestration helpers."""
    modules = _modules()
    for name, path in modules.items():
        if len(name.split(".")) < 2 or name.split(".")[1] not in STAGES:
            continue
        imported = _imports(path, modules)
        bad = sorted(i for i in imported if i.split(".")[0] == "prefect" or i == "flows.pipeline"
                     or i.startswith(("flows.orchestrate", "flows.publish", "flows.validate")))
        assert not bad, f"{name} imports {bad}"


def test_validation_and_publishing_know_nothing_of_orchestration():
    """They are stages too (the flow runs validation in a child process: flows/orchestrate/)."""
    modules = _modules()
    for name, path in modules.items():
        if name.split(".")[1:2] not in (["validate"], ["publish"]):
            continue
        bad = sorted(i for i in _imports(path, modules)
                     if i.split(".")[0] == "prefect" or i == "flows.pipeline" or i.startswith("flows.orchestrate"))
        assert not bad, f"{name} imports {bad}"


def test_no_stage_module_manages_memory_or_processes():
    """Garbage collection, trimming the heap and child processes are the orchestration's (written once)."""
    import re

    managing = re.compile(r"\bgc\.(collect|freeze|disable|enable)|malloc_trim|release_memory|gc_paused|"
                          r"ProcessPoolExecutor|subprocess\.Popen|multiprocessing")
    for path in ROOT.joinpath("flows").rglob("*.py"):
        package = path.relative_to(ROOT / "flows").parts[0]
        if package in ("orchestrate", "pipeline.py", "cli.py", "deploy.py", "__main__.py"):
            continue
        found = managing.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.relative_to(ROOT)}: {sorted(set(found))}"


def test_flows_is_packages_by_stage():
    top = sorted(p.name for p in ROOT.joinpath("flows").glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "cli.py", "deploy.py", "pipeline.py"]
    for package in (*STAGES, "validate", "publish", "orchestrate"):
        assert ROOT.joinpath("flows", package, "__init__.py").is_file(), package
