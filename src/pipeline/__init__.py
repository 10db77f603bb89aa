"""Versioned, validated datasets of source-traceable facts from diplomatic documents."""

__version__ = "0.1.0"
