"""The operations dashboard: a tenant's (or every tenant's) figures for a range of days.

Each figure is counted by the database in one aggregate query through the
``DashboardRepository`` port (``oms.adapters.db.repositories.dashboard`` implements it,
``oms.adapters.memory.dashboard`` fakes it); this module checks the range, works out the
instants the queries need from an injected ``now`` and turns counts into rates. Days are UTC
days: tenants have no time zone of their own. docs/dashboard.md defines every figure.

Two kinds of figure: those **over the range** (orders per day, on-time ship rate, split
rate, shipping cost per order, fulfilment errors) and those **as of now** (backlog, holds
past their SLA, orders and shipments today), which the range does not change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol
from uuid import UUID

from oms.domain.errors import FieldError, InvalidRequest
from oms.services.ports import UnitOfWorkFactory

__all__ = [
    "AGE_BUCKETS",
    "ERROR_CAUSES",
    "MAX_RANGE_DAYS",
    "Backlog",
    "BacklogCount",
    "CurrencyShipping",
    "Dashboard",
    "DashboardRepository",
    "DayRange",
    "HoldCount",
    "Rate",
    "ShippingTally",
    "Tally",
    "Window",
    "dashboard",
    "day_range",
]

MAX_RANGE_DAYS = 366
"""The longest range one dashboard covers, in days (both ends counted)."""

AGE_BUCKETS = ("under_1_day", "1_to_2_days", "2_to_3_days", "over_3_days")
"""Backlog ages, by whole days since the order was placed: under 1 day, 1 up to 2, 2 up to
3, and 3 days or more."""

ERROR_CAUSES: Mapping[str, str] = {
    "fulfillment_order.short_picked": "short_picks",
    "shipment.exception": "carrier_exceptions",
    "shipment.returned_to_sender": "returned_to_sender",
}
"""The timeline events counted as fulfilment errors, by the cause they are shown under.
A wrong scan at the pack station is refused and recorded nowhere, so it is not counted."""

_RATE_PLACES = Decimal("0.0001")
_MONEY_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class DayRange:
    """The days a dashboard covers, both included (UTC days)."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """The first instant of the first day."""
        return datetime.combine(self.first, time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the last day."""
        return datetime.combine(self.last + timedelta(days=1), time(), tzinfo=UTC)


def day_range(*, first: date | None, last: date | None, today: date) -> DayRange:
    """The range asked for: ``last`` defaults to today, ``first`` to six days before
    ``last`` (a week); refused when it runs backwards or covers more than 366 days."""
    end = last or today
    start = first or end - timedelta(days=6)
    if start > end:
        raise InvalidRequest(
            "The range ends before it starts",
            [FieldError("query:from", f"on or before {end.isoformat()} (query:to)")],
        )
    found = DayRange(start, end)
    if found.days > MAX_RANGE_DAYS:
        raise InvalidRequest(
            "The range is too long",
            [FieldError("query:to", f"at most {MAX_RANGE_DAYS} days after query:from")],
        )
    return found


@dataclass(frozen=True)
class Window:
    """What every dashboard query is asked about: whose orders (``tenant_id`` None: every
    tenant's), the range's instants and days, and now."""

    tenant_id: UUID | None
    days: DayRange
    now: datetime

    @property
    def today(self) -> date:
        return self.now.astimezone(UTC).date()

    @property
    def today_start(self) -> datetime:
        return datetime.combine(self.today, time(), tzinfo=UTC)

    @property
    def age_limits(self) -> tuple[datetime, datetime, datetime]:
        """Orders placed after the first are under a day old, after the second under two,
        after the third under three (``AGE_BUCKETS``)."""
        return (
            self.now - timedelta(days=1),
            self.now - timedelta(days=2),
            self.now - timedelta(days=3),
        )


@dataclass(frozen=True)
class BacklogCount:
    """Open orders with units still to ship, of one status and one age bucket."""

    status: str
    age: str
    orders: int


@dataclass(frozen=True)
class HoldCount:
    """Open holds of one reason, and how many of them are past their due time."""

    reason: str
    open: int
    past_sla: int


@dataclass(frozen=True)
class ShippingTally:
    """Shipments created in the range in one currency: how many, for how many orders, and
    what their labels cost together."""

    currency: str
    shipments: int
    orders: int
    cost: Decimal


@dataclass(frozen=True)
class Tally:
    """A count and the part of it that met the mark (``met`` of ``of``)."""

    of: int
    met: int


class DashboardRepository(Protocol):
    """Aggregate counts for a ``Window``, each computed by the database in one query."""

    def orders_per_day(self, window: Window) -> dict[date, int]: ...
    def orders_since(self, window: Window, since: datetime) -> int: ...
    def backlog(self, window: Window) -> list[BacklogCount]: ...
    def holds(self, window: Window) -> list[HoldCount]: ...
    def shipments_since(self, window: Window, since: datetime) -> Tally: ...
    def shipping(self, window: Window) -> list[ShippingTally]: ...
    def on_time(self, window: Window) -> Tally: ...
    def splits(self, window: Window) -> Tally: ...
    def fulfilment_errors(self, window: Window) -> dict[str, int]: ...


@dataclass(frozen=True)
class Rate:
    """``met`` of ``of``; ``value`` is their ratio to four places, None when ``of`` is 0."""

    of: int
    met: int

    @property
    def value(self) -> Decimal | None:
        if self.of == 0:
            return None
        return (Decimal(self.met) / Decimal(self.of)).quantize(_RATE_PLACES, ROUND_HALF_UP)


@dataclass(frozen=True)
class Backlog:
    total: int
    by_status: dict[str, int]
    by_age: dict[str, int]


@dataclass(frozen=True)
class CurrencyShipping:
    currency: str
    shipments: int
    orders: int
    total: Decimal

    @property
    def per_order(self) -> Decimal:
        return (self.total / self.orders).quantize(_MONEY_PLACES, ROUND_HALF_UP)


@dataclass(frozen=True)
class Dashboard:
    """Every figure of the dashboard (docs/dashboard.md)."""

    tenant_id: UUID | None
    days: DayRange
    as_of: datetime
    orders_per_day: list[tuple[date, int]]
    orders_today: int
    backlog: Backlog
    holds: list[HoldCount]
    shipped_today: Tally  # of: shipments, met: orders they were for
    on_time_ship_rate: Rate
    split_rate: Rate
    shipping_cost: list[CurrencyShipping]
    fulfilment_errors: dict[str, int] = field(default_factory=dict)

    @property
    def orders_in_range(self) -> int:
        return sum(count for _, count in self.orders_per_day)


def _backlog(counts: Sequence[BacklogCount]) -> Backlog:
    by_status: dict[str, int] = {}
    by_age = dict.fromkeys(AGE_BUCKETS, 0)
    for count in counts:
        by_status[count.status] = by_status.get(count.status, 0) + count.orders
        by_age[count.age] += count.orders
    return Backlog(total=sum(by_age.values()), by_status=by_status, by_age=by_age)


def dashboard(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID | None,
    first: date | None,
    last: date | None,
    now: datetime,
) -> Dashboard:
    """The dashboard of one tenant (``tenant_id``) or of every tenant (None: operators
    only, which the caller decides) for the days ``first`` to ``last``, as of ``now``."""
    today = now.astimezone(UTC).date()
    window = Window(tenant_id, day_range(first=first, last=last, today=today), now)
    with uow_factory(readonly=True) as uow:
        repo = uow.dashboard
        per_day = repo.orders_per_day(window)
        orders_today = repo.orders_since(window, window.today_start)
        backlog = repo.backlog(window)
        holds = repo.holds(window)
        shipped_today = repo.shipments_since(window, window.today_start)
        shipping = repo.shipping(window)
        on_time = repo.on_time(window)
        splits = repo.splits(window)
        errors = repo.fulfilment_errors(window)
    days = window.days
    return Dashboard(
        tenant_id=tenant_id,
        days=days,
        as_of=now,
        orders_per_day=[
            (day, per_day.get(day, 0))
            for day in (days.first + timedelta(days=n) for n in range(days.days))
        ],
        orders_today=orders_today,
        backlog=_backlog(backlog),
        holds=sorted(holds, key=lambda h: h.reason),
        shipped_today=shipped_today,
        on_time_ship_rate=Rate(of=on_time.of, met=on_time.met),
        split_rate=Rate(of=splits.of, met=splits.met),
        shipping_cost=[
            CurrencyShipping(s.currency, s.shipments, s.orders, s.cost)
            for s in sorted(shipping, key=lambda s: s.currency)
            if s.orders
        ],
        fulfilment_errors={cause: errors.get(cause, 0) for cause in ERROR_CAUSES.values()},
    )
