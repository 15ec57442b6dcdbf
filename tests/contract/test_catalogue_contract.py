"""Products (bundles included) and locations: the same answers from every implementation
of ``CatalogueRepository`` and ``LocationRepository``."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from oms.domain.catalogue import BundleComponent, ProductKind
from oms.domain.packing import Box
from oms.services.ports import UnitOfWorkFactory
from tests.contract.conftest import T0, add_tenant, location, product, stocked, unique


def test_a_product_reads_back_as_it_was_added(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    kit = product(tenant_id, "KIT", kind=ProductKind.BUNDLE, components={"A": 2, "B": 1})
    kit = replace(kit, barcode="4006381333931", hs_code="950300", origin_country="DE")
    with uow_factory() as uow:
        assert uow.products.add(kit)
        uow.commit()
    with uow_factory(readonly=True) as uow:
        assert uow.products.get(tenant_id, kit.id) == kit
        assert uow.products.by_skus(tenant_id, ["KIT", "NONE"]) == {"KIT": kit}


def test_a_taken_sku_or_id_adds_nothing(uow_factory: UnitOfWorkFactory, tenant_id: UUID) -> None:
    first = product(tenant_id, "A")
    with uow_factory() as uow:
        assert uow.products.add(first)
        assert not uow.products.add(product(tenant_id, "A"))
        assert not uow.products.add(replace(first, sku="OTHER"))
        assert uow.products.add_many(
            [product(tenant_id, "A"), product(tenant_id, "B"), product(tenant_id, "C")]
        ) == {"B", "C"}
        uow.commit()
    with uow_factory(readonly=True) as uow:
        assert uow.products.get(tenant_id, first.id) == first


def test_the_same_sku_belongs_to_each_tenant_separately(uow_factory: UnitOfWorkFactory) -> None:
    one, other = add_tenant(uow_factory), add_tenant(uow_factory)
    with uow_factory() as uow:
        assert uow.products.add(product(one, "SHARED"))
        assert uow.products.add(product(other, "SHARED"))
        mine = uow.products.by_skus(one, ["SHARED"])["SHARED"]
        uow.commit()
    with uow_factory(readonly=True) as uow:
        assert uow.products.get(other, mine.id) is None
        assert uow.products.by_skus(other, ["SHARED"])["SHARED"].id != mine.id


def test_an_update_changes_only_what_an_edit_may(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    kit = product(tenant_id, "KIT", kind=ProductKind.BUNDLE, components={"A": 1})
    with uow_factory() as uow:
        uow.products.add(kit)
        uow.commit()
    edited = replace(
        kit,
        sku="RENAMED",
        kind=ProductKind.PHYSICAL,
        components=(),
        name="New name",
        price=Decimal("9.90"),
        archived_at=T0 + timedelta(days=1),
    )
    with uow_factory() as uow:
        uow.products.update(edited)
        uow.commit()
    with uow_factory(readonly=True) as uow:
        assert uow.products.get(tenant_id, kit.id) == replace(
            kit, name="New name", price=Decimal("9.90"), archived_at=T0 + timedelta(days=1)
        )


def test_pages_run_in_sku_order_and_filter_archived(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    with uow_factory() as uow:
        for sku in ["C", "A", "D", "B"]:
            made = product(tenant_id, sku)
            uow.products.add(replace(made, archived_at=T0 if sku in "BD" else None))
        uow.commit()
    with uow_factory(readonly=True) as uow:

        def page(after: str | None, archived: bool | None = None) -> list[str]:
            found = uow.products.page(tenant_id, after_sku=after, limit=2, archived=archived)
            return [p.sku for p in found]

        assert page(None) == ["A", "B"]
        assert page("B") == ["C", "D"]
        assert page(None, archived=True) == ["B", "D"]
        assert page("A", archived=False) == ["C"]


def test_a_categorys_products_on_sale_are_found_in_sku_order(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    other = add_tenant(uow_factory)
    with uow_factory() as uow:
        for sku in ["T-M", "T-S", "T-L", "T-OLD", "T-USD", "T-EBOOK", "T-KIT", "MUG"]:
            made = replace(product(tenant_id, sku), category="mugs" if sku == "MUG" else "tees")
            if sku == "T-OLD":
                made = replace(made, archived_at=T0)
            elif sku == "T-USD":
                made = replace(made, currency="USD")
            elif sku == "T-EBOOK":
                made = replace(made, kind=ProductKind.DIGITAL)
            elif sku == "T-KIT":
                made = replace(
                    made, kind=ProductKind.BUNDLE, components=(BundleComponent("T-S", 2),)
                )
            uow.products.add(made)
        uow.products.add(replace(product(other, "T-XL"), category="tees"))
        uow.commit()
    with uow_factory(readonly=True) as uow:

        def found(limit: int, kinds: tuple[ProductKind, ...]) -> list[str]:
            on_sale = uow.products.on_sale_in_category(
                tenant_id, "tees", kinds=kinds, currency="EUR", limit=limit
            )
            return [p.sku for p in on_sale]

        shipped = (ProductKind.PHYSICAL, ProductKind.BUNDLE)
        assert found(10, shipped) == ["T-KIT", "T-L", "T-M", "T-S"]
        assert found(2, shipped) == ["T-KIT", "T-L"]
        assert found(10, (ProductKind.DIGITAL,)) == ["T-EBOOK"]


def test_a_location_reads_back_and_its_code_is_unique_per_owner(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    other = add_tenant(uow_factory)
    boxes = (Box("S", 200, 150, 100, 5000, 120),)
    main = replace(location(tenant_id, "WH1"), boxes=boxes, latitude=50.9, longitude=6.9)
    with uow_factory() as uow:
        assert uow.locations.add(main)
        assert not uow.locations.add(location(tenant_id, "WH1"))
        assert uow.locations.add(location(other, "WH1"))
        uow.commit()
    with uow_factory(readonly=True) as uow:
        assert uow.locations.get(main.id) == main
        assert [loc.id for loc in uow.locations.visible_to(tenant_id)] == [main.id]


def test_a_granted_operator_location_becomes_visible(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    shared = location(None, unique("OPS"))
    own = location(tenant_id, "ZZ-OWN")
    with uow_factory() as uow:
        uow.locations.add(shared)
        uow.locations.add(own)
        assert not uow.locations.add(location(None, shared.code))
        uow.commit()
    with uow_factory() as uow:
        assert [loc.code for loc in uow.locations.visible_to(tenant_id)] == ["ZZ-OWN"]
        uow.locations.grant(tenant_id, shared.id, T0)
        uow.locations.grant(tenant_id, shared.id, T0)  # granting again changes nothing
        uow.commit()
    with uow_factory(readonly=True) as uow:
        assert [loc.code for loc in uow.locations.visible_to(tenant_id)] == [shared.code, "ZZ-OWN"]
        assert shared.code in {loc.code for loc in uow.locations.operator_locations()}
        after = shared.code[:-1]
        assert uow.locations.operator_page(after_code=after, limit=1) == [shared]


def test_a_location_update_keeps_its_owner_and_code(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    place = location(tenant_id, "WH1")
    with uow_factory() as uow:
        uow.locations.add(place)
        uow.commit()
    with uow_factory() as uow:
        uow.locations.update(replace(place, code="MOVED", owner_tenant_id=None, priority=5))
        uow.locations.set_boxes(place.id, [Box("M", 300, 200, 150, 10000, 200)])
        uow.commit()
    with uow_factory(readonly=True) as uow:
        assert uow.locations.get(place.id) == replace(
            place, priority=5, boxes=(Box("M", 300, 200, 150, 10000, 200),)
        )


def test_reserved_units_sum_every_level_at_the_location(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    (place,) = stocked(uow_factory, tenant_id, ["A", "B"], ["WH1"])
    with uow_factory() as uow:
        for sku in ["A", "B"]:
            (level,) = uow.inventory.levels(tenant_id, [sku], [place])
            uow.inventory.compare_and_set(tenant_id, level, on_hand=10, safety_stock=0, at=T0)
        assert uow.inventory.try_reserve(tenant_id, "A", place, 3, T0)
        assert uow.inventory.try_reserve(tenant_id, "B", place, 4, T0)
        uow.commit()
    with uow_factory(readonly=True) as uow:
        assert uow.locations.reserved_units(place) == 7
