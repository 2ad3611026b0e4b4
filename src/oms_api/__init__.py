"""oms-api: a headless order management system."""

__version__ = "0.1.0"
