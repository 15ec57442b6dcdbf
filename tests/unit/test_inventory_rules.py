"""Adjustments, availability and bundles, without a database."""

from __future__ import annotations

from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.domain.errors import InvalidRequest
from oms.domain.inventory import MAX_QUANTITY, StockLevel, adjustment_delta, bundle_availability

A, B = UUID(int=1), UUID(int=2)


@pytest.mark.parametrize(
    ("on_hand", "delta", "set_on_hand", "expected"),
    [
        (10, 5, None, 5),
        (10, -10, None, -10),
        (10, None, 4, -6),
        (10, None, 10, 0),
        (0, None, 7, 7),
    ],
)
def test_an_adjustment_is_a_delta_or_a_count(
    on_hand: int, delta: int | None, set_on_hand: int | None, expected: int
) -> None:
    assert adjustment_delta(on_hand=on_hand, delta=delta, set_on_hand=set_on_hand) == expected


@pytest.mark.parametrize(
    ("on_hand", "delta", "set_on_hand"),
    [
        (3, -4, None),
        (3, None, None),
        (3, 1, 4),
        (MAX_QUANTITY, 1, None),
    ],
)
def test_an_adjustment_below_zero_or_ambiguous_is_refused(
    on_hand: int, delta: int | None, set_on_hand: int | None
) -> None:
    with pytest.raises(InvalidRequest):
        adjustment_delta(on_hand=on_hand, delta=delta, set_on_hand=set_on_hand)


@pytest.mark.parametrize(
    ("on_hand", "reserved", "safety", "available"),
    [(10, 3, 2, 5), (10, 10, 0, 0), (5, 0, 8, 0), (0, 0, 0, 0)],
)
def test_available_is_on_hand_less_reserved_less_safety_never_negative(
    on_hand: int, reserved: int, safety: int, available: int
) -> None:
    assert StockLevel("X", A, on_hand, reserved, safety).available == available


def test_a_bundle_is_available_in_whole_kits_per_location() -> None:
    stock = {("X", A): 7, ("Y", A): 2, ("X", B): 1, ("Y", B): 9}
    assert bundle_availability({"X": 2, "Y": 1}, stock) == {A: 2, B: 0}


def test_a_location_missing_a_component_has_no_bundles() -> None:
    assert bundle_availability({"X": 1, "Y": 1}, {("X", A): 5}) == {A: 0}


@given(
    on_hand=st.integers(0, 1000),
    changes=st.lists(
        st.one_of(
            st.tuples(st.just("delta"), st.integers(-1000, 1000)),
            st.tuples(st.just("count"), st.integers(0, 1000)),
        ),
        max_size=20,
    ),
)
def test_applying_accepted_adjustments_keeps_stock_equal_to_the_ledger_and_never_negative(
    on_hand: int, changes: list[tuple[str, int]]
) -> None:
    ledger = [on_hand]
    current = on_hand
    for kind, value in changes:
        try:
            change = adjustment_delta(
                on_hand=current,
                delta=value if kind == "delta" else None,
                set_on_hand=value if kind == "count" else None,
            )
        except InvalidRequest:
            continue
        current += change
        ledger.append(change)
        assert current >= 0
    assert current == sum(ledger)
