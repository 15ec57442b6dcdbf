"""The ``data`` of the warehouse's public events (docs/events.md): each is the outbox
message's own record, written in the step's transaction (``oms.services.event_catalogue``
``RECORD_KINDS``). These models say its shape; the tests hold the writers to them."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CycleCountApprovedData",
    "InboundClosedData",
    "InboundReceivedData",
    "PurchaseOrderEventData",
    "TransferEventData",
]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PoLineData(_Record):
    sku: str
    quantity: int
    received: int
    open_quantity: int


class PurchaseOrderEventData(_Record):
    """``purchase_order.sent`` and ``purchase_order.received`` (``received``: this
    receipt's units by SKU; empty when sent)."""

    purchase_order_id: str
    supplier_id: str
    status: str
    location: str
    expected_at: date
    lines: list[PoLineData]
    received: dict[str, int]


class ScanException(_Record):
    kind: str
    reason: str


class ScanLineData(_Record):
    sku: str
    quantity: int
    condition: str
    exceptions: list[ScanException]


class InboundReceivedData(_Record):
    """``inbound_shipment.received``: one scan's lines, each with its exceptions."""

    inbound_shipment_id: str
    reference: str
    location: str
    status: str
    scan_id: str
    lines: list[ScanLineData]


class VarianceLineData(_Record):
    sku: str
    expected: int
    received: int
    damaged: int
    variance: int
    verdict: str


class CartonLineData(_Record):
    sku: str
    expected: int
    received: int
    variance: int


class CartonVarianceData(_Record):
    code: str
    expected: int
    received: int
    variance: int
    verdict: str
    lines: list[CartonLineData]


class InboundClosedData(_Record):
    """``inbound_shipment.closed``: the variance of every line, and of every carton (when
    the shipment was announced or scanned by carton)."""

    inbound_shipment_id: str
    reference: str
    location: str
    status: str
    lines: list[VarianceLineData]
    cartons: list[CartonVarianceData]


class TransferLineData(_Record):
    sku: str
    quantity: int
    received: int


class TransferEventData(_Record):
    """``transfer.shipped`` and ``transfer.received``."""

    transfer_id: str
    from_: str = Field(alias="from")
    to: str
    status: str
    lines: list[TransferLineData]


class CountLineData(_Record):
    sku: str
    bin: str | None
    counted: int
    change: int


class CycleCountApprovedData(_Record):
    """``cycle_count.approved``: each line's counted figure and the change it posted."""

    cycle_count_id: str
    location: str
    status: str
    reason: str
    lines: list[CountLineData]
