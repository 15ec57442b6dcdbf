"""Store credit's ledger (``StoreCreditRepository``): the same answers from the in-memory
unit of work, SQLite and PostgreSQL: credits and spends move the balance with their entry,
a spend the balance does not cover writes nothing, and the drift check sees both books."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from oms.domain.orders import Actor
from oms.services.ports import UnitOfWorkFactory
from oms.services.store_credit import StoreCreditEntry, credit_entry
from tests.contract.conftest import T0

WHO = Actor("system", "contract")


def _customer(uow_factory: UnitOfWorkFactory, tenant_id: UUID, email: str) -> UUID:
    with uow_factory() as uow:
        customer = uow.customers.record_order(tenant_id, email=email, name=None, phone=None, at=T0)
        uow.commit()
    return customer.id


def _entry(
    tenant_id: UUID, customer_id: UUID, amount: str, *, minutes: int = 0, currency: str = "EUR"
) -> StoreCreditEntry:
    return credit_entry(
        tenant_id=tenant_id,
        customer_id=customer_id,
        currency=currency,
        amount=Decimal(amount),
        actor=WHO,
        at=T0 + timedelta(minutes=minutes),
        note=f"{amount}",
    )


def test_credits_and_spends_move_the_balance_with_their_entries(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    ann = _customer(uow_factory, tenant_id, "ann@example.com")
    bob = _customer(uow_factory, tenant_id, "bob@example.com")
    with uow_factory() as uow:
        uow.store_credit.credit(_entry(tenant_id, ann, "30.00"))
        uow.store_credit.credit(_entry(tenant_id, ann, "5.00", minutes=1, currency="USD"))
        uow.store_credit.credit(_entry(tenant_id, ann, "0.005", minutes=2))
        assert uow.store_credit.spend(_entry(tenant_id, ann, "-12.5025", minutes=3))
        uow.commit()
    with uow_factory(readonly=True) as uow:
        assert uow.store_credit.balances(tenant_id, ann) == {
            "EUR": Decimal("17.5025"),
            "USD": Decimal("5.0000"),
        }
        assert uow.store_credit.balances(tenant_id, bob) == {}
        newest = uow.store_credit.entries(tenant_id, ann, limit=2)
        assert [e.amount for e in newest] == [Decimal("-12.5025"), Decimal("0.005")]
        assert uow.store_credit.drift(tenant_id) == []


def test_a_spend_the_balance_does_not_cover_writes_nothing(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    ann = _customer(uow_factory, tenant_id, "ann@example.com")
    with uow_factory() as uow:
        assert not uow.store_credit.spend(_entry(tenant_id, ann, "-1.00"))  # no balance yet
        uow.store_credit.credit(_entry(tenant_id, ann, "10.00"))
        assert not uow.store_credit.spend(_entry(tenant_id, ann, "-10.01", minutes=1))
        assert uow.store_credit.spend(_entry(tenant_id, ann, "-10.00", minutes=2))
        assert not uow.store_credit.spend(_entry(tenant_id, ann, "-0.01", minutes=3))
        uow.commit()
    with uow_factory(readonly=True) as uow:
        assert uow.store_credit.balances(tenant_id, ann) == {"EUR": Decimal("0.0000")}
        entries = uow.store_credit.entries(tenant_id, ann, limit=10)
        assert [e.amount for e in entries] == [Decimal("-10.00"), Decimal("10.00")]


def test_a_rolled_back_spend_leaves_the_balance_as_it_was(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    ann = _customer(uow_factory, tenant_id, "ann@example.com")
    with uow_factory() as uow:
        uow.store_credit.credit(_entry(tenant_id, ann, "10.00"))
        uow.commit()
    with uow_factory() as uow:
        assert uow.store_credit.spend(_entry(tenant_id, ann, "-4.00", minutes=1))
        uow.rollback()
    with uow_factory(readonly=True) as uow:
        assert uow.store_credit.balances(tenant_id, ann) == {"EUR": Decimal("10.0000")}
        assert len(uow.store_credit.entries(tenant_id, ann, limit=10)) == 1
