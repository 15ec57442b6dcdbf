"""Webhook delivery end to end on each database: outbox -> worker -> a real HTTP receiver
on loopback that verifies every request with the ``standardwebhooks`` library.

The worker claims every tenant's outbox, so this module has a database of its own.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy import Engine, func, select

from oms.adapters.db.tables import outbox
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.webhooks.addresses import AddressGuard
from oms.adapters.webhooks.sink import WebhookSink, new_client, new_http
from oms.api.event_data import render_event_batch, render_event_data
from oms.domain.delivery_schedule import JITTER, MAX_ATTEMPTS, DeliveryStatus, base_delay
from oms.services import webhook_endpoints as endpoints
from oms.services.event_catalogue import ResourceRef
from oms.services.event_delivery import (
    claim_due_batch,
    deliver_due,
    fan_out,
    fan_out_and_claim,
    record_batch,
)
from oms.services.ports import OutboxMessage
from oms.services.tenants import create_tenant
from oms.worker.runner import BatchSender
from tests.builders import add_location, add_product, order_of, place, set_stock
from tests.databases import ENGINES, own_database
from tests.webhook_receiver import Receiver, receiving

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@pytest.fixture(scope="module", params=ENGINES)
def events_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from own_database(request, "webhook_delivery")


@pytest.fixture
def uow(events_engine: Engine) -> SqlUnitOfWorkFactory:
    factory = SqlUnitOfWorkFactory(events_engine)
    # Each test starts with nothing waiting: whatever earlier tests left is fanned out.
    _drain(factory, Clock(START + timedelta(days=400)), sinks=[])
    return factory


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def sink(clock: Clock) -> Iterator[WebhookSink]:
    made = WebhookSink(client=new_client(), guard=AddressGuard(allow_private=True), clock=clock)
    yield made
    made.close()


def _drain(uow: SqlUnitOfWorkFactory, clock: Clock, sinks: list[WebhookSink]) -> None:
    while fan_out(uow_factory=uow, sinks=sinks, render=render_event_data, clock=clock, limit=500):
        pass


def _round(uow: SqlUnitOfWorkFactory, clock: Clock, sink: WebhookSink, rng: random.Random):
    _drain(uow, clock, [sink])
    return deliver_due(uow_factory=uow, sinks={sink.kind: sink}, clock=clock, rng=rng, limit=500)


def _tenant(uow: SqlUnitOfWorkFactory) -> UUID:
    tenant, _ = create_tenant(uow_factory=uow, name="merchant")
    return tenant.id


def _endpoint(uow: SqlUnitOfWorkFactory, tenant_id: UUID, url: str, types: list[str], at: datetime):
    return endpoints.create_endpoint(
        uow_factory=uow,
        tenant_id=tenant_id,
        url=url,
        event_types=types,
        description="test receiver",
        check=AddressGuard(allow_private=True),
        at=at,
    )


def test_an_order_reaches_the_endpoint_signed_and_as_the_api_returns_it(
    uow: SqlUnitOfWorkFactory, clock: Clock, sink: WebhookSink
) -> None:
    tenant_id = _tenant(uow)
    with receiving(Receiver(secrets=[], clock=clock)) as receiver:
        endpoint = _endpoint(uow, tenant_id, receiver.url, ["*"], clock())
        receiver.secrets.append(endpoint.secret)
        add_location(uow, tenant_id, "WH1")
        add_product(uow, tenant_id, "TEE")
        set_stock(uow, tenant_id, "TEE", "WH1", 5)
        placed = place(uow, tenant_id, order_of(("TEE", 2)))

        report = _round(uow, clock, sink, random.Random(1))

    types = [a.payload["type"] for a in receiver.arrivals]
    assert all(a.verified for a in receiver.arrivals), [a.error for a in receiver.arrivals]
    assert {"order.created", "order.released", "fulfillment_order.created"} <= set(types)
    assert report.delivered == len(receiver.arrivals)
    created = next(a.payload for a in receiver.arrivals if a.payload["type"] == "order.created")
    assert created["data"]["id"] == str(placed.order.id)
    assert created["data"]["number"] == placed.order.number
    assert created["data"]["lines"][0]["sku"] == "TEE"
    assert set(created) == {"type", "timestamp", "data"}
    assert len(set(receiver.ids())) == len(receiver.ids())


def test_a_receiver_failing_three_times_gets_the_event_on_the_fourth_attempt(
    uow: SqlUnitOfWorkFactory, clock: Clock, sink: WebhookSink
) -> None:
    tenant_id = _tenant(uow)
    rng = random.Random(7)
    with receiving(Receiver(secrets=[], answers=[500, 503, 400], clock=clock)) as receiver:
        endpoint = _endpoint(uow, tenant_id, receiver.url, ["webhook_endpoint.disabled"], clock())
        receiver.secrets.append(endpoint.secret)
        with uow() as work:
            work.outbox.add_many(
                tenant_id,
                [OutboxMessage("webhook_endpoint.disabled", endpoint.id, {}, clock())],
            )
            work.commit()
        statuses = []
        for _ in range(4):
            report = _round(uow, clock, sink, rng)
            statuses.extend(report.statuses.values())
            clock.advance(timedelta(days=1))  # past any retry's wait

    assert statuses == [DeliveryStatus.PENDING] * 3 + [DeliveryStatus.DELIVERED]
    assert len(receiver.arrivals) == 4
    assert len(set(receiver.ids())) == 1  # the same webhook-id every time
    assert all(a.verified for a in receiver.arrivals)
    listed = endpoints.endpoint_deliveries(
        uow_factory=uow,
        tenant_id=tenant_id,
        endpoint_id=endpoint.id,
        status=None,
        before_id=None,
        limit=10,
    )
    assert [(d.status, d.attempts, d.last_status_code) for d in listed] == [
        (DeliveryStatus.DELIVERED, 4, 200)
    ]
    detail = endpoints.get_delivery(
        uow_factory=uow, tenant_id=tenant_id, endpoint_id=endpoint.id, delivery_id=listed[0].id
    )
    assert [a.status_code for a in detail.attempts] == [500, 503, 400, 200]
    assert detail.attempts[0].response_body is not None
    assert len(detail.attempts[0].response_body) <= 2048


def test_a_retry_waits_its_turn_and_the_last_failure_is_dead(
    uow: SqlUnitOfWorkFactory, clock: Clock, sink: WebhookSink
) -> None:
    tenant_id = _tenant(uow)
    rng = random.Random(3)
    with receiving(Receiver(secrets=[], answers=[500] * MAX_ATTEMPTS, clock=clock)) as receiver:
        endpoint = _endpoint(uow, tenant_id, receiver.url, ["*"], clock())
        receiver.secrets.append(endpoint.secret)
        with uow() as work:
            work.outbox.add_many(
                tenant_id, [OutboxMessage("webhook_endpoint.disabled", endpoint.id, {}, clock())]
            )
            work.commit()
        _round(uow, clock, sink, rng)
        assert _round(uow, clock, sink, rng).claimed == 0  # the retry is not due yet
        clock.advance(timedelta(seconds=4))  # 5 s less a fifth at most
        assert _round(uow, clock, sink, rng).claimed == 0
        clock.advance(timedelta(seconds=3))
        assert _round(uow, clock, sink, rng).claimed == 1
        for failed in range(2, MAX_ATTEMPTS):
            clock.advance(base_delay(failed) * (1 + JITTER))
            assert _round(uow, clock, sink, rng).claimed == 1

    listed = endpoints.endpoint_deliveries(
        uow_factory=uow,
        tenant_id=tenant_id,
        endpoint_id=endpoint.id,
        status=None,
        before_id=None,
        limit=5,
    )
    assert [(d.status, d.attempts) for d in listed] == [(DeliveryStatus.FAILED, MAX_ATTEMPTS)]
    assert len(receiver.arrivals) == MAX_ATTEMPTS


def test_an_endpoint_failing_for_three_days_is_disabled_and_its_tenant_told(
    uow: SqlUnitOfWorkFactory, clock: Clock, sink: WebhookSink
) -> None:
    tenant_id = _tenant(uow)
    rng = random.Random(5)
    with receiving(Receiver(secrets=[], answers=[500] * 100, clock=clock)) as receiver:
        endpoint = _endpoint(uow, tenant_id, receiver.url, ["order.created"], clock())
        for day in range(5):
            with uow() as work:
                work.outbox.add_many(
                    tenant_id, [OutboxMessage("order.placed", endpoint.id, {}, clock())]
                )
                work.commit()
            _round(uow, clock, sink, rng)
            if day < 3:
                clock.advance(timedelta(days=1, minutes=1))

    found = endpoints.get_endpoint(uow_factory=uow, tenant_id=tenant_id, endpoint_id=endpoint.id)
    assert found.disabled_at is not None
    assert found.failing_since == START
    # Fanned out by the rounds above: the message exists, with its public type and data.
    with uow(readonly=True) as work:
        rows = list(
            work._conn.execute(  # type: ignore[attr-defined]
                select(outbox.c.event_type, outbox.c.data).where(
                    outbox.c.tenant_id == tenant_id, outbox.c.topic == "webhook_endpoint.disabled"
                )
            )
        )
    assert [(r.event_type, r.data["id"], r.data["status"]) for r in rows] == [
        ("webhook_endpoint.disabled", str(endpoint.id), "disabled")
    ]
    assert "secret" not in rows[0].data


def test_after_a_rotation_each_delivery_verifies_with_either_secret_for_a_day(
    uow: SqlUnitOfWorkFactory, clock: Clock, sink: WebhookSink
) -> None:
    tenant_id = _tenant(uow)
    with receiving(Receiver(secrets=[], clock=clock)) as receiver:
        endpoint = _endpoint(uow, tenant_id, receiver.url, ["*"], clock())
        rotated = endpoints.rotate_secret(
            uow_factory=uow, tenant_id=tenant_id, endpoint_id=endpoint.id, at=clock()
        )

        def send_one() -> str:
            with uow() as work:
                work.outbox.add_many(
                    tenant_id,
                    [OutboxMessage("webhook_endpoint.disabled", endpoint.id, {}, clock())],
                )
                work.commit()
            _round(uow, clock, sink, random.Random(1))
            return receiver.arrivals[-1].signature

        during = send_one()
        clock.advance(timedelta(hours=25))
        after = send_one()

    assert len(during.split(" ")) == 2
    assert len(after.split(" ")) == 1
    for secret, verifies in ((endpoint.secret, True), (rotated.secret, True)):
        only = Receiver(secrets=[secret], clock=lambda: START)
        body, arrival = receiver.arrivals[0].body, receiver.arrivals[0]
        headers = {
            "webhook-id": arrival.webhook_id,
            "webhook-timestamp": arrival.timestamp,
            "webhook-signature": arrival.signature,
        }
        assert (only.verify(body, headers) is None) is verifies


def test_nothing_is_sent_for_a_transaction_rolled_back(
    uow: SqlUnitOfWorkFactory, clock: Clock, sink: WebhookSink
) -> None:
    tenant_id = _tenant(uow)
    with receiving(Receiver(secrets=[], clock=clock)) as receiver:
        endpoint = _endpoint(uow, tenant_id, receiver.url, ["*"], clock())
        with uow() as work:
            work.outbox.add_many(
                tenant_id, [OutboxMessage("webhook_endpoint.disabled", endpoint.id, {}, clock())]
            )
            work.rollback()
        report = _round(uow, clock, sink, random.Random(1))

    assert report.claimed == 0
    assert receiver.arrivals == []


def test_a_deleted_endpoint_gets_nothing_more(
    uow: SqlUnitOfWorkFactory, clock: Clock, sink: WebhookSink
) -> None:
    tenant_id = _tenant(uow)
    with receiving(Receiver(secrets=[], answers=[500], clock=clock)) as receiver:
        endpoint = _endpoint(uow, tenant_id, receiver.url, ["*"], clock())
        with uow() as work:
            work.outbox.add_many(
                tenant_id, [OutboxMessage("webhook_endpoint.disabled", endpoint.id, {}, clock())]
            )
            work.commit()
            _round(uow, clock, sink, random.Random(1))
        endpoints.delete_endpoint(
            uow_factory=uow, tenant_id=tenant_id, endpoint_id=endpoint.id, at=clock()
        )
        clock.advance(timedelta(hours=1))
        report = _round(uow, clock, sink, random.Random(1))

    assert report.claimed == 0
    assert len(receiver.arrivals) == 1
    with uow(readonly=True) as work:
        statuses = work._conn.execute(  # type: ignore[attr-defined]
            select(func.count()).select_from(outbox).where(outbox.c.tenant_id == tenant_id)
        ).scalar()
    assert statuses == 1


def test_a_worker_batch_is_claimed_at_fan_out_sent_at_once_and_recorded(
    uow: SqlUnitOfWorkFactory, clock: Clock
) -> None:
    tenant_id = _tenant(uow)
    http = new_http()
    sink = WebhookSink(transport=http, guard=AddressGuard(allow_private=True), clock=clock)
    sender = BatchSender(threads=2)
    try:
        with receiving(Receiver(secrets=[], clock=clock)) as receiver:
            endpoint = _endpoint(uow, tenant_id, receiver.url, ["order.created"], clock())
            receiver.secrets.append(endpoint.secret)
            add_location(uow, tenant_id, "WH1")
            add_product(uow, tenant_id, "TEE")
            set_stock(uow, tenant_id, "TEE", "WH1", 10)
            placed = [place(uow, tenant_id, order_of(("TEE", 1))).order for _ in range(3)]

            fanned, batch = fan_out_and_claim(
                uow_factory=uow,
                sinks=[sink],
                render=render_event_data,
                render_many=render_event_batch,
                clock=clock,
                limit=500,
            )
            # Claimed by this worker: no other claim takes them while it sends.
            assert not len(
                claim_due_batch(uow_factory=uow, sinks={sink.kind: sink}, clock=clock, limit=500)
            )
            report = record_batch(
                uow_factory=uow,
                sinks={sink.kind: sink},
                batch=batch,
                outcomes=sender(batch.jobs, clock),
                clock=clock,
                rng=random.Random(5),
            )
    finally:
        sender.close()
        http.close()

    assert fanned >= 3
    assert report.delivered == len(batch.jobs) == len(receiver.arrivals) == 3
    assert all(a.verified for a in receiver.arrivals), [a.error for a in receiver.arrivals]
    sent = {a.payload["data"]["id"]: a.payload["data"] for a in receiver.arrivals}
    with uow() as work:
        for order in placed:
            # Rendered with the batch, exactly as one order is rendered alone.
            assert sent[str(order.id)] == render_event_data(
                work, tenant_id, ResourceRef("order", str(order.id))
            )
        attempts = work.deliveries.attempts(tenant_id, batch.sendable[0].id)
    assert [(a.attempt, a.delivered, a.status_code) for a in attempts] == [(1, True, 200)]
