"""Customs: what a parcel that crosses a border must declare, and who pays the duties.

- A product carries its **HS code** (the Harmonized System tariff number: 6 digits shared
  worldwide, up to 10 with a country's own extension; dots and spaces are dropped), its
  **country of origin** (ISO 3166-1 alpha-2) and a plain **customs description**.
- An order carries its **duties terms**: ``DAP`` (delivered at place: the receiver pays
  duties and import taxes on arrival) or ``DDP`` (delivered duty paid: the sender does).
- A shipment **crosses a border** when the country it leaves from differs from the
  destination's. It then needs a **commercial invoice** (``commercial_invoice``): one line
  per SKU shipped, its value the order line's unit price times the units shipped, the total
  their sum, exactly.
- Postal services need the UPU's **CN22** form for a parcel worth up to 300 SDR (425 EUR
  is the usual conversion, ``CN22_LIMIT``), else **CN23**; ``postal_form`` picks it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from oms.domain import lengths
from oms.domain.errors import FieldError
from oms.domain.money import round_money

__all__ = [
    "CN22_LIMIT",
    "CustomsLine",
    "DutiesTerms",
    "Invoice",
    "commercial_invoice",
    "crosses_border",
    "customs_problems",
    "normal_hs_code",
    "postal_form",
    "shipped_value",
]

# 300 SDR at the conversion postal operators publish (the UPU's CN22 limit), per currency;
# a currency not listed is compared after no conversion (its amount as it is).
CN22_LIMIT = {"EUR": Decimal(425), "GBP": Decimal(370), "USD": Decimal(400), "CHF": Decimal(400)}
_HS = re.compile(r"^\d{6,10}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class DutiesTerms(StrEnum):
    DAP = "DAP"
    DDP = "DDP"


def normal_hs_code(code: str) -> str:
    """An HS code as stored: digits only (``"6109.10.00"`` gives ``"61091000"``)."""
    return re.sub(r"[.\s]", "", code)


def customs_problems(
    *, hs_code: str | None, origin_country: str | None, description: str | None
) -> list[FieldError]:
    """What is wrong with a product's customs fields (each may be absent)."""
    problems = []
    if hs_code is not None and not _HS.match(hs_code):
        problems.append(FieldError("#/hs_code", "must be 6 to 10 digits (dots allowed)"))
    if origin_country is not None and not _COUNTRY.match(origin_country):
        problems.append(FieldError("#/origin_country", "must be an ISO 3166-1 alpha-2 code"))
    if description is not None and not (0 < len(description) <= lengths.CUSTOMS_DESCRIPTION):
        problems.append(
            FieldError("#/customs_description", f"1 to {lengths.CUSTOMS_DESCRIPTION} characters")
        )
    return problems


def crosses_border(origin_country: str | None, destination_country: str | None) -> bool:
    """True when both countries are known and differ."""
    if not origin_country or not destination_country:
        return False
    return origin_country.upper() != destination_country.upper()


@dataclass(frozen=True)
class CustomsLine:
    """Units of one SKU in a parcel, as a customs form declares them; ``value`` is what the
    customer paid for those units (``shipped_value``)."""

    sku: str
    description: str
    quantity: int
    value: Decimal
    weight_grams: int  # of all its units
    hs_code: str | None
    origin_country: str | None


def shipped_value(
    *, unit_price: Decimal, ordered: int, discount: Decimal, shipped: int, currency: str
) -> Decimal:
    """The value of ``shipped`` of an order line's ``ordered`` units: the line's price after
    its discount, in proportion, rounded once (as payment captures what ships)."""
    if ordered <= 0:
        return round_money(Decimal(0), currency)
    return round_money((unit_price * ordered - discount) * shipped / ordered, currency)


@dataclass(frozen=True)
class Invoice:
    """A commercial invoice's figures: lines rounded once each, the total their sum."""

    currency: str
    lines: tuple[CustomsLine, ...]
    line_values: tuple[Decimal, ...]
    total: Decimal
    weight_grams: int


def commercial_invoice(lines: Sequence[CustomsLine], currency: str) -> Invoice:
    """The invoice of what was shipped: each line's value rounded to the currency, the
    total the sum of those (so the lines always add up to it)."""
    values = tuple(round_money(line.value, currency) for line in lines)
    return Invoice(
        currency=currency,
        lines=tuple(lines),
        line_values=values,
        total=sum(values, round_money(Decimal(0), currency)),
        weight_grams=sum(line.weight_grams for line in lines),
    )


def postal_form(total: Decimal, currency: str) -> str:
    """ "CN22" for a parcel worth up to the limit, else "CN23"."""
    limit = CN22_LIMIT.get(currency, Decimal(425))
    return "CN22" if total <= limit else "CN23"
