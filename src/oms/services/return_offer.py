"""What the order status page offers to send back: once a parcel of the order was delivered
(or a pickup collected) and while the return window is open, the lines with units a new
return may still take (``returnable_units``: shipped, not back, not waited for by an open
return; never digital or final sale), the shop's reason codes and the resolutions the
customer may choose; and for an exchange, what each line may be exchanged for
(``oms.domain.exchange_choices``: the products of the returned product's category, with a
stock hint). The request itself goes through ``customer_returns.customer_return``, which
checks all of it again under the order's lock.

What an exchange may ask for is ``chosen_exchange``: each returned line's replacement one of
the products offered for that line, as many units as the line sends back; the status page's
form and its JSON twin both ask it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from oms.domain.catalogue import Product
from oms.domain.exchange_choices import (
    CHOICES_PER_LINE,
    EXCHANGE_KINDS,
    ExchangeChoice,
    exchange_choices,
)
from oms.domain.orders import Order
from oms.domain.returns import (
    ReturnPolicy,
    WantedLine,
    last_delivery,
    returnable_units,
    window_start,
)
from oms.services.exchanges import ExchangeLine
from oms.services.inventory import available_units
from oms.services.ports import UnitOfWork
from oms.services.returns import waiting_units_of

__all__ = [
    "ChoiceProblem",
    "ChosenExchange",
    "ReturnOffer",
    "ReturnableLine",
    "chosen_exchange",
    "exchange_lines_of",
    "return_offer",
]


@dataclass(frozen=True)
class ReturnableLine:
    """Units of one order line the customer may still send back."""

    line_no: int
    name: str
    units: int
    exchanges: tuple[ExchangeChoice, ...] = ()  # what it may be exchanged for


@dataclass(frozen=True)
class ReturnOffer:
    """The return form's choices: lines, reason codes, resolutions, the window's last day."""

    lines: tuple[ReturnableLine, ...]
    reasons: tuple[str, ...]
    resolutions: tuple[str, ...]  # "refund"; "store_credit" with a customer; "exchange"
    closes_on: date

    def line(self, line_no: int) -> ReturnableLine | None:
        """The offered line numbered ``line_no``, if offered."""
        return next((line for line in self.lines if line.line_no == line_no), None)


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
    units = {
        line.line_no: left
        for line in order.lines
        if (left := returnable_units(line, pending=pending.get(line.line_no, 0), policy=policy))
    }
    if not units:
        return None
    choices = _exchange_choices(uow, order, units, policy)
    lines = tuple(
        ReturnableLine(line.line_no, line.name, units[line.line_no], choices.get(line.sku, ()))
        for line in order.lines
        if line.line_no in units
    )
    resolutions: tuple[str, ...] = ("refund", "store_credit") if order.customer_id else ("refund",)
    if any(line.exchanges for line in lines):
        resolutions += ("exchange",)
    return ReturnOffer(
        lines=lines,
        reasons=tuple(policy.reasons),
        resolutions=resolutions,
        closes_on=(closes - timedelta(microseconds=1)).date(),
    )


def _exchange_choices(
    uow: UnitOfWork, order: Order, units: dict[int, int], policy: ReturnPolicy
) -> dict[str, tuple[ExchangeChoice, ...]]:
    """What each returnable line's SKU may be exchanged for: one read of the lines'
    products, one of each category's, one of their stock."""
    skus = {line.sku for line in order.lines if line.line_no in units}
    returned = uow.products.by_skus(order.tenant_id, skus)
    candidates: dict[str, Product] = dict(returned)
    for category in sorted({p.category for p in returned.values() if p.category}):
        found = uow.products.on_sale_in_category(
            order.tenant_id,
            category,
            kinds=EXCHANGE_KINDS,
            currency=order.currency,
            limit=CHOICES_PER_LINE,
        )
        candidates.update((p.sku, p) for p in found)
    offered = [p for p in candidates.values() if p.kind in EXCHANGE_KINDS and not p.archived]
    available = available_units(uow, order.tenant_id, offered)
    return {
        sku: exchange_choices(
            returned.get(sku),
            candidates.values(),
            currency=order.currency,
            available=available,
            shortage=policy.exchange_out_of_stock,
        )
        for sku in skus
    }


class ChoiceProblem(StrEnum):
    """Why a returned line's replacement may not be asked for."""

    NOTHING_OFFERED = "nothing_offered"  # the line offers nothing to exchange it for
    NOT_CHOSEN = "not_chosen"  # a returned line without a replacement
    NOT_OFFERED = "not_offered"  # a product that is not among the line's choices
    NOT_RETURNED = "not_returned"  # a replacement for a line that is not sent back


@dataclass(frozen=True)
class ChosenExchange:
    """An exchange as chosen: the replacements to ask for, or the problems by line number."""

    lines: tuple[ExchangeLine, ...]
    problems: Mapping[int, ChoiceProblem]


def exchange_lines_of(
    wanted: Sequence[WantedLine], chosen: Mapping[int, str]
) -> tuple[ExchangeLine, ...]:
    """The replacements for ``wanted`` where ``chosen`` names each line's product: each
    product once, with the units of every returned line that chose it, in the lines' order."""
    units: dict[str, int] = {}
    for item in wanted:
        if sku := chosen.get(item.line_no):
            units[sku] = units.get(sku, 0) + item.quantity
    return tuple(ExchangeLine(sku, quantity) for sku, quantity in units.items())


def chosen_exchange(
    offer: ReturnOffer, wanted: Sequence[WantedLine], chosen: Mapping[int, str]
) -> ChosenExchange:
    """Check an exchange of ``wanted`` against ``offer``: every returned line names
    (``chosen``, by line number) one of the products offered for it, and nothing else is
    named; the replacements are as many units as each line sends back."""
    returned = {item.line_no for item in wanted}
    problems = dict.fromkeys(chosen.keys() - returned, ChoiceProblem.NOT_RETURNED)
    for line_no in sorted(returned):
        line, sku = offer.line(line_no), chosen.get(line_no)
        if line is None or not line.exchanges:
            problems[line_no] = ChoiceProblem.NOTHING_OFFERED
        elif not sku:
            problems[line_no] = ChoiceProblem.NOT_CHOSEN
        elif sku not in {choice.sku for choice in line.exchanges}:
            problems[line_no] = ChoiceProblem.NOT_OFFERED
    if problems:
        return ChosenExchange((), problems)
    return ChosenExchange(exchange_lines_of(wanted, chosen), {})
