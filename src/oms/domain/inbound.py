"""Inbound stock: suppliers, purchase orders, advance shipping notices (ASNs) and their
receiving, putaway and variance; incoming supply and the date a backorder can expect stock.

Pure rules only: statuses are derived from line quantities (``po_status``,
``shipment_status``), a receipt scan is classified against what was announced
(``classify_scan``), the close answers a variance per line (``variance_report``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

__all__ = [
    "OPEN_PO_STATUSES",
    "Condition",
    "InboundLine",
    "InboundShipment",
    "InboundStatus",
    "IncomingSupply",
    "PoStatus",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "ScanOutcome",
    "Supplier",
    "SupplierSku",
    "VarianceLine",
    "classify_scan",
    "eta_for",
    "po_status",
    "suggest_bin",
    "variance_report",
]


class PoStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


OPEN_PO_STATUSES = (PoStatus.SENT, PoStatus.PARTIALLY_RECEIVED)


@dataclass(frozen=True)
class Supplier:
    """Who a tenant buys from: lead time in days, minimum order and pack size in units."""

    id: UUID
    tenant_id: UUID
    name: str
    lead_time_days: int
    moq: int
    pack_size: int
    currency: str
    created_at: datetime


@dataclass(frozen=True)
class SupplierSku:
    """The supplier a SKU is bought from and what one unit costs from it."""

    sku: str
    supplier_id: UUID
    unit_cost: Decimal


@dataclass
class PurchaseOrderLine:
    line_no: int
    sku: str
    quantity: int
    unit_cost: Decimal
    received: int = 0

    @property
    def open_quantity(self) -> int:
        """Units still to come (never negative: an over-receipt closes the line)."""
        return max(0, self.quantity - self.received)


@dataclass
class PurchaseOrder:
    id: UUID
    tenant_id: UUID
    supplier_id: UUID
    location_id: UUID
    location_code: str
    expected_at: date
    lines: list[PurchaseOrderLine]
    created_at: datetime
    status: PoStatus = PoStatus.DRAFT
    sent_at: datetime | None = None
    currency: str = ""

    def line_for(self, sku: str) -> PurchaseOrderLine | None:
        return next((line for line in self.lines if line.sku == sku), None)


def po_status(*, sent: bool, cancelled: bool, lines: Sequence[PurchaseOrderLine]) -> PoStatus:
    """A purchase order's status from its lines: received once every line has all its units,
    partially received once any unit came, else sent (or draft before sending)."""
    if cancelled:
        return PoStatus.CANCELLED
    if not sent:
        return PoStatus.DRAFT
    if lines and all(line.received >= line.quantity for line in lines):
        return PoStatus.RECEIVED
    if any(line.received for line in lines):
        return PoStatus.PARTIALLY_RECEIVED
    return PoStatus.SENT


@dataclass(frozen=True)
class IncomingSupply:
    """Units of one SKU expected at a location on a date (an open purchase order line)."""

    sku: str
    location_code: str
    expected_at: date
    quantity: int
    purchase_order_id: UUID


def eta_for(incoming: Iterable[IncomingSupply], *, ahead: int, need: int) -> date | None:
    """The date by which incoming supply covers ``need`` units after the ``ahead`` units
    already waiting for it (earliest deliveries first); None when it never does."""
    covered = 0
    for supply in sorted(incoming, key=lambda s: s.expected_at):
        covered += supply.quantity
        if covered >= ahead + need:
            return supply.expected_at
    return None


class InboundStatus(StrEnum):
    ANNOUNCED = "announced"
    RECEIVING = "receiving"
    CLOSED = "closed"


class Condition(StrEnum):
    GOOD = "good"
    DAMAGED = "damaged"


@dataclass
class InboundLine:
    """One SKU of an ASN: announced (``expected``), counted in good and damaged condition,
    and put away. An unexpected SKU gets a line with ``expected`` 0."""

    sku: str
    expected: int
    received_good: int = 0
    received_damaged: int = 0
    put_away: int = 0

    @property
    def received(self) -> int:
        return self.received_good + self.received_damaged


@dataclass
class InboundShipment:
    id: UUID
    tenant_id: UUID
    location_id: UUID
    location_code: str
    reference: str
    lines: list[InboundLine]
    created_at: datetime
    created_by: str
    status: InboundStatus = InboundStatus.ANNOUNCED
    tracking: str | None = None
    closed_at: datetime | None = None
    exceptions: list[dict[str, object]] = field(default_factory=list)

    def line_for(self, sku: str) -> InboundLine | None:
        return next((line for line in self.lines if line.sku == sku), None)


@dataclass(frozen=True)
class ScanOutcome:
    """What one scanned line did: the units in each condition and the exceptions it raised
    (``over``, ``damaged``, ``unexpected``), each with its reason."""

    sku: str
    good: int
    damaged: int
    exceptions: tuple[tuple[str, str], ...]


def classify_scan(
    line: InboundLine | None, *, sku: str, quantity: int, condition: Condition, reason: str | None
) -> ScanOutcome:
    """Classify one scanned quantity against the line as counted so far (None: the SKU was
    not announced). The caller applies the counts; this says what they mean."""
    good = quantity if condition is Condition.GOOD else 0
    damaged = quantity - good
    found: list[tuple[str, str]] = []
    if line is None:
        found.append(("unexpected", reason or f"{sku} was not announced on this shipment"))
    elif condition is Condition.GOOD:
        # Good units beyond the announced quantity; damaged ones are flagged as damaged.
        over = min(line.received_good + good - line.expected, good)
        if over > 0:
            found.append(("over", reason or f"{over} more than announced"))
    if damaged:
        found.append(("damaged", reason or f"{damaged} received damaged"))
    return ScanOutcome(sku=sku, good=good, damaged=damaged, exceptions=tuple(found))


@dataclass(frozen=True)
class VarianceLine:
    """One line of the close: announced, counted (good + damaged), damaged and the variance
    (counted less announced), with the verdict ``exact``, ``over``, ``short`` or
    ``unexpected``."""

    sku: str
    expected: int
    received: int
    damaged: int
    variance: int
    verdict: str


def variance_report(lines: Iterable[InboundLine]) -> list[VarianceLine]:
    """Each line's variance, in SKU order."""
    report = []
    for line in sorted(lines, key=lambda ln: ln.sku):
        variance = line.received - line.expected
        if line.expected == 0:
            verdict = "unexpected"
        elif variance > 0:
            verdict = "over"
        elif variance < 0:
            verdict = "short"
        else:
            verdict = "exact"
        report.append(
            VarianceLine(
                sku=line.sku,
                expected=line.expected,
                received=line.received,
                damaged=line.received_damaged,
                variance=variance,
                verdict=verdict,
            )
        )
    return report


def suggest_bin(
    *, current: str | None, known: Sequence[str], occupied: Iterable[str]
) -> str | None:
    """Where to put a SKU away: the bin it already has there, else the first known bin of the
    location that holds nothing, else None (the receiver names one)."""
    if current is not None:
        return current
    taken = set(occupied)
    return next((b for b in sorted(known) if b not in taken), None)


@dataclass(frozen=True)
class CartonVariance:
    """One carton at the close: its SKUs' announced and counted units (good and damaged,
    counted by scans naming the carton) and the verdict over all of them: ``exact``,
    ``over``, ``short``, ``mixed`` (some SKUs over, some short) or ``unexpected`` (a code
    not announced)."""

    code: str
    lines: tuple[tuple[str, int, int], ...]  # (sku, expected, received), SKU order
    verdict: str

    @property
    def expected(self) -> int:
        return sum(expected for _, expected, _ in self.lines)

    @property
    def received(self) -> int:
        return sum(received for _, _, received in self.lines)


def carton_report(
    announced: Mapping[str, Mapping[str, int]], received: Mapping[tuple[str, str], int]
) -> list[CartonVariance]:
    """Each carton's variance, by code: announced ``code -> {sku: expected}``, counted
    ``(code, sku) -> units`` (a code scanned but never announced is ``unexpected``)."""
    codes = sorted(set(announced) | {code for code, _ in received})
    report = []
    for code in codes:
        expected = announced.get(code, {})
        skus = sorted(set(expected) | {sku for c, sku in received if c == code})
        lines = tuple((sku, expected.get(sku, 0), received.get((code, sku), 0)) for sku in skus)
        over = any(got > want for _, want, got in lines)
        short = any(got < want for _, want, got in lines)
        if code not in announced:
            verdict = "unexpected"
        elif over and short:
            verdict = "mixed"
        else:
            verdict = "over" if over else "short" if short else "exact"
        report.append(CartonVariance(code=code, lines=lines, verdict=verdict))
    return report
