"""The intake lane answers plain order placements itself and hands every other request, its
body intact, to the framework, which answers it as it always has."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Engine
from starlette.types import Message, Receive, Scope, Send

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments import gateway_named
from oms.api.app import create_app
from oms.api.intake_lane import IntakeLane
from oms.api.schemas.orders import OrderCreate
from oms.config import Settings
from oms.domain.errors import Conflict
from oms.domain.tenancy import ApiKeyScope, Principal
from tests.api.support import (
    ApiTenant,
    TestClient,
    api_routes,
    assert_problem,
    create_location,
    create_product,
    new_operator_headers,
    new_tenant,
    order_body,
    set_on_hand,
)


@dataclass
class HandedOn:
    """Wraps the app behind the lane: records each request that reached it, with its body."""

    app: Any
    seen: list[tuple[str, str, bytes]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        kept: list[Message] = []
        while True:
            message = await receive()
            kept.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        self.seen.append((scope["method"], scope["path"], b"".join(chunks)))

        async def again() -> Message:
            return kept.pop(0) if kept else await receive()

        await self.app(scope, again, send)


@pytest.fixture(scope="module")
def lane_client(api_settings: Settings, api_engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings, engine=api_engine)) as client:
        assert client.get("/healthz").status_code == 200  # builds the middleware stack
        yield client


@pytest.fixture
def handed_on(lane_client: TestClient) -> Iterator[HandedOn]:
    node: Any = lane_client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(node, IntakeLane):
        node = node.app
    recorder = HandedOn(node.app)
    node.app = recorder
    yield recorder
    node.app = recorder.app


@pytest.fixture
def shop(lane_client: TestClient, api_uow: SqlUnitOfWorkFactory) -> ApiTenant:
    shop = new_tenant(api_uow, "lane shop")
    create_location(lane_client, shop, "WH-1")
    create_product(lane_client, shop, "TEE")
    create_product(lane_client, shop, "MUG")
    set_on_hand(lane_client, shop, "TEE", "WH-1", 10)
    return shop


def _orders_handed_on(recorder: HandedOn) -> list[bytes]:
    return [
        body for method, path, body in recorder.seen if (method, path) == ("POST", "/v1/orders")
    ]


def test_a_plain_order_is_answered_by_the_lane_as_the_api_reads_it_back(
    lane_client: TestClient, shop: ApiTenant, handed_on: HandedOn
) -> None:
    body = order_body(("TEE", 2), ("MUG", 1), external_id="lane-1", channel="web")

    created = lane_client.post("/v1/orders", headers=shop.headers, json=body)
    again = lane_client.post("/v1/orders", headers=shop.headers, json=body)

    assert _orders_handed_on(handed_on) == []
    assert created.status_code == 201, created.text
    assert created.headers["content-type"] == "application/json"
    order = created.json()
    assert created.headers["location"] == f"/v1/orders/{order['id']}"
    read = lane_client.get(created.headers["location"], headers=shop.headers)
    assert read.json() == order
    assert created.headers["etag"] == read.headers["etag"]
    assert [(a["sku"], a["quantity"]) for a in order["allocations"]] == [("TEE", 2)]
    assert order["lines"][1]["quantities"]["backordered"] == 1
    assert again.status_code == 200
    assert again.json()["id"] == order["id"]


def test_an_error_while_placing_is_answered_by_the_lane_as_the_route_answers_it(
    lane_client: TestClient, shop: ApiTenant, handed_on: HandedOn
) -> None:
    body = order_body(("TEE", 11), allow_backorder=False)

    by_lane = lane_client.post("/v1/orders", headers=shop.headers, json=body)
    by_route = lane_client.post(
        "/v1/orders", headers={**shop.headers, "Idempotency-Key": "short-1"}, json=body
    )

    assert len(_orders_handed_on(handed_on)) == 1  # only the one with a key
    assert_problem(by_lane, 409)
    assert by_lane.json() == by_route.json()
    assert by_lane.headers["content-type"] == by_route.headers["content-type"]


TOO_MANY_LINES = order_body(*[(f"SKU-{n}", 1) for n in range(21)])


@pytest.mark.parametrize(
    ("headers", "content", "path", "status"),
    [
        pytest.param({"Idempotency-Key": "k-1"}, order_body(("TEE", 1)), "", 201, id="key"),
        pytest.param({}, order_body(("TEE", 1)), "?trace=1", 201, id="query-string"),
        pytest.param({}, b'{"currency": "EUR", "lines": [', "", 422, id="broken-json"),
        pytest.param({}, order_body(("TEE", 1), colour="red"), "", 422, id="unknown-field"),
        pytest.param({}, order_body(("TEE", 0)), "", 422, id="zero-quantity"),
        pytest.param({}, TOO_MANY_LINES, "", 422, id="too-many-lines"),
        pytest.param({}, order_body(("TEE", 1), note="x" * 17_000), "", 413, id="too-large"),
        pytest.param(
            {}, order_body(("TEE", 1), discount_codes=["NOPE"]), "", 422, id="discount-code"
        ),
        pytest.param(
            {"Content-Type": "text/plain"}, order_body(("TEE", 1)), "", 422, id="not-json"
        ),
        pytest.param({"Authorization": "Bearer nope"}, order_body(("TEE", 1)), "", 401, id="key?"),
    ],
)
def test_every_other_request_reaches_the_route_with_its_body_intact(
    lane_client: TestClient,
    shop: ApiTenant,
    handed_on: HandedOn,
    headers: dict[str, str],
    content: dict[str, Any] | bytes,
    path: str,
    status: int,
) -> None:
    raw = content if isinstance(content, bytes) else json.dumps(content).encode()
    sent = {**shop.headers, "Content-Type": "application/json", **headers}

    response = lane_client.post("/v1/orders" + path, headers=sent, content=raw)

    assert response.status_code == status, response.text
    assert _orders_handed_on(handed_on) == [raw]


def test_an_operator_acting_for_a_tenant_goes_through_the_route(
    lane_client: TestClient, shop: ApiTenant, handed_on: HandedOn, api_uow: SqlUnitOfWorkFactory
) -> None:
    operator = {**new_operator_headers(api_uow), "OMS-Tenant": str(shop.id)}
    body = order_body(("TEE", 1))

    first = lane_client.post("/v1/orders", headers=operator, json=body)
    second = lane_client.post("/v1/orders", headers=operator, json=body)

    assert (first.status_code, second.status_code) == (201, 201)
    assert len(_orders_handed_on(handed_on)) == 2


def test_the_lane_knows_everything_the_route_and_the_app_run_for_an_order(
    lane_client: TestClient,
) -> None:
    """The lane does by hand what these do for the route. A new middleware, app-wide
    dependency or parameter of the route must be taught to the lane (or make it hand the
    request on) before this test is changed."""
    app: Any = lane_client.app
    route = next(
        r
        for r in api_routes(app)
        if getattr(r, "path", "") == "/v1/orders" and "POST" in getattr(r, "methods", ())
    )
    assert [m.cls.__name__ for m in app.user_middleware] == [
        "IntakeLane",
        "ShopifyWebhookLane",
        "BodySizeLimit",
    ]
    assert [d.dependency.__name__ for d in app.router.dependencies] == ["reject_nul_characters"]
    assert list(inspect.signature(route.endpoint).parameters) == [
        "body",
        "caller",
        "app",
        "idempotency_key",
    ]


async def _through_lane(
    headers: list[tuple[bytes, bytes]], messages: list[Message]
) -> tuple[list[Message], list[Message]]:
    """One request through a lane whose inner app only records what reached it, with the
    key ``k`` cached for a tenant and an intake that refuses every order (409): what the
    inner app received, and what the lane itself sent."""
    received: list[Message] = []
    sent: list[Message] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                return

    pending = list(messages)

    async def receive() -> Message:
        return pending.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    async def refuse(submission: Any) -> Any:
        raise Conflict("No stock for this test")

    tenant = Principal(key_id=uuid4(), scope=ApiKeyScope.TENANT, tenant_id=uuid4())
    state = SimpleNamespace(
        settings=SimpleNamespace(max_body_bytes=100, max_order_lines=5),
        key_cache={"k": (float("inf"), tenant)},
        intake=SimpleNamespace(place=refuse),
        gateways=gateway_named,
    )
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/orders",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "app": SimpleNamespace(state=SimpleNamespace(oms=state)),
    }
    await IntakeLane(inner)(scope, receive, send)
    return received, sent


JSON_KEY = [(b"authorization", b"Bearer k"), (b"content-type", b"application/json")]
ORDER = b'{"currency": "EUR", "lines": [{"sku": "A", "quantity": 1}]}'


def test_the_lane_answers_a_plain_order_of_a_cached_key_itself() -> None:
    """The control for the cases below: this request is the lane's to answer."""
    received, sent = asyncio.run(
        _through_lane(JSON_KEY, [{"type": "http.request", "body": ORDER, "more_body": False}])
    )

    assert received == []
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 409


@pytest.mark.parametrize(
    ("headers", "messages"),
    [
        pytest.param(
            [*JSON_KEY, (b"x-note", b"a\x00b")],
            [{"type": "http.request", "body": ORDER, "more_body": False}],
            id="nul-in-a-header",
        ),
        pytest.param(
            [(b"authorization", b"Bearer other"), *JSON_KEY],
            [{"type": "http.request", "body": ORDER, "more_body": False}],
            id="two-keys",
        ),
        pytest.param(
            [(b"authorization", b"Bearer unknown"), *JSON_KEY[1:]],
            [
                {"type": "http.request", "body": ORDER[:20], "more_body": True},
                {"type": "http.request", "body": ORDER[20:], "more_body": False},
            ],
            id="key-not-cached-two-chunks",
        ),
        pytest.param(
            JSON_KEY,
            [
                {"type": "http.request", "body": ORDER, "more_body": True},
                {"type": "http.request", "body": b" " * 60, "more_body": False},
            ],
            id="over-the-limit-midway",
        ),
        pytest.param(
            JSON_KEY,
            [
                {"type": "http.request", "body": ORDER[:20], "more_body": True},
                {"type": "http.disconnect"},
            ],
            id="client-went-away",
        ),
    ],
)
def test_a_request_handed_on_arrives_message_for_message(
    headers: list[tuple[bytes, bytes]], messages: list[Message]
) -> None:
    received, sent = asyncio.run(_through_lane(headers, messages))

    assert sent == []
    assert received == messages


ORDER_ADAPTER = TypeAdapter(OrderCreate)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)
# Mostly valid, in the many spellings JSON allows: numbers as floats, ints, strings and
# exponents; padded and lower-case codes; booleans as numbers and words; odd text.
AMOUNTS = st.one_of(
    st.integers(0, 10**6),
    st.floats(0, 10**6, allow_nan=False),
    st.decimals(0, 10**6, places=4).map(str),
    st.sampled_from(["9.99", "1e1", "0.005", "12.345", "-1", "1_000"]),
)
QUANTITIES = st.one_of(
    st.integers(1, 5), st.floats(0.5, 3.5), st.sampled_from(["2", 2.0, True, "1e0", " 3 "])
)
LINE = st.fixed_dictionaries(
    {"sku": st.one_of(st.sampled_from(["TEE", " MUG ", "tee"]), TEXT), "quantity": QUANTITIES},
    optional={"unit_price": AMOUNTS, "tax": AMOUNTS},
)
BODIES = st.fixed_dictionaries(
    {
        "currency": st.sampled_from(["EUR", "eur", " EUR ", "JPY", "XXX", "EURO"]),
        "lines": st.lists(LINE, min_size=1, max_size=3),
    },
    optional={
        "channel": st.sampled_from(["web", " pos ", "WEB", "a b"]),
        "external_id": TEXT,
        "customer": st.fixed_dictionaries(
            {},
            optional={
                "email": st.sampled_from(["a@example.com", " A@Example.COM ", "nope"]),
                "name": TEXT,
                "phone": st.sampled_from(["+31 20 123 4567", "0612345678", "x"]),
            },
        ),
        "shipping_address": st.fixed_dictionaries(
            {"country": st.sampled_from(["NL", "nl", " de ", "XX", "NLD"])},
            optional={
                "city": TEXT,
                "postal_code": st.sampled_from(["3011AA", " 3011 aa ", "1" * 21]),
                "latitude": st.one_of(st.floats(-90, 90), st.just("52.1"), st.integers(-90, 90)),
            },
        ),
        "allow_backorder": st.sampled_from([True, False, "true", 1, 0, "no", "off"]),
        "tags": st.lists(TEXT, max_size=2),
        "shipping_price": AMOUNTS,
        "reservation_id": st.uuids().map(str),
    },
)


@settings(max_examples=400, deadline=None)
@given(BODIES)
def test_what_the_lane_accepts_the_route_accepts_as_the_same_order(body: dict[str, Any]) -> None:
    """The lane validates the raw JSON (pydantic-core's parser); the route validates what
    ``json.loads`` made of it. A body the lane accepts must be the same order there; one it
    refuses goes to the route, so refusing more is harmless. (About 30% of the generated
    bodies are valid orders.)"""
    raw = json.dumps(body).encode()
    try:
        by_lane = OrderCreate.model_validate_json(raw)
    except ValidationError:
        return
    by_route = ORDER_ADAPTER.validate_python(json.loads(raw), from_attributes=True)
    assert by_lane.to_command() == by_route.to_command()
