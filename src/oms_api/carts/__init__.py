"""Carts: a shopper's basket that holds its stock until checkout, expiry or abandonment."""
