"""Store credit spent after intake: ``POST /v1/orders/{id}/payments/authorize`` with
``{"gateway": "store_credit", "amount"?}`` pays an order waiting for payment (or partly
paid) from the customer's balance, by the same rule as a ``store_credit`` payment at
checkout: debited once per Idempotency-Key, never beyond what the order still has open or
the balance (several orders spending one balance at once on PostgreSQL), the order released
as by any payment, and the credit given back by a cancellation or a refund (SQLite and
PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from decimal import Decimal
from threading import Barrier
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine, select

from oms.adapters.db.tables import outbox
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.errors import Conflict
from oms.domain.payments import PaymentKind
from oms.domain.users import Role
from oms.services import intake
from oms.services.checks import find_invariant_violations
from oms.services.payments import PaymentRequest, pay
from oms.services.store_credit import find_store_credit_drift
from tests.api.portal_support import new_user, sign_in
from tests.api.returns_fixtures import client, uow
from tests.api.store_credit_support import EMAIL, credit_balance, customer_with_credit
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    new_tenant,
    order_body,
)
from tests.builders import TESTER, order_of
from tests.integration.returns_support import open_shop, returns_engine
from tests.integration.test_routing import COLOGNE

__all__ = ["client", "returns_engine", "uow"]

ADDRESS = {"line1": "Domkloster 4", "postal_code": "50667", "city": "Koeln", "country": "DE"}
CREDIT = {"gateway": "store_credit"}


@pytest.fixture
def shop(uow: SqlUnitOfWorkFactory) -> ApiTenant:
    tenant = new_tenant(uow, "store credit after intake")
    open_shop(uow, tenant.id)
    return tenant


def _unpaid_order(client: TestClient, shop: ApiTenant, **fields: Any) -> dict[str, Any]:
    """Z (30.00) for EMAIL, placed without a payment (or with ``payments``)."""
    placed = client.post(
        "/v1/orders",
        headers=shop.headers,
        json=order_body(("Z", 1), customer={"email": EMAIL}, shipping_address=ADDRESS, **fields),
    )
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    return order


def _authorize(
    client: TestClient, shop: ApiTenant, order_id: str, body: dict[str, Any], key: str | None
) -> Any:
    headers = {**shop.headers, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/v1/orders/{order_id}/payments/authorize", headers=headers, json=body)


def _open_holds(order: dict[str, Any]) -> list[str]:
    return [h["reason"] for h in order["holds"] if h["released_at"] is None]


def _credit_payments(order: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (p["kind"], p["amount"], p["outcome"])
        for p in order["payments"]
        if p["gateway"] == "store_credit"
    ]


def _books_balance(uow: SqlUnitOfWorkFactory, tenant_id: UUID) -> None:
    assert [d for d in find_store_credit_drift(uow_factory=uow) if d[0] == tenant_id] == []
    assert [v for v in find_invariant_violations(uow_factory=uow) if v.tenant_id == tenant_id] == []


def test_several_orders_spending_one_balance_at_once_never_overdraw_it(
    shop: ApiTenant, uow: SqlUnitOfWorkFactory, returns_engine: Engine
) -> None:
    """Six orders waiting for payment each spend 10.00 of a 30.00 balance at once: three
    are paid, three refused with 409, and the balance ends at zero, equal to its ledger."""
    customer_id = customer_with_credit(uow, shop.id, "30.00")
    orders = [
        intake.place_order(
            uow_factory=uow,
            gateways=gateway_named,
            tenant_id=shop.id,
            command=replace(
                order_of(("Z", 1), email=EMAIL, payment=None, external_id=f"race-{n}"),
                shipping_address=COLOGNE,
            ),
            actor=TESTER,
        ).order
        for n in range(6)
    ]
    concurrent = returns_engine.dialect.name == "postgresql"  # SQLite writes one at a time
    barrier = Barrier(len(orders) if concurrent else 1)

    def spend(order_id: UUID) -> bool:
        barrier.wait()
        try:
            pay(
                uow_factory=uow,
                gateways=gateway_named,
                tenant_id=shop.id,
                order_id=order_id,
                request=PaymentRequest(
                    PaymentKind.AUTHORIZATION, Decimal("10.00"), gateway="store_credit"
                ),
                actor=TESTER,
            )
        except Conflict:
            return False
        return True

    ids = [o.id for o in orders]
    if concurrent:
        with ThreadPoolExecutor(len(ids)) as pool:
            results = list(pool.map(spend, ids))
    else:
        results = [spend(order_id) for order_id in ids]
    assert sum(results) == 3
    assert credit_balance(uow, shop.id, customer_id) == Decimal("0.00")
    with uow(readonly=True) as tx:
        spent = tx.store_credit.entries(shop.id, customer_id, limit=10)
        paid = [tx.orders.get(shop.id, order_id) for order_id in ids]
    assert sorted(e.amount for e in spent) == [Decimal("-10.00")] * 3 + [Decimal("30.00")]
    assert sorted(o.payment_status.value for o in paid if o is not None) == (
        ["partially_paid"] * 3 + ["pending"] * 3
    )
    _books_balance(uow, shop.id)


def test_one_key_sent_twice_at_once_spends_once(
    shop: ApiTenant, uow: SqlUnitOfWorkFactory, returns_engine: Engine
) -> None:
    customer_id = customer_with_credit(uow, shop.id, "50.00")
    order = intake.place_order(
        uow_factory=uow,
        gateways=gateway_named,
        tenant_id=shop.id,
        command=replace(order_of(("Z", 1), email=EMAIL, payment=None), shipping_address=COLOGNE),
        actor=TESTER,
    ).order
    concurrent = returns_engine.dialect.name == "postgresql"
    barrier = Barrier(2 if concurrent else 1)

    def spend(_: int) -> list[UUID]:
        barrier.wait()
        paid = pay(
            uow_factory=uow,
            gateways=gateway_named,
            tenant_id=shop.id,
            order_id=order.id,
            request=PaymentRequest(
                PaymentKind.AUTHORIZATION, gateway="store_credit", idempotency_key="twice"
            ),
            actor=TESTER,
        )
        return [p.id for p in paid.payments]

    if concurrent:
        with ThreadPoolExecutor(2) as pool:
            first, second = pool.map(spend, range(2))
    else:
        first, second = spend(0), spend(1)
    assert first == second
    assert len(first) == 2  # one authorization, one capture
    assert credit_balance(uow, shop.id, customer_id) == Decimal("20.00")
    _books_balance(uow, shop.id)


def test_an_order_waiting_for_payment_is_paid_with_credit_once_per_key(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory, returns_engine: Engine
) -> None:
    customer_id = customer_with_credit(uow, shop.id, "45.00")
    order = _unpaid_order(client, shop)
    assert (order["payment_status"], _open_holds(order)) == ("pending", ["payment_pending"])
    assert order["released_at"] is None

    paid = _authorize(client, shop, order["id"], CREDIT, "credit-1")

    assert paid.status_code == 200, paid.text
    body = paid.json()
    assert body["payment_status"] == "paid"
    assert _credit_payments(body) == [
        ("authorization", "30.00", "succeeded"),
        ("capture", "30.00", "succeeded"),
    ]
    assert _open_holds(body) == []
    assert body["released_at"] is not None
    routed = client.get(f"/v1/orders/{order['id']}/fulfillment-orders", headers=shop.headers)
    assert [fo["location"] for fo in routed.json()["items"]] == ["NEAR"]
    again = _authorize(client, shop, order["id"], CREDIT, "credit-1")
    assert again.status_code == 200, again.text
    assert again.json()["payments"] == body["payments"]
    assert credit_balance(uow, shop.id, customer_id) == Decimal("15.00")
    account = client.get(f"/v1/customers/{customer_id}/store-credit", headers=shop.headers)
    spent = account.json()["entries"][0]
    assert (spent["amount"], spent["order_id"]) == ("-30.00", order["id"])
    events = client.get(f"/v1/orders/{order['id']}/events", headers=shop.headers).json()
    paid_events = [
        (e["type"], e["data"]["gateway"]) for e in events["items"] if e["type"].startswith("pay")
    ]
    assert paid_events == [
        ("payment.authorized", "store_credit"),
        ("payment.captured", "store_credit"),
    ]
    with returns_engine.connect() as conn:
        topics = conn.scalars(
            select(outbox.c.topic).where(
                outbox.c.tenant_id == shop.id, outbox.c.aggregate_id == UUID(order["id"])
            )
        ).all()
    assert {"payment.authorized", "payment.captured", "order.released"} <= set(topics)
    _books_balance(uow, shop.id)
    sign_in(client, new_user(uow, Role.MERCHANT_ADMIN, shop.id))
    page = client.get(f"/app/orders/{shop.id}/{order['id']}").text
    client.cookies.clear()
    assert "<dt>Payment</dt><dd>paid</dd>" in page
    assert "capture 30.00 EUR via store_credit: succeeded" in page


def test_credit_pays_what_it_covers_and_a_card_the_rest(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    customer_id = customer_with_credit(uow, shop.id, "12.00")
    order = _unpaid_order(client, shop)

    part = _authorize(client, shop, order["id"], CREDIT, "credit")

    assert part.status_code == 200, part.text
    assert part.json()["payment_status"] == "partially_paid"
    assert _open_holds(part.json()) == ["payment_pending"]
    card = _authorize(client, shop, order["id"], {"gateway": "test"}, "card")
    assert card.status_code == 200, card.text
    authorized = [
        p["amount"]
        for p in card.json()["payments"]
        if p["gateway"] == "test" and p["kind"] == "authorization"
    ]
    assert authorized == ["18.00"]  # the rest
    assert _open_holds(card.json()) == []
    assert card.json()["released_at"] is not None
    assert credit_balance(uow, shop.id, customer_id) == Decimal("0.00")
    _books_balance(uow, shop.id)


def test_a_partly_paid_order_takes_credit_for_what_is_still_open(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    customer_id = customer_with_credit(uow, shop.id, "50.00")
    order = _unpaid_order(
        client, shop, payments=[{"gateway": "manual", "amount": "10.00", "captured": True}]
    )
    assert order["payment_status"] == "partially_paid"

    paid = _authorize(client, shop, order["id"], CREDIT, None)

    assert paid.status_code == 200, paid.text
    assert paid.json()["payment_status"] == "paid"
    assert _credit_payments(paid.json())[-1] == ("capture", "20.00", "succeeded")
    assert credit_balance(uow, shop.id, customer_id) == Decimal("30.00")


def test_spending_more_than_is_open_or_than_the_balance_is_refused_and_writes_nothing(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    customer_id = customer_with_credit(uow, shop.id, "5.00")
    order = _unpaid_order(client, shop)
    path = order["id"]

    beyond_open = _authorize(client, shop, path, {**CREDIT, "amount": "31.00"}, "a")
    assert [e["pointer"] for e in assert_problem(beyond_open, 422)["errors"]] == ["#/amount"]
    beyond_balance = assert_problem(
        _authorize(client, shop, path, {**CREDIT, "amount": "20.00"}, "b"), 409
    )
    assert "does not cover 20.00 EUR" in beyond_balance["detail"]
    assert beyond_balance["balance"] == "5.00"

    after = client.get(f"/v1/orders/{path}", headers=shop.headers).json()
    assert after["payments"] == []
    assert after["payment_status"] == "pending"
    assert credit_balance(uow, shop.id, customer_id) == Decimal("5.00")
    timeline = client.get(f"/v1/orders/{path}/events", headers=shop.headers).json()["items"]
    assert not [e for e in timeline if e["type"].startswith("payment.")]


def test_nothing_to_spend_is_a_conflict_that_says_why(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    no_credit = _unpaid_order(client, shop)
    empty = assert_problem(_authorize(client, shop, no_credit["id"], CREDIT, None), 409)
    assert empty["detail"] == "The customer has no store credit in EUR"
    customer_with_credit(uow, shop.id, "40.00")
    held = _unpaid_order(client, shop, payments=[{"gateway": "test"}])
    assert held["payment_status"] == "authorized"
    nothing_open = assert_problem(_authorize(client, shop, held["id"], CREDIT, None), 409)
    assert nothing_open["detail"].startswith("The order owes nothing more to pay")
    cancelled = _unpaid_order(client, shop)
    client.post(f"/v1/orders/{cancelled['id']}/cancel", headers=shop.headers, json={})
    assert_problem(_authorize(client, shop, cancelled["id"], CREDIT, None), 409)


def test_an_order_without_a_customer_cannot_spend_credit(
    client: TestClient, shop: ApiTenant
) -> None:
    placed = client.post(
        "/v1/orders", headers=shop.headers, json=order_body(("Z", 1), shipping_address=ADDRESS)
    ).json()
    refused = _authorize(client, shop, placed["id"], CREDIT, None)
    assert [e["pointer"] for e in assert_problem(refused, 422)["errors"]] == ["#/gateway"]


def test_cancelling_or_refunding_gives_the_credit_spent_after_intake_back(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    customer_id = customer_with_credit(uow, shop.id, "40.00")
    refunded = _unpaid_order(client, shop)
    cancelled = _unpaid_order(client, shop)
    for order in (refunded, cancelled):
        paid = _authorize(client, shop, order["id"], {**CREDIT, "amount": "20.00"}, "credit")
        assert paid.status_code == 200, paid.text
    assert credit_balance(uow, shop.id, customer_id) == Decimal("0.00")

    back = client.post(
        f"/v1/orders/{refunded['id']}/payments/refund",
        headers={**shop.headers, "Idempotency-Key": "back"},
        json={"amount": "5.00"},
    )
    assert back.status_code == 200, back.text
    assert _credit_payments(back.json())[-1] == ("refund", "5.00", "succeeded")
    gone = client.post(f"/v1/orders/{cancelled['id']}/cancel", headers=shop.headers, json={})
    assert gone.status_code == 200, gone.text
    assert _credit_payments(gone.json())[-1] == ("refund", "20.00", "succeeded")
    assert gone.json()["payment_status"] == "refunded"

    assert credit_balance(uow, shop.id, customer_id) == Decimal("25.00")
    _books_balance(uow, shop.id)
