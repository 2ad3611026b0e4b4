"""ASGI entry point for uvicorn workers: ``uvicorn oms_api.asgi:app``."""

from oms_api.app import create_app

app = create_app()
