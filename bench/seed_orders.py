"""Put many realistic orders into a PostgreSQL database quickly, for the portal benchmark.

Run it from the project root::

    .venv/bin/python bench/seed_orders.py [--orders 100000] [--tenants 5] [--days 120]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--database oms_bench_portal]
        [--seed 7] [--reuse]

It (re)creates ``--database`` on the server of ``--pg-url`` and migrates it; creates the
tenants (``oms.services.tenants.create_tenant``), three warehouses each
(``create_location``) and their order numbers (``next_order_numbers``, the sequence intake
draws from) through the use cases; then writes the orders and everything hanging off them
with ``COPY``: lines, holds, timeline events, fulfilment orders and their lines, shipments
and the shared tracking-number table. With ``--reuse`` it keeps a database that already
holds ``--orders`` orders.

What the orders look like (a seeded RNG): placed over the last ``--days`` days, more of them
recently; each 1-4 lines of 40 SKUs; customers drawn from a few thousand names, with
e-mail addresses made from them; channels shopify, woocommerce, api and pos with an
external id each. Orders older than three days are mostly shipped (delivered and closed
after a week), some cancelled, a few still open or on hold (the backlog); recent ones mostly
open. About 8% of the routed orders ship from two warehouses (a split); 1% had a short pick,
0.5% a carrier exception. A held order has an open hold whose due time follows the default
SLA of its reason (``oms.domain.holds.DEFAULT_HOLD_SLAS``).

Not written (the portal's figures and searches do not read them): payments, allocations
and inventory, customers, outbox messages. ``oms check`` is therefore not meaningful on it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

from benchkit import database_url, recreate_database
from oms.adapters.db.engine import build_engine
from oms.adapters.db.migrate import upgrade
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.config import Settings
from oms.domain.holds import DEFAULT_HOLD_SLAS, HoldReason
from oms.domain.ids import new_id
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import catalogue
from oms.services.tenants import create_tenant

__all__ = ["SeededDatabase", "seed"]

FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Barbara",
    "Edsger",
    "Donald",
    "Margaret",
    "Ken",
    "Dennis",
    "Frances",
    "Tim",
    "Radia",
    "Vint",
    "Bjarne",
    "Guido",
    "Anita",
    "Hedy",
    "Katherine",
    "John",
    "Mary",
    "Niklaus",
    "Sophie",
    "Yukihiro",
    "Erika",
    "Hans",
    "Lena",
    "Jonas",
    "Marta",
    "Pablo",
    "Ines",
    "Omar",
    "Aiko",
    "Priya",
    "Chen",
    "Fatima",
    "Lars",
    "Nora",
    "Paulo",
    "Zoe",
]
LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Liskov",
    "Dijkstra",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Ritchie",
    "Allen",
    "Berners",
    "Perlman",
    "Cerf",
    "Stroustrup",
    "Rossum",
    "Borg",
    "Lamarr",
    "Johnson",
    "McCarthy",
    "Shaw",
    "Wirth",
    "Wilson",
    "Matsumoto",
    "Mustermann",
    "Meier",
    "Schmidt",
    "Keller",
    "Garcia",
    "Silva",
    "Costa",
    "Haddad",
    "Sato",
    "Patel",
    "Wang",
    "Ahmed",
    "Larsen",
    "Berg",
    "Santos",
    "Young",
]
CHANNELS = ("shopify", "woocommerce", "api", "pos")
SKUS = [f"SKU-{n:03d}" for n in range(40)]
CITIES = (("Koeln", "50667"), ("Berlin", "10115"), ("Hamburg", "20095"), ("Muenchen", "80331"))
HOLD_REASONS = (HoldReason.PAYMENT_PENDING, HoldReason.ADDRESS_INVALID, HoldReason.MANUAL)
CARRIERS = (("dhl", "parcel", Decimal("4.90")), ("ups", "standard", Decimal("6.40")))


@dataclass
class SeededDatabase:
    """What was seeded: where, and the tenants with their warehouses."""

    url: str
    tenants: list[UUID] = field(default_factory=list)
    orders: int = 0
    seconds: float = 0.0


@dataclass
class _Rows:
    orders: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    holds: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    fos: list[tuple[Any, ...]] = field(default_factory=list)
    fo_lines: list[tuple[Any, ...]] = field(default_factory=list)
    shipments: list[tuple[Any, ...]] = field(default_factory=list)
    tracking: list[tuple[Any, ...]] = field(default_factory=list)


ORDER_COLUMNS = (
    "tenant_id, id, number, channel, external_id, currency, customer_email, customer_name, "
    "shipping_address, subtotal, total, shipping_total, shipping_price, service_level, "
    "promised_ship_by, promised_deliver_by, released_at, status, fulfillment_status, "
    "payment_status, allow_backorder, tags, version, created_at, updated_at"
)
LINE_COLUMNS = (
    "tenant_id, order_id, line_no, sku, name, kind, quantity, unit_price, allocated, "
    "backordered, shipped, delivered, cancelled, returned"
)
HOLD_COLUMNS = "tenant_id, id, order_id, reason, note, created_by, created_at, due_at"
EVENT_COLUMNS = "tenant_id, order_id, seq, type, actor, data, created_at"
FO_COLUMNS = (
    "tenant_id, id, order_id, order_number, location_id, kind, status, on_hold, carrier, "
    "service, promised_ship_by, priority, version, created_at, updated_at"
)
FO_LINE_COLUMNS = (
    "tenant_id, fulfillment_order_id, seq, line_no, sku, quantity, picked, short, packed, "
    "shipped, delivered, cancelled"
)
SHIPMENT_COLUMNS = (
    "tenant_id, id, order_id, fulfillment_order_id, carrier, service, tracking_number, "
    "tracking_url, cost, currency, status, contents, package_ids, created_by, created_at, "
    "delivered_at, updated_at"
)
TRACKING_COLUMNS = "carrier, tracking_number, tenant_id, shipment_id"


class _Generator:
    """Rows of one order after another, from one seeded RNG."""

    def __init__(self, rng: random.Random, now: datetime, days: int) -> None:
        self.rng = rng
        self.now = now
        self.days = days
        self.serial = 0

    def placed_at(self) -> datetime:
        # More orders recently: the age is the smaller of two uniform draws.
        age = min(self.rng.random(), self.rng.random()) * self.days
        return self.now - timedelta(days=age)

    def fate(self, age: timedelta) -> str:
        roll = self.rng.random()
        if age > timedelta(days=3):
            return (
                "shipped"
                if roll < 0.87
                else "cancelled"
                if roll < 0.93
                else "held"
                if roll < 0.96
                else "open"
            )
        return (
            "shipped"
            if roll < 0.35
            else "cancelled"
            if roll < 0.4
            else "held"
            if roll < 0.5
            else "open"
        )

    def order(self, rows: _Rows, tenant_id: UUID, number: int, locations: list[UUID]) -> None:
        rng = self.rng
        order_id = new_id()
        placed = self.placed_at()
        age = self.now - placed
        fate = self.fate(age)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = f"{first} {last}"
        email = f"{first}.{last}.{rng.randrange(60)}@example.com".lower()
        city, postal = rng.choice(CITIES)
        address = {
            "name": name,
            "line1": f"Hauptstrasse {rng.randrange(1, 200)}",
            "city": city,
            "postal_code": postal,
            "country": "DE",
        }
        channel = rng.choice(CHANNELS)
        lines = []
        for line_no in range(1, rng.choice((1, 1, 1, 2, 2, 3, 4)) + 1):
            sku = rng.choice(SKUS)
            quantity = rng.choice((1, 1, 1, 2, 3))
            price = Decimal(10 + SKUS.index(sku)) + Decimal("0.99")
            lines.append((line_no, sku, quantity, price))
        subtotal = sum((q * p for _, _, q, p in lines), Decimal(0))
        shipping = Decimal("4.90")
        promised = (placed + timedelta(days=1)).date()
        released = None if fate == "held" else placed + timedelta(seconds=2)
        delivered = fate == "shipped" and age > timedelta(days=7)
        status = {
            "shipped": "closed" if delivered else "open",
            "cancelled": "cancelled",
            "held": "on_hold",
            "open": "open",
        }[fate]
        fulfillment = (
            ("delivered" if delivered else "fulfilled") if fate == "shipped" else "unfulfilled"
        )
        payment = "refunded" if fate == "cancelled" else "pending" if fate == "held" else "paid"
        rows.orders.append(
            (
                tenant_id,
                order_id,
                number,
                channel,
                f"{channel}-{number}",
                "EUR",
                email,
                name,
                json.dumps(address),
                subtotal,
                subtotal + shipping,
                shipping,
                shipping,
                "standard",
                None if fate == "held" else promised,
                None if fate == "held" else promised + timedelta(days=2),
                released,
                status,
                fulfillment,
                payment,
                False,
                "[]",
                1,
                placed,
                placed,
            )
        )
        shipped = fate == "shipped"
        for line_no, sku, quantity, price in lines:
            rows.lines.append(
                (
                    tenant_id,
                    order_id,
                    line_no,
                    sku,
                    f"Product {sku}",
                    "physical",
                    quantity,
                    price,
                    quantity if fate in ("open", "held") else 0,
                    0,
                    quantity if shipped else 0,
                    quantity if delivered else 0,
                    quantity if fate == "cancelled" else 0,
                    0,
                )
            )
        events = [("order.placed", placed)]
        if fate == "held":
            reason = rng.choice(HOLD_REASONS)
            rows.holds.append(
                (
                    tenant_id,
                    new_id(),
                    order_id,
                    reason.value,
                    None,
                    "system",
                    placed,
                    placed + DEFAULT_HOLD_SLAS[reason],
                )
            )
            events.append(("hold.placed", placed))
        else:
            self.fulfil(
                rows,
                tenant_id,
                order_id,
                number,
                locations,
                lines,
                placed,
                promised,
                fate,
                delivered,
                events,
            )
        for seq, (kind, at) in enumerate(events, start=1):
            rows.events.append((tenant_id, order_id, seq, kind, "system:seed", "{}", at))

    def fulfil(
        self,
        rows: _Rows,
        tenant_id: UUID,
        order_id: UUID,
        number: int,
        locations: list[UUID],
        lines: list[tuple[int, str, int, Decimal]],
        placed: datetime,
        promised: date,
        fate: str,
        delivered: bool,
        events: list[tuple[str, datetime]],
    ) -> None:
        rng = self.rng
        released = placed + timedelta(seconds=2)
        events.append(("order.released", released))
        split = len(lines) > 1 and rng.random() < 0.16
        shares = [lines[:1], lines[1:]] if split else [lines]
        sites = rng.sample(locations, len(shares))
        shipped_at = placed + timedelta(hours=rng.uniform(2, 40))
        for share, location in zip(shares, sites, strict=True):
            fo_id = new_id()
            carrier, service, cost = rng.choice(CARRIERS)
            status = {"shipped": "shipped", "cancelled": "cancelled", "open": "open"}[fate]
            rows.fos.append(
                (
                    tenant_id,
                    fo_id,
                    order_id,
                    number,
                    location,
                    "ship",
                    status,
                    False,
                    carrier,
                    service,
                    promised,
                    100,
                    1,
                    released,
                    released,
                )
            )
            events.append(("fulfillment_order.created", released))
            for seq, (line_no, sku, quantity, _) in enumerate(share, start=1):
                done = quantity if fate == "shipped" else 0
                rows.fo_lines.append(
                    (
                        tenant_id,
                        fo_id,
                        seq,
                        line_no,
                        sku,
                        quantity,
                        done,
                        0,
                        done,
                        done,
                        done if delivered else 0,
                        quantity if fate == "cancelled" else 0,
                    )
                )
            if fate == "open" and rng.random() < 0.01:
                events.append(("fulfillment_order.short_picked", placed + timedelta(hours=3)))
            if fate != "shipped":
                continue
            if rng.random() < 0.02:
                events.append(("fulfillment_order.short_picked", shipped_at - timedelta(hours=1)))
            self.serial += 1
            shipment_id = new_id()
            tracking = f"{carrier.upper()}{self.serial:012d}SD"
            exception = rng.random() < 0.005
            status = "delivered" if delivered else "exception" if exception else "in_transit"
            rows.shipments.append(
                (
                    tenant_id,
                    shipment_id,
                    order_id,
                    fo_id,
                    carrier,
                    service,
                    tracking,
                    f"https://track.example/{tracking}",
                    cost,
                    "EUR",
                    status,
                    json.dumps(
                        [
                            {"seq": s, "line_no": n, "sku": sku, "quantity": q}
                            for s, (n, sku, q, _) in enumerate(share, start=1)
                        ]
                    ),
                    "[]",
                    "system:seed",
                    shipped_at,
                    shipped_at + timedelta(days=3) if delivered else None,
                    shipped_at,
                )
            )
            rows.tracking.append((carrier, tracking, tenant_id, shipment_id))
            events.append(("shipment.created", shipped_at))
            if exception:
                events.append(("shipment.exception", shipped_at + timedelta(days=1)))


def _copy(
    conn: psycopg.Connection[Any], table: str, columns: str, rows: list[tuple[Any, ...]]
) -> None:
    with conn.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _flush(conn: psycopg.Connection[Any], rows: _Rows) -> None:
    _copy(conn, "orders", ORDER_COLUMNS, rows.orders)
    _copy(conn, "order_lines", LINE_COLUMNS, rows.lines)
    _copy(conn, "order_holds", HOLD_COLUMNS, rows.holds)
    _copy(conn, "order_events", EVENT_COLUMNS, rows.events)
    _copy(conn, "fulfillment_orders", FO_COLUMNS, rows.fos)
    _copy(conn, "fulfillment_order_lines", FO_LINE_COLUMNS, rows.fo_lines)
    _copy(conn, "shipments", SHIPMENT_COLUMNS, rows.shipments)
    _copy(conn, "tracking_numbers", TRACKING_COLUMNS, rows.tracking)


def _count_orders(url: str) -> int | None:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT count(*) FROM orders").fetchone()
    except psycopg.Error:
        return None
    return int(row[0]) if row else None


def _tenant_ids(url: str) -> list[UUID]:
    with psycopg.connect(url, connect_timeout=5) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM tenants ORDER BY id")]


def seed(
    *,
    server_url: str,
    database: str,
    orders: int,
    tenants: int = 5,
    days: int = 120,
    seed_value: int = 7,
    reuse: bool = False,
    now: datetime | None = None,
    log: Any = print,
) -> SeededDatabase:
    """Seed (or, with ``reuse``, keep) ``database`` with ``orders`` orders; what it holds."""
    url = database_url(server_url, database)
    if reuse and _count_orders(url) == orders:
        log(f"reusing {database}: {orders} orders")
        return SeededDatabase(url=url, tenants=_tenant_ids(url), orders=orders)
    started = time.perf_counter()
    recreate_database(server_url, database)
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{database}" SET synchronous_commit = off')
    engine = build_engine(Settings(database_url=url))
    upgrade(engine)
    uow = SqlUnitOfWorkFactory(engine)
    made = SeededDatabase(url=url)
    sites: dict[UUID, list[UUID]] = {}
    numbers: dict[UUID, list[int]] = {}
    # Tenants of different sizes: the first has the most orders.
    weights = [1 / (n + 1) for n in range(tenants)]
    shares = [int(orders * w / sum(weights)) for w in weights]
    shares[0] += orders - sum(shares)
    for n in range(tenants):
        tenant, _ = create_tenant(uow_factory=uow, name=f"Bench shop {n + 1}")
        made.tenants.append(tenant.id)
        principal = Principal(key_id=new_id(), scope=ApiKeyScope.TENANT, tenant_id=tenant.id)
        sites[tenant.id] = [
            catalogue.create_location(
                uow_factory=uow,
                principal=principal,
                command=catalogue.NewLocation(code=f"WH-{k}", name=f"Warehouse {k}"),
            ).id
            for k in (1, 2, 3)
        ]
        with uow() as work:
            numbers[tenant.id] = work.tenants.next_order_numbers(tenant.id, shares[n])
            work.commit()
    engine.dispose()
    generator = _Generator(random.Random(seed_value), now or datetime.now(UTC), days)
    batch = 20_000
    plan = [(t, number) for t in made.tenants for number in numbers[t]]
    random.Random(seed_value).shuffle(plan)  # tenants interleaved, as they arrive
    with psycopg.connect(url) as conn:
        for start in range(0, len(plan), batch):
            rows = _Rows()
            for tenant_id, number in plan[start : start + batch]:
                generator.order(rows, tenant_id, number, sites[tenant_id])
            _flush(conn, rows)
            conn.commit()
            made.orders += len(rows.orders)
            log(f"  {made.orders} orders ({time.perf_counter() - started:.0f} s)")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    made.seconds = time.perf_counter() - started
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--tenants", type=int, default=5)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="oms_bench_portal")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args(argv)
    made = seed(
        server_url=args.pg_url,
        database=args.database,
        orders=args.orders,
        tenants=args.tenants,
        days=args.days,
        seed_value=args.seed,
        reuse=args.reuse,
    )
    print(
        f"{made.orders} orders in {args.database} ({len(made.tenants)} tenants) "
        f"in {made.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
