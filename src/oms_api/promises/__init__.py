"""Delivery promises: what a storefront can promise at checkout, before the order exists."""
