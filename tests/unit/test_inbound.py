"""Inbound rules without a database: receiving scans classified, variance, bins, ETAs."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.domain.inbound import (
    Condition,
    InboundLine,
    IncomingSupply,
    PoStatus,
    PurchaseOrderLine,
    carton_report,
    classify_scan,
    eta_for,
    po_status,
    suggest_bin,
    variance_report,
)

PO = UUID(int=1)


@settings(max_examples=200)
@given(
    expected=st.integers(min_value=0, max_value=50),
    scans=st.lists(
        st.tuples(st.integers(min_value=1, max_value=30), st.sampled_from(list(Condition))),
        max_size=8,
    ),
)
def test_the_variance_is_what_was_counted_less_what_was_announced(
    expected: int, scans: list[tuple[int, Condition]]
) -> None:
    line = InboundLine(sku="TEE", expected=expected)
    overs = 0
    for quantity, condition in scans:
        outcome = classify_scan(
            line, sku="TEE", quantity=quantity, condition=condition, reason=None
        )
        line.received_good += outcome.good
        line.received_damaged += outcome.damaged
        overs += sum(int(r.split()[0]) for kind, r in outcome.exceptions if kind == "over")
    (report,) = variance_report([line])

    assert report.received == sum(q for q, _ in scans)
    assert report.variance == report.received - expected
    assert report.damaged == sum(q for q, c in scans if c is Condition.DAMAGED)
    # The units flagged over add up to the good units beyond what was announced.
    assert overs == max(0, line.received_good - expected)


@pytest.mark.parametrize(
    ("received", "sent", "cancelled", "status"),
    [
        ((0, 0), False, False, PoStatus.DRAFT),
        ((0, 0), True, False, PoStatus.SENT),
        ((3, 0), True, False, PoStatus.PARTIALLY_RECEIVED),
        ((5, 4), True, False, PoStatus.RECEIVED),
        ((6, 4), True, False, PoStatus.RECEIVED),
        ((0, 0), True, True, PoStatus.CANCELLED),
    ],
)
def test_a_purchase_orders_status_follows_its_lines(
    received: tuple[int, int], sent: bool, cancelled: bool, status: PoStatus
) -> None:
    lines = [
        PurchaseOrderLine(1, "A", 5, unit_cost=0, received=received[0]),  # type: ignore[arg-type]
        PurchaseOrderLine(2, "B", 4, unit_cost=0, received=received[1]),  # type: ignore[arg-type]
    ]
    assert po_status(sent=sent, cancelled=cancelled, lines=lines) is status


@pytest.mark.parametrize(
    ("ahead", "need", "eta"),
    [(0, 2, date(2026, 12, 14)), (2, 3, date(2026, 12, 21)), (0, 8, None), (7, 1, None)],
)
def test_a_backorder_waits_for_the_delivery_that_covers_what_waits_before_it(
    ahead: int, need: int, eta: date | None
) -> None:
    incoming = [
        IncomingSupply("A", "WH", date(2026, 12, 21), 5, PO),
        IncomingSupply("A", "WH", date(2026, 12, 14), 2, PO),
    ]
    assert eta_for(incoming, ahead=ahead, need=need) == eta


def test_the_suggested_bin_is_the_skus_own_else_the_first_empty_one() -> None:
    known = ["C-01", "A-01", "B-01"]
    assert suggest_bin(current="Z-09", known=known, occupied={"Z-09"}) == "Z-09"
    assert suggest_bin(current=None, known=known, occupied={"A-01"}) == "B-01"
    assert suggest_bin(current=None, known=known, occupied=set(known)) is None


@pytest.mark.parametrize(
    ("announced", "received", "verdicts"),
    [
        ({"C1": {"A": 2}}, {("C1", "A"): 2}, [("C1", 2, 2, "exact")]),
        ({"C1": {"A": 2}}, {}, [("C1", 2, 0, "short")]),
        ({"C1": {"A": 2}}, {("C1", "A"): 3}, [("C1", 2, 3, "over")]),
        ({"C1": {"A": 2, "B": 1}}, {("C1", "A"): 3}, [("C1", 3, 3, "mixed")]),
        ({}, {("C9", "A"): 1}, [("C9", 0, 1, "unexpected")]),
        (
            {"C2": {"A": 1}, "C1": {"B": 1}},
            {("C1", "B"): 1, ("C2", "A"): 1},
            [("C1", 1, 1, "exact"), ("C2", 1, 1, "exact")],
        ),
    ],
)
def test_each_carton_gets_its_verdict(
    announced: dict[str, dict[str, int]],
    received: dict[tuple[str, str], int],
    verdicts: list[tuple[str, int, int, str]],
) -> None:
    report = carton_report(announced, received)

    assert [(c.code, c.expected, c.received, c.verdict) for c in report] == verdicts
