"""Procedure templates are data (procedures/*.toml); this small engine loads, validates and answers questions about them."""
