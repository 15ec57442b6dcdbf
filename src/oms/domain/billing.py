"""What a 3PL bills a merchant for: price lists, the activity of a period, and its statement.

A statement is a pure function of two things: the merchant's ``PriceList`` and the
``Activity`` counted from the ledger and the shipments of one period (``Period``: a calendar
month in UTC). Every figure of the activity can be recounted from raw movements; storage is
counted per day from the on-hand each stock row had at the end of that day
(``storage_usage``).

Each priced line is ``quantity x rate`` rounded to the currency's minor unit once
(``oms.domain.money.round_money``); labels are their cost plus the markup, rounded once;
the total is the sum of the rounded lines, so the lines always add up to it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from uuid import UUID

from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.money import MAX_AMOUNT, is_known_currency, round_money

__all__ = [
    "ANY_LOCATION",
    "Activity",
    "Period",
    "PriceList",
    "Statement",
    "StatementLine",
    "StorageBasis",
    "StorageRate",
    "StorageUsage",
    "price_activity",
    "storage_usage",
]

ANY_LOCATION = "*"
# Rates may be finer than the currency's minor unit (0.0025 per unit-day); the stored
# precision (NUMERIC(18, 4)) is the limit.
_RATE_EXPONENT = -4
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class StorageBasis(StrEnum):
    UNIT_DAY = "unit_day"
    BIN_DAY = "bin_day"


@dataclass(frozen=True)
class Period:
    """A calendar month in UTC: ``start`` inclusive, ``end`` exclusive."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str, *, pointer: str = "query:period") -> Period:
        """``YYYY-MM``; anything else is refused naming ``pointer``."""
        found = _PERIOD.match(text)
        if found is None or int(found.group(1)) < 1:
            raise InvalidRequest("Invalid period", [FieldError(pointer, "must be YYYY-MM")])
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def containing(cls, moment: datetime) -> Period:
        """The month ``moment`` falls in (UTC)."""
        utc = moment.astimezone(UTC)
        return cls(utc.year, utc.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        if self.month == 12:
            return datetime(self.year + 1, 1, 1, tzinfo=UTC)
        return datetime(self.year, self.month + 1, 1, tzinfo=UTC)

    def days(self, *, until: datetime | None = None) -> list[date]:
        """The month's days, only those begun before ``until`` (a month still running)."""
        last = self.end if until is None else min(self.end, until)
        day, result = self.start, []
        while day < last:
            result.append(day.date())
            day += timedelta(days=1)
        return result


@dataclass(frozen=True)
class StorageRate:
    """A price per unit-day or bin-day at one location (by code), or at any (``*``)."""

    location: str
    basis: StorageBasis
    rate: Decimal


@dataclass(frozen=True)
class PriceList:
    """What one merchant pays, in one currency; a rate left out is zero."""

    currency: str
    storage: tuple[StorageRate, ...] = ()
    receiving_per_receipt: Decimal = Decimal(0)
    receiving_per_line: Decimal = Decimal(0)
    receiving_per_unit: Decimal = Decimal(0)
    pick_per_order: Decimal = Decimal(0)
    pick_per_line: Decimal = Decimal(0)
    pick_per_unit: Decimal = Decimal(0)
    per_package: Decimal = Decimal(0)
    label_markup_percent: Decimal = Decimal(0)
    # Product category -> price per unit shipped (fragile, oversize, hazmat...).
    special_handling: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems: list[FieldError] = []
        if not is_known_currency(self.currency):
            problems.append(FieldError("#/currency", "not a currency"))
        rates: list[tuple[str, Decimal]] = [
            (f"#/storage/{i}/rate", s.rate) for i, s in enumerate(self.storage)
        ]
        rates += [
            (f"#/{name}", getattr(self, name))
            for name in (
                "receiving_per_receipt",
                "receiving_per_line",
                "receiving_per_unit",
                "pick_per_order",
                "pick_per_line",
                "pick_per_unit",
                "per_package",
                "label_markup_percent",
            )
        ]
        rates += [(f"#/special_handling/{k}", v) for k, v in self.special_handling.items()]
        for pointer, rate in rates:
            problems += _rate_problems(pointer, rate)
        seen: set[tuple[str, StorageBasis]] = set()
        for i, s in enumerate(self.storage):
            if (s.location, s.basis) in seen:
                problems.append(FieldError(f"#/storage/{i}", "a second rate for this location"))
            seen.add((s.location, s.basis))
        if problems:
            raise InvalidRequest("Invalid price list", problems)

    def storage_rate(self, location_code: str, basis: StorageBasis) -> Decimal | None:
        """The rate naming the location, else the ``*`` rate, else None (not charged)."""
        by_key = {(s.location, s.basis): s.rate for s in self.storage}
        found = by_key.get((location_code, basis))
        return by_key.get((ANY_LOCATION, basis)) if found is None else found


def _rate_problems(pointer: str, rate: Decimal) -> list[FieldError]:
    try:
        if not rate.is_finite() or rate < 0 or rate >= MAX_AMOUNT:
            return [FieldError(pointer, "must be a number from 0")]
        if rate != rate.quantize(Decimal(1).scaleb(_RATE_EXPONENT)):
            return [FieldError(pointer, "at most 4 decimals")]
    except InvalidOperation:
        return [FieldError(pointer, "must be a number from 0")]
    return []


@dataclass(frozen=True)
class StorageUsage:
    """Unit-days and bin-days at one location over the period."""

    location_id: UUID
    location_code: str
    unit_days: int
    bin_days: int


@dataclass(frozen=True)
class Activity:
    """What the warehouse did for one merchant in one period, counted from the records."""

    storage: tuple[StorageUsage, ...] = ()
    receipts: int = 0  # distinct references (ASN, PO) received against
    receipt_lines: int = 0  # distinct (reference, SKU, location)
    receipt_units: int = 0
    pick_orders: int = 0  # fulfilment orders shipped from
    pick_lines: int = 0  # fulfilment-order lines in shipments
    pick_units: int = 0
    packages: int = 0
    labels: int = 0
    # Currency -> what the labels cost the operator in it.
    label_cost: Mapping[str, Decimal] = field(default_factory=dict)
    # Product category -> units shipped of it.
    units_by_category: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class StatementLine:
    code: str
    description: str
    quantity: Decimal
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Statement:
    """One merchant's bill for one period: the activity, the priced lines and the total."""

    tenant_id: UUID
    tenant_name: str
    period: Period
    currency: str
    activity: Activity
    lines: tuple[StatementLine, ...]
    # Labels bought in another currency than the price list's: counted, not billed.
    unpriced_label_cost: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), round_money(Decimal(0), self.currency))


def storage_usage(
    *,
    days: list[date],
    opening: Mapping[tuple[str, UUID], int],
    deltas: Mapping[tuple[str, UUID, date], int],
    bins: Mapping[tuple[str, UUID], str],
) -> dict[UUID, tuple[int, int]]:
    """Location -> (unit-days, bin-days) over ``days``.

    ``opening`` is each stock row's (SKU, location) on hand when the first day began,
    ``deltas`` the sum of its movements per day. A day counts the on hand at its end; a bin
    counts on a day when any SKU in it has stock then, and a SKU with no bin is a bin of its
    own. Work is per stock row and day with a change, never per movement or per idle day:
    a row's on hand is constant between its changes, so each stretch counts at once.
    """
    position = {day: n for n, day in enumerate(days)}
    changes: dict[tuple[str, UUID], dict[int, int]] = defaultdict(dict)
    for (sku, location, day), delta in deltas.items():
        n = position.get(day)
        if n is not None:
            row = changes[(sku, location)]
            row[n] = row.get(n, 0) + delta
    unit_days: dict[UUID, int] = defaultdict(int)
    stocked: dict[tuple[UUID, str], list[tuple[int, int]]] = defaultdict(list)
    for key in set(opening) | set(changes):
        sku, location = key
        on_hand, since = opening.get(key, 0), 0
        stretches: list[tuple[int, int, int]] = []
        for index, delta in sorted(changes.get(key, {}).items()):
            if index > since and on_hand > 0:
                stretches.append((since, index, on_hand))
            on_hand, since = on_hand + delta, index
        if len(days) > since and on_hand > 0:
            stretches.append((since, len(days), on_hand))
        bin_name = bins.get(key, f"\x1f{sku}")  # no bin: the SKU is a bin of its own
        for first, stop, units in stretches:
            unit_days[location] += units * (stop - first)
            stocked[(location, bin_name)].append((first, stop))
    bin_days: dict[UUID, int] = defaultdict(int)
    for (location, _), spans in stocked.items():
        covered, reach = 0, 0
        for first, stop in sorted(spans):  # days on which any SKU of the bin had stock
            if stop > reach:
                covered += stop - max(first, reach)
                reach = stop
        bin_days[location] += covered
    return {loc: (unit_days[loc], bin_days[loc]) for loc in set(unit_days) | set(bin_days)}


def _line(
    code: str, description: str, quantity: int | Decimal, rate: Decimal, currency: str
) -> StatementLine:
    amount = round_money(Decimal(quantity) * rate, currency)
    return StatementLine(code, description, Decimal(quantity), rate, amount)


def price_activity(
    *, tenant_id: UUID, tenant_name: str, period: Period, activity: Activity, prices: PriceList
) -> Statement:
    """The statement: one line per figure the price list prices, each rounded once."""
    cur = prices.currency
    lines: list[StatementLine] = []
    for usage in sorted(activity.storage, key=lambda u: u.location_code):
        for basis, quantity, unit in (
            (StorageBasis.UNIT_DAY, usage.unit_days, "unit-days"),
            (StorageBasis.BIN_DAY, usage.bin_days, "bin-days"),
        ):
            rate = prices.storage_rate(usage.location_code, basis)
            if rate is not None:
                code = f"storage.{basis.value}.{usage.location_code}"
                lines.append(
                    _line(code, f"Storage at {usage.location_code}, {unit}", quantity, rate, cur)
                )
    counted: Iterable[tuple[str, str, int, Decimal]] = (
        (
            "receiving.receipt",
            "Receiving, receipts",
            activity.receipts,
            prices.receiving_per_receipt,
        ),
        ("receiving.line", "Receiving, lines", activity.receipt_lines, prices.receiving_per_line),
        ("receiving.unit", "Receiving, units", activity.receipt_units, prices.receiving_per_unit),
        ("pick.order", "Picking, orders", activity.pick_orders, prices.pick_per_order),
        ("pick.line", "Picking, lines", activity.pick_lines, prices.pick_per_line),
        ("pick.unit", "Picking, units", activity.pick_units, prices.pick_per_unit),
        ("package", "Packages", activity.packages, prices.per_package),
    )
    lines += [_line(code, text, quantity, rate, cur) for code, text, quantity, rate in counted]
    cost = activity.label_cost.get(cur, Decimal(0))
    markup = 1 + prices.label_markup_percent / 100
    lines.append(
        StatementLine(
            "labels",
            f"Labels ({activity.labels}) at cost plus "
            f"{prices.label_markup_percent.normalize():f} %",
            cost,
            markup,
            round_money(cost * markup, cur),
        )
    )
    for category, rate in sorted(prices.special_handling.items()):
        units = activity.units_by_category.get(category, 0)
        lines.append(
            _line(f"special.{category}", f"Special handling, {category}", units, rate, cur)
        )
    return Statement(
        tenant_id=tenant_id,
        tenant_name=tenant_name,
        period=period,
        currency=cur,
        activity=activity,
        lines=tuple(lines),
        unpriced_label_cost={c: v for c, v in activity.label_cost.items() if c != cur},
    )
