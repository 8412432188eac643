"""Frames handed from one task of the flow to the next without Prefect keeping them alive.

Prefect 3 keeps every task run's parameters and result referenced until the flow run ends (the run
context links each result to its state, and each state holds its result). Frames passed from stage
to stage as task arguments would therefore all stay in memory to the end of a build: the documents
stage's paragraphs next to dedup's, the band keys, and every record table while the release is
written. A task given a :class:`Handover` takes the frames out (:meth:`Handover.take`)
and returns a new one with what it made; what Prefect keeps is an empty box, and each frame lives as
long as a stage uses it.

A box is taken once: a task that takes one cannot be retried from its inputs (the build's tasks
that take one have no retries; a failed build is run again from the raw files).
"""

from __future__ import annotations


class Handover:
    """A box of named objects (frames) for the next task: ``Handover(paragraphs=df)``."""

    def __init__(self, **items):
        self._items = items
        self._taken = False

    def take(self) -> dict:
        """The objects, once; the box is empty afterwards."""
        if self._taken:
            raise RuntimeError("this Handover was already taken: a task took its frames before (a retry?)")
        items, self._items, self._taken = self._items, {}, True
        return items

    def __repr__(self) -> str:  # Prefect logs task parameters
        state = "taken" if self._taken else ", ".join(sorted(self._items))
        return f"Handover({state})"
