"""The email ports: what an email says (``EmailContext``), how it is written
(``EmailRenderer``) and how it leaves (``Mailer``).

The use cases (``oms.services.customer_email``) gather the facts of one email from the
database into an ``EmailContext``: plain values, nothing to look up later. A renderer turns
it into a subject and two bodies, HTML and plain text (``oms.adapters.email.rendering``:
Jinja2 templates). A mailer hands the finished ``OutgoingEmail`` to a mail server
(``oms.adapters.email.smtp``) or keeps it in memory for tests
(``oms.adapters.email.memory``).

The mailer's contract, like the payment gateways':

* **Answers, not exceptions.** ``send`` returns a ``MailReceipt``: ``accepted`` when the
  server took the message for delivery; otherwise ``permanent`` tells a refusal that a
  retry cannot change (an SMTP 5xx: no such mailbox, message refused) from one that may
  pass later (a 4xx, a refused or dropped connection, a timeout).
* **Recognisable retries.** ``OutgoingEmail.message_id`` is derived from the event and the
  template, so a message sent again after an answer was lost carries the same
  ``Message-ID`` and mail systems (and people) can tell it is the same message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from oms.domain.notifications import Template
from oms.services.events import Branding

__all__ = [
    "Attachment",
    "EmailContext",
    "EmailRenderer",
    "EndpointFacts",
    "HoldFacts",
    "Item",
    "MailReceipt",
    "Mailer",
    "OrderFacts",
    "OutgoingEmail",
    "ParcelFacts",
    "PickupFacts",
    "RenderedEmail",
    "ReturnLabelFacts",
]


@dataclass(frozen=True)
class Item:
    """One line as the customer ordered it."""

    name: str
    quantity: int


@dataclass(frozen=True)
class OrderFacts:
    """The order an email is about, in what the customer knows of it."""

    number: int
    customer_name: str | None
    items: tuple[Item, ...]
    total: Decimal
    currency: str
    ship_to: tuple[str, ...]  # the delivery address, line by line; empty for a pickup
    status_url: str  # the merchant's order status page, signed for this order
    paid: Decimal = Decimal(0)  # captured and not refunded
    authorized: bool = False  # money held on a card, not yet taken


@dataclass(frozen=True)
class ParcelFacts:
    """One shipment: who carries it and where to follow it."""

    carrier: str
    tracking_number: str
    tracking_url: str  # the public tracking page
    items: tuple[Item, ...] = ()
    deliver_by: date | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class PickupFacts:
    """A store pickup ready to collect, with its one-time code."""

    code: str
    place: str
    address: tuple[str, ...]
    ready_until: datetime


@dataclass(frozen=True)
class HoldFacts:
    """A hold the customer can lift, and by when it should be."""

    reason: str  # a HoldReason value: address_invalid or payment_pending
    due_at: datetime


@dataclass(frozen=True)
class EndpointFacts:
    """A merchant's webhook endpoint that was switched off."""

    url: str
    endpoint_id: str
    reason: str | None = None


@dataclass(frozen=True)
class ReturnLabelFacts:
    """A return's label as its emails tell it; ``cost`` is set when the customer pays it
    (it comes off the refund). ``qr_cid`` names the drop-off QR code image the HTML shows,
    when the email carries it (``Attachment.content_id``)."""

    carrier: str
    tracking_number: str
    tracking_url: str
    cost: Decimal | None = None
    currency: str = ""
    qr_cid: str | None = None
    has_pdf: bool = False


@dataclass(frozen=True)
class Attachment:
    """A file an email carries: ``content_id`` set makes it an inline part the HTML shows
    (``<img src="cid:...">``), else it is attached to download."""

    filename: str
    content_type: str  # "application/pdf", "image/png"
    data: bytes
    content_id: str | None = None


@dataclass(frozen=True)
class EmailContext:
    """Everything one email says; the template decides which parts it shows."""

    template: Template
    branding: Branding
    order: OrderFacts | None = None
    parcel: ParcelFacts | None = None
    pickup: PickupFacts | None = None
    hold: HoldFacts | None = None
    refund_amount: Decimal | None = None
    refund_as_credit: bool = False  # the refund went back to the customer's store credit
    endpoint: EndpointFacts | None = None
    return_note: str | None = None  # a rejected return: why
    return_label: ReturnLabelFacts | None = None


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


class EmailRenderer(Protocol):
    def render(self, context: EmailContext) -> RenderedEmail:
        """The subject and both bodies of the email ``context`` describes."""
        ...


@dataclass(frozen=True)
class OutgoingEmail:
    """A finished email: who from, who to, and both bodies."""

    message_id: str  # "<...@...>", stable for one (event, template)
    sender_name: str
    sender_address: str
    to: str
    subject: str
    text: str
    html: str
    template: Template
    reply_to: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class MailReceipt:
    """How the mail server answered: accepted, or why not (``code``: the SMTP reply code)."""

    accepted: bool
    code: int | None = None
    detail: str = ""
    permanent: bool = False


class Mailer(Protocol):
    def send(self, email: OutgoingEmail) -> MailReceipt:
        """Hand ``email`` to the mail server once; never raises for the server's answers."""
        ...
