"""Transparency and audit: public outcomes, OCDS open data, and the hash-chained audit trail."""
