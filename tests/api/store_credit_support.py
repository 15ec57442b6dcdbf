"""A customer with store credit, and their balance, for the store-credit payment tests."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from uuid import UUID

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.services import intake
from oms.services.store_credit import credit_entry
from tests.builders import TESTER, order_of
from tests.integration.test_routing import COLOGNE

__all__ = ["EMAIL", "credit_balance", "customer_with_credit"]

EMAIL = "erika@example.com"


def customer_with_credit(uow: SqlUnitOfWorkFactory, tenant_id: UUID, amount: str) -> UUID:
    """The customer EMAIL (known from an order of theirs) with ``amount`` EUR of credit."""
    placed = intake.place_order(
        uow_factory=uow,
        gateways=gateway_named,
        tenant_id=tenant_id,
        command=replace(order_of(("X", 1), email=EMAIL), shipping_address=COLOGNE),
        actor=TESTER,
    ).order
    assert placed.customer_id is not None
    with uow() as tx:
        tx.store_credit.credit(
            credit_entry(
                tenant_id=tenant_id,
                customer_id=placed.customer_id,
                currency="EUR",
                amount=Decimal(amount),
                actor=TESTER,
                at=placed.created_at,
                note="goodwill",
            )
        )
        tx.commit()
    return placed.customer_id


def credit_balance(uow: SqlUnitOfWorkFactory, tenant_id: UUID, customer_id: UUID) -> Decimal:
    """The customer's EUR balance as committed."""
    with uow(readonly=True) as tx:
        return tx.store_credit.balances(tenant_id, customer_id).get("EUR", Decimal(0))
