"""Cycle counts: a count sheet for SKUs (or bins) at a location, counted blind or not,
reviewed for variance, approved into ``count`` movements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

__all__ = [
    "CountLine",
    "CountSheet",
    "CountStatus",
    "Transfer",
    "TransferLine",
    "TransferStatus",
    "count_status",
    "transfer_status",
]


class CountStatus(StrEnum):
    OPEN = "open"
    COUNTED = "counted"
    APPROVED = "approved"


@dataclass
class CountLine:
    sku: str
    bin: str | None
    counted: int | None = None


@dataclass
class CountSheet:
    id: UUID
    tenant_id: UUID
    location_id: UUID
    location_code: str
    blind: bool
    lines: list[CountLine]
    created_at: datetime
    created_by: str
    status: CountStatus = CountStatus.OPEN
    approved_at: datetime | None = None
    approved_by: str | None = None
    reason: str | None = None

    def line_for(self, sku: str) -> CountLine | None:
        return next((line for line in self.lines if line.sku == sku), None)


def count_status(sheet: CountSheet) -> CountStatus:
    """Open until every line is counted; approved once its variances are posted."""
    if sheet.approved_at is not None:
        return CountStatus.APPROVED
    if all(line.counted is not None for line in sheet.lines):
        return CountStatus.COUNTED
    return CountStatus.OPEN


class TransferStatus(StrEnum):
    DRAFT = "draft"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"


@dataclass
class TransferLine:
    sku: str
    quantity: int
    received: int = 0

    @property
    def in_transit(self) -> int:
        return max(0, self.quantity - self.received)


@dataclass
class Transfer:
    """Stock moving between two locations of a tenant: taken off the source when shipped,
    in transit (visible, not sellable) until received at the destination."""

    id: UUID
    tenant_id: UUID
    from_location_id: UUID
    from_code: str
    to_location_id: UUID
    to_code: str
    lines: list[TransferLine]
    created_at: datetime
    status: TransferStatus = TransferStatus.DRAFT
    shipped_at: datetime | None = None

    def line_for(self, sku: str) -> TransferLine | None:
        return next((line for line in self.lines if line.sku == sku), None)


def transfer_status(transfer: Transfer) -> TransferStatus:
    """Draft until shipped; received once every line has all its units."""
    if transfer.shipped_at is None:
        return TransferStatus.DRAFT
    if all(line.received >= line.quantity for line in transfer.lines):
        return TransferStatus.RECEIVED
    return TransferStatus.IN_TRANSIT
