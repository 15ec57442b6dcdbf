"""How a merchant looks to its customers on the status and tracking pages.

``branding_of`` is the one place those pages read a tenant's branding. Until per-tenant
notification settings exist (sender, logo, colours), it is the tenant's name with the
default colours of ``oms.services.events.Branding``; when they do, this function reads
them instead and the pages follow.
"""

from __future__ import annotations

from uuid import UUID

from oms.domain.errors import NotFound
from oms.services.events import Branding
from oms.services.ports import UnitOfWork

__all__ = ["branding_of"]


def branding_of(uow: UnitOfWork, tenant_id: UUID) -> Branding:
    """The tenant's branding, read in the caller's transaction (NotFound for no tenant)."""
    tenant = uow.tenants.get(tenant_id)
    if tenant is None:
        raise NotFound(f"No tenant {tenant_id}")
    return Branding(display_name=tenant.name)
