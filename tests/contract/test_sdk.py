"""A Python SDK generated from the committed spec works against a real server.

``openapi-python-client`` is strict about the spec (unions, problem responses, operation ids, media types);
if it warns, client teams get an SDK with silently missing pieces. It runs with no configuration at all, as a
client team would first run it: every operation, PDFs included, must come out. The generated client then
drives a real uvicorn process through a full order flow, so the spec and the server agree on the wire.
"""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from oms_api.kit.auth import Scope
from tests.conftest import KeyMaker, blocking
from tests.contract.conftest import SPEC_PATH, committed_spec, operation_ids
from tests.support.factories import gtin13

pytestmark = pytest.mark.slow

PACKAGE = "oms_sdk_under_test"


def _generator() -> str:
    beside_python = Path(sys.executable).parent / "openapi-python-client"
    found = str(beside_python) if beside_python.exists() else shutil.which("openapi-python-client")
    assert found, "openapi-python-client is not installed (it is a dev dependency)"
    return found


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The SDK generated from openapi/openapi.json, imported as a package."""
    root = tmp_path_factory.mktemp("sdk")
    # The venv's bin on PATH: the generator formats its output with ruff (a dev dependency), and warns without it.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            _generator(),
            "generate",
            "--path",
            str(SPEC_PATH),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"openapi-python-client failed:\n{output}"
    assert "warning" not in output.lower(), f"openapi-python-client warned about the spec:\n{output}"
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real uvicorn process on a migrated SQLite database: (base url, admin key)."""
    workdir = tmp_path_factory.mktemp("server")
    db = workdir / "oms.db"
    shutil.copyfile(sqlite_template, db)
    url = f"sqlite+aiosqlite:///{db}"
    keys: list[str] = []

    async def make_admin_key() -> None:
        keys.append(await KeyMaker(url)(Scope.ADMIN.value, name="sdk"))

    blocking(make_admin_key())
    port = _free_port()
    env = {**os.environ, "OMS_DATABASE_URL": url, "OMS_LOG_LEVEL": "warning", "OMS_AUTO_MIGRATE": "false"}
    log = (workdir / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "oms_api.asgi:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=workdir,  # away from the checkout's .env
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"uvicorn exited with {process.returncode}:\n{(workdir / 'server.log').read_text()}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not start:\n{(workdir / 'server.log').read_text()}")
            time.sleep(0.1)
        yield base_url, keys[0]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


class Sdk:
    """Calls generated operations by operationId, building bodies from plain dicts via the generated models."""

    def __init__(self, package: ModuleType, base_url: str, key: str) -> None:
        self.package = package
        self.models = importlib.import_module(f"{package.__name__}.models")
        self.client = package.AuthenticatedClient(base_url=base_url, token=key, raise_on_unexpected_status=True)
        self.spec = committed_spec()
        self.operations: dict[str, tuple[str, str, dict[str, Any]]] = {
            op["operationId"]: (method, path, op)
            for path, item in self.spec["paths"].items()
            for method, op in item.items()
            if isinstance(op, dict) and "operationId" in op
        }

    def has(self, operation_id: str) -> bool:
        return operation_id in self.operations

    def operation_at(self, method: str, path: str) -> str | None:
        op = self.spec["paths"].get(path, {}).get(method.lower())
        return op["operationId"] if op else None

    def _module(self, operation_id: str) -> ModuleType:
        assert self.package.__file__ is not None
        api_dir = Path(self.package.__file__).parent / "api"
        matches = list(api_dir.glob(f"*/{operation_id}.py"))
        assert len(matches) == 1, f"no single generated module for {operation_id}: {matches}"
        return importlib.import_module(f"{self.package.__name__}.api.{matches[0].parent.name}.{operation_id}")

    def _model_name(self, schema: dict[str, Any], body: dict[str, Any]) -> str:
        """The generated model for ``body``: the schema's own, or the union member the body is."""
        if "$ref" in schema:
            return str(schema["$ref"]).rsplit("/", 1)[-1]
        discriminator = schema.get("discriminator")
        if discriminator:
            return str(discriminator["mapping"][body[discriminator["propertyName"]]]).rsplit("/", 1)[-1]
        components = self.spec["components"]["schemas"]
        for option in schema.get("oneOf", []) + schema.get("anyOf", []):
            name = str(option.get("$ref", "")).rsplit("/", 1)[-1]
            member = components.get(name, {})
            if set(member.get("required", [])) <= set(body) <= set(member.get("properties", {})):
                return name
        raise AssertionError(f"no request model fits {body} in {schema}")

    def call(self, operation_id: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        kwargs: dict[str, Any] = dict(params)
        if body is not None:
            schema = self.operations[operation_id][2]["requestBody"]["content"]["application/json"]["schema"]
            kwargs["body"] = getattr(self.models, self._model_name(schema, body)).from_dict(body)
        return self._module(operation_id).sync_detailed(client=self.client, **kwargs)

    def ok(self, operation_id: str, status: int, body: dict[str, Any] | None = None, **params: Any) -> Any:
        """The parsed model of a call that must answer ``status``."""
        response = self.call(operation_id, body, **params)
        assert response.status_code == status, f"{operation_id}: {response.status_code} {response.content!r}"
        assert not isinstance(response.parsed, self.models.Problem), response.content
        return response.parsed


@pytest.fixture(scope="module")
def sdk_client(sdk: ModuleType, server: tuple[str, str]) -> Sdk:
    return Sdk(sdk, *server)


def test_the_sdk_generates_without_warnings_and_imports(sdk: ModuleType) -> None:
    assert hasattr(sdk, "AuthenticatedClient")
    assert hasattr(importlib.import_module(f"{PACKAGE}.models"), "Problem")


def test_the_sdk_has_a_module_for_every_operation(sdk: ModuleType) -> None:
    """A response the generator cannot read drops silently; so check each operation came out whole."""
    assert sdk.__file__ is not None
    api_dir = Path(sdk.__file__).parent / "api"
    generated = {module.stem: module for module in api_dir.glob("*/*.py") if module.stem != "__init__"}
    spec_ids = operation_ids(committed_spec())
    assert spec_ids, "the committed spec has no operations"
    missing = sorted(spec_ids - set(generated))
    assert not missing, f"openapi-python-client generated no module for {missing}"
    for operation_id in sorted(spec_ids):
        module = importlib.import_module(f"{PACKAGE}.api.{generated[operation_id].parent.name}.{operation_id}")
        assert callable(getattr(module, "sync_detailed", None)), f"{operation_id} has no sync_detailed()"


def test_the_sdk_reads_and_writes_skus_on_a_real_server(sdk_client: Sdk) -> None:
    code = f"SDK-{uuid.uuid4().hex[:8]}"
    created = sdk_client.ok("skus_create", 201, {"sku": code, "name": "SDK mug", "barcode": gtin13(4242)})
    assert created.sku == code
    fetched = sdk_client.ok("skus_get", 200, sku=code)
    assert fetched.id == created.id
    assert sdk_client.ok("skus_update", 200, {"name": "SDK cup"}, sku=code, if_match='"1"').version == 2
    unknown = sdk_client.call("skus_get", sku="NOPE-" + code)
    assert unknown.status_code == 404
    assert unknown.parsed.code == "sku_not_found"


def test_an_order_placed_through_the_sdk_can_be_read_and_cancelled(sdk_client: Sdk) -> None:
    missing = [op for op in ("orders_create", "orders_get", "orders_cancel") if not sdk_client.has(op)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not in openapi/openapi.json yet (orders are being written)")
    run = uuid.uuid4().hex[:8]
    sku = sdk_client.ok("skus_create", 201, {"sku": f"SDK-ORD-{run}", "name": "SDK order item"})
    warehouse_op = sdk_client.operation_at("post", "/v1/warehouses")
    receipt_op = sdk_client.operation_at("post", "/v1/stock-movements")
    channel_op = sdk_client.operation_at("post", "/v1/channels")
    assert warehouse_op, "placing an order needs POST /v1/warehouses"
    assert receipt_op, "placing an order needs POST /v1/stock-movements"
    assert channel_op, "placing an order needs POST /v1/channels"
    address = {"line1": "1 Dock Road", "city": "Berlin", "postal_code": "10115", "country": "DE"}
    warehouse = sdk_client.ok(
        warehouse_op,
        201,
        {"code": f"WH-{run}", "name": "SDK warehouse", "address": address, "latitude": 52.5, "longitude": 13.4},
    )
    sdk_client.ok(receipt_op, 201, {"type": "receipt", "sku": sku.sku, "warehouse": warehouse.code, "quantity": 5})
    channel = sdk_client.ok(
        channel_op, 201, {"code": f"sdk-{run}", "name": "SDK shop", "type": "web", "default_currency": "EUR"}
    )
    order_body = {
        "channel": channel.code,
        "external_ref": f"SDK-{run}",
        "currency": "EUR",
        "customer": {"email": f"sdk-{run}@example.com", "first_name": "Ada", "last_name": "Lovelace"},
        "shipping_address": {**address, "name": "Ada Lovelace"},
        "lines": [{"sku": sku.sku, "quantity": 2, "unit_price": {"amount": "12.50", "currency": "EUR"}}],
    }
    order = sdk_client.ok("orders_create", 201, order_body)
    assert order.status != "cancelled"
    read = sdk_client.ok("orders_get", 200, order_id=order.id)
    assert read.id == order.id
    assert read.external_ref == f"SDK-{run}"
    assert [(line.sku, line.quantity) for line in read.lines] == [(sku.sku, 2)]
    receipt = sdk_client.ok("orders_receipt_pdf", 200, order_id=order.id)
    assert isinstance(receipt, importlib.import_module(f"{PACKAGE}.types").File), type(receipt)
    assert receipt.payload.read().startswith(b"%PDF-"), "the SDK returns the receipt's bytes"
    cancelled = sdk_client.ok("orders_cancel", 200, {"reason": "customer changed their mind"}, order_id=order.id)
    assert cancelled.status == "cancelled"
    assert sdk_client.ok("orders_get", 200, order_id=order.id).status == "cancelled"
