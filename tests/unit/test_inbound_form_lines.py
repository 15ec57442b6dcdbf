"""The lines box of the portal's inbound forms: ``SKU, quantity[, unit cost]`` per row, as
typed or pasted from a spreadsheet."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.web.portal.inbound_forms import parse_lines


@pytest.mark.parametrize(
    ("text", "with_cost", "rows", "problems"),
    [
        ("A, 2\nB;3\n\nC\t4", False, [("A", 2, None), ("B", 3, None), ("C", 4, None)], []),
        ("A, 2, 1.50", True, [("A", 2, Decimal("1.50"))], []),
        ("A, 0", False, [], ["Row 1: the quantity must be a whole number from 1 to 1,000,000"]),
        ("A, -1", False, [], ["Row 1: the quantity must be a whole number from 1 to 1,000,000"]),
        (
            "A, 1000001",
            False,
            [],
            ["Row 1: the quantity must be a whole number from 1 to 1,000,000"],
        ),
        ("\nA, 2, 1", False, [], ["Row 2: write SKU, quantity"]),
        ("A, 2", True, [], ["Row 1: write SKU, quantity, unit cost"]),
        ("A, 2, -1", True, [], ["Row 1: the unit cost must be an amount like 2.50"]),
        ("A, 2, NaN", True, [], ["Row 1: the unit cost must be an amount like 2.50"]),
        (", 2", False, [], ["Row 1: write SKU, quantity"]),
        ("  \n", False, [], ["Type at least one row: SKU, quantity"]),
    ],
)
def test_rows_are_read_and_each_bad_row_is_named(
    text: str, with_cost: bool, rows: list[tuple[str, int, Decimal | None]], problems: list[str]
) -> None:
    typed = parse_lines(text, with_cost=with_cost)

    assert (typed.rows, typed.problems) == (rows, problems)


skus = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", min_size=1, max_size=20)


@given(
    st.lists(st.tuples(skus, st.integers(1, 1_000_000), st.sampled_from([",", ";", "\t", " , "]))),
)
def test_whatever_the_separator_every_typed_row_comes_back(
    typed_rows: list[tuple[str, int, str]],
) -> None:
    text = "\n".join(f"{sku}{sep}{quantity}" for sku, quantity, sep in typed_rows)

    typed = parse_lines(text, with_cost=False)

    if typed_rows:
        assert typed.rows == [(sku, quantity, None) for sku, quantity, _ in typed_rows]
        assert typed.problems == []
    else:
        assert typed.problems == ["Type at least one row: SKU, quantity"]
