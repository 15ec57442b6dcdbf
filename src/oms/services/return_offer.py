"""What the order status page offers to send back: once a parcel of the order was delivered
(or a pickup collected) and while the return window is open, the lines with units a new
return may still take (``returnable_units``: shipped, not back, not waited for by an open
return; never digital or final sale), the shop's reason codes and the resolutions the
customer may choose. The request itself goes through ``customer_returns.customer_return``,
which checks all of it again under the order's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from oms.domain.orders import Order
from oms.domain.returns import last_delivery, returnable_units, window_start
from oms.services.ports import UnitOfWork
from oms.services.returns import waiting_units_of

__all__ = ["ReturnOffer", "ReturnableLine", "return_offer"]


@dataclass(frozen=True)
class ReturnableLine:
    """Units of one order line the customer may still send back."""

    line_no: int
    name: str
    units: int


@dataclass(frozen=True)
class ReturnOffer:
    """The return form's choices: lines, reason codes, resolutions, the window's last day."""

    lines: tuple[ReturnableLine, ...]
    reasons: tuple[str, ...]
    resolutions: tuple[str, ...]  # "refund", and "store_credit" for an order with a customer
    closes_on: date


def return_offer(uow: UnitOfWork, order: Order, *, now: datetime) -> ReturnOffer | None:
    """What ``order`` may send back at ``now``, read in this transaction; None when nothing
    (not delivered yet, the window closed, every unit returned or asked for)."""
    if last_delivery(order) is None:
        return None
    started = window_start(order)
    policy = uow.returns.policy(order.tenant_id)
    assert started is not None  # delivered, so it started
    closes = started + timedelta(days=policy.window_days)
    if now >= closes:
        return None
    pending = waiting_units_of(uow.returns.for_order(order.tenant_id, order.id))
    lines = tuple(
        ReturnableLine(line.line_no, line.name, units)
        for line in order.lines
        if (units := returnable_units(line, pending=pending.get(line.line_no, 0), policy=policy))
    )
    if not lines:
        return None
    resolutions = ("refund", "store_credit") if order.customer_id else ("refund",)
    return ReturnOffer(
        lines=lines,
        reasons=tuple(policy.reasons),
        resolutions=resolutions,
        closes_on=(closes - timedelta(microseconds=1)).date(),
    )
