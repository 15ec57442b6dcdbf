"""Returns at the till: a customer brings units back to a store and the staff takes them in
and pays them back in one call, exactly once per return receipt (docs/returns.md, "At the
till").

    request   the tenant's policy as for any return: window, final sale, reason codes
    approve   by the staff at the counter (the policy's queue is for parcels not seen yet)
    receive   at the store, each line with its disposition (restock: available again)
    refund    through the order's gateways (the till's ``manual`` capture: cash back), or
              as store credit

Each step is the returns use case of its name, in its own transaction, with its own events
and timeline entry. The receipt id is the request's Idempotency-Key, so a call repeated
after a timeout or a crash between two steps finds the return where it stopped and takes
only the steps still to do: the units are counted once and the money paid once, however
many times (or how concurrently) the till sends it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from oms.domain.errors import FieldError, IllegalTransition, InvalidRequest
from oms.domain.orders import Actor
from oms.domain.returns import Disposition, Resolution, ReturnRequest, ReturnStatus, WantedLine
from oms.services import returns
from oms.services.payments import GatewayProvider
from oms.services.ports import UnitOfWorkFactory
from oms.services.return_stock import ReceivedUnits, receiving_location

__all__ = ["RECEIPT_KEY_PREFIX", "TillReturnLine", "return_at_till"]

# The receipt id becomes the return's Idempotency-Key with this prefix (keys are per tenant).
RECEIPT_KEY_PREFIX = "till-return:"
TILL_RESOLUTIONS = (Resolution.REFUND, Resolution.STORE_CREDIT)


@dataclass(frozen=True)
class TillReturnLine:
    """``quantity`` units of order line ``line_no`` handed back for ``reason``."""

    line_no: int
    quantity: int
    reason: str
    disposition: Disposition


def return_at_till(
    *,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    tenant_id: UUID,
    order_id: UUID,
    store: str,
    receipt_id: str,
    lines: Sequence[TillReturnLine],
    resolution: Resolution = Resolution.REFUND,
    actor: Actor,
    note: str | None = None,
    at: datetime | None = None,
) -> tuple[ReturnRequest, bool]:
    """Take units back at ``store`` and pay them back; the bool is False when the receipt
    was seen before (the steps it had not finished are finished now)."""
    if resolution not in TILL_RESOLUTIONS:
        raise InvalidRequest(
            "A till return is refunded or given as store credit; an exchange is a new sale",
            [FieldError("#/resolution", "refund or store_credit")],
        )
    with uow_factory(readonly=True) as uow:  # the store first: nothing is opened for none
        receiving_location(uow, tenant_id, store, pointer="#/store_location")
    key = f"{RECEIPT_KEY_PREFIX}{receipt_id}"
    request, created = returns.request_return(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        order_id=order_id,
        command=returns.NewReturn(
            lines=tuple(WantedLine(ln.line_no, ln.quantity, ln.reason) for ln in lines),
            resolution=resolution,
            note=note,
        ),
        actor=actor,
        idempotency_key=key,
        at=at,
        gateways=gateways,
    )
    steps: dict[ReturnStatus, Callable[[], ReturnRequest]] = {
        ReturnStatus.REQUESTED: lambda: returns.approve_return(
            uow_factory=uow_factory,
            tenant_id=tenant_id,
            return_id=request.id,
            actor=actor,
            note="taken back at the till",
            at=at,
        ),
        ReturnStatus.APPROVED: lambda: returns.receive_return(
            uow_factory=uow_factory,
            tenant_id=tenant_id,
            return_id=request.id,
            location=store,
            units=[ReceivedUnits(ln.line_no, ln.quantity, ln.disposition) for ln in lines],
            actor=actor,
            at=at,
        ),
        ReturnStatus.RECEIVED: lambda: returns.refund_return(
            uow_factory=uow_factory,
            gateways=gateways,
            tenant_id=tenant_id,
            return_id=request.id,
            actor=actor,
            idempotency_key=key,
            at=at,
        ),
    }
    for _ in range(len(steps) + 1):
        step = steps.get(request.status)
        if step is None:
            break
        try:
            request = step()
        except IllegalTransition:
            # Another call with the same receipt took this step first: go on from there.
            before = request.status
            request = returns.get_return(
                uow_factory=uow_factory, tenant_id=tenant_id, return_id=request.id
            )
            if request.status is before:
                raise
    if request.status is not ReturnStatus.REFUNDED:
        raise IllegalTransition(
            f"The till return stopped at {request.status.value}", return_id=str(request.id)
        )
    return request, created
