"""Inbound storefront deliveries: stored raw first, answered at once, then applied to orders."""
