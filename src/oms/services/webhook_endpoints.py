"""Merchant webhook endpoints: create (the secret shown once), list, delete, rotate the
secret, see and retry deliveries, replay; and the rule that disables an endpoint failing
for three days (its tenant hears of it through a ``webhook_endpoint.disabled`` event).

The address check is a port (``AddressCheck``): the real one resolves the host and
refuses private, loopback and link-local addresses (``oms.adapters.webhooks.addresses``);
it runs here when an endpoint is created and again before every send.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from oms.domain.delivery_schedule import ENDPOINT_DISABLED_AFTER, DeliveryStatus
from oms.domain.errors import FieldError, InvalidRequest, NotFound
from oms.domain.ids import new_id
from oms.domain.webhooks import WebhookEndpoint, secret_of, url_problem
from oms.services.common import utcnow
from oms.services.deliveries import AttemptView, DeliveryView
from oms.services.event_catalogue import unknown_types
from oms.services.ports import OutboxMessage, UnitOfWork, UnitOfWorkFactory

__all__ = [
    "WEBHOOK_SINK",
    "AddressCheck",
    "EndpointHealth",
    "WebhookEndpointRepository",
    "create_endpoint",
    "delete_endpoint",
    "endpoint_deliveries",
    "get_delivery",
    "get_endpoint",
    "list_endpoints",
    "new_secret",
    "record_endpoint_health",
    "replay_endpoint",
    "retry_delivery",
    "rotate_secret",
]

WEBHOOK_SINK = "webhook"
MAX_EVENT_TYPES = 100
MAX_DESCRIPTION = 500

# The reason ``url`` may not be called (its host resolves to an address that is not
# public, or does not resolve), or None when it may.
AddressCheck = Callable[[str], str | None]


class WebhookEndpointRepository(Protocol):
    def add(self, endpoint: WebhookEndpoint) -> None: ...
    def get(self, tenant_id: UUID, endpoint_id: UUID) -> WebhookEndpoint | None: ...
    def page(
        self, tenant_id: UUID, *, after_id: UUID | None, limit: int
    ) -> list[WebhookEndpoint]: ...
    def enabled(self, tenant_id: UUID) -> list[WebhookEndpoint]: ...
    def delete(self, tenant_id: UUID, endpoint_id: UUID) -> bool: ...
    def save_secrets(self, endpoint: WebhookEndpoint) -> None: ...
    def mark_healthy(self, tenant_id: UUID, endpoint_ids: Sequence[UUID]) -> None: ...
    def mark_failing(self, tenant_id: UUID, endpoint_ids: Sequence[UUID], at: datetime) -> None: ...
    def disable_failing_since(
        self, tenant_id: UUID, endpoint_ids: Sequence[UUID], *, before: datetime, at: datetime
    ) -> list[WebhookEndpoint]:
        """Disable those failing since ``before`` or earlier and not disabled yet; them."""
        ...


def new_secret() -> str:
    """A new ``whsec_`` secret: 24 random bytes."""
    return secret_of(secrets.token_bytes(24))


def _validated(
    url: str, event_types: Sequence[str], description: str | None, check: AddressCheck
) -> tuple[str, tuple[str, ...], str | None]:
    problems: list[FieldError] = []
    url = url.strip()
    reason = url_problem(url)
    if reason is None:
        reason = check(url)
    if reason is not None:
        problems.append(FieldError("#/url", reason))
    if not event_types:
        problems.append(FieldError("#/event_types", 'name at least one event type, or "*"'))
    elif len(event_types) > MAX_EVENT_TYPES:
        problems.append(FieldError("#/event_types", f"at most {MAX_EVENT_TYPES}"))
    for index, name in enumerate(event_types):
        if unknown_types([name]):
            problems.append(
                FieldError(
                    f"#/event_types/{index}", f"unknown event type {name!r} (docs/events.md)"
                )
            )
    if description is not None and len(description) > MAX_DESCRIPTION:
        problems.append(FieldError("#/description", f"at most {MAX_DESCRIPTION} characters"))
    if problems:
        raise InvalidRequest("The webhook endpoint cannot be created", problems)
    return url, tuple(dict.fromkeys(event_types)), description


def create_endpoint(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    url: str,
    event_types: Sequence[str],
    description: str | None,
    check: AddressCheck,
    at: datetime | None = None,
    secret: str | None = None,
) -> WebhookEndpoint:
    """A new endpoint with a new secret (the caller shows it once); 422 at ``#/url`` when
    the URL is not http(s) or its host is not a public address, at ``#/event_types/<i>``
    for a type the catalogue does not know."""
    url, types, description = _validated(url, event_types, description, check)
    endpoint = WebhookEndpoint(
        tenant_id=tenant_id,
        id=new_id(),
        url=url,
        event_types=types,
        description=description,
        secret=secret or new_secret(),
        created_at=at or utcnow(),
    )
    with uow_factory() as uow:
        uow.webhooks.add(endpoint)
        uow.commit()
    return endpoint


def get_endpoint(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, endpoint_id: UUID
) -> WebhookEndpoint:
    """One endpoint of the tenant (404 for another tenant's)."""
    with uow_factory(readonly=True) as uow:
        return _endpoint(uow, tenant_id, endpoint_id)


def _endpoint(uow: UnitOfWork, tenant_id: UUID, endpoint_id: UUID) -> WebhookEndpoint:
    found = uow.webhooks.get(tenant_id, endpoint_id)
    if found is None:
        raise NotFound(f"No webhook endpoint {endpoint_id}")
    return found


def list_endpoints(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, after_id: UUID | None, limit: int
) -> list[WebhookEndpoint]:
    """The tenant's endpoints, oldest first; ``limit + 1`` read to tell if there are more."""
    with uow_factory(readonly=True) as uow:
        return uow.webhooks.page(tenant_id, after_id=after_id, limit=limit + 1)


def delete_endpoint(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    endpoint_id: UUID,
    at: datetime | None = None,
) -> None:
    """Delete an endpoint; its pending deliveries end undelivered."""
    with uow_factory() as uow:
        if not uow.webhooks.delete(tenant_id, endpoint_id):
            raise NotFound(f"No webhook endpoint {endpoint_id}")
        uow.deliveries.cancel_pending(
            tenant_id, sink_kind=WEBHOOK_SINK, subscriber_key=str(endpoint_id), at=at or utcnow()
        )
        uow.commit()


def rotate_secret(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    endpoint_id: UUID,
    at: datetime | None = None,
    secret: str | None = None,
) -> WebhookEndpoint:
    """A new secret; deliveries carry signatures of both for 24 hours."""
    with uow_factory() as uow:
        endpoint = _endpoint(uow, tenant_id, endpoint_id).rotated(
            secret or new_secret(), at or utcnow()
        )
        uow.webhooks.save_secrets(endpoint)
        uow.commit()
    return endpoint


def endpoint_deliveries(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    endpoint_id: UUID,
    status: DeliveryStatus | None,
    before_id: UUID | None,
    limit: int,
) -> list[DeliveryView]:
    """An endpoint's deliveries, newest first; ``limit + 1`` read."""
    with uow_factory(readonly=True) as uow:
        _endpoint(uow, tenant_id, endpoint_id)
        return uow.deliveries.page(
            tenant_id,
            sink_kind=WEBHOOK_SINK,
            subscriber_key=str(endpoint_id),
            status=status,
            before_id=before_id,
            limit=limit + 1,
        )


@dataclass(frozen=True)
class DeliveryDetail:
    delivery: DeliveryView
    attempts: list[AttemptView]


def _delivery(
    uow: UnitOfWork, tenant_id: UUID, endpoint_id: UUID, delivery_id: UUID
) -> DeliveryView:
    _endpoint(uow, tenant_id, endpoint_id)
    found = uow.deliveries.get(tenant_id, delivery_id)
    if found is None or found.sink_kind != WEBHOOK_SINK or found.subscriber_key != str(endpoint_id):
        raise NotFound(f"No delivery {delivery_id} to this endpoint")
    return found


def get_delivery(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, endpoint_id: UUID, delivery_id: UUID
) -> DeliveryDetail:
    """One delivery with every attempt."""
    with uow_factory(readonly=True) as uow:
        found = _delivery(uow, tenant_id, endpoint_id, delivery_id)
        return DeliveryDetail(found, uow.deliveries.attempts(tenant_id, delivery_id))


def retry_delivery(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    endpoint_id: UUID,
    delivery_id: UUID,
    at: datetime | None = None,
) -> DeliveryView:
    """Send a delivery again now, whatever became of it, with a fresh retry schedule (a
    pending one is left as it is)."""
    when = at or utcnow()
    with uow_factory() as uow:
        _delivery(uow, tenant_id, endpoint_id, delivery_id)
        uow.deliveries.retry(tenant_id, delivery_id, at=when)
        found = uow.deliveries.get(tenant_id, delivery_id)
        uow.commit()
    assert found is not None
    return found


def replay_endpoint(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    endpoint_id: UUID,
    since: datetime,
    at: datetime | None = None,
) -> int:
    """Send again every event since ``since`` that was fanned out to this endpoint; how
    many deliveries were scheduled."""
    when = at or utcnow()
    if since > when:
        raise InvalidRequest(
            "Nothing to replay from the future", [FieldError("#/since", "in the future")]
        )
    with uow_factory() as uow:
        _endpoint(uow, tenant_id, endpoint_id)
        count = uow.deliveries.replay(
            tenant_id, sink_kind=WEBHOOK_SINK, subscriber_key=str(endpoint_id), since=since, at=when
        )
        uow.commit()
    return count


@dataclass(frozen=True)
class EndpointHealth:
    """One attempt's verdict on an endpoint: it answered 2xx, or it did not."""

    tenant_id: UUID
    endpoint_id: UUID
    delivered: bool


def record_endpoint_health(
    uow: UnitOfWork, verdicts: Sequence[EndpointHealth], at: datetime
) -> None:
    """An endpoint that answered is healthy; one that failed is failing from its first
    failure since; failing for ``ENDPOINT_DISABLED_AFTER`` it is disabled, and a
    ``webhook_endpoint.disabled`` message tells its tenant (inside the caller's
    transaction)."""
    healthy: dict[UUID, set[UUID]] = {}
    failing: dict[UUID, set[UUID]] = {}
    for verdict in verdicts:
        (healthy if verdict.delivered else failing).setdefault(verdict.tenant_id, set()).add(
            verdict.endpoint_id
        )
    for tenant_id, ids in healthy.items():
        uow.webhooks.mark_healthy(tenant_id, sorted(ids))
    for tenant_id, ids in failing.items():
        still = sorted(ids - healthy.get(tenant_id, set()))
        if not still:
            continue
        uow.webhooks.mark_failing(tenant_id, still, at)
        disabled = uow.webhooks.disable_failing_since(
            tenant_id, still, before=at - ENDPOINT_DISABLED_AFTER, at=at
        )
        uow.outbox.add_many(
            tenant_id,
            [
                OutboxMessage(
                    topic="webhook_endpoint.disabled",
                    aggregate_id=endpoint.id,
                    payload={
                        "webhook_endpoint_id": str(endpoint.id),
                        "url": endpoint.url,
                        "failing_since": None
                        if endpoint.failing_since is None
                        else endpoint.failing_since.isoformat(),
                    },
                    created_at=at,
                )
                for endpoint in disabled
            ],
        )
