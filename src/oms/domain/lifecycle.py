"""Which changes an order allows in which state: one table, one refusal message.

action          allowed when status is            and also
place_hold      open, on_hold                     -
release_hold    open, on_hold                     the hold is open; a note is given
flag            any                               a flag that stops nothing (refund_due)
cancel          open, on_hold, cancelled (no-op)  no unit has shipped
edit            open, on_hold                     not yet released for fulfilment
authorize       open, on_hold                     -
capture         open, on_hold, closed             -
refund          open, on_hold, closed, cancelled  -
void            open, on_hold, cancelled          -
release         open                              payment secured, not yet released
reroute         open, on_hold                     -
"""

from __future__ import annotations

from enum import StrEnum

from oms.domain.errors import IllegalTransition
from oms.domain.status import OrderStatus

__all__ = ["ALLOWED", "OrderAction", "ensure_allowed"]


class OrderAction(StrEnum):
    PLACE_HOLD = "place_hold"
    RELEASE_HOLD = "release_hold"
    FLAG = "flag"
    CANCEL = "cancel"
    EDIT = "edit"
    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    REFUND = "refund"
    VOID = "void"
    RELEASE = "release"
    REROUTE = "reroute"


_OPEN = frozenset({OrderStatus.OPEN, OrderStatus.ON_HOLD})

ALLOWED: dict[OrderAction, frozenset[OrderStatus]] = {
    OrderAction.PLACE_HOLD: _OPEN,
    OrderAction.RELEASE_HOLD: _OPEN,
    OrderAction.FLAG: frozenset(OrderStatus),
    OrderAction.CANCEL: _OPEN | {OrderStatus.CANCELLED},
    OrderAction.EDIT: _OPEN,
    OrderAction.AUTHORIZE: _OPEN,
    OrderAction.CAPTURE: _OPEN | {OrderStatus.CLOSED},
    OrderAction.REFUND: _OPEN | {OrderStatus.CLOSED, OrderStatus.CANCELLED},
    OrderAction.VOID: _OPEN | {OrderStatus.CANCELLED},
    OrderAction.RELEASE: frozenset({OrderStatus.OPEN}),
    OrderAction.REROUTE: _OPEN,
}

_VERB = {
    OrderAction.PLACE_HOLD: "put on hold",
    OrderAction.RELEASE_HOLD: "release a hold of",
    OrderAction.FLAG: "flag",
    OrderAction.CANCEL: "cancel",
    OrderAction.EDIT: "edit",
    OrderAction.AUTHORIZE: "authorize a payment for",
    OrderAction.CAPTURE: "capture a payment for",
    OrderAction.REFUND: "refund",
    OrderAction.VOID: "void a payment of",
    OrderAction.RELEASE: "release for fulfilment",
    OrderAction.REROUTE: "reroute",
}


def ensure_allowed(action: OrderAction, status: OrderStatus, *, released: bool = False) -> None:
    """Raise IllegalTransition (409) unless ``action`` is allowed for an order in ``status``."""
    if status not in ALLOWED[action]:
        raise IllegalTransition(
            f"Cannot {_VERB[action]} an order that is {status.value}",
            action=action.value,
            status=status.value,
        )
    if released and action in {OrderAction.EDIT, OrderAction.RELEASE}:
        raise IllegalTransition(
            f"Cannot {_VERB[action]} an order already released for fulfilment",
            action=action.value,
            status=status.value,
        )
