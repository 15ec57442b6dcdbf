"""Webhook endpoints and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from oms.api.schemas.common import Strict, UtcTime
from oms.domain.webhooks import MAX_URL_LENGTH, WebhookEndpoint
from oms.services.deliveries import AttemptView, DeliveryView
from oms.services.webhook_endpoints import MAX_DESCRIPTION, MAX_EVENT_TYPES

__all__ = [
    "DeliveryAttemptRead",
    "DeliveryRead",
    "ReplayRequest",
    "ReplayResult",
    "WebhookEndpointCreate",
    "WebhookEndpointCreated",
    "WebhookEndpointRead",
]

EventTypeName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)
]


class WebhookEndpointCreate(Strict):
    url: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_LENGTH)
    ] = Field(description="An http(s) URL whose host resolves to public addresses only")
    event_types: list[EventTypeName] = Field(
        min_length=1,
        max_length=MAX_EVENT_TYPES,
        description='Public event types (docs/events.md), or ["*"] for all',
    )
    description: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)] | None = None


class WebhookEndpointRead(BaseModel):
    id: UUID
    url: str
    event_types: list[str]
    description: str | None
    status: str = Field(description="enabled, or disabled (it failed for 3 days)")
    disabled_at: datetime | None
    failing_since: datetime | None = Field(
        description="Its first failed delivery since the last one that succeeded"
    )
    secret_rotated_until: datetime | None = Field(
        description="Until then deliveries are signed with the previous secret too"
    )
    created_at: datetime

    @classmethod
    def fields_of(cls, endpoint: WebhookEndpoint) -> dict[str, object]:
        return {
            "id": endpoint.id,
            "url": endpoint.url,
            "event_types": list(endpoint.event_types),
            "description": endpoint.description,
            "status": "enabled" if endpoint.disabled_at is None else "disabled",
            "disabled_at": endpoint.disabled_at,
            "failing_since": endpoint.failing_since,
            "secret_rotated_until": endpoint.previous_secret_until,
            "created_at": endpoint.created_at,
        }

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookEndpointRead:
        return cls.model_validate(cls.fields_of(endpoint))


class WebhookEndpointCreated(WebhookEndpointRead):
    secret: str = Field(
        description="whsec_...: the key to verify signatures with; shown in this answer only"
    )

    @classmethod
    def with_secret(cls, endpoint: WebhookEndpoint) -> WebhookEndpointCreated:
        return cls.model_validate({**cls.fields_of(endpoint), "secret": endpoint.secret})


class DeliveryAttemptRead(BaseModel):
    attempt: int
    at: datetime
    delivered: bool
    status_code: int | None
    latency_ms: float | None
    error: str | None
    response_body: str | None = Field(description="The start of what the endpoint answered")

    @classmethod
    def of(cls, attempt: AttemptView) -> DeliveryAttemptRead:
        return cls(
            attempt=attempt.attempt,
            at=attempt.at,
            delivered=attempt.delivered,
            status_code=attempt.status_code,
            latency_ms=attempt.latency_ms,
            error=attempt.error,
            response_body=attempt.response_body,
        )


class DeliveryRead(BaseModel):
    id: UUID
    event_id: UUID = Field(description="The webhook-id header: the same on every attempt")
    event_type: str | None
    status: str = Field(
        description="pending, delivered, failed (every attempt failed) or cancelled"
    )
    attempts: int
    next_attempt_at: datetime | None
    response_status_code: int | None = Field(description="What the last attempt was answered")
    latency_ms: float | None = Field(description="How long the last attempt took")
    error: str | None
    response_body: str | None = Field(description="The start of the last answer's body")
    created_at: datetime
    delivered_at: datetime | None
    attempt_history: list[DeliveryAttemptRead] | None = Field(
        default=None, description="Every attempt, oldest first; omitted (null) in lists"
    )

    @classmethod
    def of(cls, view: DeliveryView, attempts: list[AttemptView] | None = None) -> DeliveryRead:
        return cls(
            id=view.id,
            event_id=view.event_id,
            event_type=view.event_type,
            status=view.status.value,
            attempts=view.attempts,
            next_attempt_at=view.next_attempt_at,
            response_status_code=view.last_status_code,
            latency_ms=view.last_latency_ms,
            error=view.last_error,
            response_body=view.last_response_body,
            created_at=view.created_at,
            delivered_at=view.delivered_at,
            attempt_history=None
            if attempts is None
            else [DeliveryAttemptRead.of(a) for a in attempts],
        )


class ReplayRequest(Strict):
    since: UtcTime = Field(description="Send again every event from this time on")


class ReplayResult(BaseModel):
    scheduled: int = Field(description="Deliveries scheduled to be sent again")
