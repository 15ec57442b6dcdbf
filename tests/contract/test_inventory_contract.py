"""Stock levels and the ledger: the conditions under which each implementation of
``InventoryRepository`` changes a level, and what it answers."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from oms.domain.inventory import MAX_QUANTITY, MovementKind, StockLevel
from oms.services.ports import (
    LevelCount,
    LevelToCount,
    MovementNote,
    NewMovement,
    UnitOfWorkFactory,
)
from tests.contract.conftest import T0, stocked

LATER = T0 + timedelta(hours=1)


def _set(uow_factory: UnitOfWorkFactory, tenant_id: UUID, place: UUID, **figures: int) -> None:
    with uow_factory() as uow:
        (level,) = uow.inventory.levels(tenant_id, ["A"], [place])
        assert uow.inventory.compare_and_set(
            tenant_id,
            level,
            on_hand=figures["on_hand"],
            safety_stock=figures.get("safety_stock", 0),
            at=T0,
        )
        reserved = figures.get("reserved", 0)
        assert not reserved or uow.inventory.try_reserve(tenant_id, "A", place, reserved, T0)
        uow.commit()


def _level(uow_factory: UnitOfWorkFactory, tenant_id: UUID, place: UUID) -> StockLevel:
    with uow_factory(readonly=True) as uow:
        (level,) = uow.inventory.levels(tenant_id, ["A"], [place])
        return level


def test_levels_are_listed_by_sku_then_location(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    places = stocked(uow_factory, tenant_id, ["B", "A"], ["WH1", "WH2"])
    with uow_factory(readonly=True) as uow:
        found = uow.inventory.levels(tenant_id, ["A", "B", "NONE"])
        assert [(lv.sku, lv.location_id) for lv in found] == sorted(
            (sku, place) for sku in "AB" for place in places
        )
        assert uow.inventory.levels(tenant_id, ["A"], [places[1]]) == [
            StockLevel("A", places[1], 0, 0, 0)
        ]
        assert uow.inventory.levels(tenant_id, []) == []


def test_ensure_level_keeps_an_existing_level(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    (place,) = stocked(uow_factory, tenant_id, ["A"], ["WH1"])
    _set(uow_factory, tenant_id, place, on_hand=5)
    with uow_factory() as uow:
        uow.inventory.ensure_level(tenant_id, "A", place, LATER)
        uow.commit()
    assert _level(uow_factory, tenant_id, place).on_hand == 5


@pytest.mark.parametrize(
    ("read_as", "on_hand", "changed"),
    [
        ({"on_hand": 10, "safety_stock": 2}, 12, True),
        ({"on_hand": 9, "safety_stock": 2}, 12, False),  # on hand moved since it was read
        ({"on_hand": 10, "safety_stock": 0}, 12, False),  # safety stock moved
        ({"on_hand": 10, "safety_stock": 2}, 2, False),  # below the 3 reserved
        ({"on_hand": 10, "safety_stock": 2}, 3, True),  # exactly the reserved
    ],
)
def test_compare_and_set_changes_only_a_level_still_as_read(
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    read_as: dict[str, int],
    on_hand: int,
    changed: bool,
) -> None:
    (place,) = stocked(uow_factory, tenant_id, ["A"], ["WH1"])
    _set(uow_factory, tenant_id, place, on_hand=10, safety_stock=2, reserved=3)
    seen = StockLevel("A", place, read_as["on_hand"], 3, read_as["safety_stock"])
    with uow_factory() as uow:
        done = uow.inventory.compare_and_set(
            tenant_id, seen, on_hand=on_hand, safety_stock=1, at=T0
        )
        uow.commit()
    assert done is changed
    expected = (
        StockLevel("A", place, on_hand, 3, 1) if changed else StockLevel("A", place, 10, 3, 2)
    )
    assert _level(uow_factory, tenant_id, place) == expected


@pytest.mark.parametrize(("quantity", "taken"), [(4, True), (5, False)])
def test_a_reservation_takes_only_what_is_available(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID, quantity: int, taken: bool
) -> None:
    (place,) = stocked(uow_factory, tenant_id, ["A"], ["WH1"])
    _set(uow_factory, tenant_id, place, on_hand=10, safety_stock=2, reserved=4)  # 4 available
    with uow_factory() as uow:
        assert uow.inventory.try_reserve(tenant_id, "A", place, quantity, T0) is taken
        assert not uow.inventory.try_reserve(tenant_id, "NONE", place, 1, T0)
        uow.commit()
    assert _level(uow_factory, tenant_id, place).reserved == (4 + quantity if taken else 4)


def test_try_reserve_each_reserves_the_rows_that_have_enough(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    one, two = stocked(uow_factory, tenant_id, ["A"], ["WH1", "WH2"])
    _set(uow_factory, tenant_id, one, on_hand=3)
    with uow_factory() as uow:
        assert uow.inventory.try_reserve_each(tenant_id, [("A", one, 2), ("A", two, 1)], T0) == {
            ("A", one)
        }
        with pytest.raises(ValueError, match="once per call"):
            uow.inventory.try_reserve_each(tenant_id, [("A", one, 1), ("A", one, 1)], T0)
        uow.commit()
    assert _level(uow_factory, tenant_id, one).reserved == 2


def test_release_and_take_out_refuse_more_than_is_reserved(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    (place,) = stocked(uow_factory, tenant_id, ["A"], ["WH1"])
    _set(uow_factory, tenant_id, place, on_hand=10, reserved=5)
    with uow_factory() as uow:
        with pytest.raises(RuntimeError):
            uow.inventory.release(tenant_id, "A", place, 6, T0)
        with pytest.raises(RuntimeError):
            uow.inventory.take_out(tenant_id, "A", place, 6, T0)
        uow.inventory.release(tenant_id, "A", place, 2, T0)
        assert uow.inventory.take_out(tenant_id, "A", place, 3, T0) == 7
        uow.commit()
    assert _level(uow_factory, tenant_id, place) == StockLevel("A", place, 7, 0, 0)


def test_the_ledger_pages_oldest_first_with_the_location_code(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    one, two = stocked(uow_factory, tenant_id, ["A"], ["WH1", "WH2"])
    with uow_factory() as uow:
        ids = [
            uow.inventory.add_movement(
                tenant_id,
                sku="A",
                location_id=place,
                kind=MovementKind.ADJUSTMENT,
                quantity=quantity,
                on_hand_after=quantity,
                reason="found",
                reference=f"ref-{n}",
                actor="tester",
                at=T0 + timedelta(minutes=n),
            )
            for n, (place, quantity) in enumerate([(one, 5), (two, 7), (one, -2)])
        ]
        uow.commit()
    with uow_factory(readonly=True) as uow:
        first = uow.inventory.movements(tenant_id, "A", location_id=None, after_id=None, limit=2)
        assert [m.id for m in first] == ids[:2]
        assert [(m.location_code, m.quantity, m.reference) for m in first] == [
            ("WH1", 5, "ref-0"),
            ("WH2", 7, "ref-1"),
        ]
        rest = uow.inventory.movements(tenant_id, "A", location_id=None, after_id=ids[1], limit=2)
        assert [m.id for m in rest] == ids[2:]
        at_one = uow.inventory.movements(tenant_id, "A", location_id=one, after_id=None, limit=9)
        assert [m.quantity for m in at_one] == [5, -2]
        assert at_one[1].created_at == T0 + timedelta(minutes=2)


def test_find_violations_compares_on_hand_with_the_ledger(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    (place,) = stocked(uow_factory, tenant_id, ["A"], ["WH1"])
    _set(uow_factory, tenant_id, place, on_hand=4)  # no movement written: out of balance
    with uow_factory() as uow:
        (violation,) = uow.inventory.find_violations(tenant_id)
        assert (violation.field, violation.stored, violation.expected) == ("on_hand", 4, 0)
        uow.inventory.add_movements(
            tenant_id,
            [
                NewMovement("A", place, MovementKind.RECEIPT, 3, 3, None, None, "tester", T0),
                NewMovement("A", place, MovementKind.RECEIPT, 1, 4, None, None, "tester", T0),
            ],
        )
        assert uow.inventory.find_violations(tenant_id) == []


def test_add_on_hand_makes_a_missing_level_and_stops_at_the_limit(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    one, two = stocked(uow_factory, tenant_id, ["A"], ["WH1", "WH2"])
    with uow_factory() as uow:
        uow.inventory.add_on_hand(tenant_id, one, {"A": 4}, T0)
        assert uow.inventory.add_on_hand(tenant_id, one, {"A": 3}, T0) == {"A": 7}
        assert uow.inventory.add_on_hand(tenant_id, one, {"A": MAX_QUANTITY}, T0) is None
        uow.commit()
    assert _level(uow_factory, tenant_id, one).on_hand == 7
    assert _level(uow_factory, tenant_id, two).on_hand == 0


def test_add_on_hand_with_movements_writes_a_movement_per_sku_with_its_on_hand_after(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    (one,) = stocked(uow_factory, tenant_id, ["A", "B", "C"], ["WH1"])
    note = MovementNote(MovementKind.RETURN_RESTOCK, "return of order 7", "return:r1", "tester")
    _set(uow_factory, tenant_id, one, on_hand=5)  # A only (its ledger: none, as the fixture's)
    with uow_factory() as uow:
        raised = uow.inventory.add_on_hand_with_movements(
            tenant_id, one, {"B": 2, "A": 3, "C": 1}, T0, note=note
        )
        refused = uow.inventory.add_on_hand_with_movements(
            tenant_id, one, {"A": MAX_QUANTITY}, T0, note=note
        )
        uow.commit()
    assert raised == {"A": 8, "B": 2, "C": 1}
    assert refused is None
    with uow_factory(readonly=True) as uow:
        written = {
            sku: uow.inventory.movements(tenant_id, sku, location_id=one, after_id=None, limit=9)
            for sku in ("A", "B", "C")
        }
    assert {
        sku: [(m.kind, m.quantity, m.on_hand_after, m.reason, m.reference, m.actor) for m in moves]
        for sku, moves in written.items()
    } == {
        sku: [
            (MovementKind.RETURN_RESTOCK, units, after, "return of order 7", "return:r1", "tester")
        ]
        for sku, units, after in (("A", 3, 8), ("B", 2, 2), ("C", 1, 1))
    }
    assert written["A"][0].created_at == T0


def test_count_levels_sets_only_levels_still_as_read(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    one, two, three = stocked(uow_factory, tenant_id, ["A"], ["WH1", "WH2", "WH3"])
    _set(uow_factory, tenant_id, one, on_hand=5)
    _set(uow_factory, tenant_id, two, on_hand=5, reserved=4)
    with uow_factory() as uow:
        asked = [("A", one), ("NONE", one), ("A", one)]
        assert uow.inventory.levels_to_count(tenant_id, asked) == [
            LevelToCount("A", one, _product_id(uow_factory, tenant_id), True, 5, 0, 0)
        ]
        counted = uow.inventory.count_levels(
            tenant_id,
            [
                LevelCount("A", one, 5, 0, 8, 1, "c-1"),  # as read: set
                LevelCount("A", two, 5, 0, 3, 0, "c-2"),  # below the 4 reserved: kept
                LevelCount("A", three, 2, 0, 9, 0, "c-3"),  # read as 2, it is 0: kept
            ],
            reason="cycle count",
            actor="tester",
            at=LATER,
        )
        assert counted == 1
        uow.commit()
    assert _level(uow_factory, tenant_id, one) == StockLevel("A", one, 8, 0, 1)
    with uow_factory(readonly=True) as uow:
        (moved,) = uow.inventory.movements(tenant_id, "A", location_id=None, after_id=None, limit=9)
        assert (moved.kind, moved.quantity, moved.on_hand_after) == (MovementKind.COUNT, 3, 8)
        page = uow.inventory.changed_page(tenant_id, since=LATER, after=None, limit=9)
        assert page == [StockLevel("A", one, 8, 0, 1)]


def _product_id(uow_factory: UnitOfWorkFactory, tenant_id: UUID) -> UUID:
    with uow_factory(readonly=True) as uow:
        return uow.products.by_skus(tenant_id, ["A"])["A"].id


def test_changed_page_runs_in_sku_and_location_order(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    places = stocked(uow_factory, tenant_id, ["A", "B"], ["WH1", "WH2"])
    keys = sorted((sku, place) for sku in "AB" for place in places)
    with uow_factory(readonly=True) as uow:
        first = uow.inventory.changed_page(tenant_id, since=T0, after=None, limit=3)
        assert [(lv.sku, lv.location_id) for lv in first] == keys[:3]
        rest = uow.inventory.changed_page(tenant_id, since=T0, after=keys[2], limit=3)
        assert [(lv.sku, lv.location_id) for lv in rest] == keys[3:]
        assert uow.inventory.changed_page(tenant_id, since=LATER, after=None, limit=3) == []
