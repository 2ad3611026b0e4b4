"""Payment gateways behind one port (``base``): the built-in test gateway (``testing``) and Stripe
(``stripe_gateway``). Pure adapters: they move money at the gateway and answer what happened; the payments
context keeps the ledger."""
