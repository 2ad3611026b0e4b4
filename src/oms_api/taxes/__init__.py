"""Taxes: tax categories (of SKUs), rates by country, region, category and validity, and the tax arithmetic."""
