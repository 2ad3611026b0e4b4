"""Accounting: the chart of accounts, the double-entry journal every financial fact is posted to, the trial
balance, and exports to QuickBooks, Xero and CSV."""
