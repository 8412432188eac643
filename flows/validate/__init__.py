"""Validate: the Great Expectations suites generated from schemas/, run over the built tables."""
