"""Ingest: the raw folder, its manifest, and every entry checked and decoded into a document or a rejection."""
