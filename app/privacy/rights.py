"""Filled in by the issue 13 work."""
