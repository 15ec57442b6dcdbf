"""``oms check``: prove the books balance for every tenant.

Two sets of books: inventory (``on_hand`` equals the movement ledger, ``reserved`` the open
allocations) and store credit (each customer's stored balance, one row per currency,
equals the sum of its ledger entries and is never below zero).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from oms.services.ports import InvariantViolation, UnitOfWorkFactory
from oms.services.store_credit import find_store_credit_drift

__all__ = ["StoreCreditViolation", "find_invariant_violations", "find_store_credit_violations"]


@dataclass(frozen=True)
class StoreCreditViolation:
    """One customer's store-credit balance whose books do not balance: ``stored`` is the
    balance row, ``expected`` the sum of its ledger entries."""

    tenant_id: UUID
    customer_id: UUID
    currency: str
    stored: Decimal
    expected: Decimal

    @property
    def negative(self) -> bool:
        return self.stored < 0


def find_invariant_violations(*, uow_factory: UnitOfWorkFactory) -> list[InvariantViolation]:
    """Rows where on_hand differs from the ledger sum or reserved from the open allocations."""
    with uow_factory(readonly=True) as uow:
        found: list[InvariantViolation] = []
        for tenant_id in uow.tenants.list_ids():
            found.extend(uow.inventory.find_violations(tenant_id))
        return found


def find_store_credit_violations(*, uow_factory: UnitOfWorkFactory) -> list[StoreCreditViolation]:
    """Store-credit balances that differ from the sum of their entries or are negative (the
    database's own check forbids that; this proves it held)."""
    return [
        StoreCreditViolation(tenant_id, customer_id, currency, stored, expected)
        for tenant_id, customer_id, currency, stored, expected in find_store_credit_drift(
            uow_factory=uow_factory
        )
    ]
