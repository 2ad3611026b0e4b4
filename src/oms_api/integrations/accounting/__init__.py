"""Accounting systems at the edge: QuickBooks Online webhooks and API (inbound payments)."""
