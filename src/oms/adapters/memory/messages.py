"""The outbox and idempotency keys in memory (``OutboxRepository``,
``IdempotencyRepository``)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from oms.adapters.memory.tables import MemorySession
from oms.domain.ids import new_id
from oms.services.ports import IdempotencyRecord, OutboxMessage

__all__ = ["MemoryIdempotencyRepository", "MemoryOutboxRepository"]


class MemoryOutboxRepository:
    def __init__(self, session: MemorySession) -> None:
        self._session = session

    def add_many(self, tenant_id: UUID, messages: Sequence[OutboxMessage]) -> None:
        if messages:
            self._session.write().outbox.extend(
                (tenant_id, new_id(), copy.deepcopy(m)) for m in messages
            )

    def messages(self, tenant_id: UUID) -> list[OutboxMessage]:
        """The tenant's messages in the order they were written (for tests to read; not
        part of the port)."""
        return [copy.deepcopy(m) for t, _, m in self._session.tables.outbox if t == tenant_id]


class MemoryIdempotencyRepository:
    def __init__(self, session: MemorySession) -> None:
        self._session = session

    def get(self, tenant_id: UUID, key: str) -> IdempotencyRecord | None:
        found = self._session.tables.idempotency.get((tenant_id, key))
        return None if found is None else found[0]

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
        """Take ``key`` for this request; False when it is taken."""
        if (tenant_id, key) in self._session.tables.idempotency:
            return False
        record = IdempotencyRecord(
            key=key, operation=operation, fingerprint=fingerprint, resource_id=resource_id
        )
        self._session.write().idempotency[(tenant_id, key)] = (record, at)
        return True

    def attach(self, tenant_id: UUID, key: str, resource_id: UUID) -> None:
        found = self._session.tables.idempotency.get((tenant_id, key))
        if found is not None:
            record, at = found
            self._session.write().idempotency[(tenant_id, key)] = (
                replace(record, resource_id=resource_id),
                at,
            )
