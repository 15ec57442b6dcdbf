"""Tracking events the table-rate carriers would have sent, for the demo and for tests.

``simulate_events`` plays a carrier: it lays out a parcel's whole journey from the shipping
time, the promised date and a seed, and returns the part of it that has happened by
``now``. Every run with the same inputs lays out the same journey, so calling it again
later returns the same events with the same ids plus any new ones, and delivering them
twice changes nothing. All times are UTC:

* an origin scan (``in_transit``) two to five hours after shipping;
* a hub scan (``in_transit``) each night in between;
* on the delivery day: an arrival scan at the delivery station around 6:00,
  ``out_for_delivery`` around 8:00 and ``delivered`` in the afternoon.

The delivery day is ``deliver_by`` (two business days after shipping when ``None``), or
the next day when the parcel cannot be out for delivery that morning. About one parcel in
twenty has an ``exception`` (address not found) that afternoon and is delivered the next
business day; about one in a hundred is returned to the sender two business days after
the exception. Which parcel does what depends only on the seed and the tracking number.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from oms.domain.shipping import add_business_days
from oms.domain.tracking import ShipmentStatus, TrackingEvent

__all__ = ["EXCEPTION_RATE", "RETURN_RATE", "simulate_events"]

EXCEPTION_RATE = 0.05
"""The share of parcels with a failed delivery attempt (returned ones included)."""

RETURN_RATE = 0.01
"""The share of parcels returned to the sender after the failed attempt."""

_DEFAULT_TRANSIT_DAYS = 2

_ORIGIN = "Origin sort centre"
_HUBS = ("Regional hub North", "Regional hub South", "National hub", "Air gateway")
_STATION = "Delivery station"


@dataclass(frozen=True)
class _Scan:
    status: ShipmentStatus
    at: datetime
    location: str | None
    description: str


def simulate_events(
    *,
    tracking_number: str,
    shipped_at: datetime,
    deliver_by: date | None,
    now: datetime,
    seed: int | str,
) -> list[TrackingEvent]:
    """The events of ``tracking_number`` a carrier would have sent by ``now``, oldest first;
    ids are ``<tracking_number>-<n>``, stable across runs."""
    if shipped_at.utcoffset() is None or now.utcoffset() is None:
        raise ValueError("shipped_at and now must be timezone-aware")
    # A string seed is hashed with SHA-512 by random.Random: stable across processes.
    rng = random.Random(f"{seed}/{tracking_number}")
    journey = _journey(rng, shipped_at.astimezone(UTC), deliver_by)
    return [
        TrackingEvent(
            event_id=f"{tracking_number}-{number}",
            status=scan.status,
            occurred_at=scan.at,
            location=scan.location,
            description=scan.description,
        )
        for number, scan in enumerate(journey, start=1)
        if scan.at <= now
    ]


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _journey(rng: random.Random, shipped_at: datetime, deliver_by: date | None) -> list[_Scan]:
    # Every random draw happens here, in a fixed order, whatever ``now`` is.
    fate = rng.random()
    origin_scan = shipped_at + timedelta(minutes=rng.randint(120, 300))
    scans = [_Scan(ShipmentStatus.IN_TRANSIT, origin_scan, _ORIGIN, "Received at origin")]
    day = deliver_by or add_business_days(shipped_at.date(), _DEFAULT_TRANSIT_DAYS)
    if _at(day, 7, 0) <= origin_scan:  # too late to be out for delivery that morning
        day = origin_scan.date() + timedelta(days=1)
    night = origin_scan.date() + timedelta(days=1)
    while night < day:
        hub = rng.choice(_HUBS)
        at = _at(night, rng.randint(0, 4), rng.randint(0, 59))
        scans.append(_Scan(ShipmentStatus.IN_TRANSIT, at, hub, "Processed at hub"))
        night += timedelta(days=1)
    arrival = _at(day, 6, rng.randint(0, 45))
    if arrival > origin_scan:
        scans.append(_Scan(ShipmentStatus.IN_TRANSIT, arrival, _STATION, "Arrived at station"))
    scans += _attempt(rng, day)
    if fate >= EXCEPTION_RATE:
        scans.append(_delivered(rng, day))
        return scans
    failed = _at(day, rng.randint(12, 16), rng.randint(0, 59))
    scans.append(_Scan(ShipmentStatus.EXCEPTION, failed, None, "Address not found"))
    if fate < RETURN_RATE:
        back = add_business_days(day, 2)
        at = _at(back, rng.randint(10, 16), rng.randint(0, 59))
        scans.append(_Scan(ShipmentStatus.RETURNED_TO_SENDER, at, _ORIGIN, "Undeliverable"))
        return scans
    retry = add_business_days(day, 1)
    return [*scans, *_attempt(rng, retry), _delivered(rng, retry)]


def _attempt(rng: random.Random, day: date) -> list[_Scan]:
    at = _at(day, 8, rng.randint(0, 45))
    return [_Scan(ShipmentStatus.OUT_FOR_DELIVERY, at, _STATION, "Out for delivery")]


def _delivered(rng: random.Random, day: date) -> _Scan:
    at = _at(day, rng.randint(12, 17), rng.randint(0, 59))
    return _Scan(ShipmentStatus.DELIVERED, at, None, "Delivered")
