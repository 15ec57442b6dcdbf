"""Returns (RMAs): what a customer may send back, and the life of one return.

    requested ──approve──▶ approved ──label scans──▶ in_transit ──▶ delivered ──receive──▶ received
        │ (auto-approved by policy)   └─────────receive (all units)─────────────────▶ received
        └──reject (with a note)──▶ rejected                          received ──refund──▶ refunded
                                 approved ──refund (policy refund_before_receipt)──▶ refunded

``in_transit`` and ``delivered`` (at the warehouse, not yet inspected) come from the carrier's
tracking events of the return label (``ReturnRequest.track_parcel``); receipt still needs the
warehouse to inspect every unit.

A line may be returned when it shipped: ``returnable_units`` is what shipped, less what came
back already and what open returns (requested, approved) still wait for. Digital goods and the
SKUs a tenant sells as final sale are never returnable; a request after the tenant's window
(counted from the order's last delivery, else its last shipment) is refused. The reasons
are the tenant's codes. The money side is ``oms.domain.refunds``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from oms.domain.catalogue import ProductKind
from oms.domain.errors import FieldError, IllegalTransition, InvalidRequest
from oms.domain.orders import Order, OrderLine
from oms.domain.tracking import ShipmentStatus

__all__ = [
    "CLAIM_REASONS",
    "DEFAULT_REASONS",
    "ClaimAnswer",
    "Disposition",
    "ExchangeRelease",
    "ExchangeShortage",
    "OrderReturnStatus",
    "Resolution",
    "ReturnLabel",
    "ReturnLine",
    "ReturnPolicy",
    "ReturnRequest",
    "ReturnStatus",
    "ShippingRefund",
    "WantedLine",
    "check_request",
    "derive_order_return_status",
    "exchange_may_ship",
    "last_delivery",
    "returnable_units",
    "units_by_line",
    "window_start",
]

DEFAULT_REASONS = (
    "changed_mind",
    "wrong_size",
    "damaged",
    "defective",
    "wrong_item",
    "not_as_described",
    "other",
)
# The merchant's fault: no restocking fee, and approved without a person by default.
_MERCHANT_FAULT = frozenset({"damaged", "defective", "wrong_item", "not_as_described"})
MAX_WINDOW_DAYS = 365


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    IN_TRANSIT = "in_transit"  # the return label's parcel is on its way (carrier scans)
    DELIVERED = "delivered"  # the parcel reached the warehouse; its units await inspection
    REJECTED = "rejected"
    RECEIVED = "received"
    REFUNDED = "refunded"


OPEN_STATUSES = frozenset(
    {ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.IN_TRANSIT, ReturnStatus.DELIVERED}
)
# Approved and not yet received: the units are on their way (or about to be).
_AWAITING_UNITS = frozenset(
    {ReturnStatus.APPROVED, ReturnStatus.IN_TRANSIT, ReturnStatus.DELIVERED}
)
# What a return label's carrier status moves the return to.
_PARCEL_STEPS = {
    ShipmentStatus.IN_TRANSIT: ReturnStatus.IN_TRANSIT,
    ShipmentStatus.OUT_FOR_DELIVERY: ReturnStatus.IN_TRANSIT,
    ShipmentStatus.DELIVERED: ReturnStatus.DELIVERED,
}
_PARCEL_ORDER = (ReturnStatus.APPROVED, ReturnStatus.IN_TRANSIT, ReturnStatus.DELIVERED)


class Resolution(StrEnum):
    REFUND = "refund"
    EXCHANGE = "exchange"
    STORE_CREDIT = "store_credit"
    RESHIP = "reship"  # a claim: the same units again, at no charge


# A claim (lost or damaged in transit) is a return that never comes back.
CLAIM_REASONS = ("lost_in_transit", "damaged_in_transit")


class Disposition(StrEnum):
    """What becomes of a unit that came back: sellable again, kept aside, or thrown away."""

    RESTOCK = "restock"
    QUARANTINE = "quarantine"
    DISPOSE = "dispose"


class ShippingRefund(StrEnum):
    """``full_return``: the shipping paid is refunded with the return that brings the last
    returnable unit back; ``never``: shipping is never refunded."""

    FULL_RETURN = "full_return"
    NEVER = "never"


class ExchangeShortage(StrEnum):
    """An exchange for a size out of stock: ``refuse`` the request saying which SKU is
    short, or ``backorder`` the replacement until stock arrives."""

    REFUSE = "refuse"
    BACKORDER = "backorder"


class ExchangeRelease(StrEnum):
    """When an exchange's replacement order may ship: ``at_once`` (reserved and released at
    request time), once the return is ``in_transit`` (scanned by the carrier, or further),
    or once it is ``received`` (every unit in)."""

    AT_ONCE = "at_once"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"


class ClaimAnswer(StrEnum):
    """How a claim opened by itself (carrier exception, no scan for days) is answered."""

    RESHIP = "reship"
    REFUND = "refund"


class OrderReturnStatus(StrEnum):
    """The order's ``return_status`` axis, derived from its lines and open returns."""

    NONE = "none"
    REQUESTED = "requested"
    PARTIALLY_RETURNED = "partially_returned"
    RETURNED = "returned"


@dataclass(frozen=True)
class ReturnPolicy:
    """A tenant's return rules; every field has a default a small shop can live with."""

    window_days: int = 30
    reasons: tuple[str, ...] = DEFAULT_REASONS
    final_sale_skus: frozenset[str] = frozenset()
    auto_approve_below: Decimal | None = None
    auto_approve_reasons: frozenset[str] = _MERCHANT_FAULT
    restocking_fee_percent: Decimal = Decimal(0)
    fee_exempt_reasons: frozenset[str] = _MERCHANT_FAULT
    shipping_refund: ShippingRefund = ShippingRefund.FULL_RETURN
    refund_before_receipt: bool = False
    exchange_out_of_stock: ExchangeShortage = ExchangeShortage.REFUSE
    customer_pays_label: bool = False
    exchange_ships: ExchangeRelease = ExchangeRelease.AT_ONCE
    claim_on_exception: bool = False  # a carrier exception on a parcel opens a claim
    claim_after_days: int = 0  # no scan for this many days opens a claim (0: never)
    claim_answer: ClaimAnswer = ClaimAnswer.RESHIP

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for storage and the API."""
        return {
            "window_days": self.window_days,
            "reasons": list(self.reasons),
            "final_sale_skus": sorted(self.final_sale_skus),
            "auto_approve_below": None
            if self.auto_approve_below is None
            else str(self.auto_approve_below),
            "auto_approve_reasons": sorted(self.auto_approve_reasons),
            "restocking_fee_percent": str(self.restocking_fee_percent),
            "fee_exempt_reasons": sorted(self.fee_exempt_reasons),
            "shipping_refund": self.shipping_refund.value,
            "refund_before_receipt": self.refund_before_receipt,
            "exchange_out_of_stock": self.exchange_out_of_stock.value,
            "customer_pays_label": self.customer_pays_label,
            "exchange_ships": self.exchange_ships.value,
            "claim_on_exception": self.claim_on_exception,
            "claim_after_days": self.claim_after_days,
            "claim_answer": self.claim_answer.value,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> ReturnPolicy:
        """Read a stored or submitted policy, refusing bad values with field pointers."""
        if not raw:
            return cls()
        errors: list[FieldError] = []
        base = cls()
        window = raw.get("window_days", base.window_days)
        if isinstance(window, bool) or not isinstance(window, int):
            window = -1
        if not 0 <= window <= MAX_WINDOW_DAYS:
            errors.append(FieldError("#/window_days", f"whole days from 0 to {MAX_WINDOW_DAYS}"))
        reasons = _codes(raw, "reasons", base.reasons, errors)
        if not reasons:
            errors.append(FieldError("#/reasons", "at least one reason code"))
        below = _amount(raw.get("auto_approve_below"), "#/auto_approve_below", errors)
        fee = _amount(raw.get("restocking_fee_percent", "0"), "#/restocking_fee_percent", errors)
        if fee is not None and fee > 100:
            errors.append(FieldError("#/restocking_fee_percent", "a percentage from 0 to 100"))
        shipping = raw.get("shipping_refund", base.shipping_refund.value)
        if shipping not in set(ShippingRefund):
            errors.append(FieldError("#/shipping_refund", "full_return or never"))
            shipping = base.shipping_refund.value
        shortage = raw.get("exchange_out_of_stock", base.exchange_out_of_stock.value)
        if shortage not in set(ExchangeShortage):
            errors.append(FieldError("#/exchange_out_of_stock", "refuse or backorder"))
            shortage = base.exchange_out_of_stock.value
        before = raw.get("refund_before_receipt", False)
        if not isinstance(before, bool):
            errors.append(FieldError("#/refund_before_receipt", "true or false"))
        label_paid = raw.get("customer_pays_label", False)
        if not isinstance(label_paid, bool):
            errors.append(FieldError("#/customer_pays_label", "true or false"))
        ships = raw.get("exchange_ships", base.exchange_ships.value)
        if ships not in set(ExchangeRelease):
            errors.append(FieldError("#/exchange_ships", "at_once, in_transit or received"))
            ships = base.exchange_ships.value
        on_exception = raw.get("claim_on_exception", base.claim_on_exception)
        if not isinstance(on_exception, bool):
            errors.append(FieldError("#/claim_on_exception", "true or false"))
        quiet = raw.get("claim_after_days", base.claim_after_days)
        if isinstance(quiet, bool) or not isinstance(quiet, int) or not 0 <= quiet <= 365:
            errors.append(FieldError("#/claim_after_days", "whole days from 0 (never) to 365"))
            quiet = 0
        answer = raw.get("claim_answer", base.claim_answer.value)
        if answer not in set(ClaimAnswer):
            errors.append(FieldError("#/claim_answer", "reship or refund"))
            answer = base.claim_answer.value
        if errors:
            raise InvalidRequest("The return policy is not valid", errors)
        return cls(
            window_days=window,
            reasons=reasons,
            final_sale_skus=frozenset(_codes(raw, "final_sale_skus", (), errors)),
            auto_approve_below=below,
            auto_approve_reasons=frozenset(
                _codes(raw, "auto_approve_reasons", tuple(base.auto_approve_reasons), errors)
            ),
            restocking_fee_percent=fee or Decimal(0),
            fee_exempt_reasons=frozenset(
                _codes(raw, "fee_exempt_reasons", tuple(base.fee_exempt_reasons), errors)
            ),
            shipping_refund=ShippingRefund(shipping),
            refund_before_receipt=bool(before),
            exchange_out_of_stock=ExchangeShortage(shortage),
            customer_pays_label=bool(label_paid),
            exchange_ships=ExchangeRelease(ships),
            claim_on_exception=bool(on_exception),
            claim_after_days=quiet,
            claim_answer=ClaimAnswer(answer),
        )


def _codes(
    raw: Mapping[str, Any], name: str, default: tuple[str, ...], errors: list[FieldError]
) -> tuple[str, ...]:
    value = raw.get(name, list(default))
    if not isinstance(value, list) or not all(
        isinstance(v, str) and 0 < len(v) <= 100 for v in value
    ):
        errors.append(FieldError(f"#/{name}", "a list of codes (1 to 100 characters each)"))
        return default
    return tuple(dict.fromkeys(value))


def _amount(value: Any, pointer: str, errors: list[FieldError]) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        amount = Decimal(-1)
    if not amount.is_finite() or amount < 0 or isinstance(value, bool):
        errors.append(FieldError(pointer, "a decimal number, zero or more"))
        return None
    return amount


@dataclass
class ReturnLine:
    """Units of one order line on their way back, and what became of those received."""

    line_no: int
    sku: str
    quantity: int
    reason: str
    restocked: int = 0
    quarantined: int = 0
    disposed: int = 0

    @property
    def received(self) -> int:
        return self.restocked + self.quarantined + self.disposed

    def receive(self, disposition: Disposition, units: int) -> None:
        """Count ``units`` as received with ``disposition``; never more than were sent."""
        if units > self.quantity - self.received:
            raise InvalidRequest(
                f"line {self.line_no}: only {self.quantity - self.received} units are still "
                "expected back",
                [FieldError("#/lines", "more units than the return is waiting for")],
            )
        if disposition is Disposition.RESTOCK:
            self.restocked += units
        elif disposition is Disposition.QUARANTINE:
            self.quarantined += units
        else:
            self.disposed += units


@dataclass(frozen=True)
class ReturnLabel:
    """The label the customer sends the units back with, bought through the carrier port."""

    carrier: str
    service: str
    tracking_number: str
    tracking_url: str
    cost: Decimal
    customer_paid: bool  # its cost comes off the refund
    # What the label's PDF prints (labels bought before these were kept have none of them):
    # the receiving location, the parcel's weight and the day it was bought for.
    location_id: UUID | None = None
    weight_grams: int = 0
    ship_on: date | None = None
    # The carrier's code for a drop-off point to scan instead of a printed label, if it
    # gives one; the email's QR code carries it, else the tracking number.
    dropoff_code: str | None = None

    @property
    def qr_payload(self) -> str:
        """What the drop-off QR code encodes: the carrier's drop-off code, else the tracking
        number."""
        return self.dropoff_code or self.tracking_number


@dataclass
class ReturnRequest:
    """One return of one order (an RMA): its lines, its status and the money it moved."""

    id: UUID
    tenant_id: UUID
    order_id: UUID
    order_number: int
    status: ReturnStatus
    resolution: Resolution
    lines: list[ReturnLine]
    currency: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    note: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_note: str | None = None
    received_at: datetime | None = None
    refunded_at: datetime | None = None
    refund_amount: Decimal | None = None
    restocking_fee: Decimal | None = None
    shipping_refund: Decimal | None = None
    refund_key: str | None = None
    exchange_order_id: UUID | None = None
    exchange_credit: Decimal | None = None  # what the replacement order took of the refund
    label: ReturnLabel | None = None
    parcel_status: ShipmentStatus | None = None  # the return label's carrier status
    last_scan_at: datetime | None = None
    version: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_claim(self) -> bool:
        """Lost or damaged in transit: nothing comes back, nothing waits for receipt."""
        return all(line.reason in CLAIM_REASONS for line in self.lines)

    @property
    def reasons(self) -> list[str]:
        return sorted({line.reason for line in self.lines})

    def _require(self, wanted: Iterable[ReturnStatus], action: str) -> None:
        if self.status not in set(wanted):
            raise IllegalTransition(
                f"A {self.status.value} return cannot be {action}", return_id=str(self.id)
            )

    def approve(self, *, actor: str, at: datetime, note: str | None = None) -> None:
        """Accept the return: the customer may send the units."""
        self._require([ReturnStatus.REQUESTED], "approved")
        self.status, self.decided_at, self.decided_by = ReturnStatus.APPROVED, at, actor
        self.decision_note, self.updated_at = note, at

    def reject(self, *, actor: str, at: datetime, note: str | None) -> None:
        """Refuse the return; a person must say why."""
        self._require([ReturnStatus.REQUESTED, *_PARCEL_ORDER], "rejected")
        if any(line.received for line in self.lines):
            raise IllegalTransition("Units of this return were received already")
        if not (note and note.strip()):
            raise InvalidRequest(
                "Say why the return is rejected", [FieldError("#/note", "a note is required")]
            )
        self.status, self.decided_at, self.decided_by = ReturnStatus.REJECTED, at, actor
        self.decision_note, self.updated_at = note.strip(), at

    def receive(self, units: Sequence[tuple[int, Disposition, int]], *, at: datetime) -> None:
        """Count ``(line_no, disposition, units)`` as received; ``received`` once all are."""
        allowed = list(_AWAITING_UNITS)
        if self.refunded_at is not None and self.received_at is None:
            # Refunded before receipt: the parcel still comes. Once every unit is in, a
            # refunded return is refused as a received one is (a till's repeat that lost
            # the race to the refund goes on from there, tests/api/test_till_returns.py).
            allowed.append(ReturnStatus.REFUNDED)
        self._require(allowed, "received")
        by_line = {line.line_no: line for line in self.lines}
        for index, (line_no, disposition, count) in enumerate(units):
            line = by_line.get(line_no)
            if count < 1:
                raise InvalidRequest(
                    "Received units must be at least 1",
                    [FieldError(f"#/lines/{index}/quantity", "at least 1")],
                )
            if line is None:
                raise InvalidRequest(
                    f"Line {line_no} is not on this return",
                    [FieldError(f"#/lines/{index}/line_no", "not a line of this return")],
                )
            line.receive(disposition, count)
        self.updated_at = at
        if all(line.received >= line.quantity for line in self.lines):
            self.received_at = at
            if self.status in _AWAITING_UNITS:
                self.status = ReturnStatus.RECEIVED

    def refund_units(self, policy: ReturnPolicy) -> dict[int, int]:
        """The units of each line this return pays back: those received, or all of them
        when the policy refunds before receipt; refused in any other state."""
        if self.status is ReturnStatus.REFUNDED:
            raise self._refunded_already()
        if self.resolution is Resolution.RESHIP:
            raise IllegalTransition(
                "This claim was answered with a reshipment; it is not refunded",
                return_id=str(self.id),
            )
        if self.status is ReturnStatus.RECEIVED:
            return {line.line_no: line.received for line in self.lines}
        if self.status in _AWAITING_UNITS and (policy.refund_before_receipt or self.is_claim):
            return {line.line_no: line.quantity for line in self.lines}
        raise IllegalTransition(
            f"A {self.status.value} return is refunded once its units are received",
            return_id=str(self.id),
        )

    def track_parcel(self, status: ShipmentStatus, *, scanned_at: datetime, at: datetime) -> bool:
        """Take the return label's carrier status (derived from all its events); the return
        moves forward to ``in_transit`` or ``delivered`` (never back, never past receipt or
        a refund); True when its status moved."""
        self.parcel_status = status
        if self.last_scan_at is None or scanned_at > self.last_scan_at:
            self.last_scan_at = scanned_at
        self.updated_at = at
        step = _PARCEL_STEPS.get(status)
        if step is None or self.status not in _PARCEL_ORDER:
            return False
        if _PARCEL_ORDER.index(step) <= _PARCEL_ORDER.index(self.status):
            return False
        self.status = step
        return True

    def waiting_units(self) -> dict[int, int]:
        """Units per line this return still holds on the order: asked for or approved and
        not yet received (none once rejected)."""
        if self.status is ReturnStatus.REJECTED or self.status is ReturnStatus.RECEIVED:
            return {}
        return {line.line_no: line.quantity - line.received for line in self.lines}

    def repeats_refund(self, key: str | None) -> bool:
        """Whether a refund asked now with Idempotency-Key ``key`` repeats this return's
        refund (True: answer the return as it is); False while it is not refunded; refused
        (409) for a refunded return asked again with another key or none. A refund is
        final, so the answer is the same with or without the order's lock."""
        if self.status is not ReturnStatus.REFUNDED:
            return False
        if key is not None and self.refund_key == key:
            return True
        raise self._refunded_already()

    def _refunded_already(self) -> IllegalTransition:
        return IllegalTransition("This return was refunded already", return_id=str(self.id))

    def refunded_units(self) -> dict[int, int]:
        """Units per line this return paid back: all it asked for when refunded before
        receipt, else those received; none before its refund."""
        if self.refunded_at is None:
            return {}
        if self.received_at is not None and self.received_at <= self.refunded_at:
            return {line.line_no: line.received for line in self.lines}
        return {line.line_no: line.quantity for line in self.lines}

    def mark_refunded(
        self, *, amount: Decimal, fee: Decimal, shipping: Decimal, key: str | None, at: datetime
    ) -> None:
        """Record the refund the payment port made (or the store credit given)."""
        self.status = ReturnStatus.REFUNDED
        self.refund_amount, self.restocking_fee, self.shipping_refund = amount, fee, shipping
        self.refund_key, self.refunded_at, self.updated_at = key, at, at


@dataclass(frozen=True)
class WantedLine:
    """One line of a return request as asked: ``quantity`` units of ``line_no``."""

    line_no: int
    quantity: int
    reason: str


def exchange_may_ship(policy: ReturnPolicy, request: ReturnRequest) -> bool:
    """Whether the replacement of an exchange may ship now, by the policy's
    ``exchange_ships`` and how far the return came."""
    if policy.exchange_ships is ExchangeRelease.AT_ONCE:
        return True
    if request.received_at is not None or request.status is ReturnStatus.RECEIVED:
        return True
    if policy.exchange_ships is ExchangeRelease.IN_TRANSIT:
        return request.status in {ReturnStatus.IN_TRANSIT, ReturnStatus.DELIVERED}
    return False


def last_delivery(order: Order) -> datetime | None:
    """When the order's last parcel was delivered (or pickup collected); None before."""
    delivered = [
        e.created_at
        for e in order.events
        if e.type in {"shipment.delivered", "fulfillment_order.picked_up"}
    ]
    return max(delivered) if delivered else None


def window_start(order: Order) -> datetime | None:
    """When the return window opened: the order's last delivery (or collection), else its
    last shipment; None when nothing left the warehouse."""
    delivered = last_delivery(order)
    if delivered is not None:
        return delivered
    shipped = [e.created_at for e in order.events if e.type == "shipment.created"]
    return max(shipped) if shipped else None


def returnable_units(line: OrderLine, *, pending: int, policy: ReturnPolicy) -> int:
    """Units of ``line`` a new return may still take: shipped, not back yet, not waited for
    by an open return (``pending``); none for digital goods or final-sale SKUs."""
    if line.kind is ProductKind.DIGITAL or line.sku in policy.final_sale_skus:
        return 0
    return max(0, line.shipped - line.returned - pending)


def check_request(
    order: Order,
    wanted: Sequence[WantedLine],
    *,
    pending: Mapping[int, int],
    policy: ReturnPolicy,
    at: datetime,
) -> list[ReturnLine]:
    """The return lines for ``wanted``, or ``InvalidRequest`` naming each line that may not
    come back (not shipped, digital, final sale, more than is returnable, unknown reason) or
    ``IllegalTransition`` when the window has closed."""
    if not wanted:
        raise InvalidRequest("Name the lines to return", [FieldError("#/lines", "required")])
    started = window_start(order)
    if started is None:
        raise IllegalTransition("Nothing of this order has shipped, so nothing can be returned")
    closes = started + timedelta(days=policy.window_days)
    if at >= closes:
        raise IllegalTransition(
            f"The return window closed on {closes.date().isoformat()} "
            f"({policy.window_days} days after delivery)",
            window_closed_at=closes.isoformat(),
        )
    lines = {line.line_no: line for line in order.lines}
    errors: list[FieldError] = []
    asked: dict[int, int] = {}
    for index, want in enumerate(wanted):
        pointer = f"#/lines/{index}"
        line = lines.get(want.line_no)
        if line is None:
            errors.append(FieldError(f"{pointer}/line_no", "no such line on this order"))
            continue
        if want.reason not in policy.reasons:
            errors.append(FieldError(f"{pointer}/reason", "one of: " + ", ".join(policy.reasons)))
        if line.kind is ProductKind.DIGITAL:
            errors.append(FieldError(pointer, f"{line.sku} is digital: not returnable"))
            continue
        if line.sku in policy.final_sale_skus:
            errors.append(FieldError(pointer, f"{line.sku} is final sale: not returnable"))
            continue
        asked[want.line_no] = asked.get(want.line_no, 0) + want.quantity
        left = returnable_units(line, pending=pending.get(want.line_no, 0), policy=policy)
        if want.quantity < 1 or asked[want.line_no] > left:
            errors.append(
                FieldError(f"{pointer}/quantity", f"{left} units of line {line.line_no} returnable")
            )
    if errors:
        raise InvalidRequest("These lines cannot be returned", errors)
    merged: dict[int, ReturnLine] = {}
    for want in wanted:
        if want.line_no in merged:
            merged[want.line_no].quantity += want.quantity
        else:
            line = lines[want.line_no]
            merged[want.line_no] = ReturnLine(want.line_no, line.sku, want.quantity, want.reason)
    return list(merged.values())


def derive_order_return_status(
    lines: Sequence[OrderLine], *, open_returns: int
) -> OrderReturnStatus:
    """``returned`` once every shipped unit came back, ``partially_returned`` when some did,
    ``requested`` while a return is open and nothing came back yet, else ``none``."""
    shipped = sum(line.shipped for line in lines)
    returned = sum(line.returned for line in lines)
    if returned and returned >= shipped:
        return OrderReturnStatus.RETURNED
    if returned:
        return OrderReturnStatus.PARTIALLY_RETURNED
    return OrderReturnStatus.REQUESTED if open_returns else OrderReturnStatus.NONE


def units_by_line(counts: Iterable[Mapping[int, int]]) -> dict[int, int]:
    """Units per line summed over several returns' counts."""
    summed: dict[int, int] = {}
    for count in counts:
        for line_no, units in count.items():
            summed[line_no] = summed.get(line_no, 0) + units
    return summed
