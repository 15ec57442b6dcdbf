"""Money: ``Decimal`` amounts in a currency, rounded to the currency's minor unit.

The rules every amount the system takes follows, in one place:

- its currency is money a shop can take (``is_known_currency``): an ISO 4217 code that is
  legal tender somewhere today by CLDR's data, so not the codes for no currency (XXX),
  testing (XTS), precious metals (XAU, XAG, XPT, XPD), accounting and bond market units
  (XDR, XSU, XUA, XBA-XBD), funds (CHE, CLF, USN...) or currencies gone (DEM, HRK);
- it has no more decimals than the currency's minor unit (``minor_unit_problem``): a JPY
  price of "1.5" is refused, never rounded to "2"; trailing zeros ("1500.00") are fine;
- it is never negative zero (``without_negative_zero``; ``round_money`` never makes one).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel.core import get_global
from babel.numbers import get_currency_precision

__all__ = [
    "MAX_AMOUNT",
    "is_known_currency",
    "minor_unit_problem",
    "minor_units",
    "round_money",
    "without_negative_zero",
]

# Every stored amount is below this: NUMERIC(18, 4) holds 14 digits before the point.
MAX_AMOUNT = Decimal(10) ** 14


@lru_cache(maxsize=1)
def _currencies() -> frozenset[str]:
    """The currencies legal tender in some territory with no end date in CLDR's data
    (fixed by the Babel version, not by today's date)."""
    spans = get_global("territory_currencies")
    return frozenset(
        code
        for territory in spans.values()
        for code, _start, end, tender in territory
        if tender and end is None
    )


def is_known_currency(code: str) -> bool:
    """True when ``code`` is money a shop can take: an upper-case ISO 4217 code that is
    legal tender somewhere today (not XXX, XTS, XAU, XDR, a fund or a currency gone)."""
    return code in _currencies()


@lru_cache(maxsize=256)
def minor_units(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (2 for EUR, 0 for JPY, 3 for KWD)."""
    return int(get_currency_precision(currency))


@lru_cache(maxsize=256)
def _minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency`` as an exponent for ``quantize``: 0.01 for EUR."""
    return Decimal(1).scaleb(-minor_units(currency))


def without_negative_zero(amount: Decimal) -> Decimal:
    """``amount``, with negative zero ("-0", "-0.00") made zero of the same exponent."""
    return amount.copy_abs() if amount.is_zero() else amount


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor unit; the one rounding rule used everywhere.
    A negative amount that rounds to zero is zero ("0.00", never "-0.00")."""
    rounded = amount.quantize(_minor_unit(currency), rounding=ROUND_HALF_UP)
    # without_negative_zero, inline: this runs for every amount of every order.
    return rounded if rounded else rounded.copy_abs()


def minor_unit_problem(amount: Decimal, currency: str) -> str | None:
    """Why ``amount`` is not an amount of ``currency`` (more decimals than its minor unit,
    or not a number); None when it is. Every amount a request gives is checked with this."""
    if not amount.is_finite():
        return "must be a number"
    try:
        if amount.quantize(_minor_unit(currency), rounding=ROUND_HALF_UP) == amount:
            return None
    except InvalidOperation:  # more digits than Decimal's context can quantize
        pass
    digits = minor_units(currency)
    if digits == 0:
        return f"must be a whole number in {currency}"
    return f"must have at most {digits} decimals in {currency}"
