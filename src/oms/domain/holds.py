"""Holds: what stops an order from being released for fulfilment, with a reason and a due time.

Two reasons stop nothing (flags): ``refund_due`` is money captured beyond the order's total,
waiting for someone to refund it; the system opens it and closes it as the payments and the
total say (``oms.services.persistence.settle_order``), never a person. ``parcel_claim`` is
a claim oms opened by itself for a parcel the carrier reported in trouble or that went
unscanned for days (``oms.services.parcel_claims``), for a person to follow up with the
carrier and release. Both sit in the exceptions queue with the others (with their due
time), but the order and its fulfilment go on. ``awaiting_return`` holds an exchange's
replacement until its return is in transit or received (the tenant's policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

__all__ = ["DEFAULT_HOLD_SLAS", "FLAGS_ONLY", "SYSTEM_ONLY", "Hold", "HoldReason"]


class HoldReason(StrEnum):
    PAYMENT_PENDING = "payment_pending"
    ADDRESS_INVALID = "address_invalid"
    CONTACT_INVALID = "contact_invalid"
    FRAUD_REVIEW = "fraud_review"
    BACKORDERED = "backordered"
    NO_CARRIER_SERVICE = "no_carrier_service"  # routed where no rate card prices the parcel
    MANUAL = "manual"
    REFUND_DUE = "refund_due"
    UNKNOWN_SKU = "unknown_sku"  # a channel's order names a SKU the catalogue does not have
    AWAITING_RETURN = "awaiting_return"  # an exchange's replacement waits for the return
    PARCEL_CLAIM = "parcel_claim"  # a claim opened by itself: a parcel lost or in trouble


# How long each kind of hold may stay open before it is overdue, unless a tenant says otherwise.
DEFAULT_HOLD_SLAS: dict[HoldReason, timedelta] = {
    HoldReason.PAYMENT_PENDING: timedelta(hours=24),
    HoldReason.ADDRESS_INVALID: timedelta(hours=4),
    HoldReason.CONTACT_INVALID: timedelta(hours=8),
    HoldReason.FRAUD_REVIEW: timedelta(hours=2),
    HoldReason.BACKORDERED: timedelta(days=7),
    HoldReason.NO_CARRIER_SERVICE: timedelta(hours=4),
    HoldReason.MANUAL: timedelta(hours=24),
    HoldReason.REFUND_DUE: timedelta(hours=48),
    HoldReason.UNKNOWN_SKU: timedelta(hours=24),
    HoldReason.AWAITING_RETURN: timedelta(days=30),
    HoldReason.PARCEL_CLAIM: timedelta(hours=48),
}

# Reasons that flag an order without stopping it (its status, release and fulfilment).
FLAGS_ONLY = frozenset({HoldReason.REFUND_DUE, HoldReason.PARCEL_CLAIM})
# Reasons only the system opens and closes, from the order's own records.
SYSTEM_ONLY = frozenset({HoldReason.REFUND_DUE})


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

    @property
    def stops_fulfilment(self) -> bool:
        """Open and of a reason that keeps the order from going on (not a mere flag)."""
        return self.is_open and self.reason not in FLAGS_ONLY

    def is_overdue(self, now: datetime) -> bool:
        """Open past its due time."""
        return self.is_open and now > self.due_at
