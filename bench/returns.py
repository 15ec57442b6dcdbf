"""Returns over HTTP on PostgreSQL: return-request and refund latency under concurrent clients.

Run it from the project root::

    .venv/bin/python bench/returns.py [--orders 400] [--clients 16] [--workers 2]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

Setup, not timed: drops and re-creates the database ``oms_bench_returns`` (or
``--database``), ``oms db
upgrade``, ``oms tenant create``; then, in this process through the use cases, imports the
``acme/ground`` rate card, creates one warehouse with three products and a 10 % discount
code, and places ``--orders`` paid, discounted orders of two lines (1-3 units each), picked,
packed and shipped in waves of 50. Then ``oms serve --workers N`` starts, and the run
waits until its workers are idle (ready workers still build their geocoding indexes for
seconds: that CPU is printed, not counted).

Measured: ``--clients`` clients (coroutines, one connection pool each) take the orders from
a queue; for each they ask to return one unit of line 1 as ``defective`` (approved by the
default policy at once: ``POST /v1/orders/{id}/returns``), receive it into stock
(``POST /v1/returns/{id}/receive``, restock) and ask for its refund twice at the same moment
with two Idempotency-Keys (``POST /v1/returns/{id}/refund``): one must answer 200 and the
other 409; then reads the return (``GET /v1/returns/{id}``: what a trivial request costs
under the same load, for comparison). It prints p50/p95/p99/max latency in ms per step (the
aim: p99 < 100 ms for the request and the refund), the rate, and every unexpected answer.

Checked afterwards (exit code 1 when one fails): for every order the refunds never exceed
the captures; each return was refunded exactly once, by a refund record linked to it whose
amount is the return's ``refund_amount``; and ``oms check`` passes (on hand equals the
ledger after the restocks, reserved equals the open allocations). Nothing is asserted about
speed: client, server and PostgreSQL share the machine, so the figures are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import aiohttp
import psycopg

from benchkit import (
    CpuMeter,
    database_url,
    free_port,
    percentile,
    recreate_database,
    run_oms,
    start_server,
    stop_server,
    wait_ready,
)
from oms.adapters.db.engine import build_engine
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.config import Environment, Settings
from oms.domain.addresses import Address
from oms.domain.orders import Actor, Customer
from oms.domain.packing import Box
from oms.domain.pickup_codes import PickupCodeKey
from oms.domain.pricing import DiscountCode, DiscountKind
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import catalogue, intake, inventory
from oms.services.carriers import import_rate_cards
from oms.services.discounts import create_discount_code
from oms.services.packing import PackRequest, pack
from oms.services.picking import confirm_picks, create_wave
from oms.services.shipping import ShipRequest, create_shipment
from oms.wiring import carrier_provider

BENCH_DB = "oms_bench_returns"
WAREHOUSE = "WH-RET"
STEPS = ("request", "receive", "refund", "read")
BENCH = Actor("system", "bench")
PRICES = {"TEE": "24.00", "CAP": "18.00", "MUG": "9.99"}
SHIPPED_AT = datetime.now(UTC) - timedelta(days=2)  # inside the default 30-day window
RATES = """
- carrier: acme
  code: ground
  name: Acme Ground
  currency: EUR
  zones:
    distance_bands:
      - {up_to_km: 300, zone: near}
      - {up_to_km: .inf, zone: far}
  prices:
    - {zone: near, transit_days: 1, per_kg_over: "0.50",
       breaks: [{up_to_grams: 5000, price: "5.00"}]}
    - {zone: far, transit_days: 3, per_kg_over: "1.00",
       breaks: [{up_to_grams: 5000, price: "14.00"}]}
"""
COLOGNE = Address(
    country="DE",
    name="E M",
    line1="Heidestrasse 17",
    city="Koeln",
    postal_code="51147",
    latitude=50.94,
    longitude=6.96,
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default=BENCH_DB, help="the scratch database's name")
    return parser.parse_args(argv)


def build_world(url: str, tenant_id: UUID, orders: int, seed: int) -> list[UUID]:
    """The warehouse, products, stock and ``orders`` shipped orders; their ids."""
    engine = build_engine(Settings(database_url=url))
    uow = SqlUnitOfWorkFactory(engine)
    carriers = carrier_provider(Settings(database_url=url, environment=Environment.TEST))
    import_rate_cards(uow_factory=uow, principal=None, text=RATES, fmt="yaml")
    principal = Principal(key_id=UUID(int=1), scope=ApiKeyScope.TENANT, tenant_id=tenant_id)
    catalogue.create_location(
        uow_factory=uow,
        principal=principal,
        command=catalogue.NewLocation(
            code=WAREHOUSE,
            name="Returns bench",
            latitude=50.88,
            longitude=7.06,
            address=Address(country="DE", line1="Dock 1", city="Koeln", postal_code="51149"),
            boxes=(Box("M", 400, 300, 250, 15000),),
        ),
    )
    for sku, price in PRICES.items():
        catalogue.create_product(
            uow_factory=uow,
            tenant_id=tenant_id,
            command=catalogue.NewProduct(
                sku=sku,
                name=sku,
                price=Decimal(price),
                currency="EUR",
                weight_grams=300,
            ),
        )
        inventory.adjust_inventory(
            uow_factory=uow,
            tenant_id=tenant_id,
            actor=BENCH,
            command=inventory.Adjustment(
                sku=sku, location_code=WAREHOUSE, set_on_hand=10 * orders, reason="bench"
            ),
        )
    create_discount_code(
        uow_factory=uow,
        tenant_id=tenant_id,
        at=SHIPPED_AT - timedelta(days=1),
        code=DiscountCode(
            id=UUID(int=0), code="BENCH10", kind=DiscountKind.PERCENTAGE, value=Decimal(10)
        ),
    )
    rng = random.Random(seed)
    ids: list[UUID] = []
    for n in range(orders):
        skus = rng.sample(sorted(PRICES), 2)
        placed = intake.place_order(
            uow_factory=uow,
            gateways=gateway_named,
            tenant_id=tenant_id,
            actor=BENCH,
            fingerprint="",
            at=SHIPPED_AT,
            command=intake.PlaceOrder(
                currency="EUR",
                external_id=f"bench-{n}",
                shipping_address=COLOGNE,
                customer=Customer(email=f"c{n}@example.com", name="Bench Customer"),
                lines=tuple(intake.LineRequest(s, rng.randint(1, 3)) for s in skus),
                shipping_price=Decimal("4.90"),
                discount_codes=("BENCH10",),
                payment=intake.ChannelPayment(gateway="manual", captured=True),
            ),
        )
        ids.append(placed.order.id)
        if len(ids) % 50 == 0 or n == orders - 1:
            _ship_wave(uow, carriers, tenant_id)
            print(f"  {len(ids)} orders shipped", flush=True)
    engine.dispose()
    return ids


def _ship_wave(uow: SqlUnitOfWorkFactory, carriers: Any, tenant_id: UUID) -> None:
    wave = create_wave(
        uow_factory=uow,
        tenant_id=tenant_id,
        location_code=WAREHOUSE,
        max_orders=50,
        max_units=None,
        actor=BENCH,
        at=SHIPPED_AT,
    )
    picked = confirm_picks(
        uow_factory=uow,
        tenant_id=tenant_id,
        wave_id=wave.wave.id,
        confirmations=None,
        actor=BENCH,
        pickup_key=PickupCodeKey("bench"),
        at=SHIPPED_AT,
    )
    for fo in picked.fulfillment_orders:
        fo_id = fo.id
        scans = [line.sku for line in fo.lines for _ in range(line.to_pack)]
        packed = pack(
            uow_factory=uow,
            tenant_id=tenant_id,
            fo_id=fo_id,
            request=PackRequest(scans=scans),
            actor=BENCH,
            at=SHIPPED_AT,
        )
        create_shipment(
            uow_factory=uow,
            gateways=gateway_named,
            carriers=carriers,
            tenant_id=tenant_id,
            fo_id=fo_id,
            request=ShipRequest(package_ids=[packed.package.id]),
            actor=BENCH,
            at=SHIPPED_AT,
        )


class Flow:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.unexpected: Counter[tuple[str, int]] = Counter()
        self.first_body: dict[tuple[str, int], str] = {}
        self.refund_answers: Counter[tuple[int, ...]] = Counter()

    async def call(
        self,
        session: aiohttp.ClientSession,
        step: str,
        url: str,
        body: Any = None,
        key: str | None = None,
    ) -> tuple[int, Any]:
        headers = {"Idempotency-Key": key} if key else {}
        start = time.perf_counter()
        async with session.post(url, json=body, headers=headers) as response:
            text = await response.text()
        self.latency[step].append((time.perf_counter() - start) * 1000)
        return response.status, json.loads(text) if text else None

    def note(self, step: str, status: int, body: Any) -> None:
        self.unexpected[(step, status)] += 1
        self.first_body.setdefault((step, status), json.dumps(body)[:300])


async def client(flow: Flow, base: str, api_key: str, queue: asyncio.Queue[UUID]) -> None:
    headers = {"Authorization": f"Bearer {api_key}"}
    async with aiohttp.ClientSession(base, headers=headers) as session:
        while not queue.empty():
            order_id = queue.get_nowait()
            status, body = await flow.call(
                session,
                "request",
                f"/v1/orders/{order_id}/returns",
                {"lines": [{"line_no": 1, "quantity": 1, "reason": "defective"}]},
                key=f"rma-{order_id}",
            )
            if status != 201 or body["status"] != "approved":
                flow.note("request", status, body)
                continue
            return_id = body["id"]
            status, body = await flow.call(
                session,
                "receive",
                f"/v1/returns/{return_id}/receive",
                {
                    "location": WAREHOUSE,
                    "lines": [{"line_no": 1, "quantity": 1, "disposition": "restock"}],
                },
            )
            if status != 200:
                flow.note("receive", status, body)
                continue
            answers = await asyncio.gather(
                *(
                    flow.call(
                        session, "refund", f"/v1/returns/{return_id}/refund", key=f"{k}-{return_id}"
                    )
                    for k in ("a", "b")
                )
            )
            # A plain read of the return under the same load: what any request costs here.
            start = time.perf_counter()
            async with session.get(f"/v1/returns/{return_id}") as read:
                await read.read()
            flow.latency["read"].append((time.perf_counter() - start) * 1000)
            statuses = tuple(sorted(s for s, _ in answers))
            flow.refund_answers[statuses] += 1
            if statuses != (200, 409):
                for s, b in answers:
                    flow.note("refund", s, b)


async def run_flow(base: str, api_key: str, orders: list[UUID], clients: int) -> tuple[Flow, float]:
    queue: asyncio.Queue[UUID] = asyncio.Queue()
    for order_id in orders:
        queue.put_nowait(order_id)
    flow = Flow()
    start = time.perf_counter()
    await asyncio.gather(*(client(flow, base, api_key, queue) for _ in range(clients)))
    return flow, time.perf_counter() - start


def database_checks(url: str) -> list[tuple[str, bool, str]]:
    with psycopg.connect(url) as conn:
        over = conn.execute(
            "SELECT order_id, captured, refunded FROM ("
            " SELECT order_id,"
            "  SUM(amount) FILTER (WHERE kind = 'capture' AND outcome = 'succeeded') AS captured,"
            "  COALESCE(SUM(amount) FILTER (WHERE kind = 'refund' AND outcome = 'succeeded'), 0)"
            "   AS refunded FROM payments GROUP BY order_id) t WHERE refunded > captured"
        ).fetchall()
        per_return = conn.execute(
            "SELECT r.id, r.refund_amount, COUNT(p.id), COALESCE(SUM(p.amount), 0) FROM returns r"
            " LEFT JOIN payments p ON p.tenant_id = r.tenant_id AND p.return_id = r.id"
            "  AND p.outcome = 'succeeded' GROUP BY r.id, r.refund_amount"
        ).fetchall()
    wrong = [r for r in per_return if r[2] != 1 or r[1] != r[3]]
    return [
        ("refunds never exceed captures", not over, f"{len(over)} orders over"),
        (
            "each return refunded once, for its amount",
            not wrong,
            f"{len(per_return)} returns, {len(wrong)} wrong",
        ),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    bench_url = database_url(args.pg_url, args.database)
    env = {**os.environ, "OMS_DATABASE_URL": bench_url}
    recreate_database(args.pg_url, args.database)
    run_oms(["db", "upgrade"], env)
    tenant = json.loads(run_oms(["tenant", "create", "--name", "Returns bench", "--json"], env))
    print(f"setup: shipping {args.orders} orders", flush=True)
    orders = build_world(bench_url, UUID(tenant["tenant_id"]), args.orders, args.seed)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(env, port, args.workers)
    try:
        # A loaded machine can take minutes to import and start two server processes.
        asyncio.run(wait_ready(base, server, timeout=600))
        settled = wait_until_idle(server.pid, args.database)
        print(f"server settled after start: {settled:.1f} CPU s", flush=True)
        meter = CpuMeter(server_group=server.pid, database=args.database)
        meter.start()
        flow, wall = asyncio.run(run_flow(base, tenant["api_key"], orders, args.clients))
        cpu = meter.stop()
    finally:
        stop_server(server)
    print(
        f"\n{args.orders} returns by {args.clients} clients, {args.workers} server workers: "
        f"{wall:.1f} s, {args.orders / wall:.0f} returns/s (request + receive + 2 refunds)"
    )
    print(f"{'step':<10}{'calls':>7}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}  (ms)")
    for step in STEPS:
        values = sorted(flow.latency[step])
        if values:
            print(
                f"{step:<10}{len(values):>7}"
                + "".join(f"{percentile(values, p):>8.1f}" for p in (50, 95, 99))
                + f"{values[-1]:>8.1f}"
            )
    calls = sum(len(flow.latency[step]) for step in STEPS)
    if cpu is not None and calls:
        # Wall figures on a shared machine say more about the machine; CPU per call does not.
        print(
            f"CPU per return ({calls / args.orders:.0f} calls: request, receive, 2 refunds, "
            f"read): server {1000 * cpu.server / args.orders:.1f} ms, PostgreSQL "
            f"{1000 * cpu.postgres / args.orders:.1f} ms (lower bound), client "
            f"{1000 * cpu.client / args.orders:.1f} ms; per call: server "
            f"{1000 * cpu.server / calls:.1f} ms, PostgreSQL {1000 * cpu.postgres / calls:.1f} ms"
        )
        print(
            f"the rest of the machine meanwhile: {cpu.other:.1f} CPU s in {wall:.1f} s "
            f"({cpu.other / wall:.2f} cores busy with other work)"
        )
    print(f"refund pairs (status of both answers): {dict(flow.refund_answers)}")
    for (step, status), count in sorted(flow.unexpected.items()):
        print(f"unexpected: {step} {status} x{count}: {flow.first_body[(step, status)]}")
    checks = database_checks(bench_url)
    checked = subprocess_check(env)
    checks.append(("oms check balances", checked[0], checked[1]))
    checks.append(
        (
            "one refund per pair",
            flow.refund_answers.get((200, 409), 0) == args.orders,
            f"{flow.refund_answers.get((200, 409), 0)} of {args.orders}",
        )
    )
    failed = False
    for name, ok, detail in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
        failed = failed or not ok
    return 1 if failed else 0


def wait_until_idle(server_group: int, database: str, timeout: float = 300.0) -> float:
    """Wait until the server's processes use under 5 % of a core for a second: a worker
    ready for requests still builds its geocoding indexes in the background
    (``oms.api.app._warm_up``, seconds of CPU each), which must not count as the calls'
    CPU nor compete with them. The CPU seconds spent meanwhile."""
    spent = 0.0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        meter = CpuMeter(server_group=server_group, database=database)
        meter.start()
        time.sleep(1.0)
        used = meter.stop()
        if used is None:
            return spent
        spent += used.server
        if used.server < 0.05:
            return spent
    return spent


def subprocess_check(env: dict[str, str]) -> tuple[bool, str]:
    try:
        out = run_oms(["check"], env)
    except RuntimeError as error:
        return False, str(error)[:300]
    return True, out.strip().splitlines()[-1] if out.strip() else "ok"


if __name__ == "__main__":
    sys.exit(main())
