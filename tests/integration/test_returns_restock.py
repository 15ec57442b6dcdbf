"""Restocking returned units: a bundle goes back as its components, a plain line as its own
SKU, each level's rise leaves its stock-push marker, and a refunded return asked again is
answered as it is (a repeat of its key) or refused, on both databases."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine, event

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.catalogue import ProductKind
from oms.domain.errors import IllegalTransition
from oms.domain.inventory import MovementKind
from oms.domain.returns import Disposition, ReturnStatus, WantedLine
from oms.services import returns
from tests.builders import TESTER, add_product
from tests.integration.returns_support import (
    SHIPPED_AT,
    assert_books_balance,
    open_shop,
    returns_engine,
    shipped_order,
    stock_at_near,
)

__all__ = ["returns_engine"]

LATER = SHIPPED_AT + timedelta(days=5)
RECEIVED_AT = LATER + timedelta(days=1)


@pytest.fixture
def uow_factory(returns_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(returns_engine)


@pytest.fixture
def shop(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    open_shop(uow_factory, tenant_id)
    add_product(uow_factory, tenant_id, "KIT", kind=ProductKind.BUNDLE, components={"X": 1, "Y": 2})
    return tenant_id


def _returned(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID, order_id: UUID, line_no: int, units: int
) -> returns.ReturnRequest:
    found, _ = returns.request_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        order_id=order_id,
        command=returns.NewReturn((WantedLine(line_no, units, "defective"),)),
        actor=TESTER,
        at=LATER,
    )
    return found


def _restocked(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID, return_id: UUID, line_no: int, units: int
) -> None:
    """The return's ``units`` of line ``line_no`` received at NEAR and restocked."""
    returns.receive_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        return_id=return_id,
        location="NEAR",
        units=[returns.ReceivedUnits(line_no, units, Disposition.RESTOCK)],
        actor=TESTER,
        at=RECEIVED_AT,
    )


def _markers(uow_factory: SqlUnitOfWorkFactory, shop: UUID) -> set[str]:
    """The SKUs of the shop's stock-push markers, claimed (so later changes leave new ones)."""
    with uow_factory() as uow:
        claimed = uow.stock_changes.claim_due(changed_before=RECEIVED_AT, limit=10_000)
        uow.commit()
    return {c.sku for c in claimed if c.tenant_id == shop}


def test_a_bundle_goes_back_as_its_components_and_each_level_is_marked_for_the_stores(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("KIT", 2), ("Z", 1))
    before = {sku: stock_at_near(uow_factory, shop, sku) for sku in ("X", "Y", "Z")}
    kit = _returned(uow_factory, shop, order.id, 1, 2)
    plain = _returned(uow_factory, shop, order.id, 2, 1)
    _markers(uow_factory, shop)
    for request in (kit, plain):
        (line,) = request.lines
        _restocked(uow_factory, shop, request.id, line.line_no, line.quantity)
    after = {sku: stock_at_near(uow_factory, shop, sku) for sku in ("X", "Y", "Z")}
    assert after["X"][0] == before["X"][0] + 2
    assert after["Y"][0] == before["Y"][0] + 4
    assert after["Z"][0] == before["Z"][0] + 1
    with uow_factory(readonly=True) as uow:
        assert uow.inventory.levels(shop, ["KIT"]) == []
        (level,) = uow.inventory.levels(shop, ["Y"])
        moves = uow.inventory.movements(
            shop, "Y", location_id=level.location_id, after_id=None, limit=100
        )
    assert (moves[-1].kind, moves[-1].quantity, moves[-1].on_hand_after) == (
        MovementKind.RETURN_RESTOCK,
        4,
        after["Y"][0],
    )
    assert _markers(uow_factory, shop) == {"X", "Y", "Z"}
    assert_books_balance(uow_factory, shop)


def test_a_receipt_writes_the_stock_last_so_its_levels_stay_locked_only_for_the_commit(
    uow_factory: SqlUnitOfWorkFactory,
    shop: UUID,
    returns_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every receipt of the same SKUs waits for these rows until this one commits.
    order = shipped_order(uow_factory, shop, ("KIT", 1), ("Z", 1))
    request = _returned(uow_factory, shop, order.id, 1, 1)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    fetch = DriverStatement._fetch

    def seen_driver(self: DriverStatement, conn: Any, params: Any, factory: Any) -> Any:
        if conn.dialect.name == "postgresql":  # psycopg's own: no SQLAlchemy event
            statements.append(self.sql)
        return fetch(self, conn, params, factory)

    monkeypatch.setattr(DriverStatement, "_fetch", seen_driver)
    event.listen(returns_engine, "before_cursor_execute", seen)
    try:
        _restocked(uow_factory, shop, request.id, 1, 1)
    finally:
        event.remove(returns_engine, "before_cursor_execute", seen)

    stock = [i for i, s in enumerate(statements) if "inventory_levels" in s]
    saves = [i for i, s in enumerate(statements) if re.search(r"UPDATE (orders|returns) ", s)]
    assert stock
    assert saves
    assert min(stock) > max(saves)
    assert_books_balance(uow_factory, shop)


def test_a_refunded_return_asked_again_answers_its_key_and_refuses_any_other(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 1))
    request = _returned(uow_factory, shop, order.id, 1, 1)
    _restocked(uow_factory, shop, request.id, 1, 1)

    def refund(key: str | None) -> returns.ReturnRequest:
        return returns.refund_return(
            uow_factory=uow_factory,
            gateways=gateway_named,
            tenant_id=shop,
            return_id=request.id,
            actor=TESTER,
            idempotency_key=key,
            at=RECEIVED_AT,
        )

    first = refund("refund-1")
    assert first.status is ReturnStatus.REFUNDED
    again = refund("refund-1")
    assert (again.status, again.refund_amount, again.refunded_at) == (
        ReturnStatus.REFUNDED,
        first.refund_amount,
        first.refunded_at,
    )
    for other in ("refund-2", None):
        with pytest.raises(IllegalTransition, match="refunded already"):
            refund(other)
    with uow_factory(readonly=True) as uow:
        stored = uow.orders.get(shop, order.id)
    assert stored is not None
    assert [e.type for e in stored.events].count("return.refunded") == 1
