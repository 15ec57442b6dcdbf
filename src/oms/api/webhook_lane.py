"""Shopify's new-order webhooks without FastAPI's per-request machinery, as the intake lane
(``oms.api.intake_lane``) answers ``POST /v1/orders``.

A store sends its orders as webhooks, each a full order; under the channels benchmark's
load the framework's middleware, routing, dependency solving and a worker-thread hop cost
a webhook's event loop more CPU than the order's own work (docs/performance.md).

The lane answers ``POST /channels/{channel_id}/shopify/webhooks`` itself only when the
request plainly carries a new order, in this order of checks: no query string, a Shopify
connection the connection cache holds fresh (``CachedChannels.fresh``: nothing is read),
no NUL in any header, a body within the size limit, the ``X-Shopify-Hmac-Sha256``
signature matching the raw bytes (checked before anything is parsed), the topic
``orders/create``, ``orders/paid`` or ``orders/updated``, and a body the adapter maps to
an order that is neither cancelled nor held in the store. It then does what the route
does through the same functions (the adapter's ``verify_webhook`` and ``order_of_webhook``,
``store_webhooks.receive_delivery``), and answers an error raised while receiving it
through the API's own mapping (``errors.problem_for``). A copy of an order already placed
is received as the route receives it, in the same function.

Every other request goes to the framework untouched, its body replayed, and is answered
as it always was: a wrong signature (401, nothing stored), a refused body (422, logged),
another topic, a cancellation or a hold. The lane never answers an error of its own
making, and nothing has happened when it hands a request on.
"""

from __future__ import annotations

from uuid import UUID

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oms.api.deps import AppState
from oms.api.errors import problem_for
from oms.api.raw_requests import read_body, replaying
from oms.api.routers.channels import ChannelState
from oms.api.store_webhooks import receive_delivery
from oms.domain.channels import ChannelConnection, ChannelKind
from oms.services.channels import ChannelOrder, PayloadRefused

__all__ = ["NEW_ORDER_TOPICS", "ShopifyWebhookLane"]

_PREFIX = "/channels/"
_SUFFIX = "/shopify/webhooks"
NEW_ORDER_TOPICS = frozenset({"orders/create", "orders/paid", "orders/updated"})
"""The topics whose copy may be a new order; ``orders/cancelled`` never is plainly one."""


class ShopifyWebhookLane:
    """ASGI middleware: answers Shopify's plain new-order webhooks, hands the rest on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].startswith(_PREFIX)
            or not scope["path"].endswith(_SUFFIX)
            or scope.get("root_path")
            or scope.get("query_string")
        ):
            await self.app(scope, receive, send)
            return
        state: AppState = scope["app"].state.oms
        channels: ChannelState = scope["app"].state.channels
        received: list[Message] = []
        admitted = await _admit(scope, receive, state, channels, received)
        replay = replaying(received, receive)
        if admitted is None:
            await self.app(scope, replay, send)
            return
        found, incoming, topic = admitted
        try:
            answer = await receive_delivery(
                app=state, channels=channels.channels, found=found, incoming=incoming, topic=topic
            )
        except Exception as error:  # answered as the framework's handlers answer it
            response: Response = problem_for(error, method="POST", path=scope["path"])
        else:
            response = JSONResponse(answer)
        await response(scope, replay, send)


async def _admit(
    scope: Scope,
    receive: Receive,
    state: AppState,
    channels: ChannelState,
    received: list[Message],
) -> tuple[ChannelConnection, ChannelOrder, str] | None:
    """The connection, mapped copy and topic of a request the lane can answer; None to
    hand it on. Every message read from ``receive`` is kept in ``received``."""
    found = _cached_shop(scope["path"], channels)
    limit = state.settings.max_body_bytes
    if found is None or not _plain_headers(scope, limit):
        return None
    raw = await read_body(receive, limit, received)
    if raw is None:
        return None
    headers = Headers(scope=scope)
    adapter = channels.adapters(found)
    if not adapter.verify_webhook(raw_body=raw, headers=headers):
        return None  # the route answers 401 and stores nothing
    topic = headers.get("x-shopify-topic", "")
    if topic not in NEW_ORDER_TOPICS:
        return None
    try:
        incoming = adapter.order_of_webhook(topic=topic, raw_body=raw)
    except PayloadRefused:
        return None  # the route logs the refusal and answers 422
    if incoming is None or incoming.cancelled or incoming.held:
        return None
    return found, incoming, topic


def _cached_shop(path: str, channels: ChannelState) -> ChannelConnection | None:
    """The Shopify connection the path names, while the cache holds it fresh."""
    segment = path[len(_PREFIX) : -len(_SUFFIX)]
    if not segment or "/" in segment:
        return None
    try:
        channel_id = UUID(segment)
    except ValueError:
        return None
    found = channels.channels.fresh(channel_id)
    return found if found is not None and found.kind is ChannelKind.SHOPIFY else None


def _plain_headers(scope: Scope, limit: int) -> bool:
    """Whether the headers are the lane's to take: no NUL (the app's dependency refuses
    it), no declared length that is not a number or over ``limit`` (413)."""
    for name, value in scope["headers"]:
        if b"\x00" in value:
            return False
        if name == b"content-length" and (not value.isdigit() or int(value) > limit):
            return False
    return True
