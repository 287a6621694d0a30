"""Shishi (实事): practical matters for the people."""

__version__ = "0.1.0"
