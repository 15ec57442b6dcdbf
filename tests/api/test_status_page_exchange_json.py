"""An exchange asked for as JSON on the order status page (``POST /status/{slug}/returns``,
for a shop's own front end): the JSON read of the page lists each line's choices, the call
takes exactly those (the form's rule), opens the exchange through the same use case and
answers with the replacement order; every refusal is problem+json and opens nothing
(SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.orders import Order
from oms.services import catalogue
from tests.api.exchange_support import (
    add_product,
    delivered,
    exchange_shop,
    returns_of,
    status_page_client,
)
from tests.api.support import ApiTenant, TestClient, assert_problem, new_tenant
from tests.builders import set_stock
from tests.integration.returns_support import (
    open_shop,
    returns_engine,
    shipped_order,
    stock_at_near,
)

__all__ = ["returns_engine"]

JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def uow(returns_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(returns_engine)


@pytest.fixture(scope="module")
def client(returns_engine: Engine) -> Iterator[TestClient]:
    # One client makes every call here: the rate limit is tests/api/test_public_rate_limit.py's.
    with status_page_client(returns_engine, public_rate_limit_burst=1000) as test_client:
        yield test_client


@pytest.fixture
def shop(uow: SqlUnitOfWorkFactory) -> tuple[ApiTenant, str]:
    return exchange_shop(uow, "exchange json shop")


def _read(client: TestClient, slug: str, order: Order) -> Any:
    params = {"number": order.number, "email": "erika@example.com"}
    got = client.get(f"/status/{slug}", params=params, headers=JSON)
    assert got.status_code == 200, got.text
    return got.json()


def _ask(
    client: TestClient,
    slug: str,
    order: Order,
    lines: list[tuple[int, int]],
    exchange: list[tuple[int, str]],
    **fields: Any,
) -> Any:
    body = {
        "number": str(order.number),
        "email": "erika@example.com",
        "lines": [{"line_no": n, "quantity": q, "reason": "wrong_size"} for n, q in lines],
        "resolution": "exchange",
        "exchange_lines": [{"line_no": n, "sku": sku} for n, sku in exchange],
    } | fields
    return client.post(f"/status/{slug}/returns", json=body, headers=JSON)


def test_the_json_read_lists_what_each_line_may_be_exchanged_for(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    other = new_tenant(uow, "another json shop with tees")
    open_shop(uow, other.id)
    add_product(uow, other.id, "TEE-XXL", "20.00", "tees")
    set_stock(uow, other.id, "TEE-XXL", "NEAR", 10)
    order = delivered(uow, tenant.id, ("TEE-M", 1), ("X", 2))
    read = _read(client, slug, order)
    offer = read["returns"]
    assert offer["resolutions"] == ["refund", "store_credit", "exchange"]
    assert "wrong_size" in offer["reasons"]
    tee, x = offer["lines"]
    assert (tee["line_no"], tee["name"], tee["units"]) == (1, "Tee M", 1)
    assert [(c["sku"], c["price"], c["stock"], c["selectable"]) for c in tee["exchanges"]] == [
        ("TEE-L", "20.00", "out_of_stock", False),
        ("TEE-M", "20.00", "in_stock", True),
        ("TEE-S", "20.00", "in_stock", True),
        ("TEE-XL", "25.00", "in_stock", True),
    ]
    assert [c["sku"] for c in x["exchanges"]] == ["X"]  # uncategorised: itself only
    assert x["units"] == 2
    for never in ("TEE-XXL", "MUG", "TEE-EBOOK"):  # another shop's, another category, digital
        assert never not in str(read)


def test_the_json_read_offers_nothing_before_delivery(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = shipped_order(uow, tenant.id, ("TEE-M", 1))
    assert _read(client, slug, order)["returns"] is None


def test_a_json_exchange_reserves_the_replacement_and_says_what_is_left_to_pay(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("TEE-M", 1))
    before = stock_at_near(uow, tenant.id, "TEE-XL")
    answer = _ask(client, slug, order, [(1, 1)], [(1, "TEE-XL")])
    assert answer.status_code == 201, answer.text
    body = answer.json()
    (made,) = returns_of(client, tenant, order)
    assert (body["id"], body["status"]) == (made["id"], "requested")
    assert made["resolution"] == "exchange"
    assert made["created_by"] == f"customer:order {order.number}"
    replacement = client.get(f"/v1/orders/{made['exchange_order_id']}", headers=tenant.headers)
    assert body["exchange"] == {
        "number": replacement.json()["number"],
        "items": [{"name": "Tee XL", "quantity": 1}],
        "total": "25.00",
        "covered": "20.00",
        "to_pay": "5.00",
        "difference_refunded": False,
        "currency": "EUR",
        "backordered": False,
        "waits_for": None,
    }
    lines = replacement.json()["lines"]
    assert [(ln["sku"], ln["quantities"]["allocated"]) for ln in lines] == [("TEE-XL", 1)]
    assert stock_at_near(uow, tenant.id, "TEE-XL") == (before[0], before[1] - 1)


def test_a_cheaper_json_exchange_says_the_difference_comes_back(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("TEE-XL", 1), ("TEE-M", 1))
    answer = _ask(client, slug, order, [(1, 1), (2, 1)], [(2, "TEE-S"), (1, "TEE-S")])
    assert answer.status_code == 201, answer.text
    exchange = answer.json()["exchange"]
    assert (exchange["to_pay"], exchange["covered"], exchange["difference_refunded"]) == (
        "0.00",
        "40.00",
        True,
    )
    # The same product for two lines is asked for once, with both lines' units.
    assert exchange["items"] == [{"name": "Tee S", "quantity": 2}]


def test_a_json_exchange_out_of_stock_is_a_conflict_naming_its_line(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("TEE-M", 1))
    answer = _ask(client, slug, order, [(1, 1)], [(1, "TEE-L")])
    problem = assert_problem(answer, 409)
    assert problem["code"] == "exchange_out_of_stock"
    assert problem["detail"] == "Out of stock now: Tee L; choose another item, or a refund"
    assert problem["out_of_stock"] == [
        {"pointer": "#/exchange_lines/0/sku", "line_no": 1, "sku": "TEE-L"}
    ]
    assert "available" not in answer.text  # no stock figures on the public side
    assert returns_of(client, tenant, order) == []
    assert stock_at_near(uow, tenant.id, "TEE-L") == (0, 0)


def test_with_the_backorder_policy_a_json_exchange_out_of_stock_is_backordered(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    policy = {"exchange_out_of_stock": "backorder", "exchange_ships": "received"}
    assert client.put("/v1/return-policy", json=policy, headers=tenant.headers).status_code == 200
    order = delivered(uow, tenant.id, ("TEE-M", 1))
    (line,) = _read(client, slug, order)["returns"]["lines"]
    assert {c["sku"]: c["stock"] for c in line["exchanges"]}["TEE-L"] == "backorder"
    answer = _ask(client, slug, order, [(1, 1)], [(1, "TEE-L")])
    assert answer.status_code == 201, answer.text
    exchange = answer.json()["exchange"]
    assert (exchange["backordered"], exchange["waits_for"]) == (True, "received")


@pytest.mark.parametrize(
    ("lines", "exchange", "pointer", "detail"),
    [
        ([(1, 1)], [(1, "MUG")], "#/exchange_lines/0/sku", "not offered for line 1"),
        ([(1, 1)], [(1, "TEE-EBOOK")], "#/exchange_lines/0/sku", "not offered for line 1"),
        ([(1, 1)], [(1, "NO-SUCH")], "#/exchange_lines/0/sku", "not offered for line 1"),
        ([(1, 1)], [(1, "X")], "#/exchange_lines/0/sku", "not offered for line 1"),
        (
            [(1, 1)],
            [],
            "#/lines/0",
            "line 1 goes back in exchange: name its replacement",
        ),
        (
            [(1, 1)],
            [(1, "TEE-S"), (2, "X")],
            "#/exchange_lines/1/line_no",
            "line 2 is not among the lines sent back",
        ),
        (
            [(1, 1)],
            [(1, "TEE-S"), (1, "TEE-M")],
            "#/exchange_lines/1/line_no",
            "line 1 has a replacement already",
        ),
    ],
)
def test_a_json_exchange_of_what_is_not_offered_is_refused_at_its_pointer(
    client: TestClient,
    uow: SqlUnitOfWorkFactory,
    shop: tuple[ApiTenant, str],
    lines: list[tuple[int, int]],
    exchange: list[tuple[int, str]],
    pointer: str,
    detail: str,
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("TEE-M", 1), ("X", 1))
    answer = _ask(client, slug, order, lines, exchange)
    problem = assert_problem(answer, 422)
    assert [(e["pointer"], e["detail"]) for e in problem["errors"]] == [(pointer, detail)]
    assert returns_of(client, tenant, order) == []


def test_another_shops_product_is_never_sent_for_a_json_exchange(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    other = new_tenant(uow, "a json shop whose tee is not offered")
    open_shop(uow, other.id)
    add_product(uow, other.id, "TEE-OTHER", "1.00", "tees")
    set_stock(uow, other.id, "TEE-OTHER", "NEAR", 10)
    order = delivered(uow, tenant.id, ("TEE-M", 1))
    answer = _ask(client, slug, order, [(1, 1)], [(1, "TEE-OTHER")])
    assert [e["pointer"] for e in assert_problem(answer, 422)["errors"]] == [
        "#/exchange_lines/0/sku"
    ]
    assert returns_of(client, tenant, order) == []
    assert stock_at_near(uow, other.id, "TEE-OTHER") == (10, 10)


def test_a_json_exchange_is_refused_before_delivery_and_once_the_window_closed(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    on_its_way = shipped_order(uow, tenant.id, ("TEE-M", 1))
    early = assert_problem(_ask(client, slug, on_its_way, [(1, 1)], [(1, "TEE-S")]), 409)
    assert early["detail"] == "An exchange can be asked for once the order was delivered"
    order = delivered(uow, tenant.id, ("TEE-M", 1))
    policy = {"window_days": 1}
    assert client.put("/v1/return-policy", json=policy, headers=tenant.headers).status_code == 200
    late = assert_problem(_ask(client, slug, order, [(1, 1)], [(1, "TEE-S")]), 409)
    assert late["detail"].startswith("The return window closed on")
    assert returns_of(client, tenant, order) == returns_of(client, tenant, on_its_way) == []


def test_a_json_exchange_with_a_wrong_email_or_another_resolution_is_refused(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("TEE-M", 1))
    wrong = _ask(client, slug, order, [(1, 1)], [(1, "TEE-S")], email="someone@example.com")
    assert assert_problem(wrong, 404)["detail"] == "We could not find an order with these details"
    refund = _ask(client, slug, order, [(1, 1)], [(1, "TEE-S")], resolution="refund")
    assert [e["pointer"] for e in assert_problem(refund, 422)["errors"]] == ["#/exchange_lines"]
    too_many = _ask(client, slug, order, [(1, 2)], [(1, "TEE-S")])
    assert [e["pointer"] for e in assert_problem(too_many, 422)["errors"]] == ["#/lines/0/quantity"]
    assert returns_of(client, tenant, order) == []


def test_an_archived_replacement_is_refused_at_the_exchange_line_that_named_it(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("TEE-M", 1))
    # Archived between the read and the request: no longer offered.
    with uow(readonly=True) as read:
        tee = read.products.by_skus(tenant.id, ["TEE-S"])["TEE-S"]
    catalogue.archive_product(uow_factory=uow, tenant_id=tenant.id, product_id=tee.id)
    answer = _ask(client, slug, order, [(1, 1)], [(1, "TEE-S")])
    assert [e["pointer"] for e in assert_problem(answer, 422)["errors"]] == [
        "#/exchange_lines/0/sku"
    ]


def test_a_line_with_nothing_to_exchange_for_is_refused_at_its_exchange_line(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("TEE-M", 1), ("X", 1))
    with uow(readonly=True) as read:
        x = read.products.by_skus(tenant.id, ["X"])["X"]
    catalogue.archive_product(uow_factory=uow, tenant_id=tenant.id, product_id=x.id)
    tee, no_longer_sold = _read(client, slug, order)["returns"]["lines"]
    assert (len(tee["exchanges"]), no_longer_sold["exchanges"]) == (4, [])
    answer = _ask(client, slug, order, [(1, 1), (2, 1)], [(1, "TEE-S"), (2, "X")])
    assert [(e["pointer"], e["detail"]) for e in assert_problem(answer, 422)["errors"]] == [
        ("#/exchange_lines/1/sku", "line 2 cannot be exchanged: ask for a refund of it")
    ]
    assert returns_of(client, tenant, order) == []
