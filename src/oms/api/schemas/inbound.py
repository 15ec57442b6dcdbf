"""Suppliers, purchase orders and inbound shipments (ASNs): bodies and answers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints, model_validator

from oms.api.schemas.common import Code, Currency, Price, Sku, Strict
from oms.domain import lengths
from oms.domain.inbound import (
    Condition,
    InboundShipment,
    InboundStatus,
    IncomingSupply,
    PoStatus,
    PurchaseOrder,
    Supplier,
    VarianceLine,
)
from oms.domain.inventory import MAX_QUANTITY
from oms.services.inbound import Closed, ReceivedScan, ScanLine, ShipmentAnnouncement
from oms.services.purchasing import PoLineInput, ReceiptLine
from oms.services.purchasing import PurchaseOrderCreate as PoCommand
from oms.services.purchasing import SupplierCreate as SupplierCommand

__all__ = [
    "CloseRead",
    "InboundReceiptCreate",
    "InboundShipmentCreate",
    "InboundShipmentRead",
    "IncomingRead",
    "PurchaseOrderCreate",
    "PurchaseOrderRead",
    "PurchaseOrderReceiptCreate",
    "PutawayCreate",
    "ScanRead",
    "SupplierCreate",
    "SupplierRead",
]

Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class SupplierCreate(Strict):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.NAME)
    ]
    lead_time_days: int = Field(ge=0, le=3650)
    moq: int = Field(default=1, ge=1, le=MAX_QUANTITY)
    pack_size: int = Field(default=1, ge=1, le=MAX_QUANTITY)
    currency: Currency

    def to_command(self) -> SupplierCommand:
        return SupplierCommand(
            name=self.name,
            lead_time_days=self.lead_time_days,
            moq=self.moq,
            pack_size=self.pack_size,
            currency=self.currency,
        )


class SupplierRead(BaseModel):
    id: str
    name: str
    lead_time_days: int
    moq: int
    pack_size: int
    currency: str
    created_at: datetime

    @classmethod
    def of(cls, s: Supplier) -> SupplierRead:
        return cls(
            id=str(s.id),
            name=s.name,
            lead_time_days=s.lead_time_days,
            moq=s.moq,
            pack_size=s.pack_size,
            currency=s.currency,
            created_at=s.created_at,
        )


class PoLineCreate(Strict):
    sku: Sku
    quantity: Quantity
    unit_cost: Price


class PurchaseOrderCreate(Strict):
    supplier_id: UUID = Field(description="A supplier's id")
    location: Code = Field(description="The destination location: its id or code")
    expected_at: date = Field(description="The day the goods are expected there")
    lines: list[PoLineCreate] = Field(min_length=1, max_length=1000)

    def to_command(self) -> PoCommand:
        return PoCommand(
            supplier_id=self.supplier_id,
            location=self.location,
            expected_at=self.expected_at,
            lines=[PoLineInput(ln.sku, ln.quantity, ln.unit_cost) for ln in self.lines],
        )


class PoLineRead(BaseModel):
    line_no: int
    sku: str
    quantity: int
    unit_cost: Decimal
    received: int
    open_quantity: int


class PurchaseOrderRead(BaseModel):
    id: str
    supplier_id: str
    location: str
    location_id: str
    expected_at: date
    status: PoStatus
    currency: str
    lines: list[PoLineRead]
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, po: PurchaseOrder) -> PurchaseOrderRead:
        return cls(
            id=str(po.id),
            supplier_id=str(po.supplier_id),
            location=po.location_code,
            location_id=str(po.location_id),
            expected_at=po.expected_at,
            status=po.status,
            currency=po.currency,
            lines=[
                PoLineRead(
                    line_no=ln.line_no,
                    sku=ln.sku,
                    quantity=ln.quantity,
                    unit_cost=ln.unit_cost,
                    received=ln.received,
                    open_quantity=ln.open_quantity,
                )
                for ln in po.lines
            ],
            created_at=po.created_at,
            sent_at=po.sent_at,
        )


class ReceiptLineCreate(Strict):
    sku: Sku
    quantity: Quantity


class PurchaseOrderReceiptCreate(Strict):
    lines: list[ReceiptLineCreate] = Field(min_length=1, max_length=1000)

    def to_lines(self) -> list[ReceiptLine]:
        return [ReceiptLine(ln.sku, ln.quantity) for ln in self.lines]


class IncomingRead(BaseModel):
    """Units of the SKU on an open purchase order, expected at a location on a date."""

    expected_at: date
    location: str
    quantity: int
    purchase_order_id: str

    @classmethod
    def of(cls, s: IncomingSupply) -> IncomingRead:
        return cls(
            expected_at=s.expected_at,
            location=s.location_code,
            quantity=s.quantity,
            purchase_order_id=str(s.purchase_order_id),
        )


class AsnLineCreate(Strict):
    sku: Sku
    expected_quantity: Quantity


CartonCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class AsnCartonCreate(Strict):
    code: CartonCode = Field(description="The carton's code as it is printed on it (scanned)")
    lines: list[AsnLineCreate] = Field(min_length=1, max_length=1000)


class InboundShipmentCreate(Strict):
    location: Code = Field(description="The warehouse receiving it: its id or code")
    reference: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.REFERENCE)
    ]
    tracking: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=lengths.TRACKING_NUMBER)]
        | None
    ) = None
    lines: list[AsnLineCreate] = Field(
        default_factory=list,
        max_length=1000,
        description="What is coming; the cartons' sums when left out",
    )
    cartons: list[AsnCartonCreate] = Field(
        default_factory=list,
        max_length=1000,
        description="The cartons and what each holds (a carton's code received at once)",
    )

    @model_validator(mode="after")
    def _lines_or_cartons(self) -> InboundShipmentCreate:
        if not self.lines and not self.cartons:
            raise ValueError("give the lines, the cartons, or both")
        return self

    def to_command(self) -> ShipmentAnnouncement:
        return ShipmentAnnouncement(
            location=self.location,
            reference=self.reference,
            tracking=self.tracking,
            lines=[(ln.sku, ln.expected_quantity) for ln in self.lines],
            cartons=[
                (c.code, [(ln.sku, ln.expected_quantity) for ln in c.lines]) for c in self.cartons
            ],
        )


class ScanLineCreate(Strict):
    sku: Sku
    quantity: Quantity
    condition: Condition = Condition.GOOD
    reason: Text | None = Field(default=None, description="Why (over, damaged, unexpected)")


class InboundReceiptCreate(Strict):
    scan_id: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = Field(
        default=None,
        description="The scanner's id of this scan: sent again, it is not counted again",
    )
    carton: CartonCode | None = Field(
        default=None,
        description="The carton scanned: alone, it receives the carton's announced contents; "
        "with lines, they are counted as this carton's",
    )
    lines: list[ScanLineCreate] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _lines_or_carton(self) -> InboundReceiptCreate:
        if not self.lines and self.carton is None:
            raise ValueError("give the scanned lines, a carton, or both")
        return self

    def to_lines(self) -> list[ScanLine]:
        return [ScanLine(ln.sku, ln.quantity, ln.condition, ln.reason) for ln in self.lines]


class PutawayLineCreate(Strict):
    sku: Sku
    quantity: Quantity
    bin: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=1, max_length=lengths.BIN)
        ]
        | None
    ) = Field(default=None, description="Where; the suggested bin when left out")


class PutawayCreate(Strict):
    lines: list[PutawayLineCreate] = Field(min_length=1, max_length=1000)


class InboundLineRead(BaseModel):
    sku: str
    expected: int
    received: int
    damaged: int
    put_away: int
    suggested_bin: str | None


class ExceptionRead(BaseModel):
    sku: str
    kind: str
    reason: str
    scan_id: str


class InboundShipmentRead(BaseModel):
    id: str
    tenant_id: str
    location: str
    location_id: str
    reference: str
    tracking: str | None
    status: InboundStatus
    lines: list[InboundLineRead]
    exceptions: list[ExceptionRead]
    created_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(
        cls, s: InboundShipment, bins: dict[str, str | None] | None = None
    ) -> InboundShipmentRead:
        bins = bins or {}
        return cls(
            id=str(s.id),
            tenant_id=str(s.tenant_id),
            location=s.location_code,
            location_id=str(s.location_id),
            reference=s.reference,
            tracking=s.tracking,
            status=s.status,
            lines=[
                InboundLineRead(
                    sku=ln.sku,
                    expected=ln.expected,
                    received=ln.received,
                    damaged=ln.received_damaged,
                    put_away=ln.put_away,
                    suggested_bin=bins.get(ln.sku),
                )
                for ln in s.lines
            ],
            exceptions=[ExceptionRead(**e) for e in s.exceptions],  # type: ignore[arg-type]
            created_at=s.created_at,
            closed_at=s.closed_at,
        )


class ScanRead(BaseModel):
    scan_id: str
    counted: bool = Field(description="False: this scan id was counted before, not again")
    shipment: InboundShipmentRead

    @classmethod
    def of(cls, scan: ReceivedScan) -> ScanRead:
        return cls(
            scan_id=scan.scan_id,
            counted=scan.counted,
            shipment=InboundShipmentRead.of(scan.shipment),
        )


class VarianceRead(BaseModel):
    sku: str
    expected: int
    received: int
    damaged: int
    variance: int
    verdict: str

    @classmethod
    def of(cls, v: VarianceLine) -> VarianceRead:
        return cls(
            sku=v.sku,
            expected=v.expected,
            received=v.received,
            damaged=v.damaged,
            variance=v.variance,
            verdict=v.verdict,
        )


class CartonLineRead(BaseModel):
    sku: str
    expected: int
    received: int
    variance: int


class CartonVarianceRead(BaseModel):
    code: str
    expected: int
    received: int
    variance: int
    verdict: str = Field(description="exact, over, short, mixed or unexpected")
    lines: list[CartonLineRead]


class CloseRead(BaseModel):
    id: str
    status: InboundStatus
    lines: list[VarianceRead]
    exceptions: list[ExceptionRead]
    cartons: list[CartonVarianceRead] = Field(
        default_factory=list,
        description="Per carton, counted by the scans naming it (none without cartons)",
    )

    @classmethod
    def of(cls, closed: Closed) -> CloseRead:
        return cls(
            id=str(closed.shipment.id),
            status=closed.shipment.status,
            lines=[VarianceRead.of(v) for v in closed.report],
            exceptions=[ExceptionRead(**e) for e in closed.shipment.exceptions],  # type: ignore[arg-type]
            cartons=[
                CartonVarianceRead(
                    code=c.code,
                    expected=c.expected,
                    received=c.received,
                    variance=c.received - c.expected,
                    verdict=c.verdict,
                    lines=[
                        CartonLineRead(sku=sku, expected=e, received=r, variance=r - e)
                        for sku, e, r in c.lines
                    ],
                )
                for c in closed.cartons
            ],
        )
