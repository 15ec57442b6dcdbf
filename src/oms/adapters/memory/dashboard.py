"""The dashboard's port in memory: the few facts its figures are counted from, kept as plain
records, and the same definitions as the SQL queries written as Python loops
(``oms.adapters.db.repositories.dashboard``). Tests of ``oms.services.dashboard`` use it;
a contract test holds both to the same answers."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Self
from uuid import UUID

from oms.services.dashboard import (
    AGE_BUCKETS,
    ERROR_CAUSES,
    BacklogCount,
    HoldCount,
    ShippingTally,
    Tally,
    Window,
)

__all__ = [
    "EventFact",
    "FulfilmentFact",
    "HoldFact",
    "MemoryDashboard",
    "OrderFact",
    "ShipmentFact",
]


@dataclass(frozen=True)
class OrderFact:
    tenant_id: UUID
    id: UUID
    created_at: datetime
    status: str = "open"
    fulfillment_status: str = "unfulfilled"
    promised_ship_by: date | None = None


@dataclass(frozen=True)
class HoldFact:
    tenant_id: UUID
    order_id: UUID
    reason: str
    due_at: datetime
    released_at: datetime | None = None


@dataclass(frozen=True)
class ShipmentFact:
    tenant_id: UUID
    order_id: UUID
    created_at: datetime
    cost: Decimal
    currency: str = "EUR"


@dataclass(frozen=True)
class FulfilmentFact:
    tenant_id: UUID
    order_id: UUID
    location_id: UUID
    kind: str = "ship"
    status: str = "open"


@dataclass(frozen=True)
class EventFact:
    tenant_id: UUID
    order_id: UUID
    type: str
    created_at: datetime


def _utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


@dataclass
class MemoryDashboard:
    """A ``DashboardRepository`` over lists of facts; also its own unit of work (the
    ``uow_factory`` of the dashboard use case: ``uow.dashboard`` is itself)."""

    orders: list[OrderFact] = field(default_factory=list)
    holds_: list[HoldFact] = field(default_factory=list)
    shipments: list[ShipmentFact] = field(default_factory=list)
    fulfilment: list[FulfilmentFact] = field(default_factory=list)
    events: list[EventFact] = field(default_factory=list)

    # --- a unit of work of one repository -------------------------------------------------

    def __call__(self, *, readonly: bool = False) -> Self:
        return self

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @property
    def dashboard(self) -> Self:
        return self

    # --- the port ---------------------------------------------------------------------------

    @staticmethod
    def _mine(window: Window, tenant_id: UUID) -> bool:
        return window.tenant_id is None or window.tenant_id == tenant_id

    def _in_range(self, window: Window, at: datetime) -> bool:
        return window.days.start <= at < window.days.end

    def orders_per_day(self, window: Window) -> dict[date, int]:
        return dict(
            Counter(
                _utc_day(o.created_at)
                for o in self.orders
                if self._mine(window, o.tenant_id) and self._in_range(window, o.created_at)
            )
        )

    def orders_since(self, window: Window, since: datetime) -> int:
        return sum(
            1 for o in self.orders if self._mine(window, o.tenant_id) and o.created_at >= since
        )

    def backlog(self, window: Window) -> list[BacklogCount]:
        limits = window.age_limits
        counts: Counter[tuple[str, str]] = Counter()
        for o in self.orders:
            if not self._mine(window, o.tenant_id):
                continue
            if o.status not in ("open", "on_hold") or o.fulfillment_status not in (
                "unfulfilled",
                "partially_fulfilled",
            ):
                continue
            bucket = next(
                (AGE_BUCKETS[n] for n, limit in enumerate(limits) if o.created_at > limit),
                AGE_BUCKETS[3],
            )
            counts[(o.status, bucket)] += 1
        return [BacklogCount(status=s, age=a, orders=n) for (s, a), n in counts.items()]

    def holds(self, window: Window) -> list[HoldCount]:
        opened: Counter[str] = Counter()
        late: Counter[str] = Counter()
        for h in self.holds_:
            if self._mine(window, h.tenant_id) and h.released_at is None:
                opened[h.reason] += 1
                late[h.reason] += h.due_at < window.now
        return [HoldCount(reason=r, open=n, past_sla=late[r]) for r, n in opened.items()]

    def shipments_since(self, window: Window, since: datetime) -> Tally:
        found = [
            s for s in self.shipments if self._mine(window, s.tenant_id) and s.created_at >= since
        ]
        return Tally(of=len(found), met=len({s.order_id for s in found}))

    def shipping(self, window: Window) -> list[ShippingTally]:
        by_currency: dict[str, list[ShipmentFact]] = defaultdict(list)
        for s in self.shipments:
            if self._mine(window, s.tenant_id) and self._in_range(window, s.created_at):
                by_currency[s.currency].append(s)
        return [
            ShippingTally(
                currency=currency,
                shipments=len(found),
                orders=len({s.order_id for s in found}),
                cost=sum((s.cost for s in found), Decimal(0)),
            )
            for currency, found in by_currency.items()
        ]

    def on_time(self, window: Window) -> Tally:
        first_ship: dict[UUID, datetime] = {}
        for s in self.shipments:
            if s.order_id not in first_ship or s.created_at < first_ship[s.order_id]:
                first_ship[s.order_id] = s.created_at
        of = met = 0
        for o in self.orders:
            due = o.promised_ship_by
            if not self._mine(window, o.tenant_id) or o.status == "cancelled" or due is None:
                continue
            if not window.days.first <= due <= window.days.last:
                continue
            shipped = first_ship.get(o.id)
            if shipped is not None or due < window.today:
                of += 1
            if shipped is not None and _utc_day(shipped) <= due:
                met += 1
        return Tally(of=of, met=met)

    def splits(self, window: Window) -> Tally:
        placed = {
            o.id
            for o in self.orders
            if self._mine(window, o.tenant_id) and self._in_range(window, o.created_at)
        }
        locations: dict[UUID, set[UUID]] = defaultdict(set)
        for fo in self.fulfilment:
            if fo.order_id in placed and fo.kind in ("ship", "pickup") and fo.status != "rejected":
                locations[fo.order_id].add(fo.location_id)
        return Tally(of=len(locations), met=sum(1 for s in locations.values() if len(s) > 1))

    def fulfilment_errors(self, window: Window) -> dict[str, int]:
        return dict(
            Counter(
                ERROR_CAUSES[e.type]
                for e in self.events
                if e.type in ERROR_CAUSES
                and self._mine(window, e.tenant_id)
                and self._in_range(window, e.created_at)
            )
        )
