"""Holds: what stops an order from being released for fulfilment, with a reason and a due time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

__all__ = ["DEFAULT_HOLD_SLAS", "Hold", "HoldReason"]


class HoldReason(StrEnum):
    PAYMENT_PENDING = "payment_pending"
    ADDRESS_INVALID = "address_invalid"
    CONTACT_INVALID = "contact_invalid"
    FRAUD_REVIEW = "fraud_review"
    BACKORDERED = "backordered"
    NO_CARRIER_SERVICE = "no_carrier_service"  # routed where no rate card prices the parcel
    MANUAL = "manual"


# How long each kind of hold may stay open before it is overdue, unless a tenant says otherwise.
DEFAULT_HOLD_SLAS: dict[HoldReason, timedelta] = {
    HoldReason.PAYMENT_PENDING: timedelta(hours=24),
    HoldReason.ADDRESS_INVALID: timedelta(hours=4),
    HoldReason.CONTACT_INVALID: timedelta(hours=8),
    HoldReason.FRAUD_REVIEW: timedelta(hours=2),
    HoldReason.BACKORDERED: timedelta(days=7),
    HoldReason.NO_CARRIER_SERVICE: timedelta(hours=4),
    HoldReason.MANUAL: timedelta(hours=24),
}


@dataclass
class Hold:
    """One hold on one order; open until released."""

    id: UUID
    reason: HoldReason
    created_at: datetime
    due_at: datetime
    note: str | None = None
    created_by: str = "system"
    released_at: datetime | None = None
    released_by: str | None = None
    release_note: str | None = None

    @property
    def is_open(self) -> bool:
        return self.released_at is None

    def is_overdue(self, now: datetime) -> bool:
        """Open past its due time."""
        return self.is_open and now > self.due_at
