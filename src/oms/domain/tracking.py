"""Carrier tracking: a shipment's status derived from its tracking events, and our own
tracking numbers with a check digit.

Status: carriers send events late, twice and out of order, so ``derive_shipment_status``
depends only on the set of events, never on the order they arrived in:

* a terminal event (``delivered``, ``returned_to_sender``) wins over everything else once
  one exists; with both, the later by ``occurred_at`` wins;
* otherwise the latest event by ``occurred_at`` wins;
* ties on ``occurred_at`` go to the higher rank of the fixed progression
  ``label_created < in_transit < out_for_delivery < exception < delivered <
  returned_to_sender``.

So a late-arriving ``in_transit`` never reopens a delivered shipment, and an ``in_transit``
scan stamped before an ``out_for_delivery`` one does not move the shipment back.

Tracking numbers have the shape of UPU S10 numbers, ``PP`` + 8 serial digits + 1 check
digit + ``OM``, e.g. ``AC123456786OM``: ``PP`` is two letters naming the carrier and ``OM``
marks numbers issued by oms. The check digit is NOT the S10 mod-11 digit but the Damm
check digit (H. M. Damm, 2004) of the serial, computed with the order-10 quasigroup
published by Damm (the table on Wikipedia). Damm catches every single-digit substitution
and every transposition of two adjacent differing digits, the check digit included. S10's
mod-11 digit does not: it maps remainders 0 and 6 both to 5, so ``00000000`` and
``90000000`` share the check digit 5 and a mistyped first digit goes unnoticed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

__all__ = [
    "SERIAL_LIMIT",
    "TERMINAL_STATUSES",
    "TRACKING_SUFFIX",
    "ShipmentStatus",
    "TrackingEvent",
    "check_digit",
    "delivered_at",
    "derive_shipment_status",
    "is_valid_tracking_number",
    "make_tracking_number",
]


class ShipmentStatus(StrEnum):
    """Where a parcel is, as carriers report it."""

    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"


TERMINAL_STATUSES = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_SENDER})
"""Statuses after which nothing a carrier reports changes the shipment's status."""

# Breaks ties between events stamped with the same instant.
_RANK = {
    ShipmentStatus.LABEL_CREATED: 0,
    ShipmentStatus.IN_TRANSIT: 1,
    ShipmentStatus.OUT_FOR_DELIVERY: 2,
    ShipmentStatus.EXCEPTION: 3,
    ShipmentStatus.DELIVERED: 4,
    ShipmentStatus.RETURNED_TO_SENDER: 5,
}


@dataclass(frozen=True)
class TrackingEvent:
    """One scan reported by a carrier; ``event_id`` is the carrier's id, for de-duplication.

    ``occurred_at`` must be timezone-aware and is stored in UTC.
    """

    event_id: str
    status: ShipmentStatus
    occurred_at: datetime
    location: str | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        if not self.event_id:
            raise ValueError("a tracking event needs an event_id")
        if self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")
        object.__setattr__(self, "occurred_at", self.occurred_at.astimezone(UTC))


def _precedence(event: TrackingEvent) -> tuple[bool, datetime, int]:
    return event.status in TERMINAL_STATUSES, event.occurred_at, _RANK[event.status]


def derive_shipment_status(events: Iterable[TrackingEvent]) -> ShipmentStatus:
    """The shipment's status by the rules in the module docstring; ``label_created`` when
    there are no events. The order of the events and duplicates among them do not matter."""
    deciding = max(events, key=_precedence, default=None)
    return ShipmentStatus.LABEL_CREATED if deciding is None else deciding.status


def delivered_at(events: Iterable[TrackingEvent]) -> datetime | None:
    """When the shipment was first reported delivered, or ``None`` while its derived status
    is not ``delivered`` (not yet delivered, or returned to sender)."""
    events = list(events)
    if derive_shipment_status(events) is not ShipmentStatus.DELIVERED:
        return None
    return min(e.occurred_at for e in events if e.status is ShipmentStatus.DELIVERED)


# --- tracking numbers --------------------------------------------------------------------

SERIAL_LIMIT = 100_000_000
"""Serials run from 0 to ``SERIAL_LIMIT - 1`` (eight digits)."""

TRACKING_SUFFIX = "OM"
"""The last two letters of every tracking number oms issues."""

# Damm's totally anti-symmetric quasigroup of order 10: _DAMM[interim][digit].
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

_TRACKING_NUMBER = re.compile(rf"[A-Z]{{2}}[0-9]{{9}}{TRACKING_SUFFIX}")


def _damm_interim(digits: str) -> int:
    interim = 0
    for digit in digits:
        interim = _DAMM[interim][ord(digit) - 48]
    return interim


def check_digit(digits: str) -> str:
    """The Damm check digit of a string of ASCII digits."""
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"expected ASCII digits, got {digits!r}")
    return str(_damm_interim(digits))


def make_tracking_number(*, prefix: str, serial: int) -> str:
    """``prefix`` (two upper-case letters) + the 8-digit ``serial`` + its check digit + ``OM``."""
    if not (len(prefix) == 2 and prefix.isascii() and prefix.isalpha() and prefix.isupper()):
        raise ValueError(f"the prefix must be two upper-case letters, got {prefix!r}")
    if not 0 <= serial < SERIAL_LIMIT:
        raise ValueError(f"the serial must be from 0 to {SERIAL_LIMIT - 1}, got {serial}")
    digits = f"{serial:08d}"
    return f"{prefix}{digits}{check_digit(digits)}{TRACKING_SUFFIX}"


def is_valid_tracking_number(value: str) -> bool:
    """Whether ``value`` is a tracking number oms issued, in its exact (upper-case) form,
    with a correct check digit."""
    if _TRACKING_NUMBER.fullmatch(value) is None:
        return False
    return _damm_interim(value[2:11]) == 0
