"""The order aggregate: lines with quantities per state, allocations and the timeline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.catalogue import ProductKind
from oms.domain.errors import FieldError, IllegalTransition, InvalidRequest, NotFound
from oms.domain.holds import FLAGS_ONLY, SYSTEM_ONLY, Hold, HoldReason
from oms.domain.lifecycle import OrderAction, ensure_allowed
from oms.domain.money import MAX_AMOUNT, round_money
from oms.domain.payments import (
    PaymentOutcome,
    PaymentRecord,
    PaymentSummary,
    derive_payment_status,
    is_payment_secured,
    kept,
    refund_due,
    summarize,
)
from oms.domain.pricing import DiscountCode, LineInput, OrderTotals, price_order
from oms.domain.status import (
    FulfillmentStatus,
    OrderStatus,
    PaymentStatus,
    derive_fulfillment_status,
    derive_order_status,
)

__all__ = ["SYSTEM", "Actor", "Allocation", "Customer", "Order", "OrderEvent", "OrderLine"]


@dataclass(frozen=True)
class Actor:
    """Who did something: ``kind`` is api_key, user or system."""

    kind: str
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


SYSTEM = Actor("system", "oms")


@dataclass(frozen=True)
class Customer:
    email: str | None = None
    name: str | None = None
    phone: str | None = None


@dataclass
class OrderLine:
    """One line; ``quantity`` = allocated + backordered + shipped + cancelled always."""

    line_no: int
    sku: str
    name: str
    kind: ProductKind
    quantity: int
    unit_price: Decimal
    allocated: int = 0
    backordered: int = 0
    shipped: int = 0
    delivered: int = 0
    cancelled: int = 0
    returned: int = 0
    tax: Decimal = Decimal(0)
    discount: Decimal = Decimal(0)

    @property
    def billable(self) -> int:
        """Units the customer pays for: everything ordered that was not cancelled."""
        return self.quantity - self.cancelled

    def subtotal(self, currency: str) -> Decimal:
        """Unit price times billable units, rounded to the currency's minor unit."""
        return round_money(self.unit_price * self.billable, currency)

    def total(self, currency: str) -> Decimal:
        """What the line costs after its share of discounts, with its tax."""
        return self.subtotal(currency) - self.discount + self.tax

    @property
    def wanted(self) -> int:
        """Units still to ship: neither cancelled nor shipped yet."""
        return self.quantity - self.cancelled - self.shipped

    @property
    def quantities_balance(self) -> bool:
        """The line invariant every change must keep."""
        return self.quantity == self.allocated + self.backordered + self.shipped + self.cancelled


@dataclass
class Allocation:
    """Stock of ``sku`` held at ``location_id`` for line ``line_no`` (component SKU for bundles)."""

    id: UUID
    line_no: int
    sku: str
    location_id: UUID
    quantity: int
    released: int = 0
    fulfilled: int = 0
    created_at: datetime | None = None
    location_code: str | None = None

    @property
    def open(self) -> int:
        """Units still reserved in the inventory level."""
        return self.quantity - self.released - self.fulfilled


@dataclass(frozen=True)
class OrderEvent:
    """One entry of the order's immutable timeline."""

    seq: int
    type: str
    actor: str
    created_at: datetime
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Order:
    """An order of one tenant as it arrived, and everything that happened to it since."""

    id: UUID
    tenant_id: UUID
    number: int
    channel: str
    external_id: str | None
    currency: str
    customer: Customer
    shipping_address: Address | None
    billing_address: Address | None
    lines: list[OrderLine]
    created_at: datetime
    allow_backorder: bool = True
    tags: list[str] = field(default_factory=list)
    note: str | None = None
    allocations: list[Allocation] = field(default_factory=list)
    events: list[OrderEvent] = field(default_factory=list)
    updated_at: datetime | None = None
    version: int = 1
    status: OrderStatus = OrderStatus.OPEN
    fulfillment_status: FulfillmentStatus = FulfillmentStatus.UNFULFILLED
    payment_status: PaymentStatus = PaymentStatus.PENDING
    holds: list[Hold] = field(default_factory=list)
    released_at: datetime | None = None
    shipping_price: Decimal = Decimal(0)
    shipping_tax: Decimal = Decimal(0)
    discount_codes: list[DiscountCode] = field(default_factory=list)
    totals: OrderTotals | None = None
    payments: list[PaymentRecord] = field(default_factory=list)
    customer_id: UUID | None = None
    risk: dict[str, Any] | None = None
    service_level: str = "standard"
    routing: dict[str, Any] | None = None
    routing_profile_version: int | None = None
    promised_ship_by: date | None = None
    promised_deliver_by: date | None = None
    pickup_location_id: UUID | None = None
    # Who pays duties and taxes when the parcel crosses a border: "DDP" (the sender) or
    # "DAP" (the receiver); set at intake (oms.domain.customs.DutiesTerms).
    duties_terms: str | None = None
    # The highest timeline number so far, for when the timeline itself was not read.
    last_seq: int = 0
    new_events: list[OrderEvent] = field(default_factory=list, repr=False)
    new_payments: list[PaymentRecord] = field(default_factory=list, repr=False)
    # What the order's fulfilment orders are known to be in step with (as read under the
    # order's lock, or as last synced): ``oms.services.fulfilment.sync_fulfilment`` decides.
    fulfilment_in_step: object = field(default=None, repr=False, compare=False)
    # The last payment summary: (at, currency, the records it summed, the summary). Every
    # change of an order derives its statuses again, so a paid order at intake would
    # replay the same records a dozen times. The records are immutable, so the same
    # records (by identity) in the same order at the same time sum to the same summary.
    _summary_memo: tuple[datetime, str, tuple[PaymentRecord, ...], PaymentSummary] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def reprice(self) -> OrderTotals:
        """Compute every total again from the lines, shipping, taxes and discount codes."""
        totals = price_order(
            currency=self.currency,
            lines=[
                LineInput(ln.line_no, ln.unit_price, ln.billable, ln.tax)
                for ln in self.lines
                if ln.billable > 0
            ],
            shipping=self.shipping_price,
            shipping_tax=self.shipping_tax,
            discounts=self.discount_codes,
        )
        largest = max(
            [totals.subtotal, totals.total, *(p.total for p in totals.lines)], default=Decimal(0)
        )
        if largest >= MAX_AMOUNT:
            raise InvalidRequest(
                "The order's amounts are too large",
                [FieldError("#/lines", f"totals must stay below {MAX_AMOUNT:,.0f}")],
            )
        share = {priced.line_no: priced.discount for priced in totals.lines}
        for line in self.lines:
            line.discount = share.get(line.line_no, Decimal(0))
        self.totals = totals
        return totals

    @property
    def subtotal(self) -> Decimal:
        """Merchandise before discounts."""
        return self.reprice().subtotal if self.totals is None else self.totals.subtotal

    @property
    def total(self) -> Decimal:
        """What the customer pays: merchandise less discounts, plus shipping and taxes."""
        return self.reprice().total if self.totals is None else self.totals.total

    def payment_summary(self, now: datetime) -> PaymentSummary:
        """What the payment records add up to at ``now`` (authorizations may have expired)."""
        records = self.payments
        memo = self._summary_memo
        if (
            memo is not None
            and memo[0] == now
            and memo[1] == self.currency
            and len(memo[2]) == len(records)
            and all(a is b for a, b in zip(memo[2], records, strict=True))
        ):
            return memo[3]
        summary = summarize(records, currency=self.currency, now=now)
        self._summary_memo = (now, self.currency, tuple(records), summary)
        return summary

    def payment_secured(self, now: datetime) -> bool:
        """Authorized or paid for the whole total, counting only what is still held at ``now``."""
        return is_payment_secured(self.payment_summary(now), total=self.payable_total)

    def refund_due(self) -> Decimal:
        """Money captured beyond the total, owed back to the customer (0 when none)."""
        return round_money(refund_due(kept(self.payments), total=self.payable_total), self.currency)

    @property
    def return_credit(self) -> Decimal:
        """What returns paid back (succeeded refunds linked to a return): goods that came
        back are no longer paid for, so the order owes that much less."""
        return sum(
            (
                p.amount
                for p in self.payments
                if p.return_id is not None and p.outcome is PaymentOutcome.SUCCEEDED
            ),
            Decimal(0),
        )

    @property
    def payable_total(self) -> Decimal:
        """The total less what returns paid back: what the captures must cover."""
        return self.total - self.return_credit

    def add_payment(self, record: PaymentRecord) -> None:
        """Keep a gateway's answer; it is saved with the change that asked for it."""
        self.payments.append(record)
        self.new_payments.append(record)

    def assign_units(self, placed: Mapping[int, int]) -> None:
        """Set each line's allocated units from ``placed`` (line -> units reserved); the rest
        of what it still wants is backordered. Digital lines need no stock."""
        for line in self.lines:
            if line.kind is ProductKind.DIGITAL:
                line.allocated, line.backordered = line.wanted, 0
            else:
                line.allocated = placed.get(line.line_no, 0)
                line.backordered = line.wanted - line.allocated

    @property
    def backorder_note(self) -> str | None:
        """What the order waits for ("waiting for stock: SKU x2, ..."), or None."""
        short = [f"{line.sku} x{line.backordered}" for line in self.lines if line.backordered]
        return "waiting for stock: " + ", ".join(short) if short else None

    @property
    def unpriced_note(self) -> str | None:
        """Which parcels its routing planned no carrier service prices, or None."""
        packages = (self.routing or {}).get("packages", [])
        stuck = [str(p.get("location")) for p in packages if p.get("unpriced")]
        if not stuck:
            return None
        address = self.shipping_address
        place = "" if address is None else address.country.upper()
        if address is not None and address.region:
            place += f"-{address.region.upper()}"
        return (
            f"no carrier service prices a parcel from {', '.join(stuck)} to {place or 'nowhere'}"
            ": correct the address, or release this hold and name a service when shipping"
        )

    def routing_holds(self) -> dict[HoldReason, str | None]:
        """The holds its routing decides, each with its note (None: the hold is not due)."""
        return {
            HoldReason.BACKORDERED: self.backorder_note,
            HoldReason.NO_CARRIER_SERVICE: self.unpriced_note,
        }

    def value_shipped(self) -> Decimal:
        """What the goods that left are worth: each line's total in proportion to its shipped
        units, plus shipping (and its tax) with the first physical shipment. Rounding per
        line, and equal to ``total`` once every billable unit has shipped."""
        totals = self.totals or self.reprice()
        lines = [line for line in self.lines if line.billable > 0]
        if not any(line.shipped for line in lines):
            return Decimal(0)
        line_totals = {line.line_no: line.total(self.currency) for line in lines}
        physical = any(line.shipped for line in lines if line.kind is not ProductKind.DIGITAL)
        everything = all(line.shipped >= line.billable for line in lines)
        value = sum(
            (
                line_totals[line.line_no]
                if line.shipped >= line.billable
                else round_money(
                    line_totals[line.line_no] * line.shipped / line.billable, self.currency
                )
                for line in lines
            ),
            Decimal(0),
        )
        if not (physical or everything):
            return value
        return value + totals.total - sum(line_totals.values(), Decimal(0))

    def record_progress(self, line_no: int, *, shipped: int, delivered: int) -> None:
        """Set a line's shipped and delivered units (counted from its fulfilment orders);
        shipped units stop being allocated."""
        line = self.line(line_no)
        line.allocated -= shipped - line.shipped
        line.shipped = shipped
        line.delivered = delivered
        if line.allocated < 0 or not line.quantities_balance:
            raise IllegalTransition(f"line {line_no}: more shipped than was allocated")

    def cancel_line_units(self, line_no: int, units: int) -> None:
        """Cancel ``units`` of a line that are allocated (not shipped) and reprice."""
        line = self.line(line_no)
        if not 0 <= units <= line.allocated:
            raise IllegalTransition(f"line {line_no}: only {line.allocated} units can be cancelled")
        line.allocated -= units
        line.cancelled += units
        self.reprice()

    def line(self, line_no: int) -> OrderLine:
        """The line numbered ``line_no``."""
        return next(line for line in self.lines if line.line_no == line_no)

    def record(
        self,
        event_type: str,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> OrderEvent:
        """Append a timeline event; it is saved with the change that caused it."""
        event = OrderEvent(
            seq=max(self.last_seq, len(self.events)) + 1,
            type=event_type,
            actor=str(actor),
            created_at=at,
            reason=reason,
            data=data or {},
        )
        self.events.append(event)
        self.new_events.append(event)
        self.last_seq = event.seq
        return event

    def refresh_statuses(self, now: datetime | None = None) -> None:
        """Derive every status axis again from the lines, holds and payment records."""
        self.fulfillment_status = derive_fulfillment_status(self.lines)
        self.status = derive_order_status(self.lines, open_holds=len(self.blocking_holds))
        at = now or self.updated_at or self.created_at
        self.payment_status = derive_payment_status(self.payment_summary(at), total=self.total)

    def status_snapshot(self) -> dict[str, str]:
        """The status axes as they are now, for the before/after of an event."""
        return {
            "status": self.status.value,
            "fulfillment_status": self.fulfillment_status.value,
            "payment_status": self.payment_status.value,
        }

    def change(
        self, event_type: str, *, actor: Actor, at: datetime, reason: str | None = None
    ) -> _Change:
        """Make a change and record it as one event with the statuses before and after.

        The block fills the event's data; if it raises, no event is recorded.
        """
        return _Change(self, event_type, actor, at, reason)

    @property
    def open_holds(self) -> list[Hold]:
        """Every open hold, flags included: the order's entries in the exceptions queue."""
        return [hold for hold in self.holds if hold.is_open]

    @property
    def blocking_holds(self) -> list[Hold]:
        """The open holds that keep the order (and its fulfilment) from going on."""
        return [hold for hold in self.holds if hold.stops_fulfilment]

    def place_hold(
        self,
        hold: Hold,
        *,
        actor: Actor,
        at: datetime,
    ) -> Hold:
        """Put the order on hold; an open hold of the same reason is returned instead. A flag
        (``refund_due``) may be raised in any state and stops nothing."""
        flag = hold.reason in FLAGS_ONLY
        ensure_allowed(OrderAction.FLAG if flag else OrderAction.PLACE_HOLD, self.status)
        for existing in self.open_holds:
            if existing.reason is hold.reason:
                return existing
        with self.change("hold.placed", actor=actor, at=at, reason=hold.note) as data:
            self.holds.append(hold)
            data.update(
                hold_id=str(hold.id), reason=hold.reason.value, due_at=hold.due_at.isoformat()
            )
        return hold

    def release_hold(
        self, hold_id: UUID, *, actor: Actor, at: datetime, note: str | None, manual: bool = True
    ) -> Hold:
        """Release one open hold; a person must say why (``note``). What only the system
        raises (``refund_due``) only the system releases, once its cause is gone."""
        hold = next((h for h in self.holds if h.id == hold_id), None)
        if hold is None:
            raise NotFound(f"No hold {hold_id} on this order")
        if manual and hold.reason in SYSTEM_ONLY:
            raise IllegalTransition(
                f"A {hold.reason.value} item closes by itself once nothing is owed back: "
                "refund the money (POST .../payments/refund; gateway manual for a refund "
                "made elsewhere)",
                hold_id=str(hold_id),
            )
        flag = hold.reason in FLAGS_ONLY
        ensure_allowed(OrderAction.FLAG if flag else OrderAction.RELEASE_HOLD, self.status)
        if not hold.is_open:
            raise IllegalTransition("This hold was already released", hold_id=str(hold_id))
        if manual and not (note and note.strip()):
            raise InvalidRequest(
                "Say why the hold is released", [FieldError("#/note", "a note is required")]
            )
        with self.change("hold.released", actor=actor, at=at, reason=note) as data:
            hold.released_at = at
            hold.released_by = str(actor)
            hold.release_note = note
            data.update(hold_id=str(hold.id), reason=hold.reason.value)
        return hold

    def release_holds_of(
        self, reason: HoldReason, *, actor: Actor, at: datetime, note: str
    ) -> list[Hold]:
        """Release every open hold of ``reason`` (the system does this when the cause is gone)."""
        return [
            self.release_hold(h.id, actor=actor, at=at, note=note, manual=False)
            for h in self.open_holds
            if h.reason is reason
        ]

    def release_for_fulfilment(self, *, payment_secured: bool, actor: Actor, at: datetime) -> bool:
        """Release the order to the warehouses once unheld and paid for; True if it happened now."""
        if self.released_at is not None or self.status is not OrderStatus.OPEN:
            return False
        if not payment_secured or self.blocking_holds:
            return False
        ensure_allowed(OrderAction.RELEASE, self.status, released=False)
        with self.change("order.released", actor=actor, at=at) as data:
            self.released_at = at
            data["released_at"] = at.isoformat()
        return True

    def cancel(self, *, actor: Actor, at: datetime, reason: str | None) -> list[Allocation]:
        """Cancel every unit not yet shipped and return the allocations to release.

        Cancelling an already cancelled order changes nothing and returns nothing.
        """
        if self.status is OrderStatus.CANCELLED:
            return []
        ensure_allowed(OrderAction.CANCEL, self.status)
        if any(line.shipped for line in self.lines):
            raise IllegalTransition(
                "Part of this order has shipped; cancel the unshipped lines instead",
                order_id=str(self.id),
            )
        released: list[Allocation] = []
        with self.change("order.cancelled", actor=actor, at=at, reason=reason) as data:
            for allocation in self.allocations:
                if allocation.open > 0:
                    released.append(
                        Allocation(
                            id=allocation.id,
                            line_no=allocation.line_no,
                            sku=allocation.sku,
                            location_id=allocation.location_id,
                            quantity=allocation.open,
                        )
                    )
                    allocation.released += allocation.open
            cancelled_units: dict[str, int] = {}
            for line in self.lines:
                units = line.allocated + line.backordered
                line.cancelled += units
                line.allocated = 0
                line.backordered = 0
                cancelled_units[str(line.line_no)] = units
            for hold in self.blocking_holds:
                hold.released_at = at
                hold.released_by = str(actor)
                hold.release_note = "order cancelled"
            self.reprice()
            data["cancelled_units"] = cancelled_units
            data["released"] = [
                {"sku": a.sku, "location_id": str(a.location_id), "quantity": a.quantity}
                for a in released
            ]
        return released


class _Change:
    """``Order.change`` as a ``with`` block: the statuses before on entry; on a clean exit
    the statuses derived again and the event recorded. (A class rather than a
    ``contextmanager`` generator, which costs several times as much: every change of every
    order passes through it, several for an order placed paid.)"""

    __slots__ = ("actor", "at", "before", "data", "event_type", "order", "reason")

    def __init__(
        self, order: Order, event_type: str, actor: Actor, at: datetime, reason: str | None
    ) -> None:
        self.order = order
        self.event_type = event_type
        self.actor = actor
        self.at = at
        self.reason = reason
        self.before: dict[str, str] = {}
        self.data: dict[str, Any] = {}

    def __enter__(self) -> dict[str, Any]:
        self.before = self.order.status_snapshot()
        return self.data

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None:
            return  # the change failed: no event
        order, data = self.order, self.data
        order.refresh_statuses(self.at)
        data["before"] = self.before
        data["after"] = order.status_snapshot()
        order.record(self.event_type, actor=self.actor, at=self.at, reason=self.reason, data=data)
