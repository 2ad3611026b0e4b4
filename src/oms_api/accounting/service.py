"""The accounting context's service: what its routers (and other contexts, should they need it) may ask.

The use cases live in modules named after them:

- ``chart``: the chart of accounts (defaults made on first use);
- ``posting``: writing an entry, once per fact, with its base amounts and FX differences;
- ``handlers``: the facts of other contexts posted (subscribed in ``oms_api.bootstrap``);
- ``journal``: reading entries, manual entries, reversals;
- ``trial_balance``; ``exports`` (``export_formats``: QuickBooks, Xero, CSV);
- ``inbound``: QuickBooks' notifications of payments, applied to invoices.
"""

from __future__ import annotations

from oms_api.accounting.chart import create_account, get_account, list_accounts, patch_account
from oms_api.accounting.export_formats import exact_json
from oms_api.accounting.exports import Exported, export
from oms_api.accounting.inbound import receive_quickbooks
from oms_api.accounting.journal import create_manual, get_entry, list_entries, reverse
from oms_api.accounting.trial_balance import trial_balance

__all__ = [
    "Exported",
    "create_account",
    "create_manual",
    "exact_json",
    "export",
    "get_account",
    "get_entry",
    "list_accounts",
    "list_entries",
    "patch_account",
    "receive_quickbooks",
    "reverse",
    "trial_balance",
]
