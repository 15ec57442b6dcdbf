"""The dashboard's figures as aggregate queries, the same on PostgreSQL and SQLite.

Every query is scoped by the window's tenant, or by none for an operator's view of every
tenant; each returns counts, never rows of orders (docs/dashboard.md).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Select,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.sql import Executable

from oms.adapters.db.tables import (
    BACKLOG_PREDICATE,
    ERROR_EVENTS_PREDICATE,
    fulfillment_orders,
    order_events,
    order_holds,
    orders,
    shipments,
)
from oms.services.dashboard import (
    AGE_BUCKETS,
    ERROR_CAUSES,
    BacklogCount,
    HoldCount,
    ShippingTally,
    Tally,
    Window,
)

__all__ = ["SqlDashboardRepository"]

_o = orders.c
_s = shipments.c
_fo = fulfillment_orders.c
_h = order_holds.c
_ev = order_events.c

# Order ids are unique across tenants (UUIDv7), so counting them needs no tenant beside.
# Open orders with units still to ship, and the fulfilment errors, written as the partial
# indexes' predicates (as constants, so that PostgreSQL sees every plan may use them).
# Each is used in a query of its one table only.
_BACKLOG = text(BACKLOG_PREDICATE)
_ERRORS = text(ERROR_EVENTS_PREDICATE)
# A split is two locations shipping or handing over the same order; a digital download
# comes from no shelf, and a rejected fulfilment order was routed again elsewhere.
_SPLIT_KINDS = ("ship", "pickup")


_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def _scoped(query: _Query, column: Any, window: Window) -> _Query:
    """``query`` of the window's tenant, or of every tenant (an operator's view)."""
    if window.tenant_id is None:
        return query
    scoped: _Query = query.where(column == window.tenant_id)
    return scoped


class SqlDashboardRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"
        self._prepared = False

    def _rows(self, query: Executable) -> Any:
        """Run ``query``; on PostgreSQL first turn JIT compilation off for the transaction:
        these aggregates cost enough to trigger it, and compiling them took longer than
        running them (docs/performance.md, Portal)."""
        if self._postgres and not self._prepared:
            self._conn.execute(text("SET LOCAL jit = off"))
            self._prepared = True
        return self._conn.execute(query)

    def _day(self, column: Any) -> ColumnElement[Any]:
        """The UTC day of a timestamp column, as a date (PostgreSQL) or ISO text (SQLite,
        which stores UTC timestamps as ISO text)."""
        if self._postgres:
            return cast(func.timezone("UTC", column), Date)
        return func.substr(column, 1, 10)

    @staticmethod
    def _as_date(value: Any) -> date:
        return value if isinstance(value, date) else date.fromisoformat(str(value))

    def orders_per_day(self, window: Window) -> dict[date, int]:
        day = self._day(_o.created_at).label("day")
        query = _scoped(
            select(day, func.count().label("n")).where(
                _o.created_at >= window.days.start, _o.created_at < window.days.end
            ),
            _o.tenant_id,
            window,
        ).group_by(day)
        return {self._as_date(row.day): int(row.n) for row in self._rows(query)}

    def orders_since(self, window: Window, since: datetime) -> int:
        query = _scoped(
            select(func.count()).select_from(orders).where(_o.created_at >= since),
            _o.tenant_id,
            window,
        )
        return int(self._rows(query).scalar() or 0)

    def backlog(self, window: Window) -> list[BacklogCount]:
        day1, day2, day3 = window.age_limits
        age = case(
            (_o.created_at > day1, literal(AGE_BUCKETS[0])),
            (_o.created_at > day2, literal(AGE_BUCKETS[1])),
            (_o.created_at > day3, literal(AGE_BUCKETS[2])),
            else_=literal(AGE_BUCKETS[3]),
        ).label("age")
        query = _scoped(
            select(_o.status, age, func.count().label("n")).where(_BACKLOG),
            _o.tenant_id,
            window,
        ).group_by(_o.status, age)
        return [
            BacklogCount(status=row.status, age=row.age, orders=int(row.n))
            for row in self._rows(query)
        ]

    def holds(self, window: Window) -> list[HoldCount]:
        late = func.sum(case((_h.due_at < window.now, 1), else_=0)).label("late")
        query = _scoped(
            select(_h.reason, func.count().label("n"), late).where(_h.released_at.is_(None)),
            _h.tenant_id,
            window,
        ).group_by(_h.reason)
        return [
            HoldCount(reason=row.reason, open=int(row.n), past_sla=int(row.late or 0))
            for row in self._rows(query)
        ]

    def shipments_since(self, window: Window, since: datetime) -> Tally:
        query = _scoped(
            select(
                func.count().label("n"),
                func.count(distinct(_s.order_id)).label("o"),
            ).where(_s.created_at >= since),
            _s.tenant_id,
            window,
        )
        row = self._rows(query).one()
        return Tally(of=int(row.n or 0), met=int(row.o or 0))

    def shipping(self, window: Window) -> list[ShippingTally]:
        query = _scoped(
            select(
                _s.currency,
                func.count().label("n"),
                func.count(distinct(_s.order_id)).label("o"),
                func.sum(_s.cost).label("cost"),
            ).where(_s.created_at >= window.days.start, _s.created_at < window.days.end),
            _s.tenant_id,
            window,
        ).group_by(_s.currency)
        return [
            ShippingTally(
                currency=row.currency,
                shipments=int(row.n),
                orders=int(row.o),
                cost=Decimal(str(row.cost or 0)),
            )
            for row in self._rows(query)
        ]

    def on_time(self, window: Window) -> Tally:
        # Each order due in the range with its first shipment (None: not shipped).
        due = (
            _scoped(
                select(
                    _o.promised_ship_by.label("due"),
                    func.min(_s.created_at).label("shipped_at"),
                )
                .select_from(
                    orders.outerjoin(
                        shipments, and_(_s.tenant_id == _o.tenant_id, _s.order_id == _o.id)
                    )
                )
                .where(
                    _o.promised_ship_by >= window.days.first,
                    _o.promised_ship_by <= window.days.last,
                    _o.status != "cancelled",
                ),
                _o.tenant_id,
                window,
            )
            .group_by(_o.tenant_id, _o.id, _o.promised_ship_by)
            .subquery()
        )
        counted = or_(due.c.shipped_at.is_not(None), due.c.due < window.today)
        query = select(
            func.sum(case((counted, 1), else_=0)).label("of"),
            func.sum(case((self._day(due.c.shipped_at) <= due.c.due, 1), else_=0)).label("met"),
        )
        row = self._rows(query).one()
        return Tally(of=int(row.of or 0), met=int(row.met or 0))

    def splits(self, window: Window) -> Tally:
        per_order = _scoped(
            select(func.count(distinct(_fo.location_id)).label("locations"))
            .select_from(
                fulfillment_orders.join(
                    orders, and_(_o.tenant_id == _fo.tenant_id, _o.id == _fo.order_id)
                )
            )
            .where(
                _o.created_at >= window.days.start,
                _o.created_at < window.days.end,
                _fo.kind.in_(_SPLIT_KINDS),
                _fo.status != "rejected",
            ),
            _o.tenant_id,
            window,
        )
        grouped = per_order.group_by(_fo.tenant_id, _fo.order_id).subquery()
        query = select(
            func.count().label("of"),
            func.sum(case((grouped.c.locations > 1, 1), else_=0)).label("met"),
        )
        row = self._rows(query).one()
        return Tally(of=int(row.of or 0), met=int(row.met or 0))

    def fulfilment_errors(self, window: Window) -> dict[str, int]:
        query = _scoped(
            select(_ev.type, func.count().label("n")).where(
                _ERRORS,
                _ev.created_at >= window.days.start,
                _ev.created_at < window.days.end,
            ),
            _ev.tenant_id,
            window,
        ).group_by(_ev.type)
        return {ERROR_CAUSES[row.type]: int(row.n) for row in self._rows(query)}
