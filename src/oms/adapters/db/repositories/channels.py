"""Channel connections, their sync logs and the last copy applied of each order (SQL).

``SqlChannelRepository``: each call is its own short transaction on the engine (a store's
webhook is logged whether its order was placed or refused, so a refusal's entry cannot ride
in the intake's rolled-back transaction). The same writes of an order the intake places,
in the intake's own transaction, are ``channel_intake.SqlChannelIntakeRepository``'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, delete, insert, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from oms.adapters.db.tables import (
    channel_inventory_items,
    channel_orders,
    channel_sync_log,
    channels,
)
from oms.domain.channels import (
    ChannelConnection,
    ChannelHealth,
    ChannelKind,
    SyncDirection,
    SyncEntry,
    SyncOutcome,
)
from oms.services.channels import CredentialCipher

__all__ = ["SqlChannelRepository", "health_runs", "sync_log_row", "upsert_copies", "write_logs"]

LAST_SYNCED_STEP = timedelta(seconds=10)

_c = channels.c
_l = channel_sync_log.c
_o = channel_orders.c
_i = channel_inventory_items.c


class SqlChannelRepository:
    def __init__(self, engine: Engine, cipher: CredentialCipher) -> None:
        self._engine = engine
        self._cipher = cipher

    def _read(self) -> Connection:
        # A read-only transaction: on SQLite a deferred BEGIN, so a read made while the
        # caller's own unit of work holds the write lock (a sink asked for subscribers in
        # the worker's fan-out transaction) does not wait for that lock forever.
        return self._engine.connect().execution_options(oms_readonly=True)

    def _connection(self, row: Any) -> ChannelConnection:
        return ChannelConnection(
            tenant_id=row.tenant_id,
            id=row.id,
            kind=ChannelKind(row.kind),
            name=row.name,
            created_at=row.created_at,
            updated_at=row.updated_at,
            settings=dict(row.settings),
            credentials=self._cipher.decrypt(row.credentials),
            location_codes=tuple(row.location_codes),
            sku_mapping=dict(row.sku_mapping),
            push_fulfilments=row.push_fulfilments,
            push_stock=row.push_stock,
            health=ChannelHealth(row.health),
            health_detail=row.health_detail,
            last_synced_at=row.last_synced_at,
        )

    def _values(self, connection: ChannelConnection) -> dict[str, Any]:
        return {
            "kind": connection.kind.value,
            "name": connection.name,
            "settings": connection.settings,
            "credentials": self._cipher.encrypt(connection.credentials),
            "location_codes": list(connection.location_codes),
            "sku_mapping": connection.sku_mapping,
            "push_fulfilments": connection.push_fulfilments,
            "push_stock": connection.push_stock,
            "updated_at": connection.updated_at,
        }

    def add(self, connection: ChannelConnection) -> bool:
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(channels).values(
                        tenant_id=connection.tenant_id,
                        id=connection.id,
                        health=connection.health.value,
                        health_detail=connection.health_detail,
                        last_synced_at=connection.last_synced_at,
                        created_at=connection.created_at,
                        **self._values(connection),
                    )
                )
        except IntegrityError:
            return False
        return True

    def get(self, tenant_id: UUID, channel_id: UUID) -> ChannelConnection | None:
        with self._read() as conn:
            row = conn.execute(
                select(channels).where(_c.tenant_id == tenant_id, _c.id == channel_id)
            ).first()
        return None if row is None else self._connection(row)

    def find(self, channel_id: UUID) -> ChannelConnection | None:
        with self._read() as conn:
            row = conn.execute(select(channels).where(_c.id == channel_id)).first()
        return None if row is None else self._connection(row)

    def stock_pushers(self) -> list[ChannelConnection]:
        with self._read() as conn:
            rows = conn.execute(select(channels).where(_c.push_stock == true())).all()
        return [self._connection(row) for row in rows]

    def page(
        self, tenant_id: UUID, *, after_id: UUID | None, limit: int
    ) -> list[ChannelConnection]:
        query = select(channels).where(_c.tenant_id == tenant_id)
        if after_id is not None:
            query = query.where(_c.id > after_id)
        with self._read() as conn:
            rows = conn.execute(query.order_by(_c.id).limit(limit)).all()
        return [self._connection(row) for row in rows]

    def save(self, connection: ChannelConnection) -> bool:
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    update(channels)
                    .where(_c.tenant_id == connection.tenant_id, _c.id == connection.id)
                    .values(**self._values(connection))
                )
        except IntegrityError:
            return False
        return True

    def delete(self, tenant_id: UUID, channel_id: UUID) -> bool:
        with self._engine.begin() as conn:
            gone = conn.execute(
                delete(channels).where(_c.tenant_id == tenant_id, _c.id == channel_id)
            ).rowcount
            if gone:
                conn.execute(
                    delete(channel_sync_log).where(
                        _l.tenant_id == tenant_id, _l.channel_id == channel_id
                    )
                )
                conn.execute(
                    delete(channel_orders).where(
                        _o.tenant_id == tenant_id, _o.channel_id == channel_id
                    )
                )
                conn.execute(
                    delete(channel_inventory_items).where(
                        _i.tenant_id == tenant_id, _i.channel_id == channel_id
                    )
                )
        return bool(gone)

    def log(self, tenant_id: UUID, entry: SyncEntry, health: ChannelHealth | None) -> None:
        with self._engine.begin() as conn:
            write_log(conn, tenant_id, entry, health)

    def entries(self, tenant_id: UUID, channel_id: UUID, *, limit: int) -> list[SyncEntry]:
        with self._read() as conn:
            rows = conn.execute(
                select(channel_sync_log)
                .where(_l.tenant_id == tenant_id, _l.channel_id == channel_id)
                .order_by(_l.at.desc(), _l.id.desc())
                .limit(limit)
            ).all()
        return [
            SyncEntry(
                id=row.id,
                channel_id=row.channel_id,
                at=row.at,
                direction=SyncDirection(row.direction),
                operation=row.operation,
                outcome=SyncOutcome(row.outcome),
                detail=row.detail,
                external_id=row.external_id,
                order_id=row.order_id,
            )
            for row in rows
        ]

    def advance_order(
        self,
        tenant_id: UUID,
        channel_id: UUID,
        external_id: str,
        *,
        order_id: UUID,
        updated_at: datetime,
    ) -> bool:
        with self._engine.begin() as conn:
            return advance(conn, tenant_id, channel_id, external_id, order_id, updated_at)

    def inventory_items(
        self, tenant_id: UUID, channel_id: UUID, skus: Sequence[str]
    ) -> dict[str, str]:
        if not skus:
            return {}
        with self._read() as conn:
            rows = conn.execute(
                select(_i.sku, _i.inventory_item_id).where(
                    _i.tenant_id == tenant_id,
                    _i.channel_id == channel_id,
                    _i.sku.in_(sorted(set(skus))),
                )
            )
            return {row.sku: row.inventory_item_id for row in rows}

    def remember_inventory_items(
        self, tenant_id: UUID, channel_id: UUID, items: Mapping[str, str], at: datetime
    ) -> None:
        if not items:
            return
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(channel_inventory_items)
        statement = statement.on_conflict_do_update(
            index_elements=[_i.tenant_id, _i.channel_id, _i.sku],
            set_={
                "inventory_item_id": statement.excluded.inventory_item_id,
                "looked_up_at": statement.excluded.looked_up_at,
            },
        )
        with self._engine.begin() as conn:
            conn.execute(
                statement,
                [
                    {
                        "tenant_id": tenant_id,
                        "channel_id": channel_id,
                        "sku": sku,
                        "inventory_item_id": item_id,
                        "looked_up_at": at,
                    }
                    for sku, item_id in sorted(items.items())
                ],
            )

    def forget_inventory_items(
        self, tenant_id: UUID, channel_id: UUID, skus: Sequence[str]
    ) -> None:
        if not skus:
            return
        with self._engine.begin() as conn:
            conn.execute(
                delete(channel_inventory_items).where(
                    _i.tenant_id == tenant_id,
                    _i.channel_id == channel_id,
                    _i.sku.in_(sorted(set(skus))),
                )
            )


def advance(
    conn: Connection,
    tenant_id: UUID,
    channel_id: UUID,
    external_id: str,
    order_id: UUID,
    updated_at: datetime,
) -> bool:
    """Record ``updated_at`` as the order's last copy applied when newer than the stored
    one (or none is stored); True when it was."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(channel_orders).values(
        tenant_id=tenant_id,
        channel_id=channel_id,
        external_id=external_id,
        order_id=order_id,
        remote_updated_at=updated_at,
    )
    # One statement: of two copies at once, one inserts or moves the time forward.
    statement = statement.on_conflict_do_update(
        index_elements=[_o.tenant_id, _o.channel_id, _o.external_id],
        set_={"remote_updated_at": updated_at, "order_id": order_id},
        where=_o.remote_updated_at < updated_at,
    )
    # RETURNING names the row written; none when the stored copy is as new or newer.
    return conn.execute(statement.returning(_o.external_id)).first() is not None


def upsert_copies(conn: Connection, copies: Sequence[Mapping[str, Any]]) -> None:
    """``advance`` for many copies of distinct orders at once (executemany), as column ->
    value mappings."""
    if copies:
        conn.execute(_upsert_copy(conn), list(copies))


def _upsert_copy(conn: Connection) -> Any:
    """``advance``'s statement for many copies at once (executemany), without RETURNING."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(channel_orders)
    return statement.on_conflict_do_update(
        index_elements=[_o.tenant_id, _o.channel_id, _o.external_id],
        set_={
            "remote_updated_at": statement.excluded.remote_updated_at,
            "order_id": statement.excluded.order_id,
        },
        where=_o.remote_updated_at < statement.excluded.remote_updated_at,
    )


def write_log(
    conn: Connection, tenant_id: UUID, entry: SyncEntry, health: ChannelHealth | None
) -> None:
    """Append ``entry`` to the sync log; the connection's row follows (``write_logs``)."""
    write_logs(conn, [(tenant_id, entry, health)])


def write_logs(
    conn: Connection, entries: Sequence[tuple[UUID, SyncEntry, ChannelHealth | None]]
) -> None:
    """Append ``entries`` (tenant, entry, the connection's health after it) to the sync log
    in one statement; each connection's row follows its last entry of a run of one health
    (see below), as it would have followed each entry in turn."""
    if not entries:
        return
    conn.execute(
        insert(channel_sync_log),
        [sync_log_row(tenant_id, entry) for tenant_id, entry, _ in entries],
    )
    for tenant_id, entry, health in health_runs(entries):
        _follow(conn, tenant_id, entry, health)


def sync_log_row(tenant_id: UUID, entry: SyncEntry) -> dict[str, Any]:
    """``entry``'s row of ``channel_sync_log``."""
    return {
        "tenant_id": tenant_id,
        "channel_id": entry.channel_id,
        "id": entry.id,
        "at": entry.at,
        "direction": entry.direction.value,
        "operation": entry.operation[:100],
        "outcome": entry.outcome.value,
        "detail": entry.detail,
        "external_id": entry.external_id,
        "order_id": entry.order_id,
    }


def health_runs(
    entries: Sequence[tuple[UUID, SyncEntry, ChannelHealth | None]],
) -> list[tuple[UUID, SyncEntry, ChannelHealth | None]]:
    """Each run of consecutive entries of one connection and one health, as its latest
    entry: what the connection's row follows."""
    runs: list[tuple[UUID, SyncEntry, ChannelHealth | None]] = []
    for tenant_id, entry, health in entries:
        last = runs[-1] if runs else None
        if last and (last[0], last[1].channel_id, last[2]) == (tenant_id, entry.channel_id, health):
            runs[-1] = (tenant_id, entry if entry.at >= last[1].at else last[1], health)
        else:
            runs.append((tenant_id, entry, health))
    return runs


def _follow(
    conn: Connection, tenant_id: UUID, entry: SyncEntry, health: ChannelHealth | None
) -> None:
    changes: dict[str, Any] = {"last_synced_at": entry.at}
    # Every webhook of a shop would update its one connection row, and concurrent
    # webhooks would queue on that row's lock: it is updated when the health changes,
    # a failure is recorded, or last_synced_at is older than LAST_SYNCED_STEP.
    stale = or_(_c.last_synced_at.is_(None), _c.last_synced_at < entry.at - LAST_SYNCED_STEP)
    if health is not None:
        changes["health"] = health.value
        changes["health_detail"] = entry.detail
        healthy = health is ChannelHealth.HEALTHY
        stale = or_(stale, _c.health != health.value) if healthy else true()
    conn.execute(
        update(channels)
        .where(_c.tenant_id == tenant_id, _c.id == entry.channel_id, stale)
        .values(**changes)
    )
