"""Picking: which fulfilment orders go in the next wave, and the pick list that walks the bins.

* Wave selection takes the most urgent orders first: earliest carrier cut-off, then earliest
  promised ship date (unknown ones last), then priority (lower first), then the oldest; the
  order id breaks the remaining ties so the same candidates always give the same wave.
* A pick list sums the tasks per (bin, SKU) and walks the bins in natural order
  ("A-2-9" before "A-2-10", case-insensitive); tasks without a bin come last.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from oms.domain.errors import FieldError, InvalidRequest

__all__ = [
    "PickListEntry",
    "PickTask",
    "PickWave",
    "WaveCandidate",
    "WaveStatus",
    "natural_key",
    "pick_list",
    "select_wave",
    "split_short",
]

_DIGITS = re.compile(r"([0-9]+)")


@dataclass(frozen=True)
class WaveCandidate:
    """A fulfilment order ready to pick, with what makes it urgent and how many units it has."""

    fulfillment_order_id: UUID
    cutoff_at: datetime | None  # the carrier pickup cut-off the shipment must make
    promised_ship_by: date | None
    priority: int  # lower is more urgent
    created_at: datetime
    units: int


@dataclass(frozen=True)
class PickTask:
    """Pick ``quantity`` units of ``sku`` from ``bin`` (None when unknown) for one order."""

    bin: str | None
    sku: str
    quantity: int
    fulfillment_order_id: UUID


@dataclass(frozen=True)
class PickListEntry:
    """One stop on the pick list: a bin and SKU, the units to take, and the orders they serve."""

    bin: str | None
    sku: str
    quantity: int
    fulfillment_order_ids: tuple[UUID, ...]


def select_wave(
    candidates: Sequence[WaveCandidate], *, max_orders: int, max_units: int | None = None
) -> list[WaveCandidate]:
    """The most urgent candidates, up to ``max_orders`` and ``max_units`` (at least one)."""
    errors: list[FieldError] = []
    if max_orders < 1:
        errors.append(FieldError("#/max_orders", "must be at least 1"))
    if max_units is not None and max_units < 1:
        errors.append(FieldError("#/max_units", "must be at least 1"))
    if errors:
        raise InvalidRequest("The wave limits are not valid", errors)
    wave: list[WaveCandidate] = []
    units = 0
    for candidate in sorted(candidates, key=_urgency):
        if len(wave) == max_orders:
            break
        # Stop rather than skip: a smaller, less urgent order must not overtake this one,
        # which leads the next wave instead.
        if wave and max_units is not None and units + candidate.units > max_units:
            break
        wave.append(candidate)
        units += candidate.units
    return wave


def _urgency(
    candidate: WaveCandidate,
) -> tuple[bool, datetime | None, bool, date | None, int, datetime, UUID]:
    # ``(value is None, value)`` sorts None last without ever comparing None with a value:
    # tuples only compare the second items when the first ones are equal.
    return (
        candidate.cutoff_at is None,
        candidate.cutoff_at,
        candidate.promised_ship_by is None,
        candidate.promised_ship_by,
        candidate.priority,
        candidate.created_at,
        candidate.fulfillment_order_id,
    )


def natural_key(text: str) -> tuple[tuple[str, int], ...]:
    """A sort key reading digit runs as numbers and ignoring case: "a-2-9" < "A-2-10"."""
    # re.split with a group alternates text and digits, always starting and ending with text.
    parts = _DIGITS.split(text.casefold())
    numbers = [int(part) for part in parts[1::2]] + [-1]
    return tuple(zip(parts[::2], numbers, strict=True))


def pick_list(tasks: Sequence[PickTask]) -> list[PickListEntry]:
    """Tasks summed per (bin, SKU), in natural bin order with binless tasks last, then SKU."""
    errors = [
        FieldError(f"#/tasks/{index}/quantity", "must be positive")
        for index, task in enumerate(tasks)
        if task.quantity <= 0
    ]
    if errors:
        raise InvalidRequest("The pick tasks are not valid", errors)
    quantities: dict[tuple[str | None, str], int] = {}
    orders: dict[tuple[str | None, str], dict[UUID, None]] = {}
    for task in tasks:
        # A blank bin tells the picker nothing more than a missing one.
        key = ((task.bin or "").strip() or None, task.sku)
        quantities[key] = quantities.get(key, 0) + task.quantity
        orders.setdefault(key, {})[task.fulfillment_order_id] = None
    entries = [
        PickListEntry(bin_, sku, quantity, tuple(orders[bin_, sku]))
        for (bin_, sku), quantity in quantities.items()
    ]
    return sorted(entries, key=_walk_order)


def _walk_order(entry: PickListEntry) -> tuple[bool, tuple[tuple[str, int], ...], str, str]:
    if entry.bin is None:
        return (True, (), "", entry.sku)
    # The bin itself breaks ties between bins that only differ in case or leading zeros.
    return (False, natural_key(entry.bin), entry.bin, entry.sku)


def split_short(*, picked: int, wanted: int) -> tuple[int, int]:
    """``(picked, short)`` units of a task for which the picker found ``picked`` of ``wanted``."""
    errors: list[FieldError] = []
    if wanted < 0:
        errors.append(FieldError("#/wanted", "must not be negative"))
    if picked < 0:
        errors.append(FieldError("#/picked", "must not be negative"))
    elif picked > wanted >= 0:
        errors.append(FieldError("#/picked", f"must not exceed the {wanted} wanted"))
    if errors:
        raise InvalidRequest("The picked quantity is not valid", errors)
    return picked, wanted - picked


class WaveStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"


@dataclass
class PickWave:
    """A batch of fulfilment orders at one location, picked together from one pick list."""

    id: UUID
    tenant_id: UUID
    location_id: UUID
    fulfillment_order_ids: list[UUID]
    created_by: str
    created_at: datetime
    status: WaveStatus = WaveStatus.OPEN
    completed_at: datetime | None = None
