"""A return the customer asks for on the shop's order status page: the order found by its
number and the customer's email (the postal code, enough to read the page, is not enough to
ask for money back), then the same ``request_return`` staff use, as the customer; for an
exchange, what the replacement order came to (``replacement_of``).

An exchange asked for as JSON names each returned line's replacement (``LineReplacement``):
it is checked against what the status page offers for that line (``return_offer`` and
``chosen_exchange``, the form's own rule) before anything is written, and the refusals
point into that request (``#/exchange_lines/<i>/...``); a replacement the stock cannot
hold is ``ReplacementOutOfStock``, named by line, without stock figures."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from oms.domain.errors import Conflict, FieldError, IllegalTransition, InvalidRequest, NotFound
from oms.domain.holds import HoldReason
from oms.domain.orders import Actor
from oms.domain.returns import Resolution, ReturnRequest, check_request
from oms.services.common import utcnow
from oms.services.exchanges import ExchangeLine, ExchangeRefused
from oms.services.order_status import NO_MATCH
from oms.services.payments import GatewayProvider
from oms.services.ports import UnitOfWork, UnitOfWorkFactory
from oms.services.return_offer import ChoiceProblem, ReturnOffer, chosen_exchange, return_offer
from oms.services.returns import NewReturn, request_return, waiting_units_of

__all__ = [
    "LineReplacement",
    "Replacement",
    "ReplacementOutOfStock",
    "customer_return",
    "replacement_of",
]


@dataclass(frozen=True)
class LineReplacement:
    """The product returned line ``line_no`` is to be exchanged for."""

    line_no: int
    sku: str


class ReplacementOutOfStock(Conflict):
    """A replacement the stock cannot hold now, where the shop's policy refuses such
    exchanges; ``out_of_stock`` names each exchange line it concerns."""

    code = "exchange_out_of_stock"
    title = "Exchange out of stock"


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
    replacements: Sequence[LineReplacement] | None = None,
    now: datetime | None = None,
) -> ReturnRequest:
    """Open a return of the shop ``slug``'s order ``number`` for the customer whose email
    is ``email``; NotFound with the status page's words for a wrong number or email.
    ``gateways`` pay for an exchange's replacement (the returned units' credit).
    ``replacements``: an exchange's, by returned line, checked against what the status
    page offers at ``now`` (the command's ``exchange_lines`` are made from them)."""
    if replacements and command.resolution is not Resolution.EXCHANGE:
        raise InvalidRequest(
            "exchange_lines go with resolution exchange",
            [FieldError("#/exchange_lines", "only for resolution exchange")],
        )
    offer: ReturnOffer | None = None
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
        if replacements is not None and command.resolution is Resolution.EXCHANGE:
            when = now or at or utcnow()
            offer = _offer(uow, tenant.id, contact.order_id, command, when)
            command = replace(command, exchange_lines=_offered(offer, command, replacements))
    try:
        request, _ = request_return(
            uow_factory=uow_factory,
            tenant_id=tenant.id,
            order_id=contact.order_id,
            command=command,
            actor=Actor("customer", f"order {wanted}"),
            at=at,
            gateways=gateways,
        )
    except ExchangeRefused as refused:
        if offer is None or replacements is None:
            raise
        raise _out_of_stock(refused, offer, replacements) from refused
    except InvalidRequest as refused:
        if offer is not None and replacements is not None:
            _at_replacements(refused, command, replacements)
        raise
    return request


def _offer(
    uow: UnitOfWork, tenant_id: UUID, order_id: UUID, command: NewReturn, now: datetime
) -> ReturnOffer:
    """What the status page offers the order at ``now``; when it offers nothing, the
    return's own refusal (the window, the units) or that nothing was delivered yet."""
    order = uow.orders.get(tenant_id, order_id)  # with its events: when it was delivered
    if order is None:
        raise NotFound(NO_MATCH)
    offer = return_offer(uow, order, now=now)
    if offer is not None and all(offer.line(item.line_no) for item in command.lines):
        return offer
    # Something asked is not offered: the return's own refusal says why, when it has one.
    pending = waiting_units_of(uow.returns.for_order(tenant_id, order_id))
    policy = uow.returns.policy(tenant_id)
    check_request(order, command.lines, pending=pending, policy=policy, at=now)
    if offer is not None:
        return offer
    raise IllegalTransition("An exchange can be asked for once the order was delivered")


_CHOICE_WORDS = {
    ChoiceProblem.NOTHING_OFFERED: "line {n} cannot be exchanged: ask for a refund of it",
    ChoiceProblem.NOT_CHOSEN: "line {n} goes back in exchange: name its replacement",
    ChoiceProblem.NOT_OFFERED: "not offered for line {n}",
    ChoiceProblem.NOT_RETURNED: "line {n} is not among the lines sent back",
}


def _offered(
    offer: ReturnOffer, command: NewReturn, replacements: Sequence[LineReplacement]
) -> tuple[ExchangeLine, ...]:
    """The exchange lines of ``replacements`` (``chosen_exchange``), or InvalidRequest
    pointing at each replacement (or returned line) that is not what the page offers."""
    errors: list[FieldError] = []
    chosen: dict[int, str] = {}
    at_index: dict[int, int] = {}
    for index, wanted in enumerate(replacements):
        if wanted.line_no in chosen:
            detail = f"line {wanted.line_no} has a replacement already"
            errors.append(FieldError(f"#/exchange_lines/{index}/line_no", detail))
            continue
        chosen[wanted.line_no] = wanted.sku
        at_index[wanted.line_no] = index
    checked = chosen_exchange(offer, command.lines, chosen)
    first_of: dict[int, int] = {}
    for index, item in reversed(list(enumerate(command.lines))):
        first_of[item.line_no] = index
    for line_no, problem in sorted(checked.problems.items()):
        detail = _CHOICE_WORDS[problem].format(n=line_no)
        if line_no in at_index:
            field = "line_no" if problem is ChoiceProblem.NOT_RETURNED else "sku"
            errors.append(FieldError(f"#/exchange_lines/{at_index[line_no]}/{field}", detail))
        else:
            errors.append(FieldError(f"#/lines/{first_of[line_no]}", detail))
    if errors:
        raise InvalidRequest("The exchange asks for what is not offered", errors)
    return checked.lines


def _choosing(replacements: Sequence[LineReplacement], sku: str) -> list[int]:
    """The indexes of the replacements that name ``sku``."""
    return [index for index, wanted in enumerate(replacements) if wanted.sku == sku]


def _out_of_stock(
    refused: ExchangeRefused, offer: ReturnOffer, replacements: Sequence[LineReplacement]
) -> ReplacementOutOfStock:
    """The stock's refusal said by the replacements it concerns, in the page's names."""
    names = {c.sku: c.name for line in offer.lines for c in line.exchanges}
    short = [s.sku for s in refused.shortages]
    items: list[dict[str, Any]] = [
        {
            "pointer": f"#/exchange_lines/{index}/sku",
            "line_no": replacements[index].line_no,
            "sku": sku,
        }
        for sku in short
        for index in _choosing(replacements, sku)
    ]
    said = ", ".join(names.get(sku, sku) for sku in short)
    return ReplacementOutOfStock(
        f"Out of stock now: {said}; choose another item, or a refund", out_of_stock=items
    )


def _at_replacements(
    refused: InvalidRequest, command: NewReturn, replacements: Sequence[LineReplacement]
) -> None:
    """Move the use case's pointers at its exchange lines (one per product asked for) to
    the replacements that named the product."""
    errors: list[FieldError] = []
    for error in refused.errors:
        parts = error.pointer.split("/")
        if len(parts) > 2 and parts[1] == "exchange_lines" and parts[2].isdigit():
            asked = int(parts[2])
            if asked < len(command.exchange_lines):
                sku = command.exchange_lines[asked].sku
                errors += [
                    FieldError(f"#/exchange_lines/{index}/sku", error.detail)
                    for index in _choosing(replacements, sku)
                ]
                continue
        errors.append(error)
    refused.errors = errors


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
