"""The webhook ``EventSink``: POSTs each event to the merchant's endpoints, signed the
Standard Webhooks way (docs/events.md).

Body ``{"type", "timestamp", "data"}``; headers ``webhook-id`` (the event id: the same on
every retry), ``webhook-timestamp`` (when this attempt was sent, Unix seconds) and
``webhook-signature``. 2xx is delivered; anything else, a redirect included (never
followed), a timeout or a refused address is a failed attempt. What the endpoint answered
is kept truncated.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import httpx
import orjson

from oms.adapters.webhooks.addresses import AddressGuard
from oms.adapters.webhooks.signing import signature_header
from oms.domain.webhooks import WebhookEndpoint
from oms.services.events import Event, Outcome
from oms.services.ports import UnitOfWork
from oms.services.webhook_endpoints import WEBHOOK_SINK, EndpointHealth, record_endpoint_health

__all__ = ["MAX_STORED_BODY", "PreparedWebhook", "WebhookSink", "body_of", "new_client"]

MAX_STORED_BODY = 2048
USER_AGENT = "oms-webhooks/1.0"


def new_client(
    *, connect_timeout: float = 5.0, read_timeout: float = 10.0, max_connections: int = 64
) -> httpx.Client:
    """An HTTP client for webhooks: no redirects followed, bounded waits, kept-alive
    connections shared by the worker's sending threads."""
    return httpx.Client(
        follow_redirects=False,
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout),
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        headers={"user-agent": USER_AGENT},
        trust_env=False,
    )


def body_of(event: Event) -> bytes:
    """The JSON body every delivery of ``event`` carries (the same bytes on every retry)."""
    return orjson.dumps(
        {
            "type": event.type,
            "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
            "data": event.data,
        }
    )


@dataclass(frozen=True)
class PreparedWebhook:
    url: str
    secrets: tuple[str, ...]


class WebhookSink:
    """Delivers events to webhook endpoints through ``client``; ``guard`` checks each
    send's address again, ``clock`` stamps ``webhook-timestamp``."""

    kind = WEBHOOK_SINK

    def __init__(
        self,
        *,
        client: httpx.Client,
        guard: AddressGuard,
        clock: Callable[[], datetime],
        max_stored_body: int = MAX_STORED_BODY,
    ) -> None:
        self._client = client
        self._guard = guard
        self._clock = clock
        self._max_body = max_stored_body
        # Endpoints read in one transaction, reused for the rest of it (a batch).
        self._memo_owner: UnitOfWork | None = None
        self._memo: dict[UUID, list[WebhookEndpoint]] = {}

    def close(self) -> None:
        """Close the HTTP client's connections."""
        self._client.close()

    def _endpoints(self, uow: UnitOfWork, tenant_id: UUID) -> list[WebhookEndpoint]:
        if uow is not self._memo_owner:
            self._memo_owner, self._memo = uow, {}
        if tenant_id not in self._memo:
            self._memo[tenant_id] = uow.webhooks.enabled(tenant_id)
        return self._memo[tenant_id]

    def subscribers(self, uow: UnitOfWork, event: Event) -> Sequence[str]:
        return [str(e.id) for e in self._endpoints(uow, event.tenant_id) if e.wants(event.type)]

    def prepare(self, uow: UnitOfWork, event: Event, key: str) -> object | None:
        for endpoint in self._endpoints(uow, event.tenant_id):
            if str(endpoint.id) == key:
                return PreparedWebhook(endpoint.url, tuple(endpoint.signing_secrets(self._clock())))
        return None  # deleted or disabled since

    def send(self, prepared: object, *, event: Event, key: str, attempt: int) -> Outcome:
        assert isinstance(prepared, PreparedWebhook)
        started = time.perf_counter()
        resolved = self._guard.resolve(prepared.url)
        if resolved.refusal is not None:
            return Outcome(delivered=False, error=f"not sent: {resolved.refusal}")
        body = body_of(event)
        timestamp = int(self._clock().timestamp())
        msg_id = str(event.id)
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                prepared.secrets, msg_id=msg_id, timestamp=timestamp, body=body
            ),
        }
        url, extensions = prepared.url, dict[str, Any]()
        if resolved.address is not None:
            url, extensions = _pinned(prepared.url, resolved.address, headers)
        try:
            with self._client.stream(
                "POST", url, content=body, headers=headers, extensions=extensions
            ) as response:
                answer = _read_some(response, self._max_body)
                code = response.status_code
        except httpx.TimeoutException as error:
            return _failed(f"timed out: {type(error).__name__}", started)
        except httpx.HTTPError as error:
            return _failed(f"{type(error).__name__}: {error}"[:500], started)
        return Outcome(
            delivered=200 <= code < 300,
            status_code=code,
            error=None if 200 <= code < 300 else f"answered {code}",
            response_body=answer,
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    def after_attempts(
        self, uow: UnitOfWork, outcomes: Sequence[tuple[UUID, str, Outcome]], at: datetime
    ) -> None:
        """Endpoints that answered are healthy; those failing for days are disabled."""
        verdicts = []
        for tenant_id, key, outcome in outcomes:
            try:
                endpoint_id = UUID(key)
            except ValueError:
                continue
            verdicts.append(EndpointHealth(tenant_id, endpoint_id, outcome.delivered))
        record_endpoint_health(uow, verdicts, at)


def _pinned(url: str, address: str, headers: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """``url`` aimed at ``address`` (the one checked), the host kept for Host and SNI."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    headers["host"] = parts.netloc.rsplit("@", 1)[-1]
    extensions: dict[str, Any] = {"sni_hostname": host} if parts.scheme == "https" else {}
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), extensions


def _read_some(response: httpx.Response, limit: int) -> str:
    """The start of the response body, at most ``limit`` characters."""
    taken = bytearray()
    for chunk in response.iter_bytes():
        taken.extend(chunk)
        if len(taken) >= limit:
            break
    return taken[:limit].decode("utf-8", errors="replace")


def _failed(error: str, started: float) -> Outcome:
    return Outcome(delivered=False, error=error, latency_ms=(time.perf_counter() - started) * 1000)
