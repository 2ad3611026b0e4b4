"""Invoice rules (pure): the document as renderers see it, numbering, settlement statuses, terms and aging."""
