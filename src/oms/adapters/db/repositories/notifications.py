"""Each tenant's notification settings: one row, or none for every default."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, select, update

from oms.adapters.db.repositories.support import insert_if_absent
from oms.adapters.db.tables import notification_settings
from oms.domain.notifications import NotificationSettings, Template

__all__ = ["SqlNotificationSettingsRepository"]

_n = notification_settings.c


class SqlNotificationSettingsRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, tenant_id: UUID) -> NotificationSettings | None:
        row = self._conn.execute(
            select(notification_settings).where(_n.tenant_id == tenant_id)
        ).first()
        if row is None:
            return None
        known = {t.value for t in Template}
        return NotificationSettings(
            sender_name=row.sender_name,
            sender_email=row.sender_email,
            reply_to=row.reply_to,
            notify_email=row.notify_email,
            logo_url=row.logo_url,
            colour=row.colour,
            accent_colour=row.accent_colour,
            templates={Template(k): bool(v) for k, v in row.templates.items() if k in known},
        )

    def put(self, tenant_id: UUID, settings: NotificationSettings, *, at: datetime) -> None:
        """Store the settings, replacing any before."""
        values: dict[str, Any] = {
            "sender_name": settings.sender_name,
            "sender_email": settings.sender_email,
            "reply_to": settings.reply_to,
            "notify_email": settings.notify_email,
            "logo_url": settings.logo_url,
            "colour": settings.colour,
            "accent_colour": settings.accent_colour,
            "templates": {t.value: on for t, on in sorted(settings.templates.items())},
            "updated_at": at,
        }
        if not insert_if_absent(
            self._conn, notification_settings, {"tenant_id": tenant_id, **values}
        ):
            self._conn.execute(
                update(notification_settings).where(_n.tenant_id == tenant_id).values(**values)
            )
