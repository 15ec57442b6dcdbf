"""The transactional outbox and idempotency keys."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, insert, select, update

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.repositories.support import insert_if_absent
from oms.adapters.db.tables import idempotency_keys, outbox
from oms.domain.ids import new_id
from oms.services.ports import IdempotencyRecord, OutboxMessage

__all__ = [
    "OUTBOX_FROM_JSON",
    "SqlIdempotencyRepository",
    "SqlOutboxRepository",
    "outbox_json",
    "outbox_rows",
]


def outbox_rows(tenant_id: UUID, messages: Sequence[OutboxMessage]) -> list[dict[str, Any]]:
    """The ``outbox`` rows of ``messages``, each with a new id."""
    return [
        {
            "tenant_id": tenant_id,
            "id": new_id(),
            "topic": m.topic,
            "aggregate_id": m.aggregate_id,
            "payload": m.payload,
            "created_at": m.created_at,
            "published_at": None,
        }
        for m in messages
    ]


# add_many on PostgreSQL: one statement over a JSON document of the messages rather than a
# row each (an import's batch writes hundreds of messages: binding them row by row cost more
# than writing them; as arrays, psycopg dumped each text in Python, escaping every quote by
# a regular expression). An order's save writes its messages by the same text inside its
# own statement.
OUTBOX_FROM_JSON = """
INSERT INTO outbox (tenant_id, id, topic, aggregate_id, payload, created_at, published_at)
SELECT %(outbox_tenant_id)s, w.id, w.topic, w.aggregate_id, COALESCE(w.payload, 'null'::json),
    w.created_at, NULL
FROM json_to_recordset(CAST(%(outbox_messages)s AS JSON)) AS w(
    id UUID, topic VARCHAR, aggregate_id UUID, payload JSON, created_at TIMESTAMPTZ
)
"""
_OUTBOX_EACH = DriverStatement(OUTBOX_FROM_JSON)


def outbox_json(tenant_id: UUID, messages: Sequence[OutboxMessage]) -> dict[str, Any]:
    """The parameters of ``OUTBOX_FROM_JSON`` for ``messages``, each with a new id (the
    payloads by ``json.dumps``, as they were always written: integers of any size)."""
    return {
        "outbox_tenant_id": tenant_id,
        "outbox_messages": json.dumps(
            [
                {
                    "id": str(new_id()),
                    "topic": m.topic,
                    "aggregate_id": str(m.aggregate_id),
                    "payload": m.payload,
                    "created_at": m.created_at.isoformat(),
                }
                for m in messages
            ]
        ),
    }


class SqlOutboxRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add_many(self, tenant_id: UUID, messages: Sequence[OutboxMessage]) -> None:
        if not messages:
            return
        if self._conn.dialect.name != "postgresql":
            self._conn.execute(insert(outbox), outbox_rows(tenant_id, messages))
            return
        _OUTBOX_EACH.rows(self._conn, outbox_json(tenant_id, messages))


_ik = idempotency_keys.c
# claim on PostgreSQL, through psycopg: every request with an Idempotency-Key makes one.
_CLAIM = DriverStatement("""
INSERT INTO idempotency_keys (tenant_id, key, operation, fingerprint, resource_id, created_at)
VALUES (%(tenant_id)s, %(key)s, %(operation)s, %(fingerprint)s, %(resource_id)s, %(created_at)s)
ON CONFLICT DO NOTHING RETURNING 1
""")


class SqlIdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, tenant_id: UUID, key: str) -> IdempotencyRecord | None:
        row = self._conn.execute(
            select(idempotency_keys).where(_ik.tenant_id == tenant_id, _ik.key == key)
        ).first()
        if row is None:
            return None
        return IdempotencyRecord(
            key=row.key,
            operation=row.operation,
            fingerprint=row.fingerprint,
            resource_id=row.resource_id,
        )

    def claim(
        self,
        tenant_id: UUID,
        key: str,
        *,
        operation: str,
        fingerprint: str,
        at: datetime,
        resource_id: UUID | None = None,
    ) -> bool:
        values = {
            "tenant_id": tenant_id,
            "key": key,
            "operation": operation,
            "fingerprint": fingerprint,
            "resource_id": resource_id,
            "created_at": at,
        }
        if self._conn.dialect.name == "postgresql":
            # A concurrent claim of the same key waits for the other transaction and then
            # finds the conflict, as insert_if_absent's.
            return bool(_CLAIM.rows(self._conn, values))
        return insert_if_absent(self._conn, idempotency_keys, values)

    def attach(self, tenant_id: UUID, key: str, resource_id: UUID) -> None:
        self._conn.execute(
            update(idempotency_keys)
            .where(_ik.tenant_id == tenant_id, _ik.key == key)
            .values(resource_id=resource_id)
        )
