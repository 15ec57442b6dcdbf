"""Orders: intake body and the full order view."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from oms.adapters.payments.registry import GATEWAY_NAMES
from oms.api.schemas.common import (
    AddressIn,
    AddressOut,
    Currency,
    PersonName,
    Phone,
    Price,
    Sku,
    Strict,
    money_text,
    refuse_amounts_finer_than,
)
from oms.api.schemas.holds import HoldRead
from oms.domain import lengths
from oms.domain.catalogue import ProductKind
from oms.domain.customs import DutiesTerms
from oms.domain.orders import Customer, Order, OrderEvent
from oms.domain.payments import PaymentRecord
from oms.domain.returns import OrderReturnStatus, derive_order_return_status
from oms.domain.status import FulfillmentStatus, OrderStatus, PaymentStatus
from oms.domain.store_credit import STORE_CREDIT
from oms.services.editing import LineChange, OrderEdit
from oms.services.intake import ChannelPayment, LineRequest, PlaceOrder

__all__ = ["CancelRequest", "OrderCreate", "OrderRead", "OrderUpdate", "etag_of"]


def etag_of(order: Order) -> str:
    """The order's ETag: its version, quoted (send it back in If-Match to edit)."""
    return f'"{order.version}"'


HARD_MAX_LINES = 10_000

Channel = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=lengths.CHANNEL,
        pattern=r"^[a-z0-9_.-]+$",
    ),
]


class CustomerIn(Strict):
    email: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=lengths.EMAIL)] | None
    ) = None
    name: PersonName | None = None
    phone: Phone | None = None


class LineIn(Strict):
    sku: Sku
    quantity: int = Field(ge=1, le=1_000_000)
    unit_price: Price | None = Field(
        default=None, description="Defaults to the product's price (same currency only)"
    )
    tax: Price = Field(
        default=Decimal(0), description="Tax for the line, as the channel computed it"
    )


class PaymentIn(Strict):
    """A payment that came with the order, as the channel reports it."""

    gateway: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.GATEWAY)
    ] = Field(
        description=f"One of: {', '.join(GATEWAY_NAMES)}, or {STORE_CREDIT} (in ``payments``: "
        "spends the customer's store credit)"
    )
    amount: Price | None = Field(
        default=None,
        description="Defaults to what the order owes (store credit: up to the balance)",
    )
    captured: bool = Field(default=False, description="True when the channel already took it")
    token: Annotated[str, StringConstraints(max_length=200)] | None = None


class OrderCreate(Strict):
    channel: Channel = "api"
    external_id: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.EXTERNAL_ID),
        ]
        | None
    ) = Field(default=None, description="The channel's own id: unique per channel")
    currency: Currency
    customer: CustomerIn = Field(default_factory=CustomerIn)
    shipping_address: AddressIn | None = None
    billing_address: AddressIn | None = None
    lines: list[LineIn] = Field(min_length=1, max_length=HARD_MAX_LINES)
    allow_backorder: bool = True
    tags: list[Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)]] = Field(
        default_factory=list, max_length=50
    )
    note: Annotated[str, StringConstraints(max_length=5000)] | None = None
    shipping_price: Price = Decimal(0)
    shipping_tax: Price = Decimal(0)
    discount_codes: list[
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True, min_length=1, max_length=lengths.DISCOUNT_CODE
            ),
        ]
    ] = Field(default_factory=list, max_length=5)
    payment: PaymentIn | None = None
    payments: list[PaymentIn] = Field(
        default_factory=list,
        max_length=5,
        description="Several payments (store credit and a card): instead of payment",
    )
    reservation_id: UUID | None = Field(
        default=None, description="A cart reservation whose stock this order takes over"
    )
    service_level: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.SERVICE_LEVEL),
    ] = Field(default="standard", description="A service level of the routing profile")
    pickup_location: (
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True, min_length=1, max_length=lengths.LOCATION_CODE
            ),
        ]
        | None
    ) = Field(
        default=None,
        description="Code of the store where the customer collects the order (BOPIS); "
        "then no shipping address is needed",
    )
    store_location: (
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True, min_length=1, max_length=lengths.LOCATION_CODE
            ),
        ]
        | None
    ) = Field(
        default=None,
        description='A till sale (channel "pos", external_id = the receipt id): code of the '
        "store that sells and hands over the goods at once, from its own stock",
    )
    duties_terms: DutiesTerms | None = Field(
        default=None,
        description="Who pays duties and import taxes when the parcel crosses a border: "
        "DAP (the receiver) or DDP (the sender); the tenant's policy (default DAP) if left out",
    )

    @model_validator(mode="after")
    def _amounts_in_its_currency(self) -> OrderCreate:
        amounts: list[tuple[tuple[str | int, ...], Decimal | None]] = [
            (("shipping_price",), self.shipping_price),
            (("shipping_tax",), self.shipping_tax),
            (("payment", "amount"), None if self.payment is None else self.payment.amount),
        ]
        if self.payment is not None and self.payments:
            raise ValidationError.from_exception_data(
                "payments",
                [
                    InitErrorDetails(
                        type=PydanticCustomError("one_of", "give payment or payments, not both"),
                        loc=("payments",),
                        input=None,
                    )
                ],
            )
        for n, payment in enumerate(self.payments):
            amounts.append((("payments", n, "amount"), payment.amount))
        for n, line in enumerate(self.lines):
            if line.unit_price:  # most lines take the product's price, and no tax
                amounts.append((("lines", n, "unit_price"), line.unit_price))
            if line.tax:
                amounts.append((("lines", n, "tax"), line.tax))
        refuse_amounts_finer_than(self.currency, amounts)
        return self

    def to_command(self) -> PlaceOrder:
        return PlaceOrder(
            channel=self.channel,
            external_id=self.external_id,
            currency=self.currency,
            customer=Customer(
                email=None if self.customer.email is None else self.customer.email.lower(),
                name=self.customer.name,
                phone=self.customer.phone,
            ),
            shipping_address=None
            if self.shipping_address is None
            else self.shipping_address.to_domain(),
            billing_address=None
            if self.billing_address is None
            else self.billing_address.to_domain(),
            lines=tuple(
                LineRequest(
                    sku=line.sku, quantity=line.quantity, unit_price=line.unit_price, tax=line.tax
                )
                for line in self.lines
            ),
            allow_backorder=self.allow_backorder,
            tags=tuple(self.tags),
            note=self.note,
            shipping_price=self.shipping_price,
            shipping_tax=self.shipping_tax,
            discount_codes=tuple(self.discount_codes),
            payment=None
            if self.payment is None
            else ChannelPayment(
                gateway=self.payment.gateway,
                amount=self.payment.amount,
                captured=self.payment.captured,
                token=self.payment.token,
            ),
            payments=tuple(
                ChannelPayment(
                    gateway=p.gateway, amount=p.amount, captured=p.captured, token=p.token
                )
                for p in self.payments
            ),
            reservation_id=self.reservation_id,
            service_level=self.service_level,
            pickup_location=self.pickup_location,
            store_location=self.store_location,
            duties_terms=self.duties_terms,
        )


class CancelRequest(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class CustomerOut(BaseModel):
    email: str | None
    name: str | None
    phone: str | None


class LineQuantitiesOut(BaseModel):
    ordered: int
    allocated: int
    backordered: int
    shipped: int
    delivered: int
    cancelled: int
    returned: int


class LineOut(BaseModel):
    line_no: int
    sku: str
    name: str
    kind: ProductKind
    unit_price: str
    subtotal: str
    discount: str
    tax: str
    total: str
    quantity: int
    quantities: LineQuantitiesOut


class AllocationOut(BaseModel):
    line_no: int
    sku: str
    location_id: UUID
    location: str | None = Field(description="Location code")
    quantity: int = Field(description="Units still reserved (allocated - released - fulfilled)")
    allocated: int
    released: int
    fulfilled: int


class PaymentOut(BaseModel):
    id: UUID
    kind: str
    amount: str
    currency: str
    outcome: str
    gateway: str
    gateway_reference: str | None
    parent_id: UUID | None
    expires_at: datetime | None
    message: str | None
    created_at: datetime
    return_id: UUID | None = Field(default=None, description="The return a refund paid back")

    @classmethod
    def of(cls, record: PaymentRecord) -> PaymentOut:
        return cls(
            id=record.id,
            kind=record.kind.value,
            amount=money_text(record.amount, record.currency),
            currency=record.currency,
            outcome=record.outcome.value,
            gateway=record.gateway,
            gateway_reference=record.gateway_reference,
            parent_id=record.parent_id,
            expires_at=record.expires_at,
            message=record.message,
            created_at=record.created_at,
            return_id=record.return_id,
        )


class TotalsOut(BaseModel):
    subtotal: str
    discount_total: str
    shipping: str = Field(description="Shipping charged, after a free-shipping code")
    shipping_discount: str
    tax_total: str
    total: str


class EventOut(BaseModel):
    seq: int
    type: str
    actor: str
    reason: str | None
    data: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, event: OrderEvent) -> EventOut:
        return cls(
            seq=event.seq,
            type=event.type,
            actor=event.actor,
            reason=event.reason,
            data=event.data,
            created_at=event.created_at,
        )


class OrderRead(BaseModel):
    id: UUID
    number: int
    name: str
    channel: str
    external_id: str | None
    currency: str
    status: OrderStatus
    fulfillment_status: FulfillmentStatus
    payment_status: PaymentStatus
    return_status: OrderReturnStatus = Field(
        default=OrderReturnStatus.NONE,
        description="none, requested, partially_returned or returned: from the units "
        "received back, and requested while a return is open and none came back yet (one "
        "order read: GET /v1/orders/{id}; lists say none there, see "
        "GET /v1/returns?order_id=...)",
    )
    customer: CustomerOut
    shipping_address: AddressOut | None
    billing_address: AddressOut | None
    subtotal: str
    total: str
    totals: TotalsOut
    discount_codes: list[str]
    payments: list[PaymentOut]
    refund_due: str = Field(
        description="Money captured beyond the total and not yet refunded (owed back to the "
        "customer; a refund_due item is open while it is above zero)"
    )
    risk: dict[str, Any] | None
    customer_id: UUID | None
    service_level: str
    duties_terms: str = Field(default="DAP", description="DAP or DDP")
    promised_ship_by: date | None
    promised_deliver_by: date | None
    routing_profile_version: int | None
    pickup_location_id: UUID | None = Field(
        description="The store the customer collects the order in; null when shipped"
    )
    allow_backorder: bool
    tags: list[str]
    note: str | None
    lines: list[LineOut]
    allocations: list[AllocationOut]
    holds: list[HoldRead] = Field(description="Every hold, open and released, oldest first")
    released_at: datetime | None = Field(
        description="When the order was released for fulfilment; null until then"
    )
    timeline: list[EventOut] | None = Field(
        description="Every event, oldest first; omitted (null) in lists"
    )
    version: int
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, order: Order, *, with_timeline: bool = True, open_returns: int = 0) -> OrderRead:
        """``open_returns``: how many of its returns are open, when the caller counted them
        (``orders.get_order_with_open_returns``); 0 otherwise."""
        money = order.currency
        now = datetime.now(UTC)
        totals = order.totals or order.reprice()
        # One validation of the whole tree: nested dicts cost less than a model each.
        return cls.model_validate(
            {
                "id": order.id,
                "number": order.number,
                "name": f"#{order.number}",
                "channel": order.channel,
                "external_id": order.external_id,
                "currency": order.currency,
                "status": order.status,
                "fulfillment_status": order.fulfillment_status,
                "payment_status": order.payment_status,
                "return_status": derive_order_return_status(order.lines, open_returns=open_returns),
                "customer": {
                    "email": order.customer.email,
                    "name": order.customer.name,
                    "phone": order.customer.phone,
                },
                "shipping_address": AddressOut.of(order.shipping_address),
                "billing_address": AddressOut.of(order.billing_address),
                "subtotal": money_text(totals.subtotal, money),
                "total": money_text(totals.total, money),
                "totals": {
                    "subtotal": money_text(totals.subtotal, money),
                    "discount_total": money_text(totals.discount_total, money),
                    "shipping": money_text(totals.shipping, money),
                    "shipping_discount": money_text(totals.shipping_discount, money),
                    "tax_total": money_text(totals.tax_total, money),
                    "total": money_text(totals.total, money),
                },
                "discount_codes": [c.code for c in order.discount_codes],
                "payments": [PaymentOut.of(p) for p in order.payments],
                "refund_due": money_text(order.refund_due(), money),
                "risk": order.risk,
                "customer_id": order.customer_id,
                "service_level": order.service_level,
                "duties_terms": order.duties_terms or DutiesTerms.DAP.value,
                "promised_ship_by": order.promised_ship_by,
                "promised_deliver_by": order.promised_deliver_by,
                "routing_profile_version": order.routing_profile_version,
                "pickup_location_id": order.pickup_location_id,
                "allow_backorder": order.allow_backorder,
                "tags": order.tags,
                "note": order.note,
                "lines": [
                    {
                        "line_no": line.line_no,
                        "sku": line.sku,
                        "name": line.name,
                        "kind": line.kind,
                        "unit_price": money_text(line.unit_price, money),
                        "subtotal": money_text(line.subtotal(money), money),
                        "discount": money_text(line.discount, money),
                        "tax": money_text(line.tax, money),
                        "total": money_text(line.total(money), money),
                        "quantity": line.quantity,
                        "quantities": {
                            "ordered": line.quantity,
                            "allocated": line.allocated,
                            "backordered": line.backordered,
                            "shipped": line.shipped,
                            "delivered": line.delivered,
                            "cancelled": line.cancelled,
                            "returned": line.returned,
                        },
                    }
                    for line in order.lines
                ],
                "allocations": [
                    {
                        "line_no": a.line_no,
                        "sku": a.sku,
                        "location_id": a.location_id,
                        "location": a.location_code,
                        "quantity": a.open,
                        "allocated": a.quantity,
                        "released": a.released,
                        "fulfilled": a.fulfilled,
                    }
                    for a in order.allocations
                ],
                "holds": [HoldRead.of(h, now=now) for h in order.holds],
                "released_at": order.released_at,
                "timeline": [EventOut.of(e) for e in order.events] if with_timeline else None,
                "version": order.version,
                "created_at": order.created_at,
                "updated_at": order.updated_at,
            }
        )


class LineChangeIn(Strict):
    line_no: int | None = Field(default=None, ge=1, description="An existing line to change")
    sku: Sku | None = Field(default=None, description="A product to add as a new line")
    quantity: int = Field(ge=0, le=1_000_000, description="Units wanted; 0 removes the line")
    unit_price: Price | None = None

    @model_validator(mode="after")
    def _one_target(self) -> LineChangeIn:
        if (self.line_no is None) == (self.sku is None):
            raise ValueError("give line_no (to change a line) or sku (to add one), not both")
        if self.line_no is not None and self.unit_price is not None:
            raise ValueError("the price of an existing line cannot be changed")
        return self


class OrderUpdate(Strict):
    """Changes to an order not yet released; send ``If-Match`` with the order's ETag."""

    lines: list[LineChangeIn] = Field(default_factory=list, max_length=HARD_MAX_LINES)
    shipping_address: AddressIn | None = None

    def to_edit(self) -> OrderEdit:
        return OrderEdit(
            lines=tuple(
                LineChange(
                    quantity=c.quantity, line_no=c.line_no, sku=c.sku, unit_price=c.unit_price
                )
                for c in self.lines
            ),
            shipping_address=None
            if self.shipping_address is None
            else self.shipping_address.to_domain(),
        )
