"""A unit of work is one transaction, on every implementation: commit publishes its
writes, leaving without commit, ``rollback()`` or an exception discard them; one opened
read-only refuses every write, so a use case that writes where it meant only to read fails
loudly instead of losing (or, committed, keeping) what it wrote."""

from __future__ import annotations

from uuid import UUID

import pytest
from sqlalchemy.exc import DBAPIError

from oms.adapters.memory.uow import ReadOnlyUnitOfWorkError
from oms.services.ports import UnitOfWorkFactory
from tests.contract.conftest import product


def _skus(uow_factory: UnitOfWorkFactory, tenant_id: UUID) -> set[str]:
    with uow_factory(readonly=True) as uow:
        return {p.sku for p in uow.products.page(tenant_id, after_sku=None, limit=50)}


def test_committed_writes_are_seen_by_the_next_unit_of_work(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    with uow_factory() as uow:
        uow.products.add(product(tenant_id, "KEPT"))
        uow.commit()
    assert _skus(uow_factory, tenant_id) == {"KEPT"}


def test_leaving_without_commit_discards_the_writes(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    with uow_factory() as uow:
        uow.products.add(product(tenant_id, "LOST"))
        assert set(uow.products.by_skus(tenant_id, ["LOST"])) == {"LOST"}  # seen inside
    assert _skus(uow_factory, tenant_id) == set()


def test_an_exception_discards_the_writes(uow_factory: UnitOfWorkFactory, tenant_id: UUID) -> None:
    def failing_use_case() -> None:
        with uow_factory() as uow:
            uow.products.add(product(tenant_id, "LOST"))
            raise LookupError("the use case fails")

    with pytest.raises(LookupError):
        failing_use_case()
    assert _skus(uow_factory, tenant_id) == set()


def test_rollback_discards_what_was_written_since_the_last_commit(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    with uow_factory() as uow:
        uow.products.add(product(tenant_id, "FIRST"))
        uow.commit()
        uow.products.add(product(tenant_id, "SECOND"))
        uow.rollback()
        assert set(uow.products.by_skus(tenant_id, ["FIRST", "SECOND"])) == {"FIRST"}
        uow.products.add(product(tenant_id, "THIRD"))
        uow.commit()
    assert _skus(uow_factory, tenant_id) == {"FIRST", "THIRD"}


def test_writes_after_a_commit_need_a_commit_of_their_own(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    with uow_factory() as uow:
        uow.products.add(product(tenant_id, "FIRST"))
        uow.commit()
        uow.products.add(product(tenant_id, "UNCOMMITTED"))
    assert _skus(uow_factory, tenant_id) == {"FIRST"}


def test_a_stored_product_does_not_change_with_the_callers_object(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    mine = product(tenant_id, "OWN")
    with uow_factory() as uow:
        uow.products.add(mine)
        uow.commit()
    mine.name = "changed without update"
    with uow_factory(readonly=True) as uow:
        assert uow.products.by_skus(tenant_id, ["OWN"])["OWN"].name == "Product OWN"


def test_a_read_only_unit_of_work_refuses_writes(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    with uow_factory(readonly=True) as uow:
        assert uow.products.by_skus(tenant_id, ["A"]) == {}  # reads are fine
        with pytest.raises((ReadOnlyUnitOfWorkError, DBAPIError), match=r"(?i)read-?only"):
            uow.products.add(product(tenant_id, "A"))
    assert _skus(uow_factory, tenant_id) == set()


def test_a_read_only_unit_of_work_leaves_the_next_one_free_to_write(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    for i in range(3):  # the pool hands the same connection back
        with uow_factory(readonly=True) as uow:
            uow.products.by_skus(tenant_id, ["A"])
        with uow_factory() as uow:
            uow.products.add(product(tenant_id, f"W{i}"))
            uow.commit()
    assert _skus(uow_factory, tenant_id) == {"W0", "W1", "W2"}
