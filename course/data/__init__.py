"""Provenance of the data bundled in seqkeras/data/files (see build.py)."""
