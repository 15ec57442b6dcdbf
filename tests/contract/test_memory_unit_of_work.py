"""What only the in-memory unit of work promises (the SQL one leaves these to the
database): writes refused when read-only, concurrent writers serialised, and the
repositories it does not keep naming themselves."""

from __future__ import annotations

import pytest

from oms.adapters.memory.uow import MemoryUnitOfWorkFactory, ReadOnlyUnitOfWorkError
from oms.services.ports import TransientStorageError
from tests.contract.conftest import add_tenant, product


def test_a_read_only_unit_of_work_refuses_writes() -> None:
    factory = MemoryUnitOfWorkFactory()
    tenant_id = add_tenant(factory)
    with factory(readonly=True) as uow:
        assert uow.products.by_skus(tenant_id, ["A"]) == {}  # reads are fine
        with pytest.raises(ReadOnlyUnitOfWorkError):
            uow.products.add(product(tenant_id, "A"))
        with pytest.raises(ReadOnlyUnitOfWorkError):
            uow.tenants.next_order_number(tenant_id)


def test_units_of_work_open_at_once_do_not_see_each_others_writes() -> None:
    factory = MemoryUnitOfWorkFactory()
    tenant_id = add_tenant(factory)
    with factory() as first, factory(readonly=True) as reader:
        first.products.add(product(tenant_id, "A"))
        first.commit()
        assert reader.products.by_skus(tenant_id, ["A"]) == {}  # its snapshot is older
    with factory(readonly=True) as later:
        assert set(later.products.by_skus(tenant_id, ["A"])) == {"A"}


def test_the_second_of_two_concurrent_writers_must_retry() -> None:
    factory = MemoryUnitOfWorkFactory()
    tenant_id = add_tenant(factory)
    with factory() as first, factory() as second:
        first.products.add(product(tenant_id, "A"))
        second.products.add(product(tenant_id, "B"))
        first.commit()
        with pytest.raises(TransientStorageError):
            second.commit()
    with factory(readonly=True) as uow:
        assert set(uow.products.by_skus(tenant_id, ["A", "B"])) == {"A"}


def test_a_commit_with_nothing_written_never_conflicts() -> None:
    factory = MemoryUnitOfWorkFactory()
    tenant_id = add_tenant(factory)
    with factory() as writer, factory() as reader:
        writer.products.add(product(tenant_id, "A"))
        writer.commit()
        reader.products.by_skus(tenant_id, ["A"])
        reader.commit()


@pytest.mark.parametrize("repository", ["fulfilment", "shipments", "returns", "routing"])
def test_a_repository_not_kept_in_memory_names_itself(repository: str) -> None:
    with (
        MemoryUnitOfWorkFactory()() as uow,
        pytest.raises(NotImplementedError, match=repr(repository)),
    ):
        getattr(uow, repository)
