"""``oms check``: prove the books balance for every tenant."""

from __future__ import annotations

from oms.services.ports import InvariantViolation, UnitOfWorkFactory

__all__ = ["find_invariant_violations"]


def find_invariant_violations(*, uow_factory: UnitOfWorkFactory) -> list[InvariantViolation]:
    """Rows where on_hand differs from the ledger sum or reserved from the open allocations."""
    with uow_factory(readonly=True) as uow:
        found: list[InvariantViolation] = []
        for tenant_id in uow.tenants.list_ids():
            found.extend(uow.inventory.find_violations(tenant_id))
        return found
