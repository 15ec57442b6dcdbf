"""What a returned line may be exchanged for: the shop's products of the returned product's
category sold now (itself included), or itself alone when uncategorised; never digital,
archived, another currency or another shop's; each with its stock hint by the policy."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from oms.domain.catalogue import Product, ProductKind
from oms.domain.exchange_choices import (
    CHOICES_PER_LINE,
    StockHint,
    exchange_choices,
    may_replace,
)
from oms.domain.returns import ExchangeShortage

SHOP = uuid4()
T0 = datetime(2031, 3, 1, tzinfo=UTC)


def tee(sku: str, *, name: str | None = None, tenant: UUID = SHOP, **changes: object) -> Product:
    made = Product(
        id=uuid4(),
        tenant_id=tenant,
        sku=sku,
        name=name or f"Tee {sku}",
        price=Decimal("20.00"),
        currency="EUR",
        category="tees",
    )
    return replace(made, **changes)


@pytest.mark.parametrize(
    ("candidate", "offered"),
    [
        (tee("S"), True),
        (tee("M"), True),  # the same again
        (tee("KIT", kind=ProductKind.BUNDLE), True),
        (tee("EBOOK", kind=ProductKind.DIGITAL), False),
        (tee("OLD", archived_at=T0), False),
        (tee("USD", currency="USD"), False),
        (tee("MUG", category="mugs"), False),
        (tee("NONE", category=None), False),
        (tee("THEIRS", tenant=uuid4()), False),
    ],
)
def test_a_product_of_the_returned_ones_category_on_sale_may_replace_it(
    candidate: Product, offered: bool
) -> None:
    assert may_replace(tee("M"), candidate, currency="EUR") is offered


def test_an_uncategorised_product_is_exchanged_for_itself_only() -> None:
    plain = tee("X", category=None)
    assert may_replace(plain, plain, currency="EUR")
    assert not may_replace(plain, tee("Y", category=None), currency="EUR")
    assert not may_replace(plain, tee("S"), currency="EUR")


@pytest.mark.parametrize(
    ("shortage", "empty"),
    [
        (ExchangeShortage.REFUSE, StockHint.OUT_OF_STOCK),
        (ExchangeShortage.BACKORDER, StockHint.BACKORDER),
    ],
)
def test_choices_come_by_name_with_their_stock_by_the_policy(
    shortage: ExchangeShortage, empty: StockHint
) -> None:
    candidates = [tee("S", name="Tee small"), tee("L", name="Tee large"), tee("MUG", category="x")]
    found = exchange_choices(
        tee("M"), candidates, currency="EUR", available={"S": 3}, shortage=shortage
    )
    assert [(c.sku, c.stock) for c in found] == [("L", empty), ("S", StockHint.IN_STOCK)]
    assert found[0].selectable is (empty is StockHint.BACKORDER)


def test_a_line_no_longer_in_the_catalogue_has_nothing_to_offer() -> None:
    found = exchange_choices(
        None, [tee("S")], currency="EUR", available={}, shortage=ExchangeShortage.REFUSE
    )
    assert found == ()


def test_the_choices_of_a_line_are_bounded() -> None:
    many = [tee(f"T{i:04}") for i in range(CHOICES_PER_LINE + 5)]
    found = exchange_choices(
        tee("M"), many, currency="EUR", available={}, shortage=ExchangeShortage.BACKORDER
    )
    assert len(found) == CHOICES_PER_LINE
