"""Customs rules: HS codes and origins, borders, invoice totals, postal forms, and carrier
services that stay at home."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.domain.customs import (
    CustomsLine,
    commercial_invoice,
    crosses_border,
    customs_problems,
    normal_hs_code,
    postal_form,
    shipped_value,
)
from oms.domain.rate_import import parse_rate_cards
from oms.domain.shipping import Parcel, quote
from oms.services.carriers import to_document

CARD = """
- carrier: post
  code: home
  name: Post at home
  currency: EUR
  international: false
  zones:
    regions: [{country: DE, zone: z}]
  prices:
    - {zone: z, transit_days: 1, per_kg_over: "0", breaks: [{up_to_grams: 5000, price: "2.00"}]}
"""


def test_an_hs_code_keeps_its_digits_only() -> None:
    assert normal_hs_code("6109.10 00") == "61091000"
    assert customs_problems(hs_code="61091000", origin_country="PT", description="Tee") == []
    assert [
        e.pointer for e in customs_problems(hs_code="12345", origin_country="pt", description=None)
    ] == [
        "#/hs_code",
        "#/origin_country",
    ]


@pytest.mark.parametrize(
    ("origin", "destination", "crosses"),
    [("NL", "DE", True), ("de", "DE", False), (None, "DE", False), ("NL", None, False)],
)
def test_a_border_is_crossed_only_between_two_known_countries(
    origin: str | None, destination: str | None, crosses: bool
) -> None:
    assert crosses_border(origin, destination) is crosses


@given(
    lines=st.lists(
        st.tuples(
            st.decimals(min_value=0, max_value=10_000, places=2),
            st.integers(min_value=1, max_value=50),
            st.integers(min_value=0, max_value=50),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_an_invoices_total_is_exactly_the_sum_of_its_lines(
    lines: list[tuple[Decimal, int, int]],
) -> None:
    customs_lines = [
        CustomsLine(
            sku=f"S{n}",
            description="thing",
            quantity=min(shipped, ordered),
            value=shipped_value(
                unit_price=price,
                ordered=ordered,
                discount=Decimal(0),
                shipped=min(shipped, ordered),
                currency="EUR",
            ),
            weight_grams=10,
            hs_code=None,
            origin_country=None,
        )
        for n, (price, ordered, shipped) in enumerate(lines)
    ]
    invoice = commercial_invoice(customs_lines, "EUR")
    assert invoice.total == sum(invoice.line_values)
    assert invoice.line_values == tuple(
        price * min(shipped, ordered) for price, ordered, shipped in lines
    )


def test_cn22_up_to_the_limit_then_cn23() -> None:
    assert postal_form(Decimal("425.00"), "EUR") == "CN22"
    assert postal_form(Decimal("425.01"), "EUR") == "CN23"


def test_a_domestic_only_service_is_never_quoted_across_a_border_and_keeps_its_flag() -> None:
    (service,) = parse_rate_cards(CARD, fmt="yaml")
    assert service.international is False
    common = {
        "parcel": Parcel(weight_grams=500),
        "origin": None,
        "destination": None,
        "destination_country": "DE",
        "destination_region": None,
        "ship_on": date(2031, 3, 3),
    }
    assert quote(service, origin_country="DE", **common) is not None  # type: ignore[arg-type]
    assert quote(service, origin_country="NL", **common) is None  # type: ignore[arg-type]
    (stored,) = parse_rate_cards(to_document(service)["document"], fmt="yaml")
    assert stored.international is False
