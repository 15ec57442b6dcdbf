"""``POST /v1/orders`` without FastAPI's per-request machinery, for requests that need none.

Placing orders is the busiest route by far. Under the intake benchmark's load, FastAPI's
routing, dependency solving and middleware cost a worker's event loop more CPU than
validating the order and writing its answer (docs/performance.md, item 8).

The lane answers a request itself only when it is plainly well-formed: ``POST /v1/orders``
with no query string, a JSON body within the size limit, a tenant key the key cache already
holds, no ``Idempotency-Key`` or ``OMS-Tenant`` header, no NUL in any header, a body that
validates as ``OrderCreate`` within the line limit, and an order that can be placed with a
group (``intake_group.groupable``). It then does what the route does, through the same
functions (``order_submission``, ``app.intake.place``, ``placed_answer``), and answers an
error raised while placing through the API's own mapping (``errors.problem_for``).

Every other request goes to the framework untouched, its body replayed, and is answered as
it always was; so is every request the lane would have to refuse. The lane never answers an
error of its own making, and nothing has happened when it hands a request on.
"""

from __future__ import annotations

import time

from pydantic import ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oms.api.deps import AppState, Caller, actor_of, bearer_secret, cached_principal
from oms.api.errors import problem_for
from oms.api.raw_requests import read_body, replaying
from oms.api.routers.orders import order_submission, placed_answer
from oms.api.schemas.orders import OrderCreate
from oms.domain.errors import InvalidRequest
from oms.services.intake_group import Submission, groupable

__all__ = ["IntakeLane"]

PATH = "/v1/orders"
# Headers that take a request out of the lane: the route's own handling is needed.
_ROUTE_HEADERS = frozenset({b"idempotency-key", b"oms-tenant"})


class IntakeLane:
    """ASGI middleware: answers plain order placements, hands everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != PATH
            or scope.get("root_path")
            or scope.get("query_string")
        ):
            await self.app(scope, receive, send)
            return
        state: AppState = scope["app"].state.oms
        received: list[Message] = []
        submission = await self._admit(scope, receive, state, received)
        replay = replaying(received, receive)
        if submission is None:
            await self.app(scope, replay, send)
            return
        try:
            placed = await state.intake.place(submission)
        except Exception as error:  # answered as the framework's handlers answer it
            response: Response = problem_for(error, method="POST", path=PATH)
        else:
            response = placed_answer(placed)
        await response(scope, replay, send)

    @staticmethod
    async def _admit(
        scope: Scope, receive: Receive, state: AppState, received: list[Message]
    ) -> Submission | None:
        """The submission of a request the lane can answer; None to hand it on. Every
        message read from ``receive`` is kept in ``received``, to be replayed."""
        settings = state.settings
        secret = _plain_headers(scope, settings.max_body_bytes)
        if secret is None:
            return None
        principal = cached_principal(state, secret, time.monotonic())
        if principal is None or principal.is_operator or principal.tenant_id is None:
            return None
        body = await read_body(receive, settings.max_body_bytes, received)
        if body is None:
            return None
        try:
            order = OrderCreate.model_validate_json(body)
            caller = Caller(principal.tenant_id, actor_of(principal))
            submission = order_submission(order, caller, settings, None)
        except (ValidationError, InvalidRequest):
            return None
        return submission if groupable(submission.command, None, state.gateways) else None


def _plain_headers(scope: Scope, limit: int) -> str | None:
    """The API key of a request whose headers the lane can take; None otherwise."""
    authorization = None
    json_body = False
    for name, value in scope["headers"]:
        if b"\x00" in value or name in _ROUTE_HEADERS:
            return None
        if name == b"authorization":
            if authorization is not None:  # which one counts is the framework's to say
                return None
            authorization = value
        elif name == b"content-type":
            if json_body:
                return None
            json_body = value.split(b";", 1)[0].strip().lower() == b"application/json"
        elif name == b"content-length" and (not value.isdigit() or int(value) > limit):
            return None
    if authorization is None or not json_body:
        return None
    return bearer_secret(authorization.decode("latin-1"))
