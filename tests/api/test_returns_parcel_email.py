"""The return label's parcel tells the customer by email, through a real SMTP server on
loopback: once when the carrier takes it (``return_in_transit``) and once when it reaches
the warehouse (``return_delivered``), however often the carrier repeats itself, and not at
all when the tenant switched the template off (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from uuid import UUID

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.email.sink import EmailSink
from oms.domain.notifications import Template
from oms.domain.returns import WantedLine
from oms.domain.tracking import ShipmentStatus, TrackingEvent
from oms.services import returns
from oms.services.notifications import get_notification_settings, update_notification_settings
from oms.services.return_labels import buy_return_label
from oms.services.tenants import create_tenant
from oms.services.tracking import CarrierEvent, record_carrier_events
from tests.builders import TESTER
from tests.integration.returns_support import (
    CARRIERS,
    PICKUP_KEY,
    SHIPPED_AT,
    open_shop,
    returns_engine,
    shipped_order,
)
from tests.mail_support import Inbox, Worker, running_smtp_server, smtp_sink

__all__ = ["returns_engine"]

LATER = SHIPPED_AT + timedelta(days=3)


@pytest.fixture(scope="module")
def uow(returns_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(returns_engine)


@pytest.fixture
def tenant_id(uow: SqlUnitOfWorkFactory) -> UUID:
    tenant, _ = create_tenant(uow_factory=uow, name="parcel email shop")
    return tenant.id


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[Inbox]:
    yield from running_smtp_server()


@pytest.fixture
def inbox(smtp_server: Inbox) -> Inbox:
    smtp_server.take()
    return smtp_server


@pytest.fixture
def sink(smtp_server: Inbox) -> Iterator[EmailSink]:
    yield from smtp_sink(smtp_server, pickup_key=PICKUP_KEY)


def _labelled_return(uow: SqlUnitOfWorkFactory, tenant_id: UUID) -> tuple[int, str, str]:
    """A shipped order's approved return with its label: (order number, carrier, number)."""
    open_shop(uow, tenant_id)
    order = shipped_order(uow, tenant_id, ("X", 1))
    request, _ = returns.request_return(
        uow_factory=uow,
        tenant_id=tenant_id,
        order_id=order.id,
        command=returns.NewReturn((WantedLine(1, 1, "defective"),)),
        actor=TESTER,
        at=LATER,
    )
    labelled = buy_return_label(
        uow_factory=uow,
        carriers=CARRIERS,
        tenant_id=tenant_id,
        return_id=request.id,
        location="NEAR",
        actor=TESTER,
        at=LATER,
    )
    assert labelled.label is not None
    return order.number, labelled.label.carrier, labelled.label.tracking_number


def _scan(
    uow: SqlUnitOfWorkFactory,
    carrier: str,
    number: str,
    event_id: str,
    status: ShipmentStatus,
    hours: int,
) -> None:
    when = LATER + timedelta(hours=hours)
    record_carrier_events(
        uow_factory=uow,
        carrier=carrier,
        events=[CarrierEvent(number, TrackingEvent(event_id, status, when, "Koeln hub"))],
        at=when,
    )


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text: str = body.get_content()
    return text


def test_the_customer_hears_once_when_the_return_is_on_its_way_and_once_when_it_arrives(
    uow: SqlUnitOfWorkFactory, tenant_id: UUID, sink: EmailSink, inbox: Inbox
) -> None:
    number, carrier, tracking = _labelled_return(uow, tenant_id)
    worker = Worker(uow, sink, tenant_id)
    _scan(uow, carrier, tracking, "r-1", ShipmentStatus.IN_TRANSIT, 3)
    _scan(uow, carrier, tracking, "r-1", ShipmentStatus.IN_TRANSIT, 3)  # the same, again
    _scan(uow, carrier, tracking, "r-2", ShipmentStatus.OUT_FOR_DELIVERY, 20)  # still on its way
    sent = worker.run()
    assert [(d.key, d.sent) for d in sent] == [("return_in_transit", True)]
    (on_its_way,) = inbox.take()
    assert on_its_way["To"] == "erika@example.com"
    assert on_its_way["Subject"] == f"Your return for order #{number} is on its way to us"
    assert tracking in _text(on_its_way)

    _scan(uow, carrier, tracking, "r-3", ShipmentStatus.DELIVERED, 30)
    _scan(uow, carrier, tracking, "r-4", ShipmentStatus.DELIVERED, 31)
    sent = worker.run()
    assert [(d.key, d.sent) for d in sent] == [("return_delivered", True)]
    (arrived,) = inbox.take()
    assert arrived["Subject"] == f"Your return for order #{number} has arrived"
    assert "We will check them now" in _text(arrived)
    assert worker.run() == []
    assert inbox.take() == []


def test_an_in_transit_email_the_delivery_overtook_is_not_sent(
    uow: SqlUnitOfWorkFactory, tenant_id: UUID, sink: EmailSink, inbox: Inbox
) -> None:
    _, carrier, tracking = _labelled_return(uow, tenant_id)
    worker = Worker(uow, sink, tenant_id)
    _scan(uow, carrier, tracking, "s-1", ShipmentStatus.IN_TRANSIT, 3)
    _scan(uow, carrier, tracking, "s-2", ShipmentStatus.DELIVERED, 30)
    sent = worker.run()
    assert [(d.key, d.sent) for d in sent] == [
        ("return_in_transit", False),  # stale by the time it would go
        ("return_delivered", True),
    ]
    assert [m["Subject"].split(" ")[-1] for m in inbox.take()] == ["arrived"]


def test_a_tenant_that_switched_the_parcel_emails_off_sends_none(
    uow: SqlUnitOfWorkFactory, tenant_id: UUID, sink: EmailSink, inbox: Inbox
) -> None:
    _, carrier, tracking = _labelled_return(uow, tenant_id)
    update_notification_settings(
        uow_factory=uow, tenant_id=tenant_id, raw={"templates": {"return_in_transit": False}}
    )
    settings = get_notification_settings(uow_factory=uow, tenant_id=tenant_id)
    assert not settings.enabled(Template.RETURN_IN_TRANSIT)
    worker = Worker(uow, sink, tenant_id)
    _scan(uow, carrier, tracking, "t-1", ShipmentStatus.IN_TRANSIT, 3)
    assert worker.run() == []
    assert inbox.take() == []
