"""Customer email: which emails an event calls for, and what each one says.

The email sink (``oms.adapters.email.sink``) asks ``email_templates_for`` at fan-out (a
template switched on, someone to write to) and ``compose_email`` before each attempt: the
facts are read again then, so an email never tells something that stopped being true (a
hold already lifted, a pickup already collected: nothing is sent). The pickup code is
derived again from the deployment's key here, and travels in this one email only.

``preview_email`` renders a template for the merchant with an order of its own, or with a
made-up one, and never with a real pickup code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.errors import NotFound
from oms.domain.holds import HoldReason
from oms.domain.notifications import (
    CUSTOMER_FIXABLE_HOLDS,
    CUSTOMER_TEMPLATES,
    NotificationSettings,
    Template,
    template_for,
)
from oms.domain.orders import Order
from oms.domain.payments import summarize
from oms.domain.pickup_codes import PickupCodeKey
from oms.domain.shipments import Shipment
from oms.domain.store_credit import STORE_CREDIT
from oms.services.document_renderer import DocumentRenderer
from oms.services.events import Branding, Event, StatusLinks
from oms.services.mailer import (
    Attachment,
    EmailContext,
    EmailRenderer,
    EndpointFacts,
    HoldFacts,
    Item,
    OrderFacts,
    ParcelFacts,
    PickupFacts,
    RenderedEmail,
)
from oms.services.notifications import branding_of, settings_of
from oms.services.pickup import live_pickup_code
from oms.services.ports import UnitOfWork, UnitOfWorkFactory
from oms.services.return_label_email import label_attachments, label_facts

__all__ = [
    "EmailDraft",
    "EmailFacts",
    "compose_email",
    "email_template_of",
    "email_templates_for",
    "event_facts",
    "preview_email",
]


@dataclass(frozen=True)
class EmailDraft:
    """One email to send: to whom, from which address (None: the deployment's), and what."""

    to: str
    context: EmailContext
    sender_address: str | None
    reply_to: str | None
    attachments: tuple[Attachment, ...] = ()


def event_facts(event: Event) -> dict[str, Any]:
    """The outbox payload of ``event`` with its ``data`` (the timeline entry) laid over it."""
    data = event.detail.get("data")
    return {**event.detail, **(data if isinstance(data, dict) else {})}


def _merchant_address(settings: NotificationSettings) -> str | None:
    return settings.notify_email or settings.sender_email


class EmailFacts:
    """What the emails of one batch share, read once in the batch's transaction: each
    tenant's settings and branding, and the orders (``preload`` reads many at once)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._settings: dict[UUID, NotificationSettings] = {}
        self._branding: dict[UUID, Branding] = {}
        self._orders: dict[tuple[UUID, UUID], Order | None] = {}

    def settings(self, tenant_id: UUID) -> NotificationSettings:
        if tenant_id not in self._settings:
            self._settings[tenant_id] = settings_of(self.uow, tenant_id)
        return self._settings[tenant_id]

    def branding(self, tenant_id: UUID) -> Branding:
        if tenant_id not in self._branding:
            self._branding[tenant_id] = branding_of(self.uow, tenant_id)
        return self._branding[tenant_id]

    def order(self, tenant_id: UUID, order_id: UUID) -> Order | None:
        if (tenant_id, order_id) not in self._orders:
            self._orders[tenant_id, order_id] = self.uow.orders.get(
                tenant_id, order_id, with_events=False
            )
        return self._orders[tenant_id, order_id]

    def preload(self, wanted: Iterable[tuple[UUID, UUID]]) -> None:
        """Read the orders ``wanted`` (tenant, order) not read yet, one query per tenant."""
        by_tenant: dict[UUID, list[UUID]] = {}
        for key in wanted:
            if key not in self._orders:
                self._orders[key] = None  # unless found below
                by_tenant.setdefault(key[0], []).append(key[1])
        for tenant_id, order_ids in by_tenant.items():
            for order in self.uow.orders.get_many(tenant_id, order_ids):
                self._orders[tenant_id, order.id] = order


def _customer_email(facts: EmailFacts, event: Event) -> str | None:
    """The customer's address: from the event's order resource or payload when there, else
    read from the order."""
    customer = event.data.get("customer")
    if isinstance(customer, dict) and customer.get("email"):
        return str(customer["email"])
    if event.detail.get("customer_email"):
        return str(event.detail["customer_email"])
    order = facts.order(event.tenant_id, event.aggregate_id)
    return None if order is None else order.customer.email


def email_template_of(event: Event) -> Template | None:
    """The template ``event`` would be told with, before any setting is looked at."""
    return template_for(event.type, hold_reason=event_facts(event).get("reason"))


def email_templates_for(
    uow: UnitOfWork, event: Event, facts: EmailFacts | None = None
) -> list[str]:
    """The templates ``event`` is told with: at most one, switched on, with an address."""
    template = email_template_of(event)
    if template is None:
        return []
    facts = facts or EmailFacts(uow)
    settings = facts.settings(event.tenant_id)
    if not settings.enabled(template):
        return []
    if template in CUSTOMER_TEMPLATES:
        address = _customer_email(facts, event)
    else:
        address = _merchant_address(settings)
    return [template.value] if address else []


def _lines(address: Address | None) -> tuple[str, ...]:
    if address is None:
        return ()
    town = " ".join(p for p in (address.postal_code, address.city) if p)
    parts = (address.name, address.company, address.line1, address.line2, town, address.region)
    return tuple(p for p in (*parts, address.country) if p)


def _order_facts(order: Order, links: StatusLinks, as_of: datetime) -> OrderFacts:
    """The order as the customer knows it; its payments as they stood at ``as_of`` (the
    event's time: a cancellation tells what was paid when it happened, not after a refund
    that followed)."""
    payments = [p for p in order.payments if p.created_at <= as_of]
    summary = summarize(payments, currency=order.currency, now=as_of)
    return OrderFacts(
        number=order.number,
        customer_name=order.customer.name,
        items=tuple(Item(line.name, line.billable) for line in order.lines if line.billable > 0),
        total=order.total,
        currency=order.currency,
        ship_to=() if order.pickup_location_id else _lines(order.shipping_address),
        status_url=links.order_status_url(order.tenant_id, order.id, order.number),
        paid=summary.kept,
        authorized=summary.authorized > 0,
    )


def _parcel_facts(order: Order, shipment: Shipment, links: StatusLinks) -> ParcelFacts:
    names = {line.line_no: line.name for line in order.lines}
    return ParcelFacts(
        carrier=shipment.carrier.replace("_", " ").title(),
        tracking_number=shipment.tracking_number,
        tracking_url=links.tracking_url(shipment.tracking_number),
        items=tuple(Item(names.get(i.line_no, i.sku), i.quantity) for i in shipment.contents),
        deliver_by=shipment.deliver_by,
        delivered_at=shipment.delivered_at,
    )


def _uuid(value: object) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


def _facts_for(
    uow: UnitOfWork,
    event: Event,
    template: Template,
    order: Order,
    context: EmailContext,
    *,
    links: StatusLinks,
    pickup_key: PickupCodeKey,
    now: datetime,
) -> EmailContext | None:
    """``context`` with the facts ``template`` tells, read now; None when they stopped being
    true (the hold was lifted, the shipment or pickup is gone, the code expired)."""
    facts = event_facts(event)
    tenant_id = event.tenant_id
    if template is Template.ACTION_NEEDED:
        hold_id = _uuid(facts.get("hold_id"))
        hold = next((h for h in order.open_holds if h.id == hold_id), None)
        if hold is None or hold.reason not in CUSTOMER_FIXABLE_HOLDS:
            return None
        return replace(context, hold=HoldFacts(hold.reason.value, hold.due_at))
    if template in (Template.SHIPPED, Template.OUT_FOR_DELIVERY, Template.DELIVERED):
        shipment_id = _uuid(facts.get("shipment_id"))
        shipment = None if shipment_id is None else uow.shipments.get(tenant_id, shipment_id)
        if shipment is None:
            return None
        return replace(context, parcel=_parcel_facts(order, shipment, links))
    if template is Template.READY_FOR_PICKUP:
        fo_id = _uuid(facts.get("fulfillment_order_id"))
        if fo_id is None:
            return None
        code = live_pickup_code(
            uow, pickup_key=pickup_key, tenant_id=tenant_id, fo_id=fo_id, now=now
        )
        fo = uow.fulfilment.get(tenant_id, fo_id)
        if code is None or fo is None or fo.pickup_expires_at is None:
            return None
        place = uow.locations.get(fo.location_id)
        pickup = PickupFacts(
            code=code,
            place=place.name if place else (fo.location_code or ""),
            address=_lines(place.address) if place else (),
            ready_until=fo.pickup_expires_at,
        )
        return replace(context, pickup=pickup)
    if template is Template.REFUNDED:
        return replace(
            context,
            refund_amount=Decimal(str(facts.get("amount", "0"))),
            refund_as_credit=facts.get("gateway") == STORE_CREDIT,
        )
    return context


def _return_facts(
    uow: UnitOfWork,
    event: Event,
    template: Template,
    order: Order,
    context: EmailContext,
    documents: DocumentRenderer | None,
) -> tuple[EmailContext, tuple[Attachment, ...]] | None:
    """A return email's context, read now, and its files: the approval email carries the
    label's PDF and drop-off QR code when the label exists (and ``documents`` draws them);
    None when the return moved on (or is gone) and the email would be stale."""
    return_id = _uuid(event_facts(event).get("return_id"))
    found = None if return_id is None else uow.returns.get(event.tenant_id, return_id)
    if found is None or found.status.value not in RETURN_TEMPLATES[template]:
        return None
    context = replace(context, return_note=found.decision_note)
    if found.label is None:
        return context, ()
    label = label_facts(order, found.label)
    files: tuple[Attachment, ...] = ()
    if template is Template.RETURN_APPROVED and documents is not None:
        label, files = label_attachments(uow, order, found, label, documents=documents)
    return replace(context, return_label=label), files


# A return email is sent while the return is still in one of these states.
RETURN_TEMPLATES = {
    Template.RETURN_REQUESTED: {"requested"},
    Template.RETURN_APPROVED: {"approved", "in_transit", "delivered", "received", "refunded"},
    Template.RETURN_REJECTED: {"rejected"},
    # The return label's parcel (oms.services.return_tracking): told while still true.
    Template.RETURN_IN_TRANSIT: {"in_transit"},
    Template.RETURN_DELIVERED: {"delivered"},
    Template.RETURN_RECEIVED: {"received", "refunded"},
}


def compose_email(
    uow: UnitOfWork,
    event: Event,
    template: Template,
    *,
    links: StatusLinks,
    pickup_key: PickupCodeKey,
    now: datetime,
    facts: EmailFacts | None = None,
    documents: DocumentRenderer | None = None,
) -> EmailDraft | None:
    """The email ``template`` sends for ``event``, its facts read in this transaction
    (through ``facts`` when the batch shares them); None when there is nothing to send any
    more (switched off, no address, facts gone). ``documents`` draws the files an email
    carries (a return label's PDF and QR code); without it, none."""
    facts = facts or EmailFacts(uow)
    settings = facts.settings(event.tenant_id)
    if not settings.enabled(template):
        return None
    context = EmailContext(template=template, branding=facts.branding(event.tenant_id))
    if template not in CUSTOMER_TEMPLATES:
        to = _merchant_address(settings)
        data = event.data
        endpoint = EndpointFacts(
            url=str(data.get("url", "")),
            endpoint_id=str(data.get("id", event.aggregate_id)),
            reason=data.get("disabled_reason") or event.detail.get("reason"),
        )
        if to is None:
            return None
        return EmailDraft(to, replace(context, endpoint=endpoint), settings.sender_email, None)
    order = facts.order(event.tenant_id, event.aggregate_id)
    if order is None or not order.customer.email:
        return None
    context = replace(context, order=_order_facts(order, links, event.created_at))
    files: tuple[Attachment, ...] = ()
    if template in RETURN_TEMPLATES:
        written = _return_facts(uow, event, template, order, context, documents)
        told, files = (None, ()) if written is None else written
    else:
        told = _facts_for(
            uow, event, template, order, context, links=links, pickup_key=pickup_key, now=now
        )
    if told is None:
        return None
    return EmailDraft(
        order.customer.email, told, settings.sender_email, settings.reply_to, attachments=files
    )


# --- preview -------------------------------------------------------------------------------

SAMPLE_PICKUP_CODE = "739204"  # never a real one, even with a real order


def _sample_order(links: StatusLinks, tenant_id: UUID) -> OrderFacts:
    return OrderFacts(
        number=1001,
        customer_name="Ada Lovelace",
        items=(Item("T-shirt, black, M", 2), Item("Cap, navy", 1)),
        total=Decimal("66.00"),
        currency="USD",
        ship_to=("Ada Lovelace", "12 Analytical Way", "02110 Boston", "MA", "US"),
        status_url=links.order_status_url(tenant_id, UUID(int=0), 1001),
        paid=Decimal("66.00"),
    )


def _sample_parts(
    template: Template, order: OrderFacts, links: StatusLinks, now: datetime
) -> dict[str, Any]:
    """Made-up facts for the parts of ``template`` an order cannot give."""
    tracking = "AC123456786OM"
    parcel = ParcelFacts(
        carrier="Acme",
        tracking_number=tracking,
        tracking_url=links.tracking_url(tracking),
        items=order.items,
        deliver_by=(now + timedelta(days=3)).date(),
        delivered_at=now if template is Template.DELIVERED else None,
    )
    return {
        "parcel": parcel,
        "pickup": PickupFacts(
            code=SAMPLE_PICKUP_CODE,
            place="Downtown store",
            address=("5 Market Street", "02110 Boston", "US"),
            ready_until=now + timedelta(days=7),
        ),
        "hold": HoldFacts(HoldReason.ADDRESS_INVALID.value, now + timedelta(hours=4)),
        "refund_amount": order.total,
        "endpoint": EndpointFacts(
            url="https://shop.example.com/hooks/oms",
            endpoint_id=str(UUID(int=1)),
            reason="failing since 3 days",
        ),
    }


def preview_email(
    *,
    uow_factory: UnitOfWorkFactory,
    renderer: EmailRenderer,
    links: StatusLinks,
    tenant_id: UUID,
    template: Template,
    order_id: UUID | None = None,
    hold_reason: HoldReason | None = None,
    now: datetime,
) -> RenderedEmail:
    """``template`` rendered with the tenant's branding and the order ``order_id`` (its
    latest shipment, its open hold), or a sample order; parts the order cannot give are
    made up, and the pickup code always is. NotFound for an unknown order."""
    with uow_factory(readonly=True) as uow:
        branding = branding_of(uow, tenant_id)
        order = None
        if order_id is not None:
            order = uow.orders.get(tenant_id, order_id, with_events=False)
            if order is None:
                raise NotFound(f"No order {order_id}")
        facts = (
            _sample_order(links, tenant_id) if order is None else _order_facts(order, links, now)
        )
        parts = _sample_parts(template, facts, links, now)
        if order is not None:
            shipments = uow.shipments.for_order(tenant_id, order.id)
            if shipments:
                latest = max(shipments, key=lambda s: s.created_at)
                parts["parcel"] = _parcel_facts(order, latest, links)
            fixable = [h for h in order.open_holds if h.reason in CUSTOMER_FIXABLE_HOLDS]
            if fixable:
                parts["hold"] = HoldFacts(fixable[0].reason.value, fixable[0].due_at)
    if hold_reason is not None:
        parts["hold"] = HoldFacts(hold_reason.value, parts["hold"].due_at)
    context = EmailContext(template=template, branding=branding, order=facts, **parts)
    return renderer.render(context)
