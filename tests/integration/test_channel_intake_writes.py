"""The writes that come with a store's order placed by the intake (``uow.channel_intake``):
copies, sync log entries and the connection's row, at the commit, on SQLite and
PostgreSQL; on PostgreSQL in one statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from sqlalchemy import Engine, select

from oms.adapters.channels.credentials import FernetCipher
from oms.adapters.db.repositories.channels import SqlChannelRepository
from oms.adapters.db.tables import channel_orders
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.channels import ChannelConnection, ChannelHealth, ChannelKind, SyncDirection
from oms.domain.channels import SyncOutcome as Outcome
from oms.domain.ids import new_id
from oms.services.channels import HEALTH_AFTER, create_channel, sync_entry, sync_log
from oms.services.tenants import create_tenant

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _setup(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> tuple[Any, ChannelConnection]:
    channels = SqlChannelRepository(uow_factory.engine, FernetCipher("channel-intake-test-key"))
    connection = create_channel(
        channels=channels,
        tenant_id=tenant_id,
        kind=ChannelKind.API,
        name="fake store",
        settings={},
        credentials={},
        at=AT,
    )
    return channels, connection


def _deliver(
    uow_factory: SqlUnitOfWorkFactory,
    connection: ChannelConnection,
    outcome: Outcome,
    seconds: int,
    *,
    copies: int = 0,
) -> None:
    """One transaction: ``copies`` orders' copies and an entry each (one entry without)."""
    with uow_factory() as uow:
        for n in range(max(copies, 1)):
            at = AT + timedelta(seconds=seconds)
            if copies:
                uow.channel_intake.record_copy(
                    connection.tenant_id,
                    connection.id,
                    f"{seconds}-{n}",
                    order_id=new_id(),
                    updated_at=at,
                )
            entry = sync_entry(
                connection=connection,
                direction=SyncDirection.INBOUND,
                operation="webhook orders/create",
                outcome=outcome,
                at=at,
                detail=f"{outcome.value} at {seconds}",
                external_id=f"{seconds}-{n}",
            )
            uow.channel_intake.log(connection.tenant_id, entry, HEALTH_AFTER.get(outcome))
        uow.commit()


def test_the_connection_follows_its_entries_within_the_sync_step(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    """last_synced_at moves with an entry 10 s or more after it, or with a change of
    health; a failure is recorded with its detail at once; an ignored copy changes no
    health."""
    channels, connection = _setup(uow_factory, tenant_id)
    states = []
    for outcome, seconds in (
        (Outcome.OK, 0),
        (Outcome.OK, 5),  # within the step: the row stays
        (Outcome.OK, 12),
        (Outcome.FAILED, 13),  # a failure: at once
        (Outcome.IGNORED, 30),  # no health: only the time
        (Outcome.OK, 31),  # failing before: healthy again at once
    ):
        _deliver(uow_factory, connection, outcome, seconds)
        found = channels.get(tenant_id, connection.id)
        states.append((found.health, found.health_detail, found.last_synced_at))

    def at(seconds: int) -> datetime:
        return AT + timedelta(seconds=seconds)

    assert states == [
        (ChannelHealth.HEALTHY, "ok at 0", at(0)),
        (ChannelHealth.HEALTHY, "ok at 0", at(0)),
        (ChannelHealth.HEALTHY, "ok at 12", at(12)),
        (ChannelHealth.FAILING, "failed at 13", at(13)),
        (ChannelHealth.FAILING, "failed at 13", at(30)),
        (ChannelHealth.HEALTHY, "ok at 31", at(31)),
    ]
    entries = sync_log(channels=channels, tenant_id=tenant_id, channel_id=connection.id, limit=9)
    assert [e.detail for e in entries] == [
        "ok at 31",
        "ignored at 30",
        "failed at 13",
        "ok at 12",
        "ok at 5",
        "ok at 0",
    ]


def test_a_copy_is_kept_only_over_an_older_one(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    _, connection = _setup(uow_factory, tenant_id)
    first, newer = new_id(), new_id()
    for order_id, seconds in ((first, 0), (newer, 60), (first, 30)):
        with uow_factory() as uow:
            uow.channel_intake.record_copy(
                tenant_id,
                connection.id,
                "1001",
                order_id=order_id,
                updated_at=AT + timedelta(seconds=seconds),
            )
            uow.commit()
    with uow_factory.engine.connect() as conn:
        rows = conn.execute(
            select(channel_orders.c.order_id, channel_orders.c.remote_updated_at).where(
                channel_orders.c.tenant_id == tenant_id
            )
        ).all()
    assert [tuple(r) for r in rows] == [(newer, AT + timedelta(seconds=60))]


@pytest.mark.postgres
def test_a_group_s_copies_entries_and_connection_are_one_statement_on_postgresql(
    postgres_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow_factory = SqlUnitOfWorkFactory(postgres_engine)
    tenant, _ = create_tenant(uow_factory=uow_factory, name="one statement")
    channels, connection = _setup(uow_factory, tenant.id)
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def counted(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(query))
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    executemany = psycopg.Cursor.executemany
    monkeypatch.setattr(
        psycopg.Cursor,
        "executemany",
        lambda self, query, *a, **k: sent.append(str(query)) or executemany(self, query, *a, **k),
    )
    _deliver(uow_factory, connection, Outcome.OK, 0, copies=5)
    monkeypatch.undo()

    assert len([s for s in sent if "channel" in s]) == 1
    with uow_factory.engine.connect() as conn:
        stored = conn.execute(
            select(channel_orders.c.external_id).where(channel_orders.c.tenant_id == tenant.id)
        ).scalars()
        assert sorted(stored) == [f"0-{n}" for n in range(5)]
    assert (
        len(sync_log(channels=channels, tenant_id=tenant.id, channel_id=connection.id, limit=9))
        == 5
    )
    assert channels.get(tenant.id, connection.id).health is ChannelHealth.HEALTHY
