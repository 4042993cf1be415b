"""Stored models of this package (none yet)."""
