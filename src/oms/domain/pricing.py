"""Pricing an order: line subtotals, discount codes, shipping, taxes and the order total.

Every amount is a ``Decimal`` rounded half up to the currency's minor unit (``round_money``).
Merchandise discounts are applied code by code, in the order given: a percentage takes its
share of what earlier codes left, a fixed amount is capped at what is left, so the discount
never exceeds the subtotal. The order discount is then spread over the lines in proportion
to their subtotals (largest remainder, in minor units), so the line discounts add up to it
exactly. Taxes are taken as the channel gave them and are not recomputed after discounts.
Shipping goes with the goods: an order with nothing left to pay for (every line cancelled,
even with its parcel packed) is charged no shipping and no shipping tax, so its total is 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.money import is_known_currency, minor_unit_problem, minor_units, round_money

__all__ = [
    "DiscountCode",
    "DiscountKind",
    "LineInput",
    "OrderTotals",
    "PricedLine",
    "normalize_code",
    "price_order",
]

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


class DiscountKind(StrEnum):
    PERCENTAGE = "percentage"
    FIXED_AMOUNT = "fixed_amount"
    FREE_SHIPPING = "free_shipping"


def normalize_code(code: str) -> str:
    """The stored form of a code as a customer typed it: trimmed and upper-case."""
    return code.strip().upper()


@dataclass(frozen=True)
class DiscountCode:
    """A discount code a merchant defined; ``value`` is a percent or an amount by ``kind``."""

    id: UUID
    code: str
    kind: DiscountKind
    value: Decimal
    currency: str | None = None
    min_subtotal: Decimal | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    usage_limit: int | None = None
    per_customer_limit: int | None = None
    times_used: int = 0
    active: bool = True

    def validate(self) -> None:
        """Refuse an inconsistent definition with ``InvalidRequest`` listing every problem."""
        errors = [FieldError(pointer, detail) for pointer, detail in self._problems()]
        if errors:
            raise InvalidRequest("The discount code definition is inconsistent", errors)

    def _problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if not self.code or self.code != normalize_code(self.code):
            problems.append(("#/code", "must be non-empty, upper-case, without outer spaces"))
        needs_currency = self.kind is DiscountKind.FIXED_AMOUNT or self.min_subtotal is not None
        if self.currency is None:
            if needs_currency:
                problems.append(("#/currency", "required for a fixed amount or a minimum"))
        elif not is_known_currency(self.currency):
            problems.append(("#/currency", "must be the ISO 4217 code of a currency in use"))
        elif not needs_currency:
            problems.append(("#/currency", "only for a fixed amount or a minimum subtotal"))
        money_currency = (
            self.currency if self.currency and is_known_currency(self.currency) else None
        )
        value = self.value
        if not value.is_finite():
            problems.append(("#/value", "must be a number"))
        elif self.kind is DiscountKind.PERCENTAGE and not _ZERO < value <= _HUNDRED:
            problems.append(("#/value", "a percentage must be above 0 and at most 100"))
        elif self.kind is DiscountKind.FIXED_AMOUNT and value <= 0:
            problems.append(("#/value", "a fixed amount must be above 0"))
        elif self.kind is DiscountKind.FIXED_AMOUNT and money_currency is not None:
            if (problem := minor_unit_problem(value, money_currency)) is not None:
                problems.append(("#/value", problem))
        elif self.kind is DiscountKind.FREE_SHIPPING and value != 0:
            problems.append(("#/value", "must be 0 for free shipping"))
        minimum = self.min_subtotal
        if minimum is not None:
            if not minimum.is_finite() or minimum <= 0:
                problems.append(("#/min_subtotal", "must be above 0"))
            elif money_currency and (problem := minor_unit_problem(minimum, money_currency)):
                problems.append(("#/min_subtotal", problem))
        for name, moment in (("starts_at", self.starts_at), ("ends_at", self.ends_at)):
            if moment is not None and moment.utcoffset() is None:
                problems.append((f"#/{name}", "must include a time zone"))
        if (
            self.starts_at is not None
            and self.ends_at is not None
            and self.starts_at.utcoffset() is not None
            and self.ends_at.utcoffset() is not None
            and self.ends_at <= self.starts_at
        ):
            problems.append(("#/ends_at", "must be after starts_at"))
        for name, limit in (
            ("usage_limit", self.usage_limit),
            ("per_customer_limit", self.per_customer_limit),
        ):
            if limit is not None and limit < 1:
                problems.append((f"#/{name}", "must be at least 1"))
        if self.times_used < 0:
            problems.append(("#/times_used", "must not be negative"))
        return problems

    def refusal(self, *, subtotal: Decimal, currency: str, at: datetime) -> str | None:
        """Why this code does not apply to an order with this subtotal, currency and time.

        ``None`` when it applies. The window is ``starts_at <= at < ends_at``; the minimum is
        inclusive. The per-customer limit needs the customer's usage and is checked elsewhere.
        """
        if at.utcoffset() is None:
            raise ValueError("'at' must include a time zone")
        if not self.active:
            return "not active"
        if self.starts_at is not None and at < self.starts_at:
            return "not started yet"
        if self.ends_at is not None and at >= self.ends_at:
            return "expired"
        if self.usage_limit is not None and self.times_used >= self.usage_limit:
            return "used up"
        if self.currency is not None and currency != self.currency:
            return f"only for orders in {self.currency}"
        if self.min_subtotal is not None and subtotal < self.min_subtotal:
            minimum = round_money(self.min_subtotal, currency)
            return f"order subtotal below the minimum of {minimum} {currency}"
        return None


@dataclass(frozen=True)
class LineInput:
    """One order line as priced: unit price, quantity and the channel's tax for the line."""

    line_no: int
    unit_price: Decimal
    quantity: int
    tax: Decimal = _ZERO


@dataclass(frozen=True)
class PricedLine:
    """A line's subtotal, its share of the merchandise discount, its tax and its total."""

    line_no: int
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class OrderTotals:
    """The priced lines and the order's totals; ``total`` is what the customer pays."""

    lines: tuple[PricedLine, ...]
    subtotal: Decimal
    discount_total: Decimal
    shipping: Decimal
    shipping_discount: Decimal
    tax_total: Decimal
    total: Decimal


def price_order(
    *,
    currency: str,
    lines: Sequence[LineInput],
    shipping: Decimal = _ZERO,
    shipping_tax: Decimal = _ZERO,
    discounts: Sequence[DiscountCode] = (),
) -> OrderTotals:
    """Price an order: apply ``discounts`` in order and spread them over the lines.

    Taxes (line and shipping) are the channel's and are not recomputed after discounts; a
    free-shipping code removes the shipping charge but not the shipping tax the channel gave.
    Without lines (everything cancelled) there is no shipping to pay either.
    """
    _check_arguments(currency, lines, shipping, discounts)
    if not lines:
        shipping = shipping_tax = _ZERO
    subtotals = [round_money(line.unit_price * line.quantity, currency) for line in lines]
    subtotal = sum(subtotals, _ZERO)
    remaining = subtotal
    free_shipping = False
    for code in discounts:
        if code.kind is DiscountKind.PERCENTAGE:
            remaining -= min(round_money(remaining * code.value / _HUNDRED, currency), remaining)
        elif code.kind is DiscountKind.FIXED_AMOUNT:
            remaining -= min(round_money(code.value, currency), remaining)
        else:
            free_shipping = True
    discount_total = round_money(subtotal - remaining, currency)
    shares = _allocate(discount_total, subtotals, [line.line_no for line in lines], currency)
    priced = tuple(
        _priced_line(line, line_subtotal, share, currency)
        for line, line_subtotal, share in zip(lines, subtotals, shares, strict=True)
    )
    shipping_given = round_money(shipping, currency)
    shipping_discount = shipping_given if free_shipping else round_money(_ZERO, currency)
    charged_shipping = shipping_given - shipping_discount
    tax_total = sum((line.tax for line in priced), round_money(shipping_tax, currency))
    return OrderTotals(
        lines=priced,
        subtotal=round_money(subtotal, currency),
        discount_total=discount_total,
        shipping=charged_shipping,
        shipping_discount=shipping_discount,
        tax_total=tax_total,
        total=round_money(subtotal - discount_total + charged_shipping + tax_total, currency),
    )


def _check_arguments(
    currency: str,
    lines: Sequence[LineInput],
    shipping: Decimal,
    discounts: Sequence[DiscountCode],
) -> None:
    # The caller (order intake) has already validated the request; these are its bugs.
    if not is_known_currency(currency):
        raise ValueError(f"unknown currency {currency!r}")
    if len({line.line_no for line in lines}) != len(lines):
        raise ValueError("line numbers must be unique")
    for line in lines:
        if line.quantity < 1 or line.unit_price < 0:
            raise ValueError(f"line {line.line_no}: quantity below 1 or negative price")
    if shipping < 0:
        raise ValueError("shipping must not be negative")
    if len({code.id for code in discounts}) != len(discounts):
        raise ValueError("the same discount code is applied twice")
    for code in discounts:
        try:
            code.validate()
        except InvalidRequest as error:
            raise ValueError(f"discount code {code.code} is not valid") from error
        if code.currency is not None and code.currency != currency:
            raise ValueError(f"discount code {code.code} is in {code.currency}, not {currency}")


def _allocate(
    discount: Decimal, subtotals: Sequence[Decimal], line_nos: Sequence[int], currency: str
) -> list[Decimal]:
    """Split ``discount`` over lines in proportion to ``subtotals``, largest remainder first."""
    digits = minor_units(currency)
    weights = [int(amount.scaleb(digits)) for amount in subtotals]
    whole = sum(weights)
    to_share = int(discount.scaleb(digits))
    if whole == 0:
        return [round_money(_ZERO, currency) for _ in subtotals]
    units = [to_share * weight // whole for weight in weights]
    remainders = [to_share * weight % whole for weight in weights]
    # Lines with a zero remainder sort last, so a line never gets more than its subtotal.
    by_remainder = sorted(range(len(weights)), key=lambda i: (-remainders[i], line_nos[i]))
    for index in by_remainder[: to_share - sum(units)]:
        units[index] += 1
    return [round_money(Decimal(unit).scaleb(-digits), currency) for unit in units]


def _priced_line(
    line: LineInput, subtotal: Decimal, discount: Decimal, currency: str
) -> PricedLine:
    tax = round_money(line.tax, currency)
    return PricedLine(
        line_no=line.line_no,
        subtotal=subtotal,
        discount=discount,
        tax=tax,
        total=subtotal - discount + tax,
    )
