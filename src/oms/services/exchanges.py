"""Exchanges: the replacement for a return, as a new order linked to it, placed at request
time in the return's own transaction through the ordinary intake (verified, priced,
reserved and routed like any order), so the size the customer wants is held at once.

The units sent back pay for it: the replacement order records their value, up to its own
total, as a capture through the ``manual`` gateway (the return's ``exchange_credit``). When
the replacement costs more, the rest is what it still owes (its ``payment_pending`` hold
waits for the customer's payment); when it costs less, the refund of the return pays back
the difference. A size out of stock is refused naming the SKU, or backordered, by the
tenant's ``exchange_out_of_stock`` policy. Rejecting the return cancels the replacement.

When it ships is the tenant's ``exchange_ships`` policy: ``at_once``, or held
(``awaiting_return``, its note saying what it waits for) until the return is in transit (the
return label's first carrier scan) or received; the return's step releases it
(``release_replacement``), so it is reserved from the start and ships when allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from oms.domain.errors import FieldError, InsufficientStock, InvalidRequest
from oms.domain.holds import HoldReason
from oms.domain.money import round_money
from oms.domain.orders import SYSTEM, Actor, Order
from oms.domain.returns import (
    ExchangeShortage,
    ReturnPolicy,
    ReturnRequest,
    exchange_may_ship,
)
from oms.services.intake import ChannelPayment, LineRequest, PlaceOrder, place_in
from oms.services.payments import GatewayProvider
from oms.services.persistence import locked_order, new_hold, save_order_changes, settle_order
from oms.services.ports import UnitOfWork

__all__ = ["ExchangeLine", "ExchangeRefused", "place_exchange", "release_replacement"]

CHANNEL = "exchange"


@dataclass(frozen=True)
class ExchangeLine:
    """``quantity`` units of ``sku`` wanted instead of what goes back."""

    sku: str
    quantity: int


class ExchangeRefused(InsufficientStock):
    """The size wanted is out of stock and the tenant's policy refuses such exchanges."""

    code = "exchange_out_of_stock"
    title = "Exchange out of stock"


def _price(uow: UnitOfWork, order: Order, wanted: Sequence[ExchangeLine]) -> Decimal:
    products = uow.products.by_skus(order.tenant_id, [w.sku for w in wanted])
    errors = [
        FieldError(f"#/exchange_lines/{i}/sku", f"no product with SKU {w.sku!r}")
        for i, w in enumerate(wanted)
        if w.sku not in products
    ]
    if errors:
        raise InvalidRequest("The exchange names unknown products", errors)
    return sum(
        (round_money(products[w.sku].price * w.quantity, order.currency) for w in wanted),
        Decimal(0),
    )


def place_exchange(
    uow: UnitOfWork,
    gateways: GatewayProvider,
    *,
    order: Order,
    request: ReturnRequest,
    wanted: Sequence[ExchangeLine],
    credit: Decimal,
    policy: ReturnPolicy,
    actor: Actor,
    at: datetime,
) -> Order:
    """Place the replacement order for ``request`` (not committed: the caller's transaction
    holds both); sets the return's ``exchange_order_id`` and ``exchange_credit``."""
    if not wanted:
        raise InvalidRequest(
            "Say what to send instead", [FieldError("#/exchange_lines", "required for exchange")]
        )
    applied = min(credit, _price(uow, order, wanted))
    command = PlaceOrder(
        currency=order.currency,
        lines=tuple(LineRequest(sku=w.sku, quantity=w.quantity) for w in wanted),
        channel=CHANNEL,
        external_id=str(request.id),
        customer=order.customer,
        shipping_address=order.shipping_address,
        billing_address=order.billing_address,
        allow_backorder=policy.exchange_out_of_stock is ExchangeShortage.BACKORDER,
        tags=("exchange",),
        note=f"exchange for return {request.id} of order {order.number}",
        payment=ChannelPayment(gateway="manual", amount=applied, captured=True)
        if applied > 0
        else None,
        service_level=order.service_level,
    )
    try:
        placed = place_in(uow, gateways, None, order.tenant_id, command, actor, None, "", at)
    except InsufficientStock as short:
        sizes = ", ".join(f"{s.sku} ({s.available} available)" for s in short.shortages)
        raise _refused(short, sizes) from short
    except InvalidRequest as refused:
        raise _at_exchange_lines(refused) from refused
    request.exchange_order_id = placed.order.id
    request.exchange_credit = applied
    if not exchange_may_ship(policy, request):
        _hold_replacement(uow, placed.order, request, policy, at)
    return placed.order


def _hold_replacement(
    uow: UnitOfWork, replacement: Order, request: ReturnRequest, policy: ReturnPolicy, at: datetime
) -> None:
    waits_for = "in transit" if policy.exchange_ships.value == "in_transit" else "received"
    hold = new_hold(
        HoldReason.AWAITING_RETURN,
        policies=uow.tenants.policies(replacement.tenant_id),
        actor=SYSTEM,
        at=at,
        note=f"ships once return {request.id} of order {request.order_number} is {waits_for}",
    )
    replacement.place_hold(hold, actor=SYSTEM, at=at)
    save_order_changes(uow, replacement, at=at)


def release_replacement(
    uow: UnitOfWork, request: ReturnRequest, policy: ReturnPolicy, *, actor: Actor, at: datetime
) -> bool:
    """Release the exchange's replacement from its ``awaiting_return`` hold once the
    return came far enough (``exchange_may_ship``); True when it was released. The caller
    holds the return's order lock (taken before the replacement's, as everywhere)."""
    if request.exchange_order_id is None or not exchange_may_ship(policy, request):
        return False
    replacement = locked_order(uow, request.tenant_id, request.exchange_order_id)
    if not any(h.reason is HoldReason.AWAITING_RETURN for h in replacement.open_holds):
        return False
    replacement.release_holds_of(
        HoldReason.AWAITING_RETURN,
        actor=actor,
        at=at,
        note=f"return {request.id} is {request.status.value.replace('_', ' ')}",
    )
    settle_order(replacement, policies=uow.tenants.policies(request.tenant_id), at=at)
    save_order_changes(uow, replacement, at=at)
    return True


def _at_exchange_lines(refused: InvalidRequest) -> InvalidRequest:
    """The intake's refusal of the replacement's lines (an archived product, a price in
    another currency) pointed at the request's ``exchange_lines``, which they were."""
    errors = [
        FieldError(
            error.pointer.replace("#/lines/", "#/exchange_lines/", 1)
            if error.pointer.startswith("#/lines/")
            else error.pointer,
            error.detail,
        )
        for error in refused.errors
    ]
    return InvalidRequest("The replacement cannot be placed as asked", errors)


def _refused(short: InsufficientStock, sizes: str) -> ExchangeRefused:
    refused = ExchangeRefused(short.shortages)
    refused.detail = f"The exchange cannot be reserved: out of stock: {sizes}"
    refused.args = (refused.detail,)
    return refused
