"""Payments: an order's money from authorisation to refund, as an append-only ledger per payment."""
