"""An exchange asked for on the order status page's return form: each returned line offers
the shop's products of its category (never another shop's, never an archived or digital
one), the replacement is placed, reserved and routed by the same use case as staff's
exchanges, the price difference is said, and a replacement out of stock is refused next to
its line or backordered by the shop's policy; every problem is shown next to its field and
opens nothing (SQLite and PostgreSQL)."""

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
    post_return_form,
    returns_of,
    status_page_client,
)
from tests.api.support import ApiTenant, TestClient, new_tenant
from tests.builders import set_stock
from tests.integration.returns_support import open_shop, returns_engine, stock_at_near

__all__ = ["returns_engine"]


@pytest.fixture(scope="module")
def uow(returns_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(returns_engine)


@pytest.fixture(scope="module")
def client(returns_engine: Engine) -> Iterator[TestClient]:
    with status_page_client(returns_engine) as test_client:
        yield test_client


@pytest.fixture
def shop(uow: SqlUnitOfWorkFactory) -> tuple[ApiTenant, str]:
    return exchange_shop(uow, "exchange form shop")


def _page(client: TestClient, slug: str, order: Order) -> Any:
    params = {"number": order.number, "email": "erika@example.com"}
    return client.get(f"/status/{slug}", params=params, headers={"Accept": "text/html"})


def _exchange(line_no: int, sku: str, units: int = 1, reason: str = "wrong_size") -> dict[str, str]:
    return {
        f"qty-{line_no}": str(units),
        f"reason-{line_no}": reason,
        f"exchange-{line_no}": sku,
        "resolution": "exchange",
    }


def test_each_returned_line_offers_the_shops_products_of_its_category(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    other = new_tenant(uow, "another shop with tees")
    open_shop(uow, other.id)
    add_product(uow, other.id, "TEE-XXL", "20.00", "tees")
    set_stock(uow, other.id, "TEE-XXL", "NEAR", 10)
    order = delivered(uow, tenant.id, ("TEE-M", 1), ("X", 1))
    page = _page(client, slug, order)
    assert page.status_code == 200
    assert 'value="exchange"' in page.text
    assert '<select id="exchange-1" name="exchange-1"' in page.text
    assert '<option value="TEE-S">Tee S, 20.00 EUR</option>' in page.text
    assert '<option value="TEE-M">Tee M, 20.00 EUR</option>' in page.text  # the same again
    assert '<option value="TEE-XL">Tee XL, 25.00 EUR</option>' in page.text
    assert '<option value="TEE-L" disabled>Tee L, 20.00 EUR (out of stock)</option>' in page.text
    for never in ("TEE-XXL", "MUG", "TEE-EBOOK"):  # another shop's, another category, digital
        assert never not in page.text
    # X has no category: it is exchanged for itself only.
    assert '<option value="X">Product X, 10.00 EUR</option>' in page.text


def test_an_exchange_from_the_form_reserves_the_replacement_and_says_what_is_left_to_pay(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("TEE-M", 1))
    before = stock_at_near(uow, tenant.id, "TEE-XL")
    answer = post_return_form(client, slug, order, **_exchange(1, "TEE-XL"))
    assert answer.status_code == 201, answer.text
    assert "We have your exchange request" in answer.text
    assert "What we send you instead" in answer.text
    assert "1 \N{MULTIPLICATION SIGN} Tee XL" in answer.text
    assert "The difference of <strong>5.00 EUR</strong> is still to pay" in answer.text
    (made,) = returns_of(client, tenant, order)
    assert made["resolution"] == "exchange"
    assert made["created_by"] == f"customer:order {order.number}"
    assert made["exchange_credit"] == "20.00"
    replacement = client.get(f"/v1/orders/{made['exchange_order_id']}", headers=tenant.headers)
    assert replacement.status_code == 200
    body = replacement.json()
    assert body["channel"] == "exchange"
    assert f"order #{body['number']}" in answer.text
    assert [(ln["sku"], ln["quantities"]["allocated"]) for ln in body["lines"]] == [("TEE-XL", 1)]
    on_hand, available = stock_at_near(uow, tenant.id, "TEE-XL")
    assert (on_hand, available) == (before[0], before[1] - 1)  # held at once


def test_a_cheaper_replacement_says_the_difference_comes_back(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("TEE-XL", 1), ("TEE-M", 1))
    choice = _exchange(1, "TEE-S", reason="defective") | _exchange(2, "TEE-S", reason="defective")
    answer = post_return_form(client, slug, order, **choice)
    assert answer.status_code == 201, answer.text
    assert "Your exchange is approved" in answer.text  # defective: approved by the policy
    assert "we refund the difference once your items arrive" in answer.text
    (made,) = returns_of(client, tenant, order)
    replacement = client.get(f"/v1/orders/{made['exchange_order_id']}", headers=tenant.headers)
    # The same product chosen for two lines is asked for once, with both lines' units.
    assert [(ln["sku"], ln["quantities"]["ordered"]) for ln in replacement.json()["lines"]] == [
        ("TEE-S", 2)
    ]
    assert made["exchange_credit"] == "40.00"


def test_a_replacement_out_of_stock_is_refused_next_to_its_line_and_nothing_is_opened(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("TEE-M", 1))
    # Shown out of stock (not selectable); a post naming it all the same, as when the last
    # one went between the page and the post.
    answer = post_return_form(client, slug, order, **_exchange(1, "TEE-L"))
    assert answer.status_code == 409, answer.text
    assert 'id="exchange-1-error">Tee L is out of stock now: choose another item, or a refund' in (
        answer.text
    )
    assert 'aria-describedby="exchange-1-hint exchange-1-error" aria-invalid="true"' in answer.text
    assert "Your return was not sent" in answer.text
    assert returns_of(client, tenant, order) == []
    assert stock_at_near(uow, tenant.id, "TEE-L") == (0, 0)


def test_with_the_backorder_policy_a_replacement_out_of_stock_is_backordered(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    policy = {"exchange_out_of_stock": "backorder", "exchange_ships": "received"}
    assert client.put("/v1/return-policy", json=policy, headers=tenant.headers).status_code == 200
    order = delivered(uow, tenant.id, ("TEE-M", 1))
    page = _page(client, slug, order)
    assert '<option value="TEE-L">Tee L, 20.00 EUR (not in stock: sent when it is back)' in (
        page.text
    )
    answer = post_return_form(client, slug, order, **_exchange(1, "TEE-L"))
    assert answer.status_code == 201, answer.text
    assert "Some of it is not in stock yet" in answer.text
    assert "We send it once we have received your return." in answer.text
    (made,) = returns_of(client, tenant, order)
    replacement = client.get(f"/v1/orders/{made['exchange_order_id']}", headers=tenant.headers)
    assert [(ln["sku"], ln["quantities"]["backordered"]) for ln in replacement.json()["lines"]] == [
        ("TEE-L", 1)
    ]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (_exchange(1, ""), "exchange-1", "Choose what you would like instead"),
        (_exchange(1, "MUG"), "exchange-1", "Choose one of the items offered"),
        (_exchange(1, "TEE-EBOOK"), "exchange-1", "Choose one of the items offered"),
        (_exchange(1, "NO-SUCH"), "exchange-1", "Choose one of the items offered"),
        (
            _exchange(1, "TEE-S") | {"resolution": "refund"},
            "resolution",
            "You chose something instead: choose an exchange, or set it back to none",
        ),
        (
            _exchange(1, "TEE-S") | {"qty-1": "0"},
            "qty-1",
            "Choose how many to send back in exchange",
        ),
        (
            _exchange(1, "TEE-S") | {"resolution": "swap"},
            "resolution",
            "Choose how you would like to be paid back",
        ),
    ],
)
def test_exchange_problems_are_shown_next_to_their_fields_and_nothing_is_opened(
    client: TestClient,
    uow: SqlUnitOfWorkFactory,
    shop: tuple[ApiTenant, str],
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("TEE-M", 1))
    answer = post_return_form(client, slug, order, **fields)
    assert answer.status_code == 422, answer.text
    assert f'id="{field}-error">{message}' in answer.text
    assert returns_of(client, tenant, order) == []


def test_another_shops_product_is_never_sent_in_exchange(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    other = new_tenant(uow, "a shop whose tee is not offered")
    open_shop(uow, other.id)
    add_product(uow, other.id, "TEE-OTHER", "1.00", "tees")
    set_stock(uow, other.id, "TEE-OTHER", "NEAR", 10)
    order = delivered(uow, tenant.id, ("TEE-M", 1))
    answer = post_return_form(client, slug, order, **_exchange(1, "TEE-OTHER"))
    assert answer.status_code == 422
    assert 'id="exchange-1-error">Choose one of the items offered' in answer.text
    assert returns_of(client, tenant, order) == []
    assert stock_at_near(uow, other.id, "TEE-OTHER") == (10, 10)


def test_an_item_with_nothing_to_exchange_for_says_so(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("X", 1), ("TEE-M", 1))
    with uow(readonly=True) as read:
        x = read.products.by_skus(tenant.id, ["X"])["X"]
    catalogue.archive_product(uow_factory=uow, tenant_id=tenant.id, product_id=x.id)
    page = _page(client, slug, order)
    assert 'id="exchange-1-hint">This item cannot be exchanged' in page.text
    assert 'name="exchange-1"' not in page.text
    answer = post_return_form(
        client, slug, order, **_exchange(1, "X") | _exchange(2, "TEE-S") | {"exchange-1": ""}
    )
    assert answer.status_code == 422
    assert (
        'id="exchange-1-error">This item cannot be exchanged: ask for a refund of it instead'
        in (answer.text)
    )
    assert returns_of(client, tenant, order) == []


def test_an_exchange_once_the_window_closed_is_refused(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("TEE-M", 1))
    policy = {"window_days": 1}
    assert client.put("/v1/return-policy", json=policy, headers=tenant.headers).status_code == 200
    assert "Send something back" not in _page(client, slug, order).text
    answer = post_return_form(client, slug, order, **_exchange(1, "TEE-S"))
    assert answer.status_code == 422
    assert 'id="return-problems"><p>Nothing of this order can be returned any more' in answer.text
    assert returns_of(client, tenant, order) == []


def test_an_exchange_posted_from_another_site_is_refused(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, slug = shop
    order = delivered(uow, tenant.id, ("TEE-M", 1))
    other_origin = {"Accept": "text/html", "Origin": "https://attacker.example"}
    answer = post_return_form(client, slug, order, headers=other_origin, **_exchange(1, "TEE-S"))
    assert answer.status_code == 403
    assert returns_of(client, tenant, order) == []
    assert stock_at_near(uow, tenant.id, "TEE-S") == (10, 10)


def test_staff_asking_an_archived_replacement_are_told_at_its_exchange_line(
    client: TestClient, uow: SqlUnitOfWorkFactory, shop: tuple[ApiTenant, str]
) -> None:
    tenant, _ = shop
    order = delivered(uow, tenant.id, ("TEE-M", 1))
    with uow(readonly=True) as read:
        tee = read.products.by_skus(tenant.id, ["TEE-S"])["TEE-S"]
    catalogue.archive_product(uow_factory=uow, tenant_id=tenant.id, product_id=tee.id)
    asked = {
        "lines": [{"line_no": 1, "quantity": 1, "reason": "wrong_size"}],
        "resolution": "exchange",
        "exchange_lines": [{"sku": "TEE-S", "quantity": 1}],
    }
    answer = client.post(f"/v1/orders/{order.id}/returns", json=asked, headers=tenant.headers)
    assert answer.status_code == 422, answer.text
    pointers = [e["pointer"] for e in answer.json()["errors"]]
    assert pointers == ["#/exchange_lines/0/sku"]
