"""What the email tests share: a real SMTP server on loopback (aiosmtpd) that keeps what
it is sent and can refuse recipients, in-memory status links, and ``oms worker``'s use cases
driven one round at a time for one sink."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from random import Random
from typing import Any
from uuid import UUID

from aiosmtpd.controller import Controller
from sqlalchemy import select

from oms.adapters.db.tables import event_deliveries, outbox
from oms.adapters.email.rendering import JinjaEmailRenderer
from oms.adapters.email.sink import EmailSink
from oms.adapters.email.smtp import SmtpMailer, SmtpServer
from oms.api.event_data import render_event_data
from oms.domain.pickup_codes import PickupCodeKey
from oms.services.document_renderer import DocumentRenderer
from oms.services.event_delivery import deliver_due, fan_out
from oms.services.events import Event, EventSink
from oms.services.ports import UnitOfWorkFactory

__all__ = ["Delivery", "Inbox", "MemoryStatusLinks", "Worker", "running_smtp_server"]


class MemoryStatusLinks:
    """Status and tracking links that are easy to find in an email."""

    def order_status_url(self, tenant_id: UUID, order_id: UUID, order_number: int) -> str:
        return f"https://status.test/{tenant_id}/{order_number}?token=signed-{order_id}"

    def tracking_url(self, tracking_number: str) -> str:
        return f"https://track.test/{tracking_number}"


@dataclass
class Inbox:
    """What the SMTP server accepted, parsed; ``refuse`` maps a recipient to the reply
    its RCPT TO gets instead of 250 (``"550 5.1.1 no such mailbox"``)."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def take(self) -> list[EmailMessage]:
        """The messages so far, forgetting them."""
        with self._lock:
            taken, self.messages = self.messages, []
        return taken


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def running_smtp_server() -> Iterator[Inbox]:
    """An SMTP server on a free loopback port for as long as the generator runs."""
    inbox = Inbox(port=_free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


class Worker:
    """What ``oms worker`` does, one round at a time and with one sink: the real fan-out and
    delivery use cases (``oms.services.event_delivery``) on a fixed clock, so every delivery
    is due when asked for. ``events`` are the tenant's events fanned out so far, oldest
    first. What other tenants left waiting is fanned out to nobody when it starts: the
    worker claims every tenant's outbox, and a test hears only of its own."""

    CLOCK = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __init__(self, uow: UnitOfWorkFactory, sink: EventSink, tenant_id: UUID) -> None:
        self.uow, self.sink, self.tenant_id = uow, sink, tenant_id
        self.events: list[Event] = []
        self._seen: set[UUID] = set()
        self._fan_out([])
        self.fan_out()  # nothing yet: what the tenant's setup wrote, marked seen
        self.events.clear()

    def _fan_out(self, sinks: list[EventSink]) -> None:
        while fan_out(
            uow_factory=self.uow,
            sinks=sinks,
            render=render_event_data,
            clock=lambda: self.CLOCK,
            limit=500,
        ):
            pass

    def fan_out(self) -> list[Event]:
        """Fan out every waiting outbox message; the events made of them."""
        self._fan_out([self.sink])
        engine = self.uow.engine  # type: ignore[attr-defined]
        with engine.connect() as conn:
            rows = conn.execute(
                select(outbox)
                .where(outbox.c.tenant_id == self.tenant_id, outbox.c.event_type.is_not(None))
                .order_by(outbox.c.created_at, outbox.c.id)
            ).all()
        new = [
            Event(
                id=row.id,
                tenant_id=row.tenant_id,
                type=row.event_type,
                created_at=row.created_at,
                data=dict(row.data or {}),
                topic=row.topic,
                aggregate_id=row.aggregate_id,
                detail=dict(row.payload),
            )
            for row in rows
            if row.id not in self._seen
        ]
        self._seen.update(event.id for event in new)
        self.events += new
        return new

    def deliver(self) -> list[Delivery]:
        """Send every due delivery once; what became of each, in the events' order."""
        report = deliver_due(
            uow_factory=self.uow,
            sinks={self.sink.kind: self.sink},
            clock=lambda: self.CLOCK,
            rng=Random(0),
            limit=500,
        )
        engine = self.uow.engine  # type: ignore[attr-defined]
        with engine.connect() as conn:
            rows = conn.execute(
                select(event_deliveries)
                .where(
                    event_deliveries.c.tenant_id == self.tenant_id,
                    event_deliveries.c.id.in_(list(report.statuses)),
                )
                .order_by(event_deliveries.c.created_at, event_deliveries.c.id)
            ).all()
        by_id = {event.id: event for event in self.events}
        order = {event.id: n for n, event in enumerate(self.events)}
        done = [
            Delivery(by_id[row.event_id], row.subscriber_key, row.status == "delivered")
            for row in rows
        ]
        return sorted(done, key=lambda d: order[d.event.id])

    def run(self) -> list[Delivery]:
        """Fan out, then deliver."""
        self.fan_out()
        return self.deliver()


@dataclass(frozen=True)
class Delivery:
    event: Event
    key: str
    sent: bool  # False: not sent (nothing to send any more, or the server refused it)


def smtp_sink(
    inbox: Inbox, *, pickup_key: PickupCodeKey, documents: DocumentRenderer | None = None
) -> Iterator[EmailSink]:
    """An ``EmailSink`` sending to ``inbox``'s SMTP server on loopback (a fixture's body:
    its connection is closed when the fixture ends)."""
    mailer = SmtpMailer(SmtpServer.from_url(f"smtp://127.0.0.1:{inbox.port}?timeout=5"))
    yield EmailSink(
        mailer=mailer,
        renderer=JinjaEmailRenderer(),
        links=MemoryStatusLinks(),
        pickup_key=pickup_key,
        default_sender="orders@oms.test",
        message_id_domain="oms.test",
        documents=documents,
    )
    mailer.close()
