"""Quotes: B2B offers that become orders when accepted."""
