"""A return the customer asks for on the shop's order status page: the order found by its
number and the customer's email (the postal code, enough to read the page, is not enough to
ask for money back), then the same ``request_return`` staff use, as the customer; for an
exchange, what the replacement order came to (``replacement_of``)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from oms.domain.errors import NotFound
from oms.domain.holds import HoldReason
from oms.domain.orders import Actor
from oms.domain.returns import ReturnRequest
from oms.services.order_status import NO_MATCH
from oms.services.payments import GatewayProvider
from oms.services.ports import UnitOfWorkFactory
from oms.services.returns import NewReturn, request_return

__all__ = ["Replacement", "customer_return", "replacement_of"]


@dataclass(frozen=True)
class Replacement:
    """An exchange's replacement order as its customer is told about it."""

    number: int
    items: tuple[tuple[str, int], ...]  # (name, units)
    total: Decimal
    covered: Decimal  # what the units sent back pay of it
    currency: str
    backordered: bool  # some of it waits for stock
    waits_for: str | None  # held until the return is "in_transit" or "received"; None: not held

    @property
    def to_pay(self) -> Decimal:
        """What the customer still owes for it (the dearer part of the exchange)."""
        return max(self.total - self.covered, Decimal(0))


def _same(given: str, known: str | None) -> bool:
    # Compared in constant time whether or not the order exists.
    return hmac.compare_digest(given.encode(), (known or "").encode()) and known is not None


def customer_return(
    *,
    uow_factory: UnitOfWorkFactory,
    slug: str,
    number: str,
    email: str,
    command: NewReturn,
    at: datetime | None = None,
    gateways: GatewayProvider | None = None,
) -> ReturnRequest:
    """Open a return of the shop ``slug``'s order ``number`` for the customer whose email
    is ``email``; NotFound with the status page's words for a wrong number or email.
    ``gateways`` pay for an exchange's replacement (the returned units' credit)."""
    with uow_factory(readonly=True) as uow:
        tenant = uow.tenants.by_slug(slug.strip().casefold())
        if tenant is None:
            raise NotFound(f"No shop {slug!r}")
        try:
            wanted = int(number.strip().lstrip("#"))
        except ValueError:
            wanted = -1
        contact = uow.orders.contact_by_number(tenant.id, wanted) if wanted > 0 else None
        known = None if contact is None or not contact.email else contact.email.casefold()
        if not _same(email.strip().casefold(), known) or contact is None:
            raise NotFound(NO_MATCH)
    request, _ = request_return(
        uow_factory=uow_factory,
        tenant_id=tenant.id,
        order_id=contact.order_id,
        command=command,
        actor=Actor("customer", f"order {wanted}"),
        at=at,
        gateways=gateways,
    )
    return request


def replacement_of(*, uow_factory: UnitOfWorkFactory, request: ReturnRequest) -> Replacement | None:
    """The replacement order of an exchange as it stands now; None for any other return."""
    if request.exchange_order_id is None:
        return None
    with uow_factory(readonly=True) as uow:
        order = uow.orders.get(request.tenant_id, request.exchange_order_id, with_events=False)
        policy = uow.returns.policy(request.tenant_id)
    if order is None:
        return None
    held = any(h.reason is HoldReason.AWAITING_RETURN for h in order.open_holds)
    return Replacement(
        number=order.number,
        items=tuple((line.name, line.quantity) for line in order.lines),
        total=order.total,
        covered=request.exchange_credit or Decimal(0),
        currency=order.currency,
        backordered=any(line.backordered for line in order.lines),
        waits_for=policy.exchange_ships.value if held else None,
    )
