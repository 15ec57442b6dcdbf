"""Paying an order with store credit after intake (``payments.pay`` with the
``store_credit`` gateway) on the in-memory unit of work: the checkout's rule for the
amount, the credit debited once per Idempotency-Key, refusals that write nothing, and the
balance equal to its ledger and never below zero through any sequence of spends and
refunds. The orders keep a fraud-review hold, so none is released to fulfilment (the
in-memory unit of work keeps no fulfilment orders: the API tests cover the release)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.adapters.memory.uow import MemoryUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.catalogue import ProductKind
from oms.domain.errors import Conflict, IllegalTransition, InvalidRequest
from oms.domain.holds import Hold, HoldReason
from oms.domain.ids import new_id
from oms.domain.orders import Customer, Order, OrderLine
from oms.domain.payments import PaymentKind
from oms.domain.status import PaymentStatus
from oms.services.payments import PaymentRequest, pay
from oms.services.store_credit import credit_entry
from oms.services.tenants import create_tenant
from tests.builders import TESTER

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def _world(credit: str) -> tuple[MemoryUnitOfWorkFactory, UUID, UUID]:
    """A tenant and its customer with ``credit`` EUR of store credit."""
    factory = MemoryUnitOfWorkFactory()
    tenant, _ = create_tenant(uow_factory=factory, name="Shop", at=NOW)
    with factory() as uow:
        customer = uow.customers.record_order(
            tenant.id, email="erika@example.com", name=None, phone=None, at=NOW
        )
        if Decimal(credit) > 0:
            uow.store_credit.credit(
                credit_entry(
                    tenant_id=tenant.id,
                    customer_id=customer.id,
                    currency="EUR",
                    amount=Decimal(credit),
                    actor=TESTER,
                    at=NOW,
                )
            )
        uow.commit()
    return factory, tenant.id, customer.id


def _order(factory: MemoryUnitOfWorkFactory, tenant_id: UUID, customer_id: UUID | None) -> UUID:
    """An open order of 30.00 EUR waiting for payment (and for a fraud review)."""
    with factory() as uow:
        order = Order(
            id=new_id(),
            tenant_id=tenant_id,
            number=uow.tenants.next_order_number(tenant_id),
            channel="api",
            external_id=None,
            currency="EUR",
            customer=Customer(email="erika@example.com"),
            shipping_address=None,
            billing_address=None,
            lines=[OrderLine(1, "A", "Product A", ProductKind.PHYSICAL, 3, Decimal(10))],
            created_at=NOW,
            customer_id=customer_id,
        )
        for reason in (HoldReason.PAYMENT_PENDING, HoldReason.FRAUD_REVIEW):
            order.place_hold(
                Hold(id=new_id(), reason=reason, created_at=NOW, due_at=NOW),
                actor=TESTER,
                at=NOW,
            )
        assert uow.orders.add(order)
        uow.commit()
    return order.id


def _spend(
    factory: MemoryUnitOfWorkFactory,
    tenant_id: UUID,
    order_id: UUID,
    amount: str | None = None,
    key: str | None = None,
) -> Order:
    return pay(
        uow_factory=factory,
        gateways=gateway_named,
        tenant_id=tenant_id,
        order_id=order_id,
        request=PaymentRequest(
            PaymentKind.AUTHORIZATION,
            None if amount is None else Decimal(amount),
            gateway="store_credit",
            idempotency_key=key,
        ),
        actor=TESTER,
        at=NOW,
    )


def _balance(factory: MemoryUnitOfWorkFactory, tenant_id: UUID, customer_id: UUID) -> Decimal:
    with factory(readonly=True) as uow:
        return uow.store_credit.balances(tenant_id, customer_id).get("EUR", Decimal(0))


def _open_holds(order: Order) -> list[str]:
    return sorted(h.reason.value for h in order.open_holds)


@pytest.mark.parametrize(
    ("credit", "asked", "spent", "status"),
    [
        ("50.00", None, "30.00", PaymentStatus.PAID),  # what is open
        ("12.00", None, "12.00", PaymentStatus.PARTIALLY_PAID),  # up to the balance
        ("50.00", "10.00", "10.00", PaymentStatus.PARTIALLY_PAID),  # what was asked
        ("30.00", "30.00", "30.00", PaymentStatus.PAID),  # the whole balance
    ],
)
def test_credit_pays_what_is_asked_or_what_is_open_up_to_the_balance(
    credit: str, asked: str | None, spent: str, status: PaymentStatus
) -> None:
    factory, tenant_id, customer_id = _world(credit)
    order_id = _order(factory, tenant_id, customer_id)

    paid = _spend(factory, tenant_id, order_id, asked)

    assert paid.payment_status is status
    assert [(p.kind, p.amount, p.gateway) for p in paid.payments] == [
        (PaymentKind.AUTHORIZATION, Decimal(spent), "store_credit"),
        (PaymentKind.CAPTURE, Decimal(spent), "store_credit"),
    ]
    still_waiting = ["fraud_review"] if status is PaymentStatus.PAID else None
    assert _open_holds(paid) == (still_waiting or ["fraud_review", "payment_pending"])
    assert _balance(factory, tenant_id, customer_id) == Decimal(credit) - Decimal(spent)
    with factory(readonly=True) as uow:
        (entry, _) = uow.store_credit.entries(tenant_id, customer_id, limit=2)
        assert (entry.amount, entry.order_id) == (-Decimal(spent), order_id)
        topics = [m.topic for m in uow.outbox.messages(tenant_id)]
    assert [t for t in topics if t.startswith("payment.")] == [
        "payment.authorized",
        "payment.captured",
    ]


def test_the_same_key_spends_once() -> None:
    factory, tenant_id, customer_id = _world("50.00")
    order_id = _order(factory, tenant_id, customer_id)
    first = _spend(factory, tenant_id, order_id, "10.00", key="k")
    again = _spend(factory, tenant_id, order_id, "10.00", key="k")
    assert [p.id for p in again.payments] == [p.id for p in first.payments]
    assert _balance(factory, tenant_id, customer_id) == Decimal("40.00")


@pytest.mark.parametrize(
    ("credit", "asked", "refusal", "message"),
    [
        ("50.00", "30.01", InvalidRequest, "More store credit than the order owes"),
        ("5.00", "20.00", Conflict, r"store credit \(5.00 EUR\) does not cover 20.00 EUR"),
        ("0", None, Conflict, "The customer has no store credit in EUR"),
    ],
)
def test_a_refused_spend_writes_nothing(
    credit: str, asked: str | None, refusal: type[Exception], message: str
) -> None:
    factory, tenant_id, customer_id = _world(credit)
    order_id = _order(factory, tenant_id, customer_id)
    before = factory.database.version
    with pytest.raises(refusal, match=message):
        _spend(factory, tenant_id, order_id, asked)
    assert factory.database.version == before  # nothing committed
    assert _balance(factory, tenant_id, customer_id) == Decimal(credit)


def test_an_order_paid_or_without_a_customer_spends_nothing() -> None:
    factory, tenant_id, customer_id = _world("100.00")
    paid = _order(factory, tenant_id, customer_id)
    _spend(factory, tenant_id, paid)
    for asked in (None, "1.00"):
        with pytest.raises(IllegalTransition, match="owes nothing more to pay"):
            _spend(factory, tenant_id, paid, asked)
    anonymous = _order(factory, tenant_id, None)
    with pytest.raises(InvalidRequest) as refused:
        _spend(factory, tenant_id, anonymous)
    assert [e.pointer for e in refused.value.errors] == ["#/gateway"]
    assert _balance(factory, tenant_id, customer_id) == Decimal("70.00")


@settings(max_examples=40)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["spend", "refund"]),
            st.integers(min_value=0, max_value=2),
            st.integers(min_value=1, max_value=4000),
        ),
        max_size=12,
    )
)
def test_the_balance_never_goes_below_zero_and_always_equals_its_ledger(
    steps: list[tuple[str, int, int]],
) -> None:
    """Any sequence of spends (any amount, covered or not) on three orders and partial
    refunds of them keeps the balance at or above zero and equal to its entries."""
    factory, tenant_id, customer_id = _world("45.00")
    orders = [_order(factory, tenant_id, customer_id) for _ in range(3)]
    for step, which, cents in steps:
        amount = Decimal(cents) / 100
        refused: tuple[type[Exception], ...] = (Conflict, InvalidRequest, IllegalTransition)
        try:
            if step == "spend":
                _spend(factory, tenant_id, orders[which], str(amount))
            else:
                pay(
                    uow_factory=factory,
                    gateways=gateway_named,
                    tenant_id=tenant_id,
                    order_id=orders[which],
                    request=PaymentRequest(PaymentKind.REFUND, amount),
                    actor=TESTER,
                    at=NOW,
                )
        except refused:
            pass
        assert _balance(factory, tenant_id, customer_id) >= 0
        with factory(readonly=True) as uow:
            assert uow.store_credit.drift(tenant_id) == []
