"""A tenant's notification settings: read and change them, and the branding they give."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from oms.domain.errors import NotFound
from oms.domain.notifications import NotificationSettings
from oms.services.common import utcnow
from oms.services.events import Branding
from oms.services.ports import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "branding_of",
    "get_notification_settings",
    "settings_of",
    "update_notification_settings",
]


def settings_of(uow: UnitOfWork, tenant_id: UUID) -> NotificationSettings:
    """The tenant's settings in this transaction, defaults when it set none."""
    return uow.notification_settings.get(tenant_id) or NotificationSettings()


def branding_of(uow: UnitOfWork, tenant_id: UUID) -> Branding:
    """How the tenant looks to its customers: its sender name (else its own name), logo and
    colours (NotFound for an unknown tenant)."""
    tenant = uow.tenants.get(tenant_id)
    if tenant is None:
        raise NotFound(f"No tenant {tenant_id}")
    settings = settings_of(uow, tenant_id)
    return Branding(
        display_name=settings.sender_name or tenant.name,
        logo_url=settings.logo_url,
        colour=settings.colour,
        accent_colour=settings.accent_colour,
    )


def get_notification_settings(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> NotificationSettings:
    """The tenant's notification settings, defaults filled in."""
    with uow_factory(readonly=True) as uow:
        return settings_of(uow, tenant_id)


def update_notification_settings(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    raw: Mapping[str, Any],
    at: datetime | None = None,
) -> NotificationSettings:
    """Replace the tenant's notification settings after validating them (422 with field
    pointers)."""
    settings = NotificationSettings.from_dict(raw)
    with uow_factory() as uow:
        uow.notification_settings.put(tenant_id, settings, at=at or utcnow())
        uow.commit()
    return settings
