"""Event delivery in memory: the outbox, deliveries, webhook endpoints, a unit of work over
them, and a sink that records what it was asked to send and answers what it is told to.

The same rules as the SQL repositories, kept as simply as the tests of
``oms.services.event_delivery`` need: a claimed outbox message is published with its
deliveries at commit; a delivery is leased and its outcome is recorded only under its lease.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Self
from uuid import UUID

from oms.domain.delivery_schedule import DeliveryStatus
from oms.domain.ids import new_id
from oms.domain.webhooks import WebhookEndpoint
from oms.services.deliveries import (
    AttemptRecord,
    AttemptView,
    Backlog,
    ClaimedDelivery,
    DeliveryView,
    Fanout,
    OutboxEntry,
)
from oms.services.events import Event, Outcome
from oms.services.ports import OutboxMessage, UnitOfWork

__all__ = ["EventStoreUnitOfWork", "MemoryEventStore", "ScriptedSink"]


@dataclass
class _Row:
    entry: OutboxEntry
    published_at: datetime | None = None
    event_type: str | None = None
    data: dict[str, Any] | None = None


@dataclass
class _Delivery:
    view: DeliveryView
    round_start: int = 0
    lease_until: datetime | None = None
    next_attempt_at: datetime | None = None


@dataclass
class MemoryEventStore:
    """What the in-memory units of work share (the "database")."""

    outbox: dict[UUID, _Row] = field(default_factory=dict)
    deliveries: dict[UUID, _Delivery] = field(default_factory=dict)
    attempts: dict[UUID, list[AttemptView]] = field(default_factory=dict)
    endpoints: dict[tuple[UUID, UUID], WebhookEndpoint] = field(default_factory=dict)

    def add_message(self, tenant_id: UUID, message: OutboxMessage) -> UUID:
        """Write one outbox message, as a committed use case would; its id."""
        entry = OutboxEntry(
            tenant_id=tenant_id,
            id=new_id(),
            topic=message.topic,
            aggregate_id=message.aggregate_id,
            payload=dict(message.payload),
            created_at=message.created_at,
        )
        self.outbox[entry.id] = _Row(entry)
        return entry.id

    def unit_of_work(self, *, readonly: bool = False) -> EventStoreUnitOfWork:
        """The ``UnitOfWorkFactory`` over this store."""
        return EventStoreUnitOfWork(self)


class _Outbox:
    def __init__(self, store: MemoryEventStore) -> None:
        self._store = store

    def add_many(self, tenant_id: UUID, messages: Sequence[OutboxMessage]) -> None:
        for message in messages:
            self._store.add_message(tenant_id, message)


class _Deliveries:
    def __init__(self, store: MemoryEventStore) -> None:
        self._s = store

    def claim_unpublished(self, *, limit: int) -> list[OutboxEntry]:
        rows = sorted(
            (r for r in self._s.outbox.values() if r.published_at is None),
            key=lambda r: r.entry.created_at,
        )
        return [r.entry for r in rows[:limit]]

    def publish(self, fanouts: Sequence[Fanout], *, at: datetime) -> int:
        return len(self._publish(fanouts, at=at, lease_until=None))

    def publish_claimed(
        self, fanouts: Sequence[Fanout], *, at: datetime, lease_until: datetime
    ) -> list[ClaimedDelivery]:
        return [
            ClaimedDelivery(
                tenant_id=d.view.tenant_id,
                id=d.view.id,
                event_id=d.view.event_id,
                sink_kind=d.view.sink_kind,
                subscriber_key=d.view.subscriber_key,
                attempt=1,
                round_start=0,
                lease_until=lease_until,
            )
            for d in self._publish(fanouts, at=at, lease_until=lease_until)
        ]

    def _publish(
        self, fanouts: Sequence[Fanout], *, at: datetime, lease_until: datetime | None
    ) -> list[_Delivery]:
        created: list[_Delivery] = []
        taken = {
            (d.view.event_id, d.view.sink_kind, d.view.subscriber_key)
            for d in self._s.deliveries.values()
        }
        for f in fanouts:
            row = self._s.outbox[f.entry.id]
            row.published_at, row.event_type, row.data = at, f.event_type, f.data
            for kind, key in f.subscribers:
                if (f.entry.id, kind, key) in taken:
                    continue
                view = DeliveryView(
                    tenant_id=f.entry.tenant_id,
                    id=new_id(),
                    event_id=f.entry.id,
                    event_type=f.event_type,
                    sink_kind=kind,
                    subscriber_key=key,
                    status=DeliveryStatus.PENDING,
                    attempts=0,
                    next_attempt_at=at,
                    last_status_code=None,
                    last_latency_ms=None,
                    last_error=None,
                    last_response_body=None,
                    created_at=at,
                    updated_at=at,
                    delivered_at=None,
                )
                made = _Delivery(view, lease_until=lease_until, next_attempt_at=lease_until or at)
                self._s.deliveries[view.id] = made
                created.append(made)
        return created

    def claim_due(
        self, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[ClaimedDelivery]:
        due = sorted(
            (
                d
                for d in self._s.deliveries.values()
                if d.view.status is DeliveryStatus.PENDING
                and d.next_attempt_at is not None
                and d.next_attempt_at <= now
            ),
            key=lambda d: (d.next_attempt_at, d.view.id),
        )[:limit]
        claimed = []
        for d in due:
            d.lease_until = d.next_attempt_at = lease_until
            claimed.append(
                ClaimedDelivery(
                    tenant_id=d.view.tenant_id,
                    id=d.view.id,
                    event_id=d.view.event_id,
                    sink_kind=d.view.sink_kind,
                    subscriber_key=d.view.subscriber_key,
                    attempt=d.view.attempts + 1,
                    round_start=d.round_start,
                    lease_until=lease_until,
                )
            )
        return claimed

    def events(self, keys: Sequence[tuple[UUID, UUID]]) -> dict[UUID, Event]:
        found = {}
        for _tenant, event_id in keys:
            row = self._s.outbox.get(event_id)
            if row is None or row.event_type is None:
                continue
            e = row.entry
            found[event_id] = Event(
                id=e.id,
                tenant_id=e.tenant_id,
                type=row.event_type,
                created_at=e.created_at,
                data=row.data or {},
                topic=e.topic,
                aggregate_id=e.aggregate_id,
                detail=e.payload,
            )
        return found

    def record(self, records: Sequence[AttemptRecord]) -> int:
        stored = 0
        for r in records:
            d = self._s.deliveries[r.delivery.id]
            if d.lease_until != r.delivery.lease_until:
                continue
            d.lease_until = None
            if r.outcome is None:
                d.next_attempt_at = r.at
                continue
            o = r.outcome
            d.next_attempt_at = r.next_attempt_at
            d.view = replace(
                d.view,
                status=r.status,
                attempts=r.delivery.attempt,
                next_attempt_at=r.next_attempt_at,
                last_status_code=o.status_code,
                last_latency_ms=o.latency_ms,
                last_error=o.error,
                last_response_body=o.response_body,
                updated_at=r.at,
                delivered_at=r.at if r.status is DeliveryStatus.DELIVERED else d.view.delivered_at,
            )
            self._s.attempts.setdefault(d.view.id, []).append(
                AttemptView(
                    r.delivery.attempt,
                    r.at,
                    o.delivered,
                    o.status_code,
                    o.latency_ms,
                    o.error,
                    o.response_body,
                )
            )
            stored += 1
        return stored

    def get(self, tenant_id: UUID, delivery_id: UUID) -> DeliveryView | None:
        d = self._s.deliveries.get(delivery_id)
        return d.view if d is not None and d.view.tenant_id == tenant_id else None

    def for_aggregate(
        self, tenant_id: UUID, aggregate_id: UUID, *, limit: int
    ) -> list[DeliveryView]:
        events = {
            row.entry.id
            for row in self._s.outbox.values()
            if row.entry.tenant_id == tenant_id and row.entry.aggregate_id == aggregate_id
        }
        views = [
            d.view
            for d in self._s.deliveries.values()
            if d.view.tenant_id == tenant_id and d.view.event_id in events
        ]
        return sorted(views, key=lambda v: v.id, reverse=True)[:limit]

    def page(
        self,
        tenant_id: UUID,
        *,
        sink_kind: str,
        subscriber_key: str,
        status: DeliveryStatus | None,
        before_id: UUID | None,
        limit: int,
    ) -> list[DeliveryView]:
        views = [
            d.view
            for d in self._s.deliveries.values()
            if d.view.tenant_id == tenant_id
            and d.view.sink_kind == sink_kind
            and d.view.subscriber_key == subscriber_key
            and (status is None or d.view.status is status)
            and (before_id is None or d.view.id < before_id)
        ]
        return sorted(views, key=lambda v: v.id, reverse=True)[:limit]

    def attempts(self, tenant_id: UUID, delivery_id: UUID) -> list[AttemptView]:
        return list(self._s.attempts.get(delivery_id, []))

    def _again(self, d: _Delivery, at: datetime) -> bool:
        if d.view.status is DeliveryStatus.PENDING:
            return False
        d.round_start = d.view.attempts
        d.next_attempt_at, d.lease_until = at, None
        d.view = replace(d.view, status=DeliveryStatus.PENDING, next_attempt_at=at, updated_at=at)
        return True

    def retry(self, tenant_id: UUID, delivery_id: UUID, *, at: datetime) -> bool:
        d = self._s.deliveries.get(delivery_id)
        return d is not None and d.view.tenant_id == tenant_id and self._again(d, at)

    def replay(
        self, tenant_id: UUID, *, sink_kind: str, subscriber_key: str, since: datetime, at: datetime
    ) -> int:
        count = 0
        for d in self._s.deliveries.values():
            v = d.view
            row = self._s.outbox.get(v.event_id)
            if (
                v.tenant_id == tenant_id
                and v.sink_kind == sink_kind
                and v.subscriber_key == subscriber_key
                and row is not None
                and row.entry.created_at >= since
                and self._again(d, at)
            ):
                count += 1
        return count

    def cancel_pending(
        self, tenant_id: UUID, *, sink_kind: str, subscriber_key: str, at: datetime
    ) -> int:
        count = 0
        for d in self._s.deliveries.values():
            v = d.view
            if (
                v.tenant_id == tenant_id
                and v.sink_kind == sink_kind
                and v.subscriber_key == subscriber_key
                and v.status is DeliveryStatus.PENDING
                and (d.lease_until is None or d.lease_until < at)
            ):
                d.view = replace(
                    v, status=DeliveryStatus.CANCELLED, next_attempt_at=None, updated_at=at
                )
                d.next_attempt_at = None
                count += 1
        return count

    def backlog(self, *, now: datetime) -> Backlog:
        waiting = [r.entry.created_at for r in self._s.outbox.values() if r.published_at is None]
        pending = [
            d for d in self._s.deliveries.values() if d.view.status is DeliveryStatus.PENDING
        ]
        return Backlog(
            outbox_waiting=len(waiting),
            oldest_waiting_at=min(waiting, default=None),
            deliveries_pending=len(pending),
            deliveries_due=sum(
                1 for d in pending if d.next_attempt_at is not None and d.next_attempt_at <= now
            ),
        )


class _Webhooks:
    def __init__(self, store: MemoryEventStore) -> None:
        self._s = store

    def add(self, endpoint: WebhookEndpoint) -> None:
        self._s.endpoints[endpoint.tenant_id, endpoint.id] = endpoint

    def get(self, tenant_id: UUID, endpoint_id: UUID) -> WebhookEndpoint | None:
        return self._s.endpoints.get((tenant_id, endpoint_id))

    def page(self, tenant_id: UUID, *, after_id: UUID | None, limit: int) -> list[WebhookEndpoint]:
        mine = sorted(
            (e for (t, _), e in self._s.endpoints.items() if t == tenant_id), key=lambda e: e.id
        )
        return [e for e in mine if after_id is None or e.id > after_id][:limit]

    def enabled(self, tenant_id: UUID) -> list[WebhookEndpoint]:
        return [
            e for e in self.page(tenant_id, after_id=None, limit=10**6) if e.disabled_at is None
        ]

    def delete(self, tenant_id: UUID, endpoint_id: UUID) -> bool:
        return self._s.endpoints.pop((tenant_id, endpoint_id), None) is not None

    def save_secrets(self, endpoint: WebhookEndpoint) -> None:
        self._s.endpoints[endpoint.tenant_id, endpoint.id] = endpoint

    def _update(
        self,
        tenant_id: UUID,
        ids: Sequence[UUID],
        change: Callable[[WebhookEndpoint], WebhookEndpoint | None],
    ) -> list[WebhookEndpoint]:
        changed = []
        for endpoint_id in ids:
            found = self._s.endpoints.get((tenant_id, endpoint_id))
            new = None if found is None else change(found)
            if new is not None:
                self._s.endpoints[tenant_id, endpoint_id] = new
                changed.append(new)
        return changed

    def mark_healthy(self, tenant_id: UUID, endpoint_ids: Sequence[UUID]) -> None:
        self._update(tenant_id, endpoint_ids, lambda e: replace(e, failing_since=None))

    def mark_failing(self, tenant_id: UUID, endpoint_ids: Sequence[UUID], at: datetime) -> None:
        self._update(
            tenant_id,
            endpoint_ids,
            lambda e: e if e.failing_since else replace(e, failing_since=at),
        )

    def disable_failing_since(
        self, tenant_id: UUID, endpoint_ids: Sequence[UUID], *, before: datetime, at: datetime
    ) -> list[WebhookEndpoint]:
        return self._update(
            tenant_id,
            endpoint_ids,
            lambda e: (
                replace(e, disabled_at=at)
                if e.disabled_at is None
                and e.failing_since is not None
                and e.failing_since <= before
                else None
            ),
        )


class EventStoreUnitOfWork:
    """A unit of work over a ``MemoryEventStore``: what it changes is kept only when
    committed (a copy is worked on meanwhile). Only the event repositories exist."""

    def __init__(self, store: MemoryEventStore) -> None:
        self._store = store
        self._work: MemoryEventStore | None = None

    def __enter__(self) -> Self:
        self._work = copy.deepcopy(self._store)
        self.outbox = _Outbox(self._work)
        self.deliveries = _Deliveries(self._work)
        self.webhooks = _Webhooks(self._work)
        return self

    def __exit__(self, *exc: object) -> None:
        self._work = None

    def commit(self) -> None:
        assert self._work is not None
        self._store.__dict__.update(copy.deepcopy(self._work).__dict__)

    def rollback(self) -> None:
        self._work = copy.deepcopy(self._store)


@dataclass
class ScriptedSink:
    """An ``EventSink`` with fixed subscribers that answers each send with the next of
    ``answers`` (delivered once they run out) and records every send."""

    kind: str = "fake"
    keys: tuple[str, ...] = ("subscriber",)
    answers: list[Outcome] = field(default_factory=list)
    sent: list[tuple[UUID, str, int]] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)

    def subscribers(self, uow: UnitOfWork, event: Event) -> Sequence[str]:
        return list(self.keys)

    def prepare(self, uow: UnitOfWork, event: Event, key: str) -> object | None:
        return None if key in self.gone else key

    def send(self, prepared: object, *, event: Event, key: str, attempt: int) -> Outcome:
        self.sent.append((event.id, key, attempt))
        return self.answers.pop(0) if self.answers else Outcome(delivered=True, status_code=200)
