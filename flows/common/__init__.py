"""Helpers every stage shares: where things live, ids, Arrow/pandas column helpers, the Parquet tables of a build, temporary folders."""
