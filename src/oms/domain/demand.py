"""Daily demand: what a SKU sold per day and location, and whether that day's sales were
*censored* (a stock-out or a promotion), i.e. not a fair reading of ordinary demand.

A merchant's sales history arrives as CSV (``oms import sales-history``); the system's own
orders add to it (``oms.services.demand``). Forecasts (``oms.services.forecasting``) read a
series per SKU, or per SKU and location, with every day from its first to the last present.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from oms.domain import lengths
from oms.domain.errors import FieldError, InvalidRequest

__all__ = [
    "ALL_LOCATIONS",
    "HISTORY_COLUMNS",
    "DailySeries",
    "DemandDay",
    "daily_series",
    "parse_sales_history",
]

ALL_LOCATIONS = ""
"""The location key of a SKU's demand summed over every location."""

HISTORY_COLUMNS = ("date", "sku", "location", "quantity")
"""The columns a sales-history file must have; ``price``, ``channel``, ``promo`` and
``stockout`` are optional."""

_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"", "0", "false", "no", "n", "f"}
MAX_HISTORY_ERRORS = 20


@dataclass(frozen=True)
class DemandDay:
    """Units of ``sku`` sold at ``location`` (a location code) on ``day``; ``revenue`` is
    quantity times price when the price is known. ``promo``: sold under a promotion;
    ``stockout``: the SKU ran out that day, so some demand went unseen."""

    day: date
    sku: str
    location: str
    quantity: int
    revenue: Decimal | None = None
    channel: str | None = None
    promo: bool = False
    stockout: bool = False

    @property
    def censored(self) -> bool:
        """True when the day's sales do not show ordinary demand (promotion or stock-out)."""
        return self.promo or self.stockout


@dataclass(frozen=True)
class DailySeries:
    """One SKU's (and location's) demand for every day from ``start``, with the censored
    days marked; missing days are zero demand."""

    sku: str
    location: str
    start: date
    quantities: tuple[float, ...]
    censored: tuple[bool, ...]

    @property
    def end(self) -> date:
        """The last day of the series."""
        return self.start + timedelta(days=len(self.quantities) - 1)


def _flag(value: str | None, pointer: str, errors: list[FieldError]) -> bool:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text not in _FALSE:
        errors.append(FieldError(pointer, "must be true/false, yes/no or 1/0"))
    return False


def _row(number: int, raw: dict[str, str | None], errors: list[FieldError]) -> DemandDay | None:
    """One CSV row as a ``DemandDay``, or None with its problems added to ``errors``."""
    where = f"/rows/{number}"
    found = len(errors)
    day: date | None = None
    try:
        day = date.fromisoformat((raw.get("date") or "").strip())
    except ValueError:
        errors.append(FieldError(f"{where}/date", "must be a date YYYY-MM-DD"))
    sku = (raw.get("sku") or "").strip()
    if not sku or len(sku) > lengths.SKU:
        errors.append(FieldError(f"{where}/sku", f"must be 1 to {lengths.SKU} characters"))
    location = (raw.get("location") or "").strip()
    if not location or len(location) > lengths.LOCATION_CODE:
        errors.append(
            FieldError(f"{where}/location", f"must be 1 to {lengths.LOCATION_CODE} characters")
        )
    quantity = 0
    try:
        quantity = int((raw.get("quantity") or "").strip())
        if quantity < 0:
            raise ValueError
    except ValueError:
        errors.append(FieldError(f"{where}/quantity", "must be a whole number, 0 or more"))
    revenue: Decimal | None = None
    price = (raw.get("price") or "").strip()
    if price:
        try:
            revenue = Decimal(price) * quantity
            if not revenue.is_finite() or revenue < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors.append(FieldError(f"{where}/price", "must be a decimal number, 0 or more"))
    channel = (raw.get("channel") or "").strip() or None
    promo = _flag(raw.get("promo"), f"{where}/promo", errors)
    stockout = _flag(raw.get("stockout"), f"{where}/stockout", errors)
    if len(errors) > found or day is None:
        return None
    return DemandDay(day, sku, location, quantity, revenue, channel, promo, stockout)


def parse_sales_history(text: str) -> list[DemandDay]:
    """The rows of a sales-history CSV (``date, sku, location, quantity[, price, channel,
    promo, stockout]``), several rows of one day, SKU and location summed. Refuses the whole
    file, naming up to 20 bad fields, if any row is bad."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in HISTORY_COLUMNS if name not in header]
    if missing:
        raise InvalidRequest(
            "the sales history lacks columns",
            [FieldError("/header", "missing: " + ", ".join(missing))],
        )
    reader.fieldnames = header
    errors: list[FieldError] = []
    days: list[DemandDay] = []
    for number, raw in enumerate(reader, start=1):
        found = _row(number, raw, errors)
        if found is not None:
            days.append(found)
        if len(errors) >= MAX_HISTORY_ERRORS:
            break
    if errors:
        raise InvalidRequest("the sales history has bad rows", errors[:MAX_HISTORY_ERRORS])
    return merge_days(days)


def merge_days(days: Iterable[DemandDay]) -> list[DemandDay]:
    """Rows of the same day, SKU and location as one: quantities and revenues summed,
    censored if any of them was."""
    merged: dict[tuple[date, str, str], DemandDay] = {}
    for d in days:
        key = (d.day, d.sku, d.location)
        seen = merged.get(key)
        if seen is None:
            merged[key] = d
            continue
        revenue = (
            None
            if seen.revenue is None and d.revenue is None
            else (seen.revenue or Decimal(0)) + (d.revenue or Decimal(0))
        )
        merged[key] = DemandDay(
            d.day,
            d.sku,
            d.location,
            seen.quantity + d.quantity,
            revenue,
            seen.channel if seen.channel == d.channel else None,
            seen.promo or d.promo,
            seen.stockout or d.stockout,
        )
    return sorted(merged.values(), key=lambda d: (d.sku, d.location, d.day))


def daily_series(
    days: Sequence[DemandDay], *, sku: str, location: str, last: date | None = None
) -> DailySeries | None:
    """The demand of ``sku`` at ``location`` (``ALL_LOCATIONS``: summed over locations) as
    one value per day from its first sale to ``last`` (default: its last day); None if it
    has no days. A day is censored if it was at any location summed."""
    mine = [
        d for d in days if d.sku == sku and (location == ALL_LOCATIONS or d.location == location)
    ]
    if not mine:
        return None
    start = min(d.day for d in mine)
    end = max(max(d.day for d in mine), last or start)
    size = (end - start).days + 1
    quantities = [0.0] * size
    censored = [False] * size
    for d in mine:
        i = (d.day - start).days
        if i >= size:
            continue
        quantities[i] += d.quantity
        censored[i] = censored[i] or d.censored
    return DailySeries(sku, location, start, tuple(quantities), tuple(censored))
