"""Exchange rates: reference rates per date, lookups on or before a date, and conversion to the base currency."""
