"""Returns (RMAs): what ``/v1/orders/{order_id}/returns`` and ``/v1/returns`` take and give."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from oms.api.schemas.common import Strict, money_text
from oms.domain import lengths
from oms.domain.returns import Disposition, Resolution, ReturnPolicy, ReturnRequest, ReturnStatus
from oms.services.till_returns import RECEIPT_KEY_PREFIX

__all__ = [
    "ClaimCreate",
    "ReturnCreate",
    "ReturnDecision",
    "ReturnLabelIn",
    "ReturnPolicyRead",
    "ReturnRead",
    "ReturnReceipt",
    "TillReturnCreate",
]

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Units = Annotated[int, Field(ge=1, le=1_000_000)]


class ReturnLineIn(Strict):
    line_no: Annotated[int, Field(ge=1, le=100_000)]
    quantity: Units
    reason: Code = Field(description="One of the tenant's reason codes (GET /v1/return-policy)")


class ExchangeLineIn(Strict):
    sku: Annotated[str, StringConstraints(min_length=1, max_length=lengths.SKU)]
    quantity: Units


class ReturnCreate(Strict):
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=500)]
    resolution: Resolution = Resolution.REFUND
    exchange_lines: Annotated[list[ExchangeLineIn], Field(max_length=500)] = Field(
        default_factory=list, description="exchange only: what to send instead"
    )
    note: Note | None = None


class ClaimLineIn(Strict):
    line_no: Annotated[int, Field(ge=1, le=100_000)]
    quantity: Units


class ClaimCreate(Strict):
    lines: Annotated[list[ClaimLineIn], Field(min_length=1, max_length=500)]
    kind: Literal["lost", "damaged"] = Field(description="What happened in transit")
    resolution: Literal["reship", "refund"] = Field(
        description="reship: the same units again at no charge (a linked order); refund: "
        "their value back at once"
    )


class ReturnDecision(Strict):
    note: Note | None = Field(default=None, description="Required to reject")


class ReceivedLineIn(Strict):
    line_no: Annotated[int, Field(ge=1, le=100_000)]
    quantity: Units
    disposition: Disposition


class ReturnReceipt(Strict):
    location: Annotated[str, StringConstraints(min_length=1, max_length=lengths.LOCATION_CODE)]
    lines: Annotated[list[ReceivedLineIn], Field(min_length=1, max_length=500)]


class TillReturnLineIn(Strict):
    line_no: Annotated[int, Field(ge=1, le=100_000)]
    quantity: Units
    reason: Code = Field(description="One of the tenant's reason codes (GET /v1/return-policy)")
    disposition: Disposition = Field(
        default=Disposition.RESTOCK, description="restock (sellable again), quarantine, dispose"
    )


class TillReturnCreate(Strict):
    receipt_id: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True,
            min_length=1,
            max_length=lengths.IDEMPOTENCY_KEY - len(RECEIPT_KEY_PREFIX),
        ),
    ] = Field(description="The till's return receipt: the same one again is the same return")
    store_location: Annotated[
        str, StringConstraints(min_length=1, max_length=lengths.LOCATION_CODE)
    ] = Field(description="The store the units are handed back at")
    lines: Annotated[list[TillReturnLineIn], Field(min_length=1, max_length=500)]
    resolution: Literal["refund", "store_credit"] = "refund"
    note: Note | None = None


Carrier = Annotated[str, StringConstraints(min_length=1, max_length=lengths.CARRIER)]
Service = Annotated[str, StringConstraints(min_length=1, max_length=lengths.CARRIER_SERVICE)]


class ReturnLabelIn(Strict):
    location: Annotated[str, StringConstraints(min_length=1, max_length=lengths.LOCATION_CODE)]
    carrier: Carrier | None = None
    service: Service | None = None


class ReturnLabelRead(BaseModel):
    carrier: str
    service: str
    tracking_number: str
    tracking_url: str
    cost: str
    customer_paid: bool = Field(description="Its cost comes off the refund")


class ReturnLineRead(BaseModel):
    line_no: int
    sku: str
    quantity: int
    reason: str
    received: int
    restocked: int
    quarantined: int
    disposed: int


class ReturnRead(BaseModel):
    id: UUID
    order_id: UUID
    order_number: int
    status: ReturnStatus
    resolution: Resolution
    lines: list[ReturnLineRead]
    currency: str
    note: str | None
    created_at: datetime
    created_by: str
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None
    received_at: datetime | None
    refunded_at: datetime | None
    refund_amount: str | None = Field(description="What went back to the customer")
    restocking_fee: str | None
    shipping_refund: str | None
    exchange_order_id: UUID | None = Field(
        description="exchange: the linked order that sends the replacement"
    )
    exchange_credit: str | None = Field(
        description="exchange: what the returned units paid of the replacement order"
    )
    label: ReturnLabelRead | None = Field(description="The label the units come back on")
    parcel_status: str | None = Field(
        default=None, description="The return label's parcel as its carrier last reported it"
    )
    last_scan_at: datetime | None = Field(default=None, description="The parcel's latest scan")

    @classmethod
    def of(cls, found: ReturnRequest) -> ReturnRead:
        def money(amount: Decimal | None) -> str | None:
            return None if amount is None else money_text(amount, found.currency)

        return cls(
            id=found.id,
            order_id=found.order_id,
            order_number=found.order_number,
            status=found.status,
            resolution=found.resolution,
            lines=[
                ReturnLineRead(
                    line_no=ln.line_no,
                    sku=ln.sku,
                    quantity=ln.quantity,
                    reason=ln.reason,
                    received=ln.received,
                    restocked=ln.restocked,
                    quarantined=ln.quarantined,
                    disposed=ln.disposed,
                )
                for ln in found.lines
            ],
            currency=found.currency,
            note=found.note,
            created_at=found.created_at,
            created_by=found.created_by,
            decided_at=found.decided_at,
            decided_by=found.decided_by,
            decision_note=found.decision_note,
            received_at=found.received_at,
            refunded_at=found.refunded_at,
            refund_amount=money(found.refund_amount),
            restocking_fee=money(found.restocking_fee),
            shipping_refund=money(found.shipping_refund),
            exchange_order_id=found.exchange_order_id,
            exchange_credit=money(found.exchange_credit),
            label=None
            if found.label is None
            else ReturnLabelRead(
                carrier=found.label.carrier,
                service=found.label.service,
                tracking_number=found.label.tracking_number,
                tracking_url=found.label.tracking_url,
                cost=money_text(found.label.cost, found.currency),
                customer_paid=found.label.customer_paid,
            ),
            parcel_status=None if found.parcel_status is None else found.parcel_status.value,
            last_scan_at=found.last_scan_at,
        )


class ReturnPolicyRead(BaseModel):
    window_days: int
    reasons: list[str]
    final_sale_skus: list[str]
    auto_approve_below: str | None
    auto_approve_reasons: list[str]
    restocking_fee_percent: str
    fee_exempt_reasons: list[str]
    shipping_refund: Literal["full_return", "never"]
    refund_before_receipt: bool
    exchange_out_of_stock: Literal["refuse", "backorder"]
    customer_pays_label: bool
    exchange_ships: Literal["at_once", "in_transit", "received"]
    claim_on_exception: bool
    claim_after_days: int
    claim_answer: Literal["reship", "refund"]

    @classmethod
    def of(cls, policy: ReturnPolicy) -> ReturnPolicyRead:
        raw: dict[str, Any] = policy.to_dict()
        return cls(**raw)
