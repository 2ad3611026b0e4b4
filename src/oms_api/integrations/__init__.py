"""Adapters at the edge: storefronts push orders in (Shopify, WooCommerce), each behind the port in ``base``."""
