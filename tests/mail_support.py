"""What the email tests share: a real SMTP server on loopback (aiosmtpd) that keeps what
it is sent and can refuse recipients, in-memory status links, and a minimal outbox driver
that does what ``oms worker`` does for one sink (fan-out, prepare, send)."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from uuid import UUID

from aiosmtpd.controller import Controller
from sqlalchemy import select

from oms.adapters.db.tables import outbox
from oms.services.events import Event, EventSink, Outcome
from oms.services.ports import UnitOfWorkFactory

__all__ = [
    "PUBLIC_TYPE",
    "Delivery",
    "Inbox",
    "MemoryStatusLinks",
    "deliver",
    "outbox_events",
    "running_smtp_server",
]

# Outbox topic -> public event type, for the topics customer emails answer (the worker's
# event catalogue maps these the same way).
PUBLIC_TYPE = {
    "order.placed": "order.created",
    "hold.placed": "order.on_hold",
    "shipment.created": "shipment.created",
    "shipment.out_for_delivery": "shipment.out_for_delivery",
    "shipment.delivered": "shipment.delivered",
    "notification.pickup_ready": "pickup.ready",
    "order.cancelled": "order.cancelled",
    "payment.refunded": "payment.refunded",
}


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


def outbox_events(
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    *,
    data_of: Any = None,
    seen: set[UUID] | None = None,
) -> list[Event]:
    """The tenant's outbox messages of ``PUBLIC_TYPE``'s topics as events, oldest first,
    skipping those in ``seen`` (which it fills); ``data_of(aggregate_id)`` gives ``data``
    (the resource as the API returns it)."""
    engine = uow_factory.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(
            select(outbox)
            .where(outbox.c.tenant_id == tenant_id)
            .order_by(outbox.c.created_at, outbox.c.id)
        ).all()
    events = []
    for row in rows:
        if row.topic not in PUBLIC_TYPE or (seen is not None and row.id in seen):
            continue
        if seen is not None:
            seen.add(row.id)
        events.append(
            Event(
                id=row.id,
                tenant_id=tenant_id,
                type=PUBLIC_TYPE[row.topic],
                created_at=row.created_at,
                data=data_of(row.aggregate_id) if data_of else {},
                topic=row.topic,
                aggregate_id=row.aggregate_id,
                detail=dict(row.payload),
            )
        )
    return events


@dataclass(frozen=True)
class Delivery:
    event: Event
    key: str
    outcome: Outcome | None  # None: prepare found nothing to send


def deliver(sink: EventSink, uow_factory: UnitOfWorkFactory, events: list[Event]) -> list[Delivery]:
    """Fan out each event to the sink's subscribers, then prepare and send each once."""
    done = []
    for event in events:
        with uow_factory() as uow:
            keys = list(sink.subscribers(uow, event))
        for key in keys:
            with uow_factory(readonly=True) as uow:
                prepared = sink.prepare(uow, event, key)
            outcome = None
            if prepared is not None:
                outcome = sink.send(prepared, event=event, key=key, attempt=1)
            done.append(Delivery(event, key, outcome))
    return done
