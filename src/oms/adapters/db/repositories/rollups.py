"""Analytics' daily rollups written from the raw rows, the same on PostgreSQL and SQLite.

``recount`` rewrites every fact of the orders one tenant placed on a run of days: one
DELETE and one INSERT ... SELECT per kind, each grouped by the database (docs/analytics.md
lists the kinds and their columns). The kinds the dashboard reads (``ORDER_KINDS``) are
written per order first (``analytics_order_facts``: each order's share, which the
dashboard subtracts when the order has changed since) and their daily rows are the sums of
those shares. Money is summed in ten-thousandths as integers, so the sums are exact on
SQLite too (which stores money as text).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Date,
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    delete,
    distinct,
    func,
    insert,
    literal,
    null,
    select,
    update,
)

from oms.adapters.db.repositories.stock_days import flag_stockouts, sample_stock
from oms.adapters.db.repositories.support import insert_if_absent
from oms.adapters.db.tables import (
    analytics_facts,
    analytics_order_facts,
    analytics_state,
    fulfillment_order_lines,
    fulfillment_orders,
    nightly_runs,
    order_events,
    order_lines,
    orders,
    return_lines,
    returns,
    shipments,
)
from oms.services.rollups import RollupState

__all__ = [
    "ERROR_TYPES",
    "ORDER_KINDS",
    "RETURN_ERROR_REASONS",
    "SqlRollupRepository",
    "day_of",
    "day_start",
    "e4_sum",
]

ERROR_TYPES = (
    "fulfillment_order.short_picked",
    "fulfillment_order.scan_refused",
    "shipment.exception",
    "shipment.returned_to_sender",
)
"""The timeline events counted as fulfilment errors (kind ``error``, by type)."""
RETURN_ERROR_REASONS = ("wrong_item", "damaged", "lost_in_transit", "damaged_in_transit")
"""Return reasons that are a fulfilment error: the wrong item sent, damaged in packing, lost
or damaged by the carrier (kind ``error``, detail ``return.<reason>``, one per return line)."""
SPLIT_KINDS = ("ship", "pickup")
ORDER_KINDS = ("placed", "split", "due", "ship_orders", "shipment", "error")
"""The kinds the dashboard reads, kept per order too (``analytics_order_facts``)."""

_o = orders.c
_s = shipments.c
_fo = fulfillment_orders.c
_fl = fulfillment_order_lines.c
_l = order_lines.c
_ev = order_events.c
_f = analytics_facts.c
_of = analytics_order_facts.c
_DIMS = ("channel", "sku", "location_id", "carrier", "service", "currency", "detail")
_MEASURES = ("n", "met", "done", "done_met", "orders", "amount_e4")


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def day_of(postgres: bool, column: Any) -> ColumnElement[Any]:
    """The UTC day of a timestamp column: a date (PostgreSQL) or ISO text (SQLite)."""
    if postgres:
        return cast(func.timezone("UTC", column), Date)
    return func.substr(column, 1, 10)


def e4_sum(postgres: bool, amount: Any) -> ColumnElement[Any]:
    """The sum of a money expression in ten-thousandths, exactly."""
    if postgres:
        return cast(func.round(func.coalesce(func.sum(amount), 0) * 10000), BigInteger)
    return func.coalesce(func.sum(cast(func.round(amount * 10000), Integer)), 0)


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class SqlRollupRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"

    def _day(self, column: Any) -> ColumnElement[Any]:
        return day_of(self._postgres, column)

    def _money(self, column: Any) -> Any:
        return column if self._postgres else cast(column, Float)

    # --- state --------------------------------------------------------------------------

    def state(self, tenant_id: UUID, *, for_update: bool = False) -> RollupState | None:
        query = select(analytics_state).where(analytics_state.c.tenant_id == tenant_id)
        if for_update:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        if row is None:
            return None
        return RollupState(row.tenant_id, row.covered_from, row.watermark)

    def states(self, tenant_id: UUID | None) -> list[RollupState]:
        query = select(analytics_state)
        if tenant_id is not None:
            query = query.where(analytics_state.c.tenant_id == tenant_id)
        return [
            RollupState(row.tenant_id, row.covered_from, row.watermark)
            for row in self._conn.execute(query)
        ]

    def save_state(self, state: RollupState, *, at: datetime) -> None:
        values = {
            "covered_from": state.covered_from,
            "watermark": state.watermark,
            "updated_at": at,
        }
        done = self._conn.execute(
            update(analytics_state)
            .where(analytics_state.c.tenant_id == state.tenant_id)
            .values(**values)
        )
        if done.rowcount == 0:
            self._conn.execute(insert(analytics_state).values(tenant_id=state.tenant_id, **values))

    def first_placed_day(self, tenant_id: UUID) -> date | None:
        first = self._conn.execute(
            select(func.min(_o.created_at)).where(_o.tenant_id == tenant_id)
        ).scalar()
        if first is None:
            return None
        found: datetime = first
        return found.astimezone(UTC).date()

    def changed_days(self, tenant_id: UUID, since: datetime) -> set[date]:
        day = self._day(_o.created_at)
        query = select(day).where(_o.updated_at >= since, _o.tenant_id == tenant_id).distinct()
        return {
            value if isinstance(value, date) else date.fromisoformat(str(value))
            for value in self._conn.scalars(query)
        }

    # --- the facts ----------------------------------------------------------------------

    def sample_stock(self, tenant_id: UUID, *, at: datetime, since: datetime | None) -> int:
        return sample_stock(self._conn, tenant_id, at=at, since=since)

    def flag_stockouts(self, tenant_id: UUID, since: date) -> int:
        return flag_stockouts(self._conn, tenant_id, since)

    def claim_nightly(self, tenant_id: UUID, day: date, *, now: datetime, lease: timedelta) -> bool:
        """Claim the tenant's nightly run of ``day``: True unless it is done, or started
        less than ``lease`` ago (by a worker that may still be at it)."""
        n = nightly_runs.c
        if insert_if_absent(
            self._conn, nightly_runs, {"tenant_id": tenant_id, "day": day, "started_at": now}
        ):
            return True
        row = self._conn.execute(
            select(n.started_at, n.finished_at)
            .where(n.tenant_id == tenant_id, n.day == day)
            .with_for_update()
        ).one()
        if row.finished_at is not None or row.started_at > now - lease:
            return False
        self._conn.execute(
            update(nightly_runs)
            .where(n.tenant_id == tenant_id, n.day == day)
            .values(started_at=now)
        )
        return True

    def finish_nightly(self, tenant_id: UUID, day: date, *, now: datetime) -> None:
        n = nightly_runs.c
        self._conn.execute(
            update(nightly_runs)
            .where(n.tenant_id == tenant_id, n.day == day)
            .values(finished_at=now)
        )

    def recount(self, tenant_id: UUID, first: date, last: date) -> int:
        """Rewrite the facts of the orders ``tenant_id`` placed from ``first`` to ``last``;
        the rows written."""
        for table in (analytics_facts, analytics_order_facts):
            self._conn.execute(
                delete(table).where(
                    table.c.tenant_id == tenant_id,
                    table.c.placed_day >= first,
                    table.c.placed_day <= last,
                )
            )
        scope = and_(
            _o.tenant_id == tenant_id,
            _o.created_at >= day_start(first),
            _o.created_at < day_start(last + timedelta(days=1)),
        )
        for query in self._facts(scope):
            names = [column.name for column in query.selected_columns]
            table = analytics_order_facts if "order_id" in names else analytics_facts
            self._conn.execute(insert(table).from_select(names, query))
        # The daily rows of the per-order kinds: the sums of the orders' shares.
        keys = [_of.tenant_id, _of.placed_day, _of.kind, _of.day, _of.dims]
        keys += [_of[name] for name in _DIMS]
        summed = (
            select(
                *keys,
                *[cast(func.sum(_of[name]), BigInteger).label(name) for name in _MEASURES],
            )
            .where(_of.tenant_id == tenant_id, _of.placed_day >= first, _of.placed_day <= last)
            .group_by(*keys)
        )
        names = [column.name for column in summed.selected_columns]
        self._conn.execute(insert(analytics_facts).from_select(names, summed))
        # (INSERT ... SELECT's rowcount is not reported alike by every driver: count them.)
        written = self._conn.execute(
            select(func.count())
            .select_from(analytics_facts)
            .where(_f.tenant_id == tenant_id, _f.placed_day >= first, _f.placed_day <= last)
        ).scalar()
        return int(written or 0)

    def _row(
        self,
        kind: str,
        placed: Any,
        day: Any,
        dims: dict[str, Any],
        measures: dict[str, Any],
    ) -> list[Any]:
        """The selected columns of one kind's facts, named as the table's (with the
        order's id for the kinds kept per order)."""
        columns: list[Any] = [
            _o.tenant_id.label("tenant_id"),
            *([_o.id.label("order_id")] if kind in ORDER_KINDS else []),
            placed.label("placed_day"),
            literal(kind).label("kind"),
            day.label("day"),
        ]
        key: Any = literal(kind)
        for name in _DIMS:
            value = dims.get(name)
            if value is None:
                columns.append(null().label(name))
                continue
            columns.append(value.label(name))
            key = key + literal("|") + func.coalesce(cast(value, String), literal(""))
        columns.append(key.label("dims"))
        for name in _MEASURES:
            columns.append(cast(measures.get(name, literal(0)), BigInteger).label(name))
        return columns

    def _facts(self, scope: ColumnElement[bool]) -> list[Any]:
        """Each kind's facts of the orders in ``scope``, per order (an ``order_id``
        column) for ``ORDER_KINDS``."""
        placed = self._day(_o.created_at)
        ship_day = self._day(_s.created_at)
        queries: list[Any] = []

        # placed: orders by channel and currency; met = cancelled; amount = order totals.
        queries.append(
            select(
                *self._row(
                    "placed",
                    placed,
                    placed,
                    {"channel": _o.channel, "currency": _o.currency},
                    {
                        "n": func.count(),
                        "met": _count(_o.status == "cancelled"),
                        "orders": func.count(),
                        "amount_e4": e4_sum(self._postgres, self._money(_o.total)),
                    },
                )
            )
            .where(scope)
            .group_by(_o.tenant_id, _o.id, placed, _o.channel, _o.currency)
        )

        # sales: ordered units by SKU; met = cancelled, done = shipped; amount = line value.
        value = self._money(_l.unit_price) * _l.quantity - self._money(_l.discount)
        queries.append(
            select(
                *self._row(
                    "sales",
                    placed,
                    placed,
                    {"channel": _o.channel, "sku": _l.sku, "currency": _o.currency},
                    {
                        "n": func.sum(_l.quantity),
                        "met": func.sum(_l.cancelled),
                        "done": func.sum(_l.shipped),
                        "done_met": func.sum(_l.returned),
                        "orders": func.count(distinct(_o.id)),
                        "amount_e4": e4_sum(self._postgres, value),
                    },
                )
            )
            .select_from(
                order_lines.join(orders, and_(_o.tenant_id == _l.tenant_id, _o.id == _l.order_id))
            )
            .where(scope)
            .group_by(_o.tenant_id, placed, _o.channel, _l.sku, _o.currency)
        )

        # units and sku: the sales facts without SKU (by channel) and without channel (by
        # SKU): the same sums in far fewer rows, for reads over long ranges.
        lines_from = order_lines.join(
            orders, and_(_o.tenant_id == _l.tenant_id, _o.id == _l.order_id)
        )
        for kind, dims in (
            ("units", {"channel": _o.channel, "currency": _o.currency}),
            ("sku", {"sku": _l.sku, "currency": _o.currency}),
        ):
            queries.append(
                select(
                    *self._row(
                        kind,
                        placed,
                        placed,
                        dims,
                        {
                            "n": func.sum(_l.quantity),
                            "met": func.sum(_l.cancelled),
                            "done": func.sum(_l.shipped),
                            "done_met": func.sum(_l.returned),
                            "orders": func.count(distinct(_o.id)),
                            "amount_e4": e4_sum(self._postgres, value),
                        },
                    )
                )
                .select_from(lines_from)
                .where(scope)
                .group_by(_o.tenant_id, placed, *dims.values())
            )

        # routed: units sent to each location (fulfilment orders not rejected), by SKU.
        routed_from = fulfillment_order_lines.join(
            fulfillment_orders,
            and_(_fo.tenant_id == _fl.tenant_id, _fo.id == _fl.fulfillment_order_id),
        ).join(orders, and_(_o.tenant_id == _fo.tenant_id, _o.id == _fo.order_id))
        queries.append(
            select(
                *self._row(
                    "routed",
                    placed,
                    placed,
                    {"location_id": _fo.location_id, "sku": _fl.sku},
                    {
                        "n": func.sum(_fl.quantity),
                        "met": func.sum(_fl.shipped),
                        "done": func.sum(_fl.short),
                        "done_met": func.sum(_fl.cancelled),
                        "orders": func.count(distinct(_o.id)),
                    },
                )
            )
            .select_from(routed_from)
            .where(scope, _fo.status != "rejected")
            .group_by(_o.tenant_id, placed, _fo.location_id, _fl.sku)
        )

        # split: orders with a shipping or pickup fulfilment order (n), at 2+ locations (met).
        per_order = (
            select(
                _o.tenant_id.label("tenant_id"),
                _o.id.label("order_id"),
                placed.label("placed"),
                func.count(distinct(_fo.location_id)).label("locations"),
            )
            .select_from(
                fulfillment_orders.join(
                    orders, and_(_o.tenant_id == _fo.tenant_id, _o.id == _fo.order_id)
                )
            )
            .where(scope, _fo.kind.in_(SPLIT_KINDS), _fo.status != "rejected")
            .group_by(_o.tenant_id, _o.id, placed)
            .subquery()
        )
        queries.append(
            select(
                per_order.c.tenant_id.label("tenant_id"),
                per_order.c.order_id.label("order_id"),
                per_order.c.placed.label("placed_day"),
                literal("split").label("kind"),
                per_order.c.placed.label("day"),
                *[null().label(name) for name in _DIMS],
                literal("split").label("dims"),
                cast(func.count(), BigInteger).label("n"),
                cast(_count(per_order.c.locations > 1), BigInteger).label("met"),
                *[cast(literal(0), BigInteger).label(n) for n in _MEASURES[2:]],
            ).group_by(per_order.c.tenant_id, per_order.c.order_id, per_order.c.placed)
        )

        # due: orders not cancelled by promised ship day; done = shipped, met = on time.
        first_ship = (
            select(
                _s.tenant_id.label("tenant_id"),
                _s.order_id.label("order_id"),
                func.min(_s.created_at).label("at"),
            )
            .select_from(
                shipments.join(orders, and_(_o.tenant_id == _s.tenant_id, _o.id == _s.order_id))
            )
            .where(scope)
            .group_by(_s.tenant_id, _s.order_id)
            .subquery()
        )
        queries.append(
            select(
                *self._row(
                    "due",
                    placed,
                    _o.promised_ship_by,
                    {"channel": _o.channel},
                    {
                        "n": func.count(),
                        "done": _count(first_ship.c.at.is_not(None)),
                        "met": _count(self._day(first_ship.c.at) <= _o.promised_ship_by),
                        "orders": func.count(),
                    },
                )
            )
            .select_from(
                orders.outerjoin(
                    first_ship,
                    and_(first_ship.c.tenant_id == _o.tenant_id, first_ship.c.order_id == _o.id),
                )
            )
            .where(scope, _o.promised_ship_by.is_not(None), _o.status != "cancelled")
            .group_by(_o.tenant_id, _o.id, placed, _o.promised_ship_by, _o.channel)
        )

        # ship_orders: orders shipping on a day in a currency, by the day they last shipped
        # before it in that currency (detail; NULL: never), so that distinct orders over any
        # range are the rows whose detail is before it.
        order_days = (
            select(
                _o.tenant_id.label("tenant_id"),
                placed.label("placed"),
                _s.order_id.label("order_id"),
                _s.currency.label("currency"),
                ship_day.label("day"),
            )
            .select_from(
                shipments.join(orders, and_(_o.tenant_id == _s.tenant_id, _o.id == _s.order_id))
            )
            .where(scope)
            .group_by(_o.tenant_id, placed, _s.order_id, _s.currency, ship_day)
            .subquery()
        )
        lagged = select(
            order_days,
            func.lag(order_days.c.day)
            .over(
                partition_by=(order_days.c.tenant_id, order_days.c.order_id, order_days.c.currency),
                order_by=order_days.c.day,
            )
            .label("prev"),
        ).subquery()
        prev = cast(lagged.c.prev, String)
        queries.append(
            select(
                lagged.c.tenant_id.label("tenant_id"),
                lagged.c.order_id.label("order_id"),
                lagged.c.placed.label("placed_day"),
                literal("ship_orders").label("kind"),
                lagged.c.day.label("day"),
                *[
                    (
                        lagged.c.currency if n == "currency" else prev if n == "detail" else null()
                    ).label(n)
                    for n in _DIMS
                ],
                (
                    literal("ship_orders|")
                    + lagged.c.currency
                    + literal("|")
                    + func.coalesce(prev, literal(""))
                ).label("dims"),
                cast(func.count(), BigInteger).label("n"),
                *[cast(literal(0), BigInteger).label(n) for n in _MEASURES[1:4]],
                cast(func.count(), BigInteger).label("orders"),
                cast(literal(0), BigInteger).label("amount_e4"),
            ).group_by(
                lagged.c.tenant_id,
                lagged.c.order_id,
                lagged.c.placed,
                lagged.c.day,
                lagged.c.currency,
                prev,
            )
        )

        # shipment: by ship day, location, carrier, service and currency; met = shipped by
        # the fulfilment order's promise, done = delivered, done_met = delivered by the
        # shipment's deliver_by; amount = label cost.
        shipped_from = shipments.join(
            orders, and_(_o.tenant_id == _s.tenant_id, _o.id == _s.order_id)
        ).join(
            fulfillment_orders,
            and_(_fo.tenant_id == _s.tenant_id, _fo.id == _s.fulfillment_order_id),
        )
        where_shipped = {
            "location_id": _fo.location_id,
            "carrier": _s.carrier,
            "service": _s.service,
            "currency": _s.currency,
        }
        delivered_day = self._day(_s.delivered_at)
        queries.append(
            select(
                *self._row(
                    "shipment",
                    placed,
                    ship_day,
                    where_shipped,
                    {
                        "n": func.count(),
                        "met": _count(ship_day <= _fo.promised_ship_by),
                        "done": _count(_s.delivered_at.is_not(None)),
                        "done_met": _count(delivered_day <= _s.deliver_by),
                        "orders": func.count(distinct(_s.order_id)),
                        "amount_e4": e4_sum(self._postgres, self._money(_s.cost)),
                    },
                )
            )
            .select_from(shipped_from)
            .where(scope)
            .group_by(_o.tenant_id, _o.id, placed, ship_day, *where_shipped.values())
        )

        # transit: delivered shipments by whole days from label to delivery (detail).
        if self._postgres:
            transit: Any = delivered_day - ship_day
        else:
            transit = cast(func.julianday(delivered_day) - func.julianday(ship_day), Integer)
        queries.append(
            select(
                *self._row(
                    "transit",
                    placed,
                    ship_day,
                    {
                        "location_id": _fo.location_id,
                        "carrier": _s.carrier,
                        "service": _s.service,
                        "detail": cast(transit, String),
                    },
                    {"n": func.count(), "orders": func.count(distinct(_s.order_id))},
                )
            )
            .select_from(shipped_from)
            .where(scope, _s.delivered_at.is_not(None))
            .group_by(
                _o.tenant_id, placed, ship_day, _fo.location_id, _s.carrier, _s.service, transit
            )
        )

        # error: fulfilment errors by the day they happened and their type (detail).
        event_day = self._day(_ev.created_at)
        queries.append(
            select(
                *self._row(
                    "error",
                    placed,
                    event_day,
                    {"detail": _ev.type},
                    {"n": func.count(), "orders": func.count(distinct(_o.id))},
                )
            )
            .select_from(
                order_events.join(
                    orders, and_(_o.tenant_id == _ev.tenant_id, _o.id == _ev.order_id)
                )
            )
            .where(scope, _ev.type.in_(ERROR_TYPES))
            .group_by(_o.tenant_id, _o.id, placed, event_day, _ev.type)
        )

        # return: units asked back by SKU and reason, by the day the return was asked for;
        # orders = returns, done = units received. A return line whose reason is a
        # fulfilment error also counts as one (error, detail return.<reason>).
        _r, _rl = returns.c, return_lines.c
        return_day = self._day(_r.created_at)
        reason = func.substr(_rl.reason, 1, 60)  # the detail column's length
        asked_back = return_lines.join(
            returns, and_(_r.tenant_id == _rl.tenant_id, _r.id == _rl.return_id)
        ).join(orders, and_(_o.tenant_id == _r.tenant_id, _o.id == _r.order_id))
        queries.append(
            select(
                *self._row(
                    "return",
                    placed,
                    return_day,
                    {"sku": _rl.sku, "detail": reason},
                    {
                        "n": func.sum(_rl.quantity),
                        "done": func.sum(_rl.restocked + _rl.quarantined + _rl.disposed),
                        "orders": func.count(distinct(_r.id)),
                    },
                )
            )
            .select_from(asked_back)
            .where(scope, _r.status != "rejected")
            .group_by(_o.tenant_id, placed, return_day, _rl.sku, reason)
        )
        cause = literal("return.") + _rl.reason
        queries.append(
            select(
                *self._row(
                    "error",
                    placed,
                    return_day,
                    {"detail": cause},
                    {"n": func.count(), "orders": func.count(distinct(_o.id))},
                )
            )
            .select_from(asked_back)
            .where(scope, _r.status != "rejected", _rl.reason.in_(RETURN_ERROR_REASONS))
            .group_by(_o.tenant_id, _o.id, placed, return_day, _rl.reason)
        )
        return queries
