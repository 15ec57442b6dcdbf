"""The port returns are stored behind: ``ReturnRepository``, in SQL in
``oms.adapters.db.repositories.returns`` (no in-memory fake yet: the returns use cases also
need the orders, payments and stock of the SQL unit of work, and are tested on it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from oms.domain.returns import ReturnPolicy, ReturnRequest, ReturnStatus
from oms.domain.tracking import TrackingEvent

__all__ = ["ReturnFilter", "ReturnRepository", "TrackedReturn"]


@dataclass(frozen=True)
class TrackedReturn:
    """Whose return a return label's tracking number is."""

    tenant_id: UUID
    return_id: UUID


@dataclass(frozen=True)
class ReturnFilter:
    """What ``GET /v1/returns`` narrows by; None: anything."""

    status: ReturnStatus | None = None
    reason: str | None = None
    order_id: UUID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class ReturnRepository(Protocol):
    def add(self, request: ReturnRequest) -> None:
        """Store a new return with its lines."""
        ...

    def save(self, request: ReturnRequest) -> None:
        """Store a changed return (its status, dates, money and received units)."""
        ...

    def get(
        self, tenant_id: UUID, return_id: UUID, *, for_update: bool = False
    ) -> ReturnRequest | None:
        """One return, locked for this transaction with ``for_update`` (PostgreSQL)."""
        ...

    def order_id_of(self, tenant_id: UUID, return_id: UUID) -> UUID | None:
        """The order a return belongs to (None for no such return), without reading it."""
        ...

    def for_order(
        self, tenant_id: UUID, order_id: UUID, *, for_update: bool = False
    ) -> list[ReturnRequest]:
        """Every return of one order, oldest first; locked for this transaction with
        ``for_update`` (PostgreSQL)."""
        ...

    def for_order_with_policy(
        self, tenant_id: UUID, order_id: UUID, *, for_update: bool = False
    ) -> tuple[list[ReturnRequest], ReturnPolicy]:
        """``for_order`` and the tenant's ``policy`` together (one statement in SQL)."""
        ...

    def open_count(self, tenant_id: UUID, order_id: UUID) -> int:
        """How many of the order's returns are open (``ReturnRequest.is_open``): one count
        on the returns' order index."""
        ...

    def page(
        self, tenant_id: UUID, *, filters: ReturnFilter, before_id: UUID | None, limit: int
    ) -> list[ReturnRequest]:
        """Returns matching ``filters``, newest first, older than ``before_id``."""
        ...

    def policy(self, tenant_id: UUID) -> ReturnPolicy:
        """The tenant's return policy (the defaults when it set none)."""
        ...

    def stored_policies(self) -> dict[UUID, ReturnPolicy]:
        """Every tenant's policy that was ever set (every tenant: a worker's job)."""
        ...

    def put_policy(self, tenant_id: UUID, policy: ReturnPolicy, *, at: datetime) -> None:
        """Replace the tenant's return policy."""
        ...

    def register_label(self, request: ReturnRequest) -> None:
        """Make the return's label findable by its carrier and tracking number."""
        ...

    def locate_label(self, carrier: str, tracking_number: str) -> TrackedReturn | None:
        """Whose return label ``tracking_number`` of ``carrier`` is (any tenant)."""
        ...

    def add_parcel_event(
        self, request: ReturnRequest, carrier: str, event: TrackingEvent, *, received_at: datetime
    ) -> bool:
        """Keep a carrier event of the return's label once; False for a redelivery."""
        ...

    def parcel_events(self, tenant_id: UUID, return_id: UUID) -> list[TrackingEvent]:
        """Every event of the return label's parcel, oldest first."""
        ...
