"""Sales channel connections: the ``SalesChannel`` port every store adapter implements, the
store of connections and their sync logs, and the use cases that create, read, change and
delete connections.

A channel adapter (one per kind, ``oms.adapters.channels``) turns what a store sends into
``ChannelOrder`` values; ``oms.services.channel_orders`` feeds them to the same intake as
``POST /v1/orders``. Adding a store means one adapter and its mapping tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from oms.domain.channels import (
    CREDENTIAL_FIELDS,
    SETTING_FIELDS,
    ChannelConnection,
    ChannelHealth,
    ChannelKind,
    SyncDirection,
    SyncEntry,
    SyncOutcome,
)
from oms.domain.errors import AlreadyExists, FieldError, InvalidRequest, NotFound
from oms.domain.ids import new_id
from oms.services.common import utcnow
from oms.services.intake import PlaceOrder

__all__ = [
    "ChannelChanges",
    "ChannelIntakeRepository",
    "ChannelOrder",
    "ChannelRepository",
    "CredentialCipher",
    "PayloadRefused",
    "RemotePayment",
    "SalesChannel",
    "SalesChannelFactory",
    "StoreUnavailable",
    "create_channel",
    "delete_channel",
    "get_channel",
    "list_channels",
    "log_sync",
    "sync_entry",
    "sync_log",
    "update_channel",
]


class RemotePayment(StrEnum):
    """What the store says about the order's money."""

    PENDING = "pending"  # nothing taken yet: the order waits (payment_pending)
    AUTHORIZED = "authorized"
    PAID = "paid"  # captured by the store
    OTHER = "other"  # refunded, voided...: nothing to record at intake


@dataclass(frozen=True)
class ChannelOrder:
    """One order as a store sent it, mapped: the intake command, and what later copies of
    the same order may change (payment, cancellation, a hold in the store), ordered by
    ``updated_at``."""

    external_id: str
    updated_at: datetime
    command: PlaceOrder
    payment: RemotePayment = RemotePayment.PENDING
    cancelled: bool = False
    cancel_reason: str | None = None
    held: bool = False  # on hold in the store (Magento's "holded"): mirrored as a manual hold
    hold_note: str | None = None


class PayloadRefused(ValueError):
    """A verified body that is not an order as the store documents it (422)."""


class StoreUnavailable(Exception):
    """The store's API did not answer usefully after every retry."""


class SalesChannel(Protocol):
    """One store, as its adapter speaks to it.

    Inbound, ``verify_webhook`` checks a delivery's signature over the raw bytes, before
    anything is parsed; ``order_of_webhook`` maps a verified body (``topic`` as the store
    names it) to a ``ChannelOrder``, or None for a topic that carries no order. Adapters
    never touch the database: the use cases do, through the same intake as the API.
    """

    kind: ChannelKind

    def verify_webhook(self, *, raw_body: bytes, headers: Mapping[str, str]) -> bool: ...

    def is_handshake(self, *, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        """A delivery that only tests the endpoint (WooCommerce's ping when a webhook is
        saved): answered 200, nothing stored, no signature to check."""
        ...

    def order_of_webhook(self, *, topic: str, raw_body: bytes) -> ChannelOrder | None: ...

    def orders_since(self, since: datetime) -> Iterator[ChannelOrder]:
        """Every order updated at or after ``since``, page by page (a backfill)."""
        ...


SalesChannelFactory = Callable[[ChannelConnection], SalesChannel]


class CredentialCipher(Protocol):
    """Encrypts a connection's credentials for storage; decrypts with any key in use."""

    def encrypt(self, credentials: Mapping[str, str]) -> str: ...
    def decrypt(self, token: str) -> dict[str, str]: ...


class ChannelRepository(Protocol):
    """Connections, their sync logs and the last version of each order they brought in.

    Each call is its own transaction; credentials cross it in plain text (the repository
    encrypts and decrypts them with its cipher).
    """

    def add(self, connection: ChannelConnection) -> bool:
        """Store it; False when the tenant has a connection of that name already."""
        ...

    def get(self, tenant_id: UUID, channel_id: UUID) -> ChannelConnection | None: ...
    def find(self, channel_id: UUID) -> ChannelConnection | None:
        """The connection with this id, whatever its tenant (a store's webhook names none)."""
        ...

    def page(
        self, tenant_id: UUID, *, after_id: UUID | None, limit: int
    ) -> list[ChannelConnection]: ...
    def save(self, connection: ChannelConnection) -> bool:
        """Store changed fields; False when another connection of the tenant has its name."""
        ...

    def delete(self, tenant_id: UUID, channel_id: UUID) -> bool: ...
    def log(self, tenant_id: UUID, entry: SyncEntry, health: ChannelHealth | None) -> None:
        """Append to the sync log and, given ``health``, set the connection's health."""
        ...

    def entries(self, tenant_id: UUID, channel_id: UUID, *, limit: int) -> list[SyncEntry]:
        """The newest entries first."""
        ...

    def advance_order(
        self,
        tenant_id: UUID,
        channel_id: UUID,
        external_id: str,
        *,
        order_id: UUID,
        updated_at: datetime,
    ) -> bool:
        """Record ``updated_at`` as the order's last version applied, only when newer than
        the stored one (or none is stored): True when it was, so the caller applies it."""
        ...

    def stock_pushers(self) -> list[ChannelConnection]:
        """Every tenant's connections with ``push_stock`` on (the worker's stock push)."""
        ...

    def inventory_items(
        self, tenant_id: UUID, channel_id: UUID, skus: Sequence[str]
    ) -> dict[str, str]:
        """The store's own ids of the items of these SKUs (the store's SKUs), where known."""
        ...

    def remember_inventory_items(
        self, tenant_id: UUID, channel_id: UUID, items: Mapping[str, str], at: datetime
    ) -> None:
        """Keep the store's item ids of these SKUs (looked up in the store) for next time."""
        ...

    def forget_inventory_items(
        self, tenant_id: UUID, channel_id: UUID, skus: Sequence[str]
    ) -> None:
        """Drop the kept item ids of these SKUs (the store no longer knows them), so the
        next push looks them up again."""
        ...


class ChannelIntakeRepository(Protocol):
    """``ChannelRepository``'s writes for an order the intake places, in the unit of work's
    transaction (the intake's, or its group's): the order's copy and its sync log entry
    commit with the order, or not at all."""

    def log(self, tenant_id: UUID, entry: SyncEntry, health: ChannelHealth | None) -> None: ...

    def record_copy(
        self,
        tenant_id: UUID,
        channel_id: UUID,
        external_id: str,
        *,
        order_id: UUID,
        updated_at: datetime,
    ) -> None:
        """``ChannelRepository.advance_order`` for a copy whose outcome nobody waits for (a
        new order's): written as late as the commit, with the transaction's other copies."""
        ...

    def flush(self) -> None:
        """Write the copies and entries kept for the commit now (the commit does it too)."""
        ...


@dataclass(frozen=True)
class ChannelChanges:
    """A PATCH: fields given are changed, None ones are left as they are."""

    name: str | None = None
    settings: dict[str, Any] | None = None
    credentials: dict[str, str] | None = None
    location_codes: tuple[str, ...] | None = None
    sku_mapping: dict[str, str] | None = None
    push_fulfilments: bool | None = None
    push_stock: bool | None = None


def _check_fields(
    kind: ChannelKind, credentials: Mapping[str, str], settings: Mapping[str, Any] | None = None
) -> None:
    problems = [
        FieldError(f"#/{name}", f"not a credential of a {kind.value} channel")
        for name in credentials
        if name not in CREDENTIAL_FIELDS[kind]
    ] + [
        FieldError(f"#/{name}", f"not a setting of a {kind.value} channel")
        for name in settings or {}
        if name not in SETTING_FIELDS[kind]
    ]
    if problems:
        raise InvalidRequest("The channel cannot be saved", problems)


def create_channel(
    *,
    channels: ChannelRepository,
    tenant_id: UUID,
    kind: ChannelKind,
    name: str,
    settings: Mapping[str, Any],
    credentials: Mapping[str, str],
    location_codes: Sequence[str] = (),
    sku_mapping: Mapping[str, str] | None = None,
    push_fulfilments: bool = True,
    push_stock: bool = False,
    at: datetime | None = None,
) -> ChannelConnection:
    """A new connection; 409 when the tenant has one of that name."""
    _check_fields(kind, credentials, settings)
    when = at or utcnow()
    connection = ChannelConnection(
        tenant_id=tenant_id,
        id=new_id(),
        kind=kind,
        name=name,
        created_at=when,
        updated_at=when,
        settings=dict(settings),
        credentials=dict(credentials),
        location_codes=tuple(location_codes),
        sku_mapping=dict(sku_mapping or {}),
        push_fulfilments=push_fulfilments,
        push_stock=push_stock,
    )
    if not channels.add(connection):
        raise AlreadyExists(f"A channel named {name!r} exists already", name=name)
    return connection


def get_channel(
    *, channels: ChannelRepository, tenant_id: UUID, channel_id: UUID
) -> ChannelConnection:
    """The tenant's connection; 404 when it has none with this id."""
    found = channels.get(tenant_id, channel_id)
    if found is None:
        raise NotFound("No such channel", channel_id=str(channel_id))
    return found


def list_channels(
    *, channels: ChannelRepository, tenant_id: UUID, after_id: UUID | None, limit: int
) -> list[ChannelConnection]:
    """A page of the tenant's connections, oldest id first."""
    return channels.page(tenant_id, after_id=after_id, limit=limit)


def update_channel(
    *,
    channels: ChannelRepository,
    tenant_id: UUID,
    channel_id: UUID,
    changes: ChannelChanges,
    at: datetime | None = None,
) -> ChannelConnection:
    """Change what is given; credentials given replace those of the same names."""
    current = get_channel(channels=channels, tenant_id=tenant_id, channel_id=channel_id)
    credentials = dict(current.credentials)
    _check_fields(current.kind, changes.credentials or {}, changes.settings)
    credentials.update(changes.credentials or {})
    changed = replace(
        current,
        name=changes.name if changes.name is not None else current.name,
        settings={**current.settings, **(changes.settings or {})},
        credentials=credentials,
        location_codes=changes.location_codes
        if changes.location_codes is not None
        else current.location_codes,
        sku_mapping=changes.sku_mapping if changes.sku_mapping is not None else current.sku_mapping,
        push_fulfilments=current.push_fulfilments
        if changes.push_fulfilments is None
        else changes.push_fulfilments,
        push_stock=current.push_stock if changes.push_stock is None else changes.push_stock,
        updated_at=at or utcnow(),
    )
    if not channels.save(changed):
        raise AlreadyExists(f"A channel named {changed.name!r} exists already", name=changed.name)
    return changed


def delete_channel(*, channels: ChannelRepository, tenant_id: UUID, channel_id: UUID) -> None:
    """Remove the connection and its log (its orders stay); 404 when there is none."""
    if not channels.delete(tenant_id, channel_id):
        raise NotFound("No such channel", channel_id=str(channel_id))


def log_sync(
    *,
    channels: ChannelRepository,
    connection: ChannelConnection,
    direction: SyncDirection,
    operation: str,
    outcome: SyncOutcome,
    at: datetime,
    detail: str | None = None,
    external_id: str | None = None,
    order_id: UUID | None = None,
) -> SyncEntry:
    """Append to the connection's sync log; a success makes it healthy, a failure failing."""
    entry = sync_entry(
        connection=connection,
        direction=direction,
        operation=operation,
        outcome=outcome,
        at=at,
        detail=detail,
        external_id=external_id,
        order_id=order_id,
    )
    channels.log(connection.tenant_id, entry, HEALTH_AFTER.get(outcome))
    return entry


# What an entry's outcome makes the connection's health (an ignored copy changes nothing).
HEALTH_AFTER = {SyncOutcome.OK: ChannelHealth.HEALTHY, SyncOutcome.FAILED: ChannelHealth.FAILING}


def sync_entry(
    *,
    connection: ChannelConnection,
    direction: SyncDirection,
    operation: str,
    outcome: SyncOutcome,
    at: datetime,
    detail: str | None = None,
    external_id: str | None = None,
    order_id: UUID | None = None,
) -> SyncEntry:
    """A new entry of the connection's sync log."""
    return SyncEntry(
        id=new_id(),
        channel_id=connection.id,
        at=at,
        direction=direction,
        operation=operation,
        outcome=outcome,
        detail=detail,
        external_id=external_id,
        order_id=order_id,
    )


def sync_log(
    *, channels: ChannelRepository, tenant_id: UUID, channel_id: UUID, limit: int
) -> list[SyncEntry]:
    """The connection's newest sync log entries; 404 when it is not the tenant's."""
    get_channel(channels=channels, tenant_id=tenant_id, channel_id=channel_id)
    return channels.entries(tenant_id, channel_id, limit=limit)
