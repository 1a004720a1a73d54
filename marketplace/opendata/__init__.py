"""Open data exports: the whole OCDS release package as one gzipped file, rebuilt by the worker."""
