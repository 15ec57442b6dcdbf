"""Store credit spent at checkout: a ``store_credit`` entry in ``payments`` of
``POST /v1/orders`` debits the customer's ledger in the order's own transaction, never
beyond the balance (two orders at once on PostgreSQL), and a cancelled or refunded order
gives the credit share back as credit (SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import replace
from decimal import Decimal
from threading import Barrier
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from oms.adapters.db.tables import outbox
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.email.rendering import JinjaEmailRenderer
from oms.adapters.payments.registry import gateway_named
from oms.domain.errors import IllegalTransition
from oms.domain.notifications import Template
from oms.domain.payments import PaymentKind, PaymentOutcome
from oms.services import intake
from oms.services.customer_email import compose_email
from oms.services.events import Event
from oms.services.orders import cancel_order
from oms.services.payments import PaymentRequest, pay
from oms.services.store_credit import find_store_credit_drift
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
from tests.integration.returns_support import (
    PICKUP_KEY,
    open_shop,
    returns_engine,
    shipped_order,
)
from tests.integration.test_routing import COLOGNE
from tests.mail_support import MemoryStatusLinks

__all__ = ["client", "returns_engine", "uow"]

ADDRESS = {"line1": "Domkloster 4", "postal_code": "50667", "city": "Koeln", "country": "DE"}


@pytest.fixture
def shop(uow: SqlUnitOfWorkFactory) -> ApiTenant:
    tenant = new_tenant(uow, "store credit checkout")
    open_shop(uow, tenant.id)
    return tenant


def _credit_order(uow: SqlUnitOfWorkFactory, tenant_id: UUID, amount: str) -> intake.PlaceOrder:
    """Z (30.00) paid with ``amount`` of store credit and the rest by the manual gateway."""
    return replace(
        order_of(("Z", 1), email=EMAIL, payment=None),
        shipping_address=COLOGNE,
        payments=(
            intake.ChannelPayment(gateway="store_credit", amount=Decimal(amount)),
            intake.ChannelPayment(gateway="manual", captured=True),
        ),
    )


def _post_order(client: TestClient, shop: ApiTenant, payments: list[dict[str, Any]]) -> Any:
    return client.post(
        "/v1/orders",
        headers=shop.headers,
        json=order_body(
            ("Z", 1), customer={"email": EMAIL}, shipping_address=ADDRESS, payments=payments
        ),
    )


def test_two_orders_at_once_never_spend_more_than_the_balance(
    shop: ApiTenant, uow: SqlUnitOfWorkFactory, returns_engine: Engine
) -> None:
    customer_id = customer_with_credit(uow, shop.id, "30.00")
    concurrent = returns_engine.dialect.name == "postgresql"  # SQLite writes one at a time
    barrier = Barrier(2 if concurrent else 1)

    def place(n: int) -> Any:
        barrier.wait()
        return intake.place_order(
            uow_factory=uow,
            gateways=gateway_named,
            tenant_id=shop.id,
            command=replace(_credit_order(uow, shop.id, "20.00"), external_id=f"race-{n}"),
            actor=TESTER,
        ).order

    if concurrent:
        with ThreadPoolExecutor(2) as pool:
            orders = list(pool.map(place, range(2)))
    else:
        orders = [place(n) for n in range(2)]
    credit = [
        [p for p in o.payments if p.gateway == "store_credit" and p.kind is PaymentKind.CAPTURE]
        for o in orders
    ]
    assert sorted(len(c) for c in credit) == [0, 1]  # one spent 20.00, one was declined
    declined = [
        p
        for o in orders
        for p in o.payments
        if p.gateway == "store_credit" and p.outcome is PaymentOutcome.DECLINED
    ]
    assert len(declined) == 1
    assert credit_balance(uow, shop.id, customer_id) == Decimal("10.00")
    assert find_store_credit_drift(uow_factory=uow) == []


def test_an_order_pays_with_credit_and_the_balance_shows_the_debit(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    customer_id = customer_with_credit(uow, shop.id, "12.50")
    placed = _post_order(
        client,
        shop,
        [{"gateway": "store_credit"}, {"gateway": "manual", "captured": True}],
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["payment_status"] == "paid"
    by_gateway = {p["gateway"]: p["amount"] for p in order["payments"] if p["kind"] == "capture"}
    assert by_gateway == {"store_credit": "12.50", "manual": "17.50"}  # credit up to the total
    account = client.get(f"/v1/customers/{customer_id}/store-credit", headers=shop.headers).json()
    assert account["balances"] == [{"currency": "EUR", "balance": "0.00"}]
    spent = account["entries"][0]
    assert (spent["amount"], spent["order_id"]) == ("-12.50", order["id"])
    events = client.get(f"/v1/orders/{order['id']}/events", headers=shop.headers).json()
    captured = [e for e in events["items"] if e["type"] == "payment.captured"]
    assert {e["data"]["gateway"] for e in captured} == {"store_credit", "manual"}


def test_credit_beyond_the_balance_is_declined_and_the_order_waits_for_payment(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    customer_id = customer_with_credit(uow, shop.id, "5.00")
    placed = _post_order(client, shop, [{"gateway": "store_credit", "amount": "20.00"}])
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert [(p["gateway"], p["outcome"]) for p in order["payments"]] == [
        ("store_credit", "declined")
    ]
    assert order["payment_status"] == "pending"
    assert credit_balance(uow, shop.id, customer_id) == Decimal("5.00")


def test_store_credit_needs_a_customer_and_at_most_the_total(
    client: TestClient, shop: ApiTenant
) -> None:
    anonymous = client.post(
        "/v1/orders",
        headers=shop.headers,
        json=order_body(("Z", 1), shipping_address=ADDRESS, payments=[{"gateway": "store_credit"}]),
    )
    assert [e["pointer"] for e in assert_problem(anonymous, 422)["errors"]] == [
        "#/payments/0/gateway"
    ]
    too_much = _post_order(client, shop, [{"gateway": "store_credit", "amount": "31.00"}])
    assert [e["pointer"] for e in assert_problem(too_much, 422)["errors"]] == [
        "#/payments/0/amount"
    ]
    both = client.post(
        "/v1/orders",
        headers=shop.headers,
        json=order_body(
            ("Z", 1),
            shipping_address=ADDRESS,
            payment={"gateway": "manual"},
            payments=[{"gateway": "manual"}],
        ),
    )
    assert [e["pointer"] for e in assert_problem(both, 422)["errors"]] == ["#/payments"]


def test_a_cancelled_order_gives_the_credit_back(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    customer_id = customer_with_credit(uow, shop.id, "20.00")
    order = _post_order(
        client, shop, [{"gateway": "store_credit", "amount": "20.00"}, {"gateway": "manual"}]
    ).json()
    assert credit_balance(uow, shop.id, customer_id) == Decimal("0.00")
    cancelled = client.post(f"/v1/orders/{order['id']}/cancel", headers=shop.headers, json={})
    assert cancelled.status_code == 200, cancelled.text
    assert credit_balance(uow, shop.id, customer_id) == Decimal("20.00")
    refunds = [p for p in cancelled.json()["payments"] if p["kind"] == "refund"]
    assert [(p["gateway"], p["amount"]) for p in refunds] == [("store_credit", "20.00")]
    events = client.get(f"/v1/orders/{order['id']}/events", headers=shop.headers).json()
    assert any(
        e["type"] == "payment.refunded" and e["data"]["gateway"] == "store_credit"
        for e in events["items"]
    )
    assert find_store_credit_drift(uow_factory=uow) == []
    (told,) = _refund_emails(uow, shop.id)
    assert "back to your store credit with us" in told
    assert "bank" not in told


def _refund_emails(uow: SqlUnitOfWorkFactory, tenant_id: UUID) -> list[str]:
    """The text of the ``refunded`` email each ``payment.refunded`` of the tenant sends."""
    with uow.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(
            select(outbox).where(
                outbox.c.tenant_id == tenant_id, outbox.c.topic == "payment.refunded"
            )
        ).all()
    texts = []
    for row in rows:
        event = Event(
            id=row.id,
            tenant_id=tenant_id,
            type="payment.refunded",
            created_at=row.created_at,
            data={},
            topic=row.topic,
            aggregate_id=row.aggregate_id,
            detail=row.payload,
        )
        with uow(readonly=True) as tx:
            draft = compose_email(
                tx,
                event,
                Template.REFUNDED,
                links=MemoryStatusLinks(),
                pickup_key=PICKUP_KEY,
                now=row.created_at,
            )
        assert draft is not None
        texts.append(JinjaEmailRenderer().render(draft.context).text)
    return texts


def test_a_partial_refund_gives_the_credit_share_back_as_credit(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    customer_id = customer_with_credit(uow, shop.id, "10.00")
    order = _post_order(
        client,
        shop,
        [{"gateway": "store_credit", "amount": "10.00"}, {"gateway": "manual", "captured": True}],
    ).json()
    refunded = client.post(
        f"/v1/orders/{order['id']}/payments/refund",
        headers={**shop.headers, "Idempotency-Key": "part"},
        json={"amount": "15.00"},
    )
    assert refunded.status_code == 200, refunded.text
    refunds = sorted(
        (p["gateway"], p["amount"]) for p in refunded.json()["payments"] if p["kind"] == "refund"
    )
    assert refunds == [("manual", "10.00"), ("store_credit", "5.00")]  # a third was credit
    assert credit_balance(uow, shop.id, customer_id) == Decimal("5.00")
    whole = client.post(
        f"/v1/orders/{order['id']}/payments/refund",
        headers={**shop.headers, "Idempotency-Key": "rest"},
        json={},
    )
    assert whole.json()["payment_status"] == "refunded"
    assert credit_balance(uow, shop.id, customer_id) == Decimal("10.00")
    assert find_store_credit_drift(uow_factory=uow) == []


@settings(
    max_examples=10,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["spend", "cancel", "refund"]),
            st.integers(min_value=1, max_value=3000),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_the_balance_never_goes_negative_and_matches_its_ledger(
    uow: SqlUnitOfWorkFactory, steps: list[tuple[str, int]]
) -> None:
    """Any sequence of orders spending credit (any amount, covered or not), cancellations
    and partial refunds keeps the balance at or above zero and equal to its entries."""
    tenant = new_tenant(uow, "credit property")
    open_shop(uow, tenant.id)
    customer_id = customer_with_credit(uow, tenant.id, "40.00")
    orders: list[UUID] = []
    for n, (step, cents) in enumerate(steps):
        amount = Decimal(cents) / 100
        if step == "spend" or not orders:
            command = replace(_credit_order(uow, tenant.id, str(amount)), external_id=f"p-{n}")
            orders.append(
                intake.place_order(
                    uow_factory=uow,
                    gateways=gateway_named,
                    tenant_id=tenant.id,
                    command=command,
                    actor=TESTER,
                ).order.id
            )
        elif step == "cancel":
            cancel_order(
                uow_factory=uow,
                tenant_id=tenant.id,
                order_id=orders[-1],
                actor=TESTER,
                gateways=gateway_named,
            )
        else:
            with suppress(IllegalTransition):  # nothing (or not that much) left to refund
                pay(
                    uow_factory=uow,
                    gateways=gateway_named,
                    tenant_id=tenant.id,
                    order_id=orders[-1],
                    request=PaymentRequest(PaymentKind.REFUND, amount),
                    actor=TESTER,
                )
        balance = credit_balance(uow, tenant.id, customer_id)
        assert balance >= 0
    assert not [d for d in find_store_credit_drift(uow_factory=uow) if d[0] == tenant.id]


def test_a_cancel_without_the_gateways_still_gives_the_credit_back(
    shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    """The portal cancels without the payment gateways: the card's share waits for a
    person (refund_due), the credit comes back at once."""
    customer_id = customer_with_credit(uow, shop.id, "10.00")
    placed = intake.place_order(
        uow_factory=uow,
        gateways=gateway_named,
        tenant_id=shop.id,
        command=_credit_order(uow, shop.id, "10.00"),
        actor=TESTER,
    ).order
    cancelled = cancel_order(uow_factory=uow, tenant_id=shop.id, order_id=placed.id, actor=TESTER)
    assert credit_balance(uow, shop.id, customer_id) == Decimal("10.00")
    assert cancelled.refund_due() == Decimal("20.00")  # the manual capture, owed back
    assert [h.reason.value for h in cancelled.open_holds] == ["refund_due"]


def test_a_returns_refund_gives_the_credit_share_back_as_credit(
    client: TestClient, shop: ApiTenant, uow: SqlUnitOfWorkFactory
) -> None:
    customer_id = customer_with_credit(uow, shop.id, "10.00")
    order = shipped_order(
        uow,
        shop.id,
        ("Z", 1),
        payments=(
            intake.ChannelPayment(gateway="store_credit", amount=Decimal("10.00")),
            intake.ChannelPayment(gateway="manual", captured=True),
        ),
    )
    assert order.payment_status.value == "paid"
    created = client.post(
        f"/v1/orders/{order.id}/returns",
        headers=shop.headers,
        json={"lines": [{"line_no": 1, "quantity": 1, "reason": "defective"}]},
    ).json()
    client.post(
        f"/v1/returns/{created['id']}/receive",
        headers=shop.headers,
        json={
            "location": "NEAR",
            "lines": [{"line_no": 1, "quantity": 1, "disposition": "restock"}],
        },
    )
    refunded = client.post(
        f"/v1/returns/{created['id']}/refund", headers={**shop.headers, "Idempotency-Key": "r"}
    )
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["refund_amount"] == "30.00"
    after = client.get(f"/v1/orders/{order.id}", headers=shop.headers).json()
    refunds = sorted(
        (p["gateway"], p["amount"]) for p in after["payments"] if p["kind"] == "refund"
    )
    assert refunds == [("manual", "20.00"), ("store_credit", "10.00")]
    assert credit_balance(uow, shop.id, customer_id) == Decimal("10.00")
    assert find_store_credit_drift(uow_factory=uow) == []
