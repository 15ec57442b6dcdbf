"""What the in-memory unit of work stores: one ``MemoryTables`` is the whole "database".

Each field is a table keyed by its primary key, holding the values the SQL adapter would
have written (domain objects, copied in and out, so a caller's later changes to an object
never reach the store without a write). ``MemorySession`` is what a repository is bound
to: the working copy of one unit of work, and the check that refuses writes to a
read-only one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from oms.domain.carts import CartReservation
from oms.domain.catalogue import Location, Product
from oms.domain.inventory import Movement
from oms.domain.orders import Order
from oms.domain.pricing import DiscountCode
from oms.domain.risk import RiskRule
from oms.domain.tenancy import Tenant
from oms.services.ports import ApiKeyRecord, CustomerRecord, IdempotencyRecord, OutboxMessage

if TYPE_CHECKING:
    from oms.services.store_credit import StoreCreditEntry

__all__ = [
    "MemorySession",
    "MemoryTables",
    "ReadOnlyUnitOfWorkError",
    "StoredLevel",
    "StoredTenant",
]


class ReadOnlyUnitOfWorkError(RuntimeError):
    """A write was asked of a unit of work opened with ``readonly=True``."""


@dataclass
class StoredTenant:
    tenant: Tenant
    settings: dict[str, Any] | None = None
    last_order_number: int = 1000


@dataclass
class StoredLevel:
    on_hand: int
    reserved: int
    safety_stock: int
    updated_at: datetime


@dataclass
class MemoryTables:
    """Every table the implemented repositories keep, keyed as in the SQL schema."""

    tenants: dict[UUID, StoredTenant] = field(default_factory=dict)
    api_keys: dict[UUID, tuple[ApiKeyRecord, datetime | None]] = field(default_factory=dict)
    products: dict[tuple[UUID, UUID], Product] = field(default_factory=dict)
    locations: dict[UUID, Location] = field(default_factory=dict)
    location_grants: dict[tuple[UUID, UUID], datetime] = field(default_factory=dict)
    levels: dict[tuple[UUID, str, UUID], StoredLevel] = field(default_factory=dict)
    # The ledger, per tenant, in insertion (and so id) order.
    movements: dict[UUID, list[Movement]] = field(default_factory=dict)
    # Stock-push markers (``stock_changes``): (tenant, sku, location) -> first change.
    stock_changes: dict[tuple[UUID, str, UUID], datetime] = field(default_factory=dict)
    outbox: list[tuple[UUID, UUID, OutboxMessage]] = field(default_factory=list)
    idempotency: dict[tuple[UUID, str], tuple[IdempotencyRecord, datetime]] = field(
        default_factory=dict
    )
    customers: dict[tuple[UUID, UUID], CustomerRecord] = field(default_factory=dict)
    discounts: dict[tuple[UUID, UUID], tuple[DiscountCode, datetime]] = field(default_factory=dict)
    discount_usages: dict[tuple[UUID, UUID, str], int] = field(default_factory=dict)
    risk_rules: dict[tuple[UUID, UUID], RiskRule] = field(default_factory=dict)
    carts: dict[tuple[UUID, UUID], CartReservation] = field(default_factory=dict)
    orders: dict[tuple[UUID, UUID], Order] = field(default_factory=dict)
    # Store credit: (tenant, customer, currency) -> balance, and the ledger in insertion order.
    store_credit_balances: dict[tuple[UUID, UUID, str], Decimal] = field(default_factory=dict)
    store_credit_entries: list[StoreCreditEntry] = field(default_factory=list)


class MemorySession:
    """One unit of work's view of the tables: ``tables`` to read (always the current working
    copy, which a rollback replaces), ``write()`` before changing them."""

    def __init__(self, current: Callable[[], MemoryTables], *, readonly: bool) -> None:
        self._current = current
        self.readonly = readonly
        self.wrote = False

    @property
    def tables(self) -> MemoryTables:
        return self._current()

    def write(self) -> MemoryTables:
        """The tables, to change; refused in a read-only unit of work."""
        if self.readonly:
            raise ReadOnlyUnitOfWorkError("this unit of work was opened with readonly=True")
        self.wrote = True
        return self._current()
