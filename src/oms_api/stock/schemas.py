"""HTTP contract of warehouses, stock levels, the movement ledger and availability."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Discriminator,
    Field,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_core.core_schema import ErrorType

from oms_api.kit.schemas import (
    MULTI_LINE,
    SINGLE_LINE,
    Address,
    Code,
    Name,
    OutModel,
    Page,
    StrictModel,
    check_country,
)
from oms_api.stock.domain import MAX_MOVEMENT_QUANTITY, AdjustmentReason

Latitude = Annotated[float, Field(ge=-90, le=90, description="WGS 84 degrees; give longitude too")]
Longitude = Annotated[float, Field(ge=-180, le=180, description="WGS 84 degrees; give latitude too")]
Priority = Annotated[
    int, Field(ge=-1000, le=1000, description="Sourcing preference: higher is preferred when stock allows")
]
ServedCountry = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(check_country)]
ServesCountries = Annotated[
    list[ServedCountry],
    Field(
        max_length=300,
        description="ISO 3166-1 alpha-2 countries it ships to; empty: everywhere (others are not sourced here)",
        examples=[["DE", "AT"]],
    ),
    AfterValidator(lambda codes: sorted(set(codes))),
]
Ref = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=SINGLE_LINE), Field(description="Code or id")
]
Reference = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=SINGLE_LINE),
    Field(description="External document, e.g. a PO number"),
]
Note = Annotated[str, StringConstraints(max_length=500, pattern=MULTI_LINE)]
Threshold = Annotated[int, Field(ge=0, le=1_000_000_000)]
Quantity = Annotated[int, Field(ge=1, le=MAX_MOVEMENT_QUANTITY, description="Units, at least 1")]
SignedQuantity = Annotated[
    int,
    Field(
        ge=-MAX_MOVEMENT_QUANTITY,
        le=MAX_MOVEMENT_QUANTITY,
        description="Units added (positive) or removed (negative); never 0",
    ),
]


def _in_utc(value: datetime) -> datetime:
    """The instant in UTC; refuse instants UTC cannot express (e.g. 0001-01-01T00:00+01:00) instead of a 500."""
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is outside the range of dates this API stores") from exc


UtcTimestamp = Annotated[AwareDatetime, AfterValidator(_in_utc)]


def _refuse_null(value: Any) -> Any:
    if value is None:
        raise ValueError("may be left out but not set to null")
    return value


# --- warehouses -------------------------------------------------------------------------------------------------


class WarehouseCreate(StrictModel):
    code: Code
    name: Name
    address: Address | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    active: bool = True
    priority: Priority = 0
    serves_countries: ServesCountries = Field(default_factory=list)


class WarehouseUpdate(StrictModel):
    """Fields to change; absent fields stay as they are. The code never changes."""

    name: Name | None = None
    address: Address | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    active: bool | None = None
    priority: Priority | None = None
    serves_countries: ServesCountries | None = None

    @field_validator("name", "active", "priority", "serves_countries")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _refuse_null(value)


class Warehouse(OutModel):
    id: uuid.UUID
    code: str
    name: str
    address: Address | None
    latitude: float | None
    longitude: float | None
    active: bool
    priority: int
    serves_countries: list[str] = Field(description="Countries it ships to; empty: everywhere")
    version: int
    created_at: datetime
    updated_at: datetime

    @field_validator("serves_countries", mode="before")
    @classmethod
    def _everywhere(cls, value: Any) -> Any:
        return value or []


class WarehouseList(Page[Warehouse]):
    pass


# --- stock levels -----------------------------------------------------------------------------------------------


class StockLevel(OutModel):
    id: uuid.UUID
    sku: str = Field(description="The SKU's code")
    sku_id: uuid.UUID
    warehouse: str = Field(description="The warehouse's code")
    warehouse_id: uuid.UUID
    on_hand: int = Field(description="Units physically in the warehouse")
    reserved: int = Field(description="Units held for orders")
    available: int = Field(description="on_hand - reserved: what can still be promised")
    reorder_point: int | None
    safety_stock: int
    version: int
    updated_at: datetime


class StockLevelList(Page[StockLevel]):
    pass


class StockLevelUpdate(StrictModel):
    """Replenishment settings; quantities change only through stock movements."""

    reorder_point: Threshold | None = Field(
        None, description="Reorder when available stock falls to this (null: never)"
    )
    safety_stock: Threshold | None = None

    @field_validator("safety_stock")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _refuse_null(value)


# --- stock movements --------------------------------------------------------------------------------------------


class ReceiptCreate(StrictModel):
    """Goods arrived: on_hand grows by ``quantity`` (the stock level is created if needed)."""

    type: Literal["receipt"]
    sku: Ref
    warehouse: Ref
    quantity: Quantity
    reference: Reference | None = None
    note: Note | None = None


class AdjustmentCreate(StrictModel):
    """A correction: ``cycle_count`` either way, ``damage``/``loss`` negative, ``found`` positive."""

    type: Literal["adjustment"]
    sku: Ref
    warehouse: Ref
    quantity: SignedQuantity
    reason: AdjustmentReason
    reference: Reference | None = None
    note: Note | None = None

    @field_validator("quantity")
    @classmethod
    def _non_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("an adjustment must change the quantity (it may not be 0)")
        return value


class TransferCreate(StrictModel):
    """Move available stock between two warehouses, both sides in one transaction."""

    type: Literal["transfer"]
    sku: Ref
    from_warehouse: Ref
    to_warehouse: Ref
    quantity: Quantity
    reference: Reference | None = None
    note: Note | None = None


_MOVEMENT_TAGS = frozenset({"receipt", "adjustment", "transfer"})
_BUILT_IN_ERRORS = frozenset(get_args(ErrorType))


def _untagged_errors(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Point validation errors at the body's own fields: pydantic prefixes them with the union's tag
    (``/body/receipt/quantity``), which is not a JSON pointer into what the client sent."""
    try:
        return handler(value)
    except ValidationError as exc:
        details: list[Any] = []
        for error in exc.errors():
            loc = error["loc"]
            if loc and loc[0] in _MOVEMENT_TAGS:
                loc = loc[1:]
            elif not loc and error["type"].startswith("union_tag"):
                loc = ("type",)
            kind: Any = error["type"]
            if kind not in _BUILT_IN_ERRORS:  # a custom error (control_character…) is re-raised as one
                kind = PydanticCustomError(kind, error["msg"])
            detail: dict[str, Any] = {"type": kind, "loc": loc, "input": error["input"]}
            if "ctx" in error:
                detail["ctx"] = error["ctx"]
            details.append(detail)
        raise ValidationError.from_exception_data(exc.title, details) from None


MovementCreate = Annotated[
    ReceiptCreate | AdjustmentCreate | TransferCreate,
    Discriminator("type"),
    WrapValidator(_untagged_errors),
]


class StockMovement(OutModel):
    id: uuid.UUID
    type: str = Field(description="receipt, adjustment, transfer_out, transfer_in, reservation, release, …")
    sku: str
    sku_id: uuid.UUID
    warehouse: str
    warehouse_id: uuid.UUID
    on_hand_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    reason: str | None
    reference: str | None
    group_id: uuid.UUID | None = Field(description="Shared by the rows of one transfer or one order")
    note: str | None
    actor: str | None
    created_at: datetime


class StockMovementList(Page[StockMovement]):
    pass


class StockMovementResult(OutModel):
    """The ledger rows a movement wrote and the stock levels as they now stand."""

    movements: list[StockMovement]
    stock_levels: list[StockLevel]


# --- availability -----------------------------------------------------------------------------------------------


class WarehouseAvailability(OutModel):
    warehouse: str
    warehouse_id: uuid.UUID
    warehouse_active: bool
    on_hand: int
    reserved: int
    available: int


class Availability(OutModel):
    """Available-to-promise of one SKU: the totals and each warehouse (best-preferred first)."""

    sku: str
    sku_id: uuid.UUID
    on_hand: int
    reserved: int
    available: int
    warehouses: list[WarehouseAvailability]
