"""Seed millions of order lines in minutes, for the analytics benchmark (PostgreSQL).

Run it from the project root::

    .venv/bin/python bench/seed_analytics.py [--lines 10000000] [--tenants 5] [--days 365]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--database oms_h_analytics_10m] [--reuse]

``bench/seed_orders.py`` builds each order in Python and COPYs it (about 1,600 lines/s on
two cores): 10 M lines would take hours. This seeder makes the same kind of rows on the
server instead: the tenants, their three warehouses and their order-number sequences come
from the use cases, as there; then, per chunk of orders, ``INSERT … SELECT`` from
``generate_series`` and ``random()`` (seeded) writes orders, lines, holds, fulfilment
orders and their lines, shipments, the shared tracking numbers and the timeline, with the
secondary indexes of those tables dropped during the load and created again after it
(their definitions read from ``pg_indexes``, so they are the migrations' own).

The orders are shaped as ``bench/seed_orders.py`` shapes them (same channels, 40 SKUs,
1-4 lines, fates by age, 16% of multi-line orders split over two warehouses, 2% short
picks, 0.5% carrier exceptions, delivered after a week), so the rollups built from them
(``oms.services.rollups.rebuild``, which the analytics bench runs) look alike. Not written,
as there: payments, allocations, inventory and its ledger, customers, outbox.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg

from benchkit import database_url, recreate_database
from oms.adapters.db.engine import build_engine
from oms.adapters.db.migrate import upgrade
from oms.adapters.db.repositories.tenants import order_number_sequence
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.config import Settings
from oms.domain.ids import new_id
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import catalogue
from oms.services.tenants import create_tenant
from seed_orders import SeededDatabase

__all__ = ["seed_lines"]

LOADED = (
    "orders",
    "order_lines",
    "order_holds",
    "order_events",
    "fulfillment_orders",
    "fulfillment_order_lines",
    "shipments",
    "tracking_numbers",
)
CHUNK = 250_000  # orders per statement batch

# One chunk of orders of one tenant: %(tenant)s, %(first)s..%(last)s (order numbers),
# %(now)s, %(days)s, %(sites)s (its three warehouse ids).
_ORDERS = """
CREATE TEMP TABLE s_o ON COMMIT DROP AS
SELECT g AS number, gen_random_uuid() AS id, placed, age,
       CASE WHEN age > interval '3 days' THEN
            CASE WHEN f < 0.87 THEN 'shipped' WHEN f < 0.93 THEN 'cancelled'
                 WHEN f < 0.96 THEN 'held' ELSE 'open' END
       ELSE CASE WHEN f < 0.35 THEN 'shipped' WHEN f < 0.4 THEN 'cancelled'
                 WHEN f < 0.5 THEN 'held' ELSE 'open' END END AS fate,
       (ARRAY['shopify','woocommerce','api','pos'])[1 + floor(random() * 4)::int] AS channel,
       (ARRAY[1,1,1,2,2,3,4])[1 + floor(random() * 7)::int] AS n_lines,
       random() AS split_roll, floor(random() * 3)::int AS site,
       1 + floor(random() * 2)::int AS other_site,
       (ARRAY['Ada','Grace','Linus','Barbara','Edsger','Donald','Margaret','Ken'])
           [1 + floor(random() * 8)::int] AS first_name,
       (ARRAY['Lovelace','Hopper','Torvalds','Liskov','Dijkstra','Knuth','Hamilton'])
           [1 + floor(random() * 7)::int] AS last_name,
       (ARRAY['Koeln','Berlin','Hamburg','Muenchen'])[1 + floor(random() * 4)::int] AS city,
       placed + interval '2 hours' + random() * interval '38 hours' AS shipped_at
FROM (SELECT g, placed, %(now)s - placed AS age, random() AS f
      FROM (SELECT g, %(now)s - least(random(), random()) * %(days)s * interval '1 day'
                   AS placed
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g) AS p) AS q;

CREATE TEMP TABLE s_l ON COMMIT DROP AS
SELECT o.id AS order_id, o.fate, l AS line_no, 'SKU-' || lpad(k::text, 3, '0') AS sku,
       (ARRAY[1,1,1,2,3])[1 + floor(random() * 5)::int] AS quantity,
       (10 + k + 0.99)::numeric AS price,
       CASE WHEN o.n_lines > 1 AND o.split_roll < 0.16 AND l > 1 THEN 2 ELSE 1 END AS fo_no
FROM s_o AS o, generate_series(1, o.n_lines) AS l, LATERAL (
     SELECT floor(random() * 40)::int + 0 * l AS k) AS r;

ANALYZE s_o;

ANALYZE s_l;

INSERT INTO orders (tenant_id, id, number, channel, external_id, currency, customer_email,
    customer_name, shipping_address, subtotal, total, shipping_total, shipping_price,
    service_level, promised_ship_by, promised_deliver_by, released_at, status,
    fulfillment_status, payment_status, allow_backorder, tags, version, created_at, updated_at)
SELECT %(tenant)s, o.id, o.number, o.channel, o.channel || '-' || o.number, 'EUR',
       lower(o.first_name || '.' || o.last_name || '.' || (o.number %% 60)) || '@example.com',
       o.first_name || ' ' || o.last_name,
       jsonb_build_object('name', o.first_name || ' ' || o.last_name,
                          'line1', 'Hauptstrasse ' || (1 + o.number %% 199),
                          'city', o.city, 'postal_code', '50667', 'country', 'DE'),
       s.subtotal, s.subtotal + 4.90, 4.90, 4.90, 'standard',
       CASE WHEN o.fate <> 'held' THEN (o.placed + interval '1 day')::date END,
       CASE WHEN o.fate <> 'held' THEN (o.placed + interval '3 days')::date END,
       CASE WHEN o.fate <> 'held' THEN o.placed + interval '2 seconds' END,
       CASE o.fate WHEN 'shipped' THEN CASE WHEN o.age > interval '7 days' THEN 'closed'
                                          ELSE 'open' END
                   WHEN 'cancelled' THEN 'cancelled' WHEN 'held' THEN 'on_hold'
                   ELSE 'open' END,
       CASE WHEN o.fate <> 'shipped' THEN 'unfulfilled'
            WHEN o.age > interval '7 days' THEN 'delivered' ELSE 'fulfilled' END,
       CASE o.fate WHEN 'cancelled' THEN 'refunded' WHEN 'held' THEN 'pending' ELSE 'paid' END,
       false, '[]', 1, o.placed, o.placed
FROM s_o AS o JOIN (SELECT order_id, sum(quantity * price) AS subtotal
                    FROM s_l GROUP BY order_id) AS s ON s.order_id = o.id;

INSERT INTO order_lines (tenant_id, order_id, line_no, sku, name, kind, quantity, unit_price,
    allocated, backordered, shipped, delivered, cancelled, returned)
SELECT %(tenant)s, l.order_id, l.line_no, l.sku, 'Product ' || l.sku, 'physical', l.quantity,
       l.price, CASE WHEN l.fate IN ('open', 'held') THEN l.quantity ELSE 0 END, 0,
       CASE WHEN l.fate = 'shipped' THEN l.quantity ELSE 0 END,
       CASE WHEN l.fate = 'shipped' AND o.age > interval '7 days' THEN l.quantity ELSE 0 END,
       CASE WHEN l.fate = 'cancelled' THEN l.quantity ELSE 0 END, 0
FROM s_l AS l JOIN s_o AS o ON o.id = l.order_id;

INSERT INTO order_holds (tenant_id, id, order_id, reason, note, created_by, created_at, due_at)
SELECT %(tenant)s, gen_random_uuid(), o.id, 'manual', NULL, 'system', o.placed,
       o.placed + interval '1 day'
FROM s_o AS o WHERE o.fate = 'held';

CREATE TEMP TABLE s_f ON COMMIT DROP AS
SELECT o.id AS order_id, o.number, o.fate, o.placed, o.age, o.shipped_at, f.fo_no,
       gen_random_uuid() AS id,
       (%(sites)s::uuid[])[1 + (o.site + CASE WHEN f.fo_no = 2 THEN o.other_site ELSE 0 END) %% 3]
           AS location_id,
       c AS carrier_no, random() < 0.005 AS exception, random() AS short_roll
FROM s_o AS o
JOIN (SELECT DISTINCT order_id, fo_no FROM s_l) AS f ON f.order_id = o.id,
LATERAL (SELECT floor(random() * 2)::int + 0 * f.fo_no AS c) AS r
WHERE o.fate <> 'held';

ANALYZE s_f;

INSERT INTO fulfillment_orders (tenant_id, id, order_id, order_number, location_id, kind,
    status, on_hold, carrier, service, promised_ship_by, priority, version, created_at,
    updated_at)
SELECT %(tenant)s, f.id, f.order_id, f.number, f.location_id, 'ship', f.fate, false,
       (ARRAY['dhl','ups'])[1 + f.carrier_no], (ARRAY['parcel','standard'])[1 + f.carrier_no],
       (f.placed + interval '1 day')::date, 100, 1, f.placed + interval '2 seconds',
       f.placed + interval '2 seconds'
FROM s_f AS f;

INSERT INTO fulfillment_order_lines (tenant_id, fulfillment_order_id, seq, line_no, sku,
    quantity, picked, short, packed, shipped, delivered, cancelled)
SELECT %(tenant)s, f.id, l.line_no - f.fo_no + 1, l.line_no,
       l.sku, l.quantity, d.done, 0, d.done, d.done,
       CASE WHEN f.age > interval '7 days' THEN d.done ELSE 0 END,
       CASE WHEN f.fate = 'cancelled' THEN l.quantity ELSE 0 END
FROM s_f AS f JOIN s_l AS l ON l.order_id = f.order_id AND l.fo_no = f.fo_no,
LATERAL (SELECT CASE WHEN f.fate = 'shipped' THEN l.quantity ELSE 0 END AS done) AS d;

INSERT INTO shipments (tenant_id, id, order_id, fulfillment_order_id, carrier, service,
    tracking_number, tracking_url, cost, currency, status, contents, package_ids, created_by,
    created_at, delivered_at, updated_at)
SELECT %(tenant)s, f.id, f.order_id, f.id, c.carrier, c.service, c.tracking,
       'https://track.example/' || c.tracking, c.cost, 'EUR',
       CASE WHEN f.age > interval '7 days' THEN 'delivered'
            WHEN f.exception THEN 'exception' ELSE 'in_transit' END,
       k.contents,
       '[]', 'system:seed', f.shipped_at,
       CASE WHEN f.age > interval '7 days' THEN f.shipped_at + interval '3 days' END,
       f.shipped_at
FROM s_f AS f
JOIN (SELECT order_id, fo_no,
             jsonb_agg(jsonb_build_object('seq', seq, 'line_no', line_no, 'sku', sku,
                                          'quantity', quantity) ORDER BY line_no) AS contents
      FROM (SELECT order_id, fo_no, line_no, sku, quantity, line_no - fo_no + 1 AS seq
            FROM s_l) AS n
      GROUP BY order_id, fo_no) AS k ON k.order_id = f.order_id AND k.fo_no = f.fo_no,
LATERAL (SELECT (ARRAY['dhl','ups'])[1 + f.carrier_no] AS carrier,
                (ARRAY['parcel','standard'])[1 + f.carrier_no] AS service,
                (ARRAY[4.90, 6.40])[1 + f.carrier_no] AS cost,
                upper((ARRAY['dhl','ups'])[1 + f.carrier_no]) || replace(f.id::text, '-', '')
                    AS tracking) AS c
WHERE f.fate = 'shipped';

INSERT INTO tracking_numbers (carrier, tracking_number, tenant_id, shipment_id)
SELECT s.carrier, s.tracking_number, s.tenant_id, s.id
FROM s_f AS f JOIN shipments AS s ON s.tenant_id = %(tenant)s AND s.id = f.id
WHERE f.fate = 'shipped';

INSERT INTO order_events (tenant_id, order_id, seq, type, actor, data, created_at)
SELECT %(tenant)s, e.order_id,
       row_number() OVER (PARTITION BY e.order_id ORDER BY e.created_at, e.rank),
       e.type, 'system:seed', '{}', e.created_at
FROM (
    SELECT id AS order_id, 'order.placed' AS type, placed AS created_at, 0 AS rank FROM s_o
    UNION ALL
    SELECT id, 'hold.placed', placed, 1 FROM s_o WHERE fate = 'held'
    UNION ALL
    SELECT id, 'order.released', placed + interval '2 seconds', 1 FROM s_o
    WHERE fate <> 'held'
    UNION ALL
    SELECT order_id, 'fulfillment_order.created', placed + interval '2 seconds', 2 FROM s_f
    UNION ALL
    SELECT order_id, 'fulfillment_order.short_picked', placed + interval '3 hours', 3 FROM s_f
    WHERE fate = 'open' AND short_roll < 0.01
    UNION ALL
    SELECT order_id, 'fulfillment_order.short_picked', shipped_at - interval '1 hour', 3
    FROM s_f WHERE fate = 'shipped' AND short_roll < 0.02
    UNION ALL
    SELECT order_id, 'shipment.created', shipped_at, 4 FROM s_f WHERE fate = 'shipped'
    UNION ALL
    SELECT order_id, 'shipment.exception', shipped_at + interval '1 day', 5 FROM s_f
    WHERE fate = 'shipped' AND exception
) AS e;
"""


def _count_orders(url: str) -> int | None:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT count(*) FROM orders").fetchone()
    except psycopg.Error:
        return None
    return int(row[0]) if row else None


def _setup(url: str, tenants: int) -> tuple[list[UUID], dict[UUID, list[UUID]]]:
    """Tenants and their warehouses, through the use cases."""
    engine = build_engine(Settings(database_url=url))
    upgrade(engine)
    uow = SqlUnitOfWorkFactory(engine)
    ids: list[UUID] = []
    sites: dict[UUID, list[UUID]] = {}
    for n in range(tenants):
        tenant, _ = create_tenant(uow_factory=uow, name=f"Bench shop {n + 1}")
        ids.append(tenant.id)
        principal = Principal(key_id=new_id(), scope=ApiKeyScope.TENANT, tenant_id=tenant.id)
        sites[tenant.id] = [
            catalogue.create_location(
                uow_factory=uow,
                principal=principal,
                command=catalogue.NewLocation(code=f"WH-{k}", name=f"Warehouse {k}"),
            ).id
            for k in (1, 2, 3)
        ]
    engine.dispose()
    return ids, sites


def _drop_secondary_indexes(conn: psycopg.Connection[Any]) -> list[str]:
    """Drop the indexes of the loaded tables that back no constraint; their definitions."""
    rows = conn.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes AS i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conname = i.indexname)
        """,
        (list(LOADED),),
    ).fetchall()
    for name, _ in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in rows]


def seed_lines(
    *,
    server_url: str,
    database: str,
    lines: int,
    tenants: int = 5,
    days: int = 365,
    reuse: bool = False,
    now: datetime | None = None,
    log: Callable[[str], Any] = print,
    verbose: bool = False,
) -> SeededDatabase:
    """Seed (or, with ``reuse``, keep) ``database`` with about ``lines`` order lines
    (``lines / 2`` orders of ``tenants`` tenants over ``days`` days); what it holds."""
    url = database_url(server_url, database)
    orders = lines // 2
    if reuse and _count_orders(url) == orders:
        with psycopg.connect(url) as conn:
            ids = [row[0] for row in conn.execute("SELECT id FROM tenants ORDER BY created_at")]
        log(f"reusing {database}: {orders} orders")
        return SeededDatabase(url=url, tenants=ids, orders=orders)
    started = time.perf_counter()
    recreate_database(server_url, database)
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{database}" SET synchronous_commit = off')
    ids, sites = _setup(url, tenants)
    made = SeededDatabase(url=url, tenants=ids)
    weights = [1 / (n + 1) for n in range(tenants)]  # the first tenant is the biggest
    shares = [int(orders * w / sum(weights)) for w in weights]
    shares[0] += orders - sum(shares)
    at = now or datetime.now(UTC)
    with psycopg.connect(url) as conn:
        conn.execute("SELECT setseed(0.7)")
        # The rows are consistent by construction: skip the foreign-key triggers.
        conn.execute("SET session_replication_role = replica")
        indexes = _drop_secondary_indexes(conn)
        conn.commit()
        for tenant_id, share in zip(ids, shares, strict=True):
            conn.execute(f"SELECT setval('{order_number_sequence(tenant_id)}', {share})")
            for first in range(1, share + 1, CHUNK):
                last = min(share, first + CHUNK - 1)
                params = {
                    "tenant": tenant_id,
                    "first": first,
                    "last": last,
                    "now": at,
                    "days": days,
                    "sites": sites[tenant_id],
                }
                for statement in _ORDERS.split(";\n\n"):
                    began = time.perf_counter()
                    conn.execute(statement, params)
                    if verbose:
                        log(f"    {time.perf_counter() - began:6.1f} s {statement.split()[:3]}")
                conn.commit()
                made.orders += last - first + 1
                log(f"  {made.orders:,} orders ({time.perf_counter() - started:.0f} s)")
        log(f"  creating {len(indexes)} indexes ({time.perf_counter() - started:.0f} s)")
        conn.execute("SET maintenance_work_mem = '256MB'")
        for definition in indexes:
            conn.execute(definition)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    made.seconds = time.perf_counter() - started
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--tenants", type=int, default=5)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="oms_h_analytics_10m")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args(argv)
    made = seed_lines(
        server_url=args.pg_url,
        database=args.database,
        lines=args.lines,
        tenants=args.tenants,
        days=args.days,
        reuse=args.reuse,
    )
    print(
        f"{made.orders:,} orders in {args.database} ({len(made.tenants)} tenants) "
        f"in {made.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
