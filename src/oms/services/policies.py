"""A tenant's policies: read and change them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from oms.domain.policies import TenantPolicies
from oms.services.ports import UnitOfWorkFactory

__all__ = ["get_policies", "update_policies"]


def get_policies(*, uow_factory: UnitOfWorkFactory, tenant_id: UUID) -> TenantPolicies:
    """The tenant's policies, defaults filled in."""
    with uow_factory(readonly=True) as uow:
        return uow.tenants.policies(tenant_id)


def update_policies(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, raw: Mapping[str, Any]
) -> TenantPolicies:
    """Replace the tenant's policies after validating them (422 with field pointers)."""
    policies = TenantPolicies.from_dict(raw)
    with uow_factory() as uow:
        uow.tenants.set_policies(tenant_id, policies)
        uow.commit()
    return policies
