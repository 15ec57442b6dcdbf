"""Customers of a tenant and their order history."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID

from oms.domain.errors import NotFound
from oms.domain.orders import Order
from oms.services.ports import CustomerRecord, OrderFilter, UnitOfWorkFactory

__all__ = ["CustomerHistory", "get_customer", "list_customers"]

HISTORY_LENGTH = 50


@dataclass(frozen=True)
class CustomerHistory:
    customer: CustomerRecord
    orders: list[Order]
    store_credit: dict[str, Decimal] = field(default_factory=dict)  # balance per currency


def list_customers(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    email: str | None,
    after_id: UUID | None,
    limit: int,
) -> list[CustomerRecord]:
    """A page of customers, oldest first; ``email`` finds one by its normalised address."""
    with uow_factory(readonly=True) as uow:
        return uow.customers.page(
            tenant_id,
            email=None if email is None else email.strip().lower(),
            after_id=after_id,
            limit=limit,
        )


def get_customer(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, customer_id: UUID
) -> CustomerHistory:
    """One customer with their most recent orders, newest first, and their store-credit
    balance per currency."""
    with uow_factory(readonly=True) as uow:
        customer = uow.customers.get(tenant_id, customer_id)
        if customer is None:
            raise NotFound(f"No customer {customer_id}")
        recent = uow.orders.page(
            tenant_id,
            filters=OrderFilter(customer_email=customer.email),
            before_id=None,
            limit=HISTORY_LENGTH,
        )
        credit = uow.store_credit.balances(tenant_id, customer_id)
    return CustomerHistory(customer=customer, orders=recent, store_credit=credit)
