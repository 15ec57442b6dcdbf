"""The daily rollups give the dashboard the figures the raw rows give, on SQLite and
PostgreSQL: random activity (orders placed, due, split, shipped in two currencies over
several days, fulfilment errors), part of it before a rebuild and part after (new orders,
and old orders shipped again, cancelled or routed to a second location: their shares in
the rollups subtracted, their rows read raw), read through the rollups and raw, with the
changed orders named by id or found by ``ix_orders_updated``; and keeping them is
idempotent (a refresh, another refresh, a rebuild: the same rows, the daily rows of the
dashboard's kinds the sums of the orders' shares).

The rows are written straight into the tables (the dashboard reads only these columns),
so that hypothesis can draw many shapes of activity quickly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock
from uuid import UUID

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Engine, cast, delete, func, insert, select, update

from oms.adapters.db.repositories import dashboard as dashboard_queries
from oms.adapters.db.repositories.rollups import ORDER_KINDS
from oms.adapters.db.tables import (
    analytics_facts,
    analytics_order_facts,
    analytics_state,
    fulfillment_order_lines,
    fulfillment_orders,
    order_events,
    order_lines,
    orders,
    shipments,
)
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.ids import new_id
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import catalogue
from oms.services.dashboard import Dashboard, dashboard
from oms.services.rollups import MARGIN, RollupState, rebuild, refresh
from oms.services.tenants import create_tenant

DAY0 = date(2031, 5, 1)
NOW = datetime(2031, 5, 11, 15, 0, tzinfo=UTC)  # day 10, afternoon
REBUILT = datetime(2031, 5, 9, 12, 0, tzinfo=UTC)  # day 8, noon
EVENT_TYPES = (
    "fulfillment_order.short_picked",
    "shipment.exception",
    "shipment.returned_to_sender",
    "fulfillment_order.scan_refused",
    "order.created",
)


@dataclass(frozen=True)
class Drawn:
    day: int
    hour: int
    channel: str
    promise: int | None
    cancelled: bool
    fos: list[tuple[int, str, bool]]  # location index, kind, rejected
    ships: list[tuple[int, int, str, int]]  # days after placing, hour, currency, cost cents
    events: list[tuple[int, int, str]]  # days after placing, hour, type
    quantity: int
    # Changed after the rebuild, a minute after it (or after placing): cancelled, and
    # routed to one more location (a ship fulfilment order there).
    cancelled_later: bool = False
    rerouted_later: int | None = None


_order = st.builds(
    Drawn,
    day=st.integers(0, 10),
    hour=st.integers(0, 23),
    channel=st.sampled_from(["api", "shopify"]),
    promise=st.none() | st.integers(0, 3),
    cancelled=st.booleans(),
    fos=st.lists(
        st.tuples(st.integers(0, 1), st.sampled_from(["ship", "pickup", "digital"]), st.booleans()),
        max_size=3,
    ),
    ships=st.lists(
        st.tuples(
            st.integers(0, 4),
            st.integers(0, 23),
            st.sampled_from(["EUR", "USD"]),
            st.integers(0, 99_999),
        ),
        max_size=3,
    ),
    events=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 23), st.sampled_from(EVENT_TYPES)),
        max_size=2,
    ),
    quantity=st.integers(1, 5),
    cancelled_later=st.booleans(),
    rerouted_later=st.none() | st.integers(0, 1),
)
_range = st.tuples(st.integers(0, 12), st.integers(0, 12)).map(sorted)


def _at(day: int, hour: int) -> datetime:
    return datetime(DAY0.year, DAY0.month, DAY0.day, hour, 7, tzinfo=UTC) + timedelta(days=day)


class _Writer:
    """Rows of the drawn activity, written in two phases: before the rebuild, after it."""

    def __init__(self, engine: Engine, tenant_id: UUID, locations: list[UUID]) -> None:
        self.engine = engine
        self.tenant_id = tenant_id
        self.locations = locations
        self.number = 0

    def write(self, drawn: Drawn, *, after: bool) -> None:
        """Write what of ``drawn`` happened before ``REBUILT`` (``after``: from then on to
        ``NOW``); each order's ``updated_at`` is its latest change written."""
        placed = _at(drawn.day, drawn.hour)
        if placed > NOW:
            return
        t = self.tenant_id
        with self.engine.begin() as conn:
            if (placed >= REBUILT) == after:
                self._order(conn, drawn, placed)
            elif not after:
                return  # placed after the rebuild: nothing of it exists before
            order_id = self._ids[id(drawn)]
            latest: datetime | None = placed if (placed >= REBUILT) == after else None
            for n, (days, hour, currency, cents) in enumerate(drawn.ships):
                at = placed + timedelta(days=days, hours=hour)
                if at > NOW or (at >= REBUILT) != after:
                    continue
                fo_id = self._fos[id(drawn)]
                conn.execute(
                    insert(shipments).values(
                        tenant_id=t,
                        id=new_id(),
                        order_id=order_id,
                        fulfillment_order_id=fo_id,
                        carrier="acme",
                        service="ground",
                        tracking_number=f"T{order_id.hex[:12]}{n}",
                        tracking_url="https://example.test/t",
                        cost=Decimal(cents) / 100,
                        currency=currency,
                        status="in_transit",
                        contents=[],
                        package_ids=[],
                        created_by="test",
                        created_at=at,
                        updated_at=at,
                    )
                )
                latest = max(latest or at, at)
            for n, (days, hour, kind) in enumerate(drawn.events):
                at = placed + timedelta(days=days, hours=hour)
                if at > NOW or (at >= REBUILT) != after:
                    continue
                conn.execute(
                    insert(order_events).values(
                        tenant_id=t,
                        order_id=order_id,
                        seq=n + 1,
                        type=kind,
                        actor="test",
                        data={},
                        created_at=at,
                    )
                )
                latest = max(latest or at, at)
            if after:
                latest = self._change_later(conn, drawn, placed, latest)
            if latest is not None:
                conn.execute(
                    update(orders)
                    .where(orders.c.tenant_id == t, orders.c.id == order_id)
                    .values(updated_at=latest)
                )

    _ids: dict[int, UUID]
    _fos: dict[int, UUID]

    def _change_later(
        self, conn: Any, drawn: Drawn, placed: datetime, latest: datetime | None
    ) -> datetime | None:
        """Cancel and re-route the order after the rebuild, as drawn; its latest change."""
        if not drawn.cancelled_later and drawn.rerouted_later is None:
            return latest
        at = max(placed, REBUILT) + timedelta(minutes=1)
        order_id = self._ids[id(drawn)]
        if drawn.cancelled_later:
            conn.execute(
                update(orders)
                .where(orders.c.tenant_id == self.tenant_id, orders.c.id == order_id)
                .values(status="cancelled")
            )
        if drawn.rerouted_later is not None:
            self.number += 1
            conn.execute(
                insert(fulfillment_orders).values(
                    tenant_id=self.tenant_id,
                    id=new_id(),
                    order_id=order_id,
                    order_number=self.number,
                    location_id=self.locations[drawn.rerouted_later],
                    kind="ship",
                    status="open",
                    on_hold=False,
                    priority=0,
                    version=1,
                    created_at=at,
                    updated_at=at,
                )
            )
        return max(latest or at, at)

    def _order(self, conn: Any, drawn: Drawn, placed: datetime) -> None:
        t = self.tenant_id
        self.number += 1
        order_id = new_id()
        self._ids[id(drawn)] = order_id
        conn.execute(
            insert(orders).values(
                tenant_id=t,
                id=order_id,
                number=self.number,
                channel=drawn.channel,
                external_id=None,
                currency="EUR",
                subtotal=Decimal("10.00") * drawn.quantity,
                total=Decimal("10.00") * drawn.quantity,
                promised_ship_by=None
                if drawn.promise is None
                else placed.date() + timedelta(days=drawn.promise),
                status="cancelled" if drawn.cancelled else "open",
                fulfillment_status="unfulfilled",
                payment_status="paid",
                allow_backorder=False,
                tags=[],
                version=1,
                created_at=placed,
                updated_at=placed,
            )
        )
        conn.execute(
            insert(order_lines).values(
                tenant_id=t,
                order_id=order_id,
                line_no=1,
                sku=f"SKU-{drawn.quantity % 3}",
                name="Thing",
                kind="physical",
                quantity=drawn.quantity,
                unit_price=Decimal("10.00"),
                allocated=0,
                backordered=drawn.quantity,
                shipped=0,
                delivered=0,
                cancelled=0,
                returned=0,
            )
        )
        # Every order has a fulfilment order for its shipments to hang off (a rejected
        # digital one counts nowhere), then the drawn ones.
        fos = [(0, "digital", True), *drawn.fos]
        for k, (location, kind, rejected) in enumerate(fos):
            fo_id = new_id()
            if k == 0:
                self._fos[id(drawn)] = fo_id
            conn.execute(
                insert(fulfillment_orders).values(
                    tenant_id=t,
                    id=fo_id,
                    order_id=order_id,
                    order_number=self.number,
                    location_id=self.locations[location],
                    kind=kind,
                    status="rejected" if rejected else "open",
                    on_hold=False,
                    priority=0,
                    version=1,
                    created_at=placed,
                    updated_at=placed,
                )
            )
            conn.execute(
                insert(fulfillment_order_lines).values(
                    tenant_id=t,
                    fulfillment_order_id=fo_id,
                    seq=1,
                    line_no=1,
                    sku=f"SKU-{drawn.quantity % 3}",
                    quantity=drawn.quantity,
                    picked=0,
                    short=0,
                    packed=0,
                    shipped=0,
                    delivered=0,
                    cancelled=0,
                )
            )


def _shop(uow_factory: SqlUnitOfWorkFactory) -> tuple[UUID, list[UUID]]:
    tenant, _ = create_tenant(uow_factory=uow_factory, name="rollup shop")
    principal = Principal(key_id=new_id(), scope=ApiKeyScope.TENANT, tenant_id=tenant.id)
    locations = [
        catalogue.create_location(
            uow_factory=uow_factory,
            principal=principal,
            command=catalogue.NewLocation(code=f"WH-{k}", name=f"Warehouse {k}"),
        ).id
        for k in (1, 2)
    ]
    return tenant.id, locations


def _figures(found: Dashboard) -> dict[str, Any]:
    """The figures over the range (those the rollups serve), money to the cent."""
    return {
        "per_day": found.orders_per_day,
        "on_time": found.on_time_ship_rate,
        "split": found.split_rate,
        "shipping": [
            (s.currency, s.shipments, s.orders, s.total.quantize(Decimal("0.01")))
            for s in found.shipping_cost
        ],
        "errors": found.fulfilment_errors,
        "today": (found.orders_today, found.shipped_today),
    }


def _read(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, ranges: list[list[int]]) -> list[Any]:
    return [
        _figures(
            dashboard(
                uow_factory=uow_factory,
                tenant_id=tenant_id,
                first=DAY0 + timedelta(days=a),
                last=DAY0 + timedelta(days=b),
                now=NOW,
            )
        )
        for a, b in ranges
    ]


def _facts(engine: Engine, tenant_id: UUID) -> list[Any]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(analytics_facts).where(analytics_facts.c.tenant_id == tenant_id)
        ).all()
    return sorted(tuple(row) for row in rows)


def _summed_shares(engine: Engine, tenant_id: UUID) -> list[Any]:
    """The orders' shares summed as the daily rows are keyed, in their columns."""
    c = analytics_order_facts.c
    keys = [c[name] for name in analytics_facts.c.keys()[:12]]
    measures = analytics_facts.c.keys()[12:]
    with engine.connect() as conn:
        rows = conn.execute(
            select(*keys, *[cast(func.sum(c[name]), BigInteger) for name in measures])
            .where(c.tenant_id == tenant_id)
            .group_by(*keys)
        ).all()
    return sorted(tuple(row) for row in rows)


def _shares(engine: Engine, tenant_id: UUID) -> list[Any]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(analytics_order_facts).where(analytics_order_facts.c.tenant_id == tenant_id)
        ).all()
    return sorted(tuple(row) for row in rows)


def _drop_state(engine: Engine, tenant_id: UUID) -> None:
    with engine.begin() as conn:
        conn.execute(delete(analytics_state).where(analytics_state.c.tenant_id == tenant_id))


@settings(
    max_examples=12,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    activity=st.lists(_order, min_size=1, max_size=14),
    ranges=st.lists(_range, min_size=1, max_size=3),
    by_id=st.booleans(),
)
def test_the_dashboard_reads_the_same_figures_from_the_rollups_as_from_the_rows(
    engine: Engine, activity: list[Drawn], ranges: list[list[int]], by_id: bool
) -> None:
    uow_factory = SqlUnitOfWorkFactory(engine)
    tenant_id, locations = _shop(uow_factory)
    writer = _Writer(engine, tenant_id, locations)
    writer._ids, writer._fos = {}, {}
    for drawn in activity:
        writer.write(drawn, after=False)
    rebuild(uow_factory=uow_factory, now=REBUILT, tenant_ids=[tenant_id])
    for drawn in activity:
        writer.write(drawn, after=True)

    # The changed orders named by id, or (as for more than _BY_ID) found by their index.
    with mock.patch.object(dashboard_queries, "_BY_ID", 200 if by_id else 0):
        through_rollups = _read(uow_factory, tenant_id, ranges)
    _drop_state(engine, tenant_id)
    raw = _read(uow_factory, tenant_id, ranges)
    assert through_rollups == raw

    # The worker catches up: the same figures, now mostly from the rollups.
    with engine.begin() as conn:
        conn.execute(
            insert(analytics_state).values(
                tenant_id=tenant_id,
                covered_from=DAY0,
                watermark=REBUILT,
                updated_at=REBUILT,
            )
        )
    refresh(uow_factory=uow_factory, now=NOW + MARGIN, tenant_ids=[tenant_id])
    assert _read(uow_factory, tenant_id, ranges) == raw
    refreshed = _facts(engine, tenant_id)
    assert refreshed or all(_at(d.day, d.hour) > NOW for d in activity)
    assert _summed_shares(engine, tenant_id) == [r for r in refreshed if r[2] in ORDER_KINDS]
    shares = _shares(engine, tenant_id)

    # Idempotent: refreshing again, or rebuilding, writes the same rows.
    refresh(uow_factory=uow_factory, now=NOW + 2 * MARGIN, tenant_ids=[tenant_id])
    assert _facts(engine, tenant_id) == refreshed
    assert _shares(engine, tenant_id) == shares
    rebuild(uow_factory=uow_factory, now=NOW + 3 * MARGIN, since=DAY0, tenant_ids=[tenant_id])
    assert _facts(engine, tenant_id) == refreshed
    assert _shares(engine, tenant_id) == shares
    assert _read(uow_factory, tenant_id, ranges) == raw
    with uow_factory(readonly=True) as uow:
        state = uow.rollups.state(tenant_id)
    assert state == RollupState(tenant_id, DAY0, NOW + 3 * MARGIN)


@pytest.mark.parametrize("by_id", [True, False], ids=["named-by-id", "found-by-index"])
def test_a_changed_order_placed_before_a_later_rebuilds_coverage_is_read_raw_once(
    engine: Engine, by_id: bool
) -> None:
    """Rebuilt whole, then again from day 5 on: the rollups of day 2 (and its order's share)
    are left over, outside the coverage. That order and one of day 6 ship again after the
    rebuild: each is read raw once, and only the share inside the coverage is subtracted."""
    uow_factory = SqlUnitOfWorkFactory(engine)
    tenant_id, locations = _shop(uow_factory)
    writer = _Writer(engine, tenant_id, locations)
    writer._ids, writer._fos = {}, {}
    activity = [
        Drawn(day, 9, "api", 1, False, [(0, "ship", False)], ships, [], 2)
        for day, ships in (
            (2, [(1, 10, "EUR", 400), (7, 1, "EUR", 100)]),
            (6, [(0, 12, "USD", 900), (3, 1, "USD", 250)]),
            (6, [(1, 12, "USD", 700)]),
        )
    ]
    for drawn in activity:
        writer.write(drawn, after=False)
    rebuild(uow_factory=uow_factory, now=REBUILT - timedelta(hours=1), tenant_ids=[tenant_id])
    rebuild(
        uow_factory=uow_factory, now=REBUILT, since=DAY0 + timedelta(days=5), tenant_ids=[tenant_id]
    )
    for drawn in activity:
        writer.write(drawn, after=True)
    ranges = [[0, 12], [2, 3], [5, 10], [9, 10]]

    with mock.patch.object(dashboard_queries, "_BY_ID", 200 if by_id else 0):
        through_rollups = _read(uow_factory, tenant_id, ranges)
    _drop_state(engine, tenant_id)
    assert through_rollups == _read(uow_factory, tenant_id, ranges)
    assert through_rollups[0]["shipping"]
