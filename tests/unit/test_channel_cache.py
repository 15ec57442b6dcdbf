"""The per-process connection cache: kept for its time to live, forgotten on a change or a
deletion made through it, read again after another process's change once it expires."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID, uuid4

from oms.adapters.memory.channels import InMemoryChannelRepository
from oms.domain.channels import ChannelConnection, ChannelKind
from oms.services.channel_cache import CachedChannels
from oms.services.channels import create_channel

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class CountingRepository(InMemoryChannelRepository):
    def __init__(self) -> None:
        super().__init__()
        self.finds = 0

    def find(self, channel_id: UUID) -> ChannelConnection | None:
        self.finds += 1
        return super().find(channel_id)


def _setup() -> tuple[CountingRepository, CachedChannels, Clock]:
    inner = CountingRepository()
    clock = Clock()
    return inner, CachedChannels(inner, ttl=5.0, clock=clock), clock


def _connect(channels: CachedChannels) -> ChannelConnection:
    return create_channel(
        channels=channels,
        tenant_id=uuid4(),
        kind=ChannelKind.API,
        name="store",
        settings={},
        credentials={},
        at=AT,
    )


def test_a_connection_is_read_once_while_fresh_and_again_when_expired() -> None:
    inner, cached, clock = _setup()
    connection = _connect(cached)
    assert cached.fresh(connection.id) is None
    first = cached.find(connection.id)
    clock.now += 4.9
    assert cached.find(connection.id) is first
    assert cached.fresh(connection.id) is first
    assert inner.finds == 1
    # Changed by another process (straight in the repository): seen once it expires.
    assert first is not None
    inner.save(replace(first, name="renamed"))
    clock.now += 0.2
    assert cached.fresh(connection.id) is None
    found = cached.find(connection.id)
    assert found is not None
    assert found.name == "renamed"
    assert inner.finds == 2


def test_a_change_or_deletion_made_through_the_cache_is_seen_at_once() -> None:
    inner, cached, _ = _setup()
    connection = _connect(cached)
    kept = cached.find(connection.id)
    assert kept is not None
    assert cached.save(replace(kept, credentials={"webhook_secret": "new"}))
    assert cached.fresh(kept.id) is None
    again = cached.find(kept.id)
    assert again is not None
    assert again.credentials == {"webhook_secret": "new"}
    assert cached.delete(kept.tenant_id, kept.id)
    assert cached.fresh(kept.id) is None
    assert cached.find(kept.id) is None
    assert inner.finds == 3
