"""What ``oms worker`` does, one batch at a time: fan outbox messages out to the sinks'
subscribers, then deliver what is due, at least once, on the retry schedule.

    outbox row ──fan_out──▶ event (type, data) ──▶ delivery per (sink, subscriber)
                                                         │ deliver_due: claim with a lease,
                                                         │ prepare (short transaction),
                                                         │ send (no transaction),
                                                         ▼ record the attempt
                              delivered · pending (retry at t + backoff) · failed · cancelled

The clock and the random source (the retries' jitter) are injected; so is the way sends
run (``Sender``: one by one here; in the worker process a sink that ``SendsMany`` gets its
jobs as one batch, the others a thread pool).

``deliver_due`` is three steps the worker also runs apart, to overlap them:
``claim_due_batch`` (claim and prepare, one short transaction), the sends, and
``record_batch`` (one transaction). ``fan_out_and_claim`` fans out and claims the
deliveries it creates for this worker at once (leased, prepared in the same transaction),
so a fresh event goes out without waiting for another claim.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from oms.domain.delivery_schedule import DeliveryStatus, retry_delay
from oms.services.deliveries import AttemptRecord, ClaimedDelivery, Fanout
from oms.services.event_catalogue import (
    INTERNAL_TYPES,
    RECORD_KINDS,
    ResourceRef,
    derived_topics,
    public_type,
    resource_of,
)
from oms.services.events import Event, EventSink, Outcome
from oms.services.ports import OutboxMessage, UnitOfWork, UnitOfWorkFactory

__all__ = [
    "DEFAULT_LEASE",
    "AttemptObserver",
    "DeliveryReport",
    "EventBatchRenderer",
    "EventRenderer",
    "PreparesMany",
    "SendBatch",
    "SendJob",
    "Sender",
    "SendsMany",
    "SubscriberHealth",
    "claim_due_batch",
    "deliver_due",
    "fan_out",
    "fan_out_and_claim",
    "record_batch",
    "send_in_turn",
]

log = logging.getLogger(__name__)

# How long a claimed delivery is this worker's: longer than a batch of sends can take
# (sends that would start too near its end are handed back unsent).
DEFAULT_LEASE = timedelta(minutes=2)
# A send may take this long (the webhook sink's connect + read timeouts, with margin).
SEND_ALLOWANCE = timedelta(seconds=30)

Clock = Callable[[], datetime]
# The resource an event carries, as the API returns it (None: it no longer exists).
EventRenderer = Callable[[UnitOfWork, UUID, ResourceRef], dict[str, Any] | None]
# Many resources at once (a table read once for all of them rather than once each), by
# (tenant id, resource); None for those that no longer exist. Those it leaves out are
# rendered one by one (``EventRenderer``).
EventBatchRenderer = Callable[
    [UnitOfWork, Sequence[tuple[UUID, ResourceRef]]],
    Mapping[tuple[UUID, ResourceRef], dict[str, Any] | None],
]


@dataclass(frozen=True)
class SendJob:
    """One send to make: the sink, what it prepared, the event, the subscriber."""

    sink: EventSink
    prepared: object
    event: Event
    key: str
    attempt: int
    deadline: datetime  # no send may start after this (the lease would not cover it)


# Runs the jobs (concurrently or not) and answers their outcomes in the same order; None
# for a job not started because its deadline had passed.
Sender = Callable[[Sequence[SendJob], Clock], list[Outcome | None]]


def send_once(job: SendJob) -> Outcome:
    """``job``'s send; a sink that raises (it should not) is a failed attempt."""
    try:
        return job.sink.send(job.prepared, event=job.event, key=job.key, attempt=job.attempt)
    except Exception as error:  # a bug in a sink must not stop the others' deliveries
        log.exception("sink %s raised while sending event %s", job.sink.kind, job.event.id)
        return Outcome(delivered=False, error=f"{type(error).__name__}: {error}")


def send_in_turn(jobs: Sequence[SendJob], clock: Clock) -> list[Outcome | None]:
    """Each send after the other (tests, SQLite demos)."""
    return [send_once(job) if clock() < job.deadline else None for job in jobs]


@runtime_checkable
class SendsMany(Protocol):
    """A sink that sends a batch of its jobs itself, concurrently (the webhook sink: many
    requests at once on one event loop); the outcomes in the jobs' order. Like ``send``, it
    never raises for the receivers' failures."""

    def send_many(self, jobs: Sequence[SendJob]) -> list[Outcome]: ...


@runtime_checkable
class PreparesMany(Protocol):
    """A sink that prepares a batch's deliveries at once (the email sink reads the orders
    of all its emails in one query); what each one's ``prepare`` would answer, in order."""

    def prepare_many(
        self, uow: UnitOfWork, wanted: Sequence[tuple[Event, str]]
    ) -> Sequence[object | None]: ...


@runtime_checkable
class SubscriberHealth(Protocol):
    """A sink that keeps track of its subscribers' health (webhook endpoints failing for
    days are disabled) is told every attempt's outcome, in the transaction recording it."""

    def after_attempts(
        self, uow: UnitOfWork, outcomes: Sequence[tuple[UUID, str, Outcome]], at: datetime
    ) -> None: ...


# Told of every recorded attempt (metrics): the delivery, its outcome, its new status and
# the time from the event to this attempt.
AttemptObserver = Callable[[ClaimedDelivery, Outcome, DeliveryStatus, timedelta], None]


def fan_out(
    *,
    uow_factory: UnitOfWorkFactory,
    sinks: Sequence[EventSink],
    render: EventRenderer,
    clock: Clock,
    limit: int,
) -> int:
    """Claim up to ``limit`` outbox messages, turn each public one into an event (data
    rendered once per resource in the batch), create a delivery for every subscriber of
    every sink and mark them published, in one transaction; the number claimed."""
    fanned, _ = fan_out_and_claim(
        uow_factory=uow_factory, sinks=sinks, render=render, clock=clock, limit=limit, lease=None
    )
    return fanned


def fan_out_and_claim(
    *,
    uow_factory: UnitOfWorkFactory,
    sinks: Sequence[EventSink],
    render: EventRenderer,
    clock: Clock,
    limit: int,
    lease: timedelta | None = DEFAULT_LEASE,
    render_many: EventBatchRenderer | None = None,
) -> tuple[int, SendBatch]:
    """``fan_out``, with the deliveries it creates claimed by the caller for ``lease`` and
    prepared in the same transaction (none claimed when ``lease`` is None): the number of
    messages claimed and the batch to send. With ``render_many`` the batch's resources are
    rendered all at once."""
    with uow_factory() as uow:
        entries = uow.deliveries.claim_unpublished(limit=limit)
        if not entries:
            return 0, SendBatch()
        now = clock()
        typed = [(entry, _event_type(entry.topic, entry.payload)) for entry in entries]
        refs = {
            entry.id: resource_of(event_type, str(entry.aggregate_id), entry.payload)
            for entry, event_type in typed
            if event_type is not None and event_type not in INTERNAL_TYPES
        }
        rendered: dict[tuple[UUID, ResourceRef], dict[str, Any] | None] = {}
        if render_many is not None:
            wanted: set[tuple[UUID, ResourceRef]] = set()
            for entry, _ in typed:
                found = refs.get(entry.id)
                if found is not None and found.kind not in RECORD_KINDS:
                    wanted.add((entry.tenant_id, found))
            rendered.update(render_many(uow, sorted(wanted, key=str)))
        fanouts: list[Fanout] = []
        events: dict[UUID, Event] = {}
        derived: dict[UUID, list[OutboxMessage]] = {}
        for entry, event_type in typed:
            if event_type is None:
                fanouts.append(Fanout(entry, None, None, ()))
                continue
            ref = refs.get(entry.id)
            data: dict[str, Any] | None = None
            if event_type in INTERNAL_TYPES or (ref is not None and ref.kind in RECORD_KINDS):
                data = dict(entry.payload)
            elif ref is not None:
                if (entry.tenant_id, ref) not in rendered:
                    rendered[entry.tenant_id, ref] = render(uow, entry.tenant_id, ref)
                data = rendered[entry.tenant_id, ref]
            if data is None:  # gone already (a deleted endpoint): its id is what is left
                data = {"id": ref.key if ref is not None else str(entry.aggregate_id)}
            event = Event(
                id=entry.id,
                tenant_id=entry.tenant_id,
                type=event_type,
                created_at=entry.created_at,
                data=data,
                topic=entry.topic,
                aggregate_id=entry.aggregate_id,
                detail=entry.payload,
            )
            events[entry.id] = event
            subscribers = [
                (sink.kind, key)
                for sink in sinks
                if event_type not in INTERNAL_TYPES
                or event_type in getattr(sink, "internal_types", ())
                for key in sink.subscribers(uow, event)
            ]
            fanouts.append(Fanout(entry, event_type, data, subscribers))
            for topic in derived_topics(entry.topic, data):
                derived.setdefault(entry.tenant_id, []).append(
                    OutboxMessage(
                        topic=topic,
                        aggregate_id=entry.aggregate_id,
                        payload={**entry.payload, "derived_from": str(entry.id)},
                        created_at=now,
                    )
                )
        batch = SendBatch()
        if lease is None:
            uow.deliveries.publish(fanouts, at=now)
        else:
            claimed = uow.deliveries.publish_claimed(fanouts, at=now, lease_until=now + lease)
            batch = _prepared(uow, {s.kind: s for s in sinks}, claimed, events, lease)
        for tenant_id, messages in derived.items():
            uow.outbox.add_many(tenant_id, messages)
        uow.commit()
    return len(entries), batch


def _event_type(topic: str, payload: Mapping[str, Any]) -> str | None:
    """The public type of an outbox message, or its internal type (the topic itself)."""
    return topic if topic in INTERNAL_TYPES else public_type(topic, payload)


@dataclass
class DeliveryReport:
    """What one ``deliver_due`` round did."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    handed_back: int = 0
    statuses: dict[UUID, DeliveryStatus] = field(default_factory=dict)


_NOTHING_TO_SEND = Outcome(delivered=False, error="nothing to send any more", final=True)


def _verdict(
    claimed: ClaimedDelivery, outcome: Outcome, at: datetime, rng: Random
) -> tuple[DeliveryStatus, datetime | None]:
    """The status an attempt leaves a delivery in, and when it is tried next."""
    if outcome.delivered:
        return DeliveryStatus.DELIVERED, None
    if outcome.final:
        return DeliveryStatus.CANCELLED, None
    wait = retry_delay(claimed.attempt - claimed.round_start, rng)
    if wait is None:
        return DeliveryStatus.FAILED, None
    return DeliveryStatus.PENDING, at + wait


@dataclass
class SendBatch:
    """Deliveries claimed (with a lease) and prepared: ``jobs`` to send for the
    ``sendable`` ones, in the same order; ``unsendable`` ones end undelivered (nothing to
    send any more)."""

    sendable: list[ClaimedDelivery] = field(default_factory=list)
    jobs: list[SendJob] = field(default_factory=list)
    unsendable: list[ClaimedDelivery] = field(default_factory=list)
    events: dict[UUID, Event] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.sendable) + len(self.unsendable)

    def extend(self, other: SendBatch) -> None:
        self.sendable += other.sendable
        self.jobs += other.jobs
        self.unsendable += other.unsendable
        self.events.update(other.events)


def _prepared(
    uow: UnitOfWork,
    sinks: Mapping[str, EventSink],
    claimed: Sequence[ClaimedDelivery],
    events: Mapping[UUID, Event],
    lease: timedelta,
) -> SendBatch:
    batch = SendBatch(events=dict(events))
    prepared: dict[UUID, object | None] = {}
    together: dict[str, list[ClaimedDelivery]] = {}
    for delivery in claimed:
        sink = sinks.get(delivery.sink_kind)
        event = events.get(delivery.event_id)
        if sink is None or event is None:
            prepared[delivery.id] = None
        elif isinstance(sink, PreparesMany):
            together.setdefault(delivery.sink_kind, []).append(delivery)
        else:
            prepared[delivery.id] = sink.prepare(uow, event, delivery.subscriber_key)
    for kind, deliveries in together.items():
        sink = sinks[kind]
        assert isinstance(sink, PreparesMany)
        wanted = [(events[d.event_id], d.subscriber_key) for d in deliveries]
        for delivery, made in zip(deliveries, sink.prepare_many(uow, wanted), strict=True):
            prepared[delivery.id] = made
    for delivery in claimed:
        made = prepared[delivery.id]
        if made is None:
            batch.unsendable.append(delivery)
            continue
        batch.sendable.append(delivery)
        batch.jobs.append(
            SendJob(
                sink=sinks[delivery.sink_kind],
                prepared=made,
                event=events[delivery.event_id],
                key=delivery.subscriber_key,
                attempt=delivery.attempt,
                deadline=delivery.lease_until - min(SEND_ALLOWANCE, lease / 2),
            )
        )
    return batch


def claim_due_batch(
    *,
    uow_factory: UnitOfWorkFactory,
    sinks: Mapping[str, EventSink],
    clock: Clock,
    limit: int,
    lease: timedelta = DEFAULT_LEASE,
) -> SendBatch:
    """Claim up to ``limit`` due deliveries with a lease and prepare them (one short
    transaction)."""
    now = clock()
    with uow_factory() as uow:
        claimed = uow.deliveries.claim_due(now=now, lease_until=now + lease, limit=limit)
        if not claimed:
            return SendBatch()
        events = uow.deliveries.events(sorted({(c.tenant_id, c.event_id) for c in claimed}))
        batch = _prepared(uow, sinks, claimed, events, lease)
        uow.commit()
    return batch


def record_batch(
    *,
    uow_factory: UnitOfWorkFactory,
    sinks: Mapping[str, EventSink],
    batch: SendBatch,
    outcomes: Sequence[Outcome | None],
    clock: Clock,
    rng: Random,
    observe: AttemptObserver | None = None,
) -> DeliveryReport:
    """Record every attempt of ``batch`` (``outcomes`` in its jobs' order; None: not
    started, handed back) in one transaction."""
    report = DeliveryReport(claimed=len(batch))
    if not len(batch):
        return report
    at = clock()
    records: list[AttemptRecord] = []
    for delivery in batch.unsendable:
        records.append(
            AttemptRecord(delivery, _NOTHING_TO_SEND, at, DeliveryStatus.CANCELLED, None)
        )
    for delivery, outcome in zip(batch.sendable, outcomes, strict=True):
        if outcome is None:
            records.append(AttemptRecord(delivery, None, at, DeliveryStatus.PENDING, at))
            continue
        status, next_at = _verdict(delivery, outcome, at, rng)
        records.append(AttemptRecord(delivery, outcome, at, status, next_at))
    _record(uow_factory, sinks, records, at)
    for record in records:
        _count(report, record)
        if observe is not None and record.outcome is not None:
            event = batch.events.get(record.delivery.event_id)
            age = at - event.created_at if event is not None else timedelta(0)
            observe(record.delivery, record.outcome, record.status, age)
    return report


def deliver_due(
    *,
    uow_factory: UnitOfWorkFactory,
    sinks: Mapping[str, EventSink],
    clock: Clock,
    rng: Random,
    limit: int,
    sender: Sender = send_in_turn,
    lease: timedelta = DEFAULT_LEASE,
    observe: AttemptObserver | None = None,
) -> DeliveryReport:
    """Claim up to ``limit`` due deliveries with a lease and prepare them (one short
    transaction), send them (no transaction), record every attempt (one transaction)."""
    batch = claim_due_batch(
        uow_factory=uow_factory, sinks=sinks, clock=clock, limit=limit, lease=lease
    )
    outcomes = sender(batch.jobs, clock) if batch.jobs else []
    return record_batch(
        uow_factory=uow_factory,
        sinks=sinks,
        batch=batch,
        outcomes=outcomes,
        clock=clock,
        rng=rng,
        observe=observe,
    )


def _record(
    uow_factory: UnitOfWorkFactory,
    sinks: Mapping[str, EventSink],
    records: Sequence[AttemptRecord],
    at: datetime,
) -> None:
    with uow_factory() as uow:
        uow.deliveries.record(records)
        by_kind: dict[str, list[tuple[UUID, str, Outcome]]] = {}
        for record in records:
            if record.outcome is not None and record.status is not DeliveryStatus.CANCELLED:
                by_kind.setdefault(record.delivery.sink_kind, []).append(
                    (record.delivery.tenant_id, record.delivery.subscriber_key, record.outcome)
                )
        for kind, outcomes in by_kind.items():
            sink = sinks.get(kind)
            if isinstance(sink, SubscriberHealth):
                sink.after_attempts(uow, outcomes, at)
        uow.commit()


def _count(report: DeliveryReport, record: AttemptRecord) -> None:
    report.statuses[record.delivery.id] = record.status
    if record.outcome is None:
        report.handed_back += 1
    elif record.status is DeliveryStatus.DELIVERED:
        report.delivered += 1
    elif record.status is DeliveryStatus.PENDING:
        report.retrying += 1
    elif record.status is DeliveryStatus.FAILED:
        report.failed += 1
    else:
        report.cancelled += 1
