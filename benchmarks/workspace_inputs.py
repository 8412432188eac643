"""The inputs of the flow's cross-document stages, made as the flow makes them from a build's
workspace: what the ``*_memory`` benchmarks measure a stage on.

``build(corpus, work)`` runs ``python -m flows build --cache-dir WORK/cache`` once (the per-document
batches' files); ``accounted(corpus, work)`` then gathers the batches and runs the steps between the
batches and dedup (the outlets' template lines, the rejections), as ``flows.pipeline`` does.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

TABLES = ("sources", "paragraphs", "info", "rejections")


def build(corpus: Path, work: Path) -> None:
    """The batches' files, by the flow itself."""
    subprocess.run([sys.executable, "-m", "flows", "build", "--raw", str(corpus), "--output", str(work / "output"),
                    "--cache-dir", str(work / "cache"), "--no-progress"], check=True)


def accounted(corpus: Path, work: Path) -> tuple[list, dict]:
    """``(batches, tables)``: the workspace's batches of ``corpus`` (``flows.orchestrate.workspace.Batch``)
    and the tables of :data:`TABLES` after templates and rejections, before dedup."""
    from flows import pipeline
    from flows.orchestrate import batches, build, workspace

    files, manifest = batches.fingerprint(Path(corpus))
    plan = batches.plan(files, batches.DEFAULT_BATCH_SIZE)
    root = pipeline.workspace_dir(str(work / "cache"))
    done = [workspace.existing_batch(root, p["key"]) for p in pipeline.batch_inputs(str(corpus), plan, manifest, root)]
    if any(b is None for b in done):
        raise SystemExit(f"the workspace {root} does not hold every batch of {corpus} made by this code: "
                         f"remove {work} and rerun")
    f = {name: workspace.read_frame(path) for name, path in workspace.gather(done, work / "run").items()}
    *accounted_tables, _ = build.post_clean(*(f.pop(name) for name in TABLES))
    return done, dict(zip(TABLES, accounted_tables))


def measured(doc: str, prepared: str, prepare, measure, argv: list[str] | None = None):
    """A ``*_memory`` benchmark's command line (``--corpus DIR --work WORK``, described by ``doc``):
    the workspace built once, ``prepare(corpus, work, queue)`` run once (until ``WORK/<prepared>``
    exists), then ``measure(work, queue)``, each in a fresh process. Returns ``(args, what measure
    put in its queue)``."""
    from benchmarks.step_memory import in_fresh_process
    from flows.orchestrate import settings

    settings.configure()  # the build's environment (Arrow's allocator among it): the fresh processes inherit it
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, required=True, help="the raw folder")
    ap.add_argument("--work", type=Path, required=True, help="folder for the build's batches and the stage's inputs")
    args = ap.parse_args(argv)
    if not (args.work / prepared).exists():
        if not (args.work / "cache").exists():
            build(args.corpus, args.work)
        in_fresh_process(prepare, str(args.corpus), str(args.work))
    return args, in_fresh_process(measure, str(args.work))
