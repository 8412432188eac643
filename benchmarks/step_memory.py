"""Resident memory by step, for the ``*_memory`` benchmarks: a thread samples the process's resident
memory (psutil, every 5 ms) while functions wrapped by :meth:`StepSampler.wrap` label the samples with
the step running; the code between two steps is labelled "after <previous step>"."""

from __future__ import annotations

import functools
import threading
import time


class StepSampler:
    """Use as a context manager around the run; ``rows`` then holds one row per labelled interval
    (step, seconds, peak and end resident bytes). :func:`by_step` sums them by step."""

    def __init__(self):
        import psutil

        self.proc = psutil.Process()
        self.rows: list[dict] = []
        self._state = {"label": "start", "peak": 0, "t": time.perf_counter(), "stop": False}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def rss(self) -> int:
        return self.proc.memory_info().rss

    def close(self, label_after: str) -> None:
        """End the interval running now and start one labelled ``label_after``."""
        rss = self.rss()
        now = time.perf_counter()
        with self._lock:
            state = self._state
            self.rows.append({"step": state["label"], "s": now - state["t"], "peak": max(state["peak"], rss),
                              "end": rss})
            state.update(label=label_after, peak=rss, t=now)

    def _sample(self) -> None:
        while not self._state["stop"]:
            rss = self.rss()
            with self._lock:
                self._state["peak"] = max(self._state["peak"], rss)
            time.sleep(0.005)

    def wrap(self, module, name: str, label: str | None = None) -> None:
        """Replace ``module.name`` by the same function labelling its samples ``label`` (default
        ``name``)."""
        fn = getattr(module, name)
        label = label or name

        @functools.wraps(fn)
        def inner(*args, **kwargs):
            self.close(label)
            try:
                return fn(*args, **kwargs)
            finally:
                self.close(f"after {label}")

        setattr(module, name, inner)

    def __enter__(self) -> StepSampler:
        self._thread.start()
        self.close("start")
        self.rows.clear()
        return self

    def __exit__(self, *exc) -> None:
        self.close("end")
        self._state["stop"] = True
        self._thread.join()


def by_step(rows: list[dict]) -> dict[str, dict]:
    """Step -> its seconds (summed over its intervals), peak and last end resident bytes, in order."""
    steps: dict[str, dict] = {}
    for row in rows:
        step = steps.setdefault(row["step"], {"s": 0.0, "peak": 0})
        step.update(s=step["s"] + row["s"], peak=max(step["peak"], row["peak"]), end=row["end"])
    return steps


def in_fresh_process(target, *args):
    """``target(*args, queue)`` in a spawned process (none of this one's memory resident in it); what
    it put in ``queue``. Exits with the child's code when it ends without putting anything."""
    import multiprocessing as mp
    import queue as queues

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    while True:  # read before joining: a large result would fill the pipe and block the child
        try:
            result = q.get(timeout=1)
            break
        except queues.Empty:
            if not p.is_alive():
                raise SystemExit(p.exitcode or 1)
    p.join()
    return result


def print_steps(rows: list[dict]) -> None:
    """The table of :func:`by_step`: seconds, peak and end resident MB a step, and the peak."""
    mb = 1024 * 1024
    print("step".ljust(28) + "s".rjust(8) + "peak MB".rjust(10) + "end MB".rjust(10))
    for name, row in by_step(rows).items():
        if row["s"] < 0.01 and row["peak"] == row["end"]:
            continue
        print(name.ljust(28) + f"{row['s']:8.2f}{row['peak'] / mb:10.0f}{row['end'] / mb:10.0f}")
    print(f"peak resident {max(row['peak'] for row in rows) / mb:.0f} MB")
