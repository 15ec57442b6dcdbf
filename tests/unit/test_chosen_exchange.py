"""What an exchange may ask for, on the status page's form and its JSON twin alike: each
returned line's replacement one of the products offered for that line, as many units as
the line sends back, one product chosen for two lines asked for once; anything else is a
problem of its line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from oms.domain.exchange_choices import ExchangeChoice, StockHint
from oms.domain.returns import WantedLine
from oms.services.exchanges import ExchangeLine
from oms.services.return_offer import (
    ChoiceProblem,
    ReturnableLine,
    ReturnOffer,
    chosen_exchange,
)


def _choice(sku: str, stock: StockHint = StockHint.IN_STOCK) -> ExchangeChoice:
    return ExchangeChoice(sku, f"Tee {sku}", Decimal("20.00"), "EUR", stock)


OFFER = ReturnOffer(
    lines=(
        ReturnableLine(
            1, "Tee M", 2, (_choice("S"), _choice("M"), _choice("L", StockHint.OUT_OF_STOCK))
        ),
        ReturnableLine(2, "Tee XL", 1, (_choice("S"), _choice("XL"))),
        ReturnableLine(3, "Gift card", 1, ()),
    ),
    reasons=("wrong_size",),
    resolutions=("refund", "exchange"),
    closes_on=date(2031, 4, 1),
)


def _wanted(*lines: tuple[int, int]) -> list[WantedLine]:
    return [WantedLine(line_no, units, "wrong_size") for line_no, units in lines]


def test_each_line_gets_its_replacement_unit_for_unit() -> None:
    checked = chosen_exchange(OFFER, _wanted((1, 2), (2, 1)), {1: "M", 2: "XL"})
    assert checked.problems == {}
    assert checked.lines == (ExchangeLine("M", 2), ExchangeLine("XL", 1))


def test_one_product_for_two_lines_is_asked_for_once_with_their_units() -> None:
    checked = chosen_exchange(OFFER, _wanted((1, 1), (2, 1), (1, 1)), {1: "S", 2: "S"})
    assert checked.lines == (ExchangeLine("S", 3),)


def test_a_choice_shown_out_of_stock_is_still_the_lines_to_ask_the_stock_for() -> None:
    # The stock answers under the order's lock (refused or backordered by the policy).
    assert chosen_exchange(OFFER, _wanted((1, 1)), {1: "L"}).lines == (ExchangeLine("L", 1),)


@pytest.mark.parametrize(
    ("wanted", "chosen", "problems"),
    [
        (_wanted((1, 1)), {1: "XL"}, {1: ChoiceProblem.NOT_OFFERED}),  # line 2's, not line 1's
        (_wanted((1, 1)), {1: "NO-SUCH"}, {1: ChoiceProblem.NOT_OFFERED}),
        (_wanted((1, 1)), {}, {1: ChoiceProblem.NOT_CHOSEN}),
        (_wanted((1, 1)), {1: ""}, {1: ChoiceProblem.NOT_CHOSEN}),
        (_wanted((3, 1)), {3: "S"}, {3: ChoiceProblem.NOTHING_OFFERED}),
        (_wanted((9, 1)), {9: "S"}, {9: ChoiceProblem.NOTHING_OFFERED}),  # not offered at all
        (_wanted((1, 1)), {1: "S", 2: "S"}, {2: ChoiceProblem.NOT_RETURNED}),
    ],
)
def test_anything_else_is_a_problem_of_its_line_and_asks_for_nothing(
    wanted: list[WantedLine], chosen: dict[int, str], problems: dict[int, ChoiceProblem]
) -> None:
    checked = chosen_exchange(OFFER, wanted, chosen)
    assert (checked.problems, checked.lines) == (problems, ())
