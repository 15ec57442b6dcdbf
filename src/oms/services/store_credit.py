"""Store credit: what a return paid back as credit, per customer and currency.

An append-only ledger (``store_credit_entries``: + credited, - spent) and the balance it
sums to, kept in one row per customer and currency. Crediting adds to the row; spending is
one conditional statement (``UPDATE ... SET balance = balance - :x WHERE balance >= :x``:
one row updated means spent), so two spends at once can never take the balance below zero
on either database, and the database's own ``balance >= 0`` check stands behind it. The
entry and the balance change commit together, so the balance always equals the sum of the
entries (``find_store_credit_drift`` proves it).

A return resolved as ``store_credit`` credits its refund amount here when it is refunded
(``oms.services.returns.refund_return``), linked to the return and its order. An order
pays with it at intake through the ``store_credit`` gateway
(``oms.services.store_credit_payments``): spent in the order's transaction, and its share of
the order's refunds credited back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from oms.domain.errors import Conflict, FieldError, InvalidRequest, NotFound
from oms.domain.ids import new_id
from oms.domain.orders import Actor
from oms.services.common import retry_transient, utcnow
from oms.services.ports import UnitOfWorkFactory

__all__ = [
    "StoreCreditAccount",
    "StoreCreditEntry",
    "StoreCreditRepository",
    "get_store_credit",
    "spend_store_credit",
]


@dataclass(frozen=True)
class StoreCreditEntry:
    """One movement of a customer's credit: + credited (a return), - spent."""

    id: UUID
    tenant_id: UUID
    customer_id: UUID
    currency: str
    amount: Decimal
    created_at: datetime
    created_by: str
    return_id: UUID | None = None
    order_id: UUID | None = None
    note: str | None = None


@dataclass(frozen=True)
class StoreCreditAccount:
    """A customer's credit: the balance per currency and the latest entries."""

    customer_id: UUID
    balances: dict[str, Decimal]
    entries: list[StoreCreditEntry]


class StoreCreditRepository(Protocol):
    def credit(self, entry: StoreCreditEntry) -> None:
        """Add a positive entry and raise the balance by it."""
        ...

    def spend(self, entry: StoreCreditEntry) -> bool:
        """Add a negative entry and lower the balance by it, only if the balance covers
        it (one conditional statement); False, and nothing written, when it does not."""
        ...

    def balances(self, tenant_id: UUID, customer_id: UUID) -> dict[str, Decimal]:
        """The customer's balance per currency."""
        ...

    def entries(self, tenant_id: UUID, customer_id: UUID, *, limit: int) -> list[StoreCreditEntry]:
        """The customer's entries, newest first."""
        ...

    def drift(self, tenant_id: UUID) -> list[tuple[UUID, str, Decimal, Decimal]]:
        """(customer, currency, balance, sum of entries) wherever the two differ or the
        balance is below zero."""
        ...


def credit_entry(
    *,
    tenant_id: UUID,
    customer_id: UUID,
    currency: str,
    amount: Decimal,
    actor: Actor,
    at: datetime,
    return_id: UUID | None = None,
    order_id: UUID | None = None,
    note: str | None = None,
) -> StoreCreditEntry:
    """A new ledger entry (positive: credit, negative: spend)."""
    return StoreCreditEntry(
        id=new_id(),
        tenant_id=tenant_id,
        customer_id=customer_id,
        currency=currency,
        amount=amount,
        created_at=at,
        created_by=str(actor),
        return_id=return_id,
        order_id=order_id,
        note=note,
    )


def get_store_credit(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, customer_id: UUID, limit: int = 50
) -> StoreCreditAccount:
    """A customer's store credit: balances and the latest ``limit`` entries."""
    with uow_factory(readonly=True) as uow:
        if uow.customers.get(tenant_id, customer_id) is None:
            raise NotFound(f"No customer {customer_id}")
        return StoreCreditAccount(
            customer_id=customer_id,
            balances=uow.store_credit.balances(tenant_id, customer_id),
            entries=uow.store_credit.entries(tenant_id, customer_id, limit=limit),
        )


def spend_store_credit(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    customer_id: UUID,
    currency: str,
    amount: Decimal,
    actor: Actor,
    order_id: UUID | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> StoreCreditEntry:
    """Spend ``amount`` of a customer's credit; 409 when the balance does not cover it."""
    when = at or utcnow()
    if amount <= 0:
        raise InvalidRequest("Spend more than zero", [FieldError("#/amount", "above 0")])

    def attempt() -> StoreCreditEntry:
        with uow_factory() as uow:
            entry = credit_entry(
                tenant_id=tenant_id,
                customer_id=customer_id,
                currency=currency,
                amount=-amount,
                actor=actor,
                at=when,
                order_id=order_id,
                note=note,
            )
            if not uow.store_credit.spend(entry):
                raise Conflict(
                    f"The customer's store credit does not cover {amount} {currency}",
                    customer_id=str(customer_id),
                )
            uow.commit()
            return entry

    return retry_transient(attempt)


def find_store_credit_drift(
    *, uow_factory: UnitOfWorkFactory
) -> list[tuple[UUID, UUID, str, Decimal, Decimal]]:
    """(tenant, customer, currency, balance, sum of entries) wherever they differ or the
    balance is below zero (``oms check``)."""
    with uow_factory(readonly=True) as uow:
        return [
            (tenant_id, *row)
            for tenant_id in uow.tenants.list_ids()
            for row in uow.store_credit.drift(tenant_id)
        ]
