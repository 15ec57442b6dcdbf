"""Claims: parcels lost or damaged in transit. The carrier's exception, or a customer who
never got the parcel, opens a claim for the units concerned; it is answered at once with a
reshipment (a new order linked to the claim, the same units at no charge, reserved and
routed through the ordinary intake) or a refund of their value through the payment port.

A claim is stored as a return whose lines carry the reason ``lost_in_transit`` or
``damaged_in_transit`` (``ReturnRequest.is_claim``), approved from the start: its units
never come back, so they can never be returned again, and a refund needs no receipt. The
refund is the return's (``oms.services.returns.refund_return``): to the cent, no
restocking fee (the merchant's fault), shipping on a full claim as for a full return.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.ids import new_id
from oms.domain.orders import SYSTEM, Actor
from oms.domain.returns import (
    CLAIM_REASONS,
    Resolution,
    ReturnRequest,
    ReturnStatus,
    WantedLine,
    check_request,
)
from oms.services.common import retry_transient, utcnow
from oms.services.intake import LineRequest, PlaceOrder, place_in
from oms.services.payments import GatewayProvider
from oms.services.persistence import locked_order, save_order_changes
from oms.services.ports import UnitOfWorkFactory
from oms.services.returns import (
    record_step,
    refund_return,
    repeated_return,
    waiting_units_of,
)

__all__ = ["ClaimedUnits", "open_claim"]

# Claims are opened whenever the parcel's fate is known: no window applies.
CLAIM_WINDOW_DAYS = 365


@dataclass(frozen=True)
class ClaimedUnits:
    line_no: int
    quantity: int


def open_claim(
    *,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    tenant_id: UUID,
    order_id: UUID,
    units: Sequence[ClaimedUnits],
    damaged: bool,
    resolution: Resolution,
    actor: Actor,
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> ReturnRequest:
    """Open a claim for shipped ``units`` and answer it: ``reship`` (a linked no-charge
    order) or ``refund`` (their value back at once)."""
    when = at or utcnow()
    if resolution not in {Resolution.RESHIP, Resolution.REFUND}:
        raise InvalidRequest(
            "A claim is answered by a reshipment or a refund",
            [FieldError("#/resolution", "reship or refund")],
        )
    reason = CLAIM_REASONS[1] if damaged else CLAIM_REASONS[0]

    def attempt() -> ReturnRequest:
        with uow_factory() as uow:
            order = locked_order(uow, tenant_id, order_id)
            text = f"claim|{order_id}|{reason}|{resolution}|" + ";".join(
                f"{u.line_no}:{u.quantity}" for u in units
            )
            fingerprint = hashlib.sha256(text.encode()).hexdigest()
            earlier = repeated_return(uow, tenant_id, idempotency_key, fingerprint, when)
            if earlier is not None:
                return earlier
            policy = uow.returns.policy(tenant_id)
            rules = replace(
                policy,
                reasons=CLAIM_REASONS,
                window_days=CLAIM_WINDOW_DAYS,
                final_sale_skus=frozenset(),
            )
            others = uow.returns.for_order(tenant_id, order_id)
            lines = check_request(
                order,
                [WantedLine(u.line_no, u.quantity, reason) for u in units],
                pending=waiting_units_of(others),
                policy=rules,
                at=when,
            )
            claim = ReturnRequest(
                id=new_id(),
                tenant_id=tenant_id,
                order_id=order_id,
                order_number=order.number,
                status=ReturnStatus.APPROVED,
                resolution=resolution,
                lines=lines,
                currency=order.currency,
                created_at=when,
                created_by=str(actor),
                updated_at=when,
                decided_at=when,
                decided_by=str(SYSTEM),
                decision_note=reason,
            )
            extra: dict[str, str] = {}
            if resolution is Resolution.RESHIP:
                placed = place_in(
                    uow,
                    gateways,
                    None,
                    tenant_id,
                    PlaceOrder(
                        currency=order.currency,
                        lines=tuple(
                            LineRequest(ln.sku, ln.quantity, unit_price=Decimal(0)) for ln in lines
                        ),
                        channel="claim",
                        external_id=str(claim.id),
                        customer=order.customer,
                        shipping_address=order.shipping_address,
                        billing_address=order.billing_address,
                        tags=("reship",),
                        note=f"reshipment for claim {claim.id} of order {order.number}",
                        service_level=order.service_level,
                    ),
                    actor,
                    None,
                    "",
                    when,
                )
                claim.exchange_order_id = placed.order.id
                extra["reship_order_id"] = str(placed.order.id)
            record_step(order, claim, "return.requested", actor, when, claim=reason, **extra)
            record_step(order, claim, "return.approved", SYSTEM, when, automatic=True)
            uow.returns.add(claim)
            save_order_changes(uow, order, at=when)
            if idempotency_key is not None:
                uow.idempotency.attach(tenant_id, idempotency_key, claim.id)
            uow.commit()
            return claim

    claim = retry_transient(attempt)
    if resolution is Resolution.REFUND and claim.status is not ReturnStatus.REFUNDED:
        return refund_return(
            uow_factory=uow_factory,
            gateways=gateways,
            tenant_id=tenant_id,
            return_id=claim.id,
            actor=actor,
            idempotency_key=idempotency_key,
            at=when,
        )
    return claim
