"""The channel intake use case with the fake store and connections in the database, on
the real intake (SQLite and PostgreSQL): once per order, copies applied in the store's
order; a created order's copy and sync log entry commit with it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Self
from uuid import UUID

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError

from oms.adapters.channels.credentials import FernetCipher
from oms.adapters.db.repositories.channels import SqlChannelRepository
from oms.adapters.db.tables import channel_orders
from oms.adapters.db.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from oms.adapters.memory.channels import FakeSalesChannel
from oms.adapters.payments.registry import gateway_named
from oms.domain.channels import ChannelHealth, ChannelKind, SyncDirection, SyncOutcome
from oms.domain.errors import InvalidRequest
from oms.domain.orders import Actor
from oms.domain.status import OrderStatus, PaymentStatus
from oms.services.channel_orders import (
    CopyChanges,
    changes_of,
    receive_order,
    settled_by_placing,
    submission_of,
)
from oms.services.channels import (
    HEALTH_AFTER,
    ChannelOrder,
    RemotePayment,
    create_channel,
    sync_entry,
    sync_log,
)
from oms.services.intake import ChannelPayment, LineRequest, PlaceOrder
from oms.services.intake_group import place_alone, place_group
from oms.services.ports import UnitOfWorkFactory
from tests.builders import add_location, add_product, set_stock

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
STORE = Actor("channel", "fake")


@pytest.fixture
def stocked(uow_factory: UnitOfWorkFactory, tenant_id: UUID) -> UUID:
    add_location(uow_factory, tenant_id, "MAIN")
    add_product(uow_factory, tenant_id, "MUG")
    set_stock(uow_factory, tenant_id, "MUG", "MAIN", 10)
    return tenant_id


def _channels(uow_factory: UnitOfWorkFactory) -> SqlChannelRepository:
    assert isinstance(uow_factory, SqlUnitOfWorkFactory)
    return SqlChannelRepository(uow_factory.engine, FernetCipher("channel-orders-test-key"))


def copy_of(channel: str, *, minutes: int, paid: bool = False, sku: str = "MUG") -> ChannelOrder:
    return ChannelOrder(
        external_id="1001",
        updated_at=AT + timedelta(minutes=minutes),
        command=PlaceOrder(
            currency="EUR",
            lines=(LineRequest(sku=sku, quantity=2, unit_price=None),),
            channel=channel,
            external_id="1001",
            payment=ChannelPayment(gateway="manual", captured=True) if paid else None,
            hold_unknown_skus=True,
        ),
        payment=RemotePayment.PAID if paid else RemotePayment.PENDING,
    )


def test_copies_are_one_order_applied_newest_last(
    uow_factory: UnitOfWorkFactory, stocked: UUID
) -> None:
    channels = _channels(uow_factory)
    connection = create_channel(
        channels=channels,
        tenant_id=stocked,
        kind=ChannelKind.API,
        name="fake store",
        settings={},
        credentials={},
        at=AT,
    )
    store = FakeSalesChannel(kind=ChannelKind.API)
    receive = partial(
        receive_order,
        channels=channels,
        uow_factory=uow_factory,
        gateways=gateway_named,
        place=partial(place_alone, uow_factory, gateway_named, None),
        connection=connection,
        operation="webhook",
        actor=STORE,
        at=AT,
    )
    channel = connection.order_channel
    store.orders = {"v1": copy_of(channel, minutes=0), "v2": copy_of(channel, minutes=5, paid=True)}
    first = receive(incoming=store.order_of_webhook(topic="x", raw_body=b"v1"))
    paid = receive(incoming=store.order_of_webhook(topic="x", raw_body=b"v2"))
    stale = receive(incoming=store.order_of_webhook(topic="x", raw_body=b"v1"))
    assert (first.created, paid.created, stale.created) == (True, False, False)
    assert (paid.applied, stale.applied) == (True, False)
    assert first.order.id == paid.order.id == stale.order.id
    assert paid.order.payment_status is PaymentStatus.PAID
    entries = sync_log(channels=channels, tenant_id=stocked, channel_id=connection.id, limit=10)
    assert [e.outcome for e in entries] == [SyncOutcome.IGNORED, SyncOutcome.OK, SyncOutcome.OK]
    assert channels.get(stocked, connection.id).health is ChannelHealth.HEALTHY  # type: ignore[union-attr]


def test_an_order_of_unknown_skus_only_is_taken_and_held(
    uow_factory: UnitOfWorkFactory, stocked: UUID
) -> None:
    channels = _channels(uow_factory)
    connection = create_channel(
        channels=channels,
        tenant_id=stocked,
        kind=ChannelKind.API,
        name="fake store",
        settings={},
        credentials={},
        at=AT,
    )
    received = receive_order(
        channels=channels,
        uow_factory=uow_factory,
        gateways=gateway_named,
        place=partial(place_alone, uow_factory, gateway_named, None),
        connection=connection,
        incoming=copy_of(connection.order_channel, minutes=0, sku="NOPE"),
        operation="webhook",
        actor=STORE,
        at=AT,
    )
    assert received.order.status is OrderStatus.ON_HOLD
    reasons = {h.reason.value for h in received.order.open_holds}
    assert "unknown_sku" in reasons
    (line,) = received.order.lines
    assert (line.sku, line.quantity, line.allocated) == ("NOPE", 2, 0)


def test_a_refused_order_is_logged_as_failed(uow_factory: UnitOfWorkFactory, stocked: UUID) -> None:
    channels = _channels(uow_factory)
    connection = create_channel(
        channels=channels,
        tenant_id=stocked,
        kind=ChannelKind.API,
        name="fake store",
        settings={},
        credentials={},
        at=AT,
    )
    bad = copy_of(connection.order_channel, minutes=0)
    bad = ChannelOrder(
        external_id="1001",
        updated_at=bad.updated_at,
        command=PlaceOrder(currency="XXQ", lines=bad.command.lines, channel=bad.command.channel),
    )
    with pytest.raises(InvalidRequest):
        receive_order(
            channels=channels,
            uow_factory=uow_factory,
            gateways=gateway_named,
            place=partial(place_alone, uow_factory, gateway_named, None),
            connection=connection,
            incoming=bad,
            operation="webhook",
            actor=STORE,
            at=AT,
        )
    found = channels.get(stocked, connection.id)
    assert found is not None
    assert found.health is ChannelHealth.FAILING


def test_a_store_order_s_copy_and_log_commit_with_its_group_or_not_at_all(
    uow_factory: UnitOfWorkFactory, stocked: UUID
) -> None:
    """Paid copies of three store orders placed as a group whose write fails: the group
    rolls back (its copies' records and log entries with it), each goes alone, and each
    order has exactly one copy record and one log entry; the order at fault has none."""
    assert isinstance(uow_factory, SqlUnitOfWorkFactory)
    engine = uow_factory.engine
    channels = _channels(uow_factory)
    connection = create_channel(
        channels=channels,
        tenant_id=stocked,
        kind=ChannelKind.API,
        name="fake store",
        settings={},
        credentials={},
        at=AT,
    )

    class FailingUnitOfWork(SqlUnitOfWork):
        def __enter__(self) -> Self:
            inside = super().__enter__()
            add_all = inside.orders.add_all

            def failing(entries: Any) -> bool:
                if len(entries) > 1:
                    raise DataError("INSERT INTO orders ...", {}, Exception("refused"))
                return add_all(entries)

            inside.orders.add_all = failing  # type: ignore[method-assign]
            return inside

    def failing_factory(*, readonly: bool = False) -> SqlUnitOfWork:
        return FailingUnitOfWork(engine, readonly=readonly)

    copies = []
    for n in range(3):
        paid = copy_of(connection.order_channel, minutes=0, paid=True)
        external = f"20{n}"
        copies.append(
            replace(paid, external_id=external, command=replace(paid.command, external_id=external))
        )
    submissions = [
        submission_of(connection, c, operation="webhook", actor=STORE, at=AT) for c in copies
    ]

    outcomes = place_group(
        uow_factory=failing_factory, gateways=gateway_named, geocoder=None, submissions=submissions
    )

    assert [type(o).__name__ for o in outcomes] == ["PlacedOrder"] * 3
    entries = sync_log(channels=channels, tenant_id=stocked, channel_id=connection.id, limit=10)
    assert sorted(e.external_id or "" for e in entries) == ["200", "201", "202"]
    with engine.connect() as conn:
        stored = conn.execute(
            select(channel_orders.c.external_id).where(channel_orders.c.tenant_id == stocked)
        ).all()
    assert sorted(r.external_id for r in stored) == ["200", "201", "202"]


@pytest.mark.parametrize(
    ("placed_paid", "copy", "changes"),
    [
        pytest.param(False, {}, CopyChanges(), id="the-same-copy"),
        pytest.param(True, {"paid": True}, CopyChanges(), id="paid-as-placed"),
        pytest.param(
            False, {"paid": True}, CopyChanges(authorize=True, capture=True), id="paid-since"
        ),
        pytest.param(
            False,
            {"payment": RemotePayment.AUTHORIZED},
            CopyChanges(authorize=True),
            id="authorized-since",
        ),
        pytest.param(True, {"payment": RemotePayment.AUTHORIZED}, CopyChanges(), id="paid-kept"),
        pytest.param(False, {"held": True}, CopyChanges(hold=True), id="held-in-the-store"),
        pytest.param(True, {"cancelled": True}, CopyChanges(cancel=True), id="cancelled"),
    ],
)
def test_what_a_copy_changes_in_the_order_it_placed(
    uow_factory: UnitOfWorkFactory,
    stocked: UUID,
    placed_paid: bool,
    copy: dict[str, Any],
    changes: CopyChanges,
) -> None:
    """A copy that changes nothing in the order it created is settled by placing it (its
    copy and log entry were written with the order); any other goes on in receive_order."""
    channels = _channels(uow_factory)
    connection = create_channel(
        channels=channels,
        tenant_id=stocked,
        kind=ChannelKind.API,
        name="fake store",
        settings={},
        credentials={},
        at=AT,
    )
    first = copy_of(connection.order_channel, minutes=0, paid=placed_paid)
    fields = {k: v for k, v in copy.items() if k != "paid"}
    paid = copy.get("paid", False)
    incoming = replace(copy_of(connection.order_channel, minutes=0, paid=paid), **fields)
    placed = place_alone(
        uow_factory,
        gateway_named,
        None,
        submission_of(connection, first, operation="webhook", actor=STORE, at=AT),
    )

    found = changes_of(placed.order, incoming, actor=STORE, at=AT)
    settled = settled_by_placing(placed, incoming, actor=STORE, at=AT)
    again = settled_by_placing(replace(placed, created=False), incoming, actor=STORE, at=AT)

    assert found == changes
    assert (settled is None) == bool(changes)
    assert settled is None or (settled.order, settled.created, settled.applied) == (
        placed.order,
        True,
        True,
    )
    assert again is None  # a copy of a known order always goes on


@pytest.mark.parametrize(
    ("outcomes", "health"),
    [
        pytest.param([SyncOutcome.OK] * 3, ChannelHealth.HEALTHY, id="healthy"),
        pytest.param(
            [SyncOutcome.OK, SyncOutcome.FAILED, SyncOutcome.OK], ChannelHealth.HEALTHY, id="mended"
        ),
        pytest.param([SyncOutcome.OK, SyncOutcome.FAILED], ChannelHealth.FAILING, id="failing"),
    ],
)
def test_intake_log_entries_are_written_at_the_commit_and_the_connection_follows_the_last(
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    outcomes: list[SyncOutcome],
    health: ChannelHealth,
) -> None:
    """A group's entries are kept until its commit, then written together; the connection's
    health is the last entry's, as if each had been written in turn; none without a commit."""
    channels = _channels(uow_factory)
    connection = create_channel(
        channels=channels,
        tenant_id=tenant_id,
        kind=ChannelKind.API,
        name="fake store",
        settings={},
        credentials={},
        at=AT,
    )
    entries = [
        sync_entry(
            connection=connection,
            direction=SyncDirection.INBOUND,
            operation="webhook",
            outcome=outcome,
            at=AT + timedelta(seconds=n),
            external_id=str(n),
        )
        for n, outcome in enumerate(outcomes)
    ]

    def log_all(*, commit: bool) -> None:
        with uow_factory() as uow:
            for entry in entries:
                uow.channel_intake.log(tenant_id, entry, HEALTH_AFTER.get(entry.outcome))
            if commit:
                uow.commit()

    log_all(commit=False)
    unwritten = sync_log(channels=channels, tenant_id=tenant_id, channel_id=connection.id, limit=9)
    log_all(commit=True)

    written = sync_log(channels=channels, tenant_id=tenant_id, channel_id=connection.id, limit=9)
    assert unwritten == []
    assert sorted(e.external_id or "" for e in written) == [str(n) for n in range(len(outcomes))]
    assert channels.get(tenant_id, connection.id).health is health  # type: ignore[union-attr]


def test_a_new_order_s_copy_is_written_at_the_commit_never_over_a_newer_one(
    uow_factory: UnitOfWorkFactory, stocked: UUID
) -> None:
    channels = _channels(uow_factory)
    connection = create_channel(
        channels=channels,
        tenant_id=stocked,
        kind=ChannelKind.API,
        name="fake store",
        settings={},
        credentials={},
        at=AT,
    )
    placed = place_alone(
        uow_factory,
        gateway_named,
        None,
        submission_of(
            connection,
            copy_of(connection.order_channel, minutes=0),
            operation="webhook",
            actor=STORE,
            at=AT,
        ),
    )

    def record(*minutes: int, commit: bool) -> None:
        with uow_factory() as uow:
            for m in minutes:
                uow.channel_intake.record_copy(
                    stocked,
                    connection.id,
                    "1001",
                    order_id=placed.order.id,
                    updated_at=AT + timedelta(minutes=m),
                )
            if commit:
                uow.commit()

    def stored() -> datetime:
        assert isinstance(uow_factory, SqlUnitOfWorkFactory)
        with uow_factory.engine.connect() as conn:
            found: datetime = conn.execute(
                select(channel_orders.c.remote_updated_at).where(
                    channel_orders.c.tenant_id == stocked
                )
            ).scalar_one()
        return found.replace(tzinfo=UTC) if found.tzinfo is None else found

    record(30, commit=False)
    assert stored() == AT  # written with the order it placed; nothing without a commit
    record(5, 10, commit=True)
    assert stored() == AT + timedelta(minutes=10)
    record(7, commit=True)
    assert stored() == AT + timedelta(minutes=10)


def test_a_fault_writing_a_group_s_copies_sends_each_order_alone(
    uow_factory: UnitOfWorkFactory, stocked: UUID
) -> None:
    """The copies and entries kept for the group's commit are written before it, inside the
    group: a fault there rolls the group back and each order is placed alone, once."""
    assert isinstance(uow_factory, SqlUnitOfWorkFactory)
    engine = uow_factory.engine
    channels = _channels(uow_factory)
    connection = create_channel(
        channels=channels,
        tenant_id=stocked,
        kind=ChannelKind.API,
        name="fake store",
        settings={},
        credentials={},
        at=AT,
    )

    class FailingUnitOfWork(SqlUnitOfWork):
        def __enter__(self) -> Self:
            inside = super().__enter__()
            intake = inside.channel_intake
            flush = intake.flush

            def failing() -> None:
                if len(intake._copies) > 1:
                    raise DataError("INSERT INTO channel_orders ...", {}, Exception("refused"))
                flush()

            intake.flush = failing  # type: ignore[method-assign]
            return inside

    def failing_factory(*, readonly: bool = False) -> SqlUnitOfWork:
        return FailingUnitOfWork(engine, readonly=readonly)

    submissions = []
    for n in range(3):
        unpaid = copy_of(connection.order_channel, minutes=0)
        external = f"30{n}"
        copy = replace(
            unpaid, external_id=external, command=replace(unpaid.command, external_id=external)
        )
        submissions.append(submission_of(connection, copy, operation="webhook", actor=STORE, at=AT))

    outcomes = place_group(
        uow_factory=failing_factory, gateways=gateway_named, geocoder=None, submissions=submissions
    )

    assert [type(o).__name__ for o in outcomes] == ["PlacedOrder"] * 3
    entries = sync_log(channels=channels, tenant_id=stocked, channel_id=connection.id, limit=10)
    assert sorted(e.external_id or "" for e in entries) == ["300", "301", "302"]
    with engine.connect() as conn:
        stored = conn.execute(
            select(channel_orders.c.external_id).where(channel_orders.c.tenant_id == stocked)
        ).all()
    assert sorted(r.external_id for r in stored) == ["300", "301", "302"]
