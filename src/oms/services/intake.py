"""Order intake: every order exactly once, verified, priced, reserved, assessed, held or released.

One transaction, retried on deadlock, in this order (the lock order every use case keeps):

    replay?  idempotency key or (channel, external_id) seen -> return that order
    claim the Idempotency-Key row
    verify contact and addresses (pure)          -> findings become holds
    price lines, redeem discount codes           -> 422 naming a code that does not apply
    reserve stock (conditional updates)          -> backorder, or 409 when not allowed
    count the customer's order, number the order
    assess risk rules                            -> fraud_review hold
    record the channel's payment, if any
    place holds; release for fulfilment when nothing stops it
    insert order, lines, allocations, holds, payments, events, outbox
    (released at once: its fulfilment orders made first, written after it)
    refused (409, 422)?  (channel, external_id) seen now -> return that order

A copy of the order may commit between the replay check and the refusal, taking what this
copy was then refused for (the last unit in stock): on PostgreSQL the copy's reservation
waits for the first copy's row lock and then finds the row empty. So a refusal is the
answer only once the external id is looked up again (a fresh snapshot on PostgreSQL;
SQLite's writers never overlap).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import cast
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.catalogue import (
    Location,
    Product,
    ProductKind,
    location_named,
    order_line_refusal,
)
from oms.domain.errors import (
    FieldError,
    IdempotencyMismatch,
    InvalidRequest,
    OmsError,
)
from oms.domain.fulfilment import FulfillmentOrder
from oms.domain.holds import HoldReason
from oms.domain.ids import new_id
from oms.domain.money import is_known_currency, round_money
from oms.domain.orders import Actor, Customer, Order, OrderLine
from oms.domain.policies import TenantPolicies
from oms.domain.verification import Finding, verify_contact
from oms.services.carts import expire_due_in
from oms.services.common import retry_transient, utcnow
from oms.services.discounts import apply_codes
from oms.services.fulfilment import sync_fulfilment
from oms.services.intake_payments import ChannelPayment, take_channel_payments
from oms.services.intake_stock import held_by_cart, reserve_order_stock
from oms.services.payments import (
    GatewayProvider,
    capture_shipped_value,
    refund_overpayment,
)
from oms.services.persistence import (
    SYSTEM,
    changes_to_save,
    new_hold,
    outbox_messages,
    settle_order,
)
from oms.services.ports import (
    IdempotencyRecord,
    TransientStorageError,
    UnitOfWork,
    UnitOfWorkFactory,
)
from oms.services.risk import assess_order
from oms.services.routing import NO_GEOCODER, Geocoder

__all__ = ["ChannelPayment", "LineRequest", "OnCreated", "PlaceOrder", "PlacedOrder", "place_order"]

PLACE_ORDER = "place_order"


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int
    unit_price: Decimal | None = None
    tax: Decimal = Decimal(0)


@dataclass(frozen=True)
class PlaceOrder:
    currency: str
    lines: tuple[LineRequest, ...]
    channel: str = "api"
    external_id: str | None = None
    customer: Customer = field(default_factory=Customer)
    shipping_address: Address | None = None
    billing_address: Address | None = None
    allow_backorder: bool = True
    tags: tuple[str, ...] = ()
    note: str | None = None
    shipping_price: Decimal = Decimal(0)
    shipping_tax: Decimal = Decimal(0)
    discount_codes: tuple[str, ...] = ()
    payment: ChannelPayment | None = None
    payments: tuple[ChannelPayment, ...] = ()  # more than one (store credit and a card)
    reservation_id: UUID | None = None
    service_level: str = "standard"
    pickup_location: str | None = None  # a store's code: the customer collects it there
    # A store's order naming a SKU the catalogue lacks is taken, the line kept (backordered:
    # no stock can be found for it) and the order held (unknown_sku), instead of refused.
    hold_unknown_skus: bool = False
    store_location: str | None = None  # a till sale: sold and handed over there (services.pos)
    duties_terms: str | None = None  # DAP or DDP; None: the tenant's policy


@dataclass(frozen=True)
class PlacedOrder:
    """The order, and whether this call created it (False: an earlier copy is returned)."""

    order: Order
    created: bool


# Writes of the caller's own beside a new order, in its transaction (``place_order``).
OnCreated = Callable[[UnitOfWork, PlacedOrder], None]


def _unknown_skus(
    command: PlaceOrder, tenant_id: UUID, products: dict[str, Product]
) -> tuple[dict[str, Product], str | None]:
    """For a store's order (``hold_unknown_skus``): ``products`` with a stand-in for each SKU
    the catalogue lacks (physical, never stocked, so its line is backordered), and the note
    of the ``unknown_sku`` hold naming those lines; else ``products`` and None."""
    if not command.hold_unknown_skus:
        return products, None
    unknown = [(i, r) for i, r in enumerate(command.lines) if r.sku not in products]
    if not unknown:
        return products, None
    stand_ins = {
        r.sku: Product(
            id=new_id(),
            tenant_id=tenant_id,
            sku=r.sku,
            name=f"Unknown SKU {r.sku}",
            price=r.unit_price if r.unit_price is not None else Decimal(0),
            currency=command.currency,
        )
        for _, r in unknown
    }
    lines = "; ".join(f"line {i + 1}: SKU {r.sku!r} x {r.quantity}" for i, r in unknown)
    note = (
        f"not in the catalogue: {lines}. Add the product (or map the SKU on the channel) "
        "and its stock, then release."
    )
    return {**products, **stand_ins}, note


def _build_lines(command: PlaceOrder, products: dict[str, Product]) -> list[OrderLine]:
    errors: list[FieldError] = []
    lines: list[OrderLine] = []
    for i, request in enumerate(command.lines):
        pointer = f"#/lines/{i}"
        product = products.get(request.sku)
        refusal = order_line_refusal(product, request.sku)
        if refusal is not None:
            errors.append(FieldError(f"{pointer}/sku", refusal))
            continue
        assert product is not None  # order_line_refusal refuses a missing product
        price = request.unit_price
        if price is None:
            if product.currency != command.currency:
                errors.append(
                    FieldError(
                        f"{pointer}/unit_price",
                        f"the product is priced in {product.currency}; give a unit_price "
                        f"in {command.currency}",
                    )
                )
                continue
            price = product.price
        lines.append(
            OrderLine(
                line_no=i + 1,
                sku=product.sku,
                name=product.name,
                kind=product.kind,
                quantity=request.quantity,
                unit_price=round_money(price, command.currency),
                tax=round_money(request.tax, command.currency),
            )
        )
    if errors:
        raise InvalidRequest("The order cannot be placed as given", errors)
    return lines


def _replay(
    uow: UnitOfWork, tenant_id: UUID, record: IdempotencyRecord, fingerprint: str
) -> PlacedOrder:
    if record.operation != PLACE_ORDER or record.fingerprint != fingerprint:
        raise IdempotencyMismatch(
            "This Idempotency-Key was used with a different request", key=record.key
        )
    if record.resource_id is None:
        raise TransientStorageError("idempotency key claimed but not yet attached")
    order = uow.orders.get(tenant_id, record.resource_id)
    if order is None:
        raise TransientStorageError("idempotent order not visible yet")
    return PlacedOrder(order=order, created=False)


def _existing(
    uow: UnitOfWork,
    tenant_id: UUID,
    command: PlaceOrder,
    idempotency_key: str | None,
    fingerprint: str,
    at: datetime,
) -> PlacedOrder | None:
    """The order a repeated request stands for, or None after claiming its key."""
    if idempotency_key is not None:
        record = uow.idempotency.get(tenant_id, idempotency_key)
        if record is not None:
            return _replay(uow, tenant_id, record, fingerprint)
    existing = _by_external_id(uow, tenant_id, command)
    if existing is not None:
        return existing
    if idempotency_key is not None and not uow.idempotency.claim(
        tenant_id, idempotency_key, operation=PLACE_ORDER, fingerprint=fingerprint, at=at
    ):
        # Another request with this key committed while we waited for its row.
        record = uow.idempotency.get(tenant_id, idempotency_key)
        if record is None:
            raise TransientStorageError("idempotency key vanished")
        return _replay(uow, tenant_id, record, fingerprint)
    return None


def _by_external_id(uow: UnitOfWork, tenant_id: UUID, command: PlaceOrder) -> PlacedOrder | None:
    """The stored order with the command's ``(channel, external_id)``, if any."""
    if command.external_id is None:
        return None
    existing_id = uow.orders.id_by_external_id(tenant_id, command.channel, command.external_id)
    if existing_id is None:
        return None
    existing = uow.orders.get(tenant_id, existing_id)
    assert existing is not None
    return PlacedOrder(order=existing, created=False)


def _holds_to_place(
    order: Order,
    findings: tuple[Finding, ...],
    risk_details: list[str],
    unknown_lines: str | None = None,
) -> list[tuple[HoldReason, str]]:
    grouped: dict[HoldReason, list[str]] = defaultdict(list)
    for finding in findings:
        grouped[finding.reason].append(f"{finding.pointer}: {finding.detail}")
    wanted = [(reason, "; ".join(details)) for reason, details in grouped.items()]
    if risk_details:
        wanted.append((HoldReason.FRAUD_REVIEW, "; ".join(risk_details)))
    wanted.extend((reason, note) for reason, note in order.routing_holds().items() if note)
    if unknown_lines is not None:
        wanted.append((HoldReason.UNKNOWN_SKU, unknown_lines))
    return wanted


def _pickup_store(uow: UnitOfWork, tenant_id: UUID, code: str | None) -> Location | None:
    """The store a pickup order is collected in: active, visible, and taking pickups."""
    if code is None:
        return None
    found = location_named(uow.locations.visible_to(tenant_id), code, tenant_id)
    if found is None or not found.active or not found.can_pickup:
        raise InvalidRequest(
            "Unknown pickup location",
            [FieldError("#/pickup_location", f"no active location {code!r} that offers pickup")],
        )
    return found


def _till_store(uow: UnitOfWork, tenant_id: UUID, code: str) -> Location:
    """The store a till sale happens in: active and visible (its stock only is sold)."""
    found = location_named(uow.locations.visible_to(tenant_id), code, tenant_id)
    if found is None or not found.active:
        raise InvalidRequest(
            "Unknown store location",
            [FieldError("#/store_location", f"no active location {code!r}")],
        )
    return found


def place_in(
    uow: UnitOfWork,
    gateways: GatewayProvider,
    geocoder: Geocoder | None,
    tenant_id: UUID,
    command: PlaceOrder,
    actor: Actor,
    idempotency_key: str | None,
    fingerprint: str,
    at: datetime,
) -> PlacedOrder:
    """Place the order in ``uow``'s transaction, which the caller commits when created."""
    if not is_known_currency(command.currency):
        raise InvalidRequest(
            "Unknown currency",
            [FieldError("#/currency", f"{command.currency!r} is not a currency in use (ISO 4217)")],
        )
    existing = _existing(uow, tenant_id, command, idempotency_key, fingerprint, at)
    if existing is not None:
        return existing
    try:
        return _place_new(uow, gateways, geocoder, tenant_id, command, actor, idempotency_key, at)
    except OmsError:
        # A copy that committed since the check above may have taken what this one was
        # refused for (module docstring): then its order is the answer, not the refusal.
        meanwhile = _by_external_id(uow, tenant_id, command)
        if meanwhile is None:
            raise
        return meanwhile


def _place_new(
    uow: UnitOfWork,
    gateways: GatewayProvider,
    geocoder: Geocoder | None,
    tenant_id: UUID,
    command: PlaceOrder,
    actor: Actor,
    idempotency_key: str | None,
    at: datetime,
) -> PlacedOrder:
    """Place a new order (no copy of it found): every step from the settings to the insert."""
    settings = uow.tenants.intake_settings(tenant_id, at)
    policies: TenantPolicies = settings.policies
    routing_profile = settings.routing_profile
    levels = routing_profile.service_levels
    if command.service_level not in levels:
        raise InvalidRequest(
            "Unknown service level",
            [FieldError("#/service_level", f"one of: {', '.join(sorted(levels))}")],
        )
    if settings.carts_due:
        expire_due_in(uow, tenant_id, at)
    products = uow.products.by_skus(tenant_id, [line.sku for line in command.lines])
    products, unknown = _unknown_skus(command, tenant_id, products)
    lines = _build_lines(command, products)
    store = _pickup_store(uow, tenant_id, command.pickup_location)
    if command.store_location is not None:
        store = _till_store(uow, tenant_id, command.store_location)
    verified = verify_contact(
        command.customer,
        command.shipping_address,
        command.billing_address,
        requires_shipping=store is None
        and any(line.kind is not ProductKind.DIGITAL for line in lines),
    )
    if too_long := verified.storage_problems():
        raise InvalidRequest("Some values are too long to store", too_long)
    order = Order(
        id=new_id(),
        tenant_id=tenant_id,
        number=0,
        channel=command.channel,
        external_id=command.external_id,
        currency=command.currency,
        customer=verified.customer,
        shipping_address=verified.shipping_address,
        billing_address=verified.billing_address,
        lines=lines,
        created_at=at,
        updated_at=at,
        allow_backorder=command.allow_backorder,
        tags=list(command.tags),
        note=command.note,
        shipping_price=round_money(command.shipping_price, command.currency),
        shipping_tax=round_money(command.shipping_tax, command.currency),
        service_level=command.service_level,
        pickup_location_id=None if store is None else store.id,
        duties_terms=command.duties_terms or policies.duties_terms,
    )
    if command.discount_codes:
        order.discount_codes = apply_codes(
            uow,
            tenant_id=tenant_id,
            codes=command.discount_codes,
            subtotal=order.reprice().subtotal,
            currency=order.currency,
            customer_email=order.customer.email,
            at=at,
        )
    totals = order.reprice()
    held, cart_note = held_by_cart(uow, tenant_id, command.reservation_id, order.id, at)
    reserved, routed = reserve_order_stock(
        uow,
        order,
        products,
        held,
        geocoder or NO_GEOCODER,
        at,
        routing_profile,
        settings.carrier_rate_cards,
        store,
    )
    order.allocations = reserved.allocations
    order.routing = routed.record
    order.routing_profile_version = routed.profile_version
    order.promised_ship_by = routed.promised_ship_by
    order.promised_deliver_by = routed.promised_deliver_by
    is_new_customer = True
    if order.customer.email is not None:
        customer = uow.customers.record_order(
            tenant_id,
            email=order.customer.email,
            name=order.customer.name,
            phone=order.customer.phone,
            at=at,
        )
        order.customer_id = customer.id
        is_new_customer = customer.orders_count == 0
    order.number = uow.tenants.next_order_number(tenant_id)
    risk = assess_order(
        uow,
        tenant_id=tenant_id,
        total=totals.total,
        currency=order.currency,
        email=order.customer.email,
        shipping_address=order.shipping_address,
        billing_address=order.billing_address,
        is_new_customer=is_new_customer,
        at=at,
        rules=settings.risk_rules,
    )
    order.risk = risk.summary()
    order.refresh_statuses(at)
    order.record(
        "order.placed",
        actor=actor,
        at=at,
        data={
            "channel": command.channel,
            "external_id": command.external_id,
            "total": str(totals.total),
            "discount_codes": [c.code for c in order.discount_codes],
            "allocations": [
                {
                    "line_no": a.line_no,
                    "sku": a.sku,
                    "location": a.location_code,
                    "quantity": a.quantity,
                }
                for a in order.allocations
            ],
            "backordered": {str(n): q for n, q in sorted(reserved.unfilled.items())},
            "verification": [
                {"reason": f.reason.value, "pointer": f.pointer, "detail": f.detail}
                for f in verified.findings
            ],
            "risk": order.risk,
            "reservation": cart_note,
        },
    )
    if command.payment is not None or command.payments:
        gateways = take_channel_payments(
            uow, order, _pointed(command), gateways, policies, actor, at
        )
    for reason, note in _holds_to_place(
        order,
        verified.findings,
        [m.detail for m in risk.matches],
        unknown,
    ):
        hold = new_hold(reason, policies=policies, actor=SYSTEM, at=at, note=note)
        order.place_hold(hold, actor=SYSTEM, at=at)
    # A channel may report more taken than the order totals: given back by the policy.
    refund_overpayment(order, gateways=gateways, policies=policies, actor=actor, at=at)
    settle_order(order, policies=policies, at=at)
    capture_shipped_value(order, gateways=gateways, policies=policies, actor=actor, at=at)
    placed = list(order.new_events)
    outbox = outbox_messages(order, placed)
    released = _released_at_once(order, at)
    if released:  # the release's save, folded into the one insert: its events' messages
        outbox += outbox_messages(order, changes_to_save(order, at=at)[len(placed) :])
    if not uow.orders.add(order, outbox=outbox):
        # A copy with the same external id committed after our check: start over to
        # return it; this transaction (and its reservations) is rolled back.
        raise TransientStorageError("duplicate external id raced")
    uow.fulfilment.add_many(released)
    if idempotency_key is not None:
        uow.idempotency.attach(tenant_id, idempotency_key, order.id)
    return PlacedOrder(order=order, created=True)


class _NotWrittenYet:
    """Stands for the unit of work while ``sync_fulfilment`` makes a new order's first
    fulfilment orders: it keeps what is added, to write after the order's row."""

    def __init__(self) -> None:
        self.fulfilment = self
        self.added: list[FulfillmentOrder] = []

    def add(self, fo: FulfillmentOrder) -> None:
        self.added.append(fo)


def _released_at_once(order: Order, at: datetime) -> list[FulfillmentOrder]:
    """A new order released at once (paid and clean): its fulfilment orders, made now (their
    events join its own), to write after it; none when it is not released. Written with
    the order, not saved after it: one insert, with no stored rows to read back."""
    if order.released_at is None:
        return []
    pending = _NotWrittenYet()
    sync_fulfilment(cast(UnitOfWork, pending), order, at, known=[])
    return pending.added


def _pointed(command: PlaceOrder) -> tuple[tuple[str, ChannelPayment], ...]:
    """The order's payments, each with the pointer of its entry in the request."""
    first = () if command.payment is None else (("#/payment", command.payment),)
    return first + tuple((f"#/payments/{n}", p) for n, p in enumerate(command.payments))


def place_order(
    *,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    tenant_id: UUID,
    command: PlaceOrder,
    actor: Actor,
    idempotency_key: str | None = None,
    fingerprint: str = "",
    at: datetime | None = None,
    geocoder: Geocoder | None = None,
    on_created: OnCreated | None = None,
) -> PlacedOrder:
    """Take an order exactly once: verify, price, reserve, assess, hold or release it.

    ``on_created`` writes what the caller keeps beside a new order (a channel's copy and
    sync log entry) in the order's transaction, before its commit.

    The same ``(channel, external_id)`` or ``idempotency_key`` returns the first order,
    also when the copies arrive together; the same key with another ``fingerprint`` is
    refused. With ``allow_backorder`` false and stock short, nothing is written.
    """
    when = at or utcnow()

    def once() -> PlacedOrder:
        with uow_factory() as uow:
            placed = place_in(
                uow,
                gateways,
                geocoder,
                tenant_id,
                command,
                actor,
                idempotency_key,
                fingerprint,
                when,
            )
            if placed.created:
                if on_created is not None:
                    on_created(uow, placed)
                uow.commit()
            return placed

    return retry_transient(once)
