"""Refunds of an order paid partly with store credit: the credit share goes back as credit,
the parts add up to the refund, and no capture gives back more than it kept."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from oms.domain.store_credit import credit_share, split_refund

CENTS = st.integers(min_value=0, max_value=100_000).map(lambda c: Decimal(c) / 100)


def test_a_third_paid_by_credit_gets_a_third_of_a_refund_back_as_credit() -> None:
    sources = [("card", Decimal("20.00"), False), ("credit", Decimal("10.00"), True)]
    assert split_refund(sources, Decimal("15.00"), "EUR") == [
        ("credit", Decimal("5.00")),
        ("card", Decimal("10.00")),
    ]
    assert split_refund(sources, Decimal("30.00"), "EUR") == [
        ("credit", Decimal("10.00")),
        ("card", Decimal("20.00")),
    ]


def test_without_credit_a_refund_goes_newest_capture_first_as_before() -> None:
    sources = [("newer", Decimal("5.00"), False), ("older", Decimal("20.00"), False)]
    assert split_refund(sources, Decimal("8.00"), "EUR") == [
        ("newer", Decimal("5.00")),
        ("older", Decimal("3.00")),
    ]


@given(captures=st.lists(st.tuples(CENTS, st.booleans()), min_size=1, max_size=5), data=st.data())
def test_the_parts_add_up_and_stay_within_what_each_capture_kept(
    captures: list[tuple[Decimal, bool]], data: st.DataObject
) -> None:
    sources = [(n, left, credit) for n, (left, credit) in enumerate(captures)]
    kept = sum((left for left, _ in captures), Decimal(0))
    cents = data.draw(st.integers(min_value=0, max_value=int(kept * 100)))
    amount = Decimal(cents) / 100
    parts = split_refund(sources, amount, "EUR")
    assert sum((a for _, a in parts), Decimal(0)) == amount
    for n, part in parts:
        assert Decimal(0) < part <= captures[n][0]
    credit_left = sum((left for left, credit in captures if credit), Decimal(0))
    share = credit_share(
        amount=amount, credit_left=credit_left, other_left=kept - credit_left, currency="EUR"
    )
    assert sum((a for n, a in parts if captures[n][1]), Decimal(0)) == share
    if amount == kept:
        assert share == credit_left  # a whole refund gives back exactly the credit spent
