"""The fulfilment order's rules without a database: status from counts, picks, packing,
cancelling, and how component units make order-line units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.domain.errors import IllegalTransition, InvalidRequest
from oms.domain.fulfilment import (
    FulfillmentKind,
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentOrderStatus,
    derive_fulfillment_order_status,
    line_units,
    lost_line_units,
)
from oms.domain.pickup_codes import FIRST_LOCK, WRONG_CODES_PER_LOCK, PickupCodeKey, lock_after

S = FulfillmentOrderStatus
T0 = datetime(2026, 11, 27, 9, tzinfo=UTC)


def _line(quantity: int = 2, **counts: int) -> FulfillmentLine:
    return FulfillmentLine(seq=1, line_no=1, sku="X", quantity=quantity, **counts)


def _fo(*lines: FulfillmentLine, kind: FulfillmentKind = FulfillmentKind.SHIP) -> FulfillmentOrder:
    fo = FulfillmentOrder(
        id=uuid4(),
        tenant_id=uuid4(),
        order_id=uuid4(),
        order_number=1001,
        location_id=uuid4(),
        kind=kind,
        lines=list(lines),
        created_at=T0,
        updated_at=T0,
    )
    fo.refresh_status()
    return fo


@pytest.mark.parametrize(
    ("kind", "counts", "flags", "expected"),
    [
        (FulfillmentKind.SHIP, {}, {}, S.OPEN),
        (FulfillmentKind.SHIP, {}, {"in_wave": True}, S.IN_PROGRESS),
        (FulfillmentKind.SHIP, {"picked": 1}, {}, S.IN_PROGRESS),
        (FulfillmentKind.SHIP, {"picked": 2, "packed": 2}, {}, S.PACKED),
        (FulfillmentKind.SHIP, {"picked": 2, "packed": 2, "shipped": 1}, {}, S.PARTIALLY_SHIPPED),
        (FulfillmentKind.SHIP, {"picked": 2, "packed": 2, "shipped": 2}, {}, S.SHIPPED),
        (
            FulfillmentKind.SHIP,
            {"picked": 2, "packed": 2, "shipped": 2, "delivered": 2},
            {},
            S.CLOSED,
        ),
        (FulfillmentKind.SHIP, {"cancelled": 2}, {}, S.CANCELLED),
        (FulfillmentKind.SHIP, {"picked": 1, "cancelled": 1}, {}, S.IN_PROGRESS),
        (FulfillmentKind.SHIP, {"picked": 1}, {"on_hold": True}, S.ON_HOLD),
        # Everything left already: a hold changes nothing about it.
        (FulfillmentKind.SHIP, {"picked": 2, "shipped": 2}, {"on_hold": True}, S.SHIPPED),
        (FulfillmentKind.SHIP, {"picked": 2}, {"rejected": True}, S.REJECTED),
        (FulfillmentKind.PICKUP, {"picked": 2}, {}, S.READY_FOR_PICKUP),
        (FulfillmentKind.PICKUP, {"picked": 2, "shipped": 2, "delivered": 2}, {}, S.CLOSED),
    ],
)
def test_the_status_follows_from_the_counts(
    kind: FulfillmentKind, counts: dict[str, int], flags: dict[str, bool], expected: S
) -> None:
    status = derive_fulfillment_order_status(
        kind,
        [_line(**counts)],
        rejected=flags.get("rejected", False),
        on_hold=flags.get("on_hold", False),
        in_wave=flags.get("in_wave", False),
    )

    assert status is expected


@given(
    quantity=st.integers(1, 20),
    data=st.data(),
    kind=st.sampled_from(list(FulfillmentKind)),
    on_hold=st.booleans(),
    in_wave=st.booleans(),
)
def test_the_status_is_defined_for_every_consistent_set_of_counts(
    quantity: int, data: st.DataObject, kind: FulfillmentKind, on_hold: bool, in_wave: bool
) -> None:
    cancelled = data.draw(st.integers(0, quantity))
    picked = data.draw(st.integers(0, quantity - cancelled))
    packed = data.draw(st.integers(0, picked))
    shipped = data.draw(st.integers(0, picked))
    delivered = data.draw(st.integers(0, shipped))
    line = _line(
        quantity,
        cancelled=cancelled,
        picked=picked,
        packed=packed,
        shipped=shipped,
        delivered=delivered,
    )

    status = derive_fulfillment_order_status(
        kind, [line], rejected=False, on_hold=on_hold, in_wave=in_wave
    )

    assert status in set(S)
    if line.live == 0:
        assert status is S.CANCELLED
    elif delivered >= line.live:
        assert status is S.CLOSED


def test_a_short_pick_cancels_the_missing_units_and_reports_them() -> None:
    fo = _fo(_line(3))

    shorts = fo.record_picks({1: 2})

    assert shorts == {1: 1}
    (line,) = fo.lines
    assert (line.picked, line.short, line.cancelled, line.to_pick) == (2, 1, 1, 0)
    assert fo.status is S.IN_PROGRESS


def test_picking_more_than_the_list_asks_for_is_refused_and_changes_nothing() -> None:
    fo = _fo(_line(2))

    with pytest.raises(InvalidRequest):
        fo.record_picks({1: 3})
    with pytest.raises(InvalidRequest):
        fo.record_picks({7: 1})

    assert fo.lines[0].picked == 0


def test_packing_takes_only_picked_units_and_shipping_only_packed_or_picked_ones() -> None:
    fo = _fo(_line(2))
    fo.record_picks({})

    taken = fo.pack({"X": 1})

    assert [(line.seq, units) for line, units in taken] == [(1, 1)]
    assert fo.lines[0].to_pack == 1
    with pytest.raises(IllegalTransition):
        fo.pack({"X": 2})
    fo.ship([(1, 1)])
    assert fo.status is S.PARTIALLY_SHIPPED
    with pytest.raises(IllegalTransition):
        fo.ship([(1, 2)])


def test_unpacking_a_package_puts_its_units_back_to_be_packed_again() -> None:
    fo = _fo(_line(3))
    fo.record_picks({})
    fo.pack({"X": 2})
    assert fo.status is S.IN_PROGRESS

    fo.unpack([(1, 2)])

    (line,) = fo.lines
    assert (line.picked, line.packed, line.to_pack) == (3, 0, 3)
    fo.pack({"X": 3})
    assert fo.status is S.PACKED
    with pytest.raises(IllegalTransition, match="more than"):
        fo.unpack([(1, 4)])
    fo.ship([(1, 1)])  # one unit of the box left: the box is no longer whole
    with pytest.raises(IllegalTransition, match="more than"):
        fo.unpack([(1, 3)])


def test_cancelling_takes_unpicked_units_first_then_puts_picked_ones_back() -> None:
    fo = _fo(_line(4))
    fo.record_picks({1: 2})  # two found, two short (cancelled)

    assert fo.cancel_units(1, 5) == 2  # only the two picked ones are left to give back

    (line,) = fo.lines
    assert (line.picked, line.cancelled, line.unshipped) == (0, 4, 0)
    assert fo.status is S.CANCELLED


def test_a_held_fulfilment_order_refuses_work() -> None:
    fo = _fo(_line(2))
    fo.on_hold = True
    fo.refresh_status()

    with pytest.raises(IllegalTransition, match="on hold"):
        fo.record_picks({})


@pytest.mark.parametrize(
    ("components", "recipe", "expected"),
    [
        ({"X": 3}, {"X": 1}, 3),
        ({"A": 4, "B": 1}, {"A": 2, "B": 1}, 1),
        ({"A": 3, "B": 5}, {"A": 2, "B": 1}, 1),
        ({"A": 4}, {"A": 2, "B": 1}, 0),
        ({}, {}, 0),
    ],
)
def test_order_line_units_are_whole_sets_of_components(
    components: dict[str, int], recipe: dict[str, int], expected: int
) -> None:
    assert line_units(components, recipe) == expected


def test_a_component_short_breaks_whole_bundles_rounding_up() -> None:
    recipes = {1: {"A": 2, "B": 1}, 2: {"X": 1}}

    lost = lost_line_units({(1, "A"): 3, (1, "B"): 1, (2, "X"): 2}, recipes)

    assert lost == {1: 2, 2: 2}


# --- store pickup codes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wrong_codes", "lock"),
    [
        (0, None),
        (1, None),
        (4, None),
        (5, timedelta(minutes=15)),
        (6, None),
        (10, timedelta(minutes=30)),
        (15, timedelta(hours=1)),
        (35, timedelta(hours=16)),
        (40, timedelta(hours=24)),
        (10_000, timedelta(hours=24)),
    ],
)
def test_every_fifth_wrong_pickup_code_locks_twice_as_long_as_the_last_up_to_a_day(
    wrong_codes: int, lock: timedelta | None
) -> None:
    assert lock_after(wrong_codes) == lock


def test_a_pickup_lock_refuses_until_its_end_and_not_after() -> None:
    fo = _fo(_line(picked=2), kind=FulfillmentKind.PICKUP)
    ends = [fo.refuse_pickup_code(T0) for _ in range(WRONG_CODES_PER_LOCK)]

    assert ends == [None] * (WRONG_CODES_PER_LOCK - 1) + [T0 + FIRST_LOCK]
    assert fo.pickup_lock(T0 + FIRST_LOCK - timedelta(seconds=1)) == T0 + FIRST_LOCK
    assert fo.pickup_lock(T0 + FIRST_LOCK) is None


@given(secret=st.text(min_size=16, max_size=40), other=st.text(min_size=16, max_size=40))
def test_a_pickup_code_is_six_digits_checked_only_by_its_own_key(secret: str, other: str) -> None:
    key, fo_id, tenant_id = PickupCodeKey(secret), uuid4(), uuid4()
    code = key.code_of(tenant_id=tenant_id, fo_id=fo_id, ready_at=T0)
    stored = key.verifier(fo_id=fo_id, code=code)

    assert len(code) == 6
    assert code.isdigit()
    assert key.matches(fo_id=fo_id, code=f" {code} ", stored=stored)
    assert not key.matches(fo_id=uuid4(), code=code, stored=stored)
    assert not key.matches(fo_id=fo_id, code=code, stored=None)
    if other != secret:
        assert not PickupCodeKey(other).matches(fo_id=fo_id, code=code, stored=stored)
    assert secret not in repr(key)
