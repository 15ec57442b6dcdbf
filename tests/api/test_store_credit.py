"""Store credit: a store-credit return credits the customer's ledger, shown by
``GET /v1/customers/{id}/store-credit``; spending never takes it below zero, even ten at
once (SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_DOWN, Decimal
from threading import Barrier
from typing import Any

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.errors import Conflict
from oms.domain.users import Role
from oms.services.store_credit import find_store_credit_drift, spend_store_credit
from tests.api.portal_support import new_user, sign_in
from tests.api.returns_fixtures import client, uow
from tests.api.support import ApiTenant, TestClient, assert_problem, new_tenant
from tests.builders import TESTER
from tests.integration.returns_support import open_shop, returns_engine, shipped_order

__all__ = ["client", "returns_engine", "uow"]


@pytest.fixture
def shop(uow: SqlUnitOfWorkFactory) -> ApiTenant:
    tenant = new_tenant(uow, "store credit shop")
    open_shop(uow, tenant.id)
    return tenant


def _post(client: TestClient, shop: ApiTenant, path: str, body: Any = None) -> Any:
    return client.post(path, headers=shop.headers, json=body)


def _credited(client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory) -> Any:
    """A Z (30.00) returned as defective for store credit, received and refunded."""
    order = shipped_order(uow, shop.id, ("Z", 1))
    created = _post(
        client,
        shop,
        f"/v1/orders/{order.id}/returns",
        {
            "lines": [{"line_no": 1, "quantity": 1, "reason": "defective"}],
            "resolution": "store_credit",
        },
    ).json()
    assert created["status"] == "approved"
    _post(
        client,
        shop,
        f"/v1/returns/{created['id']}/receive",
        {"location": "NEAR", "lines": [{"line_no": 1, "quantity": 1, "disposition": "restock"}]},
    )
    refunded = _post(client, shop, f"/v1/returns/{created['id']}/refund").json()
    assert order.customer_id is not None
    return order.customer_id, refunded


def test_a_store_credit_return_credits_the_customer_and_the_ledger_balances(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    customer_id, refunded = _credited(client, shop, uow)
    got = client.get(f"/v1/customers/{customer_id}/store-credit", headers=shop.headers)
    assert got.status_code == 200
    body = got.json()
    assert body["balances"] == [{"currency": "EUR", "balance": refunded["refund_amount"]}]
    assert Decimal(refunded["refund_amount"]) > 0
    (entry,) = body["entries"]
    assert (entry["amount"], entry["return_id"]) == (refunded["refund_amount"], refunded["id"])
    # No gateway refund was made: the order keeps its capture as credit.
    order = client.get(f"/v1/orders/{refunded['order_id']}", headers=shop.headers).json()
    assert order["payment_status"] == "paid"
    assert find_store_credit_drift(uow_factory=uow) == []
    customer = client.get(f"/v1/customers/{customer_id}", headers=shop.headers).json()
    assert customer["store_credit"] == {"EUR": refunded["refund_amount"]}
    sign_in(client, new_user(uow, Role.MERCHANT_ADMIN, shop.id))
    page = client.get(f"/app/orders/{shop.id}/{refunded['order_id']}")
    assert f"<dt>Store credit</dt><dd>{refunded['refund_amount']} EUR</dd>" in page.text


def test_an_unknown_customer_has_no_store_credit(client: TestClient, shop: ApiTenant) -> None:
    missing = "00000000-0000-7000-8000-000000000001"
    assert_problem(client.get(f"/v1/customers/{missing}/store-credit", headers=shop.headers), 404)
    assert_problem(client.get("/v1/customers/nope/store-credit", headers=shop.headers), 404)


def test_spending_never_takes_the_balance_below_zero_even_ten_at_once(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory, returns_engine: Engine
) -> None:
    customer_id, refunded = _credited(client, shop, uow)
    balance = Decimal(refunded["refund_amount"])
    each = (balance / 3).quantize(Decimal("0.01"), rounding=ROUND_DOWN)  # 3 fit, 4 do not
    concurrent = returns_engine.dialect.name == "postgresql"  # SQLite writes one at a time
    barrier = Barrier(10 if concurrent else 1)

    def spend() -> bool:
        barrier.wait()
        try:
            spend_store_credit(
                uow_factory=uow,
                tenant_id=shop.id,
                customer_id=customer_id,
                currency="EUR",
                amount=each,
                actor=TESTER,
            )
        except Conflict:
            return False
        return True

    if concurrent:
        with ThreadPoolExecutor(10) as pool:
            results = list(pool.map(lambda _: spend(), range(10)))
    else:
        results = [spend() for _ in range(10)]
    assert sum(results) == 3
    got = client.get(f"/v1/customers/{customer_id}/store-credit", headers=shop.headers).json()
    assert Decimal(got["balances"][0]["balance"]) == balance - each * 3
    assert len(got["entries"]) == 4  # the credit and three spends
    assert find_store_credit_drift(uow_factory=uow) == []
