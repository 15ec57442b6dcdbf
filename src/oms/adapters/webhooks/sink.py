"""The webhook ``EventSink``: POSTs each event to the merchant's endpoints, signed the
Standard Webhooks way (docs/events.md).

Body ``{"type", "timestamp", "data"}``; headers ``webhook-id`` (the event id: the same on
every retry), ``webhook-timestamp`` (when this attempt was sent, Unix seconds) and
``webhook-signature``. 2xx is delivered; anything else, a redirect included (never
followed), a timeout or a refused address is a failed attempt. What the endpoint answered
is kept truncated.

The requests go out through a ``WebhookTransport``: ``WebhookHttp`` (many at once on one
event loop, ``oms.adapters.webhooks.http``) in the worker, or an ``httpx.Client`` one at a
time (``HttpxTransport``: tests hand it httpx's mock transport). ``send_many`` sends a
batch at once; ``send`` is a batch of one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit
from uuid import UUID

import orjson

from oms.adapters.webhooks.addresses import AddressGuard, Resolved
from oms.adapters.webhooks.http import USER_AGENT, Answer, Post, WebhookHttp
from oms.adapters.webhooks.signing import signature_header
from oms.domain.webhooks import WebhookEndpoint
from oms.services.event_delivery import SendJob
from oms.services.events import Event, Outcome
from oms.services.ports import UnitOfWork
from oms.services.webhook_endpoints import WEBHOOK_SINK, EndpointHealth, record_endpoint_health

if TYPE_CHECKING:  # httpx is imported where used: the worker sends without it
    import httpx

__all__ = [
    "MAX_STORED_BODY",
    "HttpxTransport",
    "PreparedWebhook",
    "WebhookSink",
    "WebhookTransport",
    "body_of",
    "new_client",
    "new_http",
]

MAX_STORED_BODY = 2048


class WebhookTransport(Protocol):
    """Sends POSTs and answers each one's ``Answer``, in order; never raises for the
    receivers' failures."""

    def post_all(self, posts: Sequence[Post]) -> list[Answer]: ...

    def close(self) -> None: ...


def new_http(
    *, connect_timeout: float = 5.0, read_timeout: float = 10.0, max_connections: int = 64
) -> WebhookHttp:
    """The worker's webhook transport: kept-alive connections, at most ``max_connections``
    to one address at once, bounded waits, no redirects followed."""
    return WebhookHttp(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_connections=max_connections,
        max_body=MAX_STORED_BODY,
    )


def new_client(
    *, connect_timeout: float = 5.0, read_timeout: float = 10.0, max_connections: int = 64
) -> httpx.Client:
    """An httpx client for webhooks (``HttpxTransport``): no redirects followed, bounded
    waits, kept-alive connections."""
    import httpx

    return httpx.Client(
        follow_redirects=False,
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout),
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        headers={"user-agent": USER_AGENT},
        trust_env=False,
    )


class HttpxTransport:
    """POSTs one after the other through an ``httpx.Client``."""

    def __init__(self, client: httpx.Client, *, max_body: int = MAX_STORED_BODY) -> None:
        self._client = client
        self._max_body = max_body

    def close(self) -> None:
        self._client.close()

    def post_all(self, posts: Sequence[Post]) -> list[Answer]:
        return [self._post(post) for post in posts]

    def _post(self, post: Post) -> Answer:
        import httpx

        started = time.perf_counter()
        headers = dict(post.headers)
        url = f"{post.scheme}://{post.host_header}{post.target}"
        extensions: dict[str, Any] = {}
        if post.address != post.host:  # aimed at the checked address, the name kept
            literal = f"[{post.address}]" if ":" in post.address else post.address
            url = f"{post.scheme}://{literal}:{post.port}{post.target}"
            headers["host"] = post.host_header
            if post.scheme == "https":
                extensions["sni_hostname"] = post.host
        try:
            with self._client.stream(
                "POST", url, content=post.body, headers=headers, extensions=extensions
            ) as response:
                taken = bytearray()
                for chunk in response.iter_bytes():
                    taken.extend(chunk)
                    if len(taken) >= self._max_body:
                        break
                return Answer(response.status_code, bytes(taken), None, _since(started))
        except httpx.TimeoutException as error:
            return Answer(None, b"", type(error).__name__, _since(started), timed_out=True)
        except httpx.HTTPError as error:
            return Answer(None, b"", f"{type(error).__name__}: {error}"[:500], _since(started))


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
    """Delivers events to webhook endpoints through ``transport`` (or an httpx ``client``);
    ``guard`` checks each send's address again, ``clock`` stamps ``webhook-timestamp``."""

    kind = WEBHOOK_SINK

    def __init__(
        self,
        *,
        guard: AddressGuard,
        clock: Callable[[], datetime],
        transport: WebhookTransport | None = None,
        client: httpx.Client | None = None,
        max_stored_body: int = MAX_STORED_BODY,
    ) -> None:
        if transport is None:
            if client is None:
                raise ValueError("a webhook sink needs a transport or an httpx client")
            transport = HttpxTransport(client, max_body=max_stored_body)
        self._transport = transport
        self._guard = guard
        self._clock = clock
        self._max_body = max_stored_body
        # Endpoints read in one transaction, reused for the rest of it (a batch).
        self._memo_owner: UnitOfWork | None = None
        self._memo: dict[UUID, list[WebhookEndpoint]] = {}

    def close(self) -> None:
        """Close the transport's connections."""
        self._transport.close()

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
        return self._send_all([(prepared, event)])[0]

    def send_many(self, jobs: Sequence[SendJob]) -> list[Outcome]:
        """Send every job at once (the transport runs them concurrently); their outcomes
        in order. Each URL's address is checked once for the batch, just before it goes."""
        return self._send_all([(job.prepared, job.event) for job in jobs])

    def _send_all(self, sends: Sequence[tuple[object, Event]]) -> list[Outcome]:
        outcomes: list[Outcome | None] = []
        posts: list[Post] = []
        resolved: dict[str, Resolved] = {}
        bodies: dict[UUID, bytes] = {}
        timestamp = int(self._clock().timestamp())
        for prepared, event in sends:
            assert isinstance(prepared, PreparedWebhook)
            where = resolved.get(prepared.url)
            if where is None:
                where = resolved[prepared.url] = self._guard.resolve(prepared.url)
            if where.refusal is not None:
                outcomes.append(Outcome(delivered=False, error=f"not sent: {where.refusal}"))
                continue
            body = bodies.get(event.id)
            if body is None:
                body = bodies[event.id] = body_of(event)
            outcomes.append(None)
            posts.append(_post(prepared, event, where.address, timestamp, body))
        answers = iter(self._transport.post_all(posts))
        return [
            outcome if outcome is not None else self._outcome(next(answers)) for outcome in outcomes
        ]

    def _outcome(self, answer: Answer) -> Outcome:
        if answer.status is None:
            error = f"timed out: {answer.error}" if answer.timed_out else answer.error
            return Outcome(delivered=False, error=error, latency_ms=answer.latency_ms)
        code = answer.status
        return Outcome(
            delivered=200 <= code < 300,
            status_code=code,
            error=None if 200 <= code < 300 else f"answered {code}",
            response_body=answer.body[: self._max_body].decode("utf-8", errors="replace"),
            latency_ms=answer.latency_ms,
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


def _post(
    prepared: PreparedWebhook, event: Event, address: str | None, timestamp: int, body: bytes
) -> Post:
    """The signed request of one attempt, aimed at ``address`` (the one checked; None: the
    guard is off, connect to the host by name), the host kept for Host and SNI."""
    parts = urlsplit(prepared.url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    msg_id = str(event.id)
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    return Post(
        scheme=parts.scheme,
        address=address or host,
        port=parts.port or (443 if https else 80),
        host=host,
        host_header=parts.netloc.rsplit("@", 1)[-1],
        target=target,
        headers=(
            ("content-type", "application/json"),
            ("webhook-id", msg_id),
            ("webhook-timestamp", str(timestamp)),
            (
                "webhook-signature",
                signature_header(prepared.secrets, msg_id=msg_id, timestamp=timestamp, body=body),
            ),
        ),
        body=body,
    )


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
