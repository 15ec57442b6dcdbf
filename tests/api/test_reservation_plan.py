"""What an order reserves, over HTTP with carrier rate cards (the cost router), on both
databases: every stock row gives the sum of what the order's lines need of it, also when two
lines name one row (a SKU on two lines, or on its own line and inside a bundle), at one
location or split over two; the same whether the order is placed alone or in an intake group.
Then the books balance and the order ships.

Rate cards are deployment-wide, so this module runs on a database of its own.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api import app as app_module
from oms.services.checks import find_invariant_violations
from oms.services.intake_group import Outcome, Submission
from tests.api.fulfilment_support import COLOGNE, add_sites, get_json, post_json, rated_client
from tests.api.support import (
    ApiTenant,
    TestClient,
    api_settings_for,
    assert_problem,
    create_product,
    new_tenant,
    order_body,
    set_on_hand,
)
from tests.databases import ENGINES, own_database

CARD = {"gateway": "test", "token": "tok_approve"}
# Both warehouses are within 15 km of the destination (the "local" zone).
SITES = {
    "WH-A": ("warehouse", 50.88, 7.06, {"city": "Koeln", "postal_code": "51105"}),
    "WH-B": ("warehouse", 50.95, 6.90, {"city": "Koeln", "postal_code": "50825"}),
}
BOXES = [
    {"code": "L", "length_mm": 600, "width_mm": 400, "height_mm": 400, "max_weight_grams": 30000}
]
# What one unit of each product draws.
NEEDS = {
    "TEE": {"TEE": 1},
    "CAP": {"CAP": 1},
    "MUG": {"MUG": 1},
    "KIT": {"TEE": 1, "CAP": 1},
    "DUO": {"TEE": 2},
}


@pytest.fixture(scope="module", params=ENGINES)
def api_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from own_database(request, "reservation_plan")


@pytest.fixture(scope="module")
def api_uow(api_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(api_engine)


@pytest.fixture(scope="module")
def client(api_engine: Engine, api_uow: SqlUnitOfWorkFactory) -> Iterator[TestClient]:
    yield from rated_client(api_engine, api_settings_for(str(api_engine.url)), api_uow)


@pytest.fixture
def shop(api_uow: SqlUnitOfWorkFactory, client: TestClient) -> ApiTenant:
    tenant = new_tenant(api_uow)
    add_sites(client, tenant, SITES, BOXES)
    for sku in ("TEE", "CAP", "MUG"):
        create_product(client, tenant, sku, weight_grams=200)
    create_product(
        client,
        tenant,
        "KIT",
        kind="bundle",
        components=[{"sku": "TEE", "quantity": 1}, {"sku": "CAP", "quantity": 1}],
    )
    create_product(client, tenant, "DUO", kind="bundle", components=[{"sku": "TEE", "quantity": 2}])
    return tenant


def _stock(shop: ApiTenant, client: TestClient, stock: dict[tuple[str, str], int]) -> None:
    for (sku, location), units in stock.items():
        set_on_hand(client, shop, sku, location, units)


def _rows(client: TestClient, shop: ApiTenant) -> dict[tuple[str, str], dict[str, int]]:
    """(sku, location) -> on_hand, reserved, available of every stocked row."""
    rows = {}
    for sku in ("TEE", "CAP", "MUG"):
        for row in get_json(client, shop, f"/v1/inventory/{sku}")["locations"]:
            rows[(sku, row["location"])] = {k: row[k] for k in ("on_hand", "reserved", "available")}
    return rows


def _needs(lines: Sequence[tuple[str, int]]) -> Counter[str]:
    needed: Counter[str] = Counter()
    for sku, units in lines:
        for component, per in NEEDS[sku].items():
            needed[component] += per * units
    return needed


def _held(orders: Sequence[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """What the orders' open allocations hold, per (sku, location)."""
    held: dict[tuple[str, str], int] = defaultdict(int)
    for order in orders:
        for allocation in order["allocations"]:
            held[(allocation["sku"], allocation["location"])] += allocation["quantity"]
    return dict(held)


def _books_balance(api_uow: SqlUnitOfWorkFactory, shop: ApiTenant) -> None:
    violations = find_invariant_violations(uow_factory=api_uow)
    assert [v for v in violations if v.tenant_id == shop.id] == []


def _assert_reserved_as_allocated(
    client: TestClient, shop: ApiTenant, orders: Sequence[dict[str, Any]]
) -> None:
    reserved = {row: lv["reserved"] for row, lv in _rows(client, shop).items() if lv["reserved"]}
    assert reserved == _held(orders)


# Lines of one order; the stock is exactly what it needs less one unit of the shared row,
# plus what it needs again: a correct reservation leaves too little for a second copy.
ONE_ROW_TWICE = {
    "sku and a bundle holding it": [("TEE", 1), ("KIT", 1)],
    "one sku on two lines": [("TEE", 1), ("TEE", 1)],
    "two units on two lines": [("CAP", 2), ("CAP", 2)],
    "one bundle on two lines": [("KIT", 1), ("KIT", 1)],
    "a bundle of two and its sku": [("DUO", 2), ("TEE", 1)],
    "a bundle of two and a bundle of one": [("DUO", 1), ("KIT", 2), ("TEE", 1)],
}


@pytest.mark.parametrize("lines", ONE_ROW_TWICE.values(), ids=ONE_ROW_TWICE.keys())
def test_lines_naming_one_stock_row_reserve_their_sum_at_one_location(
    client: TestClient,
    shop: ApiTenant,
    api_uow: SqlUnitOfWorkFactory,
    lines: list[tuple[str, int]],
) -> None:
    needed = _needs(lines)
    _stock(shop, client, {(sku, "WH-A"): 2 * units - 1 for sku, units in needed.items()})
    body = order_body(*lines, shipping_address=COLOGNE, allow_backorder=False)

    first = post_json(client, shop, "/v1/orders", body, 201)

    assert [
        p["location"]
        for p in get_json(client, shop, f"/v1/orders/{first['id']}/routing")["packages"]
    ] == ["WH-A"]
    rows = _rows(client, shop)
    assert {sku: rows[(sku, "WH-A")]["reserved"] for sku in needed} == dict(needed)
    assert {sku: rows[(sku, "WH-A")]["available"] for sku in needed} == {
        sku: units - 1 for sku, units in needed.items()
    }
    _assert_reserved_as_allocated(client, shop, [first])
    again = client.post("/v1/orders", headers=shop.headers, json=body)
    assert_problem(again, 409, "insufficient_stock")
    _books_balance(api_uow, shop)


def test_lines_naming_one_stock_row_reserve_their_sum_when_the_order_is_split(
    client: TestClient, shop: ApiTenant, api_uow: SqlUnitOfWorkFactory
) -> None:
    # TEE and CAP only at WH-A, MUG only at WH-B: WH-A ships TEE for two lines.
    _stock(shop, client, {("TEE", "WH-A"): 3, ("CAP", "WH-A"): 5, ("MUG", "WH-B"): 5})
    body = order_body(
        ("TEE", 1), ("KIT", 1), ("MUG", 1), shipping_address=COLOGNE, allow_backorder=False
    )

    first = post_json(client, shop, "/v1/orders", body, 201)

    routing = get_json(client, shop, f"/v1/orders/{first['id']}/routing")
    assert sorted(p["location"] for p in routing["packages"]) == ["WH-A", "WH-B"]
    rows = _rows(client, shop)
    assert rows[("TEE", "WH-A")]["reserved"] == 2
    assert rows[("CAP", "WH-A")]["reserved"] == 1
    assert rows[("MUG", "WH-B")]["reserved"] == 1
    _assert_reserved_as_allocated(client, shop, [first])
    # One TEE is left: a second copy cannot have the two it needs.
    assert_problem(client.post("/v1/orders", headers=shop.headers, json=body), 409)
    _books_balance(api_uow, shop)


def test_an_order_naming_one_row_twice_ships_and_the_books_balance(
    client: TestClient, shop: ApiTenant, api_uow: SqlUnitOfWorkFactory
) -> None:
    _stock(shop, client, {("TEE", "WH-A"): 5, ("CAP", "WH-A"): 5})
    other = post_json(
        client,
        shop,
        "/v1/orders",
        order_body(("CAP", 2), shipping_address=COLOGNE, payment=CARD),
        201,
    )
    order = post_json(
        client,
        shop,
        "/v1/orders",
        order_body(("TEE", 1), ("KIT", 1), ("CAP", 2), shipping_address=COLOGNE, payment=CARD),
        201,
    )
    fos = get_json(client, shop, f"/v1/orders/{order['id']}/fulfillment-orders")["items"]
    (fo,) = [fo for fo in fos if fo["status"] != "cancelled"]
    assert (fo["location"], fo["carrier"]) == ("WH-A", "acme")
    wave = post_json(client, shop, "/v1/locations/WH-A/pick-waves", {"max_orders": 10}, 201)
    post_json(client, shop, f"/v1/pick-waves/{wave['id']}/confirm")
    post_json(
        client,
        shop,
        f"/v1/fulfillment-orders/{fo['id']}/packages",
        {"scans": ["TEE", "TEE", "CAP", "CAP", "CAP"]},
        201,
    )

    shipped = post_json(client, shop, f"/v1/fulfillment-orders/{fo['id']}/shipments", None, 201)

    assert shipped["status"] == "label_created"
    rows = _rows(client, shop)
    assert rows[("TEE", "WH-A")] == {"on_hand": 3, "reserved": 0, "available": 3}
    # The other order's two CAPs are still reserved for it.
    assert rows[("CAP", "WH-A")] == {"on_hand": 2, "reserved": 2, "available": 0}
    _assert_reserved_as_allocated(
        client, shop, [get_json(client, shop, f"/v1/orders/{other['id']}")]
    )
    _books_balance(api_uow, shop)


def test_orders_placed_together_in_intake_groups_reserve_the_sum_of_their_lines(
    client: TestClient,
    shop: ApiTenant,
    api_uow: SqlUnitOfWorkFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each order needs 2 TEE (its TEE line and its KIT) and 1 CAP: 7 TEE serve 3 of them.
    _stock(shop, client, {("TEE", "WH-A"): 7, ("CAP", "WH-A"): 20})
    groups: list[int] = []
    real = app_module.place_group

    def recording(**kwargs: Any) -> list[Outcome]:
        submissions: Sequence[Submission] = kwargs["submissions"]
        groups.append(len(submissions))
        return real(**kwargs)

    monkeypatch.setattr(app_module, "place_group", recording)
    bodies = [
        order_body(
            ("TEE", 1),
            ("KIT", 1),
            shipping_address=COLOGNE,
            allow_backorder=False,
            external_id=f"g-{n}",
        )
        for n in range(12)
    ]

    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://oms") as http:
            return list(
                await asyncio.gather(
                    *(http.post("/v1/orders", headers=shop.headers, json=b) for b in bodies)
                )
            )

    answers = asyncio.run(send_all())

    assert max(groups) > 1, groups  # some orders went together
    assert Counter(a.status_code for a in answers) == Counter({201: 3, 409: 9})
    placed = [a.json() for a in answers if a.status_code == 201]
    rows = _rows(client, shop)
    assert rows[("TEE", "WH-A")]["reserved"] == 6
    assert rows[("CAP", "WH-A")]["reserved"] == 3
    _assert_reserved_as_allocated(client, shop, placed)
    _books_balance(api_uow, shop)
