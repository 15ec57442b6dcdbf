"""The catalogue's use cases (products, bundles, locations) on the in-memory unit of
work: no database, the same rules as the API tests check end to end."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from oms.adapters.memory.uow import MemoryUnitOfWorkFactory
from oms.domain.catalogue import BundleComponent, ProductKind
from oms.domain.errors import AlreadyExists, InvalidRequest, NotFound
from oms.domain.ids import new_id
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import catalogue
from oms.services.tenants import create_tenant
from tests.builders import add_location, add_product, tenant_principal

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
OPERATOR = Principal(key_id=new_id(), scope=ApiKeyScope.OPERATOR, tenant_id=None)


@pytest.fixture
def uow_factory() -> MemoryUnitOfWorkFactory:
    return MemoryUnitOfWorkFactory()


@pytest.fixture
def tenant_id(uow_factory: MemoryUnitOfWorkFactory) -> UUID:
    tenant, _ = create_tenant(uow_factory=uow_factory, name="Shop", at=NOW)
    return tenant.id


def _new(sku: str, **fields: Any) -> catalogue.NewProduct:
    return catalogue.NewProduct(
        sku=sku, name=f"Product {sku}", price=Decimal("10.00"), currency="EUR", **fields
    )


def test_a_created_product_is_read_back(
    uow_factory: MemoryUnitOfWorkFactory, tenant_id: UUID
) -> None:
    made = catalogue.create_product(
        uow_factory=uow_factory, tenant_id=tenant_id, command=_new("MUG"), at=NOW
    )
    found = catalogue.get_product(uow_factory=uow_factory, tenant_id=tenant_id, product_id=made.id)
    assert found == made


def test_a_sku_is_created_once_per_tenant(
    uow_factory: MemoryUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_product(uow_factory, tenant_id, "MUG")
    with pytest.raises(AlreadyExists):
        add_product(uow_factory, tenant_id, "MUG")
    other, _ = create_tenant(uow_factory=uow_factory, name="Other shop", at=NOW)
    add_product(uow_factory, other.id, "MUG")  # another tenant's catalogue


@pytest.mark.parametrize(
    ("components", "refused"),
    [
        ({"MUG": 2, "LID": 1}, False),
        ({}, True),  # a bundle needs components
        ({"MUG": 1, "NOPE": 1}, True),  # an unknown part
        ({"MUG": 1, "SET": 1}, True),  # a bundle in a bundle
    ],
)
def test_a_bundle_is_checked_against_its_components(
    uow_factory: MemoryUnitOfWorkFactory,
    tenant_id: UUID,
    components: dict[str, int],
    refused: bool,
) -> None:
    add_product(uow_factory, tenant_id, "MUG")
    add_product(uow_factory, tenant_id, "LID")
    add_product(uow_factory, tenant_id, "SET", kind=ProductKind.BUNDLE, components={"MUG": 1})
    command = _new(
        "GIFT",
        kind=ProductKind.BUNDLE,
        components=tuple(BundleComponent(s, q) for s, q in components.items()),
    )
    if refused:
        with pytest.raises(InvalidRequest):
            catalogue.create_product(uow_factory=uow_factory, tenant_id=tenant_id, command=command)
        with uow_factory(readonly=True) as uow:
            assert uow.products.by_skus(tenant_id, ["GIFT"]) == {}
    else:
        made = catalogue.create_product(
            uow_factory=uow_factory, tenant_id=tenant_id, command=command
        )
        assert made.components == (BundleComponent("MUG", 2), BundleComponent("LID", 1))


def test_an_edit_changes_the_named_fields_only(
    uow_factory: MemoryUnitOfWorkFactory, tenant_id: UUID
) -> None:
    made = catalogue.create_product(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        command=_new("MUG", category="kitchen"),
        at=NOW,
    )
    edited = catalogue.edit_product(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        product_id=made.id,
        edit=catalogue.ProductEdit(given=frozenset({"price"}), price=Decimal("12.00")),
    )
    assert (edited.price, edited.category, edited.sku) == (Decimal("12.00"), "kitchen", "MUG")
    found = catalogue.get_product(uow_factory=uow_factory, tenant_id=tenant_id, product_id=made.id)
    assert found == edited


def test_an_archived_product_stays_listed_as_archived(
    uow_factory: MemoryUnitOfWorkFactory, tenant_id: UUID
) -> None:
    for sku in ["A", "B", "C"]:
        add_product(uow_factory, tenant_id, sku)
    (b,) = [
        p
        for p in catalogue.list_products(
            uow_factory=uow_factory, tenant_id=tenant_id, after_sku=None, limit=10
        )
        if p.sku == "B"
    ]
    catalogue.archive_product(uow_factory=uow_factory, tenant_id=tenant_id, product_id=b.id, at=NOW)
    again = catalogue.archive_product(
        uow_factory=uow_factory, tenant_id=tenant_id, product_id=b.id, at=NOW.replace(hour=11)
    )
    assert again.archived_at == NOW  # archiving again changes nothing

    def skus(archived: bool | None) -> list[str]:
        found = catalogue.list_products(
            uow_factory=uow_factory,
            tenant_id=tenant_id,
            after_sku=None,
            limit=10,
            archived=archived,
        )
        return [p.sku for p in found]

    assert (skus(None), skus(True), skus(False)) == (["A", "B", "C"], ["B"], ["A", "C"])


def test_an_unknown_product_is_not_found(
    uow_factory: MemoryUnitOfWorkFactory, tenant_id: UUID
) -> None:
    with pytest.raises(NotFound):
        catalogue.get_product(uow_factory=uow_factory, tenant_id=tenant_id, product_id=new_id())


def test_locations_are_listed_by_code_with_granted_operator_ones(
    uow_factory: MemoryUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "WH2")
    add_location(uow_factory, tenant_id, "WH1")
    with pytest.raises(AlreadyExists):
        add_location(uow_factory, tenant_id, "WH1")
    catalogue.create_location(
        uow_factory=uow_factory,
        principal=OPERATOR,
        command=catalogue.NewLocation(code="HUB", name="Operator hub"),
    )
    catalogue.grant_location(
        uow_factory=uow_factory, principal=OPERATOR, ref="HUB", tenant_id=tenant_id, at=NOW
    )
    found = catalogue.list_locations(
        uow_factory=uow_factory, principal=tenant_principal(tenant_id), after_code=None, limit=9
    )
    assert [loc.code for loc in found] == ["HUB", "WH1", "WH2"]
