"""Events for the outside world: what an outbox message becomes once delivered, and the
sinks that deliver it (merchant webhooks, customer email, a message broker).

Every state change writes outbox messages in its own transaction (``OutboxMessage``).
``oms worker`` turns each into one ``Event`` (its public type, and the resource it is about
as the API returns it), asks every ``EventSink`` which of its subscribers want it (fan-out,
in the transaction that claims the message), and delivers each (event, subscriber) pair at
least once: ``prepare`` reads what the send needs in a short transaction, ``send`` talks to
the outside world outside any transaction, and the outcome is recorded with the attempt.

These are the ports; the sinks are adapters (``oms.adapters``) and each has an in-memory
fake for tests of the use cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from oms.services.ports import UnitOfWork

__all__ = ["Branding", "Event", "EventSink", "Outcome", "StatusLinks"]


@dataclass(frozen=True)
class Event:
    """One outbox message as its subscribers receive it.

    ``id`` is the outbox message's id: the ``webhook-id`` header, the NATS ``Nats-Msg-Id``,
    stable across retries, so receivers de-duplicate on it. ``type`` is the public event
    type (``order.created``, ``shipment.delivered``, ...); ``topic`` the outbox topic it came
    from (``order.placed``, ...) and ``detail`` that message's own payload. ``data`` is the
    resource the type names, as the API returns it (an order for ``order.*``).
    ``aggregate_id`` is the resource the message was written for (the order for order,
    fulfilment, shipment, pickup and payment events).
    """

    id: UUID
    tenant_id: UUID
    type: str
    created_at: datetime
    data: dict[str, Any]
    topic: str
    aggregate_id: UUID
    detail: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """How one attempt to deliver an event to one subscriber went.

    ``delivered``: the subscriber has it (a 2xx answer, an acknowledged publish, an email
    the SMTP server accepted). Otherwise the attempt is retried on the schedule, unless
    ``final`` says a retry cannot help (the endpoint was deleted, the template switched
    off): then the delivery ends without being delivered. ``response_body`` is truncated by
    the sink before it is returned.
    """

    delivered: bool
    status_code: int | None = None
    error: str | None = None
    response_body: str | None = None
    latency_ms: float = 0.0
    final: bool = False


class EventSink(Protocol):
    """One way events leave the OMS; ``kind`` names it in the deliveries it records
    (``webhook``, ``email``, ``nats``)."""

    @property
    def kind(self) -> str: ...

    def subscribers(self, uow: UnitOfWork, event: Event) -> Sequence[str]:
        """The keys of the subscribers that want ``event`` (a webhook endpoint's id, an
        email template's name, a broker subject); read in the fan-out transaction."""
        ...

    def prepare(self, uow: UnitOfWork, event: Event, key: str) -> object | None:
        """What sending ``event`` to subscriber ``key`` needs (the endpoint's URL and
        secrets, the rendered email, ...), read in a short transaction before each attempt;
        None when there is nothing to send any more (the endpoint was deleted or disabled,
        the template switched off): the delivery then ends, not delivered, not retried."""
        ...

    def send(self, prepared: object, *, event: Event, key: str, attempt: int) -> Outcome:
        """Deliver once (``attempt``: 1 for the first); never raises for the receiver's
        failures, which are the outcome. Runs outside any transaction."""
        ...


@dataclass(frozen=True)
class Branding:
    """How a merchant looks to its customers, in emails and on the status and tracking
    pages: the name they know, a logo (an https URL or a data: URI) and two colours
    (``#rrggbb``)."""

    display_name: str
    logo_url: str | None = None
    colour: str = "#1f4e79"
    accent_colour: str = "#f2f5f9"


class StatusLinks(Protocol):
    """Links customers follow: the merchant's order status page and the tracking page."""

    def order_status_url(self, tenant_id: UUID, order_id: UUID, order_number: int) -> str:
        """The order status page of this order, with a signed token that opens it without
        asking for the customer's email or postal code."""
        ...

    def tracking_url(self, tracking_number: str) -> str:
        """The public tracking page of a parcel."""
        ...
