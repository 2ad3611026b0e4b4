"""Plumbing that knows no business context."""
