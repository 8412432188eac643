"""Publish: the versioned release (Parquet, CSV, datapackage, dictionary, diff), the catalog, serving and downloading."""
