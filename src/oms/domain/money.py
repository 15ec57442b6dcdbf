"""Money: ``Decimal`` amounts in a currency, rounded to the currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies

__all__ = ["MAX_AMOUNT", "is_known_currency", "minor_units", "round_money"]

# Every stored amount is below this: NUMERIC(18, 4) holds 14 digits before the point.
MAX_AMOUNT = Decimal(10) ** 14


@lru_cache(maxsize=1)
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def is_known_currency(code: str) -> bool:
    """True when ``code`` is an ISO 4217 currency code (upper case)."""
    return code in _currencies()


@lru_cache(maxsize=256)
def minor_units(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (2 for EUR, 0 for JPY, 3 for KWD)."""
    return int(get_currency_precision(currency))


@lru_cache(maxsize=256)
def _minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency`` as an exponent for ``quantize``: 0.01 for EUR."""
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor unit; the one rounding rule used everywhere."""
    return amount.quantize(_minor_unit(currency), rounding=ROUND_HALF_UP)
