"""Dedup: exact and near repeats of paragraphs, and clusters of the same text across the corpus."""
