"""``python -m oms_api.cli``: the same as the ``oms-api`` console script."""

from oms_api.cli import main

raise SystemExit(main())
