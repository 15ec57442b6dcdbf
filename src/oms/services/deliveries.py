"""The storage port of event delivery: the outbox as the worker claims it, one delivery per
(event, subscriber), and every attempt (``oms.adapters.db.repositories.deliveries``
implements it, ``oms.adapters.memory.deliveries`` fakes it).

An outbox message is claimed inside the transaction that fans it out (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL; SQLite has one writer at a time): once committed, it is published
and its deliveries exist; a worker killed before commit leaves it unclaimed. A delivery is
claimed with a lease, because it is sent outside any transaction: until ``lease_until``
no other worker takes it, and the outcome is recorded only by the holder of that lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from oms.domain.delivery_schedule import DeliveryStatus
from oms.services.events import Event, Outcome

__all__ = [
    "AttemptRecord",
    "AttemptView",
    "Backlog",
    "ClaimedDelivery",
    "DeliveryRepository",
    "DeliveryView",
    "Fanout",
    "OutboxEntry",
]


@dataclass(frozen=True)
class OutboxEntry:
    """An outbox message claimed for fan-out."""

    tenant_id: UUID
    id: UUID
    topic: str
    aggregate_id: UUID
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Fanout:
    """What fanning one message out decided: its public type and data (None: not a public
    event) and the (sink kind, subscriber key) pairs to deliver it to."""

    entry: OutboxEntry
    event_type: str | None
    data: dict[str, Any] | None
    subscribers: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery this worker holds until ``lease_until``; ``attempt`` is the number of the
    attempt about to be made (1 for the first), ``round_start`` the attempts made before
    the current round of the schedule began."""

    tenant_id: UUID
    id: UUID
    event_id: UUID
    sink_kind: str
    subscriber_key: str
    attempt: int
    round_start: int
    lease_until: datetime


@dataclass(frozen=True)
class AttemptRecord:
    """What became of one claimed delivery. ``outcome`` None: it was not attempted (the
    lease ran short before its turn), so it is handed back as it was."""

    delivery: ClaimedDelivery
    outcome: Outcome | None
    at: datetime
    status: DeliveryStatus
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class DeliveryView:
    """A delivery as the API shows it."""

    tenant_id: UUID
    id: UUID
    event_id: UUID
    event_type: str | None
    sink_kind: str
    subscriber_key: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_latency_ms: float | None
    last_error: str | None
    last_response_body: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class AttemptView:
    """One attempt of a delivery."""

    attempt: int
    at: datetime
    delivered: bool
    status_code: int | None
    latency_ms: float | None
    error: str | None
    response_body: str | None


@dataclass(frozen=True)
class Backlog:
    """What waits for the workers: messages not fanned out yet (and the oldest one's
    time) and deliveries pending (and how many are due)."""

    outbox_waiting: int
    oldest_waiting_at: datetime | None
    deliveries_pending: int
    deliveries_due: int


class DeliveryRepository(Protocol):
    def claim_unpublished(self, *, limit: int) -> list[OutboxEntry]:
        """The oldest messages not fanned out yet that no other transaction holds, locked
        by this one."""
        ...

    def publish(self, fanouts: Sequence[Fanout], *, at: datetime) -> int:
        """Mark the messages fanned out and create their deliveries (a pair that already
        has one keeps it); the number of deliveries created."""
        ...

    def publish_claimed(
        self, fanouts: Sequence[Fanout], *, at: datetime, lease_until: datetime
    ) -> list[ClaimedDelivery]:
        """``publish``, with the deliveries created already claimed by the caller until
        ``lease_until`` (their first attempt is about to be made); those created."""
        ...

    def claim_due(
        self, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[ClaimedDelivery]:
        """Pending deliveries due at ``now`` that nobody holds, leased until ``lease_until``."""
        ...

    def events(self, keys: Sequence[tuple[UUID, UUID]]) -> dict[UUID, Event]:
        """The published events of these (tenant id, event id) pairs, by id."""
        ...

    def record(self, records: Sequence[AttemptRecord]) -> int:
        """Store each outcome and attempt where this worker still holds the lease; the
        number stored."""
        ...

    def get(self, tenant_id: UUID, delivery_id: UUID) -> DeliveryView | None: ...

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
        """A subscriber's deliveries, newest first."""
        ...

    def attempts(self, tenant_id: UUID, delivery_id: UUID) -> list[AttemptView]: ...

    def for_aggregate(
        self, tenant_id: UUID, aggregate_id: UUID, *, limit: int
    ) -> list[DeliveryView]:
        """The deliveries of the events about one aggregate (an order), newest first."""
        ...

    def retry(self, tenant_id: UUID, delivery_id: UUID, *, at: datetime) -> bool:
        """Make a delivery that is not pending due at ``at`` with a fresh schedule; False
        when it is pending already."""
        ...

    def replay(
        self, tenant_id: UUID, *, sink_kind: str, subscriber_key: str, since: datetime, at: datetime
    ) -> int:
        """Retry every delivery to the subscriber of an event since ``since``; how many."""
        ...

    def cancel_pending(
        self, tenant_id: UUID, *, sink_kind: str, subscriber_key: str, at: datetime
    ) -> int:
        """End the subscriber's pending deliveries undelivered (it was deleted)."""
        ...

    def backlog(self, *, now: datetime) -> Backlog: ...
