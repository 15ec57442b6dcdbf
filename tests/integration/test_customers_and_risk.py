"""Customers matched by email, and risk rules putting orders on fraud review."""

from __future__ import annotations

from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.errors import InvalidRequest, NotFound
from oms.domain.holds import HoldReason
from oms.domain.risk import RiskRuleKind
from oms.services.customers import get_customer, list_customers
from oms.services.risk import create_risk_rule, deactivate_risk_rule
from tests.builders import add_location, add_product, order_of, place, set_stock


@pytest.fixture
def shop(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    add_location(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "X", price="60.00")
    set_stock(uow_factory, tenant_id, "X", "A", 100)
    return tenant_id


def test_orders_from_one_email_in_any_case_make_one_customer_with_a_history(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    first = place(uow_factory, shop, order_of(("X", 1), email="Ada@Example.com")).order
    second = place(uow_factory, shop, order_of(("X", 1), email="ada@example.com")).order
    assert first.customer_id == second.customer_id
    assert first.customer_id is not None

    (found,) = list_customers(
        uow_factory=uow_factory, tenant_id=shop, email="ADA@example.com", after_id=None, limit=5
    )
    history = get_customer(uow_factory=uow_factory, tenant_id=shop, customer_id=found.id)
    assert history.customer.orders_count == 2
    assert [o.id for o in history.orders] == [second.id, first.id]
    with pytest.raises(NotFound):
        get_customer(uow_factory=uow_factory, tenant_id=shop, customer_id=UUID(int=5))


def test_an_order_above_the_value_rule_goes_to_fraud_review_with_a_risk_summary(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    rule = create_risk_rule(
        uow_factory=uow_factory,
        tenant_id=shop,
        kind=RiskRuleKind.ORDER_VALUE_ABOVE,
        params={"amount": "100.00", "currency": "EUR"},
    )
    small = place(uow_factory, shop, order_of(("X", 1))).order
    big = place(uow_factory, shop, order_of(("X", 2))).order

    assert small.risk == {"flagged": False, "matches": []}
    assert big.risk is not None
    assert big.risk["flagged"] is True
    assert big.risk["matches"][0]["rule_id"] == str(rule.id)
    assert [h.reason for h in big.open_holds] == [HoldReason.FRAUD_REVIEW]
    assert big.released_at is None

    deactivate_risk_rule(uow_factory=uow_factory, tenant_id=shop, rule_id=rule.id)
    later = place(uow_factory, shop, order_of(("X", 2))).order
    assert later.open_holds == []


def test_the_third_order_from_one_email_within_a_day_is_flagged(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    create_risk_rule(
        uow_factory=uow_factory,
        tenant_id=shop,
        kind=RiskRuleKind.EMAIL_VELOCITY,
        params={"max_orders": 2, "window_hours": 24},
    )
    flags = [
        bool(
            place(uow_factory, shop, order_of(("X", 1), email="fast@example.com")).order.open_holds
        )
        for _ in range(3)
    ]
    assert flags == [False, False, True]


def test_bad_rule_parameters_are_refused_with_pointers(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        create_risk_rule(
            uow_factory=uow_factory,
            tenant_id=shop,
            kind=RiskRuleKind.EMAIL_VELOCITY,
            params={"max_orders": 0},
        )
    assert {e.pointer for e in refused.value.errors} >= {"#/params/max_orders"}
