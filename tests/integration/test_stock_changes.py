"""Markers of changed stock levels on SQLite and PostgreSQL: every change of a level
leaves one (the adjustment, the reservation, the release), they coalesce, the worker
claims those older than the window, and the pushes they make are in the outbox.

The shared test database holds other tests' markers too: the claims here ask only for
markers from a year no other test uses. It holds other tests' connections pushing stock
too, encrypted with keys of their own: the worker here reads this tenant's alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import Engine, select

from oms.adapters.channels.credentials import FernetCipher
from oms.adapters.db.repositories.channels import SqlChannelRepository
from oms.adapters.db.repositories.stock_changes import mark_changed
from oms.adapters.db.tables import outbox, stock_changes
from oms.domain.channels import ChannelConnection, ChannelKind
from oms.services.channels import create_channel
from oms.services.orders import cancel_order
from oms.services.ports import UnitOfWorkFactory
from oms.services.stock_push import StockChange, levels_of_message, queue_stock_pushes
from tests.builders import TESTER, add_location, add_product, order_of, place, set_stock

LONG_AGO = datetime(2001, 3, 5, 9, 0, tzinfo=UTC)


class _OneTenantsChannels(SqlChannelRepository):
    """The connections of one tenant only (``stock_pushers``)."""

    def __init__(self, engine: Engine, cipher: FernetCipher, tenant_id: UUID) -> None:
        super().__init__(engine, cipher)
        self._tenant_id = tenant_id

    def stock_pushers(self) -> list[ChannelConnection]:
        mine = self.page(self._tenant_id, after_id=None, limit=100)
        return [connection for connection in mine if connection.push_stock]


def _markers(engine: Engine, tenant_id: UUID) -> set[tuple[str, str]]:
    sc = stock_changes.c
    with engine.connect() as conn:
        rows = conn.execute(select(sc.sku, sc.location_id).where(sc.tenant_id == tenant_id))
        return {(row.sku, str(row.location_id)) for row in rows}


def _clear(engine: Engine, tenant_id: UUID) -> None:
    with engine.begin() as conn:
        conn.execute(stock_changes.delete().where(stock_changes.c.tenant_id == tenant_id))


def test_adjusting_reserving_and_releasing_each_leave_a_marker_of_the_level(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    ber = add_location(uow_factory, tenant_id, "BER")
    add_product(uow_factory, tenant_id, "MUG")
    add_product(uow_factory, tenant_id, "CUP")
    set_stock(uow_factory, tenant_id, "MUG", "BER", 5)
    assert _markers(engine, tenant_id) == {("MUG", str(ber.id))}
    set_stock(uow_factory, tenant_id, "CUP", "BER", 5)
    _clear(engine, tenant_id)
    place(uow_factory, tenant_id, order_of(("MUG", 1)))  # one level reserved
    assert _markers(engine, tenant_id) == {("MUG", str(ber.id))}
    _clear(engine, tenant_id)
    placed = place(uow_factory, tenant_id, order_of(("MUG", 2), ("CUP", 1)))  # two at once
    assert _markers(engine, tenant_id) == {("MUG", str(ber.id)), ("CUP", str(ber.id))}
    _clear(engine, tenant_id)
    cancel_order(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        order_id=placed.order.id,
        reason="customer",
        actor=TESTER,
    )  # released
    assert _markers(engine, tenant_id) == {("MUG", str(ber.id)), ("CUP", str(ber.id))}


def test_markers_coalesce_keep_the_first_moment_and_are_claimed_once(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    ber = add_location(uow_factory, tenant_id, "BER")
    for sku in ("A", "B"):
        add_product(uow_factory, tenant_id, sku)
    _clear(engine, tenant_id)
    with engine.begin() as conn:
        mark_changed(conn, tenant_id, [("A", ber.id)], LONG_AGO)
    with engine.begin() as conn:
        mark_changed(conn, tenant_id, [("A", ber.id), ("B", ber.id)], LONG_AGO + timedelta(1))
    with uow_factory() as uow:
        assert uow.stock_changes.claim_due(changed_before=LONG_AGO - timedelta(1), limit=9) == []
        first = uow.stock_changes.claim_due(changed_before=LONG_AGO, limit=9)
        uow.commit()
    assert first == [StockChange(tenant_id, "A", ber.id, LONG_AGO)]
    with uow_factory() as uow:
        later = uow.stock_changes.claim_due(changed_before=LONG_AGO + timedelta(2), limit=9)
        again = uow.stock_changes.claim_due(changed_before=LONG_AGO + timedelta(2), limit=9)
        uow.commit()
    assert [(c.sku, c.changed_at) for c in later] == [("B", LONG_AGO + timedelta(1))]
    assert again == []
    assert _markers(engine, tenant_id) == set()


def test_the_markers_claimed_become_one_push_per_channel_selling_the_location(
    engine: Engine, uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    ber = add_location(uow_factory, tenant_id, "BER")
    ham = add_location(uow_factory, tenant_id, "HAM")
    for sku in ("A", "B"):
        add_product(uow_factory, tenant_id, sku)
    channels = _OneTenantsChannels(engine, FernetCipher("stock-changes-test-key"), tenant_id)
    made = {}
    for name, push, codes in [("all", True, ()), ("ham", True, ("HAM",)), ("off", False, ())]:
        made[name] = create_channel(
            channels=channels,
            tenant_id=tenant_id,
            kind=ChannelKind.SHOPIFY,
            name=name,
            settings={"shop_domain": "x.myshopify.com", "api_base_url": "http://127.0.0.1:9"},
            credentials={"access_token": "t", "webhook_secret": "s"},
            location_codes=codes,
            push_stock=push,
            at=LONG_AGO,
        )
    _clear(engine, tenant_id)
    with engine.begin() as conn:
        mark_changed(conn, tenant_id, [("B", ber.id), ("A", ham.id), ("A", ber.id)], LONG_AGO)
    now = LONG_AGO + timedelta(seconds=5)
    assert queue_stock_pushes(uow_factory=uow_factory, channels=channels, now=now) == 2
    ob = outbox.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(ob.aggregate_id, ob.payload).where(
                ob.tenant_id == tenant_id, ob.topic == "channel.stock_push"
            )
        ).all()
    pushed = {row.aggregate_id: levels_of_message(row.payload) for row in rows}
    assert pushed == {
        made["all"].id: [("A", ber.id), ("A", ham.id), ("B", ber.id)]
        if str(ber.id) < str(ham.id)
        else [("A", ham.id), ("A", ber.id), ("B", ber.id)],
        made["ham"].id: [("A", ham.id)],
    }
    assert _markers(engine, tenant_id) == set()
    assert queue_stock_pushes(uow_factory=uow_factory, channels=channels, now=now) == 0
