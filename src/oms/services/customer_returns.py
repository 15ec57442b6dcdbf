"""A return the customer asks for on the shop's order status page: the order found by its
number and the customer's email (the postal code, enough to read the page, is not enough to
ask for money back), then the same ``request_return`` staff use, as the customer."""

from __future__ import annotations

import hmac
from datetime import datetime

from oms.domain.errors import NotFound
from oms.domain.orders import Actor
from oms.domain.returns import ReturnRequest
from oms.services.order_status import NO_MATCH
from oms.services.ports import UnitOfWorkFactory
from oms.services.returns import NewReturn, request_return

__all__ = ["customer_return"]


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
) -> ReturnRequest:
    """Open a return of the shop ``slug``'s order ``number`` for the customer whose email
    is ``email``; NotFound with the status page's words for a wrong number or email."""
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
    )
    return request
