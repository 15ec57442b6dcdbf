"""What a return pays back, to the cent.

A line's value is its total (units after its share of the order's discounts, with its tax).
Units of a line are paid back cumulatively: when ``k`` of its ``n`` billable units were
refunded before, ``u`` more are worth ``round(T * (k + u) / n) - round(T * k / n)``, so the
returns of a line, however split, add up to exactly ``T``. Shipping (with its tax, less
a free-shipping discount: whatever the order's total holds beyond its lines) comes back with
the return that completes a full return, when the policy says ``full_return``. The
restocking fee is the policy's percentage of the merchandise value of the lines whose reason
is not the merchant's fault. Whatever the sum, a refund never exceeds what the order still
keeps of its captures, so refunds never exceed captures.

    amount = min(kept, merchandise - fee + shipping)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from oms.domain.catalogue import ProductKind
from oms.domain.money import round_money
from oms.domain.orders import Order
from oms.domain.returns import ReturnLine, ReturnPolicy, ShippingRefund

__all__ = ["RefundQuote", "auto_approves", "quote_refund", "units_value"]

ZERO = Decimal(0)


@dataclass(frozen=True)
class RefundQuote:
    """The parts of one return's refund; ``amount`` is what goes back to the customer."""

    merchandise: Decimal
    fee: Decimal
    shipping: Decimal
    amount: Decimal
    lines: Mapping[int, Decimal]


def units_value(order: Order, line_no: int, *, before: int, units: int) -> Decimal:
    """What ``units`` more of a line are worth after ``before`` were paid back already."""
    line = order.line(line_no)
    if units <= 0 or line.billable <= 0:
        return ZERO
    total = line.total(order.currency)
    upto = min(line.billable, before + units)
    start = min(line.billable, before)
    return round_money(total * upto / line.billable, order.currency) - round_money(
        total * start / line.billable, order.currency
    )


def _shipping_part(order: Order) -> Decimal:
    """What the order's total holds beyond its lines: shipping, its tax, less free shipping."""
    totals = order.totals or order.reprice()
    lines = sum((ln.total(order.currency) for ln in order.lines if ln.billable > 0), ZERO)
    return max(ZERO, totals.total - lines)


def quote_refund(
    order: Order,
    lines: Sequence[ReturnLine],
    units: Mapping[int, int],
    *,
    refunded_before: Mapping[int, int],
    policy: ReturnPolicy,
    kept: Decimal,
) -> RefundQuote:
    """The refund for ``units`` (line -> units) of a return's ``lines``, given the units of
    each line refunded by earlier returns and what the order ``kept`` of its captures."""
    currency = order.currency
    values: dict[int, Decimal] = {}
    fee_base = ZERO
    for line in lines:
        count = units.get(line.line_no, 0)
        value = units_value(
            order, line.line_no, before=refunded_before.get(line.line_no, 0), units=count
        )
        values[line.line_no] = value
        if line.reason not in policy.fee_exempt_reasons:
            fee_base += value
    merchandise = sum(values.values(), ZERO)
    fee = round_money(fee_base * policy.restocking_fee_percent / 100, currency)
    shipping = ZERO
    if policy.shipping_refund is ShippingRefund.FULL_RETURN:
        after = dict(refunded_before)
        for line_no, count in units.items():
            after[line_no] = after.get(line_no, 0) + count
        physical = [
            ln for ln in order.lines if ln.billable > 0 and ln.kind is not ProductKind.DIGITAL
        ]
        if physical and all(after.get(ln.line_no, 0) >= ln.billable for ln in physical):
            shipping = _shipping_part(order)
    amount = max(ZERO, min(kept, merchandise - fee + shipping))
    return RefundQuote(
        merchandise=round_money(merchandise, currency),
        fee=fee,
        shipping=round_money(shipping, currency),
        amount=round_money(amount, currency),
        lines=values,
    )


def auto_approves(policy: ReturnPolicy, lines: Sequence[ReturnLine], *, value: Decimal) -> bool:
    """True when no person need look: every reason is one the policy approves by itself,
    or the return is worth less than the policy's ``auto_approve_below``."""
    if lines and all(line.reason in policy.auto_approve_reasons for line in lines):
        return True
    return policy.auto_approve_below is not None and value < policy.auto_approve_below
