"""Invoices: legal entities, gap-free document series, invoices and credit notes, what customers paid against them,
and receivables (credit limits, AR aging)."""
