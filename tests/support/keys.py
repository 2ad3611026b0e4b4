"""The secret key of a test run (``OMS_SECRET_KEY``): made once per process, handed to every app and process.

PostgreSQL deployments refuse to start without a key, and what one test process seals the API processes and
workers it starts must unseal, so they all get this one.
"""

from __future__ import annotations

from oms_api.kit.secrets import KEY_ENV, generate_key

TEST_SECRET_KEY = generate_key()
SECRET_KEY_ENV = {KEY_ENV: TEST_SECRET_KEY}
"""For the environment of processes the tests start (they drop every inherited ``OMS_`` variable)."""
