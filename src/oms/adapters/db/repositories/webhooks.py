"""Merchant webhook endpoints (SQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, delete, insert, select, update

from oms.adapters.db.tables import webhook_endpoints
from oms.domain.webhooks import WebhookEndpoint

__all__ = ["SqlWebhookEndpointRepository"]

_w = webhook_endpoints.c


def _endpoint(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(
        tenant_id=row.tenant_id,
        id=row.id,
        url=row.url,
        event_types=tuple(row.event_types),
        description=row.description,
        secret=row.secret,
        created_at=row.created_at,
        previous_secret=row.previous_secret,
        previous_secret_until=row.previous_secret_until,
        disabled_at=row.disabled_at,
        failing_since=row.failing_since,
    )


class SqlWebhookEndpointRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, endpoint: WebhookEndpoint) -> None:
        self._conn.execute(
            insert(webhook_endpoints).values(
                tenant_id=endpoint.tenant_id,
                id=endpoint.id,
                url=endpoint.url,
                event_types=list(endpoint.event_types),
                description=endpoint.description,
                secret=endpoint.secret,
                previous_secret=endpoint.previous_secret,
                previous_secret_until=endpoint.previous_secret_until,
                disabled_at=endpoint.disabled_at,
                failing_since=endpoint.failing_since,
                created_at=endpoint.created_at,
            )
        )

    def get(self, tenant_id: UUID, endpoint_id: UUID) -> WebhookEndpoint | None:
        row = self._conn.execute(
            select(webhook_endpoints).where(_w.tenant_id == tenant_id, _w.id == endpoint_id)
        ).first()
        return None if row is None else _endpoint(row)

    def page(self, tenant_id: UUID, *, after_id: UUID | None, limit: int) -> list[WebhookEndpoint]:
        query = select(webhook_endpoints).where(_w.tenant_id == tenant_id)
        if after_id is not None:
            query = query.where(_w.id > after_id)
        return [_endpoint(r) for r in self._conn.execute(query.order_by(_w.id).limit(limit))]

    def enabled(self, tenant_id: UUID) -> list[WebhookEndpoint]:
        query = select(webhook_endpoints).where(_w.tenant_id == tenant_id, _w.disabled_at.is_(None))
        return [_endpoint(r) for r in self._conn.execute(query.order_by(_w.id))]

    def delete(self, tenant_id: UUID, endpoint_id: UUID) -> bool:
        result = self._conn.execute(
            delete(webhook_endpoints).where(_w.tenant_id == tenant_id, _w.id == endpoint_id)
        )
        return bool(result.rowcount)

    def save_secrets(self, endpoint: WebhookEndpoint) -> None:
        self._conn.execute(
            update(webhook_endpoints)
            .where(_w.tenant_id == endpoint.tenant_id, _w.id == endpoint.id)
            .values(
                secret=endpoint.secret,
                previous_secret=endpoint.previous_secret,
                previous_secret_until=endpoint.previous_secret_until,
            )
        )

    def mark_healthy(self, tenant_id: UUID, endpoint_ids: Sequence[UUID]) -> None:
        self._conn.execute(
            update(webhook_endpoints)
            .where(
                _w.tenant_id == tenant_id,
                _w.id.in_(list(endpoint_ids)),
                _w.failing_since.is_not(None),
            )
            .values(failing_since=None)
        )

    def mark_failing(self, tenant_id: UUID, endpoint_ids: Sequence[UUID], at: datetime) -> None:
        self._conn.execute(
            update(webhook_endpoints)
            .where(
                _w.tenant_id == tenant_id,
                _w.id.in_(list(endpoint_ids)),
                _w.failing_since.is_(None),
            )
            .values(failing_since=at)
        )

    def disable_failing_since(
        self, tenant_id: UUID, endpoint_ids: Sequence[UUID], *, before: datetime, at: datetime
    ) -> list[WebhookEndpoint]:
        rows = self._conn.execute(
            update(webhook_endpoints)
            .where(
                _w.tenant_id == tenant_id,
                _w.id.in_(list(endpoint_ids)),
                _w.disabled_at.is_(None),
                _w.failing_since <= before,
            )
            .values(disabled_at=at)
            .returning(*webhook_endpoints.c)
        )
        return [_endpoint(r) for r in rows]
