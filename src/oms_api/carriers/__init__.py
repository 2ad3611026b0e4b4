"""Carriers, their services and rate tables, and delivery promises."""
